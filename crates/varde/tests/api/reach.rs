//! Warnings reach people: e-mail subscriptions through a real SMTP server (aiosmtpd), web push checked by the
//! reference implementation of its encryption (http_ece) and a VAPID verifier, escalations to services.

use crate::helpers::{TestApp, heroin_sample};
use serde_json::{Value, json};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use varde::serve;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn python() -> String {
    format!("{ROOT}/target/test-venv/bin/python")
}

/// aiosmtpd on loopback, run by `tests/reach/smtp_server.py`; each accepted message arrives as decoded JSON.
pub struct SmtpServer {
    pub port: u16,
    messages: tokio::sync::mpsc::UnboundedReceiver<Value>,
    _child: tokio::process::Child,
}

impl SmtpServer {
    pub async fn start(args: &[&str]) -> SmtpServer {
        let mut child = tokio::process::Command::new(python())
            .arg(format!("{ROOT}/tests/reach/smtp_server.py"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("the test venv is needed (scripts/install-test-tools makes it): {e}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
        let port = first.strip_prefix("PORT ").unwrap().parse().unwrap();
        let (tx, messages) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(serde_json::from_str::<Value>(&line).unwrap());
            }
        });
        SmtpServer { port, messages, _child: child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next message accepted, within 10 seconds.
    pub async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), self.messages.recv())
            .await
            .expect("a message arrives within 10 s")
            .unwrap()
    }

    /// Whether another message arrives within `wait`.
    pub async fn more(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.messages.recv()).await.ok().flatten()
    }
}

pub async fn app_with_smtp(smtp: &str) -> TestApp {
    let mut options = TestApp::options();
    options.reach.smtp_url = Some(smtp.to_owned());
    options.reach.mail_from = Some("Varde <varsel@varde.example.no>".into());
    TestApp::spawn_with(options).await
}

/// The first `{base}/subscriptions/...` link in a text, made relative.
fn link(text: &str, base: &str, containing: &str) -> String {
    text.split_whitespace()
        .find(|w| w.starts_with(&format!("{base}/subscriptions/")) && w.contains(containing))
        .unwrap_or_else(|| panic!("no {containing} link in {text}"))
        .trim_start_matches(base)
        .to_owned()
}

