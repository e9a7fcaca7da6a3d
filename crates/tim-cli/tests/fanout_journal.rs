//! `tim fanout --journal` as a process, killed with SIGKILL (and now and then stopped with SIGTERM) again and again while it sends through injected
//! faults, and resumed each time: in the end every recipient holds the message exactly once, and the report
//! accounts for every line of the file. The kill points are explicit signals (how many messages the emulator has
//! stored), not sleeps.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tim_emulator::RunningEmulator;

const KEY: &str = "cli-journal-key";

mod common;
use common::SDKAPPID;

async fn emulator(faults: &str) -> RunningEmulator {
    common::emulator(KEY, faults.parse().unwrap(), 5).await
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tim-cli-journal-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tim(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tim"));
    command.args(args).env("TIM_SECRET_KEY", KEY).env_remove("TIM_REGION").stdin(Stdio::null());
    command
}

fn fanout(running: &RunningEmulator, dir: &Path, text: &str, extra: &[&str]) -> Command {
    let mut command = tim(&["fanout", "--text", text, "--sdkappid", &SDKAPPID.to_string(), "--admin", "administrator"]);
    command
        .args(["--base-url", &running.base_url(), "--resolve-delay-ms", "100"])
        .arg("--recipients")
        .arg(dir.join("recipients.txt"))
        .arg("--journal")
        .arg(dir.join("journal"))
        .arg("--report")
        .arg(dir.join("report.jsonl"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Waits until the emulator has stored `count` messages or the process ended; whether it still runs.
async fn wait_for_stored(running: &RunningEmulator, child: &mut Child, count: u64) -> bool {
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if running.stats().stored.c2c >= count {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journaled_fan_out_killed_again_and_again_delivers_each_recipient_exactly_once() {
    const RECIPIENTS: u64 = 20_000;
    const KILLS: u64 = 8;
    // Faults that store the message and lose the answer, drop requests before storing, and answer 502 before.
    let running = emulator("lost=0.04,drop=0.04,502=0.02").await;
    let dir = scratch("kills");
    let mut text: String = (0..RECIPIENTS).map(|i| format!("k{i:06}\n")).collect();
    text.push_str("k000007\n\nnot a user id because it is far too long for one\n");
    std::fs::write(dir.join("recipients.txt"), &text).unwrap();
    // Four calls a second: about 2,000 recipients a second, so the kills fall all along the fan-out.
    // History lookups after each kill are paced too; this app bought more of them than the default 200/s.
    let paced =
        ["--quota", "openim/batchsendmsg=4/s", "--quota", "openim/admin_getroammsg=4000/s", "--concurrency", "4"];

    // Every third stop is a SIGTERM, which stops the run gracefully (batches waiting for their quota are handed
    // back to the journal as not sent); the others are SIGKILLs.
    let (mut kills, mut terms) = (0, 0);
    for k in 1..=KILLS {
        let mut child = fanout(&running, &dir, "flash sale", &paced).spawn().unwrap();
        let running_still = wait_for_stored(&running, &mut child, RECIPIENTS * k / (KILLS + 2)).await;
        if running_still && k % 3 == 0 {
            Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
            terms += 1;
        } else if running_still {
            child.kill().unwrap(); // SIGKILL: no handler runs, nothing is flushed.
            kills += 1;
        }
        let _ = child.wait().unwrap();
    }
    assert!(kills >= 5 && terms >= 2, "the fan-out was killed at least five times ({kills}) and stopped ({terms})");
    let output = fanout(&running, &dir, "flash sale", &paced).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "two lines are not delivered (a duplicate is not a failure): {stderr}");
    assert!(stderr.contains("resuming job 1"), "{stderr}");

    // Every recipient holds the message exactly once.
    let emulator = running.emulator();
    let mut doubled = Vec::new();
    let mut lost = Vec::new();
    for i in 0..RECIPIENTS {
        let id = format!("k{i:06}");
        match emulator.inbox_len(&id).unwrap_or(0) {
            1 => {}
            0 => lost.push(id),
            _ => doubled.push(id),
        }
    }
    assert!(
        doubled.is_empty(),
        "{} recipients got the message twice: {:?}",
        doubled.len(),
        &doubled[..doubled.len().min(5)]
    );
    assert!(lost.is_empty(), "{} recipients never got it: {:?}", lost.len(), &lost[..lost.len().min(5)]);

    // The report accounts for every line of the file, across all the runs.
    let report = std::fs::read_to_string(dir.join("report.jsonl")).unwrap();
    let mut lines: Vec<serde_json::Value> = report.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary = lines.pop().unwrap()["summary"].clone();
    assert_eq!(summary["state"], "finished", "{summary}");
    assert_eq!(summary["lines"].as_u64(), Some(RECIPIENTS + 3));
    assert_eq!(summary["delivered"].as_u64(), Some(RECIPIENTS), "{summary}");
    assert_eq!((summary["invalid"].as_u64(), summary["duplicate_lines"].as_u64()), (Some(2), Some(1)), "{summary}");
    assert_eq!((summary["failed"].as_u64(), summary["outcome_unknown"].as_u64()), (Some(0), Some(0)), "{summary}");
    let listed: Vec<(u64, &str)> =
        lines.iter().map(|line| (line["line"].as_u64().unwrap(), line["status"].as_str().unwrap())).collect();
    assert_eq!(listed, [(RECIPIENTS + 1, "duplicate"), (RECIPIENTS + 2, "invalid"), (RECIPIENTS + 3, "invalid")]);
    let stats = running.stats();
    assert!(stats.faults.values().sum::<u64>() > 0, "faults were injected: {:?}", stats.faults);

    // The same command once more only reports; another message in the same directory is a new job, and another
    // while a job is unfinished is refused.
    let again = fanout(&running, &dir, "flash sale", &paced).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stderr).contains("job 1 is finished"));
    assert_eq!(running.stats().stored.c2c, stats.stored.c2c, "nothing was sent again");
    let listed = tim(&["jobs", "list", "--journal"]).arg(dir.join("journal")).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.starts_with("1\tfinished\t20003 lines\tdelivered 20000\t"), "{listed}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_message_is_refused_while_a_job_is_unfinished_and_a_cancelled_job_sends_nothing_more() {
    let running = emulator("").await;
    let dir = scratch("refuse");
    let text: String = (0..3_000).map(|i| format!("r{i:05}\n")).collect();
    std::fs::write(dir.join("recipients.txt"), &text).unwrap();
    let slow = ["--quota", "openim/batchsendmsg=1/s", "--concurrency", "1"];
    let mut child = fanout(&running, &dir, "first", &slow).spawn().unwrap();
    assert!(wait_for_stored(&running, &mut child, 500).await, "the first job started");
    child.kill().unwrap();
    let _ = child.wait().unwrap();

    let other = fanout(&running, &dir, "second", &slow).output().unwrap();
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert_eq!(other.status.code(), Some(1));
    assert!(stderr.contains("holds job 1, an unfinished fan-out of another message"), "{stderr}");

    let cancelled = tim(&["jobs", "cancel", "--journal"]).arg(dir.join("journal")).arg("1").output().unwrap();
    assert!(cancelled.status.success(), "{cancelled:?}");
    let stored = running.stats().stored.c2c;
    let again = fanout(&running, &dir, "first", &slow).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("job 1 was cancelled"));
    assert_eq!(running.stats().stored.c2c, stored, "a cancelled job sends nothing");
    let report = std::fs::read_to_string(dir.join("report.jsonl")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(report.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["state"], "cancelled");
    let covered = summary["summary"]["covered"].as_u64().unwrap();
    assert_eq!(summary["summary"]["not_read_from_line"].as_u64(), Some(covered + 1), "{summary}");
    running.shutdown().await;
}
