//! Prometheus metrics of the gateway, served as text on an HTTP port (`GET /metrics`).
//!
//! | metric | what |
//! |---|---|
//! | `tim_grpc_requests_total{method,code}` | calls by RPC and gRPC status code (refused calls included) |
//! | `tim_grpc_request_duration_seconds{method}` | call latency by RPC (a fan-out: until its report) |
//! | `tim_transport_attempts_total`, `tim_transport_retries_total` | HTTP attempts to Tencent, and those that were retries |
//! | `tim_transport_quota_waits_total`, `tim_transport_quota_wait_seconds_total` | calls that waited for their quota, and the time spent |
//! | `tim_transport_shared_quota_reservations_total`, `tim_transport_shared_quota_fallbacks_total` | calls the quota shared through Redis reserved, and calls paced at this replica's share because Redis could not be reached |
//! | `tim_transport_shared_quota_unreachable` | 1 while the shared quota cannot be reached (only with `[cluster] redis_url`) |
//! | `tim_fanouts_active` | fan-outs running |
//! | `tim_fanout_recipients_total{outcome}` | fan-out recipients settled: `delivered`, `failed`, `duplicate` |
//! | `tim_fanout_recipients_pending` | recipients read by running fan-outs and not yet settled |
//! | `tim_jobs_running` | durable jobs this replica is running |
//! | `tim_jobs_leases_total{how}` | leases on jobs in PostgreSQL this replica took: `claimed` (nobody held the job), `taken_over` (its holder's lease had ended) |
//! | `tim_jobs_leases_lost_total` | runs stopped because another replica took their job over (this replica's lease ended) |
//! | `tim_jobs_store_interruptions_total` | runs broken off because PostgreSQL could not be used (their jobs stay running, for a later claim) |

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tim_transport::Client;

/// Labels of a call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: String,
    code: String,
}

/// Labels of a latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: String,
}

/// Labels of fan-out recipients.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Every metric of one gateway.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<CallLabels, Counter>,
    latency: Family<MethodLabels, Histogram>,
    fanouts_active: Gauge,
    fanout_recipients: Family<OutcomeLabels, Counter>,
    fanout_pending: Gauge,
    jobs_running: Gauge,
    leases: Family<HowLabels, Counter>,
    leases_lost: Counter,
    store_interruptions: Counter,
}

/// How a lease was taken.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HowLabels {
    how: &'static str,
}

/// The transport's counters, read at each scrape.
#[derive(Debug)]
struct TransportCollector(Client);

impl Collector for TransportCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let counters: [(&str, &str, f64); 6] = [
            (
                "tim_transport_attempts",
                "HTTP attempts to Tencent Cloud Chat (first attempts and retries)",
                stats.attempts as f64,
            ),
            ("tim_transport_retries", "HTTP attempts that were retries", stats.retries as f64),
            ("tim_transport_quota_waits", "Calls that waited for their command's quota", stats.quota_waits as f64),
            ("tim_transport_quota_wait_seconds", "Time calls spent waiting for quotas", stats.quota_wait.as_secs_f64()),
            (
                "tim_transport_shared_quota_reservations",
                "Calls whose start the quota shared with the other replicas (Redis) reserved",
                stats.shared_quota_reservations as f64,
            ),
            (
                "tim_transport_shared_quota_fallbacks",
                "Calls paced at this replica's share because the shared quota could not be reached",
                stats.shared_quota_fallbacks as f64,
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        if self.0.pacer().is_shared() {
            let gauge = ConstGauge::new(i64::from(stats.shared_quota_unreachable));
            let help = "1 while the shared quota cannot be reached (this replica paces at its share), else 0";
            let metric =
                encoder.encode_descriptor("tim_transport_shared_quota_unreachable", help, None, gauge.metric_type())?;
            gauge.encode(metric)?;
        }
        Ok(())
    }
}

