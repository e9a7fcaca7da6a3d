//! The batch fan-out engine: one message to any number of users, in batchsendmsg calls of at most 500 recipients
//! and 12,000 bytes, accounting for every recipient.
//!
//! The message is serialized once per fan-out; each chunk's body is that serialized message spliced after the
//! chunk's recipients and its own deduplication keys: every field the command table pins for batchsendmsg
//! (`MsgSeq` and `MsgRandom`), drawn once from the CSPRNG and kept for every retry of that body.
//! Chunks go out with bounded concurrency through the client (so they are paced and retried like any call).
//! Recipients that fail with a transient code are gathered into new chunks (new bodies, new `MsgRandom`) for a
//! few more rounds; permanent failures are reported with their code. Duplicate and invalid UserIDs in the input
//! are reported and never sent.
//!
//! Every input entry is accounted for, once: delivered, failed with its code, of unknown outcome, invalid (with its
//! line number and why: not UTF-8, too long, empty, not a UserID), a duplicate, or (after a cancellation) never sent.
//! Input is bytes ([`InputLine`]), so a line that is not UTF-8 is reported, not lost. With
//! [`Fanout::stream_settled`] every entry that was not delivered is handed over as soon as it is settled, in
//! batches, and the engine waits for the receiver when it falls behind, so memory stays bounded however many fail.
//!
//! Memory stays bounded whatever the input's length: the input is read as chunks are needed, only chunks in
//! flight hold recipients (as the bytes of their request body, with no allocation per recipient), delivered
//! recipients are counted, not kept, and duplicates are found through a compact set of 64-bit keyed
//! fingerprints (about 8 bytes a recipient, see `seen.rs`). Two different UserIDs share a fingerprint with a probability of about n²/2⁶⁵ (3 in a
//! million for ten million recipients); such a recipient would be reported as a duplicate, not silently dropped.

use crate::client::Client;
use crate::error::Error;
use bytes::Bytes;
use futures_util::{FutureExt, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tim_model::api::TypedRequest;
use tim_model::c2c::{BatchSendMsgRequest, BatchSendMsgResult};
use tim_model::catalog::{RetryClass, retry_class};
use tim_model::envelope::Response;
use tim_model::validate::{MAX_BATCH_RECIPIENTS, MAX_MSG_BYTES, Validate, first_json_special};
use tim_model::{UserId, ValidationError};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

pub use journal::{ChunkOutcome, Journal, Resume, StoredChunk};

/// Knobs of a fan-out, with named defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FanoutOptions {
    /// Chunks in flight at once.
    pub concurrency: usize,
    /// How many times a recipient that failed with a transient code is sent again in a new chunk.
    pub transient_rounds: u32,
    /// Most recipients per chunk (at most 500, the service's limit).
    pub max_recipients: usize,
    /// Most bytes per chunk's JSON packet (at most 12,000, the service's limit).
    pub max_bytes: usize,
    /// Settle unknown outcomes from the roaming history (`admin_getroammsg`) when the message is kept there:
    /// found recipients count as delivered, absent ones are sent again in a new chunk.
    pub resolve_unknown: bool,
    /// How long after sending a chunk of unknown outcome its history is looked up.
    pub resolve_delay: Duration,
}

/// Chunks in flight at once unless configured.
pub const DEFAULT_FANOUT_CONCURRENCY: usize = 16;
/// Extra rounds for transient failures unless configured.
pub const DEFAULT_TRANSIENT_ROUNDS: u32 = 3;
/// The wait before an unknown outcome is looked up unless configured: the service has long finished with a
/// request by then (its own processing timeout is 3 s, counted from when the request arrived).
pub const DEFAULT_RESOLVE_DELAY: Duration = Duration::from_secs(4);

impl Default for FanoutOptions {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_FANOUT_CONCURRENCY,
            transient_rounds: DEFAULT_TRANSIENT_ROUNDS,
            max_recipients: MAX_BATCH_RECIPIENTS,
            max_bytes: MAX_MSG_BYTES,
            resolve_unknown: true,
            resolve_delay: DEFAULT_RESOLVE_DELAY,
        }
    }
}

/// What became of an input entry that was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settled {
    /// The service refused it, or it was never sent (`code` says which).
    Failed,
    /// It was sent and no answer said what happened: check before sending again.
    OutcomeUnknown,
    /// The line is not a UserID (see `reason`); never sent.
    Invalid,
    /// The line repeats an earlier recipient; not sent again.
    Duplicate,
}

/// Why a recipient did not get the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The recipient as it appeared in the input (for a line that is not UTF-8, with the bad bytes replaced; for
    /// a line over [`MAX_LINE_BYTES`], its start only).
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// The input line, counting from 1, for invalid and duplicate entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// What became of it.
    pub status: Settled,
    /// The service's error code, when it gave one (70107: the account does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// What happened, in words.
    pub reason: String,
    /// The message may have been delivered although no answer said so (a call whose outcome is unknown).
    pub outcome_unknown: bool,
}

/// Counters while a fan-out runs: `read` is always the sum of the others but `failed_by_code`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanoutProgress {
    /// Input entries read so far (blank and invalid lines and duplicates included).
    pub read: u64,
    /// Recipients the service accepted.
    pub delivered: u64,
    /// Recipients that failed for good: refused by the service, or never sent.
    pub failed: u64,
    /// Recipients sent without an answer saying what happened.
    pub outcome_unknown: u64,
    /// Recipients whose unknown outcome the history settled as delivered (counted in `delivered` too).
    pub resolved: u64,
    /// Lines that are not UserIDs.
    pub invalid: u64,
    /// Input lines that repeated an earlier recipient.
    pub duplicates: u64,
    /// Recipients read but not yet settled (in flight or waiting for another round).
    pub pending: u64,
    /// The failed recipients by service code (`0`: never sent).
    pub failed_by_code: BTreeMap<i64, u64>,
}

