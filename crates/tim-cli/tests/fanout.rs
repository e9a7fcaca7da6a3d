//! `tim fanout` as the built binary against an emulator on loopback: every line of the file ends up in the JSON
//! Lines report, whatever it holds, and SIGTERM stops it like Ctrl-C, with a report.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tim_emulator::{FaultConfig, RunningEmulator};

const KEY: &str = "cli-fanout-key";

mod common;
use common::SDKAPPID;

async fn emulator() -> RunningEmulator {
    common::emulator(KEY, FaultConfig::none(), 0).await
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tim-cli-fanout-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn tim_fanout(running: &RunningEmulator, recipients: &Path, report: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tim"));
    command
        .args(["fanout", "--recipients"])
        .arg(recipients)
        .arg("--report")
        .arg(report)
        .args(["--text", "hello", "--sdkappid", &SDKAPPID.to_string(), "--admin", "administrator"])
        .args(["--base-url", &running.base_url()])
        .args(extra)
        .env("TIM_SECRET_KEY", KEY)
        .env_remove("TIM_REGION")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// The report's lines: the settled entries, then the summary.
fn read_report(path: &Path) -> (Vec<serde_json::Value>, serde_json::Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary = lines.pop().expect("a summary line")["summary"].clone();
    assert!(summary.is_object(), "the last line is the summary: {text}");
    (lines, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_is_not_utf8_is_reported_and_the_rest_is_sent() {
    let running = emulator().await;
    let dir = scratch("utf8");
    let (recipients, report) = (dir.join("recipients.txt"), dir.join("report.jsonl"));
    std::fs::write(&recipients, b"v1\nv2\nv3\nv4\nv5\nbad\xff\xfe\nw1\nw2\nw3\nw4\nw5\n").unwrap();
    let output = tokio::task::spawn_blocking({
        let mut command = tim_fanout(&running, &recipients, &report, &["--no-pacing"]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "an invalid line is not a success: {output:?}");
    let (settled, summary) = read_report(&report);
    assert_eq!(
        (summary["read"].as_u64(), summary["delivered"].as_u64(), summary["invalid"].as_u64()),
        (Some(11), Some(10), Some(1))
    );
    assert_eq!(settled.len(), 1);
    assert_eq!(settled[0]["line"], 6);
    assert_eq!(settled[0]["status"], "invalid");
    assert_eq!(settled[0]["reason"], "not UTF-8");
    for id in ["v1", "v5", "w1", "w5"] {
        assert_eq!(running.emulator().inbox_len(id), Some(1), "{id}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_blank_lines_and_a_megabyte_line_are_each_accounted_for() {
    let running = emulator().await;
    let dir = scratch("lines");
    let (recipients, report) = (dir.join("recipients.txt"), dir.join("report.jsonl"));
    let mut input = b"a\r\n\r\n\nb\r\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 1 << 20));
    input.extend(b"\nc");
    std::fs::write(&recipients, &input).unwrap();
    let output = tokio::task::spawn_blocking({
        let mut command = tim_fanout(&running, &recipients, &report, &[]);
        move || command.output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (settled, summary) = read_report(&report);
    assert_eq!(
        (summary["read"].as_u64(), summary["delivered"].as_u64(), summary["invalid"].as_u64()),
        (Some(6), Some(3), Some(3))
    );
    let lines: Vec<(u64, &str)> =
        settled.iter().map(|entry| (entry["line"].as_u64().unwrap(), entry["reason"].as_str().unwrap())).collect();
    assert_eq!(lines, [(2, "empty line"), (3, "empty line"), (5, "line of 1048576 bytes, over the 4096-byte limit")]);
    assert!(std::fs::metadata(&report).unwrap().len() < 4_096, "the long line is not echoed whole");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("paced to openim/batchsendmsg's quota of 12000 recipients a minute: 6 lines take about"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_fan_out_like_ctrl_c_and_the_report_says_so() {
    let running = emulator().await;
    let dir = scratch("sigterm");
    let (recipients, report) = (dir.join("recipients.txt"), dir.join("report.jsonl"));
    let ids: String = (0..2_000).map(|i| format!("t{i}\n")).collect();
    std::fs::write(&recipients, ids).unwrap();
    // 600 recipients a minute: the first chunk leaves at once, the second would wait for minutes.
    let mut child = tim_fanout(&running, &recipients, &report, &["--recipients-per-minute", "600"]).spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let pid = child.id();
    let output = tokio::task::spawn_blocking(move || {
        let mut lines = BufReader::new(stderr).lines();
        // The explicit signal that the fan-out runs: it announces its pace once its signal handlers are in place.
        let first = lines.next().unwrap().unwrap();
        assert!(first.contains("paced to"), "{first}");
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(status.success());
        let rest: Vec<String> = lines.map(Result::unwrap).collect();
        (child.wait().unwrap(), rest)
    })
    .await
    .unwrap();
    let (status, rest) = output;
    assert_eq!(status.code(), Some(1), "stopped, not killed: {rest:?}");
    let (settled, summary) = read_report(&report);
    assert_eq!(summary["cancelled"], true);
    let read = summary["read"].as_u64().unwrap();
    assert_eq!(summary["not_read_from_line"].as_u64(), Some(read + 1));
    let delivered = summary["delivered"].as_u64().unwrap();
    assert_eq!(delivered + summary["failed"].as_u64().unwrap(), read, "every line read is delivered or not sent");
    assert_eq!(settled.len() as u64, read - delivered);
    assert!(settled.iter().all(|entry| entry["reason"].as_str().unwrap().contains("cancelled")));
    std::fs::remove_dir_all(dir).unwrap();
}
