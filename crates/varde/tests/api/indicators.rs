//! Indicators: the public concern form and user rooms' daily counts.

use crate::helpers::TestApp;
use serde_json::json;
use varde_store::Store;

/// Fills in the form as a browser does: fetch it (receiving the anti-forgery cookie), then post with its token.
async fn post_form(app: &TestApp, body: &[(&str, &str)]) -> (u16, String) {
    let browser = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form = browser.get(format!("{}/concern?lang=en", app.base)).send().await.unwrap().text().await.unwrap();
    let token = csrf_token(&form);
    let mut fields = body.to_vec();
    fields.push(("csrf", &token));
    let res = browser.post(format!("{}/concern?lang=en", app.base)).form(&fields).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn csrf_token(page: &str) -> String {
    let start = page.find(r#"name="csrf" value=""#).expect("the form carries a token") + r#"name="csrf" value=""#.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_concern_form_takes_anonymous_reports_and_refuses_personal_data_robots_and_floods() {
    let app = TestApp::spawn().await;
    let (status, _, page) = app.get_text("/concern?lang=nn").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Meld uro om eit rusmiddel") && page.matches("<option").count() == 358,
        "357 kommuner and a prompt"
    );
    assert!(!page.contains("<script"), "works without JavaScript");

    // Another site cannot post on a visitor's behalf: without the cookie the token in the form is worthless.
    let forged = app
        .client
        .post(format!("{}/concern?lang=en", app.base))
        .form(&[("happened", "forged"), ("kommune", "0301"), ("csrf", csrf_token(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(app.store.concern_times().await.unwrap().is_empty());

    let (status, page) = post_form(
        &app,
        &[("happened", "My friend passed out after half a pill"), ("kommune", "5001"), ("website", "")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Thank you"));
    assert_eq!(app.store.concern_times().await.unwrap().len(), 1);
    assert_eq!(app.store.concern_times().await.unwrap()[0].1, "50");

    let (status, page) = post_form(&app, &[("happened", "call me on 912 34 567"), ("kommune", "5001")]).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("personal data") && page.contains("912 34 567"),
        "the form comes back filled in, with the reason"
    );
    let (status, _) = post_form(&app, &[("happened", "something"), ("kommune", "9999")]).await;
    assert_eq!(status, 422);

    // A robot fills the hidden field: thanked, not stored.
    let (status, page) =
        post_form(&app, &[("happened", "buy pills"), ("kommune", "0301"), ("website", "http://spam.example")]).await;
    assert!(status == 200 && page.contains("Thank you"));
    assert_eq!(app.store.concern_times().await.unwrap().len(), 1);

    // Five attempts were made from this address; the sixth within ten minutes is refused.
    let (status, page) = post_form(&app, &[("happened", "again"), ("kommune", "0301")]).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = post_form(&app, &[("happened", "and again"), ("kommune", "0301")]).await;
    assert_eq!(status, 429);
    assert!(page.contains("Too many reports"));
    assert_eq!(app.store.concern_times().await.unwrap().len(), 2);
}

#[tokio::test]
async fn user_rooms_record_their_daily_counts() {
    let app = TestApp::spawn().await;
    let day = json!({"service": "oslo-brukerrom", "day": "2026-11-20", "visits": 80, "overdoses": 2, "naloxone": 1, "referrals": 4});
    assert_eq!(app.post("/api/v1/user-room-days", Some(&app.oslo), &day).await.0, 201);
    let mut corrected = day.clone();
    corrected["overdoses"] = json!(3);
    assert_eq!(app.post("/api/v1/user-room-days", Some(&app.oslo), &corrected).await.0, 200);
    assert_eq!(app.post("/api/v1/user-room-days", Some(&app.bergen), &day).await.0, 403);
    let mut impossible = day.clone();
    impossible["overdoses"] = json!(81);
    let (status, e) = app.post("/api/v1/user-room-days", Some(&app.oslo), &impossible).await;
    assert_eq!((status, e["field"].as_str().unwrap()), (422, "overdoses"));
    let mut future = day.clone();
    future["day"] = json!("2099-01-01");
    assert_eq!(app.post("/api/v1/user-room-days", Some(&app.oslo), &future).await.0, 422);
    let (_, days) = app.get("/api/v1/user-room-days", Some(&app.oslo)).await;
    assert_eq!(days, json!([corrected]));
    assert_eq!(app.get("/api/v1/user-room-days?service=bergen-brukerrom", Some(&app.oslo)).await.0, 403);
    assert_eq!(app.get("/api/v1/user-room-days", Some(&app.reviewer)).await.1.as_array().unwrap().len(), 1);
}
