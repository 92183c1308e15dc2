//! What subscribers and services read: e-mails (text and HTML) and push notifications, in the reader's language,
//! from the texts in `i18n/ui.toml`. An alert message is written from the event that announced it, so each version
//! reads as it was published.

use crate::AppState;
use crate::http::i18n::t;
use maud::html;
use varde_domain::alert::Alert;
use varde_domain::{Lang, Tier};
use varde_reach::mail::Mail;
use varde_store::{Event, MessageKind, OutboxMessage, ServiceContact};

/// The alert an event carries, when it is one a subscriber hears of.
pub fn alert_of(event: &Event) -> Option<Alert> {
    serde_json::from_value(event.payload.clone()).ok()
}

fn area(state: &AppState, fylker: &[String], lang: Lang) -> String {
    if fylker.is_empty() {
        return t(lang, "national").to_owned();
    }
    fylker
        .iter()
        .map(|f| state.assessor.geography.fylke(f).map_or(f.as_str(), |x| x.public_name()).to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn tier_word(state: &AppState, tier: Tier, lang: Lang) -> &str {
    state.assessor.templates.tier_word(tier).get(lang)
}

/// The subject (and push title) of an alert message: what happened to which alert.
fn alert_headline(state: &AppState, kind: &str, alert: &Alert, lang: Lang) -> String {
    let title = alert.content.title.get(lang);
    let key = match kind {
        "alert.withdrawn" => "mail_alert_withdrawn",
        "alert.updated" => "mail_alert_updated",
        _ => "mail_alert_published",
    };
    headline(t(lang, key), tier_word(state, alert.tier, lang), title)
}

/// `template` filled in, without saying the tier twice: severe drafts' headlines already start with it
/// ("Alvorleg varsel: Fentanyl i …"), and "Alvorleg varsel: Alvorleg varsel: …" reads as a fault.
fn headline(template: &str, tier: &str, title: &str) -> String {
    let says_tier = title.to_lowercase().starts_with(&tier.to_lowercase());
    let template = if says_tier { template.replace("{tier}: ", "") } else { template.to_owned() };
    template.replace("{tier}", tier).replace("{title}", title)
}

/// An alert e-mail's subject and paragraphs for an event of `kind`: what subscribers get, and what a reviewer sees
/// before publishing.
pub fn alert_mail(state: &AppState, kind: &str, alert: &Alert, lang: Lang) -> (String, Vec<String>) {
    let mut paragraphs = vec![alert.content.body.get(lang).to_owned()];
    if kind == "alert.withdrawn" {
        paragraphs.insert(0, t(lang, "withdrawn_notice").to_owned());
    } else {
        paragraphs.push(alert.content.advice.get(lang).to_owned());
    }
    paragraphs.push(format!("{}: {}", t(lang, "mail_area"), area(state, &alert.content.fylker, lang)));
    paragraphs.extend(crate::http::pages::emergency_line(state, alert, lang).map(str::to_owned));
    (alert_headline(state, kind, alert, lang), paragraphs)
}

fn alert_url(state: &AppState, alert: &Alert, lang: Lang) -> String {
    format!("{}/alerts/{}?lang={}", state.public_url, alert.id, lang.code())
}

/// The e-mail for an outbox message; None when an alert message's event cannot be read (it is then dropped).
pub fn mail(state: &AppState, message: &OutboxMessage) -> Option<Mail> {
    let s = &message.subscriber;
    let lang = s.preferences.lang;
    let manage = state.reach.manage_url(&state.public_url, s);
    let unsubscribe = state.reach.unsubscribe_url(&state.public_url, s);
    let (subject, paragraphs, link): (String, Vec<String>, (String, &str)) = match message.kind {
        MessageKind::Confirm => (
            t(lang, "mail_confirm_subject").to_owned(),
            vec![t(lang, "mail_confirm_text").to_owned(), t(lang, "mail_confirm_ignore").to_owned()],
            (state.reach.confirm_url(&state.public_url, s), t(lang, "confirm_button")),
        ),
        MessageKind::Notice => (
            t(lang, "mail_notice_subject").to_owned(),
            vec![t(lang, "mail_notice_text").to_owned()],
            (manage.clone(), t(lang, "manage_link")),
        ),
        MessageKind::Alert => {
            let event = message.event.as_ref()?;
            let alert = alert_of(event)?;
            let (subject, paragraphs) = alert_mail(state, &event.kind, &alert, lang);
            (subject, paragraphs, (alert_url(state, &alert, lang), t(lang, "mail_read_more")))
        }
    };
    let footer = t(lang, "mail_footer")
        .replace("{area}", &area(state, &s.preferences.fylker, lang))
        .replace("{tier}", tier_word(state, s.preferences.min_tier, lang));
    let mut text = String::new();
    for p in &paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "{}: {}\n\n-- \n{footer}\n{}: {manage}\n{}: {unsubscribe}\n",
        link.1,
        link.0,
        t(lang, "manage_link"),
        t(lang, "unsubscribe_button")
    ));
    let html = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head { meta charset="utf-8"; title { (subject) } }
            body style="font-family: sans-serif; max-width: 40em" {
                @for p in &paragraphs { p { (p) } }
                p { a href=(link.0) { (link.1) } }
                hr;
                p style="font-size: small" {
                    (footer) br;
                    a href=(manage) { (t(lang, "manage_link")) } " · " a href=(unsubscribe) { (t(lang, "unsubscribe_button")) }
                }
            }
        }
    };
    Some(Mail {
        to: s.address.clone(),
        subject,
        text,
        html: html.into_string(),
        // Confirmation requests carry no one-click link: there is nothing to leave yet, only to ignore.
        unsubscribe: (message.kind != MessageKind::Confirm).then_some(unsubscribe),
        lang: lang.code(),
    })
}

