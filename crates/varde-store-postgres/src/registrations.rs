//! Registrations, committed in groups. A registration writes its own rows (sample, what it was sold as, analyses,
//! components, findings) before it takes the writers' lock, and its ordered part (audit entry, event, joining or
//! starting a draft) under it. Registrations that arrive while a group is being committed wait and go together in
//! the next one: one transaction, one lock, one commit and one `fsync` for all of them, their own rows pipelined on
//! one connection — as the SQLite writer commits in groups. A registration that fails for its own sake (its code is
//! taken, its service unknown) fails alone; if the group fails for the database's sake, each is tried again alone.

use super::*;
use varde_domain::sample::Sample;

/// The most registrations one transaction carries: bounds what one failure makes the others wait for.
const MOST: usize = 64;

pub(crate) struct Registration {
    pub code: SampleCode,
    pub sample: NewSample,
    pub actor: Principal,
    pub at: Timestamp,
}

type Reply = tokio::sync::oneshot::Sender<Result<StoredSample, StoreError>>;

/// Registrations waiting for their group, and the turn to commit one. One group commits at a time per instance
/// (letting the next one write its own rows meanwhile was tried: smaller groups, half the throughput).
#[derive(Default)]
pub(crate) struct Groups {
    waiting: Mutex<Vec<(Registration, Reply)>>,
    turn: tokio::sync::Mutex<()>,
}

/// What a group commit needs, owned: it runs in a task of its own, to the end, even if the request that started it
/// goes away (the others in the group are waiting for it).
#[derive(Clone)]
pub(crate) struct Committer {
    pub pool: Pool,
    pub assessor: Arc<Assessor>,
    pub events: tokio::sync::watch::Sender<i64>,
    pub health: Arc<Mutex<Option<String>>>,
}

/// Registers a sample in the next group commit and waits for its answer.
pub(crate) async fn register(
    groups: &Groups,
    committer: &Committer,
    registration: Registration,
) -> Result<StoredSample, StoreError> {
    let (reply, mut answer) = tokio::sync::oneshot::channel();
    groups.waiting.lock().expect("not poisoned").push((registration, reply));
    loop {
        let _turn = groups.turn.lock().await;
        if let Ok(answered) = answer.try_recv() {
            return answered;
        }
        let group: Vec<_> = {
            let mut waiting = groups.waiting.lock().expect("not poisoned");
            let n = waiting.len().min(MOST);
            waiting.drain(..n).collect()
        };
        if group.is_empty() {
            // Ours is in a group whose commit outlived the request that started it.
            break;
        }
        let _ = tokio::spawn(committer.clone().commit(group)).await;
    }
    answer.await.map_err(|_| StoreError::Internal("a group commit ended without answering".into()))?
}

