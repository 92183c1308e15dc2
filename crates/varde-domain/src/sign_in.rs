//! Who may sign in through an organisation's identity provider (HelseID, ID-porten, Microsoft Entra ID), and as
//! what: rules an admin keeps, each naming an issuer, a claim and its value, and the role (and for a technician the
//! service) a person whose ID token carries that value gets. A person no rule names is refused, and nothing is made
//! for them: the provider says who someone is, Varde's admin says what they may do here.

use crate::auth::Role;
use crate::personal_data::{self, PersonalData};
use crate::service::ServiceSlug;
use crate::{ErrorCode, InvalidInput};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The longest claim name (HelseID's are URIs such as `helseid://claims/client/claims/orgnr_parent`).
pub const MAX_CLAIM_CHARS: usize = 200;
/// The longest value a rule compares with.
pub const MAX_VALUE_CHARS: usize = 200;

/// A rule as an admin wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSignInRule {
    /// The configured issuer's name, as in `/login/oidc/{issuer}` (e.g. `helseid`).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[a-z0-9-]{1,32}$", min_length = 1, max_length = 32))]
    pub issuer: String,
    /// The ID token's claim, e.g. `groups`, `orgnr` or `helseid://claims/client/claims/orgnr_parent`.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub claim: String,
    /// The value it must have, or hold when it is a list (a group's id among `groups`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub value: String,
    pub role: Role,
    /// A technician's service; none for the national roles.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", min_length = 2, max_length = 48)
    )]
    pub service: Option<ServiceSlug>,
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInRule {
    pub id: i64,
    pub rule: NewSignInRule,
}