/// The JSON a push notification carries (the service worker shows it): at most one push record.
pub fn push_payload(state: &AppState, message: &OutboxMessage) -> Option<Vec<u8>> {
    let event = message.event.as_ref()?;
    let alert = alert_of(event)?;
    let lang = message.subscriber.preferences.lang;
    let mut body: String = alert.content.body.get(lang).to_owned();
    let payload = |body: &str| {
        serde_json::to_vec(&serde_json::json!({
            "title": alert_headline(state, &event.kind, &alert, lang),
            "body": body,
            "url": alert_url(state, &alert, lang),
            "tag": format!("varde-alert-{}", alert.id),
            "tier": alert.tier,
            "alert_id": alert.id,
            "version": alert.version,
            "event": event.kind,
            "lang": lang.code(),
        }))
        .expect("JSON values serialise")
    };
    // A long body is shortened (at a character boundary) to fit the one record a push message may be.
    let mut bytes = payload(&body);
    while bytes.len() > varde_reach::webpush::MAX_PAYLOAD && !body.is_empty() {
        let keep = body.chars().count().saturating_sub(40);
        body = body.chars().take(keep).collect::<String>() + "…";
        if keep == 0 {
            body.clear();
        }
        bytes = payload(&body);
    }
    Some(bytes)
}

/// The e-mail to a service that has not acknowledged a severe alert in time: in bokmål, nynorsk and English, one
/// after the other (a service's staff read all three).
pub fn escalation_mail(state: &AppState, alert: &Alert, contact: &ServiceContact, service_name: &str) -> Mail {
    let url = format!("{}/staff", state.public_url);
    let line = |lang: Lang| {
        t(lang, "mail_escalation_text")
            .replace("{service}", service_name)
            .replace("{title}", alert.content.title.get(lang))
            .replace("{hours}", &(state.reach.escalate_after.as_secs() / 3600).to_string())
    };
    let subject = t(Lang::Nb, "mail_escalation_subject").replace("{title}", alert.content.title.get(Lang::Nb));
    let mut text = String::new();
    for lang in Lang::ALL {
        text.push_str(&format!("{}\n{url}?lang={}\n{}\n\n", line(lang), lang.code(), alert_url(state, alert, lang)));
    }
    let html = html! {
        @for lang in Lang::ALL {
            div lang=(lang.code()) {
                p { (line(lang)) }
                p { a href={ (url) "?lang=" (lang.code()) } { (t(lang, "mail_escalation_link")) } " · "
                    a href=(alert_url(state, alert, lang)) { (alert.content.title.get(lang)) } }
            }
        }
    };
    Mail { to: contact.email.clone(), subject, text, html: html.into_string(), unsubscribe: None, lang: "nb" }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_subject_says_the_tier_once() {
        let severe = "Alvorleg varsel: Fentanyl i «Heroin» (pulver), Oslo";
        assert_eq!(super::headline("{tier}: {title}", "Alvorleg varsel", severe), severe);
        assert_eq!(
            super::headline("Oppdatert – {tier}: {title}", "Alvorleg varsel", severe),
            format!("Oppdatert – {severe}")
        );
        assert_eq!(
            super::headline("{tier}: {title}", "Åtvaring", "Høgdose MDMA-tablettar: 270 mg, Oslo"),
            "Åtvaring: Høgdose MDMA-tablettar: 270 mg, Oslo"
        );
    }
}
