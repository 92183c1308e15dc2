//! The decisions the use cases make from what they read through the port: pure functions (a sample's own decisions
//! and the events' payloads are the domain's, `varde_domain::recording` and `varde_domain::payloads`).

use jiff::Timestamp;
use varde_store::{AlertRef, Event, Purged, StoreError, Subscriber};

/// Whether an analysis of sample `sample` may amend analysis `old`, given what is stored of `old` (its sample and the
/// analysis that already replaced it, if any): only a current analysis of the same sample is amended.
pub fn may_amend(sample: i64, old: i64, stored: Option<(i64, Option<i64>)>) -> Result<(), StoreError> {
    use varde_domain::ErrorCode;
    match stored {
        Some((of, None)) if of == sample => Ok(()),
        Some((of, Some(newer))) if of == sample => Err(StoreError::Invalid {
            code: ErrorCode::AnalysisAlreadyAmended,
            message: format!("analysis {old} was already amended by analysis {newer}; amend that one instead"),
        }),
        _ => Err(StoreError::Invalid {
            code: ErrorCode::UnknownAnalysis,
            message: format!("this sample has no analysis {old} to amend"),
        }),
    }
}

/// The subscriber a confirmation link confirms: one that exists (unconfirmed requests are deleted after 48 hours)
/// and is not confirmed yet.
pub fn to_confirm(subscriber: Option<Subscriber>) -> Result<Subscriber, StoreError> {
    use varde_domain::ErrorCode;
    let subscriber = subscriber.ok_or_else(|| StoreError::Invalid {
        code: ErrorCode::NotFound,
        message: "no subscription has that link; it may have been deleted or not confirmed in 48 hours".into(),
    })?;
    if subscriber.confirmed_at.is_some() {
        return Err(StoreError::Invalid {
            code: ErrorCode::LinkUsed,
            message: "this confirmation link was used already; the subscription is active".into(),
        });
    }
    Ok(subscriber)
}

/// A signal a reviewer drafts an alert from: one that exists and is open, given its stored status.
pub fn signal_to_draft(signal: i64, status: Option<&str>) -> Result<(), StoreError> {
    use varde_domain::ErrorCode;
    match status {
        None => {
            Err(StoreError::Invalid { code: ErrorCode::UnknownSignal, message: format!("there is no signal {signal}") })
        }
        Some("open") => Ok(()),
        Some(status) => Err(StoreError::Invalid {
            code: ErrorCode::SignalNotOpen,
            message: format!("signal {signal} is {status}, not open"),
        }),
    }
}

/// The alerts a sample is evidence for once it has joined `joined`: those it was evidence for before (`known`), each
/// in its joined state if it was joined again, then the ones it newly joined; by id. Joining touches only the alerts
/// it joins, so nothing needs reading back.
pub fn after_joining(mut known: Vec<AlertRef>, joined: Vec<AlertRef>) -> Vec<AlertRef> {
    for j in joined {
        match known.iter_mut().find(|a| a.id == j.id) {
            Some(k) => *k = j,
            None => known.push(j),
        }
    }
    known.sort_by_key(|a| a.id);
    known
}

/// The events subscribers hear of: public alert events (published, updated, withdrawn), in order.
pub fn for_subscribers(events: &[Event]) -> Vec<&Event> {
    events.iter().filter(|e| e.public && varde_domain::subscription::ALERT_EVENTS.contains(&e.kind.as_str())).collect()
}

/// The alert messages the subscribers' fan-out queues, as (subscriber, event seq), event by event: to each confirmed
/// subscriber who wants the event's tier and area (`subscription::wanted`) and had confirmed by the time it happened
/// (nobody hears of what happened before they subscribed).
pub fn alert_messages(events: &[&Event], subscribers: &[Subscriber]) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    for event in events {
        for s in subscribers {
            let confirmed_before = s.confirmed_at.is_some_and(|c| c <= event.at);
            if confirmed_before
                && varde_domain::subscription::wanted(
                    s.preferences.min_tier,
                    &s.preferences.fylker,
                    event.tier,
                    &event.fylker,
                )
            {
                out.push((s.id, event.seq));
            }
        }
    }
    out
}

