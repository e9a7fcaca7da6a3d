//! The fan-out RPC: the caller streams a message and recipients; the gateway runs `tim-transport`'s fan-out
//! engine on them and streams progress, the failed recipients (as each is settled, so the gateway holds none of
//! them and a caller that loses the gateway mid-run already has the names settled so far) and the report back.
//!
//! Recipients are read as the engine needs them (HTTP/2 flow control holds the caller back), so memory stays
//! bounded whatever the count. `RecipientBatch.lines` is split in place: no allocation per recipient.
//! If the caller goes away, the fan-out is cancelled (chunks in flight finish). A shutdown of the gateway lets
//! running fan-outs finish until its deadline, then cancels them; each caller's report then says `cancelled`.

use crate::convert;
use crate::error;
use crate::metrics::Metrics;
use crate::pb;
use crate::pb::fanout_request::Kind;
use crate::service::Shared;
use futures_util::Stream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tim_transport::fanout::DEFAULT_FANOUT_CONCURRENCY;
use tim_transport::{CancelHandle, Fanout, FanoutOptions, FanoutProgress};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Failed recipients per `FailureBatch` event (the engine's batches are at most this long).
const FAILURES_PER_EVENT: usize = tim_transport::fanout::SETTLED_BATCH;
/// Settled batches that may wait for the caller before the fan-out waits.
const SETTLED_BATCHES_QUEUED: usize = 4;
/// The most chunks in flight a caller may ask for.
const MAX_CONCURRENCY: u32 = 256;

/// Running fan-outs, for shutdown.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    active: AtomicUsize,
    /// Fan-outs cancelled because the gateway shut down.
    cancelled_by_shutdown: AtomicU64,
    /// Recipients those fan-outs had read but not delivered.
    not_delivered_at_shutdown: AtomicU64,
    idle: tokio::sync::Notify,
}

impl Tracker {
    /// Fan-outs running now.
    pub(crate) fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }

    /// Waits until no fan-out runs.
    pub(crate) async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.active() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// (fan-outs cancelled by the shutdown, recipients they read and did not deliver).
    pub(crate) fn cancelled(&self) -> (u64, u64) {
        (self.cancelled_by_shutdown.load(Ordering::SeqCst), self.not_delivered_at_shutdown.load(Ordering::SeqCst))
    }
}

/// The fan-out service.
#[derive(Debug, Clone)]
pub(crate) struct FanoutRpc {
    pub(crate) shared: Shared,
    /// Becomes `true` when running fan-outs must stop (the shutdown's deadline passed).
    pub(crate) stop: watch::Receiver<bool>,
    pub(crate) tracker: Arc<Tracker>,
    /// Chunks in flight per fan-out unless the caller asks for another number.
    pub(crate) concurrency: usize,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::FanoutEvent, Status>> + Send>>;

#[tonic::async_trait]
impl pb::fanout_service_server::FanoutService for FanoutRpc {
    type FanoutStream = EventStream;

