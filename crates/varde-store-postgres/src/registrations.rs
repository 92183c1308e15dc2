//! Registrations, committed in groups. Registrations that arrive while a group is being committed wait and go together
//! in the next one: one transaction, one writers' lock, one commit and one `fsync` for all of them — as the SQLite
//! writer commits in groups; a group waits a moment for those answered with the last one (see [`gather`]). A group
//! writes its samples' own rows (sample, what it was sold as, analyses, components, findings) before it takes the lock,
//! one statement per table for all of them; then it sends in one round trip the lock and the ordered part — the audit
//! entries, the events, its figure weeks' bump (one statement each) and join-or-draft's read — and writes join-or-draft
//! for the whole group. A registration that fails for its own sake (its code is taken, its service unknown) fails
//! alone; if the group fails for the database's sake, each is tried again alone.

use super::*;
use varde_domain::joining::Joiner;
use varde_domain::sample::{Outcome, Sample};

/// The most registrations one transaction carries: bounds what one failure makes the others wait for.
const MOST: usize = 64;

pub(crate) struct Registration {
    pub code: SampleCode,
    pub sample: NewSample,
    pub actor: Principal,
    pub at: Timestamp,
}

type Reply = tokio::sync::oneshot::Sender<Result<StoredSample, StoreError>>;

/// How many registrations must be expected for the next group to wait for them at all: fewer share too little of a
/// group's cost to be worth a wait (PostgreSQL's `commit_siblings` is 5 for the same reason).
const GATHER_FROM: usize = 5;
/// The longest a group waits for them, however long the last commit took: a commit slowed by a failing database
/// (connection timeouts, a group retried one by one) must not hold the next group back for seconds.
const GATHER_AT_MOST: std::time::Duration = std::time::Duration::from_millis(10);

/// Registrations waiting for their group, and the turn to commit one. One group commits at a time per instance
/// (letting the next one write its own rows meanwhile was tried: smaller groups, half the throughput).
#[derive(Default)]
pub(crate) struct Groups {
    waiting: Mutex<Vec<(Registration, Reply)>>,
    turn: tokio::sync::Mutex<()>,
    /// Woken when a registration starts waiting.
    arrived: tokio::sync::Notify,
    answered: Mutex<Option<Answered>>,
}

/// The last group's answer, for the next group's [`gather`].
#[derive(Debug, Clone, Copy)]
struct Answered {
    at: tokio::time::Instant,
    /// How many registrations may wait soon after: those that were waiting then, and as many as it answered.
    expected: usize,
    /// How long its commit took.
    took: std::time::Duration,
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
    groups.arrived.notify_one();
    loop {
        let _turn = groups.turn.lock().await;
        if let Ok(answered) = answer.try_recv() {
            return answered;
        }
        gather(groups).await;
        let group: Vec<_> = {
            let mut waiting = groups.waiting.lock().expect("not poisoned");
            let n = waiting.len().min(MOST);
            waiting.drain(..n).collect()
        };
        if group.is_empty() {
            // Ours is in a group whose commit outlived the request that started it.
            break;
        }
        let (carried, started) = (group.len(), tokio::time::Instant::now());
        let _ = tokio::spawn(committer.clone().commit(group)).await;
        let at = tokio::time::Instant::now();
        let expected = groups.waiting.lock().expect("not poisoned").len() + carried;
        *groups.answered.lock().expect("not poisoned") = Some(Answered { at, expected, took: at - started });
    }
    answer.await.map_err(|_| StoreError::Internal("a group commit ended without answering".into()))?
}

/// Waits until as many registrations wait as may come soon after the last group was answered, for half as long as
/// its commit took at most (and never longer than [`GATHER_AT_MOST`]). Registrations answered together come back together when their senders go on at once (a
/// service sending a batch through several connections, the bench's clients), but a little apart: without waiting,
/// the first back would start a group nearly alone and the rest would wait for its whole commit and then make a group
/// of their own. Waiting a moment makes one group of what would be two, and a group costs much the same however many
/// it carries (PostgreSQL's `commit_delay` waits before a WAL flush for the same reason). The wait is bounded by the
/// commit it saves, so it scales with the machine: a slower machine commits and answers more slowly alike. When few
/// are expected, or the last answer is older than that, nothing waits.
async fn gather(groups: &Groups) {
    let last = *groups.answered.lock().expect("not poisoned");
    gather_after(last, &groups.arrived, || groups.waiting.lock().expect("not poisoned").len()).await;
}

