//! The gateway server: the services, gRPC health and reflection, caller authentication, optional TLS and mutual
//! TLS, request size limits, and graceful shutdown.

use crate::auth::{AuthLayer, Caller, Callers};
use crate::error::Error;
use crate::fanout::{FanoutRpc, Tracker};
use crate::metrics::Metrics;
use crate::pb;
use crate::service::{Rest, Shared};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tim_transport::Client;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tower::Layer;

/// The largest request message the gateway decodes unless configured (4 MiB: a fan-out batch of about 100,000
/// UserIDs).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Calls one caller may have in progress at once unless configured.
pub const DEFAULT_MAX_CONCURRENT_PER_CALLER: usize = 256;
/// How long running fan-outs may go on after a shutdown begins unless configured.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// HTTP/2 flow-control window per stream.
const STREAM_WINDOW: u32 = 4 * 1024 * 1024;
/// HTTP/2 flow-control window per connection.
const CONNECTION_WINDOW: u32 = 8 * 1024 * 1024;
/// How long the server waits for unary calls and connections after the fan-outs are done or cancelled.
const DRAIN: Duration = Duration::from_secs(10);

/// TLS on the gRPC listener, as PEM.
#[derive(Clone)]
pub struct TlsPem {
    /// The server's certificate chain.
    pub cert: Vec<u8>,
    /// The server's private key.
    pub key: Vec<u8>,
    /// When set, callers must present a certificate signed by one of these CAs (mutual TLS).
    pub client_ca: Option<Vec<u8>>,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsPem").field("mutual", &self.client_ca.is_some()).finish_non_exhaustive()
    }
}

/// How the gateway serves.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    /// Who may call (at least one).
    pub callers: Vec<Caller>,
    /// Calls one caller may have in progress at once.
    pub max_concurrent_per_caller: usize,
    /// The largest request message decoded, in bytes.
    pub max_request_bytes: usize,
    /// TLS on the listener; plaintext when `None`.
    pub tls: Option<TlsPem>,
    /// How long running fan-outs may go on after a shutdown begins.
    pub shutdown_grace: Duration,
    /// Chunks in flight per fan-out unless the caller asks for another number.
    pub fanout_concurrency: usize,
    /// Where durable jobs live (`JobService`); without it the job service refuses every call.
    pub data_dir: Option<std::path::PathBuf>,
    /// Jobs in PostgreSQL, shared with the other replicas (instead of the data directory's store).
    pub postgres: Option<crate::PostgresJobs>,
}

impl GatewayOptions {
    /// The defaults, for `callers`.
    pub fn new(callers: Vec<Caller>) -> Self {
        Self {
            callers,
            max_concurrent_per_caller: DEFAULT_MAX_CONCURRENT_PER_CALLER,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            tls: None,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
            fanout_concurrency: crate::fanout::DEFAULT_CONCURRENCY,
            data_dir: None,
            postgres: None,
        }
    }
}

/// What a shutdown left undone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Fan-outs cancelled because they were still running at the deadline (their callers got reports saying so).
    pub fanouts_cancelled: u64,
    /// Recipients those fan-outs had read and not delivered.
    pub recipients_not_delivered: u64,
    /// Fan-outs still running when the gateway stopped waiting (0 unless the service hung).
    pub fanouts_abandoned: usize,
}

/// The gRPC gateway.
#[derive(Debug)]
pub struct Gateway {
    shared: Shared,
    options: GatewayOptions,
}

impl Gateway {
    /// A gateway sending through `client`.
    pub fn new(client: Client, options: GatewayOptions) -> Result<Self, Error> {
        if options.callers.is_empty() {
            return Err(Error::Config("no callers are configured: every call would be refused".to_owned()));
        }
        let metrics = Arc::new(Metrics::new(&client));
        Ok(Self { shared: Shared { client, metrics }, options })
    }

