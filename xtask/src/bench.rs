//! `cargo xtask bench`: run the criterion benches and summarise them.
//!
//! Criterion leaves one `benchmark.json` and one `estimates.json` per benchmark under `target/criterion`.
//! Benches may also leave facts that are not timings (a request's size in bytes, say) as flat JSON objects in
//! `target/bench-facts/*.json`. This task reads both, computes the ratios declared in [`RATIOS`] (each against a
//! baseline measured in the same run, because these machines are shared and noisy), writes everything to
//! `target/bench-summary.json` and prints it as a table.

use serde_json::{Map, Value, json};
use std::fs;
use std::path::{Path, PathBuf};

/// A ratio reported by the summary: `subject`'s throughput over `baseline`'s, both criterion ids.
struct Ratio {
    name: &'static str,
    subject: &'static str,
    baseline: &'static str,
    /// What the ratio means, printed beside it.
    meaning: &'static str,
}

/// Every ratio an issue asks for. A ratio whose benches did not run (a filter excluded them) is skipped.
const RATIOS: &[Ratio] = &[
    Ratio {
        name: "redis_paced_call_vs_local",
        subject: "cluster/paced_call/redis",
        baseline: "cluster/paced_call/local",
        meaning: "calls/s reserved on the quota shared through Redis (one script round trip on loopback) relative to this process's own schedule, nobody waiting",
    },
    Ratio {
        name: "journaled_fanout_vs_in_memory",
        subject: "jobs/fanout_1m/journaled",
        baseline: "jobs/fanout_1m/in_memory",
        meaning: "recipients/s of a 1,000,000-recipient fan-out journaled to the job store (fsynced before each chunk leaves) relative to the same fan-out in memory (target >= 0.8)",
    },
    Ratio {
        name: "postgres_journaled_fanout_vs_in_memory",
        subject: "jobs/fanout_1m/journaled_postgres",
        baseline: "jobs/fanout_1m/in_memory",
        meaning: "recipients/s of the same fan-out journaled to PostgreSQL (the job store replicas share; loopback, fsync off) relative to the fan-out in memory",
    },
    Ratio {
        name: "fanout_engine_vs_raw_hyper",
        subject: "transport/fanout_100k/engine",
        baseline: "transport/fanout_100k/raw_hyper",
        meaning: "recipients/s of the fan-out engine relative to a raw hyper client posting pre-serialized bodies (target >= 0.9)",
    },
    Ratio {
        name: "emulator_vs_bare_hyper",
        subject: "emulator/batchsendmsg_500/emulator",
        baseline: "emulator/batchsendmsg_500/bare_hyper",
        meaning: "500-recipient batchsendmsg/s of tim-emulator (storing) relative to a bare hyper server (target >= 0.5)",
    },
    Ratio {
        name: "gateway_fanout_vs_library",
        subject: "gateway/fanout_1m/gateway",
        baseline: "gateway/fanout_1m/library",
        meaning: "recipients/s of a 1,000,000-recipient fan-out through the gRPC gateway relative to the library's engine (target >= 0.8)",
    },
    Ratio {
        name: "gateway_sendmsg_vs_library",
        subject: "gateway/sendmsg/gateway",
        baseline: "gateway/sendmsg/library",
        meaning: "unary sendmsg calls/s through the gRPC gateway relative to the library's call, one at a time against the same emulator",
    },
    Ratio {
        name: "batchsendmsg_typed_vs_value",
        subject: "model/serialize_batchsendmsg_500/typed",
        baseline: "model/serialize_batchsendmsg_500/json_value",
        meaning: "speed of serializing the typed request relative to the same document as a serde_json::Value",
    },
    Ratio {
        name: "sig_generate_vs_hmac",
        subject: "sig/generate",
        baseline: "sig/hmac_sha256_only",
        meaning: "speed of generating a whole UserSig relative to the bare HMAC of its content lines",
    },
    Ratio {
        name: "sig_verify_vs_hmac",
        subject: "sig/verify",
        baseline: "sig/hmac_sha256_only",
        meaning: "speed of verifying a UserSig relative to the bare HMAC of its content lines",
    },
    Ratio {
        name: "sig_cache_get_vs_generate",
        subject: "sig/cache_get",
        baseline: "sig/generate",
        meaning: "speed of reading the cached admin UserSig relative to generating one per request",
    },
];

