//! The journal of one job: the engine's events, committed in groups by a writer thread.

use crate::error::{Error, store};
use crate::store::{CHUNKS, ENTRIES, FAILURES, IN_FLIGHT, JOBS, JobId, JobInfo, REQUEUED, SETTLED, encode_chunk};
use futures_util::future::BoxFuture;
use redb::{Database, ReadableTable as _};
use std::sync::{Arc, Mutex, PoisonError};
use tim_transport::fanout::{ChunkOutcome, Failure, Journal, Settled, StoredChunk};
use tokio::sync::{mpsc, watch};

/// Most events in one commit.
pub(crate) const MAX_GROUP: usize = 16_384;

/// One thing the engine said, in the order it said it.
pub(crate) enum Event {
    Sending { chunk: StoredChunk, covered: u64, at_ms: i64 },
    Entry { failure: Failure, covered: u64 },
    Settled { id: u64, outcome: ChunkOutcome },
    InputDone { lines: u64 },
}

/// How far the writer has come: events up to `committed` (counting from 1) are durable.
#[derive(Debug, Clone, Default)]
pub(crate) struct Durable {
    committed: u64,
    stopped: Option<String>,
    /// The writer stopped because another replica took the job over: the job, for [`Error::LeaseLost`].
    lease_lost: Option<JobId>,
    /// The writer has ended (its last commit is done, or it stopped).
    ended: bool,
}

/// The journal of one job ([`Journal`] for the fan-out engine). Events are queued without waiting; a writer
/// commits whatever has arrived in one transaction and then lets the chunks it recorded leave. The writer is a
/// thread of its own on the embedded store, a task on PostgreSQL. Close it with [`JobJournal::close`] (or
/// [`JobJournal::finish`] from async code) to wait for the last commit.
#[derive(Debug, Clone)]
pub struct JobJournal {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The queue to the writer and the number of events queued, together so numbers follow the queue's order.
    queue: Mutex<(Option<mpsc::UnboundedSender<Event>>, u64)>,
    durable: watch::Sender<Durable>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Where the writer reports: each group committed, or why it stopped.
pub(crate) struct Progress {
    durable: watch::Sender<Durable>,
    committed: u64,
}

impl Progress {
    pub(crate) fn committed(&mut self, events: usize) {
        self.committed += events as u64;
        let committed = self.committed;
        self.durable.send_modify(|now| now.committed = committed);
    }

    pub(crate) fn stopped(&self, job: JobId, error: &Error) {
        match error {
            // Expected in a cluster: another replica runs the job now.
            Error::LeaseLost(_) => tracing::warn!(job, "the job was taken over; its journal here records nothing more"),
            _ => tracing::error!(job, %error, "the journal cannot write; the fan-out stops sending"),
        }
        let lost = match error {
            Error::LeaseLost(job) => Some(*job),
            _ => None,
        };
        self.durable.send_modify(|now| {
            now.stopped = Some(error.to_string());
            now.lease_lost = lost;
        });
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.durable.send_modify(|now| now.ended = true);
    }
}

/// Takes the next group of events: waits for the first, then whatever else has arrived. `None` when the journal
/// was closed and everything was taken.
pub(crate) async fn next_group(events: &mut mpsc::UnboundedReceiver<Event>) -> Option<Vec<Event>> {
    let first = events.recv().await?;
    Some(rest_of_group(first, events))
}

fn rest_of_group(first: Event, events: &mut mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match events.try_recv() {
            Ok(event) => group.push(event),
            Err(_) => break,
        }
    }
    group
}

impl JobJournal {
    /// A journal whose events go to `writer`, run on a thread of its own (the embedded store's writes block).
    pub(crate) fn on_thread(
        job: JobId,
        writer: impl FnOnce(mpsc::UnboundedReceiver<Event>, Progress) + Send + 'static,
    ) -> Result<Self, Error> {
        let (journal, events, progress) = Self::new();
        let writer = std::thread::Builder::new()
            .name(format!("tim-journal-{job}"))
            .spawn(move || writer(events, progress))
            .map_err(store)?;
        *journal.shared.writer.lock().unwrap_or_else(PoisonError::into_inner) = Some(writer);
        Ok(journal)
    }