    /// The gateway's metrics (serve them with [`crate::serve_metrics`]).
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.shared.metrics)
    }

    /// Serves on `listener` until `shutdown` completes, then stops taking calls, lets running fan-outs finish
    /// until the grace period ends, cancels those still running (their callers get a report saying so), and
    /// returns what was left undone.
    ///
    /// This serves the `tim.v1` services with gRPC health and reflection, over TLS when configured. To serve
    /// them from a tonic server of one's own, beside one's own services, use [`Gateway::embed`].
    ///
    /// ```no_run
    /// use tim_grpc::{Caller, Gateway, GatewayOptions};
    /// use tim_sig::SecretKey;
    /// use tim_transport::{Client, ClientConfig, Endpoint, Region};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let endpoint = Endpoint::Region { region: Region::Singapore, standby: false };
    /// let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, ClientConfig::new(endpoint))?;
    /// let options = GatewayOptions::new(vec![Caller::with_token("billing", "a-long-random-token")]);
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:50051").await?;
    /// let report = Gateway::new(client, options)?
    ///     .serve(listener, async { tokio::signal::ctrl_c().await.unwrap_or(()) })
    ///     .await?;
    /// assert_eq!(report.fanouts_abandoned, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<ShutdownReport, Error> {
        let local: Option<SocketAddr> = listener.local_addr().ok();
        let (health, health_service) = tonic_health::server::health_reporter();
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1()
            .map_err(|e| Error::Config(format!("reflection: {e}")))?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()
            .map_err(|e| Error::Config(format!("reflection: {e}")))?;
        let tls = self.options.tls.clone();

        // Jobs resume before the gateway accepts calls.
        let embedded = self.embed().await?;

        // Fan-out callers stream recipients in messages of hundreds of kilobytes: windows of a few of them keep the
        // stream flowing while the engine works, instead of HTTP/2's 64 KiB default.
        let mut builder = Server::builder()
            .tcp_nodelay(true)
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .initial_stream_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .max_frame_size(Some(256 * 1024));
        if let Some(tls) = &tls {
            let mut config = ServerTlsConfig::new().identity(Identity::from_pem(&tls.cert, &tls.key));
            if let Some(ca) = &tls.client_ca {
                config = config.client_ca_root(Certificate::from_pem(ca));
            }
            builder = builder.tls_config(config).map_err(|e| Error::Config(format!("TLS: {e}")))?;
        }
        // Health needs no token (load balancers probe it); reflection does, like the tim services.
        let router = builder
            .add_routes(embedded.routes())
            .add_service(health_service)
            .add_service(embedded.auth.layer(reflection_v1))
            .add_service(embedded.auth.layer(reflection_v1alpha));

        // The configuration is valid and the services are built: SERVING.
        set_all(&health, tonic_health::ServingStatus::Serving).await;

        let (stop_server, server_stopped) = oneshot::channel::<()>();
        let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
        let server = router.serve_with_incoming_shutdown(incoming, async {
            let _ = server_stopped.await;
        });
        tokio::pin!(server);
        tokio::select! {
            result = &mut server => {
                result.map_err(|e| Error::Serve(e.to_string()))?;
                return Ok(ShutdownReport::default());
            }
            () = shutdown => {}
        }

        tracing::info!(
            listen = ?local,
            fanouts = embedded.tracker.active(),
            "shutting down: no new calls; running fan-outs have {:?} to finish",
            embedded.grace
        );
        set_all(&health, tonic_health::ServingStatus::NotServing).await;
        let _ = stop_server.send(());
        let grace = embedded.grace;
        let (result, report) =
            tokio::join!(tokio::time::timeout(grace + DRAIN + DRAIN, &mut server), embedded.shutdown());
        if let Ok(Err(error)) = result {
            tracing::warn!("the gRPC server stopped with an error: {error}");
        }
        Ok(report)
    }

    /// The gateway's services for a tonic server of one's own: resumes the durable jobs (when configured), then
    /// returns the `tim.v1` services behind the callers' authentication ([`EmbeddedGateway::routes`]), to serve
    /// beside one's own services with `tonic::transport::Server::builder().add_routes(...)`.
    ///
    /// The server and its listener, TLS, gRPC health and reflection are then the caller's: register
    /// [`pb::FILE_DESCRIPTOR_SET`] with one's own reflection service to list the tim services. When the server
    /// stops, call [`EmbeddedGateway::shutdown`] so that running fan-outs finish or are cancelled with a report,
    /// and jobs stop where they can resume.
    ///
    /// ```
    /// use tim_grpc::{Caller, Gateway, GatewayOptions};
    /// use tim_sig::SecretKey;
    /// use tim_transport::{Client, ClientConfig, Endpoint};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = ClientConfig::new(Endpoint::BaseUrl("http://127.0.0.1:8080".into()));
    /// let client = Client::new(1_400_000_000, "administrator", SecretKey::new("console-secret")?, config)?;
    /// let options = GatewayOptions::new(vec![Caller::with_token("billing", "a-long-random-token")]);
    /// let embedded = Gateway::new(client, options)?.embed().await?;
    ///
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let server = tonic::transport::Server::builder()
    ///     .add_routes(embedded.routes())
    ///     // .add_service(YourServiceServer::new(your_service))
    ///     .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), async {});
    /// server.await?;
    /// let report = embedded.shutdown().await;
    /// assert_eq!(report.fanouts_cancelled, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn embed(self) -> Result<EmbeddedGateway, Error> {
        let callers = Arc::new(Callers::new(self.options.callers.clone(), self.options.max_concurrent_per_caller));
        let auth = AuthLayer::new(callers, Arc::clone(&self.shared.metrics));
        let tracker = Arc::new(Tracker::default());
        let (stop_fanouts, stop) = watch::channel(false);
        let limit = self.options.max_request_bytes;
        let concurrency = self.options.fanout_concurrency;
        let fanout = FanoutRpc { shared: self.shared.clone(), stop, tracker: Arc::clone(&tracker), concurrency };
        let runner = match (&self.options.postgres, &self.options.data_dir) {
            (Some(postgres), _) => {
                Some(crate::jobs::Runner::start_postgres(postgres, self.shared.clone(), concurrency).await?)
            }
            (None, Some(dir)) => Some(crate::jobs::Runner::start(dir.clone(), self.shared.clone(), concurrency)?),
            (None, None) => None,
        };
        let jobs = crate::jobs::JobRpc { runner: runner.clone() };
        let shared = &self.shared;
        let routes = crate::service::add_typed_services(Routes::default(), &auth, shared, limit)
            .add_service(auth.layer(
                pb::rest_service_server::RestServiceServer::new(Rest(shared.clone())).max_decoding_message_size(limit),
            ))
            .add_service(
                auth.layer(
                    pb::fanout_service_server::FanoutServiceServer::new(fanout).max_decoding_message_size(limit),
                ),
            )
            .add_service(
                auth.layer(pb::job_service_server::JobServiceServer::new(jobs).max_decoding_message_size(limit)),
            );
        Ok(EmbeddedGateway { routes, auth, tracker, stop_fanouts, runner, grace: self.options.shutdown_grace })
    }
}

