//! The fan-out hot path: 100,000 recipients through the fan-out engine (pacing off) against a loopback server
//! that answers like Tencent, beside a raw pooled hyper client posting the same number of pre-serialized
//! 500-recipient bodies to the same server with the same concurrency, in the same run.

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::{StreamExt, stream};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as PoolClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::{MsgBody, UserId};
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};

const RECIPIENTS: usize = 100_000;
const CONCURRENCY: usize = 16;
const ANSWER: &[u8] = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_2_3"}"#;

fn ids() -> Vec<String> {
    (0..RECIPIENTS).map(|i| format!("user{i:08}")).collect()
}

fn message() -> BatchSendMsgRequest {
    BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Your order has shipped and will arrive tomorrow."))
}

/// The bodies a perfect client would send: the same message, 500 recipients each, serialized ahead of time.
fn raw_bodies() -> Vec<Bytes> {
    ids()
        .chunks(500)
        .map(|chunk| {
            let mut request = message();
            request.to_account = chunk.iter().map(|id| UserId::new(id.as_str()).expect("valid")).collect();
            request.msg_random = Some(rand_u32(chunk.len()));
            Bytes::from(serde_json::to_vec(&request).expect("encodes"))
        })
        .collect()
}

fn rand_u32(seed: usize) -> u32 {
    (seed as u32).wrapping_mul(2_654_435_761)
}

fn fanout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let addr = runtime.block_on(tim_benches::bare_server(ANSWER));
    let base = format!("http://{addr}");

    let mut config = ClientConfig::new(Endpoint::BaseUrl(base.clone()));
    config.pacing = false;
    let client = runtime.block_on(async {
        Client::new(1_400_000_000, "administrator", tim_sig::SecretKey::new("bench-key").expect("key"), config)
    });
    let client = client.expect("a client");
    let inputs = ids();
    let bodies = raw_bodies();
    let raw: PoolClient<HttpConnector, Full<Bytes>> = PoolClient::builder(TokioExecutor::new()).build_http();
    let url = format!(
        "{base}/v4/openim/batchsendmsg?sdkappid=1400000000&identifier=administrator&usersig=x&random=1&contenttype=json"
    );

    let mut group = c.benchmark_group("transport/fanout_100k");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    group.bench_function("engine", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
                let fanout = Fanout::new(client.clone(), &message(), options).expect("a valid message");
                let report = fanout.run(stream::iter(inputs.iter())).await;
                assert_eq!(report.delivered as usize, RECIPIENTS);
            })
        })
    });
    group.bench_function("raw_hyper", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let sent = stream::iter(bodies.iter().cloned())
                    .map(|body| {
                        let request = http::Request::post(url.as_str()).body(Full::new(body)).expect("a request");
                        let raw = raw.clone();
                        async move {
                            let response = raw.request(request).await.expect("an answer");
                            response.into_body().collect().await.expect("a body").to_bytes().len()
                        }
                    })
                    .buffer_unordered(CONCURRENCY)
                    .count()
                    .await;
                assert_eq!(sent * 500, RECIPIENTS);
            })
        })
    });
    group.finish();
}

/// Peak memory of a 10,000,000-recipient fan-out streamed from a file, recorded as a fact (Linux only: the peak
/// is reset through `/proc/self/clear_refs` before the run and read from `VmHWM` after it).
fn fanout_10m_peak_memory(_: &mut Criterion) {
    const TEN_MILLION: usize = 10_000_000;
    // `cargo test` runs benches once as a smoke test, without `--bench`: ten million recipients are for
    // `cargo bench` (and `cargo xtask bench`) only. The peak is read from Linux's /proc.
    if !std::env::args().any(|arg| arg == "--bench") || std::fs::metadata("/proc/self/clear_refs").is_err() {
        return;
    }
    // Like criterion's own benchmarks, it runs only when no filter is given or the filter names it.
    let filters: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|filter| "transport/fanout_10m".contains(filter.as_str())) {
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    std::fs::create_dir_all(&dir).expect("a data folder");
    let file = dir.join("recipients-10m.txt");
    if std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) == 0 {
        let mut text = String::with_capacity(TEN_MILLION * 14);
        for i in 0..TEN_MILLION {
            text.push_str(&format!("user{i:08}\n"));
        }
        std::fs::write(&file, text).expect("the recipients file");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let report = runtime.block_on(async {
        let addr = tim_benches::bare_server(ANSWER).await;
        let mut config = ClientConfig::new(Endpoint::BaseUrl(format!("http://{addr}")));
        config.pacing = false;
        let client =
            Client::new(1_400_000_000, "administrator", tim_sig::SecretKey::new("bench-key").expect("key"), config)
                .expect("a client");
        let fanout =
            Fanout::new(client, &message(), FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() })
                .expect("a valid message");
        let lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
            tokio::fs::File::open(&file).await.expect("the recipients file"),
        ));
        let input = Box::pin(stream::unfold(lines, |mut lines| async move {
            lines.next_line().await.ok().flatten().map(|line| (line, lines))
        }));
        let before = rss_kib("VmRSS:");
        // Reset the peak so it measures the fan-out, not the setup.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let started = std::time::Instant::now();
        let report = fanout.run(input).await;
        let elapsed = started.elapsed();
        (report, before, rss_kib("VmHWM:"), elapsed)
    });
    let (report, before, peak, elapsed) = report;
    assert_eq!(report.delivered as usize, TEN_MILLION);
    tim_benches::record_fact("fanout_10m_peak_rss_mib", (peak as f64 / 1024.0).round());
    tim_benches::record_fact("fanout_10m_rss_before_mib", (before as f64 / 1024.0).round());
    tim_benches::record_fact("fanout_10m_recipients_per_s", (TEN_MILLION as f64 / elapsed.as_secs_f64()).round());
}

/// A `/proc/self/status` figure in KiB.
fn rss_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

criterion_group!(benches, fanout_10m_peak_memory, fanout);
criterion_main!(benches);
