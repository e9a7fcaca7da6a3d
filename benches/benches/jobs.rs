//! What durability costs: a journaled fan-out of 1,000,000 recipients (every chunk committed to the job store,
//! fsynced, before it leaves) against the same fan-out in memory, same loopback server, same run. Ratio
//! `journaled_fanout_vs_in_memory` (target >= 0.8). Facts: the journal's bytes per recipient, and (with `--bench`
//! only) the time to resume a 10,000,000-recipient job stopped at half: opening the store, reading its state
//! back and re-reading the first half of the file for the duplicate set, until the first new chunk is sent.
//!
//! The same fan-out journaled to PostgreSQL (the store several replicas share; a server started here on loopback,
//! with fsync off, so its figure leaves out a real server's disk): ratio `postgres_journaled_fanout_vs_in_memory`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::stream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tim_jobs::{JobSpec, JobStore, Source};
use tim_model::MsgBody;
use tim_model::c2c::BatchSendMsgRequest;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};

const RECIPIENTS: usize = 1_000_000;
const CONCURRENCY: usize = 16;
const ANSWER: &[u8] = br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_2_3"}"#;

fn message() -> BatchSendMsgRequest {
    BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Your order has shipped and will arrive tomorrow."))
}

fn client(base: String) -> Client {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(base));
    config.pacing = false;
    Client::new(1_400_000_000, "administrator", tim_sig::SecretKey::new("bench-key").expect("key"), config)
        .expect("a client")
}

fn spec(path: &std::path::Path) -> JobSpec {
    JobSpec {
        message: serde_json::to_value(message()).expect("encodes"),
        source: Source { path: path.display().to_string(), bytes: 0, sha256: String::new() },
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a data folder");
    dir
}

/// One run of `inputs` journaled to a new job of the PostgreSQL `store`, under its lease.
async fn journaled_postgres(client: &Client, store: &tim_jobs::PgJobStore, inputs: &[String]) -> u64 {
    let upload = store.upload().await.expect("an input");
    let (input, source) = upload.finish().await.expect("an input");
    let spec = JobSpec { message: serde_json::to_value(message()).expect("encodes"), source };
    let job = store.create_with(spec, input, 0, None, None).await.expect("a job");
    let lease = store.claim("bench", Duration::from_secs(600)).await.expect("a claim").expect("the job");
    assert_eq!(lease.job, job.id);
    let journal = store.journal(&lease);
    let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
    let mut fanout = Fanout::new(client.clone(), &message(), options).expect("a valid message");
    fanout.journal(Arc::new(journal.clone()), store.resume(&lease).await.expect("a resume"));
    let report = fanout.run(stream::iter(inputs.iter())).await;
    journal.finish().await.expect("committed");
    store.finish_if_complete(job.id, 0).await.expect("finished");
    store.release(&lease).await.expect("released");
    report.delivered
}

/// One journaled run of `inputs` into a new job of `store`.
async fn journaled(client: &Client, store: &JobStore, inputs: &[String]) -> u64 {
    let job = store.create(spec(store.dir()), 0).expect("a job");
    let journal = store.journal(job.id).expect("a journal");
    let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
    let mut fanout = Fanout::new(client.clone(), &message(), options).expect("a valid message");
    fanout.journal(Arc::new(journal.clone()), store.resume(job.id).expect("a resume"));
    let report = fanout.run(stream::iter(inputs.iter())).await;
    journal.close().expect("committed");
    report.delivered
}

fn fanout(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let addr = runtime.block_on(tim_benches::bare_server(ANSWER));
    let client = runtime.block_on(async { client(format!("http://{addr}")) });
    let inputs: Vec<String> = (0..RECIPIENTS).map(|i| format!("user{i:08}")).collect();
    let dir = scratch("journal-1m");

    // The journal's size for one job of a million recipients.
    {
        let one = dir.join("size");
        let store = JobStore::open(&one).expect("a store");
        assert_eq!(runtime.block_on(journaled(&client, &store, &inputs)) as usize, RECIPIENTS);
        drop(store);
        let bytes = std::fs::metadata(one.join("jobs.redb")).map(|m| m.len()).unwrap_or(0);
        tim_benches::record_fact(
            "journal_bytes_per_recipient",
            (bytes as f64 / RECIPIENTS as f64 * 10.0).round() / 10.0,
        );
    }

    let store = JobStore::open(&dir.join("runs")).expect("a store");
    let mut group = c.benchmark_group("jobs/fanout_1m");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(RECIPIENTS as u64));
    group.bench_function("in_memory", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
                let fanout = Fanout::new(client.clone(), &message(), options).expect("a valid message");
                let report = fanout.run(stream::iter(inputs.iter())).await;
                assert_eq!(report.delivered as usize, RECIPIENTS);
            })
        })
    });
    group.bench_function("journaled", |b| {
        b.iter(|| {
            runtime.block_on(async {
                assert_eq!(journaled(&client, &store, &inputs).await as usize, RECIPIENTS);
            })
        })
    });
    if let Some(postgres) = tim_testkit::PostgresServer::start() {
        let store =
            runtime.block_on(tim_jobs::PgJobStore::connect(&postgres.url(), 8, &[])).expect("the PostgreSQL job store");
        group.bench_function("journaled_postgres", |b| {
            b.iter(|| {
                runtime.block_on(async {
                    assert_eq!(journaled_postgres(&client, &store, &inputs).await as usize, RECIPIENTS);
                })
            })
        });
    }
    group.finish();
}

