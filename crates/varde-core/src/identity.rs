//! Logins' second step: a one-time code from an authenticator app or a recovery code, enrolling one, an admin's
//! reset, and the audit entry of a wrong password. The codes themselves are checked at the HTTP edge
//! (`varde_http::second_factor`, which knows the secret and the clock); these use cases decide what is written and
//! audited, once for both backends.

use crate::admin::user_named;
use jiff::Timestamp;
use varde_store::port::Administration;

/// How a session passed the second factor, as audited.
const BY_APP: &str = "totp";
const BY_RECOVERY_CODE: &str = "recovery_code";

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
