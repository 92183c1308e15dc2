//! Varde's storage. [`Store`] is what the rest of Varde sees; [`sqlite::SqliteStore`] is the embedded default.
//!
//! Every write is one transaction: either all of a request is stored or none of it. Every write, and every
//! sample-level read by a national role, appends to the hash-chained audit log in the same transaction.

pub mod audit;
mod error;
pub mod sqlite;

pub use error::StoreError;

use async_trait::async_trait;
use jiff::Timestamp;
use varde_domain::SampleCode;
use varde_domain::auth::{Principal, Role};
use varde_domain::sample::{NewAnalysis, NewSample, Sample};
use varde_domain::service::{Service, ServiceSlug};

/// What a bearer token grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub id: i64,
    pub role: Role,
    pub service: Option<ServiceSlug>,
}

impl TokenGrant {
    pub fn principal(&self) -> Principal {
        Principal {
            actor: format!("token:{}", self.id),
            role: self.role,
            service: self.service.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewToken {
    /// SHA-256 of the secret; the secret itself is never stored.
    pub hash: [u8; 32],
    pub role: Role,
    pub service: Option<ServiceSlug>,
    pub label: Option<String>,
}

/// The result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    pub entries: u64,
    /// The first entry whose hash, link or sequence does not hold, with the reason.
    pub first_broken: Option<(i64, String)>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn add_service(
        &self,
        service: Service,
        actor: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    async fn services(&self) -> Result<Vec<Service>, StoreError>;
    async fn service(&self, slug: &ServiceSlug) -> Result<Option<Service>, StoreError>;

    async fn add_token(
        &self,
        token: NewToken,
        actor: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError>;
    /// The grant of a token that exists and is not revoked.
    async fn token(&self, hash: [u8; 32]) -> Result<Option<TokenGrant>, StoreError>;

    /// Stores a new sample under `code`. Fails with [`StoreError::CodeTaken`] if the code exists (the caller draws
    /// another) and [`StoreError::UnknownService`] if the service does not.
    async fn create_sample(
        &self,
        code: SampleCode,
        sample: NewSample,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Sample, StoreError>;
    /// Adds an analysis to a sample; with `amends`, the earlier analysis is kept but superseded.
    async fn add_analysis(
        &self,
        code: SampleCode,
        analysis: NewAnalysis,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Sample, StoreError>;
    /// Reads a sample without auditing: for its own service's technician and the public result look-up.
    async fn sample(&self, code: SampleCode) -> Result<Option<Sample>, StoreError>;
    /// Reads a sample for a national role, recording the read in the audit log.
    async fn sample_audited(
        &self,
        code: SampleCode,
        actor: &Principal,
        at: Timestamp,
    ) -> Result<Option<Sample>, StoreError>;
    async fn sample_count(&self) -> Result<u64, StoreError>;

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;

    async fn verify_audit(&self) -> Result<AuditReport, StoreError>;
}