impl Committer {
    async fn commit(self, group: Vec<(Registration, Reply)>) {
        let registrations: Vec<&Registration> = group.iter().map(|(r, _)| r).collect();
        match self.together(&registrations).await {
            Ok(answers) => {
                for ((_, reply), answer) in group.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(_) if group.len() > 1 => {
                for (registration, reply) in group {
                    let answer = self.together(&[&registration]).await.map(|mut a| a.remove(0)).and_then(|a| a);
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                if let Some((_, reply)) = group.into_iter().next() {
                    let _ = reply.send(Err(e));
                }
            }
        }
    }

    /// One transaction for all of `group`; each answer, or an error that failed the transaction.
    async fn together(&self, group: &[&Registration]) -> Result<Vec<Result<StoredSample, StoreError>>, StoreError> {
        let (outcome, newest) = events::APPENDED
            .scope(std::cell::Cell::new(0), async {
                (self.transaction(group).await, events::APPENDED.with(|n| n.get()))
            })
            .await;
        match &outcome {
            Ok(_) => {
                set_health(&self.health, None);
                self.events.send_if_modified(|seq| raise(seq, newest));
            }
            Err(Error::Store(StoreError::Unavailable(reason))) => set_health(&self.health, Some(reason.clone())),
            Err(_) => {}
        }
        outcome.map_err(StoreError::from)
    }

    async fn transaction(&self, group: &[&Registration]) -> Result<Vec<Result<StoredSample, StoreError>>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Their own rows, all sent at once (the connection pipelines them).
        let written = futures_util::future::join_all(group.iter().map(|r| own_rows(&tx, &self.assessor, r))).await;
        let mut staged = Vec::with_capacity(group.len());
        for w in written {
            staged.push(match w {
                Ok(w) => Ok(w),
                // Refused before any statement failed: the transaction goes on for the others.
                Err(Error::Store(e @ (StoreError::CodeTaken | StoreError::UnknownService(_)))) => Err(e),
                Err(e) => return Err(e),
            });
        }
        if staged.iter().any(Result::is_ok) {
            execute(&tx, WRITER_LOCK, &[]).await?;
            // Under the lock: every audit entry and every event of the group in one statement each, sent together
            // (the connection pipelines them), then joining or starting drafts one sample after the other.
            let written = || group.iter().zip(&staged).filter_map(|(r, w)| Some((r, w.as_ref().ok()?)));
            let entries: Vec<_> =
                written().map(|(r, _)| (r.at, r.actor.actor.as_str(), "sample.create", r.code.compact())).collect();
            let events: Vec<_> =
                written().filter_map(|(r, w)| finding_event(&w.sample, &w.fylke, &w.findings, r.at)).collect();
            futures_util::future::try_join(append_audit_all(&tx, &entries), events::append_all(&tx, &events)).await?;
        }
        let mut answers = Vec::with_capacity(group.len());
        for (r, w) in group.iter().zip(staged) {
            answers.push(match w {
                Ok(w) => {
                    let Written { id, sample, fylke, findings } = w;
                    Ok(join(&tx, &self.assessor, Assessed { id, sample, fylke, earlier: false }, findings, r.at)
                        .await?)
                }
                Err(e) => Err(e),
            });
        }
        tx.commit().await?;
        Ok(answers)
    }
}

/// What a registration wrote before the writers' lock.
struct Written {
    id: i64,
    sample: Sample,
    fylke: String,
    findings: Vec<Finding>,
}

/// The sample's own rows: no other writer reads or locks them, so they need no lock.
async fn own_rows(tx: &Tx<'_>, assessor: &Assessor, r: &Registration) -> Result<Written> {
    let (code, sample, at) = (r.code, &r.sample, r.at);
    let (service, fylke) = service_row(tx, sample.service.as_str()).await?;
    let status = Status::of_new(&sample.analyses);
    let inserted = query_opt(
        tx,
        "INSERT INTO samples (code, service_id, received_ms, registered_ms, form, colour, texture, notes, tablet, use_context, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (code) DO NOTHING RETURNING id",
        &[
            &code.compact(),
            &service,
            &ms(sample.received_at),
            &ms(at),
            &sample.form.as_str(),
            &sample.colour,
            &sample.texture,
            &sample.notes,
            &to_json(&sample.tablet),
            &to_json(&sample.use_context),
            &status.as_str(),
        ],
    )
    .await?;
    let id: i64 = inserted.ok_or(Error::Store(StoreError::CodeTaken))?.try_get(0)?;
    let (substances, known): (Vec<&str>, Vec<bool>) =
        sample.sold_as.iter().map(|s| (s.substance.as_str(), s.known)).unzip();
    execute(
        tx,
        "INSERT INTO sample_sold_as (sample_id, position, substance, known)
         SELECT $1, u.position - 1, u.substance, u.known FROM unnest($2::text[], $3::bool[])
           WITH ORDINALITY AS u(substance, known, position)",
        &[&id, &substances, &known],
    )
    .await?;
    let mut analysis_ids = Vec::with_capacity(sample.analyses.len());
    for a in &sample.analyses {
        analysis_ids.push(insert_analysis(tx, id, a, at).await?);
    }
    // Assessed as written, not read back: a new sample has no earlier findings or alerts.
    let sample = varde_store::registered(code, sample.clone(), at, &analysis_ids);
    let findings = assessor.findings(&sample);
    record_findings(tx, id, &findings, false, at).await?;
    Ok(Written { id, sample, fylke, findings })
}
