//! The journal of one job: the engine's events, committed in groups by a writer thread.

use crate::error::{Error, store};
use crate::store::{CHUNKS, ENTRIES, FAILURES, IN_FLIGHT, JOBS, JobId, JobInfo, REQUEUED, SETTLED, encode_chunk};
use futures_util::future::BoxFuture;
use redb::{Database, ReadableTable as _};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use tim_transport::fanout::{ChunkOutcome, Failure, Journal, Settled, StoredChunk};
use tokio::sync::watch;

/// Most events in one commit.
const MAX_GROUP: usize = 16_384;

/// One thing the engine said, in the order it said it.
enum Event {
    Sending { chunk: StoredChunk, covered: u64, at_ms: i64 },
    Entry { failure: Failure, covered: u64 },
    Settled { id: u64, outcome: ChunkOutcome },
    InputDone { lines: u64 },
}

/// How far the writer has come: events up to `committed` (counting from 1) are on disk.
#[derive(Debug, Clone, Default)]
struct Durable {
    committed: u64,
    stopped: Option<String>,
}

/// The journal of one job ([`Journal`] for the fan-out engine). Events are queued without waiting; a writer
/// thread commits whatever has arrived in one transaction, fsynced, and then lets the chunks it recorded leave.
/// Close it with [`JobJournal::close`] to wait for the last commit.
#[derive(Debug, Clone)]
pub struct JobJournal {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// The queue to the writer and the number of events queued, together so numbers follow the queue's order.
    queue: Mutex<(Option<mpsc::Sender<Event>>, u64)>,
    durable: watch::Sender<Durable>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl JobJournal {
    pub(crate) fn start(db: Arc<Database>, job: JobId) -> Result<Self, Error> {
        let (sender, receiver) = mpsc::channel();
        let (durable, _) = watch::channel(Durable::default());
        let notify = durable.clone();
        let writer = std::thread::Builder::new()
            .name(format!("tim-journal-{job}"))
            .spawn(move || write(&db, job, &receiver, &notify))
            .map_err(store)?;
        Ok(Self {
            shared: Arc::new(Shared {
                queue: Mutex::new((Some(sender), 0)),
                durable,
                writer: Mutex::new(Some(writer)),
            }),
        })
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

    /// Waits until every event so far is on disk, then stops the writer. An error if a write failed.
    pub fn close(&self) -> Result<(), Error> {
        self.shared.queue.lock().unwrap_or_else(PoisonError::into_inner).0 = None;
        let writer = self.shared.writer.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(writer) = writer {
            writer.join().map_err(|_| Error::Stopped("the journal writer panicked".to_owned()))?;
        }
        match self.shared.durable.borrow().stopped.clone() {
            Some(why) => Err(Error::Stopped(why)),
            None => Ok(()),
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

/// The writer thread: one commit per group of whatever events have arrived.
fn write(db: &Database, job: JobId, events: &mpsc::Receiver<Event>, durable: &watch::Sender<Durable>) {
    let mut committed = 0u64;
    while let Ok(first) = events.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match events.try_recv() {
                Ok(event) => group.push(event),
                Err(_) => break,
            }
        }
        match apply(db, job, &group) {
            Ok(()) => {
                committed += group.len() as u64;
                durable.send_modify(|now| now.committed = committed);
            }
            Err(error) => {
                tracing::error!(job, %error, "the journal cannot write; the fan-out stops sending");
                durable.send_modify(|now| now.stopped = Some(error.to_string()));
                return;
            }
        }
    }
}

/// Applies a group of events in one transaction. Repeats are harmless: an entry recorded again for its line
/// and a chunk settled twice count once.
fn apply(db: &Database, job: JobId, group: &[Event]) -> Result<(), Error> {
    let tx = db.begin_write().map_err(store)?;
    {
        let mut jobs = tx.open_table(JOBS).map_err(store)?;
        let mut info = {
            let value = jobs.get(job).map_err(store)?.ok_or(Error::NoSuchJob(job))?;
            JobInfo::decode(value.value())?
        };
        let mut chunks = tx.open_table(CHUNKS).map_err(store)?;
        let mut in_flight = tx.open_table(IN_FLIGHT).map_err(store)?;
        let mut entries = tx.open_table(ENTRIES).map_err(store)?;
        let mut failures = tx.open_table(FAILURES).map_err(store)?;
        let mut requeued = tx.open_table(REQUEUED).map_err(store)?;
        let mut settled = tx.open_table(SETTLED).map_err(store)?;
        let mut log = |info_settled: &mut u64, encoded: &[u8]| -> Result<(), Error> {
            settled.insert((job, *info_settled), encoded).map_err(store)?;
            *info_settled += 1;
            Ok(())
        };
        let counters = &mut info.counters;
        for event in group {
            match event {
                Event::Sending { chunk, covered, at_ms } => {
                    chunks.insert((job, chunk.id), encode_chunk(chunk).as_slice()).map_err(store)?;
                    if in_flight.insert((job, chunk.id), *at_ms).map_err(store)?.is_none() {
                        counters.in_flight += 1;
                        counters.chunks += 1;
                    }
                    if counters.requeued > 0 {
                        // A chunk of recipients that were waiting (for another round, or not sent when a run
                        // stopped) takes them back. A recipient is in one chunk at a time, so this is exact.
                        for (user, _) in chunk.recipients().unwrap_or_default() {
                            if requeued.remove((job, user.as_str())).map_err(store)?.is_some() {
                                counters.requeued -= 1;
                            }
                        }
                    }
                    info.covered = info.covered.max(*covered);
                    info.next_chunk = info.next_chunk.max(chunk.id + 1);
                    info.updated_ms = info.updated_ms.max(*at_ms);
                }
                Event::Entry { failure, covered } => {
                    let line = failure.line.unwrap_or(0);
                    let encoded = serde_json::to_vec(failure).map_err(store)?;
                    if entries.insert((job, line), encoded.as_slice()).map_err(store)?.is_none() {
                        match failure.status {
                            Settled::Duplicate => counters.duplicates += 1,
                            _ => counters.invalid += 1,
                        }
                        log(&mut info.settled, &encoded)?;
                    }
                    info.covered = info.covered.max(*covered);
                }
                Event::Settled { id, outcome } => {
                    if in_flight.remove((job, *id)).map_err(store)?.is_none() {
                        continue;
                    }
                    counters.in_flight -= 1;
                    counters.delivered += outcome.delivered;
                    counters.resolved += outcome.resolved;
                    for failure in &outcome.failures {
                        log(&mut info.settled, &serde_json::to_vec(failure).map_err(store)?)?;
                        if failure.outcome_unknown {
                            counters.outcome_unknown += 1;
                        } else {
                            counters.failed += 1;
                            *counters.failed_by_code.entry(failure.code.unwrap_or(0)).or_default() += 1;
                        }
                    }
                    if !outcome.failures.is_empty() {
                        let encoded = serde_json::to_vec(&outcome.failures).map_err(store)?;
                        failures.insert((job, *id), encoded.as_slice()).map_err(store)?;
                    }
                    for (user, round) in &outcome.requeued {
                        if requeued.insert((job, user.as_str()), *round).map_err(store)?.is_none() {
                            counters.requeued += 1;
                        }
                    }
                }
                Event::InputDone { lines } => info.lines = Some(*lines),
            }
        }
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
