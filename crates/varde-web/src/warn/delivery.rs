//! Webhook delivery from the durable event log (the outbox). Each subscriber has one worker that delivers public
//! events in order from its own cursor: an event is retried with exponential back-off until the subscriber takes
//! it (never skipped, so order holds), and the cursor moves only after a success is recorded. After a restart the
//! worker resumes at the cursor. A delivery may repeat only if the server dies between the subscriber's answer
//! and the record of it; the `Idempotency-Key` header lets the subscriber drop such a repeat.

use crate::AppState;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::HashMap;
use std::time::Duration;
use varde_reach::outbound::Purpose;
use varde_store::{Delivery, Event, Webhook};

/// Retry timing. The default retries for as long as it takes (the cap is one hour between attempts), which is far
/// beyond the 24 hours a subscriber may be away.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { first: Duration::from_secs(1), max: Duration::from_secs(3600) }
    }
}

impl Backoff {
    /// The wait after the `attempt`-th failure: first, 2·first, 4·first, … capped at max.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
        self.first.saturating_mul(factor).min(self.max)
    }
}

/// Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`
/// keyed with the base64 key after the secret's `whsec_` prefix, so receivers verify with off-the-shelf libraries.
/// None when the secret is not `whsec_` and base64 (no Varde secret is).
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// The legacy signature header, kept for existing subscribers through release 0.2 (docs/architecture.md, *Webhooks*):
/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscriber's secret>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={timestamp},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a subscriber receives.
pub fn body(event: &Event) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": event.seq,
        "type": event.kind,
        "at": event.at,
        "tier": event.tier,
        "fylker": event.fylker,
        "data": event.payload,
    }))
    .expect("JSON values serialise")
}

/// Whether a subscriber's filter takes an event. National events (no fylke) go to every subscriber.
pub fn wanted(hook: &Webhook, event: &Event) -> bool {
    event.public && varde_domain::subscription::wanted(hook.min_tier, &hook.fylker, event.tier, &event.fylker)
}

/// Starts the dispatcher: it looks for subscribers every few seconds and keeps one worker running for each.
/// A task that ends with its handle.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub fn spawn(state: AppState, backoff: Backoff) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Connects only where the outbound policy allows, and follows no redirect (which would carry the signature
        // headers to a host nobody registered).
        let client = state.reach.outbound.client(Duration::from_secs(10), 4);
        // Aborted with this task (an instance that loses the jobs' leadership stops delivering at once).
        let mut workers: HashMap<i64, AbortOnDrop> = HashMap::new();
        let mut watch = state.app.queries().event_watch();
        loop {
            match state.app.queries().webhooks().await {
                Ok(hooks) => {
                    for hook in hooks.into_iter().filter(|h| h.active) {
                        let running = workers.get(&hook.id).is_some_and(|w| !w.0.is_finished());
                        if !running {
                            let (state, client) = (state.clone(), client.clone());
                            workers.insert(hook.id, AbortOnDrop(tokio::spawn(worker(state, client, hook, backoff))));
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot list webhook subscribers"),
            }
            tokio::select! {
                _ = watch.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    })
}

async fn worker(state: AppState, client: reqwest::Client, hook: Webhook, backoff: Backoff) {
    let mut watch = state.app.queries().event_watch();
    let mut cursor = hook.cursor;
    loop {
        let events = match state.app.queries().events_after(cursor, 100).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read events");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if events.is_empty() {
            tokio::select! {
                _ = watch.changed() => {}
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            continue;
        }
        for event in events {
            if wanted(&hook, &event) {
                deliver(&state, &client, &hook, &event, backoff).await;
            } else if let Err(e) = state.app.queries().skip_to(hook.id, event.seq).await {
                tracing::warn!(error = %e, "cannot move a webhook cursor");
            }
            cursor = event.seq;
        }
    }
}

/// Delivers one event, trying until the subscriber accepts it.
async fn deliver(state: &AppState, client: &reqwest::Client, hook: &Webhook, event: &Event, backoff: Backoff) {
    let body = body(event);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let now = jiff::Timestamp::now();
        // One id per event and subscriber, the same on every attempt: receivers drop repeats by it.
        let id = format!("varde-{}-{}", hook.id, event.seq);
        let mut request = client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", now.as_second().to_string())
            .header("varde-event", &event.kind)
            .header("varde-event-id", event.seq.to_string())
            .header("idempotency-key", &id)
            .header("varde-signature", signature(&hook.secret, now.as_second(), &body));
        if let Some(sig) = standard_signature(&hook.secret, &id, now.as_second(), &body) {
            request = request.header("webhook-signature", sig);
        }
        // An address literal is not resolved, so not checked, by the client: check it here, at every attempt.
        let allowed = reqwest::Url::parse(&hook.url)
            .map_err(|e| e.to_string())
            .and_then(|u| state.reach.outbound.check_url(&u, Purpose::Webhook).map_err(|e| e.to_string()));
        let result = match allowed {
            Ok(()) => request.body(body.clone()).send().await.map_err(|e| e.to_string()),
            Err(refused) => Err(format!("not sent: {refused}")),
        };
        let (ok, status, error) = match result {
            Ok(r) if r.status().is_success() => (true, Some(r.status().as_u16()), None),
            Ok(r) => (false, Some(r.status().as_u16()), Some(format!("HTTP {}", r.status()))),
            Err(e) => (false, None, Some(e)),
        };
        let record = Delivery { webhook_id: hook.id, event_seq: event.seq, attempt, at: now, ok, status, error };
        // Keep trying to record: a success must move the cursor, or the event would be sent again.
        while let Err(e) = state.app.record_delivery(record.clone()).await {
            tracing::warn!(error = %e, "cannot record a webhook delivery");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        if ok {
            return;
        }
        tokio::time::sleep(backoff.delay(attempt)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff { first: Duration::from_secs(1), max: Duration::from_secs(60) };
        let d: Vec<u64> = (1..=8).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(d, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        // Retrying for 24 hours with the default takes a finite number of attempts, none more than an hour apart.
        let def = Backoff::default();
        let mut total = Duration::ZERO;
        let mut n = 0;
        while total < Duration::from_secs(24 * 3600) {
            n += 1;
            total += def.delay(n);
        }
        assert!(n > 24 && def.delay(n) == Duration::from_secs(3600));
    }

    #[test]
    fn standard_webhooks_signatures_match_the_specifications_example() {
        // The example of the Standard Webhooks specification and its reference libraries.
        let sig = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        assert_eq!(standard_signature("not-a-whsec", "id", 1, b"{}"), None);
    }

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231 test case 2 checks the HMAC itself: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let s = signature("secret", 1_700_000_000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_ne!(s, signature("other", 1_700_000_000, b"{}"));
    }
}
