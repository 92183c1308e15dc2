//! What a result changes: the evaluation health authorities ask of drug checking. When a result is handed back the
//! technician may record what the person says they will do; later the person may say, with their code, what
//! happened. Both come from fixed lists (never free text), are optional and anonymous, and belong to the sample
//! alone. Counted by tier and substance class, with small counts suppressed.

use crate::error::InvalidInput;
use serde::{Deserialize, Serialize};

macro_rules! fixed_list {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vdoc])* $variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code,)* }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}

fixed_list! {
    /// What the person says they will do with the sample when the result is handed back.
    Intention {
        AsPlanned = "as_planned",
        TakeLess = "take_less",
        NotUse = "not_use",
        /// Have it tested by a laboratory first.
        LabTest = "lab_test",
        NotStated = "not_stated",
    }
}

fixed_list! {
    /// How the effects compared with what the person expected, when they used it.
    Effect {
        AsExpected = "as_expected",
        Stronger = "stronger",
        Weaker = "weaker",
        Unexpected = "unexpected",
    }
}

fixed_list! {
    /// Unexpected effects a person can name (the list harm-reduction services ask about).
    UnexpectedEffect {
        /// Very drowsy, hard to wake.
        Sedation = "sedation",
        BreathingProblems = "breathing_problems",
        Agitation = "agitation",
        Overheating = "overheating",
        Nausea = "nausea",
        Other = "other",
    }
}

/// What happened, as the person tells it on the result page. (In the API document `WhatHappened`: a sample's
/// analysis outcome is `Outcome` there.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = WhatHappened))]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    /// Whether they used the sample's drug.
    pub used: bool,
    /// Required when used; absent when not.
    #[serde(default)]
    pub effect: Option<Effect>,
    /// Only with `effect: unexpected`, and then at least one.
    #[serde(default)]
    pub unexpected: Vec<UnexpectedEffect>,
}

impl Outcome {
    /// Answers that contradict themselves are refused, naming the field.
    pub fn check(&self) -> Result<(), InvalidInput> {
        match (self.used, self.effect) {
            (false, Some(_)) => {
                Err(InvalidInput::invalid("effect", "there are no effects to tell of an unused sample"))
            }
            (true, None) => Err(InvalidInput::invalid("effect", "say how the effects were")),
            (_, Some(Effect::Unexpected)) if self.unexpected.is_empty() => {
                Err(InvalidInput::invalid("unexpected", "name at least one unexpected effect"))
            }
            (_, effect) if effect != Some(Effect::Unexpected) && !self.unexpected.is_empty() => {
                Err(InvalidInput::invalid("unexpected", "unexpected effects go with effect: unexpected"))
            }
            _ => Ok(()),
        }
    }

    /// One word for counting: `did_not_use` or the effect.
    pub fn kind(&self) -> &'static str {
        if self.used { self.effect.map_or("used", Effect::as_str) } else { "did_not_use" }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_must_agree_with_themselves() {
        let ok = |used, effect, unexpected: Vec<UnexpectedEffect>| Outcome { used, effect, unexpected }.check();
        assert!(ok(false, None, vec![]).is_ok());
        assert!(ok(true, Some(Effect::Stronger), vec![]).is_ok());
        assert!(ok(true, Some(Effect::Unexpected), vec![UnexpectedEffect::BreathingProblems]).is_ok());
        assert_eq!(ok(false, Some(Effect::Weaker), vec![]).unwrap_err().field, "effect");
        assert_eq!(ok(true, None, vec![]).unwrap_err().field, "effect");
        assert_eq!(ok(true, Some(Effect::Unexpected), vec![]).unwrap_err().field, "unexpected");
        assert_eq!(ok(true, Some(Effect::AsExpected), vec![UnexpectedEffect::Nausea]).unwrap_err().field, "unexpected");
        assert_eq!(Outcome { used: false, effect: None, unexpected: vec![] }.kind(), "did_not_use");
        assert_eq!(Intention::parse("not_use"), Some(Intention::NotUse));
        assert_eq!(Intention::parse("maybe"), None);
        let parsed: Result<Outcome, _> = serde_json::from_str(r#"{"used": true, "effect": "euphoric"}"#);
        assert!(parsed.is_err(), "only the fixed list");
    }
}
