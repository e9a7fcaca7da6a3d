//! `tim validate` and `tim commands`, run as the built binary.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn tim(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tim binary runs");
    let mut input = child.stdin.take().expect("piped stdin");
    // tim may exit before reading its input (an unknown command, say): a broken pipe is not the test's concern.
    if let Err(error) = input.write_all(stdin.unwrap_or_default().as_bytes()) {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "cannot write the body: {error}");
    }
    drop(input);
    child.wait_with_output().expect("the tim binary finishes")
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8 output")
}

fn fixture(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tim-model/tests/fixtures")
        .join(relative)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_documented_sample_is_valid() {
    let output = tim(&["validate", "openim/batchsendmsg", &fixture("openim/batchsendmsg/request.json")], None);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "OK\n");
}

#[test]
fn every_broken_rule_is_listed_on_stderr_and_the_exit_code_is_one() {
    let ids: Vec<String> = (0..501).map(|i| format!("\"u{i}\"")).collect();
    let body = format!(
        r#"{{"To_Account":[{}],"MsgLifeTime":604801,"MsgBody":[{{"MsgType":"TIMTextElem","MsgContent":{{"Text":"x"}}}}]}}"#,
        ids.join(",")
    );
    let output = tim(&["validate", "v4/openim/batchsendmsg", "-"], Some(&body));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "To_Account has 501 entries, at most 500 allowed\nMsgRandom is required\n\
         MsgLifeTime is 604801, allowed range is 0..=604800\nerror: the request breaks 3 documented rules\n"
    );
}

#[test]
fn group_type_rules_apply_when_the_type_is_given() {
    let body = r#"{"GroupId":"@TGS#live","ToMembers_Account":["a"],"Content":"hi"}"#;
    let ok = tim(&["validate", "group_open_http_svc/send_group_system_notification"], Some(body));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let live = tim(
        &["validate", "group_open_http_svc/send_group_system_notification", "--group-type", "AVChatRoom"],
        Some(body),
    );
    assert_eq!(live.status.code(), Some(1));
    assert!(
        text(&live.stderr).starts_with("ToMembers_Account must be absent for a live group"),
        "{}",
        text(&live.stderr)
    );
}

#[test]
fn untyped_commands_are_checked_for_a_json_object_and_unknown_ones_refused() {
    // A command of the table that has no typed model yet (whichever comes first).
    let untyped = tim_model::command::COMMANDS.iter().find(|c| !c.typed).expect("an untyped command").short_path();
    let output = tim(&["validate", untyped, "-"], Some("{}"));
    assert!(output.status.success());
    assert!(
        text(&output.stdout).starts_with(&format!("OK (no typed model for {untyped} yet")),
        "{}",
        text(&output.stdout)
    );
    let output = tim(&["validate", untyped, "-"], Some("[1]"));
    assert_eq!(output.status.code(), Some(1));
    let output = tim(&["validate", "openim/sendMsg", "-"], Some("{}"));
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("unknown command \"openim/sendMsg\""), "{}", text(&output.stderr));
}

#[test]
fn commands_lists_the_whole_table_in_text_and_json() {
    let output = tim(&["commands"], None);
    assert!(output.status.success());
    let listing = text(&output.stdout);
    assert!(listing.ends_with("143 commands\n"));
    let batch = listing.lines().find(|line| line.starts_with("openim/batchsendmsg ")).expect("batchsendmsg listed");
    assert!(
        batch.contains("200/s, 12000 recipients/min")
            && batch.contains("safe within 1 s with the same MsgSeq+MsgRandom"),
        "{batch}"
    );

    let output = tim(&["commands", "--json"], None);
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 143);
    assert_eq!(rows.iter().filter(|row| row["typed"] == true).count(), tim_model::registry::TYPED_COMMANDS.len());
    assert!(
        rows.iter().any(|row| row["path"] == "v4/profile/portrait_get" && row["typed"] == true),
        "declared commands are typed"
    );
}
