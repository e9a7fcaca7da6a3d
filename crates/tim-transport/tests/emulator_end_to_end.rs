//! Every typed command end to end against the local emulator (the service's protocol, authentication, state and
//! codes), and a fan-out through injected faults in which the inboxes prove that no recipient was lost and none
//! received the message twice.

use futures_util::stream;
use serde_json::{Value, json};
use std::time::Duration;
use tim_emulator::{Emulator, FaultConfig, QuotaConfig, RunningEmulator};
use tim_model::api::{TypedRequest, decode};
use tim_model::envelope::ActionStatus;
use tim_sig::SecretKey;
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint, Error, Fanout, FanoutOptions};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "end-to-end-key";

fn system_clock() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

async fn emulator(faults: FaultConfig, auto_create: bool) -> RunningEmulator {
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), system_clock)
        .admin("administrator")
        .auto_create_accounts(auto_create)
        .faults(faults)
        .seed(11)
        .quotas(QuotaConfig::disabled())
        .build()
        .unwrap();
    emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap()
}

fn client(running: &RunningEmulator, configure: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig::new(Endpoint::BaseUrl(running.base_url()));
    configure(&mut config);
    Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap()
}

/// A typed request from JSON (the tests read like the API documentation).
fn request<R: TypedRequest>(value: serde_json::Value) -> R {
    decode(&serde_json::to_vec(&value).unwrap()).unwrap_or_else(|e| panic!("{value}: {e}"))
}

