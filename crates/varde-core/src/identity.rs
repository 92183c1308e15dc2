//! Who a person is when they log in: logins' second step (a one-time code from an authenticator app or a recovery
//! code, enrolling one, an admin's reset), the audit entry of a wrong password, and signing in through an
//! organisation's identity provider under the sign-in rules an admin keeps. The codes and ID tokens themselves are
//! checked at the HTTP edge (`varde_http::second_factor` and `varde_http::oidc`, which know the secrets, the keys
//! and the clock); these use cases decide what is written and audited, once for both backends.

use crate::admin::{service_of, user_named};
use jiff::Timestamp;
use serde_json::{Map, Value};
use varde_domain::ErrorCode;
use varde_domain::auth::Role;
use varde_domain::sign_in::{self, NewSignInRule, SignInRule};
use varde_store::port::Administration;
use varde_store::{StoreError, StoredPasskey};

/// The password hash of a user made by a first sign-in through a provider: not a PHC string, so no password
/// matches it; they sign in where their organisation vouches for them.
pub const NO_PASSWORD: &str = "!";

/// How a session passed the second factor, as audited.
const BY_APP: &str = "totp";
const BY_RECOVERY_CODE: &str = "recovery_code";
const BY_PASSKEY: &str = "passkey";

/// Passes the session with hash `session` (user `user`) with the app's code for time step `step` (each step once)
/// or, failing that, the recovery code with hash `recovery` (each once). Audited either way: `login.second_factor`
/// with how, or `login.second_factor_failed`. True when it passed.
pub async fn pass_second_factor<T: Administration>(
    tx: &T,
    session: [u8; 32],
    user: i64,
    step: Option<i64>,
    recovery: [u8; 32],
    at: Timestamp,
) -> Result<bool, T::Error> {
    let how = match step {
        Some(step) if tx.accept_totp_step(user, step).await? => Some(BY_APP),
        _ if tx.use_recovery_code(user, recovery, at).await? => Some(BY_RECOVERY_CODE),
        _ => None,
    };
    let actor = format!("user:{user}");
    match how {
        Some(how) => {
            tx.verify_session(session).await?;
            tx.audit(at, &actor, "login.second_factor", how).await?;
        }
        None => second_factor_refused(tx, user, at).await?,
    }
    Ok(how.is_some())
}

/// Enrols user `user`'s TOTP `secret` (its first code, for time step `step`, was right) with new recovery codes
/// (their hashes), replacing any earlier ones, and passes the session with hash `session`; audited as
/// `second_factor.enrol` and `login.second_factor`.
pub async fn enrol_totp<T: Administration>(
    tx: &T,
    session: [u8; 32],
    user: i64,
    secret: &str,
    recovery: &[[u8; 32]],
    step: i64,
    at: Timestamp,
) -> Result<(), T::Error> {
    tx.set_totp(user, Some(secret)).await?;
    tx.replace_recovery_codes(user, recovery).await?;
    tx.accept_totp_step(user, step).await?;
    tx.verify_session(session).await?;
    let actor = format!("user:{user}");
    tx.audit(at, &actor, "second_factor.enrol", BY_APP).await?;
    tx.audit(at, &actor, "login.second_factor", BY_APP).await
}

/// Removes `username`'s second factor (secret and recovery codes), for someone who lost both phone and codes; they
/// enrol again at the next login. Audited as `second_factor.reset` by `actor`; `NotFound` for an unknown user.
pub async fn reset_second_factor<T: Administration>(
    tx: &T,
    username: &str,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    let user = user_named(tx, username).await?;
    tx.set_totp(user, None).await?;
    tx.replace_recovery_codes(user, &[]).await?;
    tx.audit(at, actor, "second_factor.reset", &format!("user:{user}")).await
}

/// A wrong password for user `user` (an existing account; nothing is written for a name nobody has, which may be a
/// password typed in the wrong field), audited as `login.failed`.
pub async fn login_failed<T: Administration>(tx: &T, user: i64, at: Timestamp) -> Result<(), T::Error> {
    tx.audit(at, &format!("user:{user}"), "login.failed", "password").await
}

/// A second factor refused before any code was tried (the login is locked) or a wrong first code at enrolment,
/// audited as `login.second_factor_failed`.
pub async fn second_factor_refused<T: Administration>(tx: &T, user: i64, at: Timestamp) -> Result<(), T::Error> {
    tx.audit(at, &format!("user:{user}"), "login.second_factor_failed", "code").await
}

/// A person an identity provider vouched for, in an ID token Varde verified: the configured issuer's name, its
/// subject for them, the username Varde gives them at a first sign-in, and the token's claims.
#[derive(Debug, Clone)]
pub struct Vouched {
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub claims: Map<String, Value>,
}

/// Why a sign-in through a provider was refused, as audited (`login.refused`, actor `oidc:ISSUER`).
pub const REFUSED_NO_RULE: &str = "no_rule";
pub const REFUSED_DISABLED: &str = "disabled";

