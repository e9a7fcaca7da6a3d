//! `tim`: the command line of the tim toolkit for Tencent Cloud Chat's server REST API.
//!
//! One module per subcommand group (`inspect`, `sig`, `remote`, `emulator`, `serve`), each with its
//! clap arguments and a `run` function returning `Result<(), Failure>`. This binary is where the outside world
//! comes in: it alone reads environment variables (`TIM_SECRET_KEY`, ...), files and the clock, and hands both to the library
//! crates as plain values. Exit codes: 0 success, 1 the command failed (the reason is on stderr), 2 bad usage.

use clap::{Parser, Subcommand};
use std::io::Write as _;
use std::process::ExitCode;

mod emulator;
mod inspect;
mod jobs;
mod remote;
mod serve;
mod sig;

/// Toolkit for Tencent Cloud Chat's server REST API.
#[derive(Debug, Parser)]
#[command(name = "tim", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a request body against the typed model and Tencent's documented limits, before sending it.
    Validate(inspect::ValidateArgs),
    /// List the REST commands: path, default quota, whether typed, and whether a retry is safe.
    Commands(inspect::CommandsArgs),
    /// Send any REST command with a JSON body and print the answer.
    Call(remote::CallArgs),
    /// Send one text to every UserID of a file, in 500-recipient batches, and report on each recipient.
    Fanout(remote::FanoutArgs),
    /// List, show and cancel the durable fan-outs of a journal directory (`tim fanout --journal DIR`).
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Generate and verify UserSigs (TLS Sig API v2), compatibly with Tencent's official libraries.
    #[command(subcommand)]
    Sig(sig::SigCommand),
    /// Run a local emulator of Tencent Cloud Chat's REST service until Ctrl-C (accounts, groups, messages in memory).
    Emulator(emulator::EmulatorArgs),
    /// Run the gRPC gateway (on the embedded emulator when no Tencent credentials are given) until Ctrl-C.
    Serve(serve::ServeArgs),
}

/// A command that ran but failed: its reason goes to stderr and the exit code is 1.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Validate(args) => inspect::validate(&args),
        Command::Commands(args) => inspect::commands(&args),
        Command::Call(args) => remote::call(&args),
        Command::Fanout(args) => remote::fanout(&args),
        Command::Jobs(command) => jobs::run(&command),
        Command::Sig(command) => sig::run(command),
        Command::Emulator(args) => emulator::run(&args),
        Command::Serve(args) => serve::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            // If stderr itself is gone there is nowhere left to report to; the exit code still says it failed.
            let _ = writeln!(std::io::stderr().lock(), "error: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// The current time in UNIX seconds: the one place the command line reads the clock.
pub(crate) fn now_unix() -> Result<u64, Failure> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| Failure("the system clock is before 1970".to_owned()))
}

/// Says one line to the person running the command, on stderr (if stderr is gone, there is no one to tell).
pub(crate) fn say(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Writes one line to stdout.
pub(crate) fn print_line(line: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .map_err(|error| Failure(format!("cannot write to stdout: {error}")))
}
