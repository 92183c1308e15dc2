//! Services, tokens, users and escalation addresses, as rows (the use cases are `varde_core::admin`'s).

use super::*;
use varde_domain::sign_in::{NewSignInRule, SignInRule};
use varde_store::{LinkedUser, StoredPasskey};

impl varde_store::port::Administration for Port<'_> {
    async fn insert_service(&self, service: &Service, at: Timestamp) -> Result<bool> {
        let inserted = execute(
            self.0,
            "INSERT INTO services (slug, name, kind, kommune, fylke, created_ms) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (slug) DO NOTHING",
            &[&service.slug.as_str(), &service.name, &service.kind.as_str(), &service.kommune, &service.fylke, &ms(at)],
        )
        .await?;
        Ok(inserted > 0)
    }

    async fn insert_token(&self, token: &NewToken, service: Option<i64>, at: Timestamp) -> Result<i64> {
        Ok(query_one(
            self.0,
            "INSERT INTO tokens (hash, role, service_id, label, created_ms, read_only, expires_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &&token.hash[..],
                &token.role.as_str(),
                &service,
                &token.label,
                &ms(at),
                &token.read_only,
                &token.expires.map(ms),
            ],
        )
        .await?
        .try_get(0)?)
    }

    async fn revoke_token(&self, id: i64, at: Timestamp) -> Result<bool> {
        let sql = "UPDATE tokens SET revoked_ms = $2 WHERE id = $1 AND revoked_ms IS NULL";
        Ok(execute(self.0, sql, &[&id, &ms(at)]).await? > 0)
    }

    async fn insert_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        service: Option<i64>,
        at: Timestamp,
    ) -> Result<Option<i64>> {
        query_opt(
            self.0,
            "INSERT INTO users (username, password_hash, role, service_id, created_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (username) DO NOTHING RETURNING id",
            &[&username, &password_hash, &role.as_str(), &service, &ms(at)],
        )
        .await?
        .map(|r| Ok(r.try_get(0)?))
        .transpose()
    }

    async fn user_id(&self, username: &str) -> Result<Option<i64>> {
        query_opt(self.0, "SELECT id FROM users WHERE username = $1", &[&username])
            .await?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    async fn set_password_hash(&self, user: i64, password_hash: &str) -> Result<()> {
        execute(self.0, "UPDATE users SET password_hash = $2 WHERE id = $1", &[&user, &password_hash]).await?;
        Ok(())
    }

    async fn end_sessions(&self, user: i64) -> Result<()> {
        execute(self.0, "DELETE FROM sessions WHERE user_id = $1", &[&user]).await?;
        Ok(())
    }

    async fn set_contact(&self, slug: &str, email: Option<&str>) -> Result<bool> {
        let sql = "UPDATE services SET contact_email = $2 WHERE slug = $1";
        Ok(execute(self.0, sql, &[&slug, &email]).await? > 0)
    }

    async fn set_totp(&self, user: i64, secret: Option<&str>) -> Result<()> {
        let sql = "UPDATE users SET totp_secret = $2, totp_step = NULL WHERE id = $1";
        execute(self.0, sql, &[&user, &secret]).await?;
        Ok(())
    }

    async fn replace_recovery_codes(&self, user: i64, hashes: &[[u8; 32]]) -> Result<()> {
        execute(self.0, "DELETE FROM recovery_codes WHERE user_id = $1", &[&user]).await?;
        for hash in hashes {
            execute(self.0, "INSERT INTO recovery_codes (hash, user_id) VALUES ($1, $2)", &[&&hash[..], &user]).await?;
        }
        Ok(())
    }

    async fn accept_totp_step(&self, user: i64, step: i64) -> Result<bool> {
        let sql = "UPDATE users SET totp_step = $2 WHERE id = $1 AND (totp_step IS NULL OR totp_step < $2)";
        Ok(execute(self.0, sql, &[&user, &step]).await? > 0)
    }

    async fn use_recovery_code(&self, user: i64, hash: [u8; 32], at: Timestamp) -> Result<bool> {
        let sql = "UPDATE recovery_codes SET used_ms = $3 WHERE hash = $1 AND user_id = $2 AND used_ms IS NULL";
        Ok(execute(self.0, sql, &[&&hash[..], &user, &ms(at)]).await? > 0)
    }

    async fn verify_session(&self, hash: [u8; 32]) -> Result<Option<i64>> {
        query_opt(self.0, "UPDATE sessions SET verified = true WHERE hash = $1 RETURNING user_id", &[&&hash[..]])
            .await?
            .map(|r| Ok(r.try_get(0)?))
            .transpose()
    }

    async fn sign_in_rules(&self) -> Result<Vec<SignInRule>> {
        let rows = self
            .0
            .query(
                "SELECT r.id, r.issuer, r.claim, r.value, r.role, s.slug FROM sign_in_rules r
                 LEFT JOIN services s ON s.id = r.service_id ORDER BY r.id",
                &[],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let slug: Option<&str> = r.try_get(5)?;
                let rule = NewSignInRule {
                    issuer: r.try_get(1)?,
                    claim: r.try_get(2)?,
                    value: r.try_get(3)?,
                    role: role_of(r.try_get(4)?)?,
                    service: slug.map(slug_of).transpose()?,
                };
                Ok(SignInRule { id: r.try_get(0)?, rule })
            })
            .collect()
    }

    async fn insert_sign_in_rule(&self, rule: &NewSignInRule, service: Option<i64>, at: Timestamp) -> Result<i64> {
        Ok(query_one(
            self.0,
            "INSERT INTO sign_in_rules (issuer, claim, value, role, service_id, created_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[&rule.issuer, &rule.claim, &rule.value, &rule.role.as_str(), &service, &ms(at)],
        )
        .await?
        .try_get(0)?)
    }

    async fn delete_sign_in_rule(&self, id: i64) -> Result<bool> {
        Ok(execute(self.0, "DELETE FROM sign_in_rules WHERE id = $1", &[&id]).await? > 0)
    }

    async fn linked_user(&self, issuer: &str, subject: &str) -> Result<Option<LinkedUser>> {
        query_opt(
            self.0,
            "SELECT u.id, u.role, s.slug, u.disabled FROM user_identities i JOIN users u ON u.id = i.user_id
             LEFT JOIN services s ON s.id = u.service_id WHERE i.issuer = $1 AND i.subject = $2",
            &[&issuer, &subject],
        )
        .await?
        .map(|r| {
            let slug: Option<&str> = r.try_get(2)?;
            Ok(LinkedUser {
                id: r.try_get(0)?,
                role: role_of(r.try_get(1)?)?,
                service: slug.map(slug_of).transpose()?,
                disabled: r.try_get(3)?,
            })
        })
        .transpose()
    }

    async fn link_identity(&self, issuer: &str, subject: &str, user: i64, at: Timestamp) -> Result<()> {
        let sql = "INSERT INTO user_identities (issuer, subject, user_id, created_ms) VALUES ($1, $2, $3, $4)";
        execute(self.0, sql, &[&issuer, &subject, &user, &ms(at)]).await?;
        Ok(())
    }

    async fn set_role(&self, user: i64, role: Role, service: Option<i64>) -> Result<()> {
        let sql = "UPDATE users SET role = $2, service_id = $3 WHERE id = $1";
        execute(self.0, sql, &[&user, &role.as_str(), &service]).await?;
        Ok(())
    }

    async fn passkeys_of(&self, user: i64) -> Result<Vec<StoredPasskey>> {
        let sql = "SELECT id, name, credential, created_ms, last_used_ms FROM passkeys WHERE user_id = $1 ORDER BY id";
        let rows = self.0.query(sql, &[&user]).await?;
        rows.iter()
            .map(|r| {
                let last_used: Option<i64> = r.try_get(4)?;
                Ok(StoredPasskey {
                    id: r.try_get(0)?,
                    name: r.try_get(1)?,
                    credential: r.try_get(2)?,
                    created: ts(r.try_get(3)?)?,
                    last_used: last_used.map(ts).transpose()?,
                })
            })
            .collect()
    }

    async fn insert_passkey(&self, user: i64, name: &str, credential: &str, at: Timestamp) -> Result<i64> {
        let sql = "INSERT INTO passkeys (user_id, name, credential, created_ms) VALUES ($1, $2, $3, $4) RETURNING id";
        Ok(query_one(self.0, sql, &[&user, &name, &credential, &ms(at)]).await?.try_get(0)?)
    }

    async fn passkey_used(&self, id: i64, credential: Option<&str>, at: Timestamp) -> Result<()> {
        let sql = "UPDATE passkeys SET last_used_ms = $2, credential = coalesce($3, credential) WHERE id = $1";
        execute(self.0, sql, &[&id, &ms(at), &credential]).await?;
        Ok(())
    }

    async fn delete_passkey(&self, user: i64, id: i64) -> Result<bool> {
        Ok(execute(self.0, "DELETE FROM passkeys WHERE id = $1 AND user_id = $2", &[&id, &user]).await? > 0)
    }
}
