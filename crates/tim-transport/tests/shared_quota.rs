//! Several processes, one quota: clients that share their schedules through a real `redis-server` (started here
//! on loopback) stay within one quota together, and a client whose Redis is gone paces at its share of it.
//!
//! These run on the real clock: Redis's clock decides the shared schedule. Their assertions are about what the
//! service refused and what the clients counted, never about how long anything took.

use futures_util::future::join_all;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;
use tim_emulator::{Emulator, FaultConfig, QuotaConfig, RunningEmulator};
use tim_model::api::decode;
use tim_model::c2c::SendMsgRequest;
use tim_model::command::{CommandId, Quota, Rate, per_second};
use tim_sig::SecretKey;
use tim_testkit::RedisServer;
use tim_transport::pacing::{Pacer, TooLate};
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint, SharedQuotaConfig};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "shared-quota-key";
/// The rate every client paces sendmsg at. The service allows 2.5 times as much in each calendar second: the
/// shared schedule spaces calls evenly (the rest is room for loopback delays that bunch calls up), while three
/// replicas pacing alone each let a full bucket go at once, three times the rate, more than the service allows.
const RATE: u32 = 20;
const SERVICE_RATE: u32 = RATE * 5 / 2;
/// Replicas, each sending `PER_REPLICA` messages at once.
const REPLICAS: usize = 3;
const PER_REPLICA: usize = 20;

fn system_clock() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

async fn service() -> RunningEmulator {
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), system_clock)
        .admin("administrator")
        .auto_create_accounts(true)
        .faults(FaultConfig::none())
        .quotas(QuotaConfig::default().with(CommandId::SendMsg, per_second(SERVICE_RATE)))
        .build()
        .unwrap();
    emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap()
}

/// A replica: sendmsg paced at `RATE`, shared through `redis` when given; a refusal is not retried, so it shows.
fn replica(running: &RunningEmulator, redis: Option<SharedQuotaConfig>) -> Client {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(running.base_url()));
    config.quota_overrides.insert(CommandId::SendMsg, per_second(RATE));
    config.shared_quota = redis;
    config.retry = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap()
}

fn message(to: &str) -> SendMsgRequest {
    let body = json!({"To_Account": to, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]});
    decode(&serde_json::to_vec(&body).unwrap()).unwrap()
}

/// Every replica sends its messages at once; the answers that failed.
async fn send_from_all(replicas: &[Client], tag: &str) -> Vec<String> {
    let calls = replicas.iter().enumerate().flat_map(|(r, client)| {
        (0..PER_REPLICA).map(move |i| {
            let client = client.clone();
            let to = format!("{tag}-{r}-{i}");
            async move { client.call(message(&to)).await.err().map(|error| format!("{to}: {error}")) }
        })
    });
    join_all(calls).await.into_iter().flatten().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_sharing_one_quota_in_redis_are_never_refused_for_their_rate() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let running = service().await;
    let shared = SharedQuotaConfig::new(redis.url(), REPLICAS as u32);
    let replicas: Vec<Client> = (0..REPLICAS).map(|_| replica(&running, Some(shared.clone()))).collect();
    let failures = send_from_all(&replicas, "shared").await;
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(running.stats().rate_limited, 0, "the service refused calls for their rate");
    for (r, client) in replicas.iter().enumerate() {
        let stats = client.stats();
        assert_eq!(stats.shared_quota_reservations, PER_REPLICA as u64, "replica {r}: {stats:?}");
        assert_eq!((stats.shared_quota_fallbacks, stats.shared_quota_unreachable), (0, false), "replica {r}");
    }
    let waited: u64 = replicas.iter().map(|client| client.stats().quota_waits).sum();
    assert!(
        waited as usize >= REPLICAS * PER_REPLICA - RATE as usize,
        "only one bucket's worth went at once: {waited}"
    );

    // The control: the same replicas pacing alone each send a full bucket at once, three times what the service
    // allows, and are refused.
    let alone: Vec<Client> = (0..REPLICAS).map(|_| replica(&running, None)).collect();
    let failures = send_from_all(&alone, "alone").await;
    assert!(running.stats().rate_limited > 0, "pacing alone, the replicas exceed the quota together");
    assert!(failures.iter().all(|failure| failure.contains("60007")), "{failures:?}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_cannot_reach_redis_paces_at_its_share_and_comes_back_when_redis_does() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let running = service().await;
    let mut shared = SharedQuotaConfig::new(redis.url(), REPLICAS as u32);
    shared.retry_after = Duration::from_millis(100);
    let client = replica(&running, Some(shared));
    client.call(message("before")).await.unwrap();
    assert_eq!(client.stats().shared_quota_reservations, 1);

    redis.kill();
    // Its share of 20/s is 6/s: six go at once, the rest one every 1/6 s; all of them are paced, none refused.
    let calls = (0..12).map(|i| client.call(message(&format!("down-{i}"))));
    let answers = join_all(calls).await;
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    let stats = client.stats();
    assert!(stats.shared_quota_unreachable, "{stats:?}");
    assert_eq!(stats.shared_quota_fallbacks, 12, "{stats:?}");
    assert_eq!(stats.shared_quota_reservations, 1);
    assert!(stats.quota_waits >= 6, "paced at its share (6/s), not at the whole quota: {stats:?}");
    assert_eq!(running.stats().rate_limited, 0);

    // Redis is back: once `retry_after` has passed, calls are reserved there again.
    // Calls go on at this replica's share until `retry_after` has passed; the first one after that reaches Redis
    // again (the signal is the reservation itself, not a guess of how long to wait).
    redis.restart();
    for n in 0.. {
        client.call(message(&format!("after-{n}"))).await.unwrap();
        if client.stats().shared_quota_reservations > 1 {
            break;
        }
        assert!(n < 100, "Redis was never tried again: {:?}", client.stats());
    }
    let stats = client.stats();
    assert!(!stats.shared_quota_unreachable, "{stats:?}");
    assert_eq!(stats.shared_quota_reservations, 2, "{stats:?}");
    running.shutdown().await;
}

/// Two pacers of one app sharing Redis, at one sendmsg a second.
fn pacers(redis: &RedisServer) -> (Pacer, Pacer) {
    let overrides = HashMap::from([(CommandId::SendMsg, per_second(1))]);
    let config = SharedQuotaConfig::new(redis.url(), 2);
    let pacer = || Pacer::shared(&overrides, &config, SDKAPPID).unwrap();
    (pacer(), pacer())
}

#[tokio::test]
async fn a_retry_is_not_reserved_when_the_shared_schedule_is_booked_past_its_window() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (first, second) = pacers(&redis);
    assert!(first.acquire(CommandId::SendMsg, 0).await.is_zero(), "a full bucket admits the first call at once");
    // The other process books the next two seconds (its calls wait in the background).
    let booked = tokio::spawn(async move {
        second.acquire(CommandId::SendMsg, 0).await;
        second.acquire(CommandId::SendMsg, 0).await;
    });
    wait_for_field(&redis, CommandId::SendMsg, "t1", |tat| tat > 0).await;
    // A retry that must leave within 300 ms may borrow one call's worth, not two seconds.
    let latest = tokio::time::Instant::now() + Duration::from_millis(300);
    assert_eq!(first.acquire_ahead(CommandId::SendMsg, 0, latest).await, Err(TooLate));
    booked.abort();
}

