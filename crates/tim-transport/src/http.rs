//! The pooled HTTP client: hyper-util's legacy pool over rustls (webpki roots plus configured CAs), keep-alive,
//! TCP_NODELAY, HTTP/2 when the server offers it through ALPN, and a pool timer so idle timeouts work.

use crate::config::ClientConfig;
use crate::departure::{Departure, GatedBody};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client as PoolClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// What one attempt produced.
#[derive(Debug)]
pub(crate) enum Attempt {
    /// An HTTP response, read whole.
    Answered { status: u16, body: Bytes },
    /// No connection could be made: the request never left.
    ConnectFailed(String),
    /// The attempt did not finish in time (the request may have been received).
    TimedOut,
    /// The connection failed after the request may have left.
    Broken(String),
}

/// One shared, pooled HTTP client.
#[derive(Clone)]
pub(crate) struct HttpClient {
    pool: PoolClient<Connector, GatedBody>,
    attempt_timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient").field("attempt_timeout", &self.attempt_timeout).finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds the pool. Fails when a configured CA certificate cannot be read.
    pub(crate) fn new(config: &ClientConfig) -> Result<Self, String> {
        let tls = crate::config::tls_client_config(&config.extra_ca_pem)?;

        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(config.connect_timeout));
        http.set_keepalive(Some(Duration::from_secs(60)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        let pool = PoolClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(connector);
        Ok(Self { pool, attempt_timeout: config.attempt_timeout })
    }

    /// Posts `body` to `url` once, reading the whole answer within the attempt timeout. The body asks `departure`
    /// before it leaves (see `departure.rs`).
    pub(crate) async fn post(&self, url: &str, body: Bytes, departure: Departure) -> Attempt {
        let body = GatedBody::new(body, departure);
        let request = match http::Request::post(url).header(http::header::CONTENT_TYPE, "application/json").body(body) {
            Ok(request) => request,
            // The URL is built by the client from checked parts; a failure here is a bug worth seeing, but the
            // message must not repeat the URL, which holds the UserSig.
            Err(_) => return Attempt::Broken("cannot build the HTTP request from the URL".to_owned()),
        };
        let exchange = async {
            let response = match self.pool.request(request).await {
                Ok(response) => response,
                Err(error) if error.is_connect() => return Attempt::ConnectFailed(describe(&error)),
                Err(error) => return Attempt::Broken(describe(&error)),
            };
            let status = response.status().as_u16();
            match response.into_body().collect().await {
                Ok(collected) => Attempt::Answered { status, body: collected.to_bytes() },
                Err(error) => Attempt::Broken(format!("response body broke off: {error}")),
            }
        };
        match tokio::time::timeout(self.attempt_timeout, exchange).await {
            Ok(attempt) => attempt,
            Err(_) => Attempt::TimedOut,
        }
    }
}

/// The error and its causes, without the URL (which carries the UserSig).
fn describe(error: &hyper_util::client::legacy::Error) -> String {
    use std::error::Error as _;
    let mut text = String::from(if error.is_connect() { "connect error" } else { "request failed" });
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