/// [`gather`]'s wait, after the answer `last`; `arrived` is notified (`notify_one`) as each registration arrives, and
/// `waiting` counts those waiting.
async fn gather_after(last: Option<Answered>, arrived: &tokio::sync::Notify, waiting: impl Fn() -> usize) {
    let Some(last) = last else { return };
    if last.expected < GATHER_FROM {
        return;
    }
    let until = last.at + (last.took / 2).min(GATHER_AT_MOST);
    loop {
        // Made before looking, so an arrival between the look and the wait is not missed (`notify_one` keeps it).
        let notified = arrived.notified();
        if waiting() >= last.expected || tokio::time::timeout_at(until, notified).await.is_err() {
            return;
        }
    }
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
        // The group bumps its samples' figure weeks itself, once, under the lock (below); the row triggers skip
        // what this transaction writes (migration 0007).
        let (_, staged) = futures_util::future::try_join(
            execute(&tx, "SELECT set_config('varde.figure_weeks', 'bumped', true)", &[]),
            own_rows(&tx, &self.assessor, group),
        )
        .await?;
        // Join-or-draft for the whole group at once, as one after the other would (see `joining::plan`).
        let keys: Vec<Option<String>> = staged.iter().map(|w| w.as_ref().ok().and_then(|w| w.key.clone())).collect();
        let joiners: Vec<Joiner<'_>> = group
            .iter()
            .zip(&staged)
            .zip(&keys)
            .filter_map(|((r, w), key)| {
                let (w, key) = (w.as_ref().ok()?, key.as_deref()?);
                Some(Joiner {
                    sample_id: w.id,
                    sample: &w.sample,
                    findings: &w.findings,
                    key,
                    fylke: &w.fylke,
                    at: r.at,
                    evidence_of: &[],
                })
            })
            .collect();
        let mut joined = if staged.iter().any(Result::is_ok) {
            // Under the lock, sent together (the connection pipelines them, the server runs them in order): the
            // lock, every audit entry and every event of the group in one statement each, and join-or-draft, whose
            // first read starts once the lock is held and so sees every group committed before. The lock is
            // prepared first, so it is the first statement sent (the others are polled after it).
            let lock = tx.prepare_cached(WRITER_LOCK).await?;
            let written = || group.iter().zip(&staged).filter_map(|(r, w)| Some((r, w.as_ref().ok()?)));
            let entries: Vec<_> =
                written().map(|(r, _)| (r.at, r.actor.actor.as_str(), "sample.create", r.code.compact())).collect();
            let events: Vec<_> =
                written().filter_map(|(r, w)| finding_event(&w.fylke, w.event.clone(), r.at)).collect();
            // Each week once, as the first millisecond of it (`bump_figure_week` takes a received time).
            let mut weeks: Vec<i64> = written()
                .map(|(_, w)| varde_store::FigureWeek::of(w.sample.received_at) * varde_store::FigureWeek::MS)
                .collect();
            weeks.sort_unstable();
            weeks.dedup();
            let (_, _, _, _, joined) = futures_util::future::try_join5(
                async { Ok::<_, Error>(tx.execute(&lock, &[]).await?) },
                append_audit_all(&tx, &entries),
                events::append_all(&tx, &events),
                query(&tx, "SELECT bump_figure_week(received) FROM unnest($1::bigint[]) AS received", &[&weeks]),
                varde_store::port::join(&super::Port(&tx), &self.assessor, &joiners),
            )
            .await?;
            joined.into_iter()
        } else {
            Vec::new().into_iter()
        };
        drop(joiners);
        let answers = staged
            .into_iter()
            .zip(&keys)
            .map(|(w, key)| {
                let Written { sample, fylke, findings, .. } = w?;
                // A new sample is evidence only for the alert it just joined or started.
                let alerts = key.as_ref().and_then(|_| joined.next()).into_iter().collect();
                Ok(StoredSample { sample, fylke, findings, alerts })
            })
            .collect();
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
    /// The `sample.finding` event and the product key (see `varde_domain::recording::assessed`).
    event: Option<(varde_domain::Tier, serde_json::Value)>,
    key: Option<String>,
}

