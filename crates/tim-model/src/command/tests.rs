//! The command table equals the endpoint list exactly, and its lookups and classes behave.

use super::*;
use std::collections::BTreeSet;
use std::path::Path;

/// Parses an endpoint list (`path`, `group`, `name`, tab-separated, with a header line).
fn parse_tsv(text: &str) -> Vec<(String, String, String)> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("path\tgroup\tname"), "unexpected header");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "line {line:?}");
            (fields[0].to_owned(), fields[1].to_owned(), fields[2].to_owned())
        })
        .collect()
}

fn table_rows() -> Vec<(String, String, String)> {
    COMMANDS.iter().map(|c| (c.path.to_owned(), c.group.to_owned(), c.name.to_owned())).collect()
}

#[test]
fn the_table_equals_the_endpoint_list_row_for_row() {
    let copy = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/endpoints.tsv");
    let expected = parse_tsv(&std::fs::read_to_string(&copy).expect("endpoint list copy"));
    assert_eq!(expected.len(), 143);
    assert_eq!(table_rows(), expected);
}

#[test]
fn the_endpoint_list_copy_is_the_shared_spec_when_it_is_beside_the_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/endpoints.tsv");
    match std::fs::read_to_string(&root) {
        Ok(text) => assert_eq!(table_rows(), parse_tsv(&text), "the shared endpoint list changed: update the table"),
        // The copy in tests/fixtures is what the table is checked against; the shared spec is only beside a
        // developer's or CI's checkout.
        Err(_) => eprintln!("note: {} not found; checked against the copy only", root.display()),
    }
}

#[test]
fn paths_are_unique_well_formed_and_ids_index_their_rows() {
    let mut seen = BTreeSet::new();
    for (index, command) in COMMANDS.iter().enumerate() {
        assert!(seen.insert(command.path), "{} twice", command.path);
        assert_eq!(command.id as usize, index, "{}", command.path);
        assert_eq!(command.id.command(), command);
        assert!(command.path.starts_with("v4/"), "{}", command.path);
        assert_eq!(command.path.matches('/').count(), 2, "{}", command.path);
        assert!(!command.service().is_empty() && !command.command_name().is_empty());
    }
}

#[test]
fn find_accepts_every_form_and_rejects_near_misses() {
    for command in COMMANDS {
        for form in [command.path.to_owned(), format!("/{}", command.path), command.short_path().to_owned()] {
            assert_eq!(find(&form).map(|c| c.id), Some(command.id), "{form}");
        }
    }
    assert!(find("openim/SendMsg").is_none(), "lookup is case-sensitive like the service");
    assert!(find("openim/sendmsg/").is_none());
    assert!(find("v3/openim/sendmsg").is_none());
    assert!(find("").is_none());
}

#[test]
fn documented_quotas_and_idempotency_classes() {
    let batch = CommandId::BatchSendMsg.command();
    assert_eq!(batch.quota.calls, Rate::PerSecond(200));
    assert_eq!(batch.quota.recipients_per_minute, Some(12_000));
    assert_eq!(CommandId::ImPush.command().quota.calls, Rate::PerDay(100));
    assert_eq!(CommandId::ImPush.command().quota.min_interval_ms, Some(1_000));
    assert_eq!(CommandId::SendBroadcastMsg.command().quota.calls, Rate::PerSecond(1));
    assert_eq!(CommandId::AccountCheck.command().quota.calls, Rate::PerSecond(100));

    let send = CommandId::SendMsg.command().idempotency;
    assert!(send.retry_safe_after(0.5));
    // Same second means the same calendar second, with a margin at its end.
    let second = 1_700_000_000_000_u64;
    assert!(send.retry_safe_at(second + 10, second + 500));
    assert!(send.retry_safe_at(second, second + 899));
    assert!(!send.retry_safe_at(second + 10, second + 900), "too close to the next second");
    assert!(!send.retry_safe_at(second + 995, second + 1_005), "10 ms later, but another second");
    let group = CommandId::SendGroupMsg.command().idempotency;
    assert!(group.retry_safe_at(second, second + 299_899));
    assert!(!group.retry_safe_at(second, second + 299_900));
    assert!(CommandId::ImportMsg.command().idempotency.retry_safe_at(0, u64::MAX));
    assert!(!CommandId::SendGroupSystemNotification.command().idempotency.retry_safe_at(0, 0));
    assert!(!send.retry_safe_after(1.0), "sendmsg dedupes within the same second only");
    assert!(CommandId::ImportMsg.command().idempotency.retry_safe_after(1e9));
    assert!(CommandId::SendGroupMsg.command().idempotency.retry_safe_after(299.0));
    assert!(!CommandId::SendGroupMsg.command().idempotency.retry_safe_after(300.0));
    assert!(!CommandId::SendGroupSystemNotification.command().idempotency.retry_safe_after(0.0));
    assert!(CommandId::GetGroupInfo.command().idempotency.retry_safe_after(1e9));
    assert!(matches!(CommandId::ImPush.command().idempotency, Idempotency::Dedupe { pinned: ["MsgRandom"], .. }));
}

#[test]
fn rates_parse_as_configuration_writes_them() {
    assert_eq!(Rate::parse("500/s"), Ok(Rate::PerSecond(500)));
    assert_eq!(Rate::parse(" 100 / day "), Ok(Rate::PerDay(100)));
    assert_eq!(Rate::parse("fast"), Err("expected N/s or N/day"));
    assert_eq!(Rate::parse("x/s"), Err("the count is not a whole number"));
    assert_eq!(Rate::parse("5/min"), Err("the unit must be s or day"));
}
