//! The use cases of checking: registering a sample and recording an analysis. The JSON API and the technicians'
//! pages both call these, so both validate, check the service, retry a taken code, and count registrations and
//! refusals (by error code, for `/metrics`) the same way; they differ only in how they answer.

use crate::AppState;
use crate::config::check::CODE_TRIES;
use crate::http::error::ApiError;
use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::auth::Principal;
use varde_domain::sample::{AnalysisInput, SampleInput};
use varde_store::{StoreError, StoredSample};

/// Counts a refusal by its code and hands it on.
pub fn refused(state: &AppState, e: ApiError) -> ApiError {
    state
        .metrics
        .refusals
        .get_or_create(&crate::http::metrics::CodeLabel { code: e.body.error.as_str().to_owned() })
        .inc();
    e
}

/// Registers a sample for `who` (a technician of its service): validated, stored with a fresh code, assessed.
pub async fn register(state: &AppState, who: &Principal, input: SampleInput) -> Result<StoredSample, ApiError> {
    let now = Timestamp::now();
    let sample = input.validate(&state.assessor.catalogue, now).map_err(|e| refused(state, e.into()))?;
    check_service(who, &sample.service).map_err(|e| refused(state, e))?;
    let mut tries = 1;
    let stored = loop {
        // Drawn in its own statement: the thread's random source must not live across an await.
        let code = SampleCode::generate(&mut rand::rng());
        match state.app.create_sample(code, sample.clone(), who, now).await {
            Err(StoreError::CodeTaken) if tries < CODE_TRIES => tries += 1,
            other => break other.map_err(|e| refused(state, e.into()))?,
        }
    };
    state.metrics.samples_registered.inc();
    Ok(stored)
}

/// Adds an analysis (or, with `amends`, a corrected one) to a sample `who` may work on, already read as `current`.
pub async fn record_analysis(
    state: &AppState,
    who: &Principal,
    current: &StoredSample,
    input: AnalysisInput,
) -> Result<StoredSample, ApiError> {
    let now = Timestamp::now();
    let analysis = input.validate("", current.sample.form, &state.assessor.catalogue, now).map_err(|mut e| {
        e.field = e.field.trim_start_matches('.').to_owned();
        refused(state, e.into())
    })?;
    let stored =
        state.app.add_analysis(current.sample.code, analysis, who, now).await.map_err(|e| refused(state, e.into()))?;
    state.metrics.analyses_recorded.inc();
    Ok(stored)
}

/// Whether `who` may register at `service`: 403 `technician_only` for national roles, `wrong_service` for another
/// service's technician.
pub(crate) fn check_service(who: &Principal, service: &varde_domain::service::ServiceSlug) -> Result<(), ApiError> {
    who.may_register_at(service).map_err(|code| match code {
        varde_domain::ErrorCode::WrongService => {
            ApiError::new(code, format!("this token belongs to another service than '{service}'"))
        }
        _ => ApiError::new(code, "only the service's technicians register samples, analyses and user-room counts"),
    })
}