/// A person the provider `issuer` vouched for as `subject` (in an ID token Varde verified), with `claims`, signs in.
/// The rule that names them ([`sign_in::rule_for`]) gives their role and service: at the first sign-in a user
/// `username` is made with it (no password) and linked to the subject; later it is brought in line with the rules as
/// they are now (an admin's change of a rule, or the person's move to another group, takes effect at the next
/// sign-in), audited as `user.role`. Their user id and role, or none when no rule names them or an admin disabled
/// them (audited as `login.refused`; nothing else is written).
pub async fn sign_in<T: Administration>(
    tx: &T,
    issuer: &str,
    subject: &str,
    username: &str,
    claims: &Map<String, Value>,
    at: Timestamp,
) -> Result<Option<(i64, Role)>, T::Error> {
    let rules = tx.sign_in_rules().await?;
    let Some(rule) = sign_in::rule_for(&rules, issuer, claims) else {
        sign_in_refused(tx, issuer, REFUSED_NO_RULE, at).await?;
        return Ok(None);
    };
    let (id, role, service) = (rule.id, rule.rule.role, rule.rule.service.clone());
    let service_id = service_of(tx, service.as_ref()).await?;
    let user = match tx.linked_user(issuer, subject).await? {
        Some(user) if user.disabled => {
            sign_in_refused(tx, issuer, REFUSED_DISABLED, at).await?;
            return Ok(None);
        }
        Some(user) => {
            if user.role != role || user.service != service {
                tx.set_role(user.id, role, service_id).await?;
                let detail = format!("user:{} role:{} rule:{id}", user.id, role.as_str());
                tx.audit(at, &format!("oidc:{issuer}"), "user.role", &detail).await?;
            }
            user.id
        }
        None => {
            let user = tx
                .insert_user(username, NO_PASSWORD, role, service_id, at)
                .await?
                .ok_or_else(|| StoreError::Conflict(format!("a user named '{username}' exists")))?;
            tx.link_identity(issuer, subject, user, at).await?;
            let detail = format!("user:{user} role:{} rule:{id}", role.as_str());
            tx.audit(at, &format!("oidc:{issuer}"), "user.add", &detail).await?;
            user
        }
    };
    tx.audit(at, &format!("user:{user}"), "login.oidc", &format!("issuer:{issuer} rule:{id}")).await?;
    Ok(Some((user, role)))
}

/// A sign-in through `issuer` refused for `reason` (a stable word: `state`, `code`, `token`, `no_rule`, …), audited
/// as `login.refused`. Nothing else is written: no user, no session.
pub async fn sign_in_refused<T: Administration>(
    tx: &T,
    issuer: &str,
    reason: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    tx.audit(at, &format!("oidc:{issuer}"), "login.refused", reason).await
}

/// Every sign-in rule, oldest first.
pub async fn sign_in_rules<T: Administration>(tx: &T) -> Result<Vec<SignInRule>, T::Error> {
    tx.sign_in_rules().await
}

/// Adds a sign-in rule (checked; audited as `sign_in_rule.add`); its id. An unknown service is refused.
pub async fn add_sign_in_rule<T: Administration>(
    tx: &T,
    rule: NewSignInRule,
    actor: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let rule = rule.check().map_err(StoreError::Input)?;
    let service = service_of(tx, rule.service.as_ref()).await?;
    let id = tx.insert_sign_in_rule(&rule, service, at).await?;
    let detail = format!("rule:{id} issuer:{} role:{}", rule.issuer, rule.role.as_str());
    tx.audit(at, actor, "sign_in_rule.add", &detail).await?;
    Ok(id)
}

/// Removes sign-in rule `id` (audited as `sign_in_rule.remove`); `not_found` when there is none. Who signed in
/// under it keeps their sessions until they end; their next sign-in needs another rule.
pub async fn remove_sign_in_rule<T: Administration>(
    tx: &T,
    id: i64,
    actor: &str,
    at: Timestamp,
) -> Result<(), T::Error> {
    if !tx.delete_sign_in_rule(id).await? {
        let message = format!("there is no sign-in rule {id}");
        return Err(StoreError::Invalid { code: ErrorCode::NotFound, message }.into());
    }
    tx.audit(at, actor, "sign_in_rule.remove", &format!("rule:{id}")).await
}

/// User `user`'s passkeys, oldest first.
pub async fn passkeys<T: Administration>(tx: &T, user: i64) -> Result<Vec<StoredPasskey>, T::Error> {
    tx.passkeys_of(user).await
}

/// Adds a passkey user `user` made (its credential verified at the edge by webauthn-rs), audited as
/// `second_factor.passkey_add`; its id. A name is 1-60 characters, free of personal data as all free text.
pub async fn add_passkey<T: Administration>(
    tx: &T,
    user: i64,
    name: &str,
    credential: &str,
    at: Timestamp,
) -> Result<i64, T::Error> {
    let name = varde_domain::sample::check_text("name", Some(name), 60)
        .map_err(StoreError::Input)?
        .unwrap_or_else(|| "passkey".to_owned());
    let id = tx.insert_passkey(user, &name, credential, at).await?;
    tx.audit(at, &format!("user:{user}"), "second_factor.passkey_add", &format!("passkey:{id}")).await?;
    Ok(id)
}

/// Passes the session with hash `session` (user `user`) with passkey `id`, whose assertion verified at the edge:
/// its use recorded (with its credential as it is now, when its counter moved), the session verified, audited as
/// `login.second_factor passkey`.
pub async fn pass_with_passkey<T: Administration>(
    tx: &T,
    session: [u8; 32],
    user: i64,
    id: i64,
    credential: Option<&str>,
    at: Timestamp,
) -> Result<(), T::Error> {
    tx.passkey_used(id, credential, at).await?;
    tx.verify_session(session).await?;
    tx.audit(at, &format!("user:{user}"), "login.second_factor", BY_PASSKEY).await
}

/// Removes user `user`'s passkey `id` (audited as `second_factor.passkey_remove`); `not_found` when they have none
/// with that id.
pub async fn remove_passkey<T: Administration>(tx: &T, user: i64, id: i64, at: Timestamp) -> Result<(), T::Error> {
    if !tx.delete_passkey(user, id).await? {
        let message = format!("you have no passkey {id}");
        return Err(StoreError::Invalid { code: ErrorCode::NotFound, message }.into());
    }
    tx.audit(at, &format!("user:{user}"), "second_factor.passkey_remove", &format!("passkey:{id}")).await
}
