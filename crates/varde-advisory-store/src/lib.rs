//! The advisory unit's database: a SQLite file of its own (never the drug-checking database), identity data sealed
//! ([`seal`]), its own users and sessions, and its own hash-chained audit log. Callers validate with the domain's
//! rules first ([`varde_advisory::case`]); the store checks them again, so nothing invalid is ever written.
//!
//! Synchronous: a kommune's caseworkers write a few times an hour. The web layer calls it off its async workers.
//! Deleted rows are overwritten on disk (`secure_delete`), so a deleted case leaves nothing behind in free pages.

pub mod seal;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};
use seal::{Key, SealError};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;
use varde_advisory::case::{Case, CaseError, Person, Recorded, Referral, deletion_due};

const MIGRATIONS: [&str; 5] = [
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_login_failures.sql"),
    include_str!("../migrations/0003_second_factor.sql"),
    include_str!("../migrations/0004_identities.sql"),
    include_str!("../migrations/0005_passkeys.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(#[from] CaseError),
    #[error("{0}")]
    Seal(#[from] SealError),
    #[error("no such case in this kommune")]
    UnknownCase,
    #[error("that user name is taken")]
    UserExists,
    #[error("no member with that user name")]
    UnknownUser,
    #[error("that identity is linked to a member already")]
    IdentityTaken,
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("stored data does not read back: {0}")]
    Corrupt(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A member's passkey as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    pub id: i64,
    pub name: String,
    pub credential: String,
    pub created: Timestamp,
    pub last_used: Option<Timestamp>,
}

/// Who works in the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Works the cases of one kommune.
    Caseworker,
    /// Works them too, and sees the kommune's anonymous counts.
    Lead,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caseworker => "caseworker",
            Role::Lead => "lead",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "caseworker" => Some(Role::Caseworker),
            "lead" => Some(Role::Lead),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub kommune: String,
}

/// Anonymous counts for one kommune and quarter of referral.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct QuarterCounts {
    pub kommune: String,
    pub quarter: String,
    pub referrals: u64,
    pub attended_first: u64,
    /// Summed over those who attended a first meeting: the mean is the sum over `attended_first`.
    pub days_to_first_sum: u64,
    pub invited_again: u64,
    pub offers_accepted: u64,
    pub testing_conditions: u64,
}

/// How one case counts (kept when the case is deleted).
fn counts_of(case: &Case) -> QuarterCounts {
    let first = case
        .recorded
        .iter()
        .filter_map(|r| match r {
            Recorded::Meeting(m) if m.attendance == varde_advisory::case::Attendance::Attended => Some(m.at.date()),
            _ => None,
        })
        .min();
    let invitations = case.recorded.iter().filter(|r| matches!(r, Recorded::Invitation { .. })).count();
    let accepted = case.recorded.iter().filter(|r| matches!(r, Recorded::Offer(o) if o.consent_on.is_some())).count();
    QuarterCounts {
        kommune: case.kommune.clone(),
        quarter: quarter(case.referral.decision_date),
        referrals: 1,
        attended_first: u64::from(first.is_some()),
        days_to_first_sum: first.map_or(0, |d| (d - case.referral.decision_date).get_days().max(0) as u64),
        invited_again: u64::from(invitations > 1),
        offers_accepted: accepted as u64,
        testing_conditions: u64::from(case.referral.conditions.tests.is_some()),
    }
}

pub fn quarter(d: Date) -> String {
    format!("{}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
}

pub struct AdvisoryStore {
    conn: Mutex<Connection>,
    key: Key,
}

fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn audit(tx: &rusqlite::Transaction<'_>, actor: &str, action: &str, case_id: Option<i64>) -> Result<()> {
    let (seq, prev): (i64, String) = tx
        .query_row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, "0".repeat(64)));
    let at = now_ms();
    let hash = entry_hash(seq + 1, at, actor, action, case_id, &prev);
    tx.execute(
        "INSERT INTO audit (seq, at_ms, actor, action, case_id, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![seq + 1, at, actor, action, case_id, prev, hash],
    )?;
    Ok(())
}