/// The gateway's services, served by a tonic server of one's own; see [`Gateway::embed`].
pub struct EmbeddedGateway {
    routes: Routes,
    auth: AuthLayer,
    tracker: Arc<Tracker>,
    stop_fanouts: watch::Sender<bool>,
    runner: Option<Arc<crate::jobs::Runner>>,
    grace: Duration,
}

impl std::fmt::Debug for EmbeddedGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedGateway")
            .field("fanouts", &self.tracker.active())
            .field("jobs", &self.runner.is_some())
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl EmbeddedGateway {
    /// The `tim.v1` services (messages, accounts, groups, the generic REST call, fan-outs and jobs), each behind
    /// the callers' authentication and concurrency limit; add them to a server with
    /// `tonic::transport::Server::builder().add_routes(routes)`. Services added beside them are not affected.
    pub fn routes(&self) -> Routes {
        self.routes.clone()
    }

    /// Stops the gateway's work once the server no longer takes calls: jobs stop at once (they resume at the
    /// next start), running fan-outs may finish until the grace period ends, then those still running are
    /// cancelled (their callers get reports saying so). Returns what was left undone.
    pub async fn shutdown(self) -> ShutdownReport {
        // Jobs are durable: they stop at once and resume at the next start.
        if let Some(runner) = &self.runner {
            runner.stop(DRAIN).await;
        }
        if tokio::time::timeout(self.grace, self.tracker.wait_idle()).await.is_err() {
            tracing::warn!(fanouts = self.tracker.active(), "shutdown grace period over: cancelling running fan-outs");
            let _ = self.stop_fanouts.send(true);
            let _ = tokio::time::timeout(DRAIN, self.tracker.wait_idle()).await;
        }
        let (fanouts_cancelled, recipients_not_delivered) = self.tracker.cancelled();
        ShutdownReport { fanouts_cancelled, recipients_not_delivered, fanouts_abandoned: self.tracker.active() }
    }
}

/// Sets the health of the whole server and of each tim service.
async fn set_all(health: &tonic_health::server::HealthReporter, status: tonic_health::ServingStatus) {
    for service in [
        "",
        "tim.v1.MessageService",
        "tim.v1.AccountService",
        "tim.v1.GroupService",
        "tim.v1.FanoutService",
        "tim.v1.JobService",
        "tim.v1.RestService",
    ] {
        health.set_service_status(service, status).await;
    }
}
