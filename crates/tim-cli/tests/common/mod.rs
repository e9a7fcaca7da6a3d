//! What the `tim` process tests share: an emulator on loopback, and `tim serve` started against it.

#![allow(dead_code)] // Each test binary uses part of it.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use tim_emulator::{Emulator, FaultConfig, QuotaConfig, RunningEmulator};
use tim_sig::SecretKey;

/// The SDKAppID of every test's emulator.
pub(crate) const SDKAPPID: u64 = 1_400_000_000;

/// An emulator for `key` with accounts created on first use, no quotas, and `faults` drawn from `seed`.
pub(crate) async fn emulator(key: &str, faults: FaultConfig, seed: u64) -> RunningEmulator {
    emulator_with_quotas(key, faults, seed, QuotaConfig::disabled()).await
}

/// The same, enforcing `quotas`.
pub(crate) async fn emulator_with_quotas(
    key: &str,
    faults: FaultConfig,
    seed: u64,
    quotas: QuotaConfig,
) -> RunningEmulator {
    let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(key).unwrap(), clock)
        .admin("administrator")
        .auto_create_accounts(true)
        .quotas(quotas)
        .faults(faults)
        .seed(seed)
        .build()
        .unwrap();
    emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap()
}

/// A `tim serve` process sending to an emulator.
pub(crate) struct Served {
    pub(crate) child: Child,
    /// `http://ADDR` of its gRPC listener.
    pub(crate) grpc: String,
    /// `ADDR` of its metrics listener.
    pub(crate) metrics: String,
}

/// Starts `tim serve` on the emulator with the app key `key`, the caller `token`, the configuration file `config`
/// (written to `dir`) and the extra environment `env`; returns once its "gateway serving" log line says where it
/// listens (the explicit signal that it serves).
pub(crate) fn serve(
    running: &RunningEmulator,
    key: &str,
    token: &str,
    dir: &Path,
    config: &str,
    env: &[(&str, String)],
) -> Served {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("serve.toml");
    std::fs::write(&file, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_tim"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--config")
        .arg(&file)
        .env("TIM_SDKAPPID", SDKAPPID.to_string())
        .env("TIM_ADMIN", "administrator")
        .env("TIM_SECRET_KEY", key)
        .env("TIM_BASE_URL", running.base_url())
        .env("TIM_CALLER_TOKENS", format!("test={token}"))
        .env_remove("TIM_REGION")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let fields = loop {
        let line = lines.next().expect("tim serve logs until it serves").unwrap();
        if line.contains("gateway serving") {
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            break value["fields"].clone();
        }
    };
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let field = |name: &str| fields[name].as_str().unwrap_or_else(|| panic!("the log names {name}")).to_owned();
    Served { child, grpc: format!("http://{}", field("listen")), metrics: field("metrics") }
}

/// The value of the metric `name` (with its labels, if any, as exported) on a gateway's metrics listener.
pub(crate) async fn metric(address: &str, name: &str) -> f64 {
    metric_or_none(address, name).await.unwrap_or_else(|| panic!("{name} is not exported by {address}"))
}

/// The same, `None` while it is not exported (a labelled counter appears once it counted).
pub(crate) async fn metric_or_none(address: &str, name: &str) -> Option<f64> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}
