//! Services, tokens, users and escalation addresses, as rows (the use cases are `varde_core::admin`'s).

use super::*;

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
}
