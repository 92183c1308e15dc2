//! Services, tokens, users and escalation addresses, as rows (the use cases are `varde_core::admin`'s).

use super::*;

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
}
