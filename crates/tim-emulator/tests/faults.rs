//! Seeded fault injection: each kind does what it says, the same seed and request order give the same faults,
//! and no fault but `lost` ever follows a stored message.

mod common;

use common::*;
use http::StatusCode;
use serde_json::json;
use std::collections::BTreeSet;
use tim_emulator::FaultConfig;

fn send(random: u32) -> serde_json::Value {
    json!({ "To_Account": "bob", "MsgRandom": random, "MsgBody": text("x") })
}

/// What the client saw, reduced to a comparable label.
fn label(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Dropped => "dropped".to_owned(),
        Outcome::Answer(StatusCode::OK, body) => {
            let answer: serde_json::Value = serde_json::from_slice(body).unwrap();
            format!("code {}", answer["ErrorCode"])
        }
        Outcome::Answer(status, _) => format!("http {}", status.as_u16()),
    }
}

async fn run(seed: u64, faults: &str, requests: u32) -> (Vec<String>, Harness) {
    let faults: FaultConfig = faults.parse().unwrap();
    let h = start(|b| b.auto_create_accounts(true).faults(faults).seed(seed)).await;
    let mut labels = Vec::new();
    for random in 0..requests {
        labels.push(label(&h.call_outcome("openim/sendmsg", send(random)).await));
    }
    (labels, h)
}

const MIX: &str = "502=0.1,delay=0.05:5ms,code70169=0.1,code10002=0.05,drop=0.1,lost=0.1";

#[tokio::test]
async fn the_same_seed_and_order_give_the_same_faults() {
    let (first, _) = run(7, MIX, 120).await;
    let (second, _) = run(7, MIX, 120).await;
    let (other, _) = run(8, MIX, 120).await;
    assert_eq!(first, second);
    assert_ne!(first, other);
    let kinds: BTreeSet<&str> = first.iter().map(String::as_str).collect();
    for kind in ["code 0", "http 502", "code 70169", "code 10002", "code 60008", "dropped"] {
        assert!(kinds.contains(kind), "{kind} never happened in {kinds:?}");
    }
}

#[tokio::test]
async fn only_a_lost_response_follows_a_stored_message() {
    let (labels, h) = run(11, MIX, 300).await;
    let stored: BTreeSet<u32> =
        h.emulator().inbox("bob").unwrap().iter().map(|delivered| delivered.message.msg_random).collect();
    let succeeded: BTreeSet<u32> = (0..300).filter(|&r| labels[r as usize] == "code 0").collect();
    assert!(succeeded.is_subset(&stored), "every success is stored");
    let stored_without_success: Vec<u32> = stored.difference(&succeeded).copied().collect();
    let stats = h.running.stats();
    assert_eq!(stored_without_success.len() as u64, stats.faults["lost"], "only lost responses hide a stored message");
    for random in &stored_without_success {
        let seen = &labels[*random as usize];
        assert!(seen == "dropped" || seen == "http 502", "a stored message was answered {seen}");
    }
    for (random, seen) in labels.iter().enumerate() {
        if seen.starts_with("code ") && seen != "code 0" {
            assert!(!stored.contains(&(random as u32)), "request {random} answered {seen} but stored");
        }
    }
    let injected: u64 = stats.faults.values().sum();
    assert_eq!(injected, labels.iter().filter(|l| *l != "code 0").count() as u64);
    assert_eq!(stats.messages_stored, stored.len() as u64);
}

#[tokio::test]
async fn each_kind_does_what_it_says() {
    let (labels, h) = run(1, "502=1", 2).await;
    assert_eq!(labels, ["http 502", "http 502"]);
    assert_eq!(h.emulator().inbox_len("bob"), None, "nothing was carried out, not even the account creation");

    let (labels, _) = run(1, "drop=1", 1).await;
    assert_eq!(labels, ["dropped"]);

    let (labels, h) = run(1, "code91000=1", 1).await;
    assert_eq!(labels, ["code 91000"]);
    assert_eq!(h.running.stats().faults["code91000"], 1);

    let (labels, _) = run(1, "delay=1:20ms", 1).await;
    assert_eq!(labels, ["code 60008"]);

    let (labels, h) = run(1, "lost=1:502", 2).await;
    assert_eq!(labels, ["http 502", "http 502"]);
    assert_eq!(h.emulator().inbox_len("bob"), Some(2), "lost: carried out, then the answer lost");

    let (labels, h) = run(1, "lost=1:drop", 1).await;
    assert_eq!(labels, ["dropped"]);
    assert_eq!(h.emulator().inbox_len("bob"), Some(1));
    assert_eq!(h.running.stats().faults["lost"], 1);
}

#[tokio::test]
async fn inspection_endpoints_are_never_faulted() {
    let faults: FaultConfig = "drop=1".parse().unwrap();
    let h = start(|b| b.faults(faults)).await;
    for _ in 0..3 {
        assert_eq!(h.get("/emulator/stats").await.0, StatusCode::OK);
    }
}