fn entry_hash(seq: i64, at: i64, actor: &str, action: &str, case_id: Option<i64>, prev: &str) -> String {
    let mut h = Sha256::new();
    for part in
        [seq.to_string(), at.to_string(), actor.to_owned(), action.to_owned(), format!("{case_id:?}"), prev.to_owned()]
    {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The key failed logins are counted under: a hash of the kind and value under a random salt kept in the database
/// (made at first use), so that the table names no account or address even for a reader of the file who guesses.
fn login_key(conn: &Connection, kind: &str, value: &str) -> Result<String> {
    let salt: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'login_salt'", [], |r| r.get(0)).optional()?;
    let salt = match salt {
        Some(s) => s,
        None => {
            let s = hex::encode(rand::random::<[u8; 32]>());
            conn.execute("INSERT INTO meta (key, value) VALUES ('login_salt', ?1) ON CONFLICT DO NOTHING", [&s])?;
            conn.query_row("SELECT value FROM meta WHERE key = 'login_salt'", [], |r| r.get(0))?
        }
    };
    let mut h = Sha256::new();
    for part in [salt.as_str(), kind, value] {
        h.update(part.len().to_le_bytes());
        h.update(part.as_bytes());
    }
    Ok(hex::encode(h.finalize()))
}

impl AdvisoryStore {
    /// Opens (creating or migrating) the advisory database at `path`, sealing with `key`. Refuses a key other than
    /// the one the database was sealed with.
    pub fn open(path: &Path, key: Key) -> Result<AdvisoryStore> {
        let mut conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
             PRAGMA secure_delete = ON;",
        )?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
            tx.commit()?;
        }
        let stored: Option<String> =
            conn.query_row("SELECT value FROM meta WHERE key = 'key_id'", [], |r| r.get(0)).optional()?;
        match stored {
            Some(id) if id != key.id() => return Err(SealError::WrongKey { found: id, expected: key.id() }.into()),
            Some(_) => {}
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('key_id', ?1)", [key.id()])?;
            }
        }
        Ok(AdvisoryStore { conn: Mutex::new(conn), key })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add_user(&self, username: &str, password_hash: &str, role: Role, kommune: &str, actor: &str) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let inserted = tx.execute(
            "INSERT INTO users (username, password_hash, role, kommune) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![username, password_hash, role.as_str(), kommune],
        )?;
        if inserted == 0 {
            return Err(Error::UserExists);
        }
        let id = tx.last_insert_rowid();
        audit(&tx, actor, &format!("user.add {username} {}", role.as_str()), None)?;
        tx.commit()?;
        Ok(id)
    }

    /// Sets a member's password (audited); ends their sessions.
    pub fn set_password(&self, username: &str, password_hash: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE users SET password_hash = ?1 WHERE username = ?2", params![password_hash, username])?;
        tx.execute("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)", [username])?;
        audit(&tx, "admin", &format!("user.password {username}"), None)?;
        tx.commit()?;
        Ok(())
    }

    /// Lets member `username` sign in through `issuer` when its ID token carries `claim` with `value` (audited).
    pub fn link_identity(&self, username: &str, issuer: &str, claim: &str, value: &str, actor: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let id: i64 = tx
            .query_row("SELECT id FROM users WHERE username = ?1", [username], |r| r.get(0))
            .optional()?
            .ok_or(Error::UnknownUser)?;
        let inserted = tx.execute(
            "INSERT INTO identities (issuer, claim, value, user_id) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![issuer, claim, value, id],
        )?;
        if inserted == 0 {
            return Err(Error::IdentityTaken);
        }
        audit(&tx, actor, &format!("identity.link {username} {issuer} {claim}"), None)?;
        tx.commit()?;
        Ok(())
    }

    /// The enabled members linked to identities of `issuer`, with the claim and value that is each.
    pub fn identities(&self, issuer: &str) -> Result<Vec<(String, String, User)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT u.id, u.username, u.password_hash, u.role, u.kommune, i.claim, i.value FROM identities i
             JOIN users u ON u.id = i.user_id WHERE i.issuer = ?1 AND u.enabled = 1 ORDER BY u.id",
        )?;
        let rows = stmt.query_map([issuer], |r| Ok((r.get(5)?, r.get(6)?, user_row(r)?)))?;
        rows.collect::<Result<_, _>>().map_err(Error::from)
    }

    /// A member signed in through `issuer` (audited as `login.oidc`).
    pub fn signed_in(&self, user: &User, issuer: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        audit(&tx, &user.username, &format!("login.oidc {issuer}"), None)?;
        tx.commit()?;
        Ok(())
    }

    /// A sign-in through `issuer` refused for `reason` (audited as `login.refused`); nothing else is written.
    pub fn sign_in_refused(&self, issuer: &str, reason: &str) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        audit(&tx, &format!("oidc:{issuer}"), &format!("login.refused {reason}"), None)?;
        tx.commit()?;
        Ok(())
    }

    /// A member's passkeys, oldest first.
    pub fn passkeys(&self, user_id: i64) -> Result<Vec<Passkey>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, name, credential, created_ms, last_used_ms FROM passkeys WHERE user_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([user_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get::<_, Option<i64>>(4)?))
        })?;
        rows.map(|row| {
            let (id, name, credential, created, last_used) = row?;
            let at = |ms: i64| Timestamp::from_millisecond(ms).map_err(|e| Error::Corrupt(e.to_string()));
            Ok(Passkey { id, name, credential, created: at(created)?, last_used: last_used.map(at).transpose()? })
        })
        .collect()
    }

    /// Adds a passkey the member made (audited); its id.
    pub fn add_passkey(&self, user: &User, name: &str, credential: &str) -> Result<i64> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO passkeys (user_id, name, credential, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![user.id, name, credential, now_ms()],
        )?;
        let id = tx.last_insert_rowid();
        audit(&tx, &user.username, &format!("second_factor.passkey_add {} passkey:{id}", user.username), None)?;
        tx.commit()?;
        Ok(id)
    }

    /// Removes a member's passkey (audited); false when they have none with that id.
    pub fn remove_passkey(&self, user: &User, id: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2", params![id, user.id])? == 0 {
            return Ok(false);
        }
        audit(&tx, &user.username, &format!("second_factor.passkey_remove {} passkey:{id}", user.username), None)?;
        tx.commit()?;
        Ok(true)
    }

    /// Passes the session's second factor with passkey `id`, whose answer verified (its credential as it is now when
    /// its counter moved); audited.
    pub fn pass_with_passkey(&self, session_hash: &str, user: &User, id: i64, credential: Option<&str>) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "UPDATE passkeys SET last_used_ms = ?3, credential = coalesce(?4, credential) WHERE id = ?1 AND user_id = ?2",
            params![id, user.id, now_ms(), credential],
        )?;
        tx.execute("UPDATE sessions SET verified = 1 WHERE token_hash = ?1", [session_hash])?;
        audit(&tx, &user.username, "login.second_factor passkey", None)?;
        tx.commit()?;
        Ok(())
    }

    /// A second factor that failed without a code (a passkey's answer that did not verify); audited.
    pub fn second_factor_failed(&self, user: &User) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        audit(&tx, &user.username, "login.second_factor_failed", None)?;
        tx.commit()?;
        Ok(())
    }

    /// Keeps (or, with None, forgets) the state of the session's passkey ceremony.
    pub fn set_ceremony(&self, session_hash: &str, state: Option<&str>) -> Result<()> {
        self.conn().execute("UPDATE sessions SET ceremony = ?2 WHERE token_hash = ?1", params![session_hash, state])?;
        Ok(())
    }

    /// The state of the session's passkey ceremony, forgotten as it is read: a challenge is answered once.
    pub fn take_ceremony(&self, session_hash: &str) -> Result<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let state: Option<String> = tx
            .query_row("SELECT ceremony FROM sessions WHERE token_hash = ?1", [session_hash], |r| r.get(0))
            .optional()?
            .flatten();
        tx.execute("UPDATE sessions SET ceremony = NULL WHERE token_hash = ?1", [session_hash])?;
        tx.commit()?;
        Ok(state)
    }

    pub fn user(&self, username: &str) -> Result<Option<User>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT id, username, password_hash, role, kommune FROM users WHERE username = ?1 AND enabled = 1",
            [username],
            user_row,
        )
        .optional()
        .map_err(Error::from)
    }

    /// Starts a session; `verified` false while it waits for the second factor (it then opens no page but that one).
    pub fn create_session(&self, token_hash: &str, user_id: i64, expires: Timestamp, verified: bool) -> Result<()> {
        self.conn().execute(
            "INSERT INTO sessions (token_hash, user_id, expires_ms, verified) VALUES (?1, ?2, ?3, ?4)",
            params![token_hash, user_id, expires.as_millisecond(), verified],
        )?;
        Ok(())
    }

    /// The user of an unexpired session, and whether the session has passed the second factor.
    pub fn session_user(&self, token_hash: &str, now: Timestamp) -> Result<Option<(User, bool)>> {
        let conn = self.conn();
        conn.query_row(
            "SELECT u.id, u.username, u.password_hash, u.role, u.kommune, s.verified FROM sessions s
             JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND s.expires_ms > ?2 AND u.enabled = 1",
            params![token_hash, now.as_millisecond()],
            |r| Ok((user_row(r)?, r.get(5)?)),
        )
        .optional()
        .map_err(Error::from)
    }

    /// The member's TOTP secret (base32), once enrolled.
    pub fn totp_secret(&self, user_id: i64) -> Result<Option<String>> {
        let sealed: Option<Vec<u8>> = self
            .conn()
            .query_row("SELECT totp_sealed FROM users WHERE id = ?1", [user_id], |r| r.get(0))
            .optional()?
            .flatten();
        sealed.map(|s| Ok(String::from_utf8_lossy(&self.key.open("users.totp", &s)?).into_owned())).transpose()
    }

    /// Enrols the member's TOTP secret (sealed) with new recovery codes (SHA-256 hex of each), replacing any
    /// earlier ones, accepts `step` as used, and marks the session as having passed; audited.
    pub fn enrol_totp(
        &self,
        session_hash: &str,
        user: &User,
        secret: &str,
        recovery: &[String],
        step: i64,
    ) -> Result<()> {
        let sealed = self.key.seal("users.totp", secret.as_bytes());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE users SET totp_sealed = ?2, totp_step = ?3 WHERE id = ?1", params![user.id, sealed, step])?;
        tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user.id])?;
        for hash in recovery {
            tx.execute("INSERT INTO recovery_codes (hash, user_id) VALUES (?1, ?2)", params![hash, user.id])?;
        }
        tx.execute("UPDATE sessions SET verified = 1 WHERE token_hash = ?1", [session_hash])?;
        audit(&tx, &user.username, &format!("second_factor.enrol {}", user.username), None)?;
        tx.commit()?;
        Ok(())
    }

    /// Passes the session's second factor with the app's code for `step` (each step once) or a recovery code (each
    /// once; `recovery_hash` is its SHA-256 in hex); false, audited as a failure, when neither holds.
    pub fn pass_second_factor(
        &self,
        session_hash: &str,
        user: &User,
        step: Option<i64>,
        recovery_hash: &str,
    ) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let by_app = match step {
            Some(step) => {
                tx.execute(
                    "UPDATE users SET totp_step = ?2 WHERE id = ?1 AND (totp_step IS NULL OR totp_step < ?2)",
                    params![user.id, step],
                )? > 0
            }
            None => false,
        };
        let by_recovery = !by_app
            && tx.execute(
                "UPDATE recovery_codes SET used_ms = ?3 WHERE hash = ?1 AND user_id = ?2 AND used_ms IS NULL",
                params![recovery_hash, user.id, now_ms()],
            )? > 0;
        let action = match (by_app, by_recovery) {
            (true, _) => "login.second_factor totp",
            (_, true) => "login.second_factor recovery_code",
            _ => "login.second_factor_failed",
        };
        if by_app || by_recovery {
            tx.execute("UPDATE sessions SET verified = 1 WHERE token_hash = ?1", [session_hash])?;
        }
        audit(&tx, &user.username, &format!("{action} {}", user.username), None)?;
        tx.commit()?;
        Ok(by_app || by_recovery)
    }

    /// How many failed logins `kind` (`account` or `address`) `value` has had since `since`.
    pub fn login_failures(&self, kind: &str, value: &str, since: Timestamp) -> Result<usize> {
        let conn = self.conn();
        let key = login_key(&conn, kind, value)?;
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM login_failures WHERE key = ?1 AND at_ms >= ?2",
            params![key, since.as_millisecond()],
            |r| r.get(0),
        )?;
        Ok(n as usize)
    }

    /// Records a failed login for each `(kind, value)`, and forgets every failure before `forget_before`.
    pub fn record_login_failure(&self, keys: &[(&str, &str)], at: Timestamp, forget_before: Timestamp) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        for (kind, value) in keys {
            let key = login_key(&tx, kind, value)?;
            tx.execute("INSERT INTO login_failures (key, at_ms) VALUES (?1, ?2)", params![key, at.as_millisecond()])?;
        }
        tx.execute("DELETE FROM login_failures WHERE at_ms < ?1", [forget_before.as_millisecond()])?;
        tx.commit()?;
        Ok(())
    }

    pub fn end_session(&self, token_hash: &str) -> Result<()> {
        self.conn().execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
        Ok(())
    }

    /// Registers a referral and its person (validated here as well). Returns the case number.
    pub fn open_case(
        &self,
        kommune: &str,
        referral: &Referral,
        person: &Person,
        actor: &str,
        today: Date,
    ) -> Result<i64> {
        referral.validate(today)?;
        person.validate_for(referral)?;
        let sealed_referral = self.key.seal("cases.referral", &json(referral));
        let sealed_person = self.key.seal("cases.person", &json(person));
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO cases (kommune, referral, person, decision_date, period_end, meetings, tests, created_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                kommune,
                sealed_referral,
                sealed_person,
                referral.decision_date.to_string(),
                referral.conditions.period_end.to_string(),
                referral.conditions.meetings,
                referral.conditions.tests,
                now_ms()
            ],
        )?;
        let id = tx.last_insert_rowid();
        audit(&tx, actor, "case.open", Some(id))?;
        tx.commit()?;
        Ok(id)
    }

    /// Records something that happened in a case of `kommune` (validated against the referral).
    pub fn record(&self, kommune: &str, case_id: i64, recorded: &Recorded, actor: &str) -> Result<()> {
        let case = self.case(kommune, case_id)?;
        recorded.validate_for(&case.referral)?;
        let sealed = self.key.seal("case_events.data", &json(recorded));
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO case_events (case_id, kind, day, data, recorded_ms, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![case_id, recorded.kind(), recorded.day().to_string(), sealed, now_ms(), actor],
        )?;
        audit(&tx, actor, &format!("case.{}", recorded.kind()), Some(case_id))?;
        tx.commit()?;
        Ok(())
    }

    /// One case of `kommune`, opened. A case of another kommune is as unknown as one that does not exist.
    pub fn case(&self, kommune: &str, case_id: i64) -> Result<Case> {
        let conn = self.conn();
        let row: Option<(Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT referral, person FROM cases WHERE id = ?1 AND kommune = ?2",
                params![case_id, kommune],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (referral, person) = row.ok_or(Error::UnknownCase)?;
        let mut stmt = conn.prepare("SELECT data FROM case_events WHERE case_id = ?1 ORDER BY day, id")?;
        let recorded = stmt
            .query_map([case_id], |r| r.get::<_, Vec<u8>>(0))?
            .map(|data| -> Result<Recorded> { parse(&self.key.open("case_events.data", &data?)?) })
            .collect::<Result<Vec<_>>>()?;
        Ok(Case {
            id: case_id,
            kommune: kommune.to_owned(),
            referral: parse(&self.key.open("cases.referral", &referral)?)?,
            person: parse(&self.key.open("cases.person", &person)?)?,
            recorded,
        })
    }

    /// What the audit log holds about a case (when, who, what was done), for the person's right of access.
    pub fn case_audit(&self, kommune: &str, case_id: i64) -> Result<Vec<(Timestamp, String, String)>> {
        let conn = self.conn();
        let known: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM cases WHERE id = ?1 AND kommune = ?2)",
            params![case_id, kommune],
            |r| r.get(0),
        )?;
        if !known {
            return Err(Error::UnknownCase);
        }
        let mut stmt = conn.prepare("SELECT at_ms, actor, action FROM audit WHERE case_id = ?1 ORDER BY seq")?;
        let rows = stmt
            .query_map([case_id], |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
        Ok(rows
            .into_iter()
            .map(|(ms, actor, action)| {
                (Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH), actor, action)
            })
            .collect())
    }

    /// Every case of `kommune`, newest decision first.
    pub fn cases(&self, kommune: &str) -> Result<Vec<Case>> {
        let ids: Vec<i64> = {
            let conn = self.conn();
            let mut stmt =
                conn.prepare("SELECT id FROM cases WHERE kommune = ?1 ORDER BY decision_date DESC, id DESC")?;
            stmt.query_map([kommune], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        ids.into_iter().map(|id| self.case(kommune, id)).collect()
    }

    /// Deletes every case whose retention has run out (see [`deletion_due`]), keeping only its anonymous counts;
    /// audited. Returns how many were deleted.
    pub fn purge(&self, today: Date, grace_days: i64, actor: &str) -> Result<usize> {
        self.conn().execute("DELETE FROM sessions WHERE expires_ms < ?1", [now_ms()])?;
        let kommuner: Vec<String> = {
            let conn = self.conn();
            let mut stmt = conn.prepare("SELECT DISTINCT kommune FROM cases")?;
            stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
        };
        let mut deleted = 0;
        for kommune in kommuner {
            for case in self.cases(&kommune)? {
                if !deletion_due(&case.referral.conditions, case.final_notice_on(), grace_days, today) {
                    continue;
                }
                let c = counts_of(&case);
                let mut conn = self.conn();
                let tx = conn.transaction()?;
                tx.execute(
                    "INSERT INTO kept_counts (kommune, quarter, referrals, attended_first, days_to_first_sum,
                        invited_again, offers_accepted, testing_conditions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT (kommune, quarter) DO UPDATE SET referrals = referrals + excluded.referrals,
                        attended_first = attended_first + excluded.attended_first,
                        days_to_first_sum = days_to_first_sum + excluded.days_to_first_sum,
                        invited_again = invited_again + excluded.invited_again,
                        offers_accepted = offers_accepted + excluded.offers_accepted,
                        testing_conditions = testing_conditions + excluded.testing_conditions",
                    params![
                        c.kommune,
                        c.quarter,
                        c.referrals as i64,
                        c.attended_first as i64,
                        c.days_to_first_sum as i64,
                        c.invited_again as i64,
                        c.offers_accepted as i64,
                        c.testing_conditions as i64
                    ],
                )?;
                tx.execute("DELETE FROM cases WHERE id = ?1", [case.id])?;
                audit(&tx, actor, "case.delete retention", Some(case.id))?;
                tx.commit()?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Anonymous counts per quarter of referral for `kommune`: the cases still held and those already deleted.
    pub fn counts(&self, kommune: &str) -> Result<Vec<QuarterCounts>> {
        let mut by_quarter: std::collections::BTreeMap<String, QuarterCounts> = Default::default();
        for case in self.cases(kommune)? {
            add(by_quarter.entry(quarter(case.referral.decision_date)).or_default(), &counts_of(&case));
        }
        let kept: Vec<QuarterCounts> = {
            let conn = self.conn();
            let mut stmt = conn.prepare(
                "SELECT quarter, referrals, attended_first, days_to_first_sum, invited_again, offers_accepted,
                        testing_conditions FROM kept_counts WHERE kommune = ?1",
            )?;
            stmt.query_map([kommune], |r| {
                Ok(QuarterCounts {
                    kommune: kommune.to_owned(),
                    quarter: r.get(0)?,
                    referrals: r.get::<_, i64>(1)? as u64,
                    attended_first: r.get::<_, i64>(2)? as u64,
                    days_to_first_sum: r.get::<_, i64>(3)? as u64,
                    invited_again: r.get::<_, i64>(4)? as u64,
                    offers_accepted: r.get::<_, i64>(5)? as u64,
                    testing_conditions: r.get::<_, i64>(6)? as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        for k in &kept {
            add(by_quarter.entry(k.quarter.clone()).or_default(), k);
        }
        Ok(by_quarter
            .into_iter()
            .map(|(quarter, mut c)| {
                c.kommune = kommune.to_owned();
                c.quarter = quarter;
                c
            })
            .collect())
    }

    /// Re-seals everything with `new` in one transaction and records the new key's id. The old key must be the one
    /// this store was opened with. Afterwards, open the store with the new key.
    pub fn rotate_key(&self, new: &Key, actor: &str) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut n = 0;
        for (table, columns) in [("cases", &["referral", "person"][..]), ("case_events", &["data"][..])] {
            for column in columns {
                let label = format!("{table}.{column}");
                let rows: Vec<(i64, Vec<u8>)> = {
                    let mut stmt = tx.prepare(&format!("SELECT id, {column} FROM {table}"))?;
                    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
                };
                for (id, sealed) in rows {
                    let plain = self.key.open(&label, &sealed)?;
                    tx.execute(
                        &format!("UPDATE {table} SET {column} = ?1 WHERE id = ?2"),
                        params![new.seal(&label, &plain), id],
                    )?;
                    n += 1;
                }
            }
        }
        tx.execute("UPDATE meta SET value = ?1 WHERE key = 'key_id'", [new.id()])?;
        audit(&tx, actor, &format!("key.rotate {} -> {}", self.key.id(), new.id()), None)?;
        tx.commit()?;
        Ok(n)
    }

    /// Checks the audit chain: `Ok(entries)` when unbroken, otherwise the first broken entry's number.
    pub fn verify_audit(&self) -> Result<std::result::Result<usize, i64>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT seq, at_ms, actor, action, case_id, prev_hash, hash FROM audit ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })?;
        let mut prev = "0".repeat(64);
        let mut n = 0;
        for (expected_seq, row) in (1..).zip(rows) {
            let (seq, at, actor, action, case_id, prev_hash, hash) = row?;
            if seq != expected_seq || prev_hash != prev || entry_hash(seq, at, &actor, &action, case_id, &prev) != hash
            {
                return Ok(Err(seq));
            }
            prev = hash;
            n += 1;
        }
        Ok(Ok(n))
    }
}

/// A user from `id, username, password_hash, role, kommune`.
fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let role: String = r.get(3)?;
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        // The column's CHECK admits only the two roles.
        role: Role::parse(&role).unwrap_or(Role::Caseworker),
        kommune: r.get(4)?,
    })
}

fn add(into: &mut QuarterCounts, c: &QuarterCounts) {
    into.referrals += c.referrals;
    into.attended_first += c.attended_first;
    into.days_to_first_sum += c.days_to_first_sum;
    into.invited_again += c.invited_again;
    into.offers_accepted += c.offers_accepted;
    into.testing_conditions += c.testing_conditions;
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("plain data serialises")
}

fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt(e.to_string()))
}
