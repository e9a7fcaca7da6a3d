//! What a journaled fan-out tells its journal, and what a journal hands back to resume one.
//!
//! The engine writes nothing itself: a [`Journal`] (the `tim-jobs` crate has one on an embedded database) is told
//! every chunk just before it is sent, with its recipients and keys (and the chunk waits until that is durable),
//! every input line settled without a chunk, and what became of every chunk's recipients. Those events, in the
//! order the engine emits them, are enough to restart anywhere:
//!
//! - a chunk recorded and never settled may have acted: it is resolved from the history, never re-sent;
//! - a chunk built and not recorded was not sent (sending waits for the record): its lines are read again and
//!   chunked anew;
//! - input lines up to the `covered` mark of the last event are accounted for, by recorded chunks or entries; the
//!   lines after it are read again (an entry recorded again for the same line is the same entry);
//! - recipients waiting for another round are recorded in their chunk's outcome, and taken back by the chunk that
//!   sends them.

use super::Failure;
use crate::error::Error;
use bytes::Bytes;
use futures_util::future::BoxFuture;

/// One chunk as built: its id (increasing within a job), its finished request body and the round of each
/// recipient (empty when every recipient is in round 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    /// The chunk's id within the job.
    pub id: u64,
    /// The finished batchsendmsg body: recipients, pinned keys and message.
    pub body: Bytes,
    /// Each recipient's round (how many times it was sent before, in other chunks); empty when all are 0.
    pub rounds: Vec<u8>,
    /// The pinned keys' values, in the command table's order (`MsgSeq`, `MsgRandom`).
    pub keys: Vec<u32>,
}

/// What became of one chunk's recipients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChunkOutcome {
    /// Recipients the service accepted (directly or as found in the history).
    pub delivered: u64,
    /// Recipients found in the history after an unknown outcome (counted in `delivered` too).
    pub resolved: u64,
    /// Recipients that failed for good, or whose outcome stays unknown.
    pub failures: Vec<Failure>,
    /// Recipients to be sent again in a later chunk, with their next round.
    pub requeued: Vec<(String, u8)>,
}

/// Where a fan-out writes down what it does before it does it. Calls come from the engine's task in order; an
/// implementation queues them and writes them in groups.
pub trait Journal: std::fmt::Debug + Send + Sync + 'static {
    /// The chunk (fresh, or a later round of recipients recorded as requeued) is about to be sent, at `at_ms`
    /// (UNIX milliseconds). Every input line up to `covered` (counting from 1) is accounted for by the chunks and
    /// entries recorded so far, this one included. The returned future resolves once this is durable; the chunk
    /// is sent only then. An error means it is not sent.
    fn sending(&self, chunk: &StoredChunk, covered: u64, at_ms: i64) -> BoxFuture<'static, Result<(), Error>>;

    /// An input line settled without being sent (invalid or a duplicate); `covered` as for [`Journal::sending`].
    fn entry(&self, failure: &Failure, covered: u64);

    /// What became of a chunk's recipients. The chunk is settled; it is never sent or resolved again.
    fn settled(&self, id: u64, outcome: ChunkOutcome);

    /// The input was read to its end: `lines` lines in all.
    fn input_done(&self, lines: u64);
}

/// Where a journaled fan-out starts again.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    /// Input lines already accounted for: they are read again only to know the recipients seen.
    pub covered: u64,
    /// The id the next chunk sent gets.
    pub next_chunk: u64,
    /// Chunks that were being sent, with when (UNIX milliseconds): their outcome is unknown until resolved.
    pub in_flight: Vec<(StoredChunk, i64)>,
    /// Recipients waiting for another round, with that round.
    pub requeued: Vec<(String, u8)>,
}
