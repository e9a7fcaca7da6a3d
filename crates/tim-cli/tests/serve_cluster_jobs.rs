//! Three `tim serve` replicas of one app sharing one quota (a real `redis-server`) and one job queue (a real
//! PostgreSQL), both started here on loopback, against one emulator that enforces batchsendmsg's quota and loses
//! some answers. Three jobs are submitted, one through each replica; once the emulator has stored a third of the
//! messages (the explicit signal), a replica running a job is killed with SIGKILL. Its lease ends, another replica
//! takes the job over and resolves its chunks in flight from the history: every job finishes, every recipient
//! holds its message exactly once, no call was refused for its rate, and any replica answers for any job.
//!
//! A second test stalls the replica running a job (SIGSTOP) past its lease instead of killing it: the other
//! replica takes the job over, and when the stalled one wakes (SIGCONT) with batches recorded and waiting to leave,
//! none of them leaves (its fence closed with its lease) and nothing it records counts: every recipient gets the
//! message once and the service never even had to drop a repeat.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tim_emulator::{FaultConfig, QuotaConfig};
use tim_grpc::pb;
use tim_grpc::pb::job_service_client::JobServiceClient;
use tim_model::command::{CommandId, per_second};
use tim_testkit::{PostgresServer, RedisServer};
use tonic::Request;

mod common;

const KEY: &str = "serve-cluster-jobs-key";
const TOKEN: &str = "cluster-jobs-test-token";
const REPLICAS: usize = 3;
const RECIPIENTS: u64 = 10_000;
/// batchsendmsg calls per second, shared by the replicas; the emulator allows half as much again a calendar second
/// (room for loopback delays), less than two replicas pacing alone would send.
const RATE: u32 = 12;

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

fn signal(child: &std::process::Child, signal: &str) {
    let status = std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success(), "kill {signal} {}", child.id());
}

/// The replica whose process holds the lease of a running job, by the owner's name (`host:pid:random`).
fn holder(postgres: &PostgresServer, replicas: &[common::Served]) -> Option<usize> {
    let owners = postgres.psql("SELECT lease_owner FROM tim_jobs WHERE state = 'running' AND lease_owner IS NOT NULL");
    let pids: HashMap<u32, usize> = replicas.iter().enumerate().map(|(r, replica)| (replica.child.id(), r)).collect();
    owners
        .lines()
        .find_map(|owner| owner.split(':').nth(1)?.parse::<u32>().ok().and_then(|pid| pids.get(&pid).copied()))
}

/// Watches the job until its watch ends; the job as it was last.
async fn watch_to_end(client: &mut JobServiceClient<tonic::transport::Channel>, id: u64) -> pb::Job {
    let mut watch = client.watch_job(authed(pb::WatchJobRequest { id, interval_secs: 1 })).await.unwrap().into_inner();
    let mut last = None;
    while let Some(event) = watch.message().await.unwrap() {
        if let Some(pb::job_event::Kind::Job(job)) = event.kind {
            last = Some(job);
        }
    }
    last.expect("the watch ends with the job")
}

