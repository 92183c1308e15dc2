//! How the embedded store serves the application core: its writer's open transaction ([`Tx`]) as a
//! [`varde_store::port::Transaction`], row by row. The core's use cases run on the writer thread like every other write;
//! the ports of single concerns are implemented next to their rows (`samples.rs`, `alerts.rs`, `events.rs`, …).

use super::*;
use varde_domain::alert::{AlertStatus, Change};
use varde_domain::feedback::Intention;
use varde_domain::finding::Finding;
use varde_domain::joining::{Joinable, Plan};
use varde_domain::merging::{Merge, Together};
use varde_store::AlertRef;
use varde_store::port::NewEvent;

impl varde_store::port::Transaction for Tx<'_> {
    type Error = Error;

    async fn service_id(&self, slug: &str) -> Result<i64> {
        self.conn()
            .prepare_cached("SELECT id FROM services WHERE slug = ?1")?
            .query_row([slug], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::Store(StoreError::UnknownService(slug.to_owned())))
    }

    async fn sample_id(&self, code: SampleCode) -> Result<i64> {
        sample_id_of(&self.conn(), code)
    }

    async fn analysis_link(&self, id: i64) -> Result<Option<(i64, Option<i64>)>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT sample_id, superseded_by FROM analyses WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    async fn insert_analysis(&self, sample: i64, analysis: &NewAnalysis, at: Timestamp) -> Result<i64> {
        insert_analysis(&self.conn(), sample, analysis, at)
    }

    async fn supersede(&self, old: i64, by: i64) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE analyses SET superseded_by = ?1 WHERE id = ?2")?
            .execute(params![by, old])?;
        Ok(())
    }

    async fn renew_status(&self, sample: i64, code: SampleCode) -> Result<Sample> {
        update_status(&self.conn(), sample, code)
    }

    async fn fylke_of(&self, sample: i64) -> Result<String> {
        Ok(self
            .conn()
            .prepare_cached("SELECT v.fylke FROM samples s JOIN services v ON v.id = s.service_id WHERE s.id = ?1")?
            .query_row([sample], |r| r.get(0))?)
    }

    async fn replace_findings(&self, sample: i64, findings: &[Finding], at: Timestamp) -> Result<()> {
        let conn = &*self.conn();
        conn.prepare_cached("UPDATE findings SET current = 0 WHERE sample_id = ?1 AND current = 1")?
            .execute([sample])?;
        let mut insert = conn.prepare_cached(
            "INSERT INTO findings (sample_id, assessed_ms, policy_version, rule, tier, substances, method, explanation)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for f in findings {
            insert.execute(params![
                sample,
                ms(at),
                f.policy_version,
                f.rule,
                f.tier.as_str(),
                serde_json::to_string(&f.substances).expect("strings serialise"),
                f.method.map(Method::as_str),
                serde_json::to_string(&f.explanation).expect("strings serialise"),
            ])?;
        }
        Ok(())
    }

    async fn stored_sample(&self, code: SampleCode) -> Result<Option<StoredSample>> {
        samples::load_stored(&self.conn(), code)
    }

    async fn alert_refs(&self, sample: i64) -> Result<Vec<AlertRef>> {
        samples::alert_refs(&self.conn(), sample)
    }

    async fn joinable(&self, joiners: &[Joiner<'_>]) -> Result<Vec<Joinable>> {
        alerts::joinable(&self.conn(), joiners)
    }

    async fn write_joins(&self, plan: &Plan, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>> {
        alerts::write_joins(&self.conn(), plan, joiners)
    }

    async fn audit(&self, at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<()> {
        append_audit(&self.conn(), at, actor, action, subject)
    }

    async fn newest_event(&self) -> Result<i64> {
        events::newest(&self.conn())
    }

    async fn event(&self, e: NewEvent) -> Result<()> {
        events::append(&self.conn(), &e)
    }

    async fn transition(
        &self,
        alert: i64,
        at: Timestamp,
        actor: &str,
        reason: &str,
        from: Option<AlertStatus>,
        to: AlertStatus,
    ) -> Result<()> {
        alerts::record_transition(&self.conn(), alert, at, actor, reason, from, to)
    }

    async fn alert(&self, id: i64) -> Result<Option<Alert>> {
        alerts::load_alert(&self.conn(), id)
    }

    async fn alert_evidence(&self, id: i64) -> Result<Vec<StoredSample>> {
        // usize::MAX is -1 as SQLite sees it: LIMIT -1 means no limit.
        alerts::evidence(&self.conn(), id, usize::MAX)
    }

    async fn alert_area(&self, id: i64) -> Result<String> {
        alerts::area(&self.conn(), id)
    }

    async fn write_change(
        &self,
        id: i64,
        change: &Change,
        note: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<()> {
        alerts::write_change(&self.conn(), id, change, note, actor, at)
    }

    async fn together(&self, from: i64, into: i64) -> Result<Together> {
        alerts::together(&self.conn(), from, into)
    }

    async fn write_merge(&self, from: i64, merge: &Merge, at: Timestamp) -> Result<()> {
        alerts::write_merge(&self.conn(), from, merge, at)
    }

    async fn move_stale(
        &self,
        from: AlertStatus,
        to: AlertStatus,
        before: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<i64>> {
        alerts::move_stale(&self.conn(), from, to, before, at)
    }
}

impl varde_store::port::Retention for Tx<'_> {
    async fn purge(&self, before: Timestamp) -> Result<varde_store::Purged> {
        let conn = &*self.conn();
        let cutoff = ms(before);
        let photos = conn
            .prepare_cached("DELETE FROM photos WHERE sample_id IN (SELECT id FROM samples WHERE received_ms < ?1)")?
            .execute([cutoff])? as u64;
        let sample_notes = conn
            .prepare_cached("UPDATE samples SET notes = NULL WHERE received_ms < ?1 AND notes IS NOT NULL")?
            .execute([cutoff])? as u64;
        let concern_texts = conn
            .prepare_cached(
                "UPDATE concern_reports SET happened = '', believed = NULL, looked_like = NULL, purged = 1
                 WHERE received_ms < ?1 AND purged = 0",
            )?
            .execute([cutoff])? as u64;
        Ok(varde_store::Purged { photos, sample_notes, concern_texts })
    }
}

impl varde_store::port::Feedback for Tx<'_> {
    async fn store_intention(&self, sample: i64, intention: Intention, at: Timestamp) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO result_feedback (sample_id, intention, intention_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sample_id) DO UPDATE SET intention = excluded.intention, intention_ms = excluded.intention_ms",
            )?
            .execute(params![sample, intention.as_str(), ms(at)])?;
        Ok(())
    }

    async fn store_outcome(&self, sample: i64, outcome: &varde_domain::feedback::Outcome, at: Timestamp) -> Result<()> {
        let unexpected: Vec<&str> = outcome.unexpected.iter().map(|u| u.as_str()).collect();
        self.conn()
            .prepare_cached(
                "INSERT INTO result_feedback (sample_id, used, effect, unexpected, outcome_ms) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (sample_id) DO UPDATE SET used = excluded.used, effect = excluded.effect,
                 unexpected = excluded.unexpected, outcome_ms = excluded.outcome_ms",
            )?
            .execute(params![
                sample,
                outcome.used,
                outcome.effect.map(|e| e.as_str()),
                serde_json::to_string(&unexpected).expect("strings serialise"),
                ms(at)
            ])?;
        Ok(())
    }
}