/// The group's own rows, one statement per table for all of them (four round trips however many): no other
/// writer reads or locks them, so they need no lock. A registration whose service is unknown, or whose code is
/// taken (or given earlier in the group), is refused without a failing statement: the others go on.
async fn own_rows(
    tx: &Tx<'_>,
    assessor: &Assessor,
    group: &[&Registration],
) -> Result<Vec<Result<Written, StoreError>>> {
    use std::collections::{HashMap, HashSet};
    let slugs: Vec<&str> = group.iter().map(|r| r.sample.service.as_str()).collect();
    let mut services: HashMap<String, (i64, String)> = HashMap::new();
    for r in query(tx, "SELECT slug, id, fylke FROM services WHERE slug = ANY($1)", &[&slugs]).await? {
        services.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    let mut seen = HashSet::new();
    let admitted: Vec<Result<(i64, &str), StoreError>> = group
        .iter()
        .map(|r| match services.get(r.sample.service.as_str()) {
            None => Err(StoreError::UnknownService(r.sample.service.as_str().to_owned())),
            Some(_) if !seen.insert(r.code) => Err(StoreError::CodeTaken),
            Some((id, fylke)) => Ok((*id, fylke.as_str())),
        })
        .collect();
    let going: Vec<(&Registration, i64)> =
        group.iter().zip(&admitted).filter_map(|(r, a)| Some((*r, a.as_ref().ok()?.0))).collect();
    let ids = insert_samples(tx, &going).await?;

    // What each inserted sample was sold as, and its analyses.
    let inserted: Vec<(&Registration, i64)> =
        going.iter().filter_map(|(r, _)| Some((*r, *ids.get(r.code.compact())?))).collect();
    let (mut sold_ids, mut sold_positions, mut substances, mut known) = (vec![], vec![], vec![], vec![]);
    for (r, id) in &inserted {
        for (i, s) in r.sample.sold_as.iter().enumerate() {
            sold_ids.push(*id);
            sold_positions.push(i as i64);
            substances.push(s.substance.as_str());
            known.push(s.known);
        }
    }
    let analyses: Vec<(i64, &NewAnalysis, Timestamp)> =
        inserted.iter().flat_map(|(r, id)| r.sample.analyses.iter().map(move |a| (*id, a, r.at))).collect();
    let (_, analysis_ids) = futures_util::future::try_join(
        execute(
            tx,
            "INSERT INTO sample_sold_as (sample_id, position, substance, known)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bool[])",
            &[&sold_ids, &sold_positions, &substances, &known],
        ),
        insert_analyses(tx, &analyses),
    )
    .await?;

    // Each sample as written, assessed; then the analyses' components and the findings.
    let mut next_analysis = analysis_ids.into_iter();
    let mut written: HashMap<SampleCode, Written> = HashMap::new();
    let mut components: Vec<(i64, usize, &varde_domain::sample::Component)> = Vec::new();
    for (r, id) in &inserted {
        let fylke = services[r.sample.service.as_str()].1.clone();
        let ids: Vec<i64> = next_analysis.by_ref().take(r.sample.analyses.len()).collect();
        for (a, analysis_id) in r.sample.analyses.iter().zip(&ids) {
            if let Outcome::Components { components: found, .. } = &a.outcome {
                components.extend(found.iter().enumerate().map(|(i, c)| (*analysis_id, i, c)));
            }
        }
        let sample = varde_domain::recording::registered(r.code, r.sample.clone(), r.at, &ids);
        let varde_domain::recording::Assessment { findings, event, key } =
            varde_domain::recording::assessed(assessor, &sample, &fylke);
        written.insert(r.code, Written { id: *id, sample, fylke, findings, event, key });
    }
    let findings: Vec<(i64, Timestamp, &Finding)> =
        inserted.iter().flat_map(|(r, id)| written[&r.code].findings.iter().map(move |f| (*id, r.at, f))).collect();
    futures_util::future::try_join(insert_components(tx, &components), insert_findings(tx, &findings)).await?;

    Ok(group
        .iter()
        .zip(admitted)
        .map(|(r, admitted)| {
            admitted?;
            written.remove(&r.code).ok_or(StoreError::CodeTaken)
        })
        .collect())
}

/// Inserts the samples (none of them yet stored); the ids of those whose code was free, by code.
async fn insert_samples(tx: &Tx<'_>, going: &[(&Registration, i64)]) -> Result<std::collections::HashMap<String, i64>> {
    if going.is_empty() {
        return Ok(Default::default());
    }
    let column = |f: &dyn Fn(&Registration) -> Option<String>| going.iter().map(|(r, _)| f(r)).collect::<Vec<_>>();
    let codes = column(&|r| Some(r.code.compact().to_owned()));
    let services: Vec<i64> = going.iter().map(|(_, service)| *service).collect();
    let received: Vec<i64> = going.iter().map(|(r, _)| ms(r.sample.received_at)).collect();
    let registered: Vec<i64> = going.iter().map(|(r, _)| ms(r.at)).collect();
    let forms = column(&|r| Some(r.sample.form.as_str().to_owned()));
    let colours = column(&|r| r.sample.colour.clone());
    let textures = column(&|r| r.sample.texture.clone());
    let notes = column(&|r| r.sample.notes.clone());
    let tablets = column(&|r| to_json(&r.sample.tablet));
    let contexts = column(&|r| to_json(&r.sample.use_context));
    let statuses = column(&|r| Some(Status::of_new(&r.sample.analyses).as_str().to_owned()));
    let rows = query(
        tx,
        "INSERT INTO samples (code, service_id, received_ms, registered_ms, form, colour, texture, notes, tablet, use_context, status)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[],
                              $8::text[], $9::text[], $10::text[], $11::text[])
         ON CONFLICT (code) DO NOTHING RETURNING code, id",
        &[&codes, &services, &received, &registered, &forms, &colours, &textures, &notes, &tablets, &contexts, &statuses],
    )
    .await?;
    rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
}