    /// A journal whose events go to `writer`, a task on the current runtime.
    pub(crate) fn on_task<F>(writer: impl FnOnce(mpsc::UnboundedReceiver<Event>, Progress) -> F) -> Self
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let (journal, events, progress) = Self::new();
        tokio::spawn(writer(events, progress));
        journal
    }

    fn new() -> (Self, mpsc::UnboundedReceiver<Event>, Progress) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let (durable, _) = watch::channel(Durable::default());
        let progress = Progress { durable: durable.clone(), committed: 0 };
        let shared = Shared { queue: Mutex::new((Some(sender), 0)), durable, writer: Mutex::new(None) };
        (Self { shared: Arc::new(shared) }, receiver, progress)
    }

    fn push(&self, event: Event) -> u64 {
        let mut queue = self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let (sender, count) = &mut *queue;
        *count += 1;
        if let Some(sender) = sender {
            // A writer that stopped has said why in `durable`; the event is then not recorded.
            let _ = sender.send(event);
        }
        *count
    }

    /// Waits until every event so far is on disk, then stops the writer. An error if a write failed
    /// ([`Error::LeaseLost`] when another replica took the job over). Blocks: for
    /// the embedded store's journal, outside async code (use [`JobJournal::finish`] there).
    pub fn close(&self) -> Result<(), Error> {
        self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner).0 = None;
        let writer = self.shared.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(writer) = writer {
            writer.join().map_err(|_| Error::Stopped("the journal writer panicked".to_owned()))?;
        }
        self.outcome()
    }

    /// [`JobJournal::close`] for async code: waits for the writer's last commit without blocking the runtime.
    pub async fn finish(&self) -> Result<(), Error> {
        self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner).0 = None;
        let mut durable = self.shared.durable.subscribe();
        // The writer ends once the queue it reads is closed and drained (or when it stopped).
        let _ = durable.wait_for(|now| now.ended).await;
        let writer = self.shared.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(writer) = writer {
            // Its last commit is done; the thread has nothing left but to end.
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        self.outcome()
    }

    fn outcome(&self) -> Result<(), Error> {
        let durable = self.shared.durable.borrow();
        match (&durable.stopped, durable.lease_lost) {
            (_, Some(job)) => Err(Error::LeaseLost(job)),
            (Some(why), None) => Err(Error::Stopped(why.clone())),
            (None, None) => Ok(()),
        }
    }
}

impl Journal for JobJournal {
    fn sending(
        &self,
        chunk: &StoredChunk,
        covered: u64,
        at_ms: i64,
    ) -> BoxFuture<'static, Result<(), tim_transport::Error>> {
        let number = self.push(Event::Sending { chunk: chunk.clone(), covered, at_ms });
        let mut durable = self.shared.durable.subscribe();
        Box::pin(async move {
            let refused = |why: String| tim_transport::Error::NotSent {
                command: "v4/openim/batchsendmsg",
                reason: format!("the journal stopped recording: {why}"),
            };
            loop {
                {
                    let now = durable.borrow_and_update();
                    if now.committed >= number {
                        return Ok(());
                    }
                    if let Some(why) = &now.stopped {
                        return Err(refused(why.clone()));
                    }
                    if now.ended {
                        return Err(refused("the writer is gone".to_owned()));
                    }
                }
                if durable.changed().await.is_err() {
                    return Err(refused("the writer is gone".to_owned()));
                }
            }
        })
    }

    fn entry(&self, failure: &Failure, covered: u64) {
        self.push(Event::Entry { failure: failure.clone(), covered });
    }

    fn settled(&self, id: u64, outcome: ChunkOutcome) {
        self.push(Event::Settled { id, outcome });
    }

    fn input_done(&self, lines: u64) {
        self.push(Event::InputDone { lines });
    }
}