#[tokio::test]
async fn every_typed_command_works_against_the_emulator() {
    use tim_model::{account::*, c2c::*, group::*, group_msg::*, push_all::*};
    let running = emulator(FaultConfig::none(), false).await;
    let client = client(&running, |_| {});
    let text = |t: &str| json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": t}}]);

    // Accounts.
    client.call(request::<AccountImportRequest>(json!({"UserID": "alice", "Nick": "Alice"}))).await.unwrap();
    let imported = client
        .call(request::<MultiAccountImportRequest>(json!({"Accounts": ["bob", "carol", "dave", "erin"]})))
        .await
        .unwrap();
    assert!(imported.body.fail_accounts.unwrap_or_default().is_empty());
    let checked = client
        .call(request::<AccountCheckRequest>(json!({"CheckItem": [{"UserID": "alice"}, {"UserID": "zed"}]})))
        .await
        .unwrap();
    let statuses: Vec<Option<String>> =
        checked.body.result_item.unwrap().into_iter().map(|r| r.account_status).collect();
    assert_eq!(statuses, [Some("Imported".into()), Some("NotImported".into())]);

    // One-to-one messages, read back from history, then recalled.
    let sent = client
        .call(request::<SendMsgRequest>(
            json!({"From_Account": "alice", "To_Account": "bob", "MsgBody": text("hi bob")}),
        ))
        .await
        .unwrap();
    let key = sent.body.msg_key.expect("a MsgKey");
    let batch = client
        .call(request::<BatchSendMsgRequest>(
            json!({"From_Account": "alice", "To_Account": ["bob", "carol", "zed"], "MsgBody": text("news")}),
        ))
        .await
        .unwrap();
    assert_eq!(batch.action_status, ActionStatus::SomeError);
    let failed: Vec<(String, i64)> =
        batch.body.error_list.unwrap().into_iter().map(|e| (e.to_account, e.error_code)).collect();
    assert_eq!(failed, [("zed".to_owned(), 70107)]);
    client
        .call(request::<ImportMsgRequest>(json!({"SyncFromOldSystem": 2, "From_Account": "dave", "To_Account": "bob",
            "MsgTimeStamp": system_clock() - 3600, "MsgBody": text("old news")})))
        .await
        .unwrap();
    let now = system_clock() as i64;
    let history = client
        .call(request::<AdminGetRoamMsgRequest>(
            json!({"Operator_Account": "bob", "Peer_Account": "alice", "MaxCnt": 100,
            "MinTime": now - 60, "MaxTime": now + 60}),
        ))
        .await
        .unwrap();
    assert_eq!(history.body.msg_list.unwrap_or_default().len(), 2, "hi bob and news");
    client
        .call(request::<AdminMsgWithdrawRequest>(json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key})))
        .await
        .unwrap();
    // Recalling again is "already recalled", which the client treats as done.
    client
        .call(request::<AdminMsgWithdrawRequest>(json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": key})))
        .await
        .unwrap();
    assert_eq!(running.emulator().inbox_len("bob"), Some(3));

    // Groups and group messages.
    let created = client
        .call(request::<CreateGroupRequest>(json!({"Owner_Account": "alice", "Type": "Public", "Name": "team",
            "MemberList": [{"Member_Account": "bob"}]})))
        .await
        .unwrap();
    let group = created.body.group_id.expect("a GroupId");
    let added = client
        .call(request::<AddGroupMemberRequest>(
            json!({"GroupId": group, "MemberList": [{"Member_Account": "carol"}, {"Member_Account": "bob"}]}),
        ))
        .await
        .unwrap();
    let results: Vec<i64> = added.body.member_list.unwrap().into_iter().map(|m| m.result).collect();
    assert_eq!(results, [1, 2], "carol added, bob already a member");
    let message = client
        .call(request::<SendGroupMsgRequest>(
            json!({"GroupId": group, "From_Account": "alice", "MsgBody": text("hello team")}),
        ))
        .await
        .unwrap();
    let seq = message.body.msg_seq.expect("a MsgSeq");
    client
        .call(request::<SendGroupSystemNotificationRequest>(
            json!({"GroupId": group, "Content": "maintenance tonight"}),
        ))
        .await
        .unwrap();
    // An imported message must be newer than the group: this one is refused per message, as the service does.
    let past = system_clock() as i64 - 60;
    let imported = client
        .call(request::<ImportGroupMsgRequest>(json!({"GroupId": group, "MsgList": [{"From_Account": "bob", "SendTime": past, "MsgBody": text("imported")}]})))
        .await
        .unwrap();
    let results: Vec<i64> = imported.body.import_msg_result.unwrap_or_default().into_iter().map(|r| r.result).collect();
    assert_eq!(results, [10004]);
    let simple =
        client.call(request::<GroupMsgGetSimpleRequest>(json!({"GroupId": group, "ReqMsgNumber": 20}))).await.unwrap();
    assert_eq!(simple.body.rsp_msg_list.unwrap_or_default().len(), 1);
    client
        .call(request::<GroupMsgRecallRequest>(json!({"GroupId": group, "MsgSeqList": [{"MsgSeq": seq}]})))
        .await
        .unwrap();
    let info = client.call(request::<GetGroupInfoRequest>(json!({"GroupIdList": [group]}))).await.unwrap();
    assert_eq!(info.body.group_info.unwrap()[0].member_num, Some(3));
    let members =
        client.call(request::<GetGroupMemberInfoRequest>(json!({"GroupId": group, "Limit": 100}))).await.unwrap();
    assert_eq!(members.body.member_num, Some(3));
    client
        .call(request::<DeleteGroupMemberRequest>(json!({"GroupId": group, "MemberToDel_Account": ["carol"]})))
        .await
        .unwrap();
    assert_eq!(running.emulator().group_members(&group).map(|m| m.len()), Some(2));

    // Live groups, broadcasts and all-member push.
    let live = client
        .call(request::<CreateGroupRequest>(json!({"Type": "AVChatRoom", "Name": "stage"})))
        .await
        .unwrap()
        .body
        .group_id
        .unwrap();
    client
        .call(request::<SendBroadcastMsgRequest>(json!({"From_Account": "alice", "MsgBody": text("to every stage")})))
        .await
        .unwrap();
    assert_eq!(running.emulator().broadcasts().len(), 1);
    let pushed = client.call(request::<ImPushRequest>(json!({"MsgBody": text("to everyone")}))).await.unwrap();
    assert!(pushed.body.task_id.is_some());
    // The model refuses what the emulator would refuse, before sending: recalling in a live group is checked by
    // the service, so it is sent and refused with its code.
    let refused = client
        .call(request::<GroupMsgRecallRequest>(json!({"GroupId": live, "MsgSeqList": [{"MsgSeq": 1}]})))
        .await
        .unwrap_err();
    assert!(refused.service_code().is_some(), "{refused}");
    client.call(request::<DestroyGroupRequest>(json!({"GroupId": live}))).await.unwrap();
    let gone =
        client.call(request::<SendGroupMsgRequest>(json!({"GroupId": live, "MsgBody": text("x")}))).await.unwrap_err();
    assert_eq!(gone.service_code(), Some(10010));
    client.call(request::<AccountDeleteRequest>(json!({"DeleteItem": [{"UserID": "erin"}]}))).await.unwrap();
    assert!(!running.emulator().account_exists("erin"));

    // The generic call reaches the same service.
    let answer =
        client.call_json("im_open_login_svc/account_check", json!({"CheckItem": [{"UserID": "dave"}]})).await.unwrap();
    assert_eq!(answer["ResultItem"][0]["AccountStatus"], "Imported");
    running.shutdown().await;
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_the_services_code() {
    let running = emulator(FaultConfig::none(), true).await;
    let config = ClientConfig::new(Endpoint::BaseUrl(running.base_url()));
    let client = Client::new(SDKAPPID, "administrator", SecretKey::new("not-the-key").unwrap(), config).unwrap();
    let error =
        client.call_json("im_open_login_svc/account_check", json!({"CheckItem": [{"UserID": "a"}]})).await.unwrap_err();
    assert!(matches!(error, Error::Refused { code: 70009, .. }), "{error}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_through_faults_loses_no_one_and_doubles_no_one() {
    const RECIPIENTS: usize = 20_000;
    let faults: FaultConfig =
        "502=0.03,code70169=0.03,code91000=0.02,lost=0.03,drop=0.02,delay=0.02:400ms".parse().unwrap();
    let running = emulator(faults, true).await;
    let client = client(&running, |config| {
        config.pacing = false;
        config.attempt_timeout = Duration::from_millis(250);
        config.retry = RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_attempts: 6,
            budget_max: 1e9,
            ..RetryPolicy::default()
        };
    });
    let message = request::<tim_model::c2c::BatchSendMsgRequest>(
        json!({"To_Account": ["x"], "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "sale starts now"}}]}),
    );
    let fanout = Fanout::new(client, &message, FanoutOptions { concurrency: 8, ..FanoutOptions::default() }).unwrap();
    let ids: Vec<String> = (0..RECIPIENTS).map(|i| format!("fan{i:05}")).collect();
    let report = fanout.run(stream::iter(ids.iter())).await;

    let emulator = running.emulator();
    let mut delivered_in_inbox = 0;
    for id in &ids {
        let count = emulator.inbox_len(id).unwrap_or(0);
        assert!(count <= 1, "{id} received the message {count} times");
        delivered_in_inbox += count;
    }
    assert_eq!(report.read as usize, RECIPIENTS);
    assert_eq!(report.delivered as usize + report.failures.len(), RECIPIENTS, "every recipient accounted for once");
    // Recipients reported delivered are in their inbox; the others are only those whose outcome was unknown.
    let failed: std::collections::HashSet<&str> = report.failures.iter().map(|f| f.user_id.as_str()).collect();
    for id in ids.iter().filter(|id| !failed.contains(id.as_str())) {
        assert_eq!(emulator.inbox_len(id), Some(1), "{id} reported delivered but not in its inbox");
    }
    for failure in &report.failures {
        assert!(failure.outcome_unknown, "{failure:?}: only unknown outcomes may remain with these faults");
    }
    assert!(delivered_in_inbox >= report.delivered as usize);
    let stats = running.stats();
    assert!(stats.faults.values().sum::<u64>() > 0, "faults were injected: {:?}", stats.faults);
    running.shutdown().await;
}

/// An emulator whose clock, like the returned wall clock for the client, follows tokio's (paused) clock.
async fn paused_emulator(faults: FaultConfig) -> (RunningEmulator, tim_transport::config::WallClock) {
    let origin = tokio::time::Instant::now();
    let base_ms: u64 = 1_700_000_000_000;
    let wall: tim_transport::config::WallClock =
        std::sync::Arc::new(move || base_ms + origin.elapsed().as_millis() as u64);
    let emulator_clock = {
        let wall = std::sync::Arc::clone(&wall);
        move || wall() / 1000
    };
    let emulator = Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), emulator_clock)
        .admin("administrator")
        .auto_create_accounts(true)
        .faults(faults)
        .seed(7)
        .quotas(QuotaConfig::disabled())
        .build()
        .unwrap();
    (emulator.serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()).unwrap(), wall)
}

/// The first promise at a scale a test can run: a paced fan-out whose quota keeps chunks queued for far longer
/// than the one-second dedupe window, through faults that store the message and then lose the answer. Every retry
/// of a chunk that may have acted must leave inside its window or not at all, so no inbox holds the message twice,
/// and every recipient is either delivered once or reported with an unknown outcome. Time is tokio's paused clock,
/// which both the client's wall clock and the emulator's follow, so the run is exact and takes no real time.
#[tokio::test(start_paused = true)]
async fn a_paced_fan_out_whose_queue_outlasts_the_window_never_delivers_twice() {
    use std::sync::Arc;
    use tim_model::command::{CommandId, Quota, Rate};
    const RECIPIENTS: usize = 3_000;
    let (running, wall) = paused_emulator("lost=0.06,502=0.03,drop=0.03,code70169=0.03".parse().unwrap()).await;
    // 20-recipient chunks at 1,200 recipients a minute: one chunk a second, and with 16 in flight a chunk waits
    // about 15 s for its turn, fifteen times the window its retries must leave in.
    let client = client(&running, |config| {
        config.wall_clock = Arc::clone(&wall);
        config.quota_overrides.insert(
            CommandId::BatchSendMsg,
            Quota { calls: Rate::PerSecond(200), recipients_per_minute: Some(1_200), min_interval_ms: None },
        );
        config.retry = RetryPolicy { jitter: false, ..RetryPolicy::default() };
    });
    let message = request::<tim_model::c2c::BatchSendMsgRequest>(
        json!({"To_Account": ["x"], "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "flash sale"}}]}),
    );
    let options = FanoutOptions { concurrency: 16, max_recipients: 20, ..FanoutOptions::default() };
    let fanout = Fanout::new(client.clone(), &message, options).unwrap();
    let ids: Vec<String> = (0..RECIPIENTS).map(|i| format!("paced{i:05}")).collect();
    let report = fanout.run(stream::iter(ids.iter())).await;

    let emulator = running.emulator();
    let failed: std::collections::HashMap<&str, bool> =
        report.failures.iter().map(|f| (f.user_id.as_str(), f.outcome_unknown)).collect();
    for id in &ids {
        let count = emulator.inbox_len(id).unwrap_or(0);
        assert!(count <= 1, "{id} received the message {count} times");
        match failed.get(id.as_str()) {
            None => assert_eq!(count, 1, "{id} reported delivered but not in its inbox"),
            Some(unknown) => assert!(*unknown, "{id}: with these faults only unknown outcomes may remain"),
        }
    }
    assert_eq!(report.read as usize, RECIPIENTS);
    assert_eq!(report.delivered as usize + report.failures.len(), RECIPIENTS, "every recipient accounted for once");
    let stats = running.stats();
    assert!(stats.faults.get("lost").copied().unwrap_or(0) > 0, "answers were lost after storing: {:?}", stats.faults);
    assert!(stats.duplicates_dropped > 0, "retries of stored chunks reached the service and were deduplicated");
    let transport = client.stats();
    assert!(transport.quota_wait > Duration::from_secs(10), "chunks queued for their quota: {transport:?}");
    // Retries went ahead of the queue, so chunks whose answer was lost were delivered, not all left unknown; the
    // rest are those whose retry found the one call a retry may borrow already borrowed.
    assert!(transport.retries > 0, "{transport:?}");
    assert!(report.failures.len() < RECIPIENTS / 10, "{} unknown of {RECIPIENTS}", report.failures.len());
    running.shutdown().await;
}

/// Unknown outcomes settled from the history instead of reported: a chunk whose answer was lost after the
/// message was stored is found in each recipient's history and counted delivered; a chunk dropped before it was
/// stored is absent from every history and is sent again, once, in a new chunk. Retries wait 1.1 s, so a
/// batchsendmsg retry can never leave inside its same-second window and every such fault leaves an unknown
/// outcome, while the history reads are retried as any read is. Time is tokio's paused clock, which the client
/// and the emulator follow; one chunk at a time, so the seeded faults fall on the same requests in every run.
#[tokio::test(start_paused = true)]
async fn unknown_outcomes_are_settled_from_the_history_and_the_absent_are_sent_once_more() {
    settle_unknown_outcomes(json!({})).await;
}

/// The same with `SyncOtherMachine` 2: the sender's copy of each conversation leaves the message out, so only the
/// recipient's copy can say it was delivered (reading the sender's would send every lost answer's chunk twice).
#[tokio::test(start_paused = true)]
async fn unknown_outcomes_are_settled_from_the_recipients_copy_when_the_sender_keeps_none() {
    settle_unknown_outcomes(json!({"SyncOtherMachine": 2})).await;
}

async fn settle_unknown_outcomes(fields: Value) {
    const RECIPIENTS: usize = 1_000;
    let (running, wall) = paused_emulator("lost=0.15,drop=0.15".parse().unwrap()).await;
    let client = client(&running, |config| {
        config.pacing = false;
        config.wall_clock = wall;
        let backoff = Duration::from_millis(1_100);
        config.retry = RetryPolicy {
            initial_backoff: backoff,
            max_backoff: backoff,
            jitter: false,
            budget_max: 1e9,
            // A network this faulty: reads get more attempts than the default (batchsendmsg never retries here).
            max_attempts: 10,
            ..RetryPolicy::default()
        };
    });
    let mut body =
        json!({"To_Account": ["x"], "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hello"}}]});
    for (field, value) in fields.as_object().unwrap() {
        body[field] = value.clone();
    }
    let message = request::<tim_model::c2c::BatchSendMsgRequest>(body);
    let options = FanoutOptions {
        concurrency: 1,
        max_recipients: 25,
        transient_rounds: 10,
        resolve_delay: Duration::from_millis(1),
        ..FanoutOptions::default()
    };
    let fanout = Fanout::new(client, &message, options).unwrap();
    assert!(fanout.resolves_unknown());
    let ids: Vec<String> = (0..RECIPIENTS).map(|i| format!("look{i:05}")).collect();
    let report = fanout.run(stream::iter(ids.iter())).await;

    assert!(report.failures.is_empty(), "{:?}", &report.failures[..report.failures.len().min(3)]);
    let emulator = running.emulator();
    for id in &ids {
        assert_eq!(emulator.inbox_len(id), Some(1), "{id} must hold the message exactly once");
    }
    assert_eq!((report.delivered as usize, report.outcome_unknown), (RECIPIENTS, 0));
    let stats = running.stats();
    let (lost, dropped) = (stats.faults.get("lost").copied(), stats.faults.get("drop").copied());
    assert!(lost > Some(0) && dropped > Some(0), "both kinds of fault happened: {:?}", stats.faults);
    assert!(report.resolved > 0, "stored chunks were found in the history: {report:?}");
    assert!(report.chunks > (RECIPIENTS / 25) as u64, "dropped chunks were sent again in new chunks: {report:?}");
    assert_eq!(stats.duplicates_dropped, 0, "nothing was sent twice under the same keys either");
    running.shutdown().await;
}
