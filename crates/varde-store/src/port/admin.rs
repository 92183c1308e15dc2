//! The rows administration writes: services, tokens, users.

use super::Transaction;
use crate::{LinkedUser, NewToken, StoredPasskey};
use jiff::Timestamp;
use varde_domain::auth::Role;
use varde_domain::service::Service;
use varde_domain::sign_in::{NewSignInRule, SignInRule};

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

    // A second factor (see `varde_core::identity`).

    /// Sets (or, with None, clears) user `user`'s TOTP secret; the last accepted time step is forgotten with it.
    fn set_totp(&self, user: i64, secret: Option<&str>) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Replaces user `user`'s recovery codes (their SHA-256 hashes; none clears them).
    fn replace_recovery_codes(
        &self,
        user: i64,
        hashes: &[[u8; 32]],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Accepts TOTP time step `step` for user `user` unless it, or a later one, was accepted before. Exact when
    /// instances check at once.
    fn accept_totp_step(&self, user: i64, step: i64) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Uses up user `user`'s recovery code with this hash; false when it is not theirs or was used.
    fn use_recovery_code(
        &self,
        user: i64,
        hash: [u8; 32],
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// Marks the session with this hash as having passed the second factor; its user, or none when there is no such
    /// session.
    fn verify_session(&self, hash: [u8; 32]) -> impl Future<Output = Result<Option<i64>, Self::Error>> + Send;

    // Signing in through an identity provider (see `varde_core::identity`).

    /// Every sign-in rule, oldest first.
    fn sign_in_rules(&self) -> impl Future<Output = Result<Vec<SignInRule>, Self::Error>> + Send;
    /// Stores a sign-in rule (for the service with id `service`, if any); its id.
    fn insert_sign_in_rule(
        &self,
        rule: &NewSignInRule,
        service: Option<i64>,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Deletes sign-in rule `id`; false when there is none.
    fn delete_sign_in_rule(&self, id: i64) -> impl Future<Output = Result<bool, Self::Error>> + Send;
    /// The user that `issuer`'s `subject` signed in as before, if any.
    fn linked_user(
        &self,
        issuer: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Option<LinkedUser>, Self::Error>> + Send;
    /// Records that `issuer`'s `subject` is user `user`.
    fn link_identity(
        &self,
        issuer: &str,
        subject: &str,
        user: i64,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Sets user `user`'s role and service (the service's id; none for the national roles).
    fn set_role(
        &self,
        user: i64,
        role: Role,
        service: Option<i64>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    // Passkeys (see `varde_core::identity`).

    /// User `user`'s passkeys, oldest first.
    fn passkeys_of(&self, user: i64) -> impl Future<Output = Result<Vec<StoredPasskey>, Self::Error>> + Send;
    /// Stores a passkey for user `user`; its id.
    fn insert_passkey(
        &self,
        user: i64,
        name: &str,
        credential: &str,
        at: Timestamp,
    ) -> impl Future<Output = Result<i64, Self::Error>> + Send;
    /// Records passkey `id`'s use at `at`, with its credential as it is now when it changed (its counter).
    fn passkey_used(
        &self,
        id: i64,
        credential: Option<&str>,
        at: Timestamp,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Deletes user `user`'s passkey `id`; false when they have none with that id.
    fn delete_passkey(&self, user: i64, id: i64) -> impl Future<Output = Result<bool, Self::Error>> + Send;
}
