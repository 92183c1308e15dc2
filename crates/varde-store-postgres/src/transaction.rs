//! How the PostgreSQL store serves the application core: a write transaction (holding the writers' lock; the fan-out
//! holds one of its own, see `Reach::confirmed_subscribers`) as a [`varde_store::port::Transaction`], row by row. Each
//! method is one statement, a round trip. The ports of single concerns are implemented next to their rows
//! (`alerts.rs`, `events.rs`, `subscribers.rs`, …).

use super::*;
use varde_domain::alert::{AlertStatus, Change};
use varde_domain::feedback::Intention;
use varde_domain::joining::{Joinable, Plan};
use varde_domain::merging::{Merge, Together};
use varde_domain::sample::Sample;
use varde_store::AlertRef;
use varde_store::port::NewEvent;

impl varde_store::port::Transaction for Port<'_> {
    type Error = Error;

    async fn service_id(&self, slug: &str) -> Result<i64> {
        service_id(self.0, slug).await
    }

    async fn sample_id(&self, code: SampleCode) -> Result<i64> {
        sample_id_of(self.0, code).await
    }

    async fn analysis_link(&self, id: i64) -> Result<Option<(i64, Option<i64>)>> {
        query_opt(self.0, "SELECT sample_id, superseded_by FROM analyses WHERE id = $1", &[&id])
            .await?
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .transpose()
    }

    async fn insert_analysis(&self, sample: i64, analysis: &NewAnalysis, at: Timestamp) -> Result<i64> {
        insert_analysis(self.0, sample, analysis, at).await
    }

    async fn supersede(&self, old: i64, by: i64) -> Result<()> {
        execute(self.0, "UPDATE analyses SET superseded_by = $1 WHERE id = $2", &[&by, &old]).await?;
        Ok(())
    }

    async fn renew_status(&self, sample: i64, code: SampleCode) -> Result<Sample> {
        update_status(self.0, sample, code).await
    }

    async fn fylke_of(&self, sample: i64) -> Result<String> {
        let sql = "SELECT v.fylke FROM samples s JOIN services v ON v.id = s.service_id WHERE s.id = $1";
        Ok(query_one(self.0, sql, &[&sample]).await?.try_get(0)?)
    }

    async fn replace_findings(&self, sample: i64, findings: &[Finding], at: Timestamp) -> Result<()> {
        execute(self.0, "UPDATE findings SET current = false WHERE sample_id = $1 AND current", &[&sample]).await?;
        // One statement for all of them (this runs under the writers' lock, and each statement is a round trip).
        let rows: Vec<(i64, Timestamp, &Finding)> = findings.iter().map(|f| (sample, at, f)).collect();
        registrations::insert_findings(self.0, &rows).await
    }

    async fn stored_sample(&self, code: SampleCode) -> Result<Option<StoredSample>> {
        samples::load_stored(self.0, code).await
    }

    async fn alert_refs(&self, sample: i64) -> Result<Vec<AlertRef>> {
        samples::alert_refs(self.0, sample).await
    }

    async fn joinable(&self, joiners: &[Joiner<'_>]) -> Result<Vec<Joinable>> {
        alerts::joinable(self.0, joiners).await
    }

    async fn write_joins(&self, plan: &Plan, joiners: &[Joiner<'_>]) -> Result<Vec<AlertRef>> {
        alerts::write_joins(self.0, plan, joiners).await
    }

    async fn audit(&self, at: Timestamp, actor: &str, action: &str, subject: &str) -> Result<()> {
        append_audit(self.0, at, actor, action, subject).await
    }

    async fn newest_event(&self) -> Result<i64> {
        events::newest(self.0).await
    }

    async fn event(&self, event: NewEvent) -> Result<()> {
        events::append_all(self.0, &[event]).await?;
        Ok(())
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
        alerts::record_transition(self.0, alert, at, actor, reason, from, to).await
    }

    async fn alert(&self, id: i64) -> Result<Option<Alert>> {
        alerts::load_alert(self.0, id).await
    }

    async fn alert_evidence(&self, id: i64) -> Result<Vec<StoredSample>> {
        alerts::evidence(self.0, id, usize::MAX).await
    }

    async fn alert_area(&self, id: i64) -> Result<String> {
        alerts::area(self.0, id).await
    }

    async fn write_change(
        &self,
        id: i64,
        change: &Change,
        note: Option<&str>,
        actor: &str,
        at: Timestamp,
    ) -> Result<()> {
        alerts::write_change(self.0, id, change, note, actor, at).await
    }

    async fn together(&self, from: i64, into: i64) -> Result<Together> {
        alerts::together(self.0, from, into).await
    }

    async fn write_merge(&self, from: i64, merge: &Merge, at: Timestamp) -> Result<()> {
        alerts::write_merge(self.0, from, merge, at).await
    }

    async fn move_stale(
        &self,
        from: AlertStatus,
        to: AlertStatus,
        before: Timestamp,
        at: Timestamp,
    ) -> Result<Vec<i64>> {
        alerts::move_stale(self.0, from, to, before, at).await
    }
}

/// PostgreSQL registers samples in groups ([`Backend::grouped_registration`] answers for it, so the core never
/// registers through this port here): one sample's row alone is refused rather than stored without its group's
/// decisions.
impl varde_store::port::Registration for Port<'_> {
    async fn insert_sample(
        &self,
        _code: SampleCode,
        _sample: &NewSample,
        _status: varde_domain::sample::Status,
        _at: Timestamp,
    ) -> Result<i64> {
        Err(Error::Store(StoreError::Internal(
            "PostgreSQL registers samples in groups; nothing registers them here one at a time".into(),
        )))
    }
}