    async fn fanout(
        &self,
        request: Request<Streaming<pb::FanoutRequest>>,
    ) -> Result<Response<Self::FanoutStream>, Status> {
        let started = Instant::now();
        let mut inbound = request.into_inner();
        let prepared = self.prepare(&mut inbound).await;
        let (fanout, interval, expected) = match prepared {
            Ok(prepared) => prepared,
            Err(status) => {
                self.shared.metrics.finished("FanoutService/Fanout", status.code(), started.elapsed());
                return Err(status);
            }
        };
        let (events, receiver) = mpsc::channel(16);
        let run = Running {
            metrics: Arc::clone(&self.shared.metrics),
            tracker: Arc::clone(&self.tracker),
            stop: self.stop.clone(),
            interval,
            started,
        };
        self.tracker.active.fetch_add(1, Ordering::SeqCst);
        self.shared.metrics.fanout_started();
        tokio::spawn(run.run(fanout, inbound, expected, events));
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }
}

impl FanoutRpc {
    /// Reads the `start` message and prepares the fan-out.
    async fn prepare(&self, inbound: &mut Streaming<pb::FanoutRequest>) -> Result<(Fanout, Duration, usize), Status> {
        let first = inbound.message().await?;
        let Some(pb::FanoutRequest { kind: Some(Kind::Start(start)) }) = first else {
            return Err(error::bad_field("start", "must be the first message of the stream"));
        };
        let concurrency = match start.concurrency {
            0 => self.concurrency,
            n => n.min(MAX_CONCURRENCY) as usize,
        };
        let options = FanoutOptions { concurrency, ..FanoutOptions::default() };
        let (_, fanout) = prepare_fanout(&self.shared.client, start.message, options)?;
        let interval = Duration::from_secs(u64::from(start.progress_interval_secs.max(1)));
        let expected = usize::try_from(start.expected_recipients).unwrap_or(usize::MAX);
        Ok((fanout, interval, expected))
    }
}

/// The message of a fan-out's (or a job's) `start`, converted and checked, and a fan-out that sends it; errors name
/// the fields of `start.message`.
pub(crate) fn prepare_fanout(
    client: &tim_transport::Client,
    message: Option<pb::BatchSendMsgRequest>,
    options: FanoutOptions,
) -> Result<(tim_model::c2c::BatchSendMsgRequest, Fanout), Status> {
    let Some(message) = message else {
        return Err(error::bad_field("start.message", "is missing"));
    };
    let command = <tim_model::c2c::BatchSendMsgRequest as tim_model::api::TypedRequest>::command().path;
    let received = message.clone();
    let names = |rest: &str| convert::fanout_message_path(&received, rest);
    let model = convert::message_for_fanout(message).map_err(|errors| error::invalid(command, &errors, &names))?;
    let fanout = Fanout::new(client.clone(), &model, options).map_err(|e| error::from_transport(&e, &names))?;
    Ok((model, fanout))
}

/// One running fan-out's surroundings.
struct Running {
    metrics: Arc<Metrics>,
    tracker: Arc<Tracker>,
    stop: watch::Receiver<bool>,
    interval: Duration,
    started: Instant,
}

impl Running {
    async fn run(
        mut self,
        mut fanout: Fanout,
        inbound: Streaming<pb::FanoutRequest>,
        expected: usize,
        events: mpsc::Sender<Result<pb::FanoutEvent, Status>>,
    ) {
        let mut progress = fanout.progress();
        let cancel = fanout.cancel_handle();
        let mut settled = fanout.stream_settled(SETTLED_BATCHES_QUEUED);
        let mut settled_open = true;
        let violation = Arc::new(Mutex::new(None));
        let lines = Lines::new(inbound, expected, cancel.clone(), Arc::clone(&violation));
        let mut seen = FanoutProgress::default();
        let mut by_shutdown = false;
        let mut ticker = tokio::time::interval(self.interval);
        ticker.tick().await;
        let run = fanout.run(lines);
        tokio::pin!(run);
        let report = loop {
            tokio::select! {
                report = &mut run => break report,
                batch = settled.recv(), if settled_open => match batch {
                    // Waiting for the caller here holds the engine back: memory stays bounded.
                    Some(batch) => {
                        if events.send(Ok(convert::failure_batch(batch))).await.is_err() {
                            cancel.cancel();
                        }
                    }
                    None => settled_open = false,
                },
                _ = ticker.tick() => {
                    let now = progress.borrow_and_update().clone();
                    self.account(&seen, &now);
                    seen = now;
                    // A full channel means the caller reads slowly: skip this tick rather than wait.
                    let _ = events.try_send(Ok(convert::fanout_progress(&seen)));
                }
                () = events.closed(), if !cancel.is_cancelled() => {
                    tracing::info!("fan-out caller went away: cancelling, chunks in flight finish");
                    cancel.cancel();
                }
                changed = self.stop.changed(), if !by_shutdown => {
                    if changed.is_err() || *self.stop.borrow() {
                        by_shutdown = true;
                        cancel.cancel();
                    }
                }
            }
        };
        // What the engine settled last, before the report.
        while let Ok(batch) = settled.try_recv() {
            if events.send(Ok(convert::failure_batch(batch))).await.is_err() {
                break;
            }
        }
        let last = FanoutProgress {
            read: report.read,
            delivered: report.delivered,
            failed: report.failed,
            outcome_unknown: report.outcome_unknown,
            resolved: report.resolved,
            invalid: report.invalid,
            duplicates: report.duplicate_lines,
            pending: 0,
            failed_by_code: report.failed_by_code.clone(),
        };
        self.account(&seen, &last);
        if by_shutdown {
            self.tracker.cancelled_by_shutdown.fetch_add(1, Ordering::SeqCst);
            let undelivered = report.read.saturating_sub(report.delivered);
            self.tracker.not_delivered_at_shutdown.fetch_add(undelivered, Ordering::SeqCst);
            tracing::warn!(
                read = report.read,
                delivered = report.delivered,
                "fan-out cancelled by the gateway's shutdown: input after {} recipients was not read",
                report.read
            );
        }
        let violation = violation.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        let code = violation.as_ref().map_or(tonic::Code::Ok, Status::code);
        tracing::info!(
            read = report.read,
            delivered = report.delivered,
            failed = report.failed,
            outcome_unknown = report.outcome_unknown,
            invalid = report.invalid,
            duplicates = report.duplicate_lines,
            chunks = report.chunks,
            cancelled = report.cancelled,
            "fan-out finished"
        );
        for event in convert::fanout_report_events(report, FAILURES_PER_EVENT) {
            if events.send(Ok(event)).await.is_err() {
                break;
            }
        }
        if let Some(status) = violation {
            let _ = events.send(Err(status)).await;
        }
        self.metrics.finished("FanoutService/Fanout", code, self.started.elapsed());
        self.metrics.fanout_ended();
        if self.tracker.active.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.tracker.idle.notify_waiters();
        }
    }

