//! Services, tokens, users and escalation addresses, as rows (the use cases are `varde_core::admin`'s).

use super::*;
use varde_domain::sign_in::{NewSignInRule, SignInRule};
use varde_store::{LinkedUser, StoredPasskey};

impl varde_store::port::Administration for Tx<'_> {
    async fn insert_service(&self, service: &Service, at: Timestamp) -> Result<bool> {
        let inserted = self
            .conn()
            .prepare_cached(
                "INSERT INTO services (slug, name, kind, kommune, fylke, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (slug) DO NOTHING",
            )?
            .execute(params![
                service.slug.as_str(),
                service.name,
                service.kind.as_str(),
                service.kommune,
                service.fylke,
                ms(at)
            ])?;
        Ok(inserted > 0)
    }

    async fn insert_token(&self, token: &NewToken, service: Option<i64>, at: Timestamp) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO tokens (hash, role, service_id, label, created_ms, read_only, expires_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                &token.hash[..],
                token.role.as_str(),
                service,
                token.label,
                ms(at),
                token.read_only,
                token.expires.map(ms)
            ])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn revoke_token(&self, id: i64, at: Timestamp) -> Result<bool> {
        let revoked = self
            .conn()
            .prepare_cached("UPDATE tokens SET revoked_ms = ?2 WHERE id = ?1 AND revoked_ms IS NULL")?
            .execute(params![id, ms(at)])?;
        Ok(revoked > 0)
    }

    async fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        service: Option<i64>,
        at: Timestamp,
    ) -> Result<Option<i64>> {
        let inserted = self
            .conn()
            .prepare_cached(
                "INSERT INTO users (username, password_hash, role, service_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (username) DO NOTHING",
            )?
            .execute(params![username, password_hash, role.as_str(), service, ms(at)])?;
        Ok((inserted > 0).then(|| self.conn().last_insert_rowid()))
    }

    async fn user_id(&self, username: &str) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT id FROM users WHERE username = ?1")?
            .query_row([username], |r| r.get(0))
            .optional()?)
    }

    async fn set_password_hash(&self, user: i64, password_hash: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
            .execute(params![user, password_hash])?;
        Ok(())
    }

    async fn end_sessions(&self, user: i64) -> Result<()> {
        self.conn().prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?.execute([user])?;
        Ok(())
    }

    async fn set_contact(&self, slug: &str, email: Option<&str>) -> Result<bool> {
        let changed = self
            .conn()
            .prepare_cached("UPDATE services SET contact_email = ?2 WHERE slug = ?1")?
            .execute(params![slug, email])?;
        Ok(changed > 0)
    }

    async fn set_totp(&self, user: i64, secret: Option<&str>) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE users SET totp_secret = ?2, totp_step = NULL WHERE id = ?1")?
            .execute(params![user, secret])?;
        Ok(())
    }

    async fn replace_recovery_codes(&self, user: i64, hashes: &[[u8; 32]]) -> Result<()> {
        let conn = self.conn();
        conn.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?1")?.execute([user])?;
        let mut insert = conn.prepare_cached("INSERT INTO recovery_codes (hash, user_id) VALUES (?1, ?2)")?;
        for hash in hashes {
            insert.execute(params![&hash[..], user])?;
        }
        Ok(())
    }

    async fn accept_totp_step(&self, user: i64, step: i64) -> Result<bool> {
        let accepted = self
            .conn()
            .prepare_cached("UPDATE users SET totp_step = ?2 WHERE id = ?1 AND (totp_step IS NULL OR totp_step < ?2)")?
            .execute(params![user, step])?;
        Ok(accepted > 0)
    }

    async fn use_recovery_code(&self, user: i64, hash: [u8; 32], at: Timestamp) -> Result<bool> {
        let used = self
            .conn()
            .prepare_cached(
                "UPDATE recovery_codes SET used_ms = ?3 WHERE hash = ?1 AND user_id = ?2 AND used_ms IS NULL",
            )?
            .execute(params![&hash[..], user, ms(at)])?;
        Ok(used > 0)
    }

    async fn verify_session(&self, hash: [u8; 32]) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached("UPDATE sessions SET verified = 1 WHERE hash = ?1 RETURNING user_id")?
            .query_row([&hash[..]], |r| r.get(0))
            .optional()?)
    }

    async fn sign_in_rules(&self) -> Result<Vec<SignInRule>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, r.issuer, r.claim, r.value, r.role, s.slug FROM sign_in_rules r
             LEFT JOIN services s ON s.id = r.service_id ORDER BY r.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, String>(4)?, r.get::<_, Option<String>>(5)?))
        })?;
        rows.map(|row| {
            let (id, issuer, claim, value, role, slug) = row?;
            let role = Role::parse(&role).ok_or_else(|| corrupt("role", &role))?;
            let service = slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?;
            Ok(SignInRule { id, rule: NewSignInRule { issuer, claim, value, role, service } })
        })
        .collect()
    }

    async fn insert_sign_in_rule(&self, rule: &NewSignInRule, service: Option<i64>, at: Timestamp) -> Result<i64> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sign_in_rules (issuer, claim, value, role, service_id, created_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![rule.issuer, rule.claim, rule.value, rule.role.as_str(), service, ms(at)])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn delete_sign_in_rule(&self, id: i64) -> Result<bool> {
        Ok(self.conn().prepare_cached("DELETE FROM sign_in_rules WHERE id = ?1")?.execute([id])? > 0)
    }

    async fn linked_user(&self, issuer: &str, subject: &str) -> Result<Option<LinkedUser>> {
        let row: Option<(i64, String, Option<String>, bool)> = self
            .conn()
            .prepare_cached(
                "SELECT u.id, u.role, s.slug, u.disabled FROM user_identities i JOIN users u ON u.id = i.user_id
                 LEFT JOIN services s ON s.id = u.service_id WHERE i.issuer = ?1 AND i.subject = ?2",
            )?
            .query_row([issuer, subject], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        row.map(|(id, role, slug, disabled)| {
            Ok(LinkedUser {
                id,
                role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
                service: slug.map(|s| ServiceSlug::parse(&s).map_err(|_| corrupt("service slug", &s))).transpose()?,
                disabled,
            })
        })
        .transpose()
    }

    async fn link_identity(&self, issuer: &str, subject: &str, user: i64, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO user_identities (issuer, subject, user_id, created_ms) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![issuer, subject, user, ms(at)])?;
        Ok(())
    }

    async fn set_role(&self, user: i64, role: Role, service: Option<i64>) -> Result<()> {
        self.conn().prepare_cached("UPDATE users SET role = ?2, service_id = ?3 WHERE id = ?1")?.execute(params![
            user,
            role.as_str(),
            service
        ])?;
        Ok(())
    }

    async fn passkeys_of(&self, user: i64) -> Result<Vec<StoredPasskey>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT id, name, credential, created_ms, last_used_ms FROM passkeys WHERE user_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([user], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, i64>(3)?, r.get::<_, Option<i64>>(4)?))
        })?;
        rows.map(|row| {
            let (id, name, credential, created, last_used) = row?;
            Ok(StoredPasskey { id, name, credential, created: ts(created)?, last_used: last_used.map(ts).transpose()? })
        })
        .collect()
    }

    async fn insert_passkey(&self, user: i64, name: &str, credential: &str, at: Timestamp) -> Result<i64> {
        self.conn()
            .prepare_cached("INSERT INTO passkeys (user_id, name, credential, created_ms) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![user, name, credential, ms(at)])?;
        Ok(self.conn().last_insert_rowid())
    }

    async fn passkey_used(&self, id: i64, credential: Option<&str>, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE passkeys SET last_used_ms = ?2, credential = coalesce(?3, credential) WHERE id = ?1",
            )?
            .execute(params![id, ms(at), credential])?;
        Ok(())
    }

    async fn delete_passkey(&self, user: i64, id: i64) -> Result<bool> {
        Ok(self.conn().prepare_cached("DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2")?.execute([id, user])? > 0)
    }
}