/// Inserts analyses (sample id, analysis, recorded at) in order; their ids in the same order.
pub(super) async fn insert_analyses(tx: &Tx<'_>, analyses: &[(i64, &NewAnalysis, Timestamp)]) -> Result<Vec<i64>> {
    if analyses.is_empty() {
        return Ok(Vec::new());
    }
    let samples: Vec<i64> = analyses.iter().map(|a| a.0).collect();
    let methods: Vec<&str> = analyses.iter().map(|a| a.1.method.as_str()).collect();
    let results: Vec<Option<&str>> = analyses
        .iter()
        .map(|a| match &a.1.outcome {
            Outcome::Strip { result } => Some(result.as_str()),
            Outcome::Components { .. } => None,
        })
        .collect();
    let inconclusive: Vec<bool> =
        analyses.iter().map(|a| matches!(&a.1.outcome, Outcome::Components { inconclusive: true, .. })).collect();
    let performed: Vec<i64> = analyses.iter().map(|a| ms(a.1.performed_at)).collect();
    let recorded: Vec<i64> = analyses.iter().map(|a| ms(a.2)).collect();
    let amends: Vec<Option<i64>> = analyses.iter().map(|a| a.1.amends).collect();
    // Ids are drawn in the order the rows are inserted, which ORDER BY fixes: sorted, they are the analyses' in order.
    let mut ids: Vec<i64> = query(
        tx,
        "INSERT INTO analyses (sample_id, method, result, inconclusive, performed_ms, recorded_ms, amends)
         SELECT u.sample_id, u.method, u.result, u.inconclusive, u.performed_ms, u.recorded_ms, u.amends
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bool[], $5::bigint[], $6::bigint[], $7::bigint[])
           WITH ORDINALITY AS u(sample_id, method, result, inconclusive, performed_ms, recorded_ms, amends, position)
         ORDER BY u.position RETURNING id",
        &[&samples, &methods, &results, &inconclusive, &performed, &recorded, &amends],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}

pub(super) async fn insert_components(
    tx: &Tx<'_>,
    components: &[(i64, usize, &varde_domain::sample::Component)],
) -> Result<()> {
    if components.is_empty() {
        return Ok(());
    }
    let analyses: Vec<i64> = components.iter().map(|c| c.0).collect();
    let positions: Vec<i64> = components.iter().map(|c| c.1 as i64).collect();
    let substances: Vec<&str> = components.iter().map(|c| c.2.substance.substance.as_str()).collect();
    let known: Vec<bool> = components.iter().map(|c| c.2.substance.known).collect();
    let roles: Vec<&str> = components.iter().map(|c| c.2.role.as_str()).collect();
    let values: Vec<Option<f64>> = components.iter().map(|c| c.2.amount.map(|a| a.value)).collect();
    let units: Vec<Option<&str>> = components.iter().map(|c| c.2.amount.map(|a| a.unit.as_str())).collect();
    let confidences: Vec<Option<&str>> =
        components.iter().map(|c| c.2.confidence.map(varde_domain::sample::Confidence::as_str)).collect();
    execute(
        tx,
        "INSERT INTO components (analysis_id, position, substance, known, role, amount_value, amount_unit, confidence)
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bool[], $5::text[], $6::float8[], $7::text[],
                              $8::text[])",
        &[&analyses, &positions, &substances, &known, &roles, &values, &units, &confidences],
    )
    .await?;
    Ok(())
}