impl Metrics {
    /// The metrics of a gateway whose transport is `client`.
    pub fn new(client: &Client) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<CallLabels, Counter>::default();
        registry.register("tim_grpc_requests", "gRPC calls by method and status code", requests.clone());
        let latency = Family::<MethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 18))
        });
        registry.register("tim_grpc_request_duration_seconds", "gRPC call latency by method", latency.clone());
        let fanouts_active = Gauge::default();
        registry.register("tim_fanouts_active", "Fan-outs running", fanouts_active.clone());
        let fanout_recipients = Family::<OutcomeLabels, Counter>::default();
        registry.register("tim_fanout_recipients", "Fan-out recipients settled, by outcome", fanout_recipients.clone());
        let fanout_pending = Gauge::default();
        registry.register(
            "tim_fanout_recipients_pending",
            "Recipients read by running fan-outs and not yet settled",
            fanout_pending.clone(),
        );
        let jobs_running = Gauge::default();
        registry.register("tim_jobs_running", "Durable jobs this replica is running", jobs_running.clone());
        let leases = Family::<HowLabels, Counter>::default();
        registry.register(
            "tim_jobs_leases",
            "Leases on jobs in PostgreSQL this replica took, by how: claimed, or taken over from a holder whose lease ended",
            leases.clone(),
        );
        let leases_lost = Counter::default();
        registry.register(
            "tim_jobs_leases_lost",
            "Job runs stopped because another replica took the job over",
            leases_lost.clone(),
        );
        let store_interruptions = Counter::default();
        registry.register(
            "tim_jobs_store_interruptions",
            "Job runs broken off because PostgreSQL could not be used (the jobs stay running)",
            store_interruptions.clone(),
        );
        registry.register_collector(Box::new(TransportCollector(client.clone())));
        Self {
            registry,
            requests,
            latency,
            fanouts_active,
            fanout_recipients,
            fanout_pending,
            jobs_running,
            leases,
            leases_lost,
            store_interruptions,
        }
    }

    /// A run broke off because its store could not be used.
    pub(crate) fn store_interrupted(&self) {
        self.store_interruptions.inc();
    }

    /// A job run started here (`true`) or ended (`false`).
    pub(crate) fn job_running(&self, started: bool) {
        if started {
            self.jobs_running.inc();
        } else {
            self.jobs_running.dec();
        }
    }

    /// A lease on a job was taken: over from an earlier holder, or claimed.
    pub(crate) fn lease_taken(&self, taken_over: bool) {
        let how = if taken_over { "taken_over" } else { "claimed" };
        self.leases.get_or_create(&HowLabels { how }).inc();
    }

    /// A run stopped because its job was taken over.
    pub(crate) fn lease_lost(&self) {
        self.leases_lost.inc();
    }

    /// Records a finished call: counted, and its latency observed.
    pub(crate) fn finished(&self, method: &str, code: tonic::Code, elapsed: Duration) {
        self.count(method, code);
        self.latency.get_or_create(&MethodLabels { method: method.to_owned() }).observe(elapsed.as_secs_f64());
    }

    /// Counts a call by method and code (a call refused before it reached a service is only counted).
    pub(crate) fn count(&self, method: &str, code: tonic::Code) {
        let labels = CallLabels { method: method.to_owned(), code: code_name(code).to_owned() };
        self.requests.get_or_create(&labels).inc();
    }

    /// A fan-out started.
    pub(crate) fn fanout_started(&self) {
        self.fanouts_active.inc();
    }

    /// A fan-out's counters moved: `delta` settled since the last update, `pending_delta` the change in pending.
    pub(crate) fn fanout_moved(&self, delivered: u64, failed: u64, duplicates: u64, pending_delta: i64) {
        self.fanout_recipients.get_or_create(&OutcomeLabels { outcome: "delivered" }).inc_by(delivered);
        self.fanout_recipients.get_or_create(&OutcomeLabels { outcome: "failed" }).inc_by(failed);
        self.fanout_recipients.get_or_create(&OutcomeLabels { outcome: "duplicate" }).inc_by(duplicates);
        self.fanout_pending.inc_by(pending_delta);
    }

    /// A fan-out ended.
    pub(crate) fn fanout_ended(&self) {
        self.fanouts_active.dec();
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}

/// The RPC's name from a gRPC path (`/tim.v1.MessageService/SendMsg` → `MessageService/SendMsg`), bounded to the
/// services the gateway serves so label values stay few.
pub(crate) fn method_name(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    match trimmed.strip_prefix("tim.v1.") {
        Some(rest) if rest.len() <= 64 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'/') => {
            rest.to_owned()
        }
        _ if trimmed.starts_with("grpc.") => trimmed.split('/').next().unwrap_or("other").to_owned(),
        _ => "other".to_owned(),
    }
}

/// The status code as gRPC names it.
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// How long a metrics scraper may take to send its request's headers.
pub const METRICS_HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves `GET /metrics` on `listener` until `shutdown` completes.
///
/// ```no_run
/// # async fn run(gateway: tim_grpc::Gateway) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9464").await?;
/// tokio::spawn(tim_grpc::serve_metrics(listener, gateway.metrics(), std::future::pending()));
/// # Ok(())
/// # }
/// ```
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use http_body_util::Full;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                let metrics = Arc::clone(&metrics);
                async move {
                    if request.uri().path() == "/metrics" {
                        http::Response::builder()
                            .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                            .body(Full::new(bytes::Bytes::from(metrics.render())))
                    } else {
                        http::Response::builder().status(404).body(Full::new(bytes::Bytes::from_static(b"not found\n")))
                    }
                }
            });
            // A scraper that does not send its headers in time is dropped, so trickling clients hold nothing.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(METRICS_HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
