//! One message to every UserID of a file, in batchsendmsg calls of up to 500 recipients, with progress while it
//! runs and a JSON Lines report of every recipient that did not get it.
//!
//! `cargo run --example fanout_from_file -- RECIPIENTS_FILE REPORT_FILE` (one UserID a line). Without
//! arguments it writes a file of 5,000 lines to a temporary directory, with a few blank, invalid and repeated
//! lines and 100 users who have no account, so the report has something to say.
//!
//! The fan-out is paced at the app's quota (batchsendmsg: 200 calls a second and 12,000 recipients a minute by
//! default, `ClientConfig::quota_overrides` for an app whose quota was raised): a file of 100,000 UserIDs takes
//! about eight minutes, as it would against Tencent.
//!
//! The fan-out here lives in memory: a crash loses what it knew. For fan-outs that survive a crash and resume
//! without sending anyone the message twice, journal them with `tim-jobs` (as `tim fanout --journal` and the
//! gateway's `JobService` do).

#![allow(clippy::print_stdout)] // An example prints what it did.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tim_model::MsgBody;
use tim_model::c2c::BatchSendMsgRequest;
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint, Fanout, FanoutOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = tim_examples::local_emulator(false).await?;
    let mut args = std::env::args().skip(1);
    let temp = std::env::temp_dir().join(format!("tim-fanout-example-{}", std::process::id()));
    let (recipients, report) = match (args.next(), args.next()) {
        (Some(recipients), Some(report)) => (PathBuf::from(recipients), PathBuf::from(report)),
        (None, None) => {
            std::fs::create_dir_all(&temp)?;
            (demo_file(&temp, &emulator)?, temp.join("report.jsonl"))
        }
        _ => return Err("usage: fanout_from_file [RECIPIENTS_FILE REPORT_FILE]".into()),
    };

    let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    let client = Client::new(tim_examples::SDKAPPID, tim_examples::ADMIN, SecretKey::new(tim_examples::KEY)?, config)?;

    // The message once; To_Account, MsgSeq and MsgRandom are each chunk's own.
    let message = BatchSendMsgRequest::new(Vec::new(), MsgBody::text("Our summer sale starts today"));
    let mut fanout = Fanout::new(client, &message, FanoutOptions::default())?;

    // Every entry that was not delivered, handed over as soon as it is settled, written as one JSON line each.
    let mut settled = fanout.stream_settled(16);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&report)?);
    let writer = tokio::task::spawn_blocking({
        move || -> std::io::Result<u64> {
            let mut lines = 0;
            while let Some(batch) = settled.blocking_recv() {
                for failure in batch {
                    serde_json::to_writer(&mut out, &failure)?;
                    out.write_all(b"\n")?;
                    lines += 1;
                }
            }
            out.flush()?;
            Ok(lines)
        }
    });

    // Progress, as a service would show it or export it as metrics.
    let mut progress = fanout.progress();
    let printer = tokio::spawn(async move {
        while progress.changed().await.is_ok() {
            let now = progress.borrow_and_update().clone();
            println!(
                "read {:>6}  delivered {:>6}  failed {:>4}  pending {:>5}",
                now.read, now.delivered, now.failed, now.pending
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let started = std::time::Instant::now();

    // The recipients file is read in blocks as chunks are needed, each line as bytes (a line that is not UTF-8 is
    // reported, not the end of the input).
    let read_error = tim_jobs::input::ReadError::default();
    let file = tokio::fs::File::open(&recipients).await?;
    let lines = tim_jobs::input::lines(file, recipients.display().to_string(), read_error.clone());
    let summary = fanout.run(lines).await;
    printer.abort();
    let reported = writer.await??;
    if let Some(error) = read_error.lock().map_err(|_| "poisoned")?.take() {
        return Err(format!("the recipients file could not be read to its end: {error}").into());
    }

    println!(
        "{} lines: {} delivered, {} failed {:?}, {} outcome unknown, {} invalid, {} duplicates, in {} calls, {:.1} s",
        summary.read,
        summary.delivered,
        summary.failed,
        summary.failed_by_code,
        summary.outcome_unknown,
        summary.invalid,
        summary.duplicate_lines,
        summary.chunks,
        started.elapsed().as_secs_f64()
    );
    println!("{reported} lines in the report {}", report.display());
    // Every line of the input is accounted for once: delivered, or in the report.
    assert_eq!(summary.read, summary.delivered + reported);
    emulator.shutdown().await;
    if temp.exists() {
        std::fs::remove_dir_all(&temp)?;
    }
    Ok(())
}

/// A recipients file of 5,000 lines, and accounts for all of its users but 100.
fn demo_file(dir: &std::path::Path, emulator: &tim_emulator::RunningEmulator) -> std::io::Result<PathBuf> {
    let path = dir.join("recipients.txt");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let users: Vec<String> = (0..4_990).map(|i| format!("user{i:05}")).collect();
    for user in &users {
        writeln!(file, "{user}")?;
    }
    // Two blank lines, three that are no UserID, five repeats.
    write!(file, "\n\n{}\nnot\u{0}valid\n{}\n", "x".repeat(40), "y".repeat(33))?;
    for user in &users[..5] {
        writeln!(file, "{user}")?;
    }
    file.flush()?;
    emulator.emulator().create_accounts(&users[100..]).map_err(|error| std::io::Error::other(error.to_string()))?;
    Ok(path)
}