/// Inserts findings (sample id, assessed at, finding) in order (a sample's findings are read back by id).
pub(super) async fn insert_findings(tx: &Tx<'_>, findings: &[(i64, Timestamp, &Finding)]) -> Result<()> {
    if findings.is_empty() {
        return Ok(());
    }
    let samples: Vec<i64> = findings.iter().map(|f| f.0).collect();
    let assessed: Vec<i64> = findings.iter().map(|f| ms(f.1)).collect();
    let policies: Vec<&str> = findings.iter().map(|f| f.2.policy_version.as_str()).collect();
    let rules: Vec<&str> = findings.iter().map(|f| f.2.rule.as_str()).collect();
    let tiers: Vec<&str> = findings.iter().map(|f| f.2.tier.as_str()).collect();
    let substances: Vec<String> =
        findings.iter().map(|f| serde_json::to_string(&f.2.substances).expect("strings serialise")).collect();
    let methods: Vec<Option<&str>> = findings.iter().map(|f| f.2.method.map(Method::as_str)).collect();
    let explanations: Vec<String> =
        findings.iter().map(|f| serde_json::to_string(&f.2.explanation).expect("strings serialise")).collect();
    execute(
        tx,
        "INSERT INTO findings (sample_id, assessed_ms, policy_version, rule, tier, substances, method, explanation)
         SELECT u.sample_id, u.assessed_ms, u.policy, u.rule, u.tier, u.substances, u.method, u.explanation
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
           WITH ORDINALITY AS u(sample_id, assessed_ms, policy, rule, tier, substances, method, explanation, position)
         ORDER BY u.position",
        &[&samples, &assessed, &policies, &rules, &tiers, &substances, &methods, &explanations],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::time::{Duration, Instant};

    /// A group of `expected` answered now after a commit of 4 ms.
    fn answered(expected: usize) -> Answered {
        Answered { at: Instant::now(), expected, took: Duration::from_millis(4) }
    }

    /// Runs `gather_after` in a task on paused time; the counter it reads and the notifier it waits on.
    fn gathering(
        last: Option<Answered>,
    ) -> (tokio::task::JoinHandle<Instant>, Arc<AtomicUsize>, Arc<tokio::sync::Notify>) {
        let (count, arrived) = (Arc::new(AtomicUsize::new(1)), Arc::new(tokio::sync::Notify::new()));
        let (c, a) = (count.clone(), arrived.clone());
        let task = tokio::spawn(async move {
            gather_after(last, &a, || c.load(Ordering::SeqCst)).await;
            Instant::now()
        });
        (task, count, arrived)
    }

    /// Lets the gathering task run as far as it can without time passing (paused time moves only when all wait).
    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_waits_for_the_registrations_answered_together_until_they_are_back() {
        let last = answered(8);
        let (task, count, arrived) = gathering(Some(last));
        settle().await;
        assert!(!task.is_finished(), "one of eight is back: the group waits");
        count.store(7, Ordering::SeqCst);
        arrived.notify_one();
        settle().await;
        assert!(!task.is_finished(), "seven of eight are back: the group still waits");
        count.store(8, Ordering::SeqCst);
        arrived.notify_one();
        assert_eq!(task.await.unwrap(), last.at, "it goes as soon as the eighth is back");
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_waits_no_longer_than_half_the_last_commit_after_its_answer() {
        let last = answered(8);
        let (task, _count, _arrived) = gathering(Some(last));
        assert_eq!(task.await.unwrap() - last.at, Duration::from_millis(2));
        let slower = Answered { took: Duration::from_millis(10), ..answered(8) };
        let (task, _count, _arrived) = gathering(Some(slower));
        assert_eq!(task.await.unwrap() - slower.at, Duration::from_millis(5), "a slower commit, a longer wait");
        let failing = Answered { took: Duration::from_secs(30), ..answered(8) };
        let (task, _count, _arrived) = gathering(Some(failing));
        assert_eq!(task.await.unwrap() - failing.at, GATHER_AT_MOST, "a commit slowed by failures, a bounded wait");
        tokio::time::sleep(Duration::from_millis(5)).await;
        let now = Instant::now();
        let (task, _count, _arrived) = gathering(Some(last));
        assert_eq!(task.await.unwrap(), now, "an answer that old makes nobody wait");
    }

    #[tokio::test(start_paused = true)]
    async fn a_group_does_not_wait_when_few_are_expected_or_nothing_was_answered() {
        let start = Instant::now();
        for last in [None, Some(answered(GATHER_FROM - 1))] {
            let (task, _count, _arrived) = gathering(last);
            assert_eq!(task.await.unwrap(), start, "{last:?}");
        }
    }
}
