//! `tim jobs --postgres URL`: the jobs that `tim serve` replicas share in PostgreSQL, listed, shown, paused,
//! resumed and cancelled from the command line, against a real PostgreSQL started on loopback.

use std::process::Command;
use tim_jobs::{JobSpec, PgJobStore};
use tim_testkit::PostgresServer;

/// `tim jobs ARGS --postgres URL`: its exit code and standard output.
fn tim_jobs(args: &[&str], url: &str) -> (Option<i32>, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_tim")).arg("jobs").args(args).args(["--postgres", url]).output().unwrap();
    assert!(output.status.success() || !output.stderr.is_empty(), "a failure says why");
    (output.status.code(), String::from_utf8(output.stdout).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_of_the_replicas_are_listed_shown_paused_resumed_and_cancelled() {
    let Some(server) = PostgresServer::start() else { return };
    let url = server.url();
    let store = PgJobStore::connect(&url, 2, &[]).await.unwrap();
    let mut upload = store.upload().await.unwrap();
    upload.write(b"alice\nbob\n").await.unwrap();
    let (input, source) = upload.finish().await.unwrap();
    let spec = JobSpec { message: serde_json::json!({"MsgBody": []}), source };
    let job = store.create_with(spec, input, 1_000, None, None).await.unwrap();
    let id = job.id.to_string();

    let (code, listed) = tim_jobs(&["list"], &url);
    assert_eq!(code, Some(0));
    let fields: Vec<&str> = listed.trim().split('\t').collect();
    assert_eq!(&fields[..2], [id.as_str(), "running"], "{listed}");

    let (code, paused) = tim_jobs(&["pause", &id], &url);
    assert_eq!((code, paused.split('\t').nth(1)), (Some(0), Some("paused")), "{paused}");
    assert_eq!(store.job(job.id).await.unwrap().state, tim_jobs::JobState::Paused, "the store says so too");
    let (_, shown) = tim_jobs(&["show", &id], &url);
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!((shown["id"].as_u64(), shown["state"].as_str()), (Some(job.id), Some("paused")));
    let (_, resumed) = tim_jobs(&["resume", &id], &url);
    assert_eq!(resumed.split('\t').nth(1), Some("running"), "{resumed}");
    let (_, cancelled) = tim_jobs(&["cancel", &id], &url);
    assert_eq!(cancelled.split('\t').nth(1), Some("cancelled"), "{cancelled}");

    let (code, nothing) = tim_jobs(&["show", "999"], &url);
    assert_eq!((code, nothing.as_str()), (Some(1), ""), "an unknown job fails");
}

#[test]
fn a_store_must_be_named_and_only_one() {
    let tim = || Command::new(env!("CARGO_BIN_EXE_tim"));
    let neither = tim().args(["jobs", "list"]).output().unwrap();
    assert_eq!(neither.status.code(), Some(2), "{}", String::from_utf8_lossy(&neither.stderr));
    let both = tim().args(["jobs", "list", "--journal", "/tmp/x", "--postgres", "postgresql://127.0.0.1/x"]).output();
    assert_eq!(both.unwrap().status.code(), Some(2));
}
