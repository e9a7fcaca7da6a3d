//! `tim validate` and `tim commands`: the wire model and the command table, from the command line.

use crate::{Failure, print_line};
use clap::Args;
use std::io::{Read, Write as _};
use std::path::PathBuf;
use tim_model::command::{self, COMMANDS, Idempotency, Rate};
use tim_model::group::GroupType;
use tim_model::registry::{Checked, check_request_json};

/// Arguments of `tim validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The command, for example `openim/batchsendmsg` (with or without `v4/`).
    command: String,
    /// The request body: a JSON file, or `-` for standard input.
    #[arg(default_value = "-")]
    file: PathBuf,
    /// The type of the group the request addresses (`Public`, `Work`, `Meeting`, `AVChatRoom`, `Community`, ...),
    /// to check the rules that depend on it.
    #[arg(long, value_name = "TYPE")]
    group_type: Option<String>,
}

/// Arguments of `tim commands`.
#[derive(Debug, Args)]
pub(crate) struct CommandsArgs {
    /// Print the table as JSON, one object per command.
    #[arg(long)]
    json: bool,
}

/// Checks a request body: prints `OK`, or each broken rule on stderr and fails.
pub(crate) fn validate(args: &ValidateArgs) -> Result<(), Failure> {
    let command = command::find(&args.command).ok_or_else(|| {
        Failure(format!("unknown command {:?}: `tim commands` lists them (form: openim/sendmsg)", args.command))
    })?;
    let body = read_body(&args.file)?;
    let group_type = args.group_type.as_deref().map(GroupType::parse);
    match check_request_json(command.id, &body, group_type.as_ref()) {
        Ok(Checked::Typed) => print_line("OK"),
        Ok(Checked::Untyped) => print_line(&format!(
            "OK (no typed model for {} yet: only checked that the body is a JSON object)",
            command.short_path()
        )),
        Err(errors) => {
            let mut stderr = std::io::stderr().lock();
            for error in errors.errors() {
                // If stderr is gone the exit code still says the request is invalid.
                let _ = writeln!(stderr, "{error}");
            }
            let count = errors.errors().len();
            Err(Failure(format!("the request breaks {count} documented rule{}", if count == 1 { "" } else { "s" })))
        }
    }
}

fn read_body(file: &PathBuf) -> Result<Vec<u8>, Failure> {
    if file.as_os_str() == "-" {
        let mut body = Vec::new();
        std::io::stdin().read_to_end(&mut body).map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
        Ok(body)
    } else {
        std::fs::read(file).map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))
    }
}

/// Prints the command table, as text or JSON.
pub(crate) fn commands(args: &CommandsArgs) -> Result<(), Failure> {
    print_line(&command_table(args))
}

fn command_table(args: &CommandsArgs) -> String {
    if args.json {
        let rows: Vec<serde_json::Value> = COMMANDS
            .iter()
            .map(|c| {
                serde_json::json!({
                    "path": c.path,
                    "group": c.group,
                    "name": c.name,
                    "quota": quota(c.quota),
                    "idempotency": idempotency(c.idempotency),
                    "typed": c.typed,
                })
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default();
    }
    let mut out = format!("{:<58} {:<24} {:<5} {}\n", "COMMAND", "QUOTA", "TYPED", "RETRY");
    for c in COMMANDS {
        let typed = if c.typed { "yes" } else { "" };
        out.push_str(&format!(
            "{:<58} {:<24} {:<5} {}\n",
            c.short_path(),
            quota(c.quota),
            typed,
            idempotency(c.idempotency)
        ));
    }
    out.push_str(&format!("{} commands", COMMANDS.len()));
    out
}

fn quota(quota: command::Quota) -> String {
    let mut text = match quota.calls {
        Rate::PerSecond(n) => format!("{n}/s"),
        Rate::PerDay(n) => format!("{n}/day"),
    };
    if let Some(recipients) = quota.recipients_per_minute {
        text.push_str(&format!(", {recipients} recipients/min"));
    }
    if let Some(ms) = quota.min_interval_ms {
        text.push_str(&format!(", >{ms} ms apart"));
    }
    text
}

fn idempotency(idempotency: Idempotency) -> String {
    match idempotency {
        Idempotency::Read => "read-only: always safe".to_owned(),
        Idempotency::Idempotent => "idempotent: always safe".to_owned(),
        Idempotency::Dedupe { pinned, window_secs: Some(secs) } => {
            format!("safe within {secs} s with the same {}", pinned.join("+"))
        }
        Idempotency::Dedupe { pinned, window_secs: None } => format!("safe with the same {}", pinned.join("+")),
        Idempotency::Unsafe { why } => format!("unsafe: {why}"),
    }
}