/// The final account of a fan-out: every entry read from the input appears exactly once, as delivered (in the
/// count), in `failures` (failed, unknown outcome or invalid), or in `duplicates`. When the entries were streamed
/// ([`Fanout::stream_settled`]), `failures` and `duplicates` are empty and the counts say how many went out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FanoutReport {
    /// Input entries read (blank and invalid lines and duplicates included).
    pub read: u64,
    /// Recipients the service accepted.
    pub delivered: u64,
    /// Recipients that failed for good: refused by the service, or never sent.
    pub failed: u64,
    /// Recipients sent without an answer saying what happened: check before sending again.
    pub outcome_unknown: u64,
    /// Recipients whose unknown outcome the history settled as delivered (counted in `delivered` too).
    pub resolved: u64,
    /// Lines that are not UserIDs.
    pub invalid: u64,
    /// Lines that repeated an earlier recipient.
    pub duplicate_lines: u64,
    /// The failed recipients by service code (`0`: never sent).
    pub failed_by_code: BTreeMap<i64, u64>,
    /// Each entry that failed, has an unknown outcome or is invalid (empty when streamed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// Input lines that repeated an earlier recipient, once per repetition (empty when streamed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// batchsendmsg calls made (retries of the same body not counted).
    pub chunks: u64,
    /// The fan-out was cancelled: input after the cancellation was not read.
    pub cancelled: bool,
}

/// Stops a running fan-out: no more input is read and no new chunk is sent; chunks in flight finish.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl CancelHandle {
    /// Asks the fan-out to stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether cancellation was asked.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Waits until cancellation is asked.
    pub async fn cancelled(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_cancelled() {
            return;
        }
        notified.await;
    }
}

/// One message to many recipients.
///
/// Build it with [`Fanout::new`], optionally watch it ([`Fanout::progress`]), stream what was not delivered
/// ([`Fanout::stream_settled`]) or keep a [`Fanout::cancel_handle`], then [`Fanout::run`] it over the recipients, one
/// UserID an entry (lines of a file: `tim_jobs::input::lines` reads one in blocks).
///
/// ```
/// use futures_util::stream;
/// use tim_model::MsgBody;
/// use tim_model::c2c::BatchSendMsgRequest;
/// use tim_sig::SecretKey;
/// use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};
/// # use tim_emulator::Emulator;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
/// # let emulator = Emulator::builder(1_400_000_000, SecretKey::new("console-secret")?, clock).build()?;
/// # let ids: Vec<String> = (0..1_200).map(|i| format!("user{i}")).collect();
/// # emulator.create_accounts(&ids)?;
/// # let emulator = emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?;
/// # let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
/// # let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
/// let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Our summer sale starts today"));
/// let fanout = Fanout::new(client, &message, FanoutOptions::default())?;
///
/// // 1,200 users, one of them twice, and a line that is no UserID.
/// let mut lines: Vec<String> = (0..1_200).map(|i| format!("user{i}")).collect();
/// lines.extend(["user7".to_owned(), "not a user id because it is far too long".to_owned()]);
/// let report = fanout.run(stream::iter(lines)).await;
///
/// assert_eq!((report.read, report.delivered, report.duplicate_lines, report.invalid), (1_202, 1_200, 1, 1));
/// assert_eq!(report.chunks, 3); // at most 500 recipients a call
/// assert_eq!(report.failures[0].line, Some(1_202));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Fanout {
    client: Client,
    options: FanoutOptions,
    /// The message's fields after the recipients and the keys: `,"MsgBody":[...],...}` or `}`.
    tail: Bytes,
    /// The pinned keys' JSON prefixes, `,"MsgSeq":` and `,"MsgRandom":`, in the table's order.
    keys: Arc<[Box<[u8]>]>,
    progress: watch::Sender<FanoutProgress>,
    cancel: CancelHandle,
    settled: Option<mpsc::Sender<Vec<Failure>>>,
    /// Where `MsgSeq` and `MsgRandom` sit among the pinned keys, when both are pinned.
    key_positions: Option<(usize, usize)>,
    resolver: Option<resolve::Resolver>,
    journal: Option<Arc<dyn Journal>>,
    resume: Resume,
    fence: Option<crate::Fence>,
}

/// The longest input line read whole; a longer one is reported as invalid with its start only.
pub const MAX_LINE_BYTES: usize = 4096;

/// How many bytes of an invalid line a report repeats.
const SHOWN_BYTES: usize = 64;

/// Settled entries per batch handed to [`Fanout::stream_settled`]'s receiver.
pub const SETTLED_BATCH: usize = 256;

/// One entry of a fan-out's input: a line without its line ending (a trailing `\r` is ignored too).
pub trait InputLine {
    /// The line's bytes.
    fn bytes(&self) -> &[u8];
    /// When the reader kept only the start of a line longer than [`MAX_LINE_BYTES`]: how long it really was.
    fn cut_from(&self) -> Option<u64> {
        None
    }
}

macro_rules! input_line_of_bytes {
    ($($ty:ty),+) => {
        $(impl InputLine for $ty {
            fn bytes(&self) -> &[u8] {
                AsRef::<[u8]>::as_ref(self)
            }
        })+
    };
}

input_line_of_bytes!(String, &String, &str, Vec<u8>, &[u8], Bytes);

/// The start of every chunk's body, up to its first recipient (the model's).
const HEAD: &[u8] = tim_model::c2c::BATCH_HEAD;
/// The longest decimal u32.
const MAX_RANDOM_DIGITS: usize = 10;