/// A job's journal tables inside one open transaction, as the events change them: the same logical tables on
/// every store (see the crate's docs). Each answer that says whether something was new or present is what keeps
/// an event applied twice from counting twice.
pub(crate) trait Tables {
    /// Records the chunk's body (again, if it was recorded before).
    async fn put_chunk(&mut self, chunk: &StoredChunk) -> Result<(), Error>;
    /// Marks the chunk in flight since `at_ms`; whether it was not in flight already.
    async fn add_in_flight(&mut self, chunk: u64, at_ms: i64) -> Result<bool, Error>;
    /// Ends the chunk's flight; whether it was in flight.
    async fn remove_in_flight(&mut self, chunk: u64) -> Result<bool, Error>;
    /// Records the entry of an input line; whether the line had none.
    async fn put_entry(&mut self, line: u64, encoded: &[u8]) -> Result<bool, Error>;
    /// Appends a line settled without being delivered at position `seq`.
    async fn log_settled(&mut self, seq: u64, encoded: &[u8]) -> Result<(), Error>;
    /// Records the failures of a settled chunk.
    async fn put_failures(&mut self, chunk: u64, encoded: &[u8]) -> Result<(), Error>;
    /// Marks the recipient as waiting for `round`; whether it was not waiting already.
    async fn add_requeued(&mut self, user: &str, round: u8) -> Result<bool, Error>;
    /// Takes these recipients out of the waiting ones; how many were waiting.
    async fn remove_requeued(&mut self, users: &[String]) -> Result<u64, Error>;
}

/// Applies a group of events to the job's record and tables, in the transaction the tables are in. Repeats are
/// harmless: an entry recorded again for its line and a chunk settled twice count once.
pub(crate) async fn apply(tables: &mut impl Tables, info: &mut JobInfo, group: &[Event]) -> Result<(), Error> {
    for event in group {
        match event {
            Event::Sending { chunk, covered, at_ms } => {
                tables.put_chunk(chunk).await?;
                if tables.add_in_flight(chunk.id, *at_ms).await? {
                    info.counters.in_flight += 1;
                    info.counters.chunks += 1;
                }
                if info.counters.requeued > 0 {
                    // A chunk of recipients that were waiting (for another round, or not sent when a run stopped)
                    // takes them back. A recipient is in one chunk at a time, so this is exact.
                    let users: Vec<String> =
                        chunk.recipients().unwrap_or_default().into_iter().map(|(u, _)| u).collect();
                    let taken = tables.remove_requeued(&users).await?;
                    info.counters.requeued = info.counters.requeued.saturating_sub(taken);
                }
                info.covered = info.covered.max(*covered);
                info.next_chunk = info.next_chunk.max(chunk.id + 1);
                info.updated_ms = info.updated_ms.max(*at_ms);
            }
            Event::Entry { failure, covered } => {
                let line = failure.line.unwrap_or(0);
                let encoded = serde_json::to_vec(failure).map_err(store)?;
                if tables.put_entry(line, &encoded).await? {
                    match failure.status {
                        Settled::Duplicate => info.counters.duplicates += 1,
                        _ => info.counters.invalid += 1,
                    }
                    tables.log_settled(info.settled, &encoded).await?;
                    info.settled += 1;
                }
                info.covered = info.covered.max(*covered);
            }
            Event::Settled { id, outcome } => {
                if !tables.remove_in_flight(*id).await? {
                    continue;
                }
                let counters = &mut info.counters;
                counters.in_flight -= 1;
                counters.delivered += outcome.delivered;
                counters.resolved += outcome.resolved;
                for failure in &outcome.failures {
                    tables.log_settled(info.settled, &serde_json::to_vec(failure).map_err(store)?).await?;
                    info.settled += 1;
                    if failure.outcome_unknown {
                        counters.outcome_unknown += 1;
                    } else {
                        counters.failed += 1;
                        *counters.failed_by_code.entry(failure.code.unwrap_or(0)).or_default() += 1;
                    }
                }
                if !outcome.failures.is_empty() {
                    tables.put_failures(*id, &serde_json::to_vec(&outcome.failures).map_err(store)?).await?;
                }
                for (user, round) in &outcome.requeued {
                    if tables.add_requeued(user, *round).await? {
                        counters.requeued += 1;
                    }
                }
            }
            Event::InputDone { lines } => info.lines = Some(*lines),
        }
    }
    Ok(())
}

