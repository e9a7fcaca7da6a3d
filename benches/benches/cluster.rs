//! Several replicas, one quota, through a real `redis-server` started here on loopback.
//!
//! - `cluster/paced_call/{local,redis}`: what reserving one call costs when the schedule is shared through Redis
//!   (one script round trip) against this process's own schedule, with a quota so high that nobody waits. Ratio
//!   `redis_paced_call_vs_local`.
//! - Facts (with `--bench` only): three replicas sharing sendmsg's default quota (200/s) send as fast as they can
//!   for 6 s to an emulator enforcing it; `shared_quota_use_3_replicas` is the calls the emulator accepted after
//!   the first second over what the quota allows in that time (target >= 0.95), and
//!   `shared_quota_violations_3_replicas` the calls it refused for their rate over the whole run (target 0).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tim_emulator::{Emulator, FaultConfig, QuotaConfig};
use tim_model::MsgBody;
use tim_model::c2c::SendMsgRequest;
use tim_model::command::{CommandId, per_second};
use tim_sig::SecretKey;
use tim_testkit::RedisServer;
use tim_transport::pacing::Pacer;
use tim_transport::{Client, ClientConfig, Endpoint, SharedQuotaConfig};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "cluster-bench-key";
const REPLICAS: usize = 3;
/// sendmsg's default quota.
const QUOTA: u32 = 200;
const RUN: Duration = Duration::from_secs(6);
const WARM_UP: Duration = Duration::from_secs(1);

fn paced_call(c: &mut Criterion) {
    let Some(redis) = RedisServer::start() else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let overrides = HashMap::from([(CommandId::SendMsg, per_second(u32::MAX))]);
    let local = Pacer::new(&overrides);
    let shared = Pacer::shared(&overrides, &SharedQuotaConfig::new(redis.url(), 1), SDKAPPID).expect("a pacer");
    assert!(shared.is_shared());
    let mut group = c.benchmark_group("cluster/paced_call");
    group.throughput(Throughput::Elements(1));
    group.bench_function("local", |b| b.iter(|| runtime.block_on(local.acquire(CommandId::SendMsg, 0))));
    group.bench_function("redis", |b| b.iter(|| runtime.block_on(shared.acquire(CommandId::SendMsg, 0))));
    group.finish();
}

fn quota_use(_: &mut Criterion) {
    if !std::env::args().any(|arg| arg == "--bench") {
        return;
    }
    let filters: Vec<String> = std::env::args().skip(1).filter(|arg| !arg.starts_with('-')).collect();
    if !filters.is_empty() && !filters.iter().any(|filter| "cluster/quota_use".contains(filter.as_str())) {
        return;
    }
    let Some(redis) = RedisServer::start() else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
    let (accepted, refused) = runtime.block_on(run_replicas(&redis));
    let allowed = f64::from(QUOTA) * (RUN - WARM_UP).as_secs_f64();
    tim_benches::record_fact("shared_quota_use_3_replicas", (accepted as f64 / allowed * 1000.0).round() / 1000.0);
    tim_benches::record_fact("shared_quota_violations_3_replicas", refused);
}

/// Three replicas sending sendmsg as fast as their shared quota lets them for [`RUN`]: the calls accepted after
/// [`WARM_UP`], and the calls the emulator refused for their rate.
async fn run_replicas(redis: &RedisServer) -> (u64, u64) {
    let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).expect("key"), clock)
        .admin("administrator")
        .auto_create_accounts(true)
        .faults(FaultConfig::none())
        .quotas(QuotaConfig::default().with(CommandId::SendMsg, per_second(QUOTA)))
        .build()
        .expect("an emulator");
    let running = emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port")).expect("serving");
    let shared = SharedQuotaConfig::new(redis.url(), REPLICAS as u32);
    let accepted = Arc::new(AtomicU64::new(0));
    let started = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for replica in 0..REPLICAS {
        let mut config = ClientConfig::new(Endpoint::BaseUrl(running.base_url()));
        config.shared_quota = Some(shared.clone());
        let client =
            Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).expect("key"), config).expect("a client");
        for worker in 0..16 {
            let (client, accepted) = (client.clone(), Arc::clone(&accepted));
            tasks.push(tokio::spawn(async move {
                let mut n = 0_u64;
                while started.elapsed() < RUN {
                    let to = tim_model::UserId::new(format!("r{replica}w{worker}n{n}")).expect("a UserID");
                    let answer = client.call(SendMsgRequest::new(to, MsgBody::text("hi"))).await;
                    if answer.is_ok() && started.elapsed() >= WARM_UP && started.elapsed() < RUN {
                        accepted.fetch_add(1, Ordering::Relaxed);
                    }
                    n += 1;
                }
            }));
        }
    }
    for task in tasks {
        task.await.expect("a replica's worker");
    }
    let refused = running.stats().rate_limited;
    running.shutdown().await;
    (accepted.load(Ordering::Relaxed), refused)
}

criterion_group!(benches, paced_call, quota_use);
criterion_main!(benches);