impl Fanout {
    /// Prepares a fan-out of `message` (a batchsendmsg whose `To_Account`, `MsgSeq` and `MsgRandom` are ignored:
    /// each chunk gets its own). Fails when the message cannot be sent even to one recipient.
    pub fn new(client: Client, message: &BatchSendMsgRequest, options: FanoutOptions) -> Result<Self, Error> {
        let command = BatchSendMsgRequest::command().path;
        let template = message.batch_template().map_err(|reason| Error::NotSent { command, reason })?;
        let invalid = |error: ValidationError| Error::Invalid { command, errors: error.into() };
        if options.concurrency == 0 {
            return Err(invalid(ValidationError::new("concurrency", tim_model::Problem::Rule("must be at least 1"))));
        }
        let max_recipients = options.max_recipients.clamp(1, MAX_BATCH_RECIPIENTS);
        let max_bytes = options.max_bytes.min(MAX_MSG_BYTES);
        // The message must pass validation for a one-recipient chunk with the longest UserID.
        let mut probe = message.clone();
        probe.to_account = vec![UserId::new("x".repeat(tim_model::MAX_USER_ID_BYTES)).map_err(invalid)?];
        (probe.msg_seq, probe.msg_random) = (None, None);
        probe.pin_dedupe_keys(&mut || u32::MAX);
        probe.validate().map_err(|errors| Error::Invalid { command, errors })?;
        let options = FanoutOptions { max_recipients, max_bytes, ..options };
        let (progress, _) = watch::channel(FanoutProgress::default());
        let keys: Arc<[Box<[u8]>]> = template.key_prefixes.into();
        let key_positions = template.seq_and_random;
        let resolver = (options.resolve_unknown && key_positions.is_some())
            .then(|| resolve::Resolver::for_message(&client, message, options.resolve_delay))
            .flatten();
        Ok(Self {
            client,
            options,
            tail: Bytes::from(template.tail),
            keys,
            progress,
            cancel: CancelHandle::default(),
            settled: None,
            key_positions,
            resolver,
            journal: None,
            resume: Resume::default(),
            fence: None,
        })
    }

    /// Sends each chunk only while `fence` is open, checked as its bytes are about to leave (quota waits
    /// included): a chunk it keeps back was not sent, and its recipients wait for another round. For a job run by
    /// whichever replica holds its lease: one that lost the lease sends nothing more of the job.
    pub fn fence(&mut self, fence: crate::Fence) {
        self.fence = Some(fence);
    }

    /// Writes down every chunk before it is sent, and what became of it, in `journal`; `resume` is where an
    /// earlier run of the same job stopped (the default for a new job). The input given to [`Fanout::run`] must
    /// then be the job's whole input, from its first line: lines up to `resume.covered` are read again only to
    /// know which recipients were seen.
    pub fn journal(&mut self, journal: Arc<dyn Journal>, resume: Resume) {
        self.journal = Some(journal);
        self.resume = resume;
    }

    /// Whether unknown outcomes of this fan-out are settled from the history (see [`FanoutOptions`]).
    pub fn resolves_unknown(&self) -> bool {
        self.resolver.is_some()
    }

