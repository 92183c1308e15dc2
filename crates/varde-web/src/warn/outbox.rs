//! Handing warnings to people and services, from the durable outbox.
//!
//! Fan-out follows the event log: each alert event is queued once per confirmed subscriber who wants it, in the
//! transaction that moves the fan-out cursor, so a restart neither loses nor repeats a queued message. Senders take
//! due messages in batches and hand them over concurrently (e-mail over a pool of reused SMTP connections, push over
//! kept-alive HTTPS); each outcome is recorded, and a message leaves the outbox only once it was taken. A message
//! may repeat only if the server dies between the hand-over and its record. Escalations go to services whose
//! contact address is set, once per alert and service.

use crate::AppState;
use crate::config::reach::{EMAIL_CONNECTIONS, OUTBOX_BATCH as BATCH, PUSH_PARALLEL, PUSH_TTL_SECONDS};
use crate::warn::messages;
use futures_util::StreamExt;
use jiff::Timestamp;
use std::time::Duration;
use varde_domain::alert::{AlertStatus, overdue, reaches};
use varde_domain::subscription::{Channel, retry_after_seconds};
use varde_reach::mail::MailError;
use varde_reach::outbound::Purpose;
use varde_reach::webpush;
use varde_store::{AlertFilter, Handover, OutboxMessage};

/// Starts fan-out, the senders and the escalation check.
pub fn spawn(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = vec![tokio::spawn(fan_out(state.clone()))];
    // Without an SMTP server e-mail waits in the outbox (for a restart with `--smtp-url`): no sender polls it.
    if state.reach.mailer.is_some() {
        tasks.push(tokio::spawn(send(state.clone(), Channel::Email)));
    }
    tasks.push(tokio::spawn(send(state.clone(), Channel::Push)));
    tasks.push(tokio::spawn(escalate(state)));
    tasks
}

