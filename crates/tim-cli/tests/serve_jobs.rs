//! `tim serve` with a data directory, killed with SIGKILL twice during a job and started again: the job resumes by
//! itself each time and finishes, and every recipient holds the message exactly once. The kill points are explicit
//! signals (how many messages the emulator has stored).

use std::path::Path;
use std::process::Child;
use std::time::Duration;
use tim_emulator::RunningEmulator;
use tim_grpc::pb;
use tim_grpc::pb::job_service_client::JobServiceClient;
use tonic::Request;

const KEY: &str = "serve-jobs-key";
const TOKEN: &str = "jobs-test-token";

mod common;

async fn emulator() -> RunningEmulator {
    common::emulator(KEY, "lost=0.04,drop=0.04,502=0.02".parse().unwrap(), 9).await
}

/// Starts `tim serve` on the emulator with `dir` as its data directory; the process and the gateway's address.
fn serve(running: &RunningEmulator, dir: &Path) -> (Child, String) {
    let config = "[quotas]\n\"openim/batchsendmsg\" = \"4/s\"\n\"openim/admin_getroammsg\" = \"4000/s\"\n";
    let served =
        common::serve(running, KEY, TOKEN, dir, config, &[("TIM_DATA_DIR", dir.join("data").display().to_string())]);
    (served.child, served.grpc)
}

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

async fn wait_for_stored(running: &RunningEmulator, count: u64) {
    while running.stats().stored.c2c < count {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_survives_kill_9_of_the_gateway_and_finishes_exactly_once() {
    const RECIPIENTS: u64 = 12_000;
    let running = emulator().await;
    let dir = std::env::temp_dir().join(format!("tim-serve-jobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut text: String = (0..RECIPIENTS).map(|i| format!("j{i:06}\n")).collect();
    text.push_str("j000003\n");
    let recipients = dir.join("recipients.txt");
    std::fs::write(&recipients, text).unwrap();

    let (mut gateway, address) = serve(&running, &dir);
    let mut client = JobServiceClient::connect(address).await.unwrap();
    let start = pb::JobStart {
        message: Some(pb::BatchSendMsgRequest {
            msg_body: vec![pb::MsgElement::text("weekly digest")],
            ..Default::default()
        }),
        recipients_path: recipients.display().to_string(),
        ..Default::default()
    };
    let submit = pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Start(start)) };
    let job = client.submit_job(authed(futures_util::stream::iter([submit]))).await.unwrap().into_inner();
    assert_eq!(job.state, pb::JobState::Running as i32);

    // Killed twice while it sends; each restart resumes the job by itself.
    for fraction in [3, 2] {
        wait_for_stored(&running, RECIPIENTS / fraction).await;
        gateway.kill().unwrap();
        let _ = gateway.wait();
        let (again, address) = serve(&running, &dir);
        gateway = again;
        client = JobServiceClient::connect(address).await.unwrap();
    }
    let mut events =
        client.watch_job(authed(pb::WatchJobRequest { id: job.id, interval_secs: 1 })).await.unwrap().into_inner();
    let (mut last, mut duplicates) = (None, Vec::new());
    while let Some(event) = events.message().await.unwrap() {
        match event.kind {
            Some(pb::job_event::Kind::Job(job)) => last = Some(job),
            Some(pb::job_event::Kind::Failures(batch)) => duplicates.extend(batch.duplicates),
            None => {}
        }
    }
    let last = last.expect("the job at the end");
    assert_eq!(last.state, pb::JobState::Finished as i32, "{last:?}");
    assert_eq!((last.lines, last.delivered, last.duplicates), (RECIPIENTS + 1, RECIPIENTS, 1), "{last:?}");
    assert_eq!((last.failed, last.outcome_unknown, last.invalid), (0, 0, 0), "{last:?}");
    assert_eq!(duplicates, ["j000003"]);

    let emulator = running.emulator();
    for i in 0..RECIPIENTS {
        let id = format!("j{i:06}");
        assert_eq!(emulator.inbox_len(&id), Some(1), "{id} must hold the message exactly once");
    }
    let listed = client.list_jobs(authed(pb::ListJobsRequest {})).await.unwrap().into_inner();
    assert_eq!(listed.jobs.len(), 1);
    gateway.kill().unwrap();
    let _ = gateway.wait();
    running.shutdown().await;
}