#[tokio::test]
async fn email_subscribers_confirm_then_get_each_alert_version_once_and_leave_with_one_click() {
    let mut smtp = SmtpServer::start(&[]).await;
    let app = app_with_smtp(&smtp.url()).await;
    let r = Some(app.reviewer.as_str());
    let subscribe = |address: &str, fylker: Value, lang: &str| {
        let body =
            json!({"channel": "email", "address": address, "fylker": fylker, "min_tier": "warning", "lang": lang});
        let app = &app;
        async move { app.post("/api/v1/subscriptions", None, &body).await }
    };
    let (status, body) = subscribe("Kari.Nordmann@Example.NO", json!(["03"]), "nn").await;
    assert_eq!((status, body["status"].as_str()), (202, Some("check_your_email")), "{body}");
    subscribe("ola@example.no", json!(["46"]), "en").await;
    subscribe("per@example.no", json!([]), "nb").await;

    // Confirmation requests, in each reader's language, without a one-click header (there is nothing to leave).
    let mut confirmations = std::collections::HashMap::new();
    for _ in 0..3 {
        let m = smtp.next().await;
        confirmations.insert(m["rcpt_tos"][0].as_str().unwrap().to_owned(), m);
    }
    let kari = &confirmations["kari.nordmann@example.no"];
    assert_eq!(kari["headers"]["Subject"], "Stadfest at du vil ha varsel frå Varde", "{kari}");
    assert_eq!(kari["headers"]["From"], "Varde <varsel@varde.example.no>");
    assert!(kari["headers"].get("List-Unsubscribe").is_none());
    assert!(kari["html"].as_str().unwrap().contains("<a href="), "text and HTML: {kari}");
    assert!(confirmations["ola@example.no"]["text"].as_str().unwrap().contains("hopefully you"));

    // Following the link shows a button (mail scanners that follow links confirm nothing); pressing it confirms.
    let confirm = link(kari["text"].as_str().unwrap(), &app.base, "/confirm/");
    let (status, _, page) = app.get_text(&confirm).await;
    assert_eq!(status, 200);
    assert!(page.contains("Stadfest") && page.contains("method=\"post\""), "{page}");
    let (_, s) = app.get(&format!("/api/v1/subscriptions/{}?token=x", confirm.split('/').nth(2).unwrap()), None).await;
    assert_eq!(s["error"], "not_found", "a wrong token finds nothing");
    let res = app.client.post(format!("{}{confirm}", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.text().await.unwrap().contains("Du får no varsel"));
    // A re-used confirmation link says so and changes nothing.
    let res = app.client.post(format!("{}{confirm}", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 410);
    let (id, token) = {
        let parts: Vec<&str> = confirm.split('/').collect();
        (parts[2].to_owned(), parts[4].to_owned())
    };
    let (status, e) = app.post(&format!("/api/v1/subscriptions/{id}/confirm"), None, &json!({"token": token})).await;
    assert_eq!((status, e["error"].as_str()), (410, Some("link_used")), "{e}");
    let ola = link(confirmations["ola@example.no"]["text"].as_str().unwrap(), &app.base, "/confirm/");
    let (id_ola, token_ola) = (ola.split('/').nth(2).unwrap(), ola.split('/').nth(4).unwrap());
    let (status, o) =
        app.post(&format!("/api/v1/subscriptions/{id_ola}/confirm"), None, &json!({"token": token_ola})).await;
    assert_eq!((status, o["address"].as_str()), (200, Some("ola@example.no")), "{o}");
    // Per never confirms.

    // Asking again for a confirmed address changes nothing and sends its owner a notice with the manage link.
    subscribe("KARI.Nordmann@example.no", json!([]), "nb").await;
    let notice = smtp.next().await;
    // In the language Kari chose: the request in bokmål changed nothing.
    assert_eq!(notice["headers"]["Subject"], "Du får alt varsel frå Varde", "{notice}");

    // A severe alert in Oslo: Kari (Oslo) hears of it, Ola (Bergen) does not, Per (unconfirmed) does not.
    let (_, sample) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let alert = sample["alert_drafts"][0]["id"].as_i64().unwrap();
    let (_, published) = app.post(&format!("/api/v1/alerts/{alert}/publish"), r, &json!({})).await;
    let m = smtp.next().await;
    assert_eq!(m["rcpt_tos"], json!(["kari.nordmann@example.no"]), "{m}");
    let title_nn = published["title"]["nn"].as_str().unwrap();
    let subject = m["headers"]["Subject"].as_str().unwrap();
    assert!(subject.ends_with(title_nn) && subject.starts_with("Alvorleg"), "{subject}");
    assert_eq!(m["headers"]["Content-Language"], "nn");
    assert_eq!(m["headers"]["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click", "RFC 8058: {m}");
    assert_eq!(m["content_type"], "multipart/alternative");
    let text = m["text"].as_str().unwrap();
    assert!(text.contains(published["advice"]["nn"].as_str().unwrap()), "{text}");
    assert!(text.contains(&format!("{}/alerts/{alert}?lang=nn", app.base)), "{text}");
    assert!(m["html"].as_str().unwrap().contains(title_nn.split(' ').next().unwrap()));
    // Updated and withdrawn: each version once, in order.
    app.post(&format!("/api/v1/alerts/{alert}/update"), r, &json!({"note": "fleire prøver"})).await;
    let m = smtp.next().await;
    assert!(m["headers"]["Subject"].as_str().unwrap().starts_with("Oppdatert – "), "{m}");
    app.post(&format!("/api/v1/alerts/{alert}/withdraw"), r, &json!({"note": "feil"})).await;
    let m = smtp.next().await;
    assert!(m["headers"]["Subject"].as_str().unwrap().starts_with("Trekt tilbake: "), "{m}");
    assert!(smtp.more(Duration::from_millis(1500)).await.is_none(), "nothing twice, nothing to Ola or Per");

    // The subscriber's page shows what is stored; one click (RFC 8058) deletes it.
    let unsubscribe = m["headers"]["List-Unsubscribe"].as_str().unwrap().trim_matches(['<', '>']).to_owned();
    let manage = unsubscribe.trim_end_matches("/unsubscribe").trim_start_matches(&app.base).to_owned();
    let (status, _, page) = app.get_text(&manage).await;
    assert_eq!(status, 200);
    assert!(page.contains("kari.nordmann@example.no") && page.contains("Oslo"), "{page}");
    let manage_token = manage.rsplit('/').next().unwrap();
    let (status, stored) = app.get(&format!("/api/v1/subscriptions/{id}?token={manage_token}"), None).await;
    assert_eq!((status, stored["fylker"].clone(), stored["pending_messages"].as_u64()), (200, json!(["03"]), Some(0)));
    let res = app
        .client
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let (status, _) = app.get(&format!("/api/v1/subscriptions/{id}?token={manage_token}"), None).await;
    assert_eq!(status, 404, "deleted");

    // Personal data stays apart: the audit log names subscribers by number only; the address is gone.
    let audit = app.rows("SELECT action || ' ' || subject FROM audit_log WHERE action LIKE 'subscription.%'").await;
    assert!(audit.iter().any(|a| a == &format!("subscription.delete.unsubscribe subscriber:{id}")), "{audit:?}");
    assert!(audit.iter().all(|a| !a.contains('@')), "{audit:?}");
    let addresses = app.rows("SELECT address FROM subscribers ORDER BY address").await;
    assert_eq!(addresses, ["ola@example.no", "per@example.no"]);
    // Unconfirmed requests go after 48 hours (the hourly job); confirmed ones stay.
    let later = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(49);
    let n =
        varde_core::Application::purge_unconfirmed(&*app.store, later - jiff::SignedDuration::from_hours(48), later)
            .await
            .unwrap();
    assert_eq!(n, 1);
    assert_eq!(app.rows("SELECT address FROM subscribers").await, ["ola@example.no"]);
    // Never in open data.
    for path in ["/open-data/samples.csv", "/open-data/alerts.csv"] {
        let (_, _, body) = app.get_text(path).await;
        assert!(!body.contains("example.no"), "{path}");
    }
}

#[tokio::test]
async fn the_alerts_page_offers_subscription_without_javascript() {
    let mut smtp = SmtpServer::start(&["--auth", "varde:hemmelig"]).await;
    // Credentials in the SMTP URL are used (the server refuses mail without AUTH).
    let app = app_with_smtp(&format!("smtp://varde:hemmelig@127.0.0.1:{}", smtp.port)).await;
    let (_, _, page) = app.get_text("/alerts?lang=nb").await;
    assert!(page.contains("action=\"/subscriptions\"") && page.contains("type=\"email\""), "{page}");
    assert!(page.contains("Få varsler") && page.contains("Troms"), "fylker to choose: {page}");
    assert!(page.contains("src=\"/static/notify.js\""), "the one script, for push");
    let res = app
        .client
        .post(format!("{}/subscriptions", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=en&address=kari%40example.no&min_tier=severe&fylke=03&fylke=46")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert!(res.text().await.unwrap().contains("Check your e-mail"));
    let m = smtp.next().await;
    assert_eq!(m["headers"]["Subject"], "Confirm that you want warnings from Varde");
    let id = link(m["text"].as_str().unwrap(), &app.base, "/confirm/").split('/').nth(2).unwrap().to_owned();
    let stored =
        app.rows(&format!("SELECT fylker || ' ' || min_tier || ' ' || lang FROM subscribers WHERE id = {id}")).await;
    assert_eq!(stored, [r#"["03","46"] severe en"#]);
    // A bad form says what is wrong, in the page's language, and stores nothing.
    let res = app
        .client
        .post(format!("{}/subscriptions", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("lang=nn&address=ikkje+ei+adresse")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("Det gjekk ikkje"));
    // The VAPID key the page offers is the one kept in the database (made at first start, the same after a restart).
    let (_, kept) = varde_web::warn::subscriptions::kept_keys(&*app.store).await.unwrap();
    assert!(page.contains(&format!("data-key=\"{}\"", kept.public_base64())), "{page}");
    let (_, again) = varde_web::warn::subscriptions::kept_keys(&*app.store).await.unwrap();
    assert_eq!(kept.public_base64(), again.public_base64());
    // The service worker and the script are served; without an SMTP server there is no e-mail form.
    assert!(app.get_text("/sw.js").await.2.contains("showNotification"));
    let plain = TestApp::spawn().await;
    let (_, _, page) = plain.get_text("/alerts?lang=nb").await;
    assert!(!page.contains("type=\"email\"") && page.contains("id=\"subscribe-section\" hidden"), "{page}");
    let (status, e) =
        plain.post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": "kari@example.no"})).await;
    assert_eq!((status, e["error"].as_str()), (422, Some("channel_unavailable")));
}

#[tokio::test]
async fn bad_subscription_requests_get_clear_errors_store_nothing_and_cannot_flood_an_inbox() {
    let mut smtp = SmtpServer::start(&[]).await;
    let app = app_with_smtp(&smtp.url()).await;
    let cases = [
        (json!({"channel": "email", "address": "kari(at)example.no"}), 422, "invalid_value", Some("address")),
        (
            json!({"channel": "email", "address": "kari@example.no", "fylker": ["99"]}),
            422,
            "invalid_value",
            Some("fylker"),
        ),
        (
            json!({"channel": "email", "address": "kari@example.no", "min_tier": "loud"}),
            400,
            "invalid_field",
            Some("min_tier"),
        ),
        (json!({"channel": "email", "address": "kari@example.no", "lang": "de"}), 400, "invalid_field", Some("lang")),
        (json!({"channel": "sms", "address": "kari@example.no"}), 400, "invalid_field", Some("channel")),
        (json!({"channel": "email"}), 422, "invalid_value", Some("address")),
        (
            json!({"channel": "push", "endpoint": "https://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": "BTBZMqHH6r4Tts7J_aSIgg"}}),
            422,
            "invalid_value",
            Some("keys.p256dh"),
        ),
        (
            json!({"channel": "push", "endpoint": "ftp://push.example.net/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}),
            422,
            "invalid_value",
            Some("endpoint"),
        ),
        (json!({"channel": "push", "endpoint": "https://push.example.net/x"}), 422, "invalid_value", Some("keys")),
        (json!({"channel": "email", "address": "kari@example.no", "colour": "red"}), 400, "unknown_field", None),
    ];
    for (body, status, code, field) in cases {
        let (got, e) = app.post("/api/v1/subscriptions", None, &body).await;
        assert_eq!((got, e["error"].as_str().unwrap()), (status, code), "{body}: {e}");
        if let Some(field) = field {
            assert_eq!(e["field"], field, "{body}: {e}");
        }
    }
    assert!(app.rows("SELECT address FROM subscribers").await.is_empty(), "nothing stored");
    // At most three requests an hour for one address, however it is spelled…
    for spelling in ["kari@example.no", "kari@EXAMPLE.no", " kari@example.no "] {
        let (status, _) =
            app.post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": spelling})).await;
        assert_eq!(status, 202);
    }
    let (status, e) =
        app.post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": "kari@example.no"})).await;
    assert_eq!((status, e["error"].as_str()), (429, Some("too_many_requests")));
    for _ in 0..3 {
        smtp.next().await;
    }
    // …and at most ten from one client address.
    for i in 0..7 {
        let (status, _) = app
            .post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": format!("p{i}@example.no")}))
            .await;
        assert_eq!(status, 202, "request {i}");
    }
    let (status, _) =
        app.post("/api/v1/subscriptions", None, &json!({"channel": "email", "address": "p9@example.no"})).await;
    assert_eq!(status, 429);
    assert_eq!(app.rows("SELECT count(*) || '' FROM subscribers").await, ["8"]);
    // A plain server takes only https push endpoints.
    let plain = TestApp::spawn_with(serve::AppOptions::default()).await;
    let (ua, _) = browser_keys();
    let (status, e) = plain
        .post(
            "/api/v1/subscriptions",
            None,
            &json!({"channel": "push", "endpoint": "http://127.0.0.1:9/push", "keys": ua}),
        )
        .await;
    assert_eq!((status, e["field"].as_str()), (422, Some("endpoint")), "{e}");
}

/// A browser's subscription keys: (the JSON it sends, the private key as base64url).
pub(crate) fn browser_keys() -> (Value, String) {
    use base64::Engine;
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let secret = p256::SecretKey::random(&mut rand_core06::OsRng);
    let public = secret.public_key().to_encoded_point(false);
    let auth: [u8; 16] = rand::random();
    (json!({"p256dh": b64.encode(public.as_bytes()), "auth": b64.encode(auth)}), b64.encode(secret.to_bytes()))
}

/// A push service on loopback: answers 201, or 410 for endpoints ending in `/gone`, and keeps every request.
async fn push_service() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;
    let seen: Seen = Default::default();
    async fn take(
        State(seen): State<Seen>,
        axum::extract::Path(name): axum::extract::Path<String>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::http::StatusCode {
        use base64::Engine;
        let headers: serde_json::Map<String, Value> =
            headers.iter().map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap()))).collect();
        seen.lock().unwrap().push(json!({
            "name": name,
            "headers": headers,
            "body": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&body),
        }));
        if name == "gone" { axum::http::StatusCode::GONE } else { axum::http::StatusCode::CREATED }
    }
    let router = axum::Router::new().route("/push/{name}", axum::routing::post(take)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, seen)
}

#[tokio::test]
async fn push_subscribers_get_the_alert_encrypted_for_their_browser_and_gone_ones_are_removed() {
    let app = TestApp::spawn().await;
    let (push, seen) = push_service().await;
    let (keys, private) = browser_keys();
    let (other_keys, _) = browser_keys();
    let (status, sub) = app
        .post(
            "/api/v1/subscriptions",
            None,
            &json!({"channel": "push", "endpoint": format!("{push}/push/phone"), "keys": keys, "lang": "en", "min_tier": "warning"}),
        )
        .await;
    assert_eq!((status, sub["status"].as_str()), (201, Some("subscribed")), "{sub}");
    let manage = sub["manage_url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let (status, gone) = app
        .post(
            "/api/v1/subscriptions",
            None,
            &json!({"channel": "push", "endpoint": format!("{push}/push/gone"), "keys": other_keys}),
        )
        .await;
    assert_eq!(status, 201);

    let (_, sample) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let alert = sample["alert_drafts"][0]["id"].as_i64().unwrap();
    let (_, published) = app.post(&format!("/api/v1/alerts/{alert}/publish"), Some(&app.reviewer), &json!({})).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while seen.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "two pushes within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = seen.lock().unwrap().clone();
    let phone = requests.iter().find(|r| r["name"] == "phone").unwrap();
    assert_eq!(phone["headers"]["urgency"], "high", "a severe alert");
    // The peer check: VAPID verified, payload decrypted with the browser's keys.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("push.json");
    let spec = json!({
        "private_key": private,
        "auth": keys["auth"],
        "requests": [{"endpoint": format!("{push}/push/phone"), "headers": phone["headers"], "body": phone["body"]}],
    });
    std::fs::write(&file, serde_json::to_vec(&spec).unwrap()).unwrap();
    let out = std::process::Command::new(python())
        .arg(format!("{ROOT}/tests/reach/push_receiver.py"))
        .arg(&file)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    let payload: Value = serde_json::from_str::<Value>(report.lines().next().unwrap()).unwrap()["payload"].clone();
    assert_eq!(payload["alert_id"], alert);
    assert!(payload["title"].as_str().unwrap().ends_with(published["title"]["en"].as_str().unwrap()), "{payload}");
    assert_eq!(payload["url"], format!("{}/alerts/{alert}?lang=en", app.base));
    // A tampered body does not decrypt.
    let mut forged = spec.clone();
    {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut body = b64.decode(forged["requests"][0]["body"].as_str().unwrap()).unwrap();
        body[100] ^= 1; // a bit of the ciphertext, past the 86-byte header
        forged["requests"][0]["body"] = json!(b64.encode(body));
    }
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let out = std::process::Command::new(python())
        .arg(format!("{ROOT}/tests/reach/push_receiver.py"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));

    // The push service said 410 for the other: that subscription is deleted; the phone's stays.
    let gone_manage = gone["manage_url"].as_str().unwrap().trim_start_matches(&app.base).to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, _, _) = app.get_text(&gone_manage).await;
        if status == 404 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the gone subscription is removed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.get_text(&manage).await.0, 200);
    // The subscriber deletes the phone's subscription through the API.
    let (id, token) = {
        let parts: Vec<&str> = manage.split('/').collect();
        (parts[2].to_owned(), parts[3].to_owned())
    };
    let res = app.client.delete(format!("{}/api/v1/subscriptions/{id}?token={token}", app.base)).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(app.get_text(&manage).await.0, 404);
}

#[tokio::test]
async fn a_severe_alert_still_pending_at_a_service_is_escalated_to_its_contact_address_once() {
    let mut smtp = SmtpServer::start(&[]).await;
    let mut options = TestApp::options();
    options.reach.smtp_url = Some(smtp.url());
    // At once, checked every 100 ms (the default is four hours, checked every minute).
    options.reach.escalate_after = jiff::SignedDuration::ZERO;
    options.reach.escalation_check = Duration::from_millis(100);
    let app = TestApp::spawn_with(options).await;
    let (_, sample) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let alert = sample["alert_drafts"][0]["id"].as_i64().unwrap();
    // Oslo acknowledges; Bergen does not. (Contacts are set after, so the test does not race the check.)
    app.post(&format!("/api/v1/alerts/{alert}/publish"), Some(&app.reviewer), &json!({})).await;
    app.post(&format!("/api/v1/alerts/{alert}/acknowledgements"), Some(&app.oslo), &json!({})).await;
    let services = ["oslo-brukerrom", "bergen-brukerrom"];
    for (slug, email) in services.iter().zip(["brukerrom@oslo.example.no", "brukerrom@bergen.example.no"]) {
        let slug = varde_domain::service::ServiceSlug::parse(slug).unwrap();
        varde_core::Application::set_service_contact(
            &*app.store,
            &slug,
            Some(email.into()),
            "test",
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    }
    let mut got = vec![];
    while let Some(m) = smtp.more(Duration::from_secs(3)).await {
        got.push(m);
    }
    let to: Vec<&str> = got.iter().map(|m| m["rcpt_tos"][0].as_str().unwrap()).collect();
    assert_eq!(to, ["brukerrom@bergen.example.no"], "once, and not to Oslo, which acknowledged");
    let m = got.iter().find(|m| m["rcpt_tos"][0] == "brukerrom@bergen.example.no").unwrap();
    assert!(m["headers"]["Subject"].as_str().unwrap().starts_with("Ikke kvittert: "), "{m}");
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("har ennå ikke kvittert") && text.contains("har enno ikkje kvittert"), "nb and nn: {text}");
    assert!(text.contains("has not yet acknowledged"), "and en: {text}");
    let (_, c) = app.get(&format!("/api/v1/alerts/{alert}/coverage"), Some(&app.reviewer)).await;
    let bergen = c["services"].as_array().unwrap().iter().find(|s| s["service"] == "bergen-brukerrom").unwrap();
    assert_eq!(bergen["escalated"], true, "{c}");
    let audit = app.rows("SELECT subject FROM audit_log WHERE action = 'alert.escalate'").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
}

/// Confirming a subscription shows the warnings in force now for the subscriber's area and tier: a new subscriber
/// does not wait for the next warning to learn of the current one.
#[tokio::test]
async fn a_new_subscriber_learns_the_warnings_in_force_for_their_area() {
    let mut smtp = SmtpServer::start(&[]).await;
    let app = app_with_smtp(&smtp.url()).await;
    // A severe warning in Oslo, and one in Bergen (Vestland).
    let (_, oslo) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let mut in_bergen = heroin_sample();
    in_bergen["service"] = json!("bergen-brukerrom");
    let (_, bergen) = app.post("/api/v1/samples", Some(&app.bergen), &in_bergen).await;
    let mut titles = Vec::new();
    for s in [&oslo, &bergen] {
        let id = s["alert_drafts"][0]["id"].as_i64().unwrap();
        let (_, a) = app.post(&format!("/api/v1/alerts/{id}/publish"), Some(&app.reviewer), &json!({})).await;
        titles.push(a["title"]["en"].as_str().unwrap().to_owned());
    }
    let body = json!({"channel": "email", "address": "kari@example.no", "fylker": ["03"], "lang": "en"});
    assert_eq!(app.post("/api/v1/subscriptions", None, &body).await.0, 202);
    let m = smtp.next().await;
    let confirm = link(m["text"].as_str().unwrap(), &app.base, "/confirm/");
    let page = app.client.post(format!("{}{confirm}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Warnings in force now"), "{page}");
    let shown = |t: &str| page.contains(&t.replace('«', "&laquo;").replace('»', "&raquo;")) || page.contains(t);
    assert!(shown(&titles[0]), "Oslo's warning is listed: {page}");
    assert!(!shown(&titles[1]), "Bergen's is not: {page}");
}