    /// Hands every entry that was not delivered to the returned receiver as soon as it is settled, in batches of
    /// up to [`SETTLED_BATCH`] (the report then lists none itself, only their counts). At most `capacity` batches
    /// wait in the channel; past that the fan-out waits for the receiver, so memory stays bounded. The receiver
    /// must be read while the fan-out runs; once it is dropped, entries are counted and no longer kept.
    pub fn stream_settled(&mut self, capacity: usize) -> mpsc::Receiver<Vec<Failure>> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        self.settled = Some(sender);
        receiver
    }

    /// Watches the counters while the fan-out runs.
    pub fn progress(&self) -> watch::Receiver<FanoutProgress> {
        self.progress.subscribe()
    }

    /// A handle that cancels the fan-out.
    pub fn cancel_handle(&self) -> CancelHandle {
        self.cancel.clone()
    }

    /// Sends the message to every recipient of `recipients` (UserIDs, one entry a line, with or without a line
    /// ending) and returns the account of each entry.
    pub async fn run<S, T>(mut self, recipients: S) -> FanoutReport
    where
        S: Stream<Item = T> + Unpin,
        T: InputLine,
    {
        let mut run = Run::new(&self);
        // Size the duplicate set once when the input says how long it is (a file does not; it then grows).
        run.seen.reserve(recipients.size_hint().0);
        self.take_resume(&mut run);
        let mut input = recipients.fuse();
        let mut batch = Vec::with_capacity(READ_BATCH);
        let mut input_done = false;
        let mut in_flight: JoinSet<Done> = JoinSet::new();
        // Journaled, a chunk first waits for its record to be on disk. Unpaced, more chunks are under way than are
        // sent at once, so the commits overlap the sending (`sending` holds the HTTP concurrency to its setting).
        // Paced, the quota sets the rate and recording ahead would only leave more chunks to look up after a crash.
        let ahead = self.journal.is_some() && self.client.pacer().is_unlimited();
        let window = self.options.concurrency * if ahead { JOURNALED_AHEAD } else { 1 };
        let sending = ahead.then(|| Arc::new(tokio::sync::Semaphore::new(self.options.concurrency)));
        let rounds = self.options.transient_rounds;
        loop {
            while let Some(joined) = in_flight.try_join_next() {
                run.settle_joined(joined, rounds);
            }
            run.hand_over(false).await;
            // Look-ups first: they send nothing, so they go on after a cancellation too.
            while in_flight.len() < window
                && let Some(resolver) = &self.resolver
                && let Some(unresolved) = run.resolving.pop()
            {
                let (client, resolver) = (self.client.clone(), resolver.clone());
                let (seq, random) = self
                    .key_positions
                    .map_or((0, 0), |(seq, random)| (unresolved.chunk.keys[seq], unresolved.chunk.keys[random]));
                in_flight.spawn(async move {
                    let ids = unresolved.chunk.recipients().map(|(id, _)| id.into_owned()).collect();
                    let found = resolver.look_up(&client, ids, seq, random, unresolved.sent_ms).await;
                    Done::LookedUp { unresolved, found }
                });
            }
            // Launch: retry rounds first, then chunks built ahead.
            while in_flight.len() < window && !self.cancel.is_cancelled() {
                let last_call = input_done && in_flight.is_empty() && run.ready.is_empty();
                let Some(mut chunk) = run.retries.take(last_call).or_else(|| run.ready.pop_front()) else { break };
                run.chunks += 1;
                chunk.id = run.next_id;
                run.next_id += 1;
                let sent_ms = self.client.wall_clock_ms();
                let recorded =
                    self.journal.as_ref().map(|journal| journal.sending(&chunk.stored(), run.covered(), sent_ms));
                let client = self.client.clone();
                let recipients = chunk.len() as u32;
                let body = chunk.body.clone();
                let cancel = self.cancel.clone();
                let fence = self.fence.clone();
                let sending = sending.clone();
                in_flight.spawn(async move {
                    let command = BatchSendMsgRequest::command();
                    // Nothing leaves before the journal holds the chunk; a journal that cannot write stops the run.
                    if let Some(recorded) = recorded
                        && let Err(error) = recorded.await
                    {
                        cancel.cancel();
                        let reason = format!("the journal could not record the chunk: {error}");
                        let result = Err(Error::NotSent { command: command.path, reason });
                        return Done::Sent { chunk, result, sent_ms };
                    }
                    // A chunk still waiting for its quota when the fan-out is cancelled is not sent at all.
                    let _permit = match sending {
                        Some(sending) => sending.acquire_owned().await.ok(),
                        None => None,
                    };
                    let result = match &fence {
                        Some(fence) => client.send_bytes_fenced(command, body, recipients, &cancel, fence).await,
                        None => client.send_bytes_unless_cancelled(command, body, recipients, &cancel).await,
                    };
                    Done::Sent { chunk, result, sent_ms }
                });
            }
            // Build chunks ahead while the window is busy, so a free slot never waits for the input.
            if !input_done && !self.cancel.is_cancelled() && run.ready.len() < window {
                input_done = self.read_some(&mut run, &mut input, &mut batch).await && !self.cancel.is_cancelled();
                if input_done && let Some(journal) = &self.journal {
                    journal.input_done(run.line);
                }
                continue;
            }
            run.publish(&self.progress);
            let stopped = self.cancel.is_cancelled();
            let drained = input_done && run.ready.is_empty() && run.retries.is_empty();
            if in_flight.is_empty() && run.resolving.is_empty() && (stopped || drained) {
                break;
            }
            if let Some(joined) = in_flight.join_next().await {
                run.settle_joined(joined, rounds);
            }
        }
        run.finish(&self.cancel).await
    }

    /// Takes over where an earlier run of the journaled job stopped.
    fn take_resume(&mut self, run: &mut Run) {
        let resume = std::mem::take(&mut self.resume);
        run.skip = resume.covered;
        run.next_id = resume.next_chunk;
        for (stored, sent_ms) in resume.in_flight {
            let id = stored.id;
            let Some(chunk) = Chunk::from_stored(stored) else {
                tracing::error!(chunk = id, "a journaled chunk cannot be read back; its recipients stay unsettled");
                continue;
            };
            run.progress.pending += chunk.len() as u64;
            let why = "the fan-out stopped while the chunk was being sent".to_owned();
            run.unknown(chunk, sent_ms, why, None);
        }
        for (id, round) in resume.requeued {
            run.requeue(&id, round);
        }
    }

    /// Reads the input that is ready (waiting only when none is) until a chunk is finished, and takes it into
    /// chunks; `true` when the input is exhausted (what is left is then chunked too). A cancellation stops the
    /// wait.
    async fn read_some<S, T>(
        &self,
        run: &mut Run,
        input: &mut futures_util::stream::Fuse<S>,
        batch: &mut Vec<T>,
    ) -> bool
    where
        S: Stream<Item = T> + Unpin,
        T: InputLine,
    {
        let ready = run.ready.len();
        loop {
            batch.clear();
            let (mut exhausted, mut waiting) = (false, false);
            while batch.len() < READ_BATCH {
                // Most streams have their next item ready: take it without setting up a cancellable wait.
                let next = match input.next().now_or_never() {
                    Some(next) => next,
                    None if batch.is_empty() => tokio::select! {
                        next = input.next() => next,
                        () = self.cancel.notify.notified() => return false,
                    },
                    None => {
                        waiting = true;
                        break;
                    }
                };
                match next {
                    Some(line) => batch.push(line),
                    None => {
                        exhausted = true;
                        break;
                    }
                }
            }
            run.read_batch(batch);
            if exhausted {
                run.ready.extend(run.fresh.flush());
                return true;
            }
            // Back to the caller to launch what is built, to settle answers while the input has nothing, or to hand
            // over what was settled while reading.
            if waiting || run.ready.len() > ready || run.out.len() >= SETTLED_BATCH {
                return false;
            }
        }
    }
}

/// How many times the concurrency an unpaced journaled fan-out has under way (being recorded, or recorded and
/// waiting to be sent): a crash leaves up to this many times the concurrency of chunks to look up.
const JOURNALED_AHEAD: usize = 4;

/// Input lines handled together: their duplicate checks are started before any is waited for.
const READ_BATCH: usize = 32;

/// Where one recipient's JSON string sits in a chunk's body, and which round it is in (0 for the first send).
#[derive(Debug, Clone, Copy)]
struct Slot {
    start: u32,
    len: u16,
    /// The JSON string holds escapes, so the UserID must be decoded rather than sliced.
    escaped: bool,
    round: u8,
}

/// One batchsendmsg: its finished body (shared with the request in flight) and where each recipient sits in it.
#[derive(Debug)]
struct Chunk {
    /// Given when the chunk is sent.
    id: u64,
    body: Bytes,
    slots: Vec<Slot>,
    /// The pinned keys' values, in the table's order.
    keys: Vec<u32>,
    /// The input line of its first recipient (none for a later round).
    first_line: Option<u64>,
}

