//! Subscriptions: people who asked for warnings by e-mail or web push, without an account. A subscriber's address is
//! personal data: it is kept apart from everything about samples, never exported, never written to the audit log,
//! and deleted on request, on one click, or (unconfirmed) after [`UNCONFIRMED_HOURS`].

use crate::{Lang, Tier};
use serde::{Deserialize, Serialize};

/// How a warning reaches a subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Push,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Push => "push",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        [Channel::Email, Channel::Push].into_iter().find(|c| c.as_str() == s)
    }
}

/// An e-mail request not confirmed within this many hours is deleted.
pub const UNCONFIRMED_HOURS: i64 = 48;

/// The events that go to subscribers: a warning made public, changed, or taken back.
pub const ALERT_EVENTS: [&str; 3] = ["alert.published", "alert.updated", "alert.withdrawn"];

/// What a subscriber asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    /// Two-digit fylkesnummer; empty: the whole country.
    pub fylker: Vec<String>,
    pub min_tier: Tier,
    pub lang: Lang,
}

/// Whether a public event of `tier` about `fylker` goes to someone who asked for `min_tier` in `wanted_fylker`.
/// National events (no fylke) go to everyone; a subscriber of the whole country (no fylke) gets every area.
/// Webhook subscribers follow the same rule.
pub fn wanted(min_tier: Tier, wanted_fylker: &[String], tier: Option<Tier>, fylker: &[String]) -> bool {
    tier.is_some_and(|t| t >= min_tier)
        && (wanted_fylker.is_empty() || fylker.is_empty() || fylker.iter().any(|f| wanted_fylker.contains(f)))
}

/// Back-off for a message the receiving server did not take: 30 s, 1 min, 2 min, … capped at one hour; after
/// [`GIVE_UP_AFTER`] attempts (about a day) the message is dropped.
pub fn retry_after_seconds(attempts: u32) -> i64 {
    (30i64 << attempts.saturating_sub(1).min(7)).min(3600)
}

pub const GIVE_UP_AFTER: u32 = 30;

#[cfg(test)]
mod tests {
    use super::*;

    fn f(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn area_and_tier_decide_who_hears_of_an_event() {
        let oslo = f(&["03"]);
        assert!(wanted(Tier::Warning, &oslo, Some(Tier::Severe), &f(&["03", "46"])));
        assert!(wanted(Tier::Warning, &oslo, Some(Tier::Warning), &[]), "national events go to every area");
        assert!(wanted(Tier::Warning, &[], Some(Tier::Warning), &f(&["46"])), "the whole country hears of every area");
        assert!(!wanted(Tier::Warning, &oslo, Some(Tier::Severe), &f(&["46"])));
        assert!(!wanted(Tier::Severe, &oslo, Some(Tier::Warning), &oslo));
        assert!(!wanted(Tier::Info, &oslo, None, &oslo), "events without a tier are not warnings");
    }

    #[test]
    fn retries_back_off_to_an_hour_and_stop_after_about_a_day() {
        let waits: Vec<i64> = (1..=9).map(retry_after_seconds).collect();
        assert_eq!(waits, vec![30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        let total: i64 = (1..GIVE_UP_AFTER).map(retry_after_seconds).sum();
        assert!((20 * 3600..=30 * 3600).contains(&total), "{total}");
        assert_eq!(Channel::parse("push"), Some(Channel::Push));
        assert_eq!(Channel::parse("sms"), None);
    }
}