/// The embedded store's tables in one write transaction.
struct RedbTables<'tx> {
    job: JobId,
    chunks: redb::Table<'tx, (u64, u64), &'static [u8]>,
    in_flight: redb::Table<'tx, (u64, u64), i64>,
    entries: redb::Table<'tx, (u64, u64), &'static [u8]>,
    failures: redb::Table<'tx, (u64, u64), &'static [u8]>,
    requeued: redb::Table<'tx, (u64, &'static str), u8>,
    settled: redb::Table<'tx, (u64, u64), &'static [u8]>,
}

impl Tables for RedbTables<'_> {
    async fn put_chunk(&mut self, chunk: &StoredChunk) -> Result<(), Error> {
        self.chunks.insert((self.job, chunk.id), encode_chunk(chunk).as_slice()).map_err(store)?;
        Ok(())
    }

    async fn add_in_flight(&mut self, chunk: u64, at_ms: i64) -> Result<bool, Error> {
        Ok(self.in_flight.insert((self.job, chunk), at_ms).map_err(store)?.is_none())
    }

    async fn remove_in_flight(&mut self, chunk: u64) -> Result<bool, Error> {
        Ok(self.in_flight.remove((self.job, chunk)).map_err(store)?.is_some())
    }

    async fn put_entry(&mut self, line: u64, encoded: &[u8]) -> Result<bool, Error> {
        Ok(self.entries.insert((self.job, line), encoded).map_err(store)?.is_none())
    }

    async fn log_settled(&mut self, seq: u64, encoded: &[u8]) -> Result<(), Error> {
        self.settled.insert((self.job, seq), encoded).map_err(store)?;
        Ok(())
    }

    async fn put_failures(&mut self, chunk: u64, encoded: &[u8]) -> Result<(), Error> {
        self.failures.insert((self.job, chunk), encoded).map_err(store)?;
        Ok(())
    }

    async fn add_requeued(&mut self, user: &str, round: u8) -> Result<bool, Error> {
        Ok(self.requeued.insert((self.job, user), round).map_err(store)?.is_none())
    }

    async fn remove_requeued(&mut self, users: &[String]) -> Result<u64, Error> {
        let mut taken = 0;
        for user in users {
            if self.requeued.remove((self.job, user.as_str())).map_err(store)?.is_some() {
                taken += 1;
            }
        }
        Ok(taken)
    }
}

/// The embedded store's writer: one commit (fsynced) per group of whatever events have arrived.
pub(crate) fn write_redb(
    db: &Database,
    job: JobId,
    mut events: mpsc::UnboundedReceiver<Event>,
    mut progress: Progress,
) {
    // The tables never wait, so the shared (async) rules run to completion on this thread.
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => return progress.stopped(job, &store(error)),
    };
    while let Some(first) = events.blocking_recv() {
        let group = rest_of_group(first, &mut events);
        match runtime.block_on(apply_redb(db, job, &group)) {
            Ok(()) => progress.committed(group.len()),
            Err(error) => return progress.stopped(job, &error),
        }
    }
}

