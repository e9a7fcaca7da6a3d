//! The moment a request body leaves: when it happened, and a gate that keeps a late retry from leaving at all.
//!
//! A retry of a call that may have acted is safe only inside its dedupe window, and what counts is when the bytes
//! go out, not when the retry was decided: a connection to set up, a TLS handshake or a busy runtime can stand
//! between the two. So the body itself checks the window when the HTTP connection first asks it for its bytes
//! (after the connection is up and the request head is queued), and refuses to give them when the window has
//! closed: the request is then abandoned with an incomplete body, which the service never acts on, and the
//! attempt is known not to have left. The same check records when the first attempt actually left, which is where
//! the window of its retries starts.

use crate::config::WallClock;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use tim_model::command::{Idempotency, RetryWindow};
use tokio::time::Instant;

/// When an attempt's body left: by the monotonic clock and by the wall clock (UNIX milliseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Left {
    pub(crate) at: Instant,
    pub(crate) wall_ms: u64,
}

/// The window a retry must leave in.
#[derive(Debug, Clone, Copy)]
struct Gate {
    window: RetryWindow,
    idempotency: Idempotency,
    first: Instant,
}

/// One attempt's departure, shared by the retry loop and the body it sends. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Departure(Arc<State>);

struct State {
    gate: Option<Gate>,
    fence: Option<Fence>,
    wall: WallClock,
    left: OnceLock<Left>,
    refused: AtomicBool,
}

/// Lets requests leave only while its holder says it may: what a gateway replica holds for a job whose lease it
/// owns. The holder opens it until a deadline (by the monotonic clock) each time it renews the lease, earlier than
/// the lease's own expiry, and closes it when the lease is lost; a request body asks it when its bytes are about to
/// leave (quota waits and connection set-up included), so a replica that lost its job never sends any of it again,
/// however long it waited. A request refused by the fence never left: the service did not act on it.
#[derive(Debug, Clone, Default)]
pub struct Fence(Arc<std::sync::Mutex<Option<Instant>>>);

impl Fence {
    /// A fence that lets nothing leave until it is opened.
    pub fn closed() -> Self {
        Self::default()
    }

    /// Lets requests leave until `until`.
    pub fn open_until(&self, until: Instant) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(until);
    }

    /// Lets nothing leave from now on (until it is opened again).
    pub fn close(&self) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Whether a request may leave now.
    pub fn is_open(&self) -> bool {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some_and(|until| Instant::now() < until)
    }
}

impl std::fmt::Debug for Departure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Departure").field("left", &self.left()).field("refused", &self.refused()).finish()
    }
}

impl Departure {
    /// An attempt that may leave at any time.
    pub(crate) fn open(wall: WallClock, fence: Option<Fence>) -> Self {
        Self::new(None, wall, fence)
    }

    /// A retry that may leave only inside `window` (by the wall clock) and while `idempotency` still allows a
    /// repeat of a first attempt that left at `first` (by the monotonic clock).
    pub(crate) fn within(
        window: RetryWindow,
        idempotency: Idempotency,
        first: Instant,
        wall: WallClock,
        fence: Option<Fence>,
    ) -> Self {
        Self::new(Some(Gate { window, idempotency, first }), wall, fence)
    }

    fn new(gate: Option<Gate>, wall: WallClock, fence: Option<Fence>) -> Self {
        Self(Arc::new(State { gate, fence, wall, left: OnceLock::new(), refused: AtomicBool::new(false) }))
    }

    /// Called as the bytes are about to leave: whether they may. The first call that may leave records the time.
    pub(crate) fn depart(&self) -> bool {
        let state = &*self.0;
        let now = Instant::now();
        let wall_ms = (state.wall)();
        if state.fence.as_ref().is_some_and(|fence| !fence.is_open()) {
            state.refused.store(true, Ordering::SeqCst);
            return false;
        }
        if let Some(gate) = state.gate {
            let elapsed = now.saturating_duration_since(gate.first).as_secs_f64();
            if !gate.window.contains(wall_ms) || !gate.idempotency.retry_safe_after(elapsed) {
                state.refused.store(true, Ordering::SeqCst);
                return false;
            }
        }
        state.left.get_or_init(|| Left { at: now, wall_ms });
        true
    }

    /// When the body left, if it did.
    pub(crate) fn left(&self) -> Option<Left> {
        self.0.left.get().copied()
    }

    /// Whether the gate kept the body from leaving.
    pub(crate) fn refused(&self) -> bool {
        self.0.refused.load(Ordering::SeqCst)
    }
}

