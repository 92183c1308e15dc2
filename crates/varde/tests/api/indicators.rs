//! Indicators: the public concern form and user rooms' daily counts.

use crate::helpers::TestApp;
use serde_json::json;

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
    // Kommuner by name under their fylke, in Norwegian alphabetical order (Ø after the rest).
    let groups: Vec<&str> = page.split("<optgroup label=\"").skip(1).map(|g| g.split('"').next().unwrap()).collect();
    assert_eq!((groups.len(), groups[0], groups[groups.len() - 1]), (15, "Agder", "Østfold"), "{groups:?}");
    let akershus = page.split("<optgroup label=\"Akershus\">").nth(1).unwrap().split("</optgroup>").next().unwrap();
    assert!(akershus.trim_end().ends_with(">Ås</option>"), "Ås is the last kommune of Akershus: {akershus}");

    // Another site cannot post on a visitor's behalf: without the cookie the token in the form is worthless.
    let forged = app
        .client
        .post(format!("{}/concern?lang=en", app.base))
        .form(&[("happened", "forged"), ("kommune", "0301"), ("csrf", csrf_token(&page).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);
    assert!(app.store.queries().concern_times().await.unwrap().is_empty());

    let (status, page) = post_form(
        &app,
        &[("happened", "My friend passed out after half a pill"), ("kommune", "5001"), ("website", "")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("Thank you"));
    assert!(page.contains("href=\"/alerts?lang=en\"") && page.contains("call 113"), "where to go next: {page}");
    assert_eq!(app.store.queries().concern_times().await.unwrap().len(), 1);
    assert_eq!(app.store.queries().concern_times().await.unwrap()[0].1, "50");

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
    assert_eq!(app.store.queries().concern_times().await.unwrap().len(), 1);

    // Five attempts were made from this address; the sixth within ten minutes is refused.
    let (status, page) = post_form(&app, &[("happened", "again"), ("kommune", "0301")]).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = post_form(&app, &[("happened", "and again"), ("kommune", "0301")]).await;
    assert_eq!(status, 429);
    assert!(page.contains("Too many reports"));
    assert_eq!(app.store.queries().concern_times().await.unwrap().len(), 2);
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

/// Technicians record, correct and see their service's days on a staff page; bad counts store nothing.
#[tokio::test]
async fn technicians_record_and_correct_user_room_days_on_a_page() {
    use crate::session::{Browser, users};
    let app = TestApp::spawn().await;
    users(&app).await;
    let b = Browser::new(&app);
    b.login("tom", "tekniker-passord-123").await;
    let start = b.get("/staff?lang=nn").await.text().await.unwrap();
    assert!(start.contains("href=\"/staff/user-room?lang=nn\""), "linked from the start page");
    let csrf = b.csrf("/staff/user-room?lang=nn").await;
    let yesterday = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(30))
        .to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap())
        .date()
        .to_string();
    let post = |visits: &'static str, overdoses: &'static str| {
        let (b, csrf, day) = (&b, csrf.clone(), yesterday.clone());
        async move {
            b.post(
                "/staff/user-room?lang=nn",
                &[
                    ("csrf", &csrf),
                    ("day", &day),
                    ("visits", visits),
                    ("overdoses", overdoses),
                    ("naloxone", "1"),
                    ("referrals", "2"),
                ],
            )
            .await
        }
    };
    let res = post("40", "2").await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], format!("/staff/user-room?lang=nn&saved={yesterday}"));
    // Corrected: the same day again replaces the counts.
    assert_eq!(post("42", "3").await.status().as_u16(), 303);
    let page = b.get(&format!("/staff/user-room?lang=nn&day={yesterday}")).await.text().await.unwrap();
    assert!(page.contains("value=\"42\"") && page.contains("value=\"3\""), "the form holds the day to correct");
    assert!(page.contains(&format!("<th scope=\"row\">{yesterday}</th><td>42</td><td>3</td>")), "{page}");
    // Bad counts: a clear error naming the field, the form kept, nothing stored.
    for (visits, overdoses, field) in [("-1", "0", "Besøk"), ("mange", "0", "Besøk"), ("5", "9", "Overdosar")] {
        let res = post(visits, overdoses).await;
        assert_eq!(res.status().as_u16(), 422, "{visits} {overdoses}");
        let page = res.text().await.unwrap();
        assert!(page.contains("role=\"alert\"") && page.contains(field), "{page}");
        assert!(page.contains(&format!("value=\"{visits}\"")), "what was typed comes back");
    }
    let (_, days) = app.get("/api/v1/user-room-days", Some(&app.oslo)).await;
    assert_eq!(days.as_array().unwrap().len(), 1, "{days}");
    assert_eq!((days[0]["visits"].as_u64(), days[0]["overdoses"].as_u64()), (Some(42), Some(3)));
    // A day in the future is refused.
    let tomorrow = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(30))
        .to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").unwrap())
        .date()
        .to_string();
    let res = b
        .post(
            "/staff/user-room?lang=en",
            &[
                ("csrf", &csrf),
                ("day", &tomorrow),
                ("visits", "1"),
                ("overdoses", "0"),
                ("naloxone", "0"),
                ("referrals", "0"),
            ],
        )
        .await;
    assert_eq!(res.status().as_u16(), 422);
    assert!(res.text().await.unwrap().contains("(Day)"));
    // Without the form's token nothing is stored; reviewers have no such page.
    let res = b
        .post(
            "/staff/user-room?lang=nn",
            &[("day", &yesterday), ("visits", "1"), ("overdoses", "0"), ("naloxone", "0"), ("referrals", "0")],
        )
        .await;
    assert_eq!(res.status().as_u16(), 403);
    let r = Browser::new(&app);
    r.login("rita", "reviewer-passord-123").await;
    assert_eq!(r.get("/staff/user-room").await.status().as_u16(), 403);
}
