//! Support for tim's criterion benches (the benches themselves are in `benches/benches/`).
//!
//! Criterion records timings; figures that are not timings (a request's size in bytes, a peak memory) are
//! recorded here as facts in `target/bench-facts/`, where `cargo xtask bench` collects them into
//! `target/bench-summary.json`.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Records one named figure for the bench summary. Failing to write it only warns: a bench never fails on this.
pub fn record_fact(name: &str, value: impl Into<serde_json::Value>) {
    let dir = target_dir().join("bench-facts");
    let path = dir.join(format!("{name}.json"));
    let document = serde_json::json!({ name: value.into() });
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, document.to_string()));
    if let Err(error) = written {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("warning: cannot record bench fact {name} in {}: {error}", path.display());
        }
    }
}

/// The cargo target directory: `CARGO_TARGET_DIR` when set, else `target/` at the workspace root.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(|root| root.join("target")).unwrap_or_default()
    })
}

/// A bare HTTP/1.1 server on 127.0.0.1 that reads each request's whole body and answers `answer` (as JSON):
/// the fastest possible "service", used as the common target of a component and its baseline. Runs on the
/// current tokio runtime until the runtime ends.
pub async fn bare_server(answer: &'static [u8]) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("a bound address");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                    // Read the body as a real service would before answering.
                    let _ = request.into_body().collect().await;
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from_static(answer)))
                            .expect("a static response"),
                    )
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