async fn jobs_client(replica: &common::Served) -> JobServiceClient<tonic::transport::Channel> {
    JobServiceClient::connect(replica.grpc.clone()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_of_a_replica_killed_with_sigkill_is_taken_over_and_every_recipient_gets_it_once() {
    let Some(redis) = RedisServer::start() else { return };
    let Some(postgres) = PostgresServer::start() else { return };
    let quotas = QuotaConfig::default()
        .with(CommandId::BatchSendMsg, per_second(RATE * 3 / 2))
        .with(CommandId::AdminGetRoamMsg, per_second(5_000))
        .with_recipients_per_minute(100_000_000);
    let faults: FaultConfig = "lost=0.03,502=0.02".parse().unwrap();
    let running = common::emulator_with_quotas(KEY, faults, 11, quotas).await;
    let scratch = std::env::temp_dir().join(format!("tim-serve-cluster-jobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let config = format!(
        "[quotas]\n\"openim/batchsendmsg\" = \"{RATE}/s\"\n\"openim/admin_getroammsg\" = \"4000/s\"\n\
         batchsendmsg_recipients_per_minute = 100000000\n"
    );
    let cluster = [
        ("TIM_REDIS_URL", redis.url()),
        ("TIM_REPLICAS", REPLICAS.to_string()),
        ("TIM_POSTGRES_URL", postgres.url()),
        ("TIM_JOB_LEASE_SECS", "2".to_owned()),
    ];
    let mut replicas: Vec<common::Served> = (0..REPLICAS)
        .map(|r| common::serve(&running, KEY, TOKEN, &scratch.join(format!("r{r}")), &config, &cluster))
        .collect();

    // One job through each replica, each to its own recipients (a file the replica reads and stores in
    // PostgreSQL, so that any replica can run the job).
    let started = Instant::now();
    let mut ids = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        let text: String = (0..RECIPIENTS).map(|i| format!("j{r}u{i:06}\n")).collect();
        let path = scratch.join(format!("recipients-{r}.txt"));
        std::fs::write(&path, text).unwrap();
        let start = pb::JobStart {
            message: Some(pb::BatchSendMsgRequest {
                msg_body: vec![pb::MsgElement::text(format!("job {r}"))],
                ..Default::default()
            }),
            recipients_path: path.display().to_string(),
            ..Default::default()
        };
        let submit = pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Start(start)) };
        let mut client = jobs_client(replica).await;
        let job = client.submit_job(authed(futures_util::stream::iter([submit]))).await.unwrap().into_inner();
        ids.push(job.id);
    }

    // A third of the messages stored: kill -9 a replica that holds a job's lease.
    let total = RECIPIENTS * REPLICAS as u64;
    while running.stats().stored.c2c < total / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let batch_calls = |stats: &tim_emulator::Stats| stats.calls.get("openim/batchsendmsg").copied().unwrap_or(0);
    let (calls_before, before) = (batch_calls(&running.stats()), started.elapsed());
    let victim = holder(&postgres, &replicas).expect("a replica holds a running job's lease");
    let held_before = postgres
        .psql(&format!("SELECT count(*) FROM tim_jobs WHERE lease_owner LIKE '%:{}:%'", replicas[victim].child.id()));
    replicas[victim].child.kill().unwrap(); // SIGKILL: no handler runs, no lease is released.
    let _ = replicas[victim].child.wait();
    let survivor = &replicas[(victim + 1) % REPLICAS];

    // Any surviving replica answers for every job, including those the dead one ran; each finishes.
    let mut client = jobs_client(survivor).await;
    for &id in &ids {
        let job = watch_to_end(&mut client, id).await;
        assert_eq!(job.state, pb::JobState::Finished as i32, "{job:?}");
        assert_eq!((job.delivered, job.failed, job.outcome_unknown), (RECIPIENTS, 0, 0), "{job:?}");
    }
    let elapsed = started.elapsed();

    let emulator = running.emulator();
    let (mut lost, mut doubled) = (Vec::new(), Vec::new());
    for r in 0..REPLICAS {
        for i in 0..RECIPIENTS {
            let id = format!("j{r}u{i:06}");
            match emulator.inbox_len(&id).unwrap_or(0) {
                1 => {}
                0 => lost.push(id),
                _ => doubled.push(id),
            }
        }
    }
    assert!(doubled.is_empty(), "{} got the message twice: {:?}", doubled.len(), &doubled[..doubled.len().min(5)]);
    assert!(lost.is_empty(), "{} never got it: {:?}", lost.len(), &lost[..lost.len().min(5)]);
    let stats = running.stats();
    assert_eq!(stats.rate_limited, 0, "the replicas exceeded the quota together");
    let taken_over = postgres.psql("SELECT count(*) FROM tim_jobs WHERE lease_epoch > 1");
    assert!(taken_over.parse::<u32>().unwrap() >= 1, "a job was claimed again after the kill: {taken_over}");
    let calls = batch_calls(&stats);
    // Reported, not asserted (timing belongs to benchmarks): how much of the shared quota the replicas used.
    eprintln!(
        "3 replicas, {total} recipients in {elapsed:.1?}: {calls} batchsendmsg calls at {RATE}/s shared; quota use \
         {:.2} until the kill ({calls_before} calls in {before:.1?}, submissions included), {:.2} over the whole run \
         (the lease's wait and the history lookups included); the killed replica held {held_before} job(s)",
        calls_before as f64 / (before.as_secs_f64() * f64::from(RATE)),
        calls as f64 / (elapsed.as_secs_f64() * f64::from(RATE)),
    );
    for mut replica in replicas {
        let _ = replica.child.kill();
        let _ = replica.child.wait();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stalled_past_its_lease_sends_nothing_more_of_the_job_when_it_wakes() {
    const STALLED_RECIPIENTS: u64 = 8_000;
    let Some(postgres) = PostgresServer::start() else { return };
    let running = common::emulator_with_quotas(KEY, FaultConfig::none(), 0, QuotaConfig::disabled()).await;
    let scratch = std::env::temp_dir().join(format!("tim-serve-stalled-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    // Four batches a second each, sixteen in flight: a stalled replica has batches recorded and waiting to leave.
    let config = "[quotas]\n\"openim/batchsendmsg\" = \"4/s\"\n\"openim/admin_getroammsg\" = \"4000/s\"\n\
                  batchsendmsg_recipients_per_minute = 100000000\n";
    let cluster = [("TIM_POSTGRES_URL", postgres.url()), ("TIM_JOB_LEASE_SECS", "2".to_owned())];
    let replicas: Vec<common::Served> =
        (0..2).map(|r| common::serve(&running, KEY, TOKEN, &scratch.join(format!("r{r}")), config, &cluster)).collect();

    let text: String = (0..STALLED_RECIPIENTS).map(|i| format!("s{i:06}\n")).collect();
    let path = scratch.join("recipients.txt");
    std::fs::write(&path, text).unwrap();
    let start = pb::JobStart {
        message: Some(pb::BatchSendMsgRequest {
            msg_body: vec![pb::MsgElement::text("stalled")],
            ..Default::default()
        }),
        recipients_path: path.display().to_string(),
        ..Default::default()
    };
    let submit = pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Start(start)) };
    let job = jobs_client(&replicas[0]).await.submit_job(authed(futures_util::stream::iter([submit]))).await.unwrap();
    let id = job.into_inner().id;

    while running.stats().stored.c2c < STALLED_RECIPIENTS / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stalled = holder(&postgres, &replicas).expect("a replica holds the job's lease");
    let other = 1 - stalled;
    signal(&replicas[stalled].child, "-STOP");
    // The other replica takes the job over once the stalled one's lease has ended (the explicit signal: its metric).
    let taken_over = "tim_jobs_leases_total{how=\"taken_over\"}";
    while common::metric_or_none(&replicas[other].metrics, taken_over).await.unwrap_or(0.0) < 1.0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    signal(&replicas[stalled].child, "-CONT");
    // The stalled replica learns at its next renewal that it lost the job, and stops its run.
    while common::metric(&replicas[stalled].metrics, "tim_jobs_leases_lost_total").await < 1.0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut client = jobs_client(&replicas[stalled]).await;
    let job = watch_to_end(&mut client, id).await;
    assert_eq!(job.state, pb::JobState::Finished as i32, "{job:?}");
    assert_eq!((job.delivered, job.failed, job.outcome_unknown), (STALLED_RECIPIENTS, 0, 0), "{job:?}");
    let emulator = running.emulator();
    for i in 0..STALLED_RECIPIENTS {
        assert_eq!(emulator.inbox_len(&format!("s{i:06}")), Some(1), "s{i:06} holds the message once");
    }
    let stats = running.stats();
    assert_eq!(stats.duplicates_dropped, 0, "no batch was ever sent twice, not even one the service would drop");
    assert_eq!(stats.stored.c2c, STALLED_RECIPIENTS);
    for mut replica in replicas {
        let _ = replica.child.kill();
        let _ = replica.child.wait();
    }
    let _ = std::fs::remove_dir_all(&scratch);
    running.shutdown().await;
}