    /// Moves the fan-out metrics from `before` to `now`.
    fn account(&self, before: &FanoutProgress, now: &FanoutProgress) {
        let pending_delta =
            i64::try_from(now.pending).unwrap_or(i64::MAX) - i64::try_from(before.pending).unwrap_or(i64::MAX);
        self.metrics.fanout_moved(
            now.delivered.saturating_sub(before.delivered),
            now.failed.saturating_sub(before.failed),
            now.duplicates.saturating_sub(before.duplicates),
            pending_delta,
        );
    }
}

/// One recipient: a line of a received batch, without copying it.
#[derive(Debug)]
pub(crate) struct Line {
    text: Arc<String>,
    start: usize,
    end: usize,
}

impl tim_transport::fanout::InputLine for Line {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes().get(self.start..self.end).unwrap_or_default()
    }
}

/// The recipients of a fan-out's request stream, line by line.
struct Lines {
    inbound: Streaming<pb::FanoutRequest>,
    /// The caller's hint of how many recipients it sends.
    expected: usize,
    current: Option<(Arc<String>, usize)>,
    entries: VecDeque<String>,
    cancel: CancelHandle,
    violation: Arc<Mutex<Option<Status>>>,
}

impl Lines {
    fn new(
        inbound: Streaming<pb::FanoutRequest>,
        expected: usize,
        cancel: CancelHandle,
        violation: Arc<Mutex<Option<Status>>>,
    ) -> Self {
        Self { inbound, expected, current: None, entries: VecDeque::new(), cancel, violation }
    }

    /// Stops reading: the fan-out cannot trust the rest of the stream.
    fn violated(&mut self, status: Status) {
        self.cancel.cancel();
        *self.violation.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
    }
}

impl Stream for Lines {
    type Item = Line;

    /// The caller's hint, which the engine uses to size its duplicate check.
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.expected, None)
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Line>> {
        loop {
            if let Some((text, position)) = &mut self.current {
                let bytes = text.as_bytes();
                while *position < bytes.len() {
                    let start = *position;
                    let end = memchr_newline(bytes, start);
                    *position = end + 1;
                    let mut stop = end;
                    if stop > start && bytes[stop - 1] == b'\r' {
                        stop -= 1;
                    }
                    if stop > start {
                        return Poll::Ready(Some(Line { text: Arc::clone(text), start, end: stop }));
                    }
                }
                self.current = None;
            }
            if let Some(entry) = self.entries.pop_front() {
                let end = entry.len();
                return Poll::Ready(Some(Line { text: Arc::new(entry), start: 0, end }));
            }
            match Pin::new(&mut self.inbound).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(status))) => {
                    tracing::info!(code = ?status.code(), "fan-out request stream broke: {}", status.message());
                    self.violated(status);
                    return Poll::Ready(None);
                }
                Poll::Ready(Some(Ok(pb::FanoutRequest { kind: Some(Kind::Recipients(batch)) }))) => {
                    self.current = Some((Arc::new(batch.lines), 0));
                    self.entries = batch.user_ids.into();
                }
                Poll::Ready(Some(Ok(_))) => {
                    self.violated(error::bad_field(
                        "recipients",
                        "every message after the first must carry recipients; the fan-out was stopped",
                    ));
                    return Poll::Ready(None);
                }
            }
        }
    }
}

/// The index of the next `\n` at or after `from`, or the length.
fn memchr_newline(bytes: &[u8], from: usize) -> usize {
    memchr::memchr(b'\n', &bytes[from..]).map_or(bytes.len(), |i| from + i)
}

/// Chunks in flight per fan-out unless configured.
pub(crate) const DEFAULT_CONCURRENCY: usize = DEFAULT_FANOUT_CONCURRENCY;
