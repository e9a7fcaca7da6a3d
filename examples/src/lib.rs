//! Runnable examples of tim's crates, each against the embedded emulator so that it runs on a laptop with no
//! Tencent account: `cargo run --example NAME` from the workspace root.
//!
//! | Example | Shows | Crates it needs |
//! |---|---|---|
//! | `sign_usersig` | a UserSig for a client app, verified back | `tim-sig` |
//! | `send_message` | accounts and a message with `Client::call`, read back from history | `tim-transport`, `tim-model` |
//! | `fanout_from_file` | one message to every line of a file, with progress and a JSON Lines report | `tim-transport`, `tim-jobs` |
//! | `embedded_gateway` | the gRPC gateway served by a tonic server of one's own, beside one's own services | `tim-grpc` |
//! | `webhook_axum` | an axum handler that checks the `Sign` of Tencent's callbacks | `tim-sig`, `axum` |
//!
//! Against Tencent's service, replace the emulator's base URL with a region
//! (`Endpoint::Region { region: Region::Singapore, standby: false }`) and the key with the app's secret key from
//! the console. This library only starts the emulator the examples share.

use tim_emulator::{Emulator, RunningEmulator};
use tim_sig::SecretKey;

/// The SDKAppID the examples use.
pub const SDKAPPID: u64 = 1_400_000_000;
/// The app admin the examples call as.
pub const ADMIN: &str = "administrator";
/// The secret key of the examples' emulator. A real app's key comes from the console and is kept secret.
pub const KEY: &str = "example-secret-key";

/// The system clock in UNIX seconds, as the emulator and the UserSig API take it.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// A local emulator of Tencent Cloud Chat on a free loopback port, for [`SDKAPPID`], [`ADMIN`] and [`KEY`];
/// `auto_create_accounts` creates every account a request names on first use.
pub async fn local_emulator(auto_create_accounts: bool) -> Result<RunningEmulator, Box<dyn std::error::Error>> {
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY)?, now)
        .admin(ADMIN)
        .auto_create_accounts(auto_create_accounts)
        .build()?;
    Ok(emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await?)?)
}

/// The README's Rust snippets, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
