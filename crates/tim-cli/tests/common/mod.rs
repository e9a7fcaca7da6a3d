//! What the `tim` process tests share: an emulator on loopback.

use tim_emulator::{Emulator, FaultConfig, QuotaConfig, RunningEmulator};
use tim_sig::SecretKey;

/// The SDKAppID of every test's emulator.
pub(crate) const SDKAPPID: u64 = 1_400_000_000;

/// An emulator for `key` with accounts created on first use, no quotas, and `faults` drawn from `seed`.
pub(crate) async fn emulator(key: &str, faults: FaultConfig, seed: u64) -> RunningEmulator {
    let clock = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(key).unwrap(), clock)
        .admin("administrator")
        .auto_create_accounts(true)
        .quotas(QuotaConfig::disabled())
        .faults(faults)
        .seed(seed)
        .build()
        .unwrap();
    emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap()
}
