//! `tim sig gen` and `tim sig verify`, run as the built binary.

use std::process::{Command, Output};
use tim_sig::{SecretKey, Signer, Validity};

const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";

/// An official vector (Python `tls-sig-api-v2==1.1`): sdkappid 1400000000, identifier "xiaojun",
/// time 1735689600, expire 86400.
const VECTOR_USERSIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkKjIT87NK82CSxSnZiQUFmSlAKUMTAyiAyqVWFGQWpQJlLMxM4IIlmbkgIUNzY1MzC0szuHhxZjrI*DJz54DI0JzSkhTf8hBPP9coF3MPg6TicJfcbJ9U-3xn83ITb-1Sp6iIgGRbpVoAp70zEw__";
/// The same vector from the Node library `tls-sig-api-v2@1.0.2`.
const VECTOR_USERSIG_NODE: &str = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmhubmllYmsFEUysKMotSlawszExgQsWZ6UpWSmXmzgGRoTmlJSm*5SGefq5RLuYeBknF4S652T6p-vnO5uUm3vqlTlERAcm2SrUAL5wxsw__";
const VECTOR_TIME: u64 = 1_735_689_600;

/// The `tim` binary with a clean environment: no `TIM_SECRET_KEY` inherited from whoever runs the tests.
fn tim(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tim"));
    command.args(args).env_remove("TIM_SECRET_KEY");
    command
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the tim binary runs")
}

fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).unwrap()
}

fn stderr(output: &Output) -> &str {
    std::str::from_utf8(&output.stderr).unwrap()
}

fn gen_args<'a>(key: &'a str, identifier: &'a str, time: &'a str) -> Vec<&'a str> {
    vec!["sig", "gen", "--sdkappid", "1400000000", "--key", key, "--identifier", identifier, "--time", time]
}

fn verify_args<'a>(key: &'a str, identifier: &'a str, usersig: &'a str, now: &'a str) -> Vec<&'a str> {
    let args = ["sig", "verify", "--sdkappid", "1400000000", "--key", key, "--identifier", identifier];
    [&args[..], &["--usersig", usersig, "--now", now]].concat()
}

#[test]
fn gen_prints_one_usersig_line_that_verify_accepts() {
    let generated = run(&mut tim(&[&gen_args(KEY, "admin", "1700000000")[..], &["--expire", "600"]].concat()));
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    assert_eq!(stderr(&generated), "");
    let out = stdout(&generated);
    assert_eq!(out.lines().count(), 1);
    assert!(out.ends_with('\n'));
    let usersig = out.trim_end();
    // The same bytes the library produces: generation is deterministic once the time is fixed.
    let signer = Signer::new(1_400_000_000, SecretKey::new(KEY).unwrap());
    let expected = signer.generate("admin", Validity { issued_at: 1_700_000_000, expire_secs: 600 }).unwrap();
    assert_eq!(usersig, expected.expose());

    let verified = run(&mut tim(&verify_args(KEY, "admin", usersig, "1700000600")));
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    assert_eq!(stdout(&verified), "OK\n");
    assert_eq!(stderr(&verified), "");
}

#[test]
fn expire_defaults_to_one_day() {
    let generated = run(&mut tim(&gen_args(KEY, "admin", "1700000000")));
    let usersig = stdout(&generated).trim_end().to_owned();
    let claims = tim_sig::decode(&usersig).unwrap().claims;
    assert_eq!(claims.validity, Validity { issued_at: 1_700_000_000, expire_secs: 86_400 });
}

#[test]
fn gen_and_verify_default_to_the_current_time() {
    let args = ["sig", "gen", "--sdkappid", "1400000000", "--key", KEY, "--identifier", "admin"];
    let generated = run(&mut tim(&args));
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let usersig = stdout(&generated).trim_end().to_owned();
    let args = ["sig", "verify", "--sdkappid", "1400000000", "--key", KEY, "--identifier", "admin"];
    let verified = run(&mut tim(&[&args[..], &["--usersig", &usersig]].concat()));
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
}

#[test]
fn official_vectors_verify_at_their_time() {
    for usersig in [VECTOR_USERSIG, VECTOR_USERSIG_NODE] {
        let verified = run(&mut tim(&verify_args(KEY, "xiaojun", usersig, &VECTOR_TIME.to_string())));
        assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
        assert_eq!(stdout(&verified), "OK\n");
    }
}