async fn apply_redb(db: &Database, job: JobId, group: &[Event]) -> Result<(), Error> {
    let tx = db.begin_write().map_err(store)?;
    {
        let mut jobs = tx.open_table(JOBS).map_err(store)?;
        let mut info = {
            let value = jobs.get(job).map_err(store)?.ok_or(Error::NoSuchJob(job))?;
            JobInfo::decode(value.value())?
        };
        let mut tables = RedbTables {
            job,
            chunks: tx.open_table(CHUNKS).map_err(store)?,
            in_flight: tx.open_table(IN_FLIGHT).map_err(store)?,
            entries: tx.open_table(ENTRIES).map_err(store)?,
            failures: tx.open_table(FAILURES).map_err(store)?,
            requeued: tx.open_table(REQUEUED).map_err(store)?,
            settled: tx.open_table(SETTLED).map_err(store)?,
        };
        apply(&mut tables, &mut info, group).await?;
        jobs.insert(job, info.encode().as_slice()).map_err(store)?;
    }
    tx.commit().map_err(store)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{JobSpec, JobStore, Source};

    fn chunk(id: u64, users: &[&str]) -> StoredChunk {
        let listed: Vec<String> = users.iter().map(|user| format!("\"{user}\"")).collect();
        let body = format!(r#"{{"To_Account":[{}],"MsgSeq":1,"MsgRandom":2}}"#, listed.join(","));
        StoredChunk { id, body: bytes::Bytes::from(body), rounds: Vec::new(), keys: vec![1, 2] }
    }

    fn failure(user: &str, line: Option<u64>, status: Settled) -> Failure {
        Failure { user_id: user.to_owned(), line, status, code: None, reason: String::new(), outcome_unknown: false }
    }

    /// What the engine may say twice across runs counts once, and recipients handed back are taken back by
    /// whichever chunk sends them (round 0 included): otherwise every resume would send them again.
    #[tokio::test]
    async fn repeats_count_once_and_waiting_recipients_are_taken_back_by_the_chunk_that_sends_them() {
        let dir = std::env::temp_dir().join(format!("tim-jobs-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = JobStore::open(&dir).unwrap();
        let source = Source { path: "r.txt".into(), bytes: 0, sha256: String::new() };
        let job = store.create(JobSpec { message: serde_json::json!({}), source }, 0).unwrap();
        let journal = store.journal(job.id).unwrap();
        journal.sending(&chunk(0, &["a", "b"]), 2, 10).await.unwrap();
        journal.entry(&failure("a", Some(3), Settled::Duplicate), 3);
        journal.entry(&failure("a", Some(3), Settled::Duplicate), 3);
        // Chunk 0: `a` delivered, `b` handed back unsent (a cancelled run), in round 0.
        let outcome = ChunkOutcome { delivered: 1, requeued: vec![("b".into(), 0)], ..ChunkOutcome::default() };
        journal.settled(0, outcome.clone());
        journal.settled(0, outcome);
        journal.close().unwrap();
        let after = store.job(job.id).unwrap();
        assert_eq!((after.counters.delivered, after.counters.duplicates, after.counters.requeued), (1, 1, 1));
        assert_eq!(store.resume(job.id).unwrap().requeued, [("b".to_owned(), 0)]);
        assert_eq!(store.settled_since(job.id, 0, 10).unwrap().0.len(), 1, "the duplicate is listed once");

        // The next run sends `b` in a round-0 chunk and it is delivered: nothing waits, nothing is in flight.
        let journal = store.journal(job.id).unwrap();
        journal.sending(&chunk(1, &["b"]), 3, 20).await.unwrap();
        journal.settled(1, ChunkOutcome { delivered: 1, ..ChunkOutcome::default() });
        journal.input_done(3);
        journal.close().unwrap();
        let resume = store.resume(job.id).unwrap();
        assert!(resume.requeued.is_empty() && resume.in_flight.is_empty(), "{resume:?}");
        let done = store.finish_if_complete(job.id, 30).unwrap();
        assert_eq!((done.state, done.counters.delivered, done.counters.chunks), (crate::JobState::Finished, 2, 2));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
