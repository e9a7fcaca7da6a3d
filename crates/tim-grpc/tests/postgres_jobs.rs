//! Two gateways in one process sharing their jobs through a real PostgreSQL (started here on loopback): a job
//! submitted to one is seen, paused, resumed and watched through the other, whichever of them runs it, and every
//! recipient gets it once.

use std::time::Duration;
use tim_emulator::{Emulator, QuotaConfig, RunningEmulator};
use tim_grpc::pb;
use tim_grpc::pb::job_service_client::JobServiceClient;
use tim_grpc::{Caller, Gateway, GatewayOptions, Metrics, PostgresJobs};
use tim_model::command::{CommandId, per_second};
use tim_sig::SecretKey;
use tim_testkit::PostgresServer;
use tim_transport::{Client, ClientConfig, Endpoint};
use tonic::transport::Channel;
use tonic::{Code, Request};

mod common;

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "postgres-jobs-test-key";
const TOKEN: &str = "postgres-jobs-token";
const RECIPIENTS: usize = 3_000;

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

async fn emulator() -> RunningEmulator {
    let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), clock)
        .auto_create_accounts(true)
        .quotas(QuotaConfig::disabled())
        .build()
        .unwrap()
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap()
}

/// A gateway with its jobs in `postgres`, sending two 500-recipient batches a second (slow enough to pause a job
/// in the middle); its job client and metrics.
async fn replica(
    running: &RunningEmulator,
    postgres: &PostgresServer,
) -> (JobServiceClient<Channel>, std::sync::Arc<Metrics>) {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(running.base_url()));
    config.quota_overrides.insert(CommandId::BatchSendMsg, per_second(2));
    let client = Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap();
    let mut options = GatewayOptions::new(vec![Caller::with_token("tests", TOKEN)]);
    options.postgres = Some(PostgresJobs { lease: Duration::from_secs(1), ..PostgresJobs::new(postgres.url()) });
    let gateway = Gateway::new(client, options).unwrap();
    let metrics = gateway.metrics();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(gateway.serve(listener, std::future::pending()));
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    (JobServiceClient::new(channel), metrics)
}

/// Submits a job of `text` to the users `{prefix}00000` to `{prefix}02999`, streamed in.
async fn submit(jobs: &mut JobServiceClient<Channel>, prefix: &str, text: &str) -> pb::Job {
    let lines: String = (0..RECIPIENTS).map(|i| format!("{prefix}{i:05}\n")).collect();
    let start = pb::JobStart {
        message: Some(pb::BatchSendMsgRequest { msg_body: vec![pb::MsgElement::text(text)], ..Default::default() }),
        ..Default::default()
    };
    let submitted = futures_util::stream::iter([
        pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Start(start)) },
        pb::SubmitJobRequest {
            kind: Some(pb::submit_job_request::Kind::Recipients(pb::RecipientBatch { lines, user_ids: Vec::new() })),
        },
    ]);
    jobs.submit_job(authed(submitted)).await.unwrap().into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_in_postgresql_is_seen_paused_resumed_and_watched_through_any_replica() {
    let Some(postgres) = PostgresServer::start() else { return };
    let running = emulator().await;
    let (mut a, metrics_a) = replica(&running, &postgres).await;
    let (mut b, metrics_b) = replica(&running, &postgres).await;

    let job = submit(&mut a, "p", "shared").await;
    // The other replica knows the job at once: it is in the database, not in the replica that took it.
    let seen = b.get_job(authed(pb::JobRef { id: job.id })).await.unwrap().into_inner();
    assert_eq!((seen.id, seen.state), (job.id, pb::JobState::Running as i32));
    let listed = b.list_jobs(authed(pb::ListJobsRequest::default())).await.unwrap().into_inner();
    assert_eq!(listed.jobs.iter().map(|job| job.id).collect::<Vec<_>>(), [job.id]);

    // Paused through B after the first batch, whichever replica runs it: the run stops at its next renewal.
    while running.stats().stored.c2c < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let paused = b.pause_job(authed(pb::JobRef { id: job.id })).await.unwrap().into_inner();
    assert_eq!(paused.state, pb::JobState::Paused as i32);
    // A watch through A ends once no replica runs the job any more.
    let stopped = common::watch_to_end(&mut a, TOKEN, job.id).await;
    assert_eq!(stopped.state, pb::JobState::Paused as i32, "{stopped:?}");
    assert!(stopped.delivered < RECIPIENTS as u64, "paused in the middle: {stopped:?}");
    assert_eq!(stopped.in_flight, 0, "the batches on their way were settled before the run ended: {stopped:?}");
    assert_eq!(running.stats().stored.c2c, stopped.delivered, "nothing was sent that the job does not count");

    // Resumed through A, watched to its end through B.
    a.resume_job(authed(pb::JobRef { id: job.id })).await.unwrap();
    let finished = common::watch_to_end(&mut b, TOKEN, job.id).await;
    assert_eq!(finished.state, pb::JobState::Finished as i32, "{finished:?}");
    assert_eq!((finished.delivered, finished.failed, finished.lines), (RECIPIENTS as u64, 0, RECIPIENTS as u64));
    let emulator = running.emulator();
    for i in 0..RECIPIENTS {
        assert_eq!(emulator.inbox_len(&format!("p{i:05}")), Some(1), "p{i:05} holds the message once");
    }
    let refused = b.cancel_job(authed(pb::JobRef { id: job.id })).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");

    // Two runs in all (before the pause, after the resume), each on a lease one of the replicas claimed.
    let claimed = |metrics: &Metrics| {
        let text = metrics.render();
        text.lines()
            .find_map(|line| line.strip_prefix("tim_jobs_leases_total{how=\"claimed\"} ")?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    assert_eq!(claimed(&metrics_a) + claimed(&metrics_b), 2.0, "{}\n{}", metrics_a.render(), metrics_b.render());
    running.shutdown().await;
}

/// PostgreSQL killed in the middle of a job and started again: the run breaks off (nothing is sent that the
/// database did not record first), the job stays running instead of stopping, and it finishes by itself once the
/// database is back, every recipient holding the message once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_outlives_postgresql_going_down_and_finishes_once_it_is_back() {
    let Some(mut postgres) = PostgresServer::start() else { return };
    let running = emulator().await;
    let (mut jobs, metrics) = replica(&running, &postgres).await;
    let job = submit(&mut jobs, "d", "outage").await;
    while running.stats().stored.c2c < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    postgres.kill();
    // The explicit signal that the run broke off for the outage, and took it for one (not for the job's failure).
    let interrupted =
        |metrics: &Metrics| metrics.render().lines().any(|line| line == "tim_jobs_store_interruptions_total 1");
    while !interrupted(&metrics) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    postgres.restart();

    let finished = common::watch_to_end(&mut jobs, TOKEN, job.id).await;
    assert_eq!(finished.state, pb::JobState::Finished as i32, "{finished:?}");
    assert!(finished.error.is_empty(), "the outage never stopped the job: {finished:?}");
    assert_eq!((finished.delivered, finished.failed, finished.outcome_unknown), (RECIPIENTS as u64, 0, 0));
    let emulator = running.emulator();
    for i in 0..RECIPIENTS {
        assert_eq!(emulator.inbox_len(&format!("d{i:05}")), Some(1), "d{i:05} holds the message once");
    }
    running.shutdown().await;
}