impl varde_store::port::Retention for Port<'_> {
    async fn purge(&self, before: Timestamp) -> Result<varde_store::Purged> {
        let cutoff = ms(before);
        let photos = execute(
            self.0,
            "DELETE FROM photos WHERE sample_id IN (SELECT id FROM samples WHERE received_ms < $1)",
            &[&cutoff],
        )
        .await?;
        let sample_notes =
            execute(self.0, "UPDATE samples SET notes = NULL WHERE received_ms < $1 AND notes IS NOT NULL", &[&cutoff])
                .await?;
        let concern_texts = execute(
            self.0,
            "UPDATE concern_reports SET happened = '', believed = NULL, looked_like = NULL, purged = true
             WHERE received_ms < $1 AND NOT purged",
            &[&cutoff],
        )
        .await?;
        Ok(varde_store::Purged { photos, sample_notes, concern_texts })
    }
}

impl varde_store::port::Feedback for Port<'_> {
    async fn store_intention(&self, sample: i64, intention: Intention, at: Timestamp) -> Result<()> {
        execute(
            self.0,
            "INSERT INTO result_feedback (sample_id, intention, intention_ms) VALUES ($1, $2, $3)
             ON CONFLICT (sample_id) DO UPDATE SET intention = excluded.intention, intention_ms = excluded.intention_ms",
            &[&sample, &intention.as_str(), &ms(at)],
        )
        .await?;
        Ok(())
    }

    async fn store_outcome(&self, sample: i64, outcome: &varde_domain::feedback::Outcome, at: Timestamp) -> Result<()> {
        let unexpected: Vec<&str> = outcome.unexpected.iter().map(|u| u.as_str()).collect();
        let unexpected = serde_json::to_string(&unexpected).expect("strings serialise");
        execute(
            self.0,
            "INSERT INTO result_feedback (sample_id, used, effect, unexpected, outcome_ms) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (sample_id) DO UPDATE SET used = excluded.used, effect = excluded.effect,
             unexpected = excluded.unexpected, outcome_ms = excluded.outcome_ms",
            &[&sample, &outcome.used, &outcome.effect.map(|e| e.as_str()), &unexpected, &ms(at)],
        )
        .await?;
        Ok(())
    }
}

impl varde_store::port::Acknowledgements for Port<'_> {
    async fn insert_acknowledgement(&self, alert: i64, service: i64, actor: &str, at: Timestamp) -> Result<bool> {
        let added = execute(
            self.0,
            "INSERT INTO alert_acknowledgements (alert_id, service_id, acknowledged_ms, actor) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&alert, &service, &ms(at), &actor],
        )
        .await?;
        Ok(added > 0)
    }

    async fn acknowledged_at(&self, alert: i64, service: i64) -> Result<Option<Timestamp>> {
        let row = query_opt(
            self.0,
            "SELECT acknowledged_ms FROM alert_acknowledgements WHERE alert_id = $1 AND service_id = $2",
            &[&alert, &service],
        )
        .await?;
        row.map(|r| ts(r.get(0))).transpose()
    }

    async fn remove_acknowledgement(&self, alert: i64, service: i64) -> Result<()> {
        execute(
            self.0,
            "DELETE FROM alert_acknowledgements WHERE alert_id = $1 AND service_id = $2",
            &[&alert, &service],
        )
        .await?;
        Ok(())
    }

    async fn insert_escalation(&self, alert: i64, slug: &str, at: Timestamp) -> Result<bool> {
        let added = execute(
            self.0,
            "INSERT INTO alert_escalations (alert_id, service_id, escalated_ms)
             SELECT $1, id, $3 FROM services WHERE slug = $2 ON CONFLICT DO NOTHING",
            &[&alert, &slug, &ms(at)],
        )
        .await?;
        Ok(added > 0)
    }
}
