//! Services: the places where samples are checked. A sample's location is never finer than its service.

use crate::error::ErrorCode;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A service's short name in URLs and API bodies: lower-case letters, digits and hyphens, 2-48 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "oslo-brukerrom"))]
#[serde(transparent)]
pub struct ServiceSlug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a service slug has 2-48 lower-case letters (a-z), digits and single hyphens, not starting or ending with one")]
pub struct InvalidSlug;

impl ServiceSlug {
    pub fn parse(s: &str) -> Result<ServiceSlug, InvalidSlug> {
        let ok = (2..=48).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok { Ok(ServiceSlug(s.to_owned())) } else { Err(InvalidSlug) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServiceSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ServiceSlug {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ServiceSlug::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What kind of place a service is; analysts compare like with like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Brukerrom: supervised consumption room.
    UserRoom,
    /// Lavterskeltilbud: low-threshold health or social service.
    LowThreshold,
    Festival,
    /// Samples sent by post.
    Postal,
    Outreach,
    /// A forensic or clinical laboratory adding confirmations.
    Lab,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 6] = [
        ServiceKind::UserRoom,
        ServiceKind::LowThreshold,
        ServiceKind::Festival,
        ServiceKind::Postal,
        ServiceKind::Outreach,
        ServiceKind::Lab,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::UserRoom => "user_room",
            ServiceKind::LowThreshold => "low_threshold",
            ServiceKind::Festival => "festival",
            ServiceKind::Postal => "postal",
            ServiceKind::Outreach => "outreach",
            ServiceKind::Lab => "lab",
        }
    }

    pub fn parse(s: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A registered service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub slug: ServiceSlug,
    pub name: String,
    pub kind: ServiceKind,
    /// Four-digit kommunenummer (2024 structure).
    pub kommune: String,
    /// Two-digit fylkesnummer, derived from the kommune.
    pub fylke: String,
}

impl Service {
    /// A service whose slug, kind and kommune are valid; the fylke comes from the kommune.
    pub fn new(
        slug: &str,
        name: &str,
        kind: &str,
        kommune: &str,
        geography: &crate::Geography,
    ) -> Result<Service, crate::error::InvalidInput> {
        let bad = |field: &str, message: String| crate::error::InvalidInput {
            code: ErrorCode::InvalidValue,
            field: field.into(),
            message,
        };
        let slug = ServiceSlug::parse(slug).map_err(|e| bad("slug", e.to_string()))?;
        let kind = ServiceKind::parse(kind).ok_or_else(|| {
            bad(
                "kind",
                format!("unknown kind '{kind}': use user_room, low_threshold, festival, postal, outreach or lab"),
            )
        })?;
        let k = geography.kommune(kommune.trim()).ok_or_else(|| {
            bad(
                "kommune",
                format!("'{kommune}' is not a kommunenummer in Norway's 2024 structure (e.g. 0301 Oslo, 4601 Bergen)"),
            )
        })?;
        // A service's name is public (pages, feeds): free text, checked like every other.
        let name = crate::personal_data::check_text("name", Some(name), 120)?
            .ok_or_else(|| bad("name", "a service needs a name of at most 120 characters".into()))?;
        Ok(Service { slug, name, kind, kommune: k.number.clone(), fylke: k.fylke.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(ServiceSlug::parse("oslo-brukerrom").is_ok());
        for bad in ["", "a", "Oslo", "oslo--x", "-oslo", "oslo-", "oslo brukerrom", "øst"] {
            assert!(ServiceSlug::parse(bad).is_err(), "{bad}");
        }
    }
}