/// A request body that asks its [`Departure`] before it gives its bytes to the connection.
#[derive(Debug)]
pub(crate) struct GatedBody {
    data: Option<Bytes>,
    len: u64,
    departure: Departure,
}

impl GatedBody {
    pub(crate) fn new(data: Bytes, departure: Departure) -> Self {
        Self { len: data.len() as u64, data: Some(data), departure }
    }
}

/// The gate closed before the body could leave.
#[derive(Debug, thiserror::Error)]
#[error("the dedupe window closed before the request could leave")]
pub(crate) struct WindowClosed;

impl Body for GatedBody {
    type Data = Bytes;
    type Error = WindowClosed;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, WindowClosed>>> {
        let this = self.get_mut();
        Poll::Ready(
            this.data.take().map(
                |data| {
                    if this.departure.depart() { Ok(Frame::data(data)) } else { Err(WindowClosed) }
                },
            ),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::sync::atomic::AtomicU64;

    fn clock(ms: &Arc<AtomicU64>) -> WallClock {
        let ms = Arc::clone(ms);
        Arc::new(move || ms.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_leaves_inside_its_window_and_records_when() {
        let wall = Arc::new(AtomicU64::new(1_700_000_000_200));
        let send = sendmsg();
        let window = send.retry_window(1_700_000_000_100);
        let departure = Departure::within(window, send, Instant::now(), clock(&wall), None);
        let body = GatedBody::new(Bytes::from_static(b"{}"), departure.clone());
        assert_eq!(body.size_hint().exact(), Some(2));
        assert_eq!(body.collect().await.unwrap().to_bytes(), Bytes::from_static(b"{}"));
        assert_eq!(departure.left().map(|left| left.wall_ms), Some(1_700_000_000_200));
        assert!(!departure.refused());
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_whose_window_closed_meanwhile_never_gives_its_bytes() {
        let wall = Arc::new(AtomicU64::new(1_700_000_000_200));
        let send = sendmsg();
        let departure =
            Departure::within(send.retry_window(1_700_000_000_100), send, Instant::now(), clock(&wall), None);
        let body = GatedBody::new(Bytes::from_static(b"{}"), departure.clone());
        // The connection took long to set up: the body is first polled 750 ms later, past .900 of the second.
        wall.store(1_700_000_000_950, Ordering::SeqCst);
        assert!(body.collect().await.is_err());
        assert!(departure.refused());
        assert_eq!(departure.left(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_monotonic_clock_closes_the_window_even_if_the_wall_clock_stands_still() {
        let wall = Arc::new(AtomicU64::new(1_700_000_000_000));
        let group = tim_model::command::CommandId::SendGroupMsg.command().idempotency;
        let departure =
            Departure::within(group.retry_window(1_700_000_000_000), group, Instant::now(), clock(&wall), None);
        tokio::time::advance(std::time::Duration::from_secs(301)).await;
        assert!(!departure.depart());
        assert!(Departure::open(clock(&wall), None).depart(), "a first attempt is never gated");
    }

    /// A replica that lost its job's lease sends nothing more of it, first attempts included, however long the
    /// body waited to leave.
    #[tokio::test(start_paused = true)]
    async fn a_closed_or_lapsed_fence_keeps_every_attempt_from_leaving() {
        let wall = Arc::new(AtomicU64::new(1_700_000_000_000));
        let fence = Fence::closed();
        assert!(!Departure::open(clock(&wall), Some(fence.clone())).depart(), "closed until opened");
        fence.open_until(Instant::now() + std::time::Duration::from_secs(5));
        let departure = Departure::open(clock(&wall), Some(fence.clone()));
        assert!(departure.depart() && !departure.refused());
        // The lease was not renewed in time: a body that waited past the deadline does not leave.
        let body = GatedBody::new(Bytes::from_static(b"{}"), Departure::open(clock(&wall), Some(fence.clone())));
        tokio::time::advance(std::time::Duration::from_secs(5)).await;
        assert!(body.collect().await.is_err());
        fence.open_until(Instant::now() + std::time::Duration::from_secs(5));
        assert!(Departure::open(clock(&wall), Some(fence.clone())).depart(), "renewed");
        fence.close();
        let lost = Departure::open(clock(&wall), Some(fence));
        assert!(!lost.depart() && lost.refused() && lost.left().is_none());
    }

    fn sendmsg() -> Idempotency {
        tim_model::command::CommandId::SendMsg.command().idempotency
    }
}