async fn fan_out(state: AppState) {
    let mut watch = state.app.queries().event_watch();
    loop {
        match state.app.fan_out(Timestamp::now()).await {
            Ok((queued, more)) => {
                if queued > 0 {
                    state.reach.wake_email.notify_one();
                    state.reach.wake_push.notify_one();
                }
                if more {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot queue messages to subscribers"),
        }
        tokio::select! {
            _ = watch.changed() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

async fn send(state: AppState, channel: Channel) {
    // Connects only where the outbound policy allows, and follows no redirect.
    let client = state.reach.outbound.client(Duration::from_secs(15), PUSH_PARALLEL);
    loop {
        let due = match state.app.queries().due_messages(channel, Timestamp::now(), BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the subscribers' outbox");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if due.is_empty() {
            tokio::select! {
                _ = state.reach.wake(channel).notified() => {}
                // Retries fall due without anyone waking the sender.
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
            continue;
        }
        let parallel = if channel == Channel::Email { EMAIL_CONNECTIONS as usize } else { PUSH_PARALLEL };
        // Each hand-over is its own task, so encryption and signing spread over every core.
        let outcomes: Vec<(i64, Handover)> = futures_util::stream::iter(due)
            .map(|m| {
                let (state, client) = (state.clone(), client.clone());
                tokio::spawn(async move { (m.id, hand_over(&state, &client, &m).await) })
            })
            .buffer_unordered(parallel)
            .filter_map(|joined| async move { joined.ok() })
            .collect()
            .await;
        for (_, outcome) in &outcomes {
            state
                .metrics
                .reach_messages
                .get_or_create(&crate::http::metrics::ReachLabels {
                    channel: channel.as_str(),
                    outcome: match outcome {
                        Handover::Sent => "sent",
                        Handover::Retry { .. } => "retry",
                        Handover::Refused { .. } => "refused",
                        Handover::Gone => "gone",
                    },
                })
                .inc();
        }
        // Keep trying to record: a sent message that stayed in the outbox would go again.
        while let Err(e) = state.app.settle_messages(outcomes.clone(), Timestamp::now()).await {
            tracing::warn!(error = %e, "cannot record how messages were handed over");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn retry(error: String, attempts: u32) -> Handover {
    let due = Timestamp::now() + jiff::SignedDuration::from_secs(retry_after_seconds(attempts + 1));
    Handover::Retry { error, due }
}

async fn hand_over(state: &AppState, client: &reqwest::Client, m: &OutboxMessage) -> Handover {
    match m.subscriber.channel {
        Channel::Email => {
            let Some(mailer) = &state.reach.mailer else {
                return retry("no SMTP server configured".into(), m.attempts);
            };
            let Some(mail) = messages::mail(state, m) else {
                return Handover::Refused { error: "the alert event cannot be read".into() };
            };
            match mailer.send(&mail).await {
                Ok(()) => Handover::Sent,
                Err(MailError::Refused(e) | MailError::Address(e) | MailError::Build(e)) => {
                    Handover::Refused { error: e }
                }
                Err(e) => retry(e.to_string(), m.attempts),
            }
        }
        Channel::Push => push(state, client, m).await,
    }
}

/// RFC 8030 delivery of one encrypted message (RFC 8291) with VAPID identification (RFC 8292).
async fn push(state: &AppState, client: &reqwest::Client, m: &OutboxMessage) -> Handover {
    let s = &m.subscriber;
    let Some((p256dh, auth)) = &s.push_keys else { return Handover::Gone };
    let target = match webpush::Subscription::from_base64(&s.address, p256dh, auth) {
        Ok(t) => t,
        Err(_) => return Handover::Gone,
    };
    let Some(payload) = messages::push_payload(state, m) else {
        return Handover::Refused { error: "the alert event cannot be read".into() };
    };
    let body = match webpush::encrypt(&payload, &target) {
        Ok(b) => b,
        Err(e) => return Handover::Refused { error: e.to_string() },
    };
    let Some(authorization) = state.reach.vapid_authorization(&s.address, Timestamp::now()) else {
        return Handover::Gone;
    };
    // Checked again at each push: the policy may have changed since the person subscribed, and an address literal
    // is not resolved (so not checked) by the client.
    match reqwest::Url::parse(&s.address) {
        Ok(url) if state.reach.outbound.check_url(&url, Purpose::Push).is_ok() => {}
        _ => return Handover::Gone,
    }
    let severe = m.event.as_ref().and_then(|e| e.tier) == Some(varde_domain::Tier::Severe);
    let result = client
        .post(&s.address)
        .header("content-encoding", "aes128gcm")
        .header("content-type", "application/octet-stream")
        .header("ttl", PUSH_TTL_SECONDS.to_string())
        .header("urgency", if severe { "high" } else { "normal" })
        .header("authorization", authorization)
        .body(body)
        .send()
        .await;
    match result {
        Ok(r) if r.status().is_success() => Handover::Sent,
        // The subscription expired or the person unsubscribed in the browser: forget them.
        Ok(r) if matches!(r.status().as_u16(), 404 | 410) => Handover::Gone,
        Ok(r) if r.status().as_u16() == 429 || r.status().is_server_error() => {
            retry(format!("HTTP {}", r.status()), m.attempts)
        }
        Ok(r) => Handover::Refused { error: format!("HTTP {}", r.status()) },
        Err(e) => retry(e.to_string(), m.attempts),
    }
}

/// Checks for severe alerts that services have not acknowledged in time, and e-mails those services.
async fn escalate(state: AppState) {
    loop {
        if let Err(e) = escalate_once(&state, Timestamp::now()).await {
            tracing::warn!(error = %e, "escalation check failed");
        }
        tokio::time::sleep(state.reach.escalation_check).await;
    }
}

/// One escalation pass; returns how many e-mails went.
pub async fn escalate_once(state: &AppState, now: Timestamp) -> Result<usize, varde_store::StoreError> {
    let Some(mailer) = &state.reach.mailer else { return Ok(0) };
    let contacts = state.app.queries().service_contacts().await?;
    if contacts.is_empty() {
        return Ok(0);
    }
    let filter = AlertFilter {
        statuses: vec![AlertStatus::Published],
        min_tier: Some(varde_domain::Tier::Severe),
        limit: 500,
        ..AlertFilter::default()
    };
    let services = state.app.queries().services().await?;
    let mut sent = 0;
    for alert in state.app.queries().alerts(filter).await? {
        let alert = crate::api::alerts::as_of(alert, now);
        if alert.status != AlertStatus::Published || !overdue(&alert, now, state.reach.escalate_after) {
            continue;
        }
        let acknowledged = state.app.queries().acknowledgements(alert.id).await?;
        let escalated = state.app.queries().escalations(alert.id).await?;
        for contact in &contacts {
            let Some(service) = services.iter().find(|s| s.slug == contact.service) else { continue };
            let pending = reaches(&alert, &service.fylke, state.reach.severe_everywhere)
                && !acknowledged.iter().any(|(slug, _)| *slug == service.slug)
                && !escalated.contains(&service.slug);
            if !pending {
                continue;
            }
            let mail = messages::escalation_mail(state, &alert, contact, &service.name);
            match mailer.send(&mail).await {
                Ok(()) => {
                    state.app.record_escalation(alert.id, &service.slug, now).await?;
                    sent += 1;
                }
                // Tried again at the next check.
                Err(e) => tracing::warn!(error = %e, service = %service.slug, "cannot send an escalation"),
            }
        }
    }
    Ok(sent)
}