/// The time to resume a 10,000,000-recipient job stopped at half, as a fact (only with `--bench`).
fn resume_10m(_: &mut Criterion) {
    const TEN_MILLION: usize = 10_000_000;
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let filters: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|filter| "jobs/resume_10m".contains(filter.as_str())) {
        return;
    }
    let dir = scratch("journal-10m");
    let file = dir.join("recipients.txt");
    let mut text = String::with_capacity(TEN_MILLION * 13);
    for i in 0..TEN_MILLION {
        text.push_str(&format!("user{i:08}\n"));
    }
    std::fs::write(&file, text).expect("the recipients file");
    let lines = || async {
        let reader = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
            tokio::fs::File::open(&file).await.expect("the recipients file"),
        ));
        Box::pin(stream::unfold(reader, |mut lines| async move {
            lines.next_line().await.ok().flatten().map(|line| (line, lines))
        }))
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let (took, covered) = runtime.block_on(async {
        let addr = tim_benches::bare_server(ANSWER).await;
        let client = client(format!("http://{addr}"));
        let options = FanoutOptions { concurrency: CONCURRENCY, ..FanoutOptions::default() };
        let store_dir = dir.join("store");
        // The first run, stopped once half the recipients are delivered.
        let store = JobStore::open(&store_dir).expect("a store");
        let job = store.create(spec(&file), 0).expect("a job");
        let journal = store.journal(job.id).expect("a journal");
        let mut fanout = Fanout::new(client.clone(), &message(), options.clone()).expect("a valid message");
        fanout.journal(Arc::new(journal.clone()), store.resume(job.id).expect("a resume"));
        let (mut progress, cancel) = (fanout.progress(), fanout.cancel_handle());
        tokio::spawn(async move {
            while progress.changed().await.is_ok() {
                if progress.borrow().delivered as usize >= TEN_MILLION / 2 {
                    cancel.cancel();
                    return;
                }
            }
        });
        fanout.run(lines().await).await;
        journal.close().expect("committed");
        drop(store);
        // The resume: open, read the state back, re-read the first half, until a new chunk is sent.
        let started = Instant::now();
        let store = JobStore::open(&store_dir).expect("the store again");
        let resume = store.resume(job.id).expect("a resume");
        let covered = resume.covered;
        let journal = store.journal(job.id).expect("a journal");
        let mut fanout = Fanout::new(client, &message(), options).expect("a valid message");
        fanout.journal(Arc::new(journal.clone()), resume);
        let (mut progress, cancel) = (fanout.progress(), fanout.cancel_handle());
        let first = tokio::spawn(async move {
            while progress.changed().await.is_ok() {
                if progress.borrow().delivered > 0 {
                    let took = started.elapsed();
                    cancel.cancel();
                    return took;
                }
            }
            started.elapsed()
        });
        fanout.run(lines().await).await;
        journal.close().expect("committed");
        (first.await.expect("timed"), covered)
    });
    assert!(covered as usize >= TEN_MILLION / 2);
    tim_benches::record_fact("resume_10m_at_half_ms", took.as_millis() as u64);
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, resume_10m, fanout);
criterion_main!(benches);