/// What a task of the run ended with.
enum Done {
    /// A chunk was sent (or not, when cancelled), at `sent_ms`.
    Sent { chunk: Chunk, result: Result<Bytes, Error>, sent_ms: i64 },
    /// The history was looked up for each recipient of a chunk of unknown outcome.
    LookedUp { unresolved: Unresolved, found: Vec<Result<bool, Error>> },
}

/// A chunk sent without an answer saying what happened, waiting for its history to be looked up.
struct Unresolved {
    chunk: Chunk,
    sent_ms: i64,
    why: String,
    code: Option<i64>,
}

impl Chunk {
    fn len(&self) -> usize {
        self.slots.len()
    }

    /// The chunk as a journal keeps it.
    fn stored(&self) -> StoredChunk {
        let rounds = if self.slots.iter().any(|slot| slot.round > 0) {
            self.slots.iter().map(|slot| slot.round).collect()
        } else {
            Vec::new()
        };
        StoredChunk { id: self.id, body: self.body.clone(), rounds, keys: self.keys.clone() }
    }

    /// The chunk a journal kept: its recipients are found again in its body. `None` when the body is not one
    /// this engine wrote.
    fn from_stored(stored: StoredChunk) -> Option<Self> {
        let body = stored.body;
        let mut at = HEAD.len().checked_sub(1).filter(|_| body.starts_with(HEAD))?;
        let mut slots = Vec::new();
        loop {
            // At `[` or `,`: a JSON string follows, or (after the last) `]`.
            at += 1;
            if body.get(at) != Some(&b'"') {
                return None;
            }
            let start = at;
            let mut escaped = false;
            at += 1;
            loop {
                match *body.get(at)? {
                    b'\\' => {
                        escaped = true;
                        at += 2;
                    }
                    b'"' => break,
                    _ => at += 1,
                }
            }
            at += 1;
            let round = stored.rounds.get(slots.len()).copied().unwrap_or(0);
            let len = u16::try_from(at - start).ok()?;
            slots.push(Slot { start: u32::try_from(start).ok()?, len, escaped, round });
            match body.get(at)? {
                b',' => {}
                b']' => break,
                _ => return None,
            }
        }
        Some(Self { id: stored.id, body, slots, keys: stored.keys, first_line: None })
    }

    /// Each recipient's UserID and round.
    fn recipients(&self) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, u8)> + '_ {
        self.slots.iter().map(|slot| {
            let quoted = &self.body[slot.start as usize..slot.start as usize + usize::from(slot.len)];
            let id = if slot.escaped {
                std::borrow::Cow::Owned(serde_json::from_slice::<String>(quoted).unwrap_or_default())
            } else {
                // Unescaped JSON strings are the UserID's own UTF-8 between quotes.
                std::borrow::Cow::Borrowed(std::str::from_utf8(&quoted[1..quoted.len() - 1]).unwrap_or_default())
            };
            (id, slot.round)
        })
    }
}

/// Builds chunks that respect the recipient and byte limits, writing each recipient straight into the body.
#[derive(Debug)]
struct Chunker {
    body: Vec<u8>,
    slots: Vec<Slot>,
    max_recipients: usize,
    /// Most body bytes before the keys and the message: the limit less everything but the recipients.
    max_head_bytes: usize,
    /// The bytes after the recipients at most: `]`, the keys and the message.
    max_rest_bytes: usize,
    tail: Bytes,
    keys: Arc<[Box<[u8]>]>,
    /// The input line of the first recipient of the chunk being built.
    first_line: Option<u64>,
}

impl Chunker {
    fn new(options: &FanoutOptions, tail: &Bytes, keys: &Arc<[Box<[u8]>]>) -> Self {
        let max_rest_bytes = 1 + keys.iter().map(|key| key.len() + MAX_RANDOM_DIGITS).sum::<usize>() + tail.len();
        Self {
            body: Vec::new(),
            slots: Vec::new(),
            max_recipients: options.max_recipients,
            max_head_bytes: options.max_bytes.saturating_sub(max_rest_bytes),
            max_rest_bytes,
            tail: tail.clone(),
            keys: Arc::clone(keys),
            first_line: None,
        }
    }

    /// Adds a recipient (a valid UserID). When it does not fit in the chunk being built, that chunk is finished into
    /// `finished` first. (Returning it instead would move an `Option<Chunk>` per recipient.)
    fn push(&mut self, id: &str, round: u8, line: Option<u64>, finished: &mut impl Extend<Chunk>) {
        let escaped = first_json_special(id.as_bytes()).is_some();
        let quoted_len = if escaped { serde_json::to_string(id).map_or(0, |q| q.len()) } else { id.len() + 2 };
        let start_len = if self.slots.is_empty() { HEAD.len() } else { self.body.len() + 1 };
        let full = self.slots.len() >= self.max_recipients || start_len + quoted_len > self.max_head_bytes;
        if full {
            finished.extend(self.flush());
        }
        if self.slots.is_empty() {
            self.first_line = line;
            self.body.reserve(self.max_head_bytes + self.max_rest_bytes);
            self.body.extend_from_slice(HEAD);
            self.slots.reserve(self.max_recipients);
        } else {
            self.body.push(b',');
        }
        let start = self.body.len() as u32;
        if escaped {
            let _ = serde_json::to_writer(&mut self.body, id);
        } else {
            self.body.push(b'"');
            self.body.extend_from_slice(id.as_bytes());
            self.body.push(b'"');
        }
        let len = (self.body.len() - start as usize) as u16;
        self.slots.push(Slot { start, len, escaped, round });
    }

    /// The chunk so far, finished with fresh keys and the message.
    fn flush(&mut self) -> Option<Chunk> {
        if self.slots.is_empty() {
            return None;
        }
        let mut body = std::mem::take(&mut self.body);
        body.push(b']');
        let mut values = Vec::with_capacity(self.keys.len());
        for key in self.keys.iter() {
            let value = rand::random::<u32>();
            values.push(value);
            body.extend_from_slice(key);
            body.extend_from_slice(itoa_u32(value).as_bytes());
        }
        body.extend_from_slice(&self.tail);
        let slots = std::mem::take(&mut self.slots);
        Some(Chunk { id: 0, body: Bytes::from(body), slots, keys: values, first_line: self.first_line.take() })
    }

    fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The recipients not yet flushed, as UserIDs.
    fn drain_ids(&mut self) -> Vec<String> {
        self.flush().map(|chunk| chunk.recipients().map(|(id, _)| id.into_owned()).collect()).unwrap_or_default()
    }
}

/// Recipients waiting for another round, chunked as they come.
#[derive(Debug)]
struct Retries {
    chunker: Chunker,
    ready: Vec<Chunk>,
}

impl Retries {
    /// A full retry chunk, or (when `flush` is set) whatever is waiting.
    fn take(&mut self, flush: bool) -> Option<Chunk> {
        self.ready.pop().or_else(|| if flush { self.chunker.flush() } else { None })
    }

    fn is_empty(&self) -> bool {
        self.ready.is_empty() && self.chunker.is_empty()
    }
}

/// The bookkeeping of one run.
struct Run {
    fresh: Chunker,
    /// Chunks built ahead, waiting for a free slot.
    ready: std::collections::VecDeque<Chunk>,
    retries: Retries,
    seen: seen::SeenSet,
    hasher: foldhash::fast::RandomState,
    progress: FanoutProgress,
    report: FanoutReport,
    chunks: u64,
    /// Settled entries not handed over yet (when streaming).
    out: Vec<Failure>,
    settled: Option<mpsc::Sender<Vec<Failure>>>,
    /// Chunks of unknown outcome waiting for their history to be looked up.
    resolving: Vec<Unresolved>,
    resolves: bool,
    /// Input lines read, skipped ones included (the number of the last line read).
    line: u64,
    /// Lines an earlier run accounted for: read only to refill the duplicate set.
    skip: u64,
    next_id: u64,
    journal: Option<Arc<dyn Journal>>,
    /// What became of the chunk being settled, for the journal.
    outcome: Option<ChunkOutcome>,
}

impl Run {
    fn new(fanout: &Fanout) -> Self {
        Self {
            fresh: Chunker::new(&fanout.options, &fanout.tail, &fanout.keys),
            ready: std::collections::VecDeque::new(),
            retries: Retries { chunker: Chunker::new(&fanout.options, &fanout.tail, &fanout.keys), ready: Vec::new() },
            seen: seen::SeenSet::default(),
            hasher: foldhash::fast::RandomState::default(),
            progress: FanoutProgress::default(),
            report: FanoutReport::default(),
            chunks: 0,
            out: Vec::new(),
            settled: fanout.settled.clone(),
            resolving: Vec::new(),
            resolves: fanout.resolver.is_some(),
            line: 0,
            skip: 0,
            next_id: 0,
            journal: fanout.journal.clone(),
            outcome: None,
        }
    }

    /// The last input line up to which every line is accounted for by what the journal was told: the line before
    /// the first recipient of the oldest chunk not yet sent.
    fn covered(&self) -> u64 {
        let first = self.ready.front().and_then(|chunk| chunk.first_line).or(self.fresh.first_line);
        first.map_or(self.line, |line| line - 1)
    }

    /// Tells the journal of an input line settled without a chunk.
    fn journal_entry(&self, failure: &Failure) {
        if let Some(journal) = &self.journal {
            journal.entry(failure, self.covered());
        }
    }

    /// Starts gathering what becomes of a chunk, when journaled.
    fn begin(&mut self) {
        if self.journal.is_some() {
            self.outcome = Some(ChunkOutcome::default());
        }
    }

    /// Tells the journal what became of the chunk `id`.
    fn end(&mut self, id: u64) {
        if let (Some(journal), Some(outcome)) = (&self.journal, self.outcome.take()) {
            journal.settled(id, outcome);
        }
    }

    fn delivered(&mut self, count: u64) {
        self.progress.delivered += count;
        if let Some(outcome) = &mut self.outcome {
            outcome.delivered += count;
        }
    }

    /// Hands the settled entries over to the stream, if any: a full batch, or what there is when `all`. Waits
    /// while the receiver is behind.
    async fn hand_over(&mut self, all: bool) {
        while self.out.len() >= SETTLED_BATCH || (all && !self.out.is_empty()) {
            let take = self.out.len().min(SETTLED_BATCH);
            let batch: Vec<Failure> = self.out.drain(..take).collect();
            if let Some(sender) = &self.settled
                && sender.send(batch).await.is_err()
            {
                tracing::warn!("the receiver of settled entries went away; they are counted, no longer listed");
                self.settled = None;
            }
        }
    }

    /// Records a settled entry: into the stream when there is one, else into the report.
    fn record(&mut self, failure: Failure) {
        if self.settled.is_some() {
            self.out.push(failure);
        } else if failure.status == Settled::Duplicate {
            self.report.duplicates.push(failure.user_id);
        } else {
            self.report.failures.push(failure);
        }
    }

    /// An input line that is not a UserID.
    fn invalid(&mut self, shown: &[u8], line: u64, reason: String) {
        self.progress.invalid += 1;
        let user_id = String::from_utf8_lossy(&shown[..shown.len().min(SHOWN_BYTES)]).into_owned();
        let failure =
            Failure { user_id, line: Some(line), status: Settled::Invalid, code: None, reason, outcome_unknown: false };
        self.journal_entry(&failure);
        self.record(failure);
    }

