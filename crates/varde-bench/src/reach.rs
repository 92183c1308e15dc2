//! `varde-bench reach`: from a publication to every matching subscriber, by e-mail and web push at once.
//!
//! Varde runs here with its real outbox, senders and SMTP transport; the receivers are an SMTP server and a push
//! service on loopback written for the benchmark (they accept everything and note when), so the figures are
//! Varde's own cost, not a receiver's.

use jiff::Timestamp;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use varde::{Reference, admin, open_store, serve};
use varde_domain::subscription::{Channel, Preferences};
use varde_domain::{Lang, Tier};
use varde_store::NewSubscriber;

type Accepted = Arc<Mutex<Vec<Instant>>>;

/// A minimal SMTP server: EHLO, MAIL, RCPT, DATA (a message is accepted at its final dot), RSET, NOOP, QUIT.
async fn smtp_sink(accepted: Accepted) -> anyhow::Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let accepted = accepted.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                if write.write_all(b"220 sink ESMTP\r\n").await.is_err() {
                    return;
                }
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        accepted.lock().expect("not poisoned").push(Instant::now());
                        b"250 2.0.0 accepted\r\n"
                    } else {
                        match line.get(..4).map(str::to_ascii_uppercase).as_deref() {
                            Some("EHLO") => b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                            Some("DATA") => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            Some("QUIT") => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(port)
}

/// A push service that takes every message (201 Created, as RFC 8030 has it).
async fn push_sink(accepted: Accepted) -> anyhow::Result<String> {
    let router = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(move |_body: axum::body::Bytes| {
            let accepted = accepted.clone();
            async move {
                accepted.lock().expect("not poisoned").push(Instant::now());
                axum::http::StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(base)
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn run(reference: Reference, subscribers: usize, rounds: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("varde-bench-reach-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(reference, &dir, subscribers, rounds.max(1)).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(reference: Reference, dir: &std::path::Path, subscribers: usize, rounds: usize) -> anyhow::Result<()> {
    let store = open_store(&format!("sqlite://{}/bench.db", dir.display()), &reference).await?;
    let s = admin::new_service(&reference, "oslo-brukerrom", "Oslo brukerrom", "user_room", "0301")?;
    store.add_service(s, "bench", Timestamp::now()).await?;
    let tech = admin::issue_token(&*store, "technician", Some("oslo-brukerrom"), None).await?;
    let reviewer = admin::issue_token(&*store, "reviewer", None, None).await?;

    let mails: Accepted = Default::default();
    let pushes: Accepted = Default::default();
    let smtp_port = smtp_sink(mails.clone()).await?;
    let push_base = push_sink(pushes.clone()).await?;

    // Subscribers of both kinds, confirmed, all wanting warnings about Oslo.
    let started = Instant::now();
    let (p256dh, auth) = {
        use base64::Engine;
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let key = p256::SecretKey::random(&mut rand_core06::OsRng);
        (b64.encode(key.public_key().to_encoded_point(false).as_bytes()), b64.encode(rand::random::<[u8; 16]>()))
    };
    let preferences = Preferences { fylker: vec!["03".into()], min_tier: Tier::Warning, lang: Lang::Nn };
    for chunk in (0..subscribers).collect::<Vec<_>>().chunks(500) {
        let writes = chunk.iter().flat_map(|&i| {
            let email = NewSubscriber {
                channel: Channel::Email,
                address: format!("subscriber{i}@example.no"),
                push_keys: None,
                preferences: preferences.clone(),
                nonce: format!("{i:032x}"),
            };
            let push = NewSubscriber {
                channel: Channel::Push,
                address: format!("{push_base}/push/{i}"),
                push_keys: Some((p256dh.clone(), auth.clone())),
                preferences: preferences.clone(),
                nonce: format!("{i:032x}"),
            };
            let store = store.clone();
            [email, push].map(move |new| {
                let store = store.clone();
                async move {
                    let (s, _) = store.request_subscription(new, Timestamp::now()).await?;
                    if s.confirmed_at.is_none() {
                        store.confirm_subscription(s.id, Timestamp::now()).await?;
                    }
                    anyhow::Ok(())
                }
            })
        });
        futures_util::future::try_join_all(writes).await?;
    }
    eprintln!(
        "{subscribers} e-mail and {subscribers} push subscribers stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut options = serve::AppOptions::default();
    options.reach.smtp_url = Some(format!("smtp://127.0.0.1:{smtp_port}"));
    options.reach.insecure_push = true;
    // The benchmark's push receiver listens on loopback.
    options.reach.outbound_allow = vec!["127.0.0.0/8".parse()?];
    let app = serve::app_with(store.clone(), reference, &base, options).await?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    // The confirmation e-mails go first; wait for them so they do not count below.
    let deadline = Instant::now() + Duration::from_secs(600);
    while mails.lock().expect("not poisoned").len() < subscribers && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mails.lock().expect("not poisoned").clear();

    let sample = json!({
        "service": "oslo-brukerrom", "received_at": Timestamp::now().to_string(), "sold_as": ["heroin"],
        "form": "powder", "analyses": [{"method": "strip_nitazene", "result": "positive"}, {"method": "ftir",
        "components": [{"substance": "heroin", "role": "main"}]}]
    });
    let drafted: serde_json::Value =
        client.post(format!("{base}/api/v1/samples")).bearer_auth(&tech).json(&sample).send().await?.json().await?;
    let alert = drafted["alert_drafts"][0]["id"].as_i64().ok_or_else(|| anyhow::anyhow!("no draft: {drafted}"))?;

    let mut first_mail = Vec::new();
    let mut all_mail = Vec::new();
    let mut all_push = Vec::new();
    for round in 0..rounds {
        mails.lock().expect("not poisoned").clear();
        pushes.lock().expect("not poisoned").clear();
        let action = if round == 0 { "publish" } else { "update" };
        let sent = Instant::now();
        let res = client
            .post(format!("{base}/api/v1/alerts/{alert}/{action}"))
            .bearer_auth(&reviewer)
            .json(&json!({}))
            .send()
            .await?;
        anyhow::ensure!(res.status().is_success(), "{action}: HTTP {}", res.status());
        let deadline = sent + Duration::from_secs(300);
        loop {
            let (m, p) = (mails.lock().expect("not poisoned").len(), pushes.lock().expect("not poisoned").len());
            if (m >= subscribers && p >= subscribers) || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let m = mails.lock().expect("not poisoned").clone();
        let p = pushes.lock().expect("not poisoned").clone();
        anyhow::ensure!(
            m.len() >= subscribers && p.len() >= subscribers,
            "round {round}: only {} e-mails and {} pushes in 300 s",
            m.len(),
            p.len()
        );
        first_mail.push(m.iter().min().map(|t| t.duration_since(sent)).unwrap_or_default());
        all_mail.push(m.iter().max().map(|t| t.duration_since(sent)).unwrap_or_default());
        all_push.push(p.iter().max().map(|t| t.duration_since(sent)).unwrap_or_default());
        eprintln!(
            "round {round}: first e-mail {:.0} ms, all {subscribers} e-mails {:.2} s, all {subscribers} pushes {:.2} s",
            millis(first_mail[round]),
            all_mail[round].as_secs_f64(),
            all_push[round].as_secs_f64()
        );
    }
    let p = |v: &mut Vec<Duration>, q: f64| {
        v.sort_unstable();
        v[((v.len() as f64 - 1.0) * q).round() as usize]
    };
    println!("reach, {subscribers} e-mail and {subscribers} push subscribers of one area, {rounds} publications:");
    println!(
        "  publication → all e-mails accepted by the SMTP server: median {:.2} s, worst {:.2} s",
        p(&mut all_mail, 0.5).as_secs_f64(),
        p(&mut all_mail, 1.0).as_secs_f64()
    );
    println!(
        "  publication → all pushes accepted by the push service: median {:.2} s, worst {:.2} s",
        p(&mut all_push, 0.5).as_secs_f64(),
        p(&mut all_push, 1.0).as_secs_f64()
    );
    println!(
        "  publication → first e-mail accepted: p50 {:.0} ms, p99 {:.0} ms",
        millis(p(&mut first_mail, 0.5)),
        millis(p(&mut first_mail, 0.99))
    );
    store.queries().close();
    Ok(())
}