#[test]
fn an_expired_usersig_exits_1_with_the_reason() {
    let now = (VECTOR_TIME + 86_401).to_string();
    let verified = run(&mut tim(&verify_args(KEY, "xiaojun", VECTOR_USERSIG, &now)));
    assert_eq!(verified.status.code(), Some(1));
    assert_eq!(stdout(&verified), "");
    assert_eq!(stderr(&verified), "error: verification failed: usersig expired at 1735776000 (now 1735776001)\n");
}

#[test]
fn a_wrong_key_exits_1_without_printing_either_key() {
    let wrong = "0000aaaa1111bbbb2222cccc3333dddd";
    let verified = run(&mut tim(&verify_args(wrong, "xiaojun", VECTOR_USERSIG, &VECTOR_TIME.to_string())));
    assert_eq!(verified.status.code(), Some(1));
    assert_eq!(stdout(&verified), "");
    let reason = stderr(&verified);
    assert!(reason.contains("signature does not match"), "{reason}");
    assert!(!reason.contains(wrong) && !reason.contains(KEY), "{reason}");
}

#[test]
fn a_wrong_identifier_exits_1_naming_both() {
    let verified = run(&mut tim(&verify_args(KEY, "xiaojun2", VECTOR_USERSIG, &VECTOR_TIME.to_string())));
    assert_eq!(verified.status.code(), Some(1));
    assert!(
        stderr(&verified).contains(r#"usersig is for identifier "xiaojun", expected "xiaojun2""#),
        "{}",
        stderr(&verified)
    );
}

#[test]
fn the_key_can_come_from_tim_secret_key() {
    let generated =
        run(tim(&["sig", "gen", "--sdkappid", "1400000000", "--identifier", "admin", "--time", "1700000000"])
            .env("TIM_SECRET_KEY", KEY));
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let usersig = stdout(&generated).trim_end().to_owned();
    // Made with the key from the environment: it verifies with the key given explicitly.
    let verified = run(&mut tim(&verify_args(KEY, "admin", &usersig, "1700000000")));
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    let args = ["sig", "verify", "--sdkappid", "1400000000", "--identifier", "admin", "--now", "1700000000"];
    let args = [&args[..], &["--usersig", &usersig]].concat();
    let verified = run(tim(&args).env("TIM_SECRET_KEY", KEY));
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    let verified = run(tim(&args).env("TIM_SECRET_KEY", "another-key"));
    assert_eq!(verified.status.code(), Some(1));
    assert!(stderr(&verified).contains("signature does not match"), "{}", stderr(&verified));
}

#[test]
fn without_a_key_it_is_a_usage_error_and_help_never_shows_the_key() {
    let missing = run(&mut tim(&["sig", "gen", "--sdkappid", "1", "--identifier", "admin"]));
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("--key"), "{}", stderr(&missing));
    let empty = run(tim(&["sig", "gen", "--sdkappid", "1", "--identifier", "admin"]).env("TIM_SECRET_KEY", ""));
    assert_ne!(empty.status.code(), Some(0));
    for subcommand in ["gen", "verify"] {
        let help = run(tim(&["sig", subcommand, "--help"]).env("TIM_SECRET_KEY", "do-not-print-me"));
        assert_eq!(help.status.code(), Some(0));
        assert!(stdout(&help).contains("TIM_SECRET_KEY"), "{}", stdout(&help));
        assert!(!stdout(&help).contains("do-not-print-me"), "{}", stdout(&help));
    }
}

#[test]
fn userbuf_round_trips_and_is_required_to_match() {
    let generated = run(&mut tim(&[&gen_args(KEY, "admin", "1700000000")[..], &["--userbuf-b64", "YWJj"]].concat()));
    assert_eq!(generated.status.code(), Some(0), "{}", stderr(&generated));
    let usersig = stdout(&generated).trim_end().to_owned();
    let with =
        run(&mut tim(&[&verify_args(KEY, "admin", &usersig, "1700000000")[..], &["--userbuf-b64", "YWJj"]].concat()));
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    let without = run(&mut tim(&verify_args(KEY, "admin", &usersig, "1700000000")));
    assert_eq!(without.status.code(), Some(1));
    assert!(stderr(&without).contains("none was expected"), "{}", stderr(&without));
    let bad = run(&mut tim(&[&gen_args(KEY, "admin", "1")[..], &["--userbuf-b64", "not base64!"]].concat()));
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("not standard base64"), "{}", stderr(&bad));
}

#[test]
fn garbage_is_refused_with_the_failing_step() {
    let verified = run(&mut tim(&verify_args(KEY, "admin", "eJy+", "1")));
    assert_eq!(verified.status.code(), Some(1));
    assert!(stderr(&verified).contains("tencent's alphabet"), "{}", stderr(&verified));
}