#[tokio::test]
async fn a_rate_limit_answer_in_one_process_holds_back_the_others() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (first, second) = pacers(&redis);
    let before = tokio::time::Instant::now();
    first.back_off(CommandId::SendMsg, Duration::from_millis(600));
    // The back-off is written in the background: wait until Redis holds it.
    wait_for_field(&redis, CommandId::SendMsg, "nb", |not_before| not_before > 0).await;
    second.acquire(CommandId::SendMsg, 0).await;
    assert!(before.elapsed() >= Duration::from_millis(600), "the other process waited for the back-off");
}

#[tokio::test]
async fn recipients_per_minute_and_the_shortest_interval_are_shared_too() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let overrides = HashMap::from([
        (
            CommandId::BatchSendMsg,
            Quota { calls: Rate::PerSecond(1_000), recipients_per_minute: Some(600), min_interval_ms: None },
        ),
        (
            CommandId::ImPush,
            Quota { calls: Rate::PerSecond(1_000), recipients_per_minute: None, min_interval_ms: Some(400) },
        ),
    ]);
    let config = SharedQuotaConfig::new(redis.url(), 2);
    let (first, second) =
        (Pacer::shared(&overrides, &config, SDKAPPID).unwrap(), Pacer::shared(&overrides, &config, SDKAPPID).unwrap());
    let started = tokio::time::Instant::now();
    // 600 recipients a minute: ten a second. Five recipients here, then five there: the second batch waits for the
    // first one's half second.
    assert!(first.acquire(CommandId::BatchSendMsg, 5).await.is_zero());
    assert!(!second.acquire(CommandId::BatchSendMsg, 5).await.is_zero());
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
    let started = tokio::time::Instant::now();
    assert!(first.acquire(CommandId::ImPush, 0).await.is_zero());
    assert!(!second.acquire(CommandId::ImPush, 0).await.is_zero());
    assert!(started.elapsed() >= Duration::from_millis(400), "{:?}", started.elapsed());
}

/// Polls the command's hash in Redis until `field` satisfies `ready` (an explicit signal that a background write
/// landed, not a guess of how long it takes).
async fn wait_for_field(redis: &RedisServer, command: CommandId, field: &str, ready: impl Fn(u64) -> bool) {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("tim:quota:{SDKAPPID}:{}", command.command().path);
    for _ in 0..500 {
        let value: Option<u64> = redis::cmd("HGET").arg(&key).arg(field).query_async(&mut connection).await.unwrap();
        if value.is_some_and(&ready) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{key} {field} never became ready");
}

#[test]
fn a_shared_quota_with_a_url_that_is_not_redis_is_refused_without_its_password() {
    let mut config = ClientConfig::new(Endpoint::BaseUrl("http://127.0.0.1:1".into()));
    config.shared_quota = Some(SharedQuotaConfig::new("http://:hunter2@example.invalid", 2));
    let error = Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap_err();
    let text = error.to_string();
    assert!(text.contains("not a Redis URL"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}