impl varde_store::port::Acknowledgements for Tx<'_> {
    async fn insert_acknowledgement(&self, alert: i64, service: i64, actor: &str, at: Timestamp) -> Result<bool> {
        let added = self
            .conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO alert_acknowledgements (alert_id, service_id, acknowledged_ms, actor)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![alert, service, ms(at), actor])?;
        Ok(added > 0)
    }

    async fn acknowledged_at(&self, alert: i64, service: i64) -> Result<Option<Timestamp>> {
        let at: Option<i64> = self
            .conn()
            .prepare_cached(
                "SELECT acknowledged_ms FROM alert_acknowledgements WHERE alert_id = ?1 AND service_id = ?2",
            )?
            .query_row(params![alert, service], |r| r.get(0))
            .optional()?;
        at.map(ts).transpose()
    }

    async fn remove_acknowledgement(&self, alert: i64, service: i64) -> Result<()> {
        self.conn()
            .prepare_cached("DELETE FROM alert_acknowledgements WHERE alert_id = ?1 AND service_id = ?2")?
            .execute(params![alert, service])?;
        Ok(())
    }

    async fn insert_escalation(&self, alert: i64, slug: &str, at: Timestamp) -> Result<bool> {
        let added = self
            .conn()
            .prepare_cached(
                "INSERT OR IGNORE INTO alert_escalations (alert_id, service_id, escalated_ms)
                 SELECT ?1, id, ?3 FROM services WHERE slug = ?2",
            )?
            .execute(params![alert, slug, ms(at)])?;
        Ok(added > 0)
    }
}
