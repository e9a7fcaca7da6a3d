//! Whether the emulator can be the bottleneck of our own benchmarks: 500-recipient batchsendmsg throughput of
//! `tim-emulator` (storage on, accounts created on first use, quotas off) against a bare hyper server that reads
//! the body and answers a fixed one, measured in the same run.
//!
//! Both are driven by the same pooled hyper client over loopback with the same pre-serialized body (only its
//! `MsgRandom` digits are patched per request, so that every batch is a new message and is stored), with a few
//! requests in flight, on one two-thread tokio runtime shared by client and servers. The bare server is built
//! exactly like the emulator's (HTTP/1.1 with keep-alive, `TCP_NODELAY`), so the ratio isolates the emulator's
//! own work per request. Target: `emulator_vs_bare_hyper` at least 0.5.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tim_emulator::{Emulator, QuotaConfig};
use tim_sig::{SecretKey, Signer, Validity};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "bench-secret-key";
const ADMIN: &str = "administrator";
/// Requests in flight at once.
const CONCURRENCY: u64 = 4;
/// The `MsgRandom` of the template: ten digits, patched in place per request.
const RANDOM_PLACEHOLDER: &str = "1000000000";

/// What both servers answer (the emulator's answer has this shape, with its own MsgKey).
const FIXED_ANSWER: &[u8] = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_1000000000_1750000000"}"#;

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// The 500-recipient batch, serialized once, with the offset of its `MsgRandom` digits.
fn template() -> (Vec<u8>, usize) {
    let recipients: Vec<String> = (0..500).map(|i| format!("user{i:08}")).collect();
    let body = serde_json::json!({
        "From_Account": "notifier",
        "To_Account": recipients,
        "MsgRandom": RANDOM_PLACEHOLDER.parse::<u64>().expect("digits"),
        "MsgLifeTime": 86_400,
        "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text":
            "Your order #20261121-0042 has shipped and will arrive tomorrow between 9:00 and 12:00. Track it in the app.." } }],
        "OfflinePushInfo": { "Desc": "Your order has shipped" },
    });
    let bytes = serde_json::to_vec(&body).expect("encodes");
    let needle = format!("\"MsgRandom\":{RANDOM_PLACEHOLDER}");
    let at = bytes.windows(needle.len()).position(|w| w == needle.as_bytes()).expect("placeholder present");
    (bytes, at + needle.len() - RANDOM_PLACEHOLDER.len())
}

struct Driver {
    client: Client<HttpConnector, Full<Bytes>>,
    template: Vec<u8>,
    random_at: usize,
    counter: AtomicU64,
}

impl Driver {
    fn body(&self) -> Bytes {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) % 1_000_000_000;
        let mut body = self.template.clone();
        body[self.random_at..self.random_at + 10].copy_from_slice(format!("{:010}", 1_000_000_000 + n).as_bytes());
        Bytes::from(body)
    }

    async fn post(&self, uri: &http::Uri) -> Bytes {
        let request = hyper::Request::post(uri.clone())
            .header("content-type", "application/json")
            .body(Full::new(self.body()))
            .expect("a request");
        let response = self.client.request(request).await.expect("an answer");
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.expect("a body").to_bytes()
    }

    /// Sends `total` requests, `CONCURRENCY` at a time, and returns how long they took.
    async fn run(self: &Arc<Self>, uri: &http::Uri, total: u64) -> Duration {
        let issued = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let workers: Vec<_> = (0..CONCURRENCY)
            .map(|_| {
                let (driver, uri, issued) = (self.clone(), uri.clone(), issued.clone());
                tokio::spawn(async move {
                    while issued.fetch_add(1, Ordering::Relaxed) < total {
                        let answer = driver.post(&uri).await;
                        assert!(answer.starts_with(br#"{"ActionStatus":"OK","ErrorCode":0"#), "{answer:?}");
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.await.expect("a worker");
        }
        start.elapsed()
    }
}

fn emulator(c: &mut Criterion) {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime");
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).expect("a key"), now_unix)
        .admin(ADMIN)
        .auto_create_accounts(true)
        .quotas(QuotaConfig::disabled())
        .build()
        .expect("valid settings");
    let (running, bare) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        (emulator.serve(listener).expect("serving"), tim_benches::bare_server(FIXED_ANSWER).await)
    });
    let signer = Signer::new(SDKAPPID, SecretKey::new(KEY).expect("a key"));
    let usersig = signer.generate(ADMIN, Validity { issued_at: now_unix(), expire_secs: 86_400 }).expect("a usersig");
    let query =
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=7&contenttype=json", usersig.expose());
    let emulator_uri: http::Uri =
        format!("{}/v4/openim/batchsendmsg?{query}", running.base_url()).parse().expect("a uri");
    let bare_uri: http::Uri = format!("http://{bare}/v4/openim/batchsendmsg?{query}").parse().expect("a uri");

    let (template, random_at) = template();
    tim_benches::record_fact("emulator_batchsendmsg_500_request_bytes", template.len());
    let client =
        Client::builder(TokioExecutor::new()).pool_max_idle_per_host(CONCURRENCY as usize).build(HttpConnector::new());
    let driver = Arc::new(Driver { client, template, random_at, counter: AtomicU64::new(0) });

    // The emulator really stores: one batch, checked through its inspection API.
    runtime.block_on(driver.run(&emulator_uri, 1));
    assert_eq!(running.emulator().inbox_len("user00000499"), Some(1), "the batch was stored");

    let mut group = c.benchmark_group("emulator/batchsendmsg_500");
    group.throughput(Throughput::Elements(500));
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(4));
    group.bench_function("bare_hyper", |b| b.iter_custom(|iters| runtime.block_on(driver.run(&bare_uri, iters))));
    group.bench_function("emulator", |b| b.iter_custom(|iters| runtime.block_on(driver.run(&emulator_uri, iters))));
    group.finish();

    let stats = running.stats();
    tim_benches::record_fact("emulator_batchsendmsg_500_messages_stored", stats.messages_stored);
    runtime.block_on(running.shutdown());
}

criterion_group!(benches, emulator);
criterion_main!(benches);
