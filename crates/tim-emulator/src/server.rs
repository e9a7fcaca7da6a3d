//! The HTTP side: an HTTP/1.1 server with keep-alive (hyper), the `/v4` protocol with fault injection around it,
//! the inspection endpoints `GET /emulator/stats` and `GET /emulator/inbox/{UserID}`, and graceful shutdown.

use crate::api::{self, Ctx};
use crate::auth::percent_decode;
use crate::error::Error;
use crate::fault::{Fault, LostAs};
use crate::stats::{Stats, add};
use crate::{Emulator, Inner};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tim_model::command;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// The largest request body read; the service's own limits are far smaller (12 KB of content).
const MAX_BODY_BYTES: usize = 1 << 20;

/// How long a client may take to send a request's headers; a slower one has its connection closed, so clients
/// that trickle bytes cannot hold connections (and their tasks) for ever.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

type Body = Full<Bytes>;

/// What the service returns to make hyper close the connection without answering.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

/// An emulator serving HTTP on a listener, until [`RunningEmulator::shutdown`] or until it is dropped.
#[derive(Debug)]
pub struct RunningEmulator {
    emulator: Emulator,
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`: what a client uses as the service's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.emulator.stats()
    }

    /// The emulator, for inspecting its state (inboxes, groups) without HTTP.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }

    /// Stops accepting connections, lets in-flight requests finish (an injected delay ends at once), closes idle
    /// keep-alive connections and waits until all are done.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            // The serving task does not panic; if it did, there is nothing left to stop.
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        // Without an explicit shutdown the server still stops, in the background.
        let _ = self.shutdown.send(true);
    }
}

pub(crate) fn serve(emulator: &Emulator, listener: TcpListener) -> Result<RunningEmulator, Error> {
    let addr = listener.local_addr().map_err(|error| Error::Listener { detail: error.to_string() })?;
    let (shutdown, signal) = watch::channel(false);
    let task = tokio::spawn(accept_loop(emulator.inner.clone(), listener, signal));
    tracing::info!(%addr, "tim emulator serving");
    Ok(RunningEmulator { emulator: emulator.clone(), addr, shutdown, task: Some(task) })
}

async fn stopped(signal: &mut watch::Receiver<bool>) {
    // Resolves when shutdown is asked for, or when the sender is gone.
    let _ = signal.wait_for(|stop| *stop).await;
}

async fn accept_loop(inner: Arc<Inner>, listener: TcpListener, mut signal: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = stopped(&mut signal) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small answers on a keep-alive connection: send them at once.
                    let _ = stream.set_nodelay(true);
                    connections.spawn(serve_connection(inner.clone(), TokioIo::new(stream), signal.clone()));
                }
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

async fn serve_connection(inner: Arc<Inner>, io: TokioIo<tokio::net::TcpStream>, mut signal: watch::Receiver<bool>) {
    let request_signal = signal.clone();
    let service = service_fn(move |request| handle(inner.clone(), request, request_signal.clone()));
    let connection = http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        () = stopped(&mut signal) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn handle(
    inner: Arc<Inner>,
    request: Request<Incoming>,
    signal: watch::Receiver<bool>,
) -> Result<Response<Body>, DropConnection> {
    let path = request.uri().path();
    if path.starts_with("/v4/") {
        return v4(inner, request, signal).await;
    }
    if request.method() != Method::GET {
        return Ok(not_found(path));
    }
    if path == "/emulator/stats" {
        return Ok(json(StatusCode::OK, serde_json::to_vec(&inner.counters.snapshot())));
    }
    if let Some(user) = path.strip_prefix("/emulator/inbox/") {
        return Ok(inbox(&inner, user));
    }
    Ok(not_found(path))
}

async fn v4(
    inner: Arc<Inner>,
    request: Request<Incoming>,
    mut signal: watch::Receiver<bool>,
) -> Result<Response<Body>, DropConnection> {
    let (parts, body) = request.into_parts();
    let limit = || format!("request body exceeds tim-emulator's limit of {MAX_BODY_BYTES} bytes");
    // A body declared too long is refused at once, not awaited (the connection then closes: its body is unread).
    let declared = parts.headers.get(hyper::header::CONTENT_LENGTH).and_then(|value| value.to_str().ok());
    if declared.and_then(|value| value.trim().parse::<u64>().ok()).is_some_and(|length| length > MAX_BODY_BYTES as u64)
    {
        return Ok(answer(api::fail(60002, limit())));
    }
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return Ok(answer(api::fail(60002, limit())));
        }
        // The client went away while sending.
        Err(_) => return Err(DropConnection),
    };
    let arrival = inner.arrivals.fetch_add(1, Ordering::Relaxed);
    let fault = inner.faults.decide(inner.seed, arrival);
    match fault {
        None | Some((_, Fault::Lost(_))) => {}
        Some((slot, fault)) => {
            inner.counters.fault(slot);
            tracing::debug!(arrival, ?fault, "fault injected before the request is carried out");
            return match fault {
                Fault::BadGateway => Ok(bad_gateway()),
                Fault::Drop => Err(DropConnection),
                Fault::Code(code) => {
                    let meaning = tim_model::catalog::lookup(code).map_or("injected failure", |info| info.meaning);
                    Ok(answer(api::fail(code, format!("{meaning} (fault injected by tim-emulator)"))))
                }
                Fault::Delay(duration) => {
                    tokio::select! {
                        () = tokio::time::sleep(duration) => {}
                        () = stopped(&mut signal) => {}
                    }
                    let info = "service request timeout (delay injected by tim-emulator; nothing was carried out)";
                    Ok(answer(api::fail(60008, info)))
                }
                Fault::Lost(_) => Err(DropConnection),
            };
        }
    }
    let reply = carry_out(&inner, &parts, &body);
    if let Some((slot, Fault::Lost(how))) = fault {
        inner.counters.fault(slot);
        tracing::debug!(arrival, ?how, "request carried out, answer lost on purpose");
        return match how {
            LostAs::Drop => Err(DropConnection),
            LostAs::BadGateway => Ok(bad_gateway()),
        };
    }
    Ok(answer(reply))
}

/// Authentication, routing by the command table, quotas, then the command itself.
fn carry_out(inner: &Inner, parts: &http::request::Parts, body: &[u8]) -> Bytes {
    if parts.method != Method::POST {
        return api::fail(60002, format!("HTTP method {} is not accepted: the REST API takes POST", parts.method));
    }
    let now = inner.clock.now_unix();
    let identifier = match inner.auth.authenticate(parts.uri.query(), now) {
        Ok(identifier) => identifier,
        Err(refusal) => {
            add(&inner.counters.auth_refused, 1);
            return api::fail(refusal.code, refusal.info);
        }
    };
    let path = parts.uri.path();
    let Some(command) = command::find(path) else {
        add(&inner.counters.unknown_commands, 1);
        return api::fail(60009, format!("request resource error: {path} is not a command of the REST API"));
    };
    inner.counters.call(command.id);
    if let Err(limit) = inner.limiter.admit_call(command.id, now) {
        add(&inner.counters.rate_limited, 1);
        let (code, info) = limit.answer(command.id);
        return api::fail(code, info);
    }
    api::dispatch(&Ctx { inner, now, identifier: &identifier }, command, body)
}

fn answer(body: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}

fn json(status: StatusCode, encoded: Result<Vec<u8>, serde_json::Error>) -> Response<Body> {
    let (status, body) = match encoded {
        Ok(body) => (status, body),
        Err(error) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("{{\"error\":{:?}}}", error.to_string()).into_bytes())
        }
    };
    let mut response = answer(Bytes::from(body));
    *response.status_mut() = status;
    response
}

fn not_found(path: &str) -> Response<Body> {
    #[derive(Serialize)]
    struct NotFound<'a> {
        error: String,
        endpoints: [&'a str; 3],
    }
    let body = NotFound {
        error: format!("no endpoint {path}"),
        endpoints: ["POST /v4/{service}/{command}", "GET /emulator/stats", "GET /emulator/inbox/{UserID}"],
    };
    json(StatusCode::NOT_FOUND, serde_json::to_vec(&body))
}

/// What a gateway in front of the service answers when the service does not.
fn bad_gateway() -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(
        b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
    )));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/html"));
    response
}

/// One message of `GET /emulator/inbox/{UserID}`.
#[derive(Serialize)]
struct InboxEntry<'a> {
    #[serde(rename = "MsgKey")]
    msg_key: String,
    #[serde(rename = "From_Account")]
    from_account: &'a str,
    #[serde(rename = "MsgSeq")]
    msg_seq: u32,
    #[serde(rename = "MsgRandom")]
    msg_random: u32,
    #[serde(rename = "MsgTime")]
    msg_time: i64,
    #[serde(rename = "MsgBody")]
    msg_body: &'a tim_model::MsgBody,
    #[serde(rename = "CloudCustomData", skip_serializing_if = "Option::is_none")]
    cloud_custom_data: Option<&'a str>,
    #[serde(rename = "Origin")]
    origin: crate::C2cOrigin,
    #[serde(rename = "Recalled")]
    recalled: bool,
    /// Whether it counts as unread (`SendMsgControl` `NoUnread`, `OnlineOnlyFlag` 1 and the like say not).
    #[serde(rename = "Unread")]
    unread: bool,
    /// Whether it updated the conversation list (`NoLastMsg` says not).
    #[serde(rename = "UpdatesConversation")]
    updates_conversation: bool,
    /// Whether it is kept in the roaming history (`admin_getroammsg`).
    #[serde(rename = "InHistory")]
    in_history: bool,
}

fn inbox(inner: &Inner, encoded_user: &str) -> Response<Body> {
    let Some(user) = percent_decode(encoded_user) else {
        return json(
            StatusCode::BAD_REQUEST,
            Ok(br#"{"error":"the UserID is not valid percent-encoded UTF-8"}"#.to_vec()),
        );
    };
    let state = inner.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let Some(inbox) = state.inbox(&user) else {
        let error = serde_json::json!({ "error": format!("no account {user:?}") });
        return json(StatusCode::NOT_FOUND, serde_json::to_vec(&error));
    };
    let entries: Vec<InboxEntry<'_>> = inbox
        .into_iter()
        .map(|(stored, _, recalled)| {
            let message = &stored.message;
            InboxEntry {
                msg_key: message.msg_key(),
                from_account: &message.from_account,
                msg_seq: message.msg_seq,
                msg_random: message.msg_random,
                msg_time: message.msg_time,
                msg_body: &message.msg_body,
                cloud_custom_data: message.cloud_custom_data.as_deref(),
                origin: message.origin,
                recalled,
                unread: message.delivery.unread,
                updates_conversation: message.delivery.conversation,
                in_history: message.delivery.history,
            }
        })
        .collect();
    json(StatusCode::OK, serde_json::to_vec(&entries))
}
