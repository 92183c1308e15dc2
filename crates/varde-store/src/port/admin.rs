//! The rows administration writes: services, tokens, users.

use super::Transaction;
use crate::NewToken;
use jiff::Timestamp;
use varde_domain::auth::Role;
use varde_domain::service::Service;

/// What administration writes besides [`Transaction`]'s rows.
pub trait Administration: Transaction {
    /// Stores a service; false when one with its slug exists.
    fn insert_service(
        &self,
        service: &Service,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Stores a token (its hash only) for the service with id `service`, if any; its id.
    fn insert_token(
        &self,
        token: &NewToken,
        service: Option<i64>,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Revokes token `id`; false when there is no live token with that id.
    fn revoke_token(&self, id: i64, at: Timestamp) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Stores a user; its id, or none when one with that name exists.
    fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        service: Option<i64>,
        at: Timestamp,
    ) -> impl Future<Output = Result<Option<i64>, Self::Error>> + Send;
    fn user_id(&self, username: &str) -> impl Future<Output = Result<Option<i64>, Self::Error>> + Send;
    fn set_password_hash(&self, user: i64, password_hash: &str)
    -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Ends every session of user `user`.
    fn end_sessions(&self, user: i64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Sets or clears the escalation address of the service with `slug`; false when there is no such service.
    fn set_contact(&self, slug: &str, email: Option<&str>) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}