    /// Takes input entries into chunks (finished chunks join `ready`). Once the duplicate set is too large for the
    /// cache, the memory reads of all the entries' checks are started first (hashing each entry twice is cheaper
    /// than waiting for memory once); then each entry is handled in order.
    fn read_batch<T: InputLine>(&mut self, lines: &[T]) {
        if self.seen.misses_cache() {
            for line in lines {
                self.seen.prefetch(self.hasher.hash_one(entry(line.bytes())));
            }
        }
        for line in lines {
            let raw = entry(line.bytes());
            self.line += 1;
            let number = self.line;
            if number <= self.skip {
                // Accounted for by an earlier run: only its place in the duplicate set is wanted.
                let usable =
                    line.cut_from().is_none() && std::str::from_utf8(raw).is_ok_and(|id| !id.trim_ascii().is_empty());
                if usable {
                    self.seen.insert(self.hasher.hash_one(raw));
                }
                continue;
            }
            self.progress.read += 1;
            if let Some(length) = line.cut_from() {
                self.invalid(raw, number, format!("line of {length} bytes, over the {MAX_LINE_BYTES}-byte limit"));
                continue;
            }
            let Ok(id) = std::str::from_utf8(raw) else {
                self.invalid(raw, number, "not UTF-8".to_owned());
                continue;
            };
            if id.bytes().next().is_none_or(|first| first.is_ascii_whitespace()) && id.trim_ascii().is_empty() {
                self.invalid(raw, number, "empty line".to_owned());
                continue;
            }
            if !self.seen.insert(self.hasher.hash_one(raw)) {
                self.progress.duplicates += 1;
                let failure = Failure {
                    user_id: id.to_owned(),
                    line: Some(number),
                    status: Settled::Duplicate,
                    code: None,
                    reason: "repeats an earlier line".to_owned(),
                    outcome_unknown: false,
                };
                self.journal_entry(&failure);
                self.record(failure);
                continue;
            }
            match UserId::check(id) {
                Ok(()) => {
                    self.progress.pending += 1;
                    self.fresh.push(id, 0, Some(number), &mut self.ready);
                }
                Err(error) => self.invalid(raw, number, format!("invalid UserID: {}", error.detail())),
            }
        }
    }

    fn fail(&mut self, user_id: String, code: Option<i64>, reason: String, outcome_unknown: bool) {
        let status = if outcome_unknown {
            self.progress.outcome_unknown += 1;
            Settled::OutcomeUnknown
        } else {
            self.progress.failed += 1;
            *self.progress.failed_by_code.entry(code.unwrap_or(0)).or_default() += 1;
            Settled::Failed
        };
        let failure = Failure { user_id, line: None, status, code, reason, outcome_unknown };
        if let Some(outcome) = &mut self.outcome {
            outcome.failures.push(failure.clone());
        }
        self.record(failure);
    }

    /// A recipient not sent after all (the run was cancelled): failed for this run's report; for the journal, it
    /// waits for the next run, in the same round.
    fn not_sent(&mut self, user_id: String, round: u8, reason: String) {
        if let Some(outcome) = &mut self.outcome {
            outcome.requeued.push((user_id.clone(), round));
        }
        let outcome = self.outcome.take();
        self.fail(user_id, None, reason, false);
        self.outcome = outcome;
    }

    /// A chunk whose outcome is unknown: looked up in the history when the run can, else reported.
    fn unknown(&mut self, chunk: Chunk, sent_ms: i64, why: String, code: Option<i64>) {
        if self.resolves {
            self.resolving.push(Unresolved { chunk, sent_ms, why, code });
            return;
        }
        self.begin();
        self.progress.pending -= chunk.len() as u64;
        for (id, _) in chunk.recipients() {
            self.fail(id.into_owned(), code, format!("outcome unknown: {why}"), true);
        }
        self.end(chunk.id);
    }

    /// Accounts for a chunk of unknown outcome from its history.
    fn settle_looked_up(&mut self, unresolved: Unresolved, found: Vec<Result<bool, Error>>, rounds: u32) {
        let Unresolved { chunk, why, code, .. } = unresolved;
        self.begin();
        self.progress.pending -= chunk.len() as u64;
        for ((id, round), found) in chunk.recipients().zip(found) {
            match found {
                Ok(true) => {
                    self.progress.resolved += 1;
                    if let Some(outcome) = &mut self.outcome {
                        outcome.resolved += 1;
                    }
                    self.delivered(1);
                }
                // Never stored: as safe to send again as the first time.
                Ok(false) if u32::from(round) < rounds => self.requeue(&id, round + 1),
                Ok(false) => {
                    let reason = format!("not delivered ({why}; not in the history) and no round left");
                    self.fail(id.into_owned(), code, reason, false);
                }
                Err(error) => {
                    let reason = format!("outcome unknown: {why}; the history lookup failed: {error}");
                    self.fail(id.into_owned(), code, reason, true);
                }
            }
        }
        self.end(chunk.id);
    }

    /// Accounts for a finished chunk task.
    fn settle_joined(&mut self, joined: Result<Done, tokio::task::JoinError>, rounds: u32) {
        match joined {
            Ok(Done::Sent { chunk, result, sent_ms }) => self.settle(chunk, result, sent_ms, rounds),
            Ok(Done::LookedUp { unresolved, found }) => self.settle_looked_up(unresolved, found, rounds),
            // A send task cannot panic short of a bug; its recipients are then unaccounted for, so say so.
            Err(error) => tracing::error!(%error, "a fan-out chunk task failed"),
        }
    }