/// Runs `cargo bench` for the bench crate, then summarises.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    // Where cargo builds: CARGO_TARGET_DIR when set (criterion and the benches' facts follow it too).
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target"));
    for stale in [target.join("criterion"), target.join("bench-facts")] {
        if stale.exists() {
            fs::remove_dir_all(&stale).map_err(|e| format!("cannot clear {}: {e}", stale.display()))?;
        }
    }
    let mut command = crate::cargo();
    command.args(["bench", "--locked", "-p", "tim-benches"]);
    if !args.is_empty() {
        command.arg("--").args(args);
    }
    crate::run(&mut command)?;
    let summary = summarise(&target)?;
    let path = target.join("bench-summary.json");
    let text = serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?;
    fs::write(&path, text + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    print_table(&summary);
    println!("written to {}", path.display());
    Ok(())
}

fn summarise(target: &Path) -> Result<Value, String> {
    let mut benchmarks = Map::new();
    for file in files_named(&target.join("criterion"), "benchmark.json") {
        let dir = file.parent().ok_or("criterion file without a directory")?;
        let meta = read_json(&file)?;
        let estimates = read_json(&dir.join("estimates.json"))?;
        let id = meta["full_id"].as_str().ok_or_else(|| format!("{} has no full_id", file.display()))?.to_owned();
        let mean_ns = estimates["mean"]["point_estimate"].as_f64().unwrap_or(f64::NAN);
        let mut entry = json!({ "mean_ns": mean_ns, "per_second": 1e9 / mean_ns });
        if let Some(elements) = meta["throughput"]["Elements"].as_u64() {
            entry["elements_per_second"] = json!(elements as f64 * 1e9 / mean_ns);
        }
        if let Some(bytes) = meta["throughput"]["Bytes"].as_u64() {
            entry["bytes_per_second"] = json!(bytes as f64 * 1e9 / mean_ns);
        }
        benchmarks.insert(id, entry);
    }
    let mut facts = Map::new();
    for file in files_with_extension(&target.join("bench-facts"), "json") {
        if let Value::Object(map) = read_json(&file)? {
            facts.extend(map);
        }
    }
    let mut ratios = Map::new();
    for ratio in RATIOS {
        let (Some(subject), Some(baseline)) = (benchmarks.get(ratio.subject), benchmarks.get(ratio.baseline)) else {
            continue;
        };
        let value = baseline["mean_ns"].as_f64().unwrap_or(f64::NAN) / subject["mean_ns"].as_f64().unwrap_or(f64::NAN);
        ratios.insert(
            ratio.name.to_owned(),
            json!({ "ratio": value, "subject": ratio.subject, "baseline": ratio.baseline, "meaning": ratio.meaning }),
        );
    }
    Ok(json!({ "benchmarks": benchmarks, "facts": facts, "ratios": ratios }))
}

fn print_table(summary: &Value) {
    println!("\n{:<64} {:>14} {:>16}", "benchmark", "mean", "items or runs/s");
    for (id, entry) in summary["benchmarks"].as_object().into_iter().flatten() {
        let mean = entry["mean_ns"].as_f64().unwrap_or(f64::NAN);
        let rate = entry["elements_per_second"].as_f64().unwrap_or(entry["per_second"].as_f64().unwrap_or(f64::NAN));
        println!("{id:<64} {:>14} {:>16.0}", human_ns(mean), rate);
    }
    if let Some(facts) = summary["facts"].as_object().filter(|f| !f.is_empty()) {
        println!("\n{:<64} {:>14}", "fact", "value");
        for (name, value) in facts {
            println!("{name:<64} {value:>14}");
        }
    }
    if let Some(ratios) = summary["ratios"].as_object().filter(|r| !r.is_empty()) {
        println!("\n{:<40} {:>8}  meaning", "ratio", "value");
        for (name, entry) in ratios {
            let value = entry["ratio"].as_f64().unwrap_or(f64::NAN);
            println!("{name:<40} {value:>8.3}  {}", entry["meaning"].as_str().unwrap_or(""));
        }
    }
}

fn human_ns(ns: f64) -> String {
    match ns {
        n if n >= 1e9 => format!("{:.3} s", n / 1e9),
        n if n >= 1e6 => format!("{:.3} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.3} µs", n / 1e3),
        n => format!("{n:.1} ns"),
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

fn files_named(root: &Path, name: &str) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name) && p.to_string_lossy().contains("/new/"))
        .collect()
}

fn files_with_extension(root: &Path, ext: &str) -> Vec<PathBuf> {
    walk(root).into_iter().filter(|p| p.extension().is_some_and(|e| e == ext)).collect()
}

fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() { stack.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}