/// An audit entry a background job writes as Varde itself: (action, subject).
pub type JobEntry = (&'static str, String);

/// The audit entry for drafts archived because they had no new evidence since `before`; none when none were.
pub fn archived_entry(count: usize, before: Timestamp) -> Option<JobEntry> {
    (count > 0).then(|| ("alert.archive", format!("{count} drafts without evidence since {before}")))
}

/// The audit entry of a retention purge of what was received before `before`; none when it removed nothing.
pub fn purged_entry(purged: &Purged, before: Timestamp) -> Option<JobEntry> {
    let Purged { photos, sample_notes, concern_texts } = purged;
    (*purged != Purged::default()).then(|| {
        (
            "retention.purge",
            format!("before {before}: {photos} photos, {sample_notes} notes, {concern_texts} concern texts"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use varde_domain::Tier;
    use varde_domain::subscription::{Channel, Preferences};

    fn event(seq: i64, kind: &str, public: bool, tier: Tier, fylker: &[&str], at: Timestamp) -> Event {
        Event {
            seq,
            at,
            kind: kind.into(),
            public,
            tier: Some(tier),
            fylker: fylker.iter().map(|f| f.to_string()).collect(),
            alert_id: Some(1),
            payload: serde_json::Value::Null,
        }
    }

    fn subscriber(id: i64, min_tier: Tier, fylker: &[&str], confirmed_at: Option<Timestamp>) -> Subscriber {
        Subscriber {
            id,
            channel: Channel::Email,
            address: format!("s{id}@example.org"),
            push_keys: None,
            preferences: Preferences {
                fylker: fylker.iter().map(|f| f.to_string()).collect(),
                min_tier,
                lang: varde_domain::Lang::Nb,
            },
            nonce: "n".into(),
            created_at: Timestamp::UNIX_EPOCH,
            confirmed_at,
        }
    }

    #[test]
    fn fan_out_queues_public_alert_events_for_subscribers_who_want_them_and_had_confirmed() {
        let t = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        let events = vec![
            event(1, "alert.published", true, Tier::Severe, &["03"], t(10)),
            event(2, "sample.finding", false, Tier::Severe, &["03"], t(11)),
            event(3, "alert.drafted", false, Tier::Severe, &["03"], t(12)),
            event(4, "alert.updated", true, Tier::Caution, &["46"], t(13)),
            event(5, "alert.withdrawn", true, Tier::Warning, &[], t(14)),
        ];
        let wanted = for_subscribers(&events);
        assert_eq!(wanted.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 4, 5], "public alert events only");
        let subscribers = vec![
            subscriber(100, Tier::Warning, &["03"], Some(t(0))),
            subscriber(101, Tier::Caution, &[], Some(t(0))),
            subscriber(102, Tier::Info, &["46"], Some(t(13))),
            subscriber(103, Tier::Info, &[], Some(t(20))),
            subscriber(104, Tier::Info, &[], None),
        ];
        assert_eq!(
            alert_messages(&wanted, &subscribers),
            [(100, 1), (101, 1), (101, 4), (102, 4), (100, 5), (101, 5), (102, 5)],
            "by tier and area, national events to all, nothing from before confirmation or to the unconfirmed"
        );
    }

    #[test]
    fn a_sample_assessed_again_keeps_its_alerts_with_the_joined_one_updated_and_the_new_one_added() {
        use varde_domain::alert::AlertStatus;
        let r = |id, status, tier| AlertRef { id, status, tier };
        let known = vec![r(7, AlertStatus::Published, Tier::Caution), r(3, AlertStatus::Draft, Tier::Caution)];
        let joined = vec![r(9, AlertStatus::Draft, Tier::Warning), r(7, AlertStatus::Published, Tier::Severe)];
        assert_eq!(
            after_joining(known, joined),
            vec![
                r(3, AlertStatus::Draft, Tier::Caution),
                r(7, AlertStatus::Published, Tier::Severe),
                r(9, AlertStatus::Draft, Tier::Warning)
            ]
        );
    }

    #[test]
    fn the_jobs_audit_what_they_did_and_only_then() {
        let before: Timestamp = "2026-11-13T00:00:00Z".parse().unwrap();
        assert_eq!(archived_entry(0, before), None);
        assert_eq!(
            archived_entry(3, before),
            Some(("alert.archive", "3 drafts without evidence since 2026-11-13T00:00:00Z".to_owned()))
        );
        assert_eq!(purged_entry(&Purged::default(), before), None);
        let purged = Purged { photos: 2, sample_notes: 0, concern_texts: 1 };
        assert_eq!(
            purged_entry(&purged, before),
            Some(("retention.purge", "before 2026-11-13T00:00:00Z: 2 photos, 0 notes, 1 concern texts".to_owned()))
        );
    }
}