/// An issuer's name: 1-32 lowercase letters, digits and hyphens, as it appears in addresses.
pub fn check_issuer_name(name: &str) -> Result<(), InvalidInput> {
    let ok = (1..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok { Ok(()) } else { Err(InvalidInput::invalid("issuer", "an issuer's name has 1-32 of a-z, 0-9 and '-'")) }
}

impl NewSignInRule {
    /// Checks a rule as an admin wrote it: names and values of sensible length, and a service exactly when the role
    /// is technician (a technician works at one service; a national role at none).
    pub fn check(self) -> Result<NewSignInRule, InvalidInput> {
        check_issuer_name(&self.issuer)?;
        for (field, text, max) in [("claim", &self.claim, MAX_CLAIM_CHARS), ("value", &self.value, MAX_VALUE_CHARS)] {
            if text.trim().is_empty() || text.chars().count() > max || text.chars().any(char::is_control) {
                return Err(InvalidInput::invalid(field, format!("a rule's {field} has 1-{max} characters")));
            }
        }
        // A rule names a group, an organisation or a provider's pseudonymous subject, never a person by their national
        // identity number (ID-porten's and HelseID's `pid`) or e-mail address: rules are kept and listed, and Varde
        // keeps no personal data it can do without.
        if let Some(kind @ (PersonalData::NationalIdNumber | PersonalData::EmailAddress)) =
            personal_data::find(&self.value)
        {
            let message = format!(
                "a rule's value may not be {}: name a group, an app role, an organisation or the provider's `sub`",
                kind.describe()
            );
            return Err(InvalidInput::new(ErrorCode::PersonalDataRefused, "value", message));
        }
        match (self.role, &self.service) {
            (Role::Technician, None) => {
                Err(InvalidInput::invalid("service", "a rule that makes technicians names their service"))
            }
            (Role::Reviewer | Role::Admin, Some(_)) => {
                Err(InvalidInput::invalid("service", "reviewers and admins are national and belong to no service"))
            }
            _ => Ok(self),
        }
    }
}

/// Whether the claims carry `claim` with `value`: equal to it, or holding it when the claim is a list. Numbers and
/// booleans compare as written (an organisation number may come as either a string or a number).
pub fn carries(claims: &Map<String, Value>, claim: &str, value: &str) -> bool {
    fn is(v: &Value, value: &str) -> bool {
        match v {
            Value::String(s) => s == value,
            Value::Number(n) => n.to_string() == value,
            Value::Bool(b) => b.to_string() == value,
            _ => false,
        }
    }
    match claims.get(claim) {
        Some(Value::Array(items)) => items.iter().any(|v| is(v, value)),
        Some(v) => is(v, value),
        None => false,
    }
}

/// The rule a person signing in at `issuer` with these claims gets: of the rules that match, the one with the
/// widest role (a person both in a service's group and in the reviewers' group reviews), and of those the oldest,
/// so the answer does not depend on the order rules are read in. None when no rule matches.
pub fn rule_for<'r>(rules: &'r [SignInRule], issuer: &str, claims: &Map<String, Value>) -> Option<&'r SignInRule> {
    let rank = |r: Role| match r {
        Role::Technician => 0,
        Role::Reviewer => 1,
        Role::Admin => 2,
    };
    rules
        .iter()
        .filter(|r| r.rule.issuer == issuer && carries(claims, &r.rule.claim, &r.rule.value))
        .max_by(|a, b| rank(a.rule.role).cmp(&rank(b.rule.role)).then(b.id.cmp(&a.id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(id: i64, issuer: &str, claim: &str, value: &str, role: Role, service: Option<&str>) -> SignInRule {
        let service = service.map(|s| ServiceSlug::parse(s).unwrap());
        let rule = NewSignInRule { issuer: issuer.into(), claim: claim.into(), value: value.into(), role, service };
        SignInRule { id, rule }
    }

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_claim_matches_by_value_or_membership_and_numbers_as_written() {
        let c = claims(json!({"groups": ["a", "b"], "orgnr": 974589095, "role": "x", "flag": true, "o": {"a": 1}}));
        assert!(carries(&c, "groups", "b"));
        assert!(!carries(&c, "groups", "c"));
        assert!(carries(&c, "orgnr", "974589095"));
        assert!(carries(&c, "role", "x"));
        assert!(carries(&c, "flag", "true"));
        assert!(!carries(&c, "o", "a"), "an object is not a value");
        assert!(!carries(&c, "missing", "x"));
        assert!(!carries(&c, "role", "X"), "values are compared exactly");
    }

    #[test]
    fn the_widest_role_wins_then_the_oldest_rule_and_other_issuers_rules_never_apply() {
        let rules = vec![
            rule(1, "entra", "groups", "tech", Role::Technician, Some("oslo-brukerrom")),
            rule(2, "entra", "groups", "rev", Role::Reviewer, None),
            rule(3, "entra", "groups", "rev2", Role::Reviewer, None),
            rule(4, "helseid", "groups", "adm", Role::Admin, None),
        ];
        let c = claims(json!({"groups": ["tech", "rev2", "rev", "adm"]}));
        assert_eq!(rule_for(&rules, "entra", &c).map(|r| r.id), Some(2));
        let tech = claims(json!({"groups": ["tech"]}));
        assert_eq!(rule_for(&rules, "entra", &tech).map(|r| r.id), Some(1));
        assert_eq!(rule_for(&rules, "helseid", &tech), None);
        assert_eq!(rule_for(&rules, "idporten", &c), None);
    }

    #[test]
    fn a_rule_names_a_service_exactly_when_it_makes_technicians() {
        let new = |role, service: Option<&str>| NewSignInRule {
            issuer: "entra".into(),
            claim: "groups".into(),
            value: "g".into(),
            role,
            service: service.map(|s| ServiceSlug::parse(s).unwrap()),
        };
        assert!(new(Role::Technician, Some("oslo")).check().is_ok());
        assert!(new(Role::Technician, None).check().is_err());
        assert!(new(Role::Reviewer, Some("oslo")).check().is_err());
        assert!(new(Role::Admin, None).check().is_ok());
        let mut bad = new(Role::Admin, None);
        bad.issuer = "Entra ID".into();
        assert!(bad.check().is_err());
        let mut empty = new(Role::Admin, None);
        empty.value = " ".into();
        assert_eq!(empty.check().unwrap_err().field, "value");
        // A person by their fødselsnummer or e-mail address: refused. An organisation number or an HPR number is not
        // a person's secret and passes.
        for (value, ok) in
            [("01017012345", true), ("15076500565", false), ("kari@kommune.no", false), ("974589095", true)]
        {
            let mut rule = new(Role::Reviewer, None);
            rule.value = value.into();
            let checked = rule.check();
            assert_eq!(checked.is_ok(), ok, "{value}: {checked:?}");
            if !ok {
                assert_eq!(checked.unwrap_err().code, ErrorCode::PersonalDataRefused);
            }
        }
    }
}
