//! The use cases of administration: services and their escalation addresses, API tokens, users and passwords.

use jiff::Timestamp;
use varde_domain::ErrorCode;
use varde_domain::auth::Role;
use varde_domain::service::{Service, ServiceSlug};
use varde_store::port::{Administration, Transaction};
use varde_store::{NewToken, StoreError};

/// The id of the service a token or a user belongs to, if any; [`StoreError::UnknownService`] when it does not exist.
pub(crate) async fn service_of<T: Transaction>(tx: &T, service: Option<&ServiceSlug>) -> Result<Option<i64>, T::Error> {
    match service {
        Some(slug) => Ok(Some(tx.service_id(slug.as_str()).await?)),
        None => Ok(None),
    }
}

/// Adds a service (audited); a slug that exists is a conflict.
pub async fn add_service<T: Administration>(
    tx: &T,
    service: &Service,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    if !tx.insert_service(service, at).await? {
        return Err(StoreError::Conflict(format!("a service with slug '{}' exists", service.slug)).into());
    }
    tx.audit(at, actor, "service.add", service.slug.as_str()).await
}

/// Issues an API token (audited with its role, never its hash); its id.
pub async fn add_token<T: Administration>(
    tx: &T,
    token: &NewToken,
    actor: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let service = service_of(tx, token.service.as_ref()).await?;
    let id = tx.insert_token(token, service, at).await?;
    let scope = if token.read_only { "read" } else { "read-write" };
    let expires = token.expires.map_or_else(|| "never".to_owned(), |t| t.to_string());
    let detail = format!("token:{id} role:{} scope:{scope} expires:{expires}", token.role.as_str());
    tx.audit(at, actor, "token.issue", &detail).await?;
    Ok(id)
}

/// Revokes a live token (audited).
pub async fn revoke_token<T: Administration>(tx: &T, id: i64, actor: &str, at: Timestamp) -> Result<(), T::Error> {
    if !tx.revoke_token(id, at).await? {
        let message = format!("there is no live token {id}");
        return Err(StoreError::Invalid { code: ErrorCode::UnknownToken, message }.into());
    }
    tx.audit(at, actor, "token.revoke", &format!("token:{id}")).await
}

/// Adds a user (audited with their role); a name that exists is a conflict. Its id.
pub async fn add_user<T: Administration>(
    tx: &T,
    username: &str,
    password_hash: &str,
    role: Role,
    service: Option<&ServiceSlug>,
    actor: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let service = service_of(tx, service).await?;
    let id = tx
        .insert_user(username, password_hash, role, service, at)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("a user named '{username}' exists")))?;
    tx.audit(at, actor, "user.add", &format!("user:{id} role:{}", role.as_str())).await?;
    Ok(id)
}

/// The id of the user named `username`; `NotFound` when there is none.
pub(crate) async fn user_named<T: Administration>(tx: &T, username: &str) -> Result<i64, T::Error> {
    let found = tx.user_id(username).await?;
    Ok(found
        .ok_or_else(|| StoreError::Invalid { code: ErrorCode::NotFound, message: format!("no user '{username}'") })?)
}

/// Sets a user's password (audited); a new password ends every session the old one opened.
pub async fn set_password<T: Administration>(
    tx: &T,
    username: &str,
    password_hash: &str,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    let id = user_named(tx, username).await?;
    tx.set_password_hash(id, password_hash).await?;
    tx.end_sessions(id).await?;
    tx.audit(at, actor, "user.password", &format!("user:{id}")).await
}

/// An admin ends every session of a user (a lost tablet, someone who left): audited as `session.end.all`.
pub async fn end_user_sessions<T: Administration>(
    tx: &T,
    username: &str,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    let id = user_named(tx, username).await?;
    tx.end_sessions(id).await?;
    tx.audit(at, actor, "session.end.all", &format!("user:{id}")).await
}

/// Sets or clears a service's address for escalations (audited).
pub async fn set_service_contact<T: Administration>(
    tx: &T,
    service: &ServiceSlug,
    email: Option<&str>,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    if !tx.set_contact(service.as_str(), email).await? {
        return Err(StoreError::UnknownService(service.to_string()).into());
    }
    tx.audit(at, actor, "service.contact", service.as_str()).await
}
