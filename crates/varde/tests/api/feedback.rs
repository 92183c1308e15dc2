//! What a result changes: the stated intention (technicians) and what happened (the person, with their code).

use crate::helpers::{TestApp, heroin_sample};
use crate::session::{Browser, users};
use serde_json::json;
use varde_domain::SampleCode;

#[tokio::test]
async fn intentions_and_outcomes_come_from_fixed_lists_and_belong_to_the_sample() {
    let app = TestApp::spawn().await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let code = s["code"].as_str().unwrap().to_owned();
    let parsed = SampleCode::parse(&code).unwrap();
    let put = |token: String, body: serde_json::Value| {
        let (app, code) = (&app, code.clone());
        async move {
            let res = app
                .client
                .put(format!("{}/api/v1/samples/{code}/intention", app.base))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<serde_json::Value>().await.unwrap())
        }
    };
    // Only the technicians of the sample's service, only the list.
    assert_eq!(put(app.bergen.clone(), json!({"intention": "not_use"})).await.1["error"], "wrong_service");
    assert_eq!(put(app.reviewer.clone(), json!({"intention": "not_use"})).await.1["error"], "technician_only");
    let (status, e) = put(app.oslo.clone(), json!({"intention": "sell it"})).await;
    assert_eq!((status, e["error"].as_str(), e["field"].as_str()), (400, Some("invalid_field"), Some("intention")));
    assert_eq!(app.store.queries().feedback(parsed).await.unwrap(), (None, None), "nothing stored");
    let (status, body) = put(app.oslo.clone(), json!({"intention": "take_less"})).await;
    assert_eq!((status, body["intention"].as_str()), (200, Some("take_less")));
    let (status, _) = put(app.oslo.clone(), json!({"intention": "not_use"})).await;
    assert_eq!(status, 200, "a second answer replaces the first");

    // The person tells what happened with their code; contradictions are refused, naming the field.
    let outcome = |c: &str, body: serde_json::Value| {
        let (app, c) = (&app, c.to_owned());
        async move { app.post(&format!("/api/v1/results/{c}/outcome"), None, &body).await }
    };
    for (body, field) in [
        (json!({"used": false, "effect": "stronger"}), "effect"),
        (json!({"used": true}), "effect"),
        (json!({"used": true, "effect": "unexpected"}), "unexpected"),
    ] {
        let (status, e) = outcome(&code, body.clone()).await;
        assert_eq!((status, e["field"].as_str()), (422, Some(field)), "{body}: {e}");
    }
    let (status, e) = outcome(&code, json!({"used": true, "effect": "euphoric"})).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_field")), "{e}");
    let (status, e) = outcome("AAAA-BBBB-CCCC", json!({"used": false})).await;
    assert_eq!((status, e["error"].as_str()), (404, Some("result_not_found")));
    let (status, _) =
        outcome(&code, json!({"used": true, "effect": "unexpected", "unexpected": ["breathing_problems"]})).await;
    assert_eq!(status, 201);
    let (intention, told) = app.store.queries().feedback(parsed).await.unwrap();
    assert_eq!(intention, Some(varde_domain::feedback::Intention::NotUse));
    assert_eq!(told.unwrap().unexpected, [varde_domain::feedback::UnexpectedEffect::BreathingProblems]);
    // The audit log names the sample, never a person.
    let audit = app.rows("SELECT actor FROM audit_log WHERE action = 'sample.outcome'").await;
    assert_eq!(audit, ["public"]);
}

#[tokio::test]
async fn the_technician_and_the_person_answer_on_their_pages() {
    let app = TestApp::spawn().await;
    users(&app).await;
    let (_, s) = app.post("/api/v1/samples", Some(&app.oslo), &heroin_sample()).await;
    let code = s["code"].as_str().unwrap().to_owned();
    let b = Browser::new(&app);
    b.login("tom", "tekniker-passord-123").await;
    let path = format!("/staff/samples/{code}?lang=nn");
    let page = b.get(&path).await.text().await.unwrap();
    assert!(page.contains("Kva vil personen gjere?") && page.contains("value=\"take_less\""), "{page}");
    let csrf = b.csrf(&path).await;
    let res = b
        .post(&format!("/staff/samples/{code}/intention?lang=nn"), &[("csrf", &csrf), ("intention", "lab_test")])
        .await;
    assert_eq!(res.status().as_u16(), 303);
    let page = b.get(&path).await.text().await.unwrap();
    assert!(page.contains("value=\"lab_test\" checked"), "the answer shows as chosen");
    let res =
        b.post(&format!("/staff/samples/{code}/intention?lang=nn"), &[("csrf", &csrf), ("intention", "sell")]).await;
    assert_eq!(res.status().as_u16(), 422);

    // The person, on the result page (no login, no JavaScript).
    let person = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let card =
        person.get(format!("{}/result?lang=en&code={code}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(card.contains("What happened?") && card.contains("value=\"did_not_use\""), "{card}");
    let res = person
        .post(format!("{}/result/outcome?lang=en", app.base))
        .form(&[("code", code.as_str()), ("kind", "did_not_use")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let back = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("told=1"), "{back}");
    let card = person.get(format!("{}{back}", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(card.contains("Thank you. Your answer is saved."));
    let (_, told) = app.store.queries().feedback(SampleCode::parse(&code).unwrap()).await.unwrap();
    assert!(!told.unwrap().used);
    let res = person
        .post(format!("{}/result/outcome?lang=en", app.base))
        .form(&[("code", code.as_str()), ("kind", "stronger"), ("unexpected", "nausea")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422, "unexpected effects only with 'unexpected'");
    let (_, told) = app.store.queries().feedback(SampleCode::parse(&code).unwrap()).await.unwrap();
    assert!(!told.unwrap().used, "the refused answer changed nothing");
}
