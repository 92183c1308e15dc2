//! Samples for unit tests, built the way the risk policy and drafting read them.

use crate::catalogue::Catalogue;
use crate::code::SampleCode;
use crate::method::Method;
use crate::sample::{Amount, Analysis, AnalysisResult, Component, ComponentRole, Form, Outcome, Sample, Status};
use crate::service::ServiceSlug;
use jiff::Timestamp;

/// An analysis as a test writes it.
pub enum A {
    /// Components found by a method: (name, amount per unit in mg or percent), all main components.
    Found(Method, Vec<(&'static str, Option<Amount>)>),
    Strip(Method, AnalysisResult),
    Unsure(Method),
}

/// A sample received at `at` (RFC 3339), sold as `sold_as`, with these analyses, at `oslo-brukerrom`.
pub fn sample(catalogue: &Catalogue, at: &str, sold_as: &[&str], form: Form, analyses: Vec<A>) -> Sample {
    let t: Timestamp = at.parse().expect("a test time");
    let analyses = analyses
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let (method, outcome) = match a {
                A::Found(m, cs) => (
                    m,
                    Outcome::Components {
                        components: cs
                            .into_iter()
                            .map(|(n, amount)| Component {
                                substance: catalogue.resolve(n),
                                role: ComponentRole::Main,
                                amount,
                                confidence: None,
                            })
                            .collect(),
                        inconclusive: false,
                    },
                ),
                A::Strip(m, r) => (m, Outcome::Strip { result: r }),
                A::Unsure(m) => (m, Outcome::Components { components: vec![], inconclusive: true }),
            };
            Analysis {
                id: i as i64 + 1,
                method,
                performed_at: t,
                recorded_at: t,
                outcome,
                amends: None,
                superseded_by: None,
            }
        })
        .collect::<Vec<_>>();
    Sample {
        code: SampleCode::parse("0000-0000-0000").expect("a valid code"),
        service: ServiceSlug::parse("oslo-brukerrom").expect("a valid slug"),
        received_at: t,
        registered_at: t,
        status: Status::of(&analyses),
        sold_as: sold_as.iter().map(|n| catalogue.resolve(n)).collect(),
        form,
        colour: None,
        texture: None,
        notes: None,
        tablet: None,
        use_context: None,
        analyses,
    }
}
