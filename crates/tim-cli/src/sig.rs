//! `tim sig gen` and `tim sig verify`: UserSigs from the command line.
//!
//! The secret key comes from `--key` or, to keep it out of shell history, from the `TIM_SECRET_KEY` environment
//! variable; it is never echoed, not even in `--help`. Times default to the current clock and can be fixed with
//! `--time` / `--now` for reproducible output.

use base64::Engine as _;
use clap::{Args, Subcommand};
use tim_sig::{SecretKey, Signer, Validity};

use crate::{Failure, now_unix, print_line};

/// The lifetime `tim sig gen` gives a UserSig unless `--expire` says otherwise: one day.
const DEFAULT_EXPIRE_SECS: u64 = 86_400;

#[derive(Debug, Subcommand)]
pub(crate) enum SigCommand {
    /// Print a UserSig for an identifier, followed by a newline.
    Gen(GenArgs),
    /// Check a UserSig: print `OK` and exit 0, or print the reason on stderr and exit 1.
    Verify(VerifyArgs),
}

/// The app and its secret, shared by both subcommands.
#[derive(Debug, Args)]
pub(crate) struct AppArgs {
    /// The SDKAppID.
    #[arg(long, value_name = "N")]
    sdkappid: u64,
    /// The SDKAppID's secret key from the console (as text, not hex-decoded).
    #[arg(long, value_name = "KEY", env = "TIM_SECRET_KEY", hide_env_values = true)]
    key: String,
    /// The user the UserSig is for.
    #[arg(long, value_name = "ID")]
    identifier: String,
    /// An optional userbuf, in standard base64 (for example a PrivateMapKey's).
    #[arg(long, value_name = "B64", value_parser = parse_userbuf)]
    userbuf_b64: Option<UserBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct GenArgs {
    #[command(flatten)]
    app: AppArgs,
    /// Lifetime in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_EXPIRE_SECS)]
    expire: u64,
    /// Issue time in UNIX seconds [default: now].
    #[arg(long, value_name = "UNIX")]
    time: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    #[command(flatten)]
    app: AppArgs,
    /// The UserSig to check.
    #[arg(long, value_name = "SIG")]
    usersig: String,
    /// Verify as of this UNIX time [default: now].
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
}

/// Decoded `--userbuf-b64` bytes (a newtype, because clap reads a bare `Vec` as a repeated argument).
#[derive(Debug, Clone)]
pub(crate) struct UserBuf(Vec<u8>);

fn parse_userbuf(text: &str) -> Result<UserBuf, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(UserBuf)
        .map_err(|error| format!("not standard base64: {error}"))
}

impl AppArgs {
    fn signer(&self) -> Result<Signer, Failure> {
        Ok(Signer::new(self.sdkappid, SecretKey::new(self.key.as_str())?))
    }
}

pub(crate) fn run(command: SigCommand) -> Result<(), Failure> {
    match command {
        SigCommand::Gen(args) => generate(&args),
        SigCommand::Verify(args) => verify(&args),
    }
}

fn generate(args: &GenArgs) -> Result<(), Failure> {
    let signer = args.app.signer()?;
    let issued_at = match args.time {
        Some(time) => time,
        None => now_unix()?,
    };
    let validity = Validity { issued_at, expire_secs: args.expire };
    let usersig = match &args.app.userbuf_b64 {
        None => signer.generate(&args.app.identifier, validity)?,
        Some(UserBuf(userbuf)) => signer.generate_with_userbuf(&args.app.identifier, validity, userbuf)?,
    };
    print_line(usersig.expose())
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let signer = args.app.signer()?;
    let now = match args.now {
        Some(now) => now,
        None => now_unix()?,
    };
    let verified = match &args.app.userbuf_b64 {
        None => signer.verify(&args.usersig, &args.app.identifier, now),
        Some(UserBuf(userbuf)) => signer.verify_with_userbuf(&args.usersig, &args.app.identifier, userbuf, now),
    };
    verified.map_err(|error| Failure(format!("verification failed: {error}")))?;
    print_line("OK")
}