    /// Accounts for a finished chunk.
    fn settle(&mut self, chunk: Chunk, result: Result<Bytes, Error>, sent_ms: i64, rounds: u32) {
        let result = match result {
            Err(
                error @ (Error::TimedOut { .. }
                | Error::NoResponse { .. }
                | Error::Unreadable { .. }
                | Error::OutcomeUnknown { .. }),
            ) => {
                // Sent, but no answer said what happened: the message may have been delivered. Sending again
                // under a new MsgRandom could deliver it twice, so these recipients are looked up or reported.
                let code = error.service_code();
                return self.unknown(chunk, sent_ms, error.to_string(), code);
            }
            result => result,
        };
        self.begin();
        self.progress.pending -= chunk.len() as u64;
        match result {
            Ok(answer) => {
                let listed = error_list(&answer);
                if listed.is_empty() {
                    self.delivered(chunk.len() as u64);
                    return self.end(chunk.id);
                }
                for (id, round) in chunk.recipients() {
                    match listed.get(id.as_ref()) {
                        None => self.delivered(1),
                        Some(&code) => self.again_or_fail(&id, round, rounds, code, retry_class(code), ""),
                    }
                }
            }
            Err(Error::Refused { code, info, class, raw, .. }) => {
                // No recipient got it. Per-recipient codes, when listed, are more precise than the call's.
                let listed = error_list(&raw);
                for (id, round) in chunk.recipients() {
                    let (code, class) = match listed.get(id.as_ref()) {
                        Some(&own) => (own, retry_class(own)),
                        None => (code, class),
                    };
                    self.again_or_fail(&id, round, rounds, code, class, &info);
                }
            }
            Err(Error::NotSent { reason, .. }) => {
                // Cancelled before it left: nothing was sent.
                for (id, round) in chunk.recipients() {
                    self.not_sent(id.into_owned(), round, format!("not sent: {reason}"));
                }
            }
            Err(error @ Error::Connect { .. }) => {
                // Never sent: another round is as safe as the first.
                let reason = error.to_string();
                for (id, round) in chunk.recipients() {
                    if u32::from(round) < rounds {
                        self.requeue(&id, round + 1);
                    } else {
                        self.fail(id.into_owned(), None, format!("not sent: {reason}"), false);
                    }
                }
            }
            Err(error) => {
                // Any other failure of a call that may have acted: as unknown as a timeout, never re-sent blindly.
                let reason = error.to_string();
                let code = error.service_code();
                for (id, _) in chunk.recipients() {
                    self.fail(id.into_owned(), code, format!("outcome unknown: {reason}"), true);
                }
            }
        }
        self.end(chunk.id);
    }

    fn again_or_fail(&mut self, id: &str, round: u8, rounds: u32, code: i64, class: RetryClass, info: &str) {
        let transient = matches!(class, RetryClass::Transient | RetryClass::RateLimited);
        if transient && u32::from(round) < rounds {
            self.requeue(id, round + 1);
        } else {
            let meaning = tim_model::catalog::lookup(code).map_or(info, |known| known.meaning);
            let reason = if meaning.is_empty() { format!("error {code}") } else { format!("error {code}: {meaning}") };
            self.fail(id.to_owned(), Some(code), reason, false);
        }
    }

    fn requeue(&mut self, id: &str, round: u8) {
        self.progress.pending += 1;
        if let Some(outcome) = &mut self.outcome {
            outcome.requeued.push((id.to_owned(), round));
        }
        self.retries.chunker.push(id, round, None, &mut self.retries.ready);
    }

    fn publish(&self, progress: &watch::Sender<FanoutProgress>) {
        progress.send_replace(self.progress.clone());
    }

    async fn finish(mut self, cancel: &CancelHandle) -> FanoutReport {
        // After a cancellation, recipients still waiting (read, chunked, never sent) are reported as not sent.
        let mut waiting = self.fresh.drain_ids();
        waiting.extend(self.retries.chunker.drain_ids());
        let unsent: Vec<Chunk> = self.retries.ready.drain(..).chain(self.ready.drain(..)).collect();
        for chunk in unsent {
            waiting.extend(chunk.recipients().map(|(id, _)| id.into_owned()));
        }
        for id in waiting {
            self.progress.pending -= 1;
            self.fail(id, None, "not sent: the fan-out was cancelled".to_owned(), false);
        }
        self.hand_over(true).await;
        let progress = self.progress;
        FanoutReport {
            read: progress.read,
            delivered: progress.delivered,
            failed: progress.failed,
            outcome_unknown: progress.outcome_unknown,
            resolved: progress.resolved,
            invalid: progress.invalid,
            duplicate_lines: progress.duplicates,
            failed_by_code: progress.failed_by_code,
            failures: self.report.failures,
            duplicates: self.report.duplicates,
            chunks: self.chunks,
            cancelled: cancel.is_cancelled(),
        }
    }
}

impl StoredChunk {
    /// Each recipient's UserID and round, read back from the body; `None` when the body is not one the engine
    /// wrote.
    pub fn recipients(&self) -> Option<Vec<(String, u8)>> {
        let chunk = Chunk::from_stored(self.clone())?;
        Some(chunk.recipients().map(|(id, round)| (id.into_owned(), round)).collect())
    }
}

/// An input entry without its line ending.
fn entry(line: &[u8]) -> &[u8] {
    let id = line.strip_suffix(b"\n").unwrap_or(line);
    id.strip_suffix(b"\r").unwrap_or(id)
}

/// A u32 in decimal, without going through the formatting machinery.
struct Digits {
    bytes: [u8; MAX_RANDOM_DIGITS],
    start: usize,
}

impl Digits {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

fn itoa_u32(mut value: u32) -> Digits {
    let mut digits = Digits { bytes: [0; MAX_RANDOM_DIGITS], start: MAX_RANDOM_DIGITS };
    loop {
        digits.start -= 1;
        digits.bytes[digits.start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            return digits;
        }
    }
}

/// The `ErrorList` of a batchsendmsg answer, by recipient. Empty when absent or unreadable.
fn error_list(answer: &[u8]) -> HashMap<String, i64> {
    const KEY: &[u8] = b"\"ErrorList\"";
    if !answer.windows(KEY.len()).any(|window| window == KEY) {
        return HashMap::new();
    }
    serde_json::from_slice::<Response<BatchSendMsgResult>>(answer)
        .map(|response| response.body.error_list.into_iter().flatten().map(|e| (e.to_account, e.error_code)).collect())
        .unwrap_or_default()
}

mod journal;
mod resolve;
mod seen;

#[cfg(test)]
mod tests;
