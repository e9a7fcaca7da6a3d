//! Caller authentication and the per-caller concurrency limit, as a tower layer in front of every tim service.
//!
//! The gateway holds the app's secret key, so every call to a service behind the layer (the tim services and
//! reflection; gRPC health is served beside it, since load balancers probe it) must carry
//! `authorization: Bearer TOKEN` with a token from the configuration. Tokens are kept only as SHA-256 digests and
//! compared in constant time (every configured digest is compared, whichever matches). An unauthenticated call
//! gets `UNAUTHENTICATED` and reaches no service. An authenticated caller may have at most `max_concurrent` calls
//! in progress (a streaming call counts until its response stream ends); one more gets `RESOURCE_EXHAUSTED`.

use crate::metrics::Metrics;
use sha2::{Digest, Sha256};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tonic::body::Body;

/// One caller allowed to use the gateway.
#[derive(Clone)]
pub struct Caller {
    name: Arc<str>,
    digest: [u8; 32],
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Caller {
    /// A caller that presents `token` (kept only as its SHA-256 digest).
    pub fn with_token(name: &str, token: &str) -> Self {
        Self { name: name.into(), digest: Sha256::digest(token.as_bytes()).into() }
    }

    /// A caller whose token's SHA-256 digest is `hex` (64 hexadecimal digits), as a configuration file keeps it.
    pub fn with_digest_hex(name: &str, hex: &str) -> Result<Self, String> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return Err(format!("caller {name:?}: token_sha256 must be 64 hexadecimal digits"));
        }
        let mut digest = [0_u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let text = std::str::from_utf8(pair).map_err(|_| format!("caller {name:?}: token_sha256 is not hex"))?;
            digest[i] =
                u8::from_str_radix(text, 16).map_err(|_| format!("caller {name:?}: token_sha256 is not hex"))?;
        }
        Ok(Self { name: name.into(), digest })
    }

    /// The caller's name, as logs and metrics show it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The configured callers and their limits.
#[derive(Debug)]
pub(crate) struct Callers {
    entries: Vec<(Caller, Arc<Semaphore>)>,
    max_concurrent: usize,
}

impl Callers {
    pub(crate) fn new(callers: Vec<Caller>, max_concurrent: usize) -> Self {
        let max_concurrent = max_concurrent.max(1);
        let entries = callers.into_iter().map(|caller| (caller, Arc::new(Semaphore::new(max_concurrent)))).collect();
        Self { entries, max_concurrent }
    }

    /// The caller presenting `token`, comparing against every digest in constant time.
    fn find(&self, token: &str) -> Option<&(Caller, Arc<Semaphore>)> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = None;
        for entry in &self.entries {
            if bool::from(entry.0.digest.ct_eq(&digest)) {
                found = Some(entry);
            }
        }
        found
    }
}

/// The layer; see the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct AuthLayer {
    callers: Arc<Callers>,
    metrics: Arc<Metrics>,
}

impl AuthLayer {
    pub(crate) fn new(callers: Arc<Callers>, metrics: Arc<Metrics>) -> Self {
        Self { callers, metrics }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Auth { inner, callers: Arc::clone(&self.callers), metrics: Arc::clone(&self.metrics) }
    }
}

/// The service the layer makes.
#[derive(Debug, Clone)]
pub(crate) struct Auth<S> {
    inner: S,
    callers: Arc<Callers>,
    metrics: Arc<Metrics>,
}

/// A service behind the layer keeps its gRPC name, so it can be routed like the service itself.
impl<S: tonic::server::NamedService> tonic::server::NamedService for Auth<S> {
    const NAME: &'static str = S::NAME;
}

type BoxFuture<T> = Pin<Box<dyn std::future::Future<Output = T> + Send>>;

impl<S> tower::Service<http::Request<Body>> for Auth<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The service that was polled ready handles this request; a fresh clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let method = crate::metrics::method_name(request.uri().path());
        let token = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(str::trim);
        let Some((caller, limit)) = token.and_then(|token| self.callers.find(token)) else {
            self.metrics.count(&method, tonic::Code::Unauthenticated);
            let message = if token.is_none() {
                "missing caller token: send the metadata `authorization: Bearer TOKEN`"
            } else {
                "unknown caller token"
            };
            tracing::info!(method = %method, "call refused: {message}");
            return Box::pin(async move { Ok(Status::unauthenticated(message).into_http()) });
        };
        let Ok(permit) = Arc::clone(limit).try_acquire_owned() else {
            self.metrics.count(&method, tonic::Code::ResourceExhausted);
            let status = Status::resource_exhausted(format!(
                "caller {} already has {} calls in progress, the most allowed at once",
                caller.name(),
                self.callers.max_concurrent
            ));
            return Box::pin(async move { Ok(status.into_http()) });
        };
        Box::pin(async move {
            let response = inner.call(request).await?;
            // The permit lives as long as the response body, so a streaming call counts until its stream ends.
            Ok(response.map(|body| Body::new(HoldPermit { body, _permit: permit })))
        })
    }
}

/// A response body that holds a concurrency permit until it is dropped.
struct HoldPermit {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl http_body::Body for HoldPermit {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
