//! In-process: a tonic client → the gateway → the emulator, for every RPC; authentication refusals; invalid
//! requests; a 100,000-recipient fan-out through injected faults in which the emulator's inboxes prove that no one
//! was lost and no one got the message twice.

use futures_util::StreamExt;
use std::time::Duration;
use tim_emulator::{Emulator, FaultConfig, QuotaConfig, RunningEmulator};
use tim_grpc::error::error_detail;
use tim_grpc::pb;
use tim_grpc::pb::fanout_event::Kind as Event;
use tim_grpc::pb::fanout_request::Kind as Input;
use tim_grpc::{Caller, Gateway, GatewayOptions};
use tim_model::command::{CommandId, per_second};
use tim_sig::SecretKey;
use tim_transport::retry::RetryPolicy;
use tim_transport::{Client, ClientConfig, Endpoint};
use tonic::transport::Channel;
use tonic::{Code, Request};

mod common;

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "gateway-test-key";
const TOKEN: &str = "caller-token-for-tests";

fn system_clock() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

struct Setup {
    emulator: RunningEmulator,
    metrics: std::sync::Arc<tim_grpc::Metrics>,
    channel: Channel,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<tim_grpc::ShutdownReport>,
}

/// A running gateway: its metrics, a channel to it, its stop switch and its task.
struct Served {
    metrics: std::sync::Arc<tim_grpc::Metrics>,
    channel: Channel,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<tim_grpc::ShutdownReport>,
}

/// Gateway options with one caller presenting `TOKEN`.
fn options() -> GatewayOptions {
    GatewayOptions::new(vec![Caller::with_token("tests", TOKEN)])
}

/// Serves a gateway over `config` on loopback.
async fn serve(config: ClientConfig, options: GatewayOptions) -> Served {
    let client = Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap();
    let gateway = Gateway::new(client, options).unwrap();
    let metrics = gateway.metrics();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        gateway
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap()
    });
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();
    Served { metrics, channel, stop, served }
}

async fn setup(
    faults: FaultConfig,
    auto_create: bool,
    configure: impl FnOnce(&mut ClientConfig, &mut GatewayOptions),
) -> Setup {
    setup_with_quotas(faults, auto_create, QuotaConfig::disabled(), configure).await
}

/// An emulator on loopback. Its clock follows tokio's, so a test on the paused clock sees its quota windows move
/// with it.
async fn start_emulator(faults: FaultConfig, auto_create: bool, quotas: QuotaConfig) -> RunningEmulator {
    let (origin, base) = (tokio::time::Instant::now(), system_clock());
    let clock = move || base + origin.elapsed().as_secs();
    Emulator::builder(SDKAPPID, SecretKey::new(KEY).unwrap(), clock)
        .auto_create_accounts(auto_create)
        .faults(faults)
        .seed(5)
        .quotas(quotas)
        .build()
        .unwrap()
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap()
}

/// Like `setup`, with the emulator enforcing `quotas`.
async fn setup_with_quotas(
    faults: FaultConfig,
    auto_create: bool,
    quotas: QuotaConfig,
    configure: impl FnOnce(&mut ClientConfig, &mut GatewayOptions),
) -> Setup {
    let emulator = start_emulator(faults, auto_create, quotas).await;
    let mut config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    config.pacing = false;
    let mut options = options();
    configure(&mut config, &mut options);
    let served = serve(config, options).await;
    Setup { emulator, metrics: served.metrics, channel: served.channel, stop: served.stop, served: served.served }
}

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    request
}

/// Creates the Public group "team" owned by alice with bob as a member, answering its GroupId.
async fn team_of_alice_and_bob(
    groups: &mut pb::group_service_client::GroupServiceClient<tonic::transport::Channel>,
) -> String {
    groups
        .create_group(authed(pb::CreateGroupRequest {
            owner_account: Some("alice".into()),
            r#type: "Public".into(),
            name: "team".into(),
            member_list: vec![pb::NewMember { member_account: "bob".into(), ..Default::default() }],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .group_id
        .expect("a GroupId")
}

fn text(text: &str) -> Vec<pb::MsgElement> {
    vec![pb::MsgElement::text(text)]
}

/// A profile field for the profile RPCs.
fn field(tag: &str, value: pb::text_or_number::Kind) -> pb::ProfileItem {
    pb::ProfileItem { tag: tag.into(), value: Some(pb::TextOrNumber { kind: Some(value) }) }
}

#[tokio::test]
async fn profiles_and_online_status_reach_the_emulator() {
    use pb::text_or_number::Kind;
    let setup = setup(FaultConfig::none(), false, |_, _| {}).await;
    let mut accounts = pb::account_service_client::AccountServiceClient::new(setup.channel.clone());
    let mut profiles = pb::profile_service_client::ProfileServiceClient::new(setup.channel.clone());
    accounts
        .account_import(authed(pb::AccountImportRequest {
            user_id: "alice".into(),
            nick: Some("Alice".into()),
            face_url: None,
        }))
        .await
        .unwrap();

    profiles
        .portrait_set(authed(pb::PortraitSetRequest {
            from_account: "alice".into(),
            profile_item: vec![
                field("Tag_Profile_IM_Level", Kind::Number(3)),
                field("Tag_Profile_IM_SelfSignature", Kind::Text("hello".into())),
            ],
        }))
        .await
        .unwrap();
    let got = profiles
        .portrait_get(authed(pb::PortraitGetRequest {
            to_account: vec!["alice".into(), "zed".into()],
            tag_list: vec![
                "Tag_Profile_IM_Nick".into(),
                "Tag_Profile_IM_Level".into(),
                "Tag_Profile_IM_SelfSignature".into(),
            ],
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        got.user_profile_item[0].profile_item,
        [
            field("Tag_Profile_IM_Nick", Kind::Text("Alice".into())),
            field("Tag_Profile_IM_Level", Kind::Number(3)),
            field("Tag_Profile_IM_SelfSignature", Kind::Text("hello".into())),
        ]
    );
    assert_eq!((got.user_profile_item[1].to_account.as_str(), got.user_profile_item[1].result_code), ("zed", 40003));
    assert_eq!(got.fail_account, ["zed"]);

    // A refused value is named by this API's field path.
    let refused = profiles
        .portrait_set(authed(pb::PortraitSetRequest {
            from_account: "alice".into(),
            profile_item: vec![
                field("Tag_Profile_IM_Nick", Kind::Text("fine".into())),
                field("Tag_Profile_IM_Gender", Kind::Text("Male".into())),
            ],
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let detail = error_detail(&refused).unwrap();
    assert_eq!(detail.violations[0].field, "profile_item[1].value", "{detail:?}");
    assert_eq!(detail.violations[0].rest_field, "ProfileItem[1].Value");
    let missing = profiles
        .portrait_set(authed(pb::PortraitSetRequest {
            from_account: "alice".into(),
            profile_item: vec![pb::ProfileItem { tag: "Tag_Profile_IM_Nick".into(), value: None }],
        }))
        .await
        .unwrap_err();
    assert_eq!(error_detail(&missing).unwrap().violations[0].field, "profile_item[0].value");

    let status = accounts
        .query_online_status(authed(pb::QueryOnlineStatusRequest {
            to_account: vec!["alice".into(), "zed".into()],
            is_need_detail: Some(1),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.query_result.len(), 1);
    assert_eq!(
        (status.query_result[0].to_account.as_str(), status.query_result[0].status.as_str()),
        ("alice", "Offline")
    );
    assert_eq!((status.error_list[0].to_account.as_str(), status.error_list[0].error_code), ("zed", 70107));
    let not_allowed = accounts
        .query_online_status(authed(pb::QueryOnlineStatusRequest {
            to_account: vec!["alice".into()],
            is_need_detail: Some(2),
        }))
        .await
        .unwrap_err();
    assert_eq!(error_detail(&not_allowed).unwrap().violations[0].field, "is_need_detail");
    let _ = setup.stop.send(());
}

#[tokio::test]
async fn a_global_mute_set_through_the_gateway_refuses_group_messages() {
    let setup = setup(FaultConfig::none(), false, |_, _| {}).await;
    let mut accounts = pb::account_service_client::AccountServiceClient::new(setup.channel.clone());
    let mut mutes = pb::global_mute_service_client::GlobalMuteServiceClient::new(setup.channel.clone());
    let mut groups = pb::group_service_client::GroupServiceClient::new(setup.channel.clone());
    let mut messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    for user in ["alice", "bob"] {
        let import = pb::AccountImportRequest { user_id: user.into(), nick: None, face_url: None };
        accounts.account_import(authed(import)).await.unwrap();
    }
    accounts.kick(authed(pb::KickRequest { user_id: "bob".into() })).await.unwrap();
    let gone = accounts.kick(authed(pb::KickRequest { user_id: "zed".into() })).await.unwrap_err();
    assert_eq!(error_detail(&gone).unwrap().error_code, 70107, "{gone:?}");

    let mute = pb::SetNoSpeakingRequest {
        set_account: "alice".into(),
        c2c_msg_nospeaking_time: None,
        group_msg_nospeaking_time: Some(3600),
    };
    mutes.set_no_speaking(authed(mute)).await.unwrap();
    let read = mutes
        .get_no_speaking(authed(pb::GetNoSpeakingRequest { get_account: "alice".into() }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((read.c2c_msg_nospeaking_time, read.group_msg_nospeaking_time), (Some(0), Some(3600)));
    let neither = pb::SetNoSpeakingRequest { set_account: "alice".into(), ..Default::default() };
    let refused = mutes.set_no_speaking(authed(neither)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(error_detail(&refused).unwrap().violations[0].field, "c2c_msg_nospeaking_time");

    let group = team_of_alice_and_bob(&mut groups).await;
    let send = |from: &str| pb::SendGroupMsgRequest {
        group_id: group.clone(),
        from_account: Some(from.into()),
        msg_body: text("hi"),
        ..Default::default()
    };
    let muted = messages.send_group_msg(authed(send("alice"))).await.unwrap_err();
    assert_eq!(error_detail(&muted).unwrap().error_code, 10017, "{muted:?}");
    messages.send_group_msg(authed(send("bob"))).await.unwrap();
    let _ = setup.stop.send(());
}

#[tokio::test]
async fn friends_and_blocklists_through_the_gateway() {
    let setup = setup(FaultConfig::none(), false, |_, _| {}).await;
    let mut accounts = pb::account_service_client::AccountServiceClient::new(setup.channel.clone());
    let mut sns = pb::relationship_service_client::RelationshipServiceClient::new(setup.channel.clone());
    for user in ["alice", "bob"] {
        let import = pb::AccountImportRequest { user_id: user.into(), nick: None, face_url: None };
        accounts.account_import(authed(import)).await.unwrap();
    }
    let added = sns
        .friend_add(authed(pb::FriendAddRequest {
            from_account: "alice".into(),
            add_friend_item: vec![pb::AddFriendItem {
                to_account: "bob".into(),
                add_source: "AddSource_Type_Test".into(),
                ..Default::default()
            }],
            force_add_flags: Some(1),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(added.result_item[0].result_code, 0, "{added:?}");
    let check = |check_type: &str| pb::FriendCheckRequest {
        from_account: "bob".into(),
        to_account: vec!["alice".into()],
        check_type: check_type.into(),
    };
    let checked = sns.friend_check(authed(check("CheckResult_Type_Both"))).await.unwrap().into_inner();
    assert_eq!(checked.info_item[0].relation, "CheckResult_Type_BothWay");
    let blocked = pb::BlackListAddRequest { from_account: "bob".into(), to_account: vec!["alice".into()] };
    sns.black_list_add(authed(blocked)).await.unwrap();
    let checked = sns.friend_check(authed(check("CheckResult_Type_Both"))).await.unwrap().into_inner();
    assert_eq!(checked.info_item[0].relation, "CheckResult_Type_NoRelation", "blocking ended the friendship");
    // A broken AddSource is named by this API's field path.
    let refused = sns
        .friend_add(authed(pb::FriendAddRequest {
            from_account: "alice".into(),
            add_friend_item: vec![pb::AddFriendItem {
                to_account: "bob".into(),
                add_source: "x".into(),
                ..Default::default()
            }],
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(error_detail(&refused).unwrap().violations[0].field, "add_friend_item[0].add_source");

    // Follows: alice follows bob, read back as counts and as a page.
    let follow = pb::FollowAddRequest { from_account: "alice".into(), to_accounts: vec!["bob".into()] };
    assert_eq!(sns.follow_add(authed(follow)).await.unwrap().into_inner().result_item[0].result_code, 0);
    let counts = pb::FollowGetInfoRequest { from_account: "alice".into(), to_account: vec!["bob".into()] };
    let counts = sns.follow_get_info(authed(counts)).await.unwrap().into_inner();
    assert_eq!((counts.follow_info[0].follower_count, counts.follow_info[0].following_count), (1, 0));
    let page =
        pb::FollowGetRequest { from_account: "bob".into(), follow_type: 1, start_cursor: String::new(), want_num: 10 };
    let page = sns.follow_get(authed(page)).await.unwrap().into_inner();
    assert_eq!(page.follow_item[0].to_account, "alice");
    assert_eq!(page.next_cursor.as_deref(), Some(""));
    let _ = setup.stop.send(());
}

#[tokio::test]
async fn every_rpc_reaches_the_emulator() {
    let setup = setup(FaultConfig::none(), false, |_, _| {}).await;
    let mut accounts = pb::account_service_client::AccountServiceClient::new(setup.channel.clone());
    let mut messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    let mut groups = pb::group_service_client::GroupServiceClient::new(setup.channel.clone());
    let mut rest = pb::rest_service_client::RestServiceClient::new(setup.channel.clone());
    let emulator = setup.emulator.emulator();

    // Accounts.
    accounts
        .account_import(authed(pb::AccountImportRequest {
            user_id: "alice".into(),
            nick: Some("Alice".into()),
            face_url: None,
        }))
        .await
        .unwrap();
    let imported = accounts
        .multi_account_import(authed(pb::MultiAccountImportRequest {
            accounts: vec!["bob".into(), "carol".into(), "dave".into(), "erin".into()],
            account_list: vec![],
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(imported.fail_accounts.is_empty());
    let checked = accounts
        .account_check(authed(pb::AccountCheckRequest { user_ids: vec!["alice".into(), "zed".into()] }))
        .await
        .unwrap()
        .into_inner();
    let statuses: Vec<Option<String>> = checked.result_item.into_iter().map(|r| r.account_status).collect();
    assert_eq!(statuses, [Some("Imported".into()), Some("NotImported".into())]);

    // One-to-one messages.
    let sent = messages
        .send_msg(authed(pb::SendMsgRequest {
            from_account: Some("alice".into()),
            to_account: "bob".into(),
            msg_body: text("hi bob"),
            msg_random: Some(77),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(sent.msg_random, 77, "the caller's MsgRandom is kept");
    let key = sent.msg_key.expect("a MsgKey");
    let batch = messages
        .batch_send_msg(authed(pb::BatchSendMsgRequest {
            from_account: Some("alice".into()),
            to_account: vec!["bob".into(), "carol".into(), "zed".into()],
            msg_body: text("news"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(batch.msg_random, 0, "a MsgRandom was drawn and reported");
    let failed: Vec<(String, i64)> = batch.error_list.into_iter().map(|e| (e.to_account, e.error_code)).collect();
    assert_eq!(failed, [("zed".to_owned(), 70107)]);
    messages
        .import_msg(authed(pb::ImportMsgRequest {
            sync_from_old_system: 2,
            from_account: "dave".into(),
            to_account: "bob".into(),
            msg_time_stamp: system_clock() as i64 - 3600,
            msg_body: text("old news"),
            ..Default::default()
        }))
        .await
        .unwrap();
    let now = system_clock() as i64;
    let history = messages
        .admin_get_roam_msg(authed(pb::AdminGetRoamMsgRequest {
            operator_account: "bob".into(),
            peer_account: "alice".into(),
            max_cnt: 100,
            min_time: now - 60,
            max_time: now + 60,
            last_msg_key: None,
        }))
        .await
        .unwrap()
        .into_inner();
    let mut bodies: Vec<Vec<pb::MsgElement>> = history.msg_list.into_iter().map(|m| m.msg_body).collect();
    bodies.sort_by_key(|body| format!("{body:?}"));
    assert_eq!(bodies, [text("hi bob"), text("news")]);
    messages
        .admin_msg_withdraw(authed(pb::AdminMsgWithdrawRequest {
            from_account: "alice".into(),
            to_account: "bob".into(),
            msg_key: key,
        }))
        .await
        .unwrap();
    assert_eq!(emulator.inbox_len("bob"), Some(3));

    // Groups and group messages.
    let group = team_of_alice_and_bob(&mut groups).await;
    let added = groups
        .add_group_member(authed(pb::AddGroupMemberRequest {
            group_id: group.clone(),
            silence: None,
            member_accounts: vec!["carol".into(), "bob".into()],
        }))
        .await
        .unwrap()
        .into_inner();
    let results: Vec<i64> = added.member_list.into_iter().map(|m| m.result).collect();
    assert_eq!(results, [1, 2], "carol added, bob already a member");
    let posted = messages
        .send_group_msg(authed(pb::SendGroupMsgRequest {
            group_id: group.clone(),
            from_account: Some("alice".into()),
            msg_body: text("hello team"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let seq = posted.msg_seq.expect("a MsgSeq");
    messages
        .send_group_system_notification(authed(pb::SendGroupSystemNotificationRequest {
            group_id: group.clone(),
            content: "maintenance tonight".into(),
            ..Default::default()
        }))
        .await
        .unwrap();
    let imported = messages
        .import_group_msg(authed(pb::ImportGroupMsgRequest {
            group_id: group.clone(),
            msg_list: vec![pb::ImportGroupMsgItem {
                from_account: "bob".into(),
                send_time: system_clock() as i64 - 60,
                random: None,
                msg_body: text("imported"),
            }],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let results: Vec<i64> = imported.import_msg_result.into_iter().map(|r| r.result).collect();
    assert_eq!(results, [10004], "older than the group: refused per message, as the service does");
    let simple = messages
        .group_msg_get_simple(authed(pb::GroupMsgGetSimpleRequest {
            group_id: group.clone(),
            req_msg_number: 20,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(simple.rsp_msg_list.len(), 1);
    assert_eq!(simple.rsp_msg_list[0].msg_body, text("hello team"));
    let recalled = messages
        .group_msg_recall(authed(pb::GroupMsgRecallRequest {
            group_id: group.clone(),
            msg_seq_list: vec![seq],
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(recalled.recall_ret_list.iter().all(|r| r.ret_code == 0), "{recalled:?}");
    let info = groups
        .get_group_info(authed(pb::GetGroupInfoRequest { group_id_list: vec![group.clone()], response_filter: None }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.group_info[0].member_num, Some(3));
    let members = groups
        .get_group_member_info(authed(pb::GetGroupMemberInfoRequest {
            group_id: group.clone(),
            limit: Some(100),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(members.member_num, Some(3));
    groups
        .delete_group_member(authed(pb::DeleteGroupMemberRequest {
            group_id: group.clone(),
            member_to_del_account: vec!["carol".into()],
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(emulator.group_members(&group).map(|m| m.len()), Some(2));

    // Live groups, broadcasts, all-member push, destroy.
    let live = groups
        .create_group(authed(pb::CreateGroupRequest {
            r#type: "AVChatRoom".into(),
            name: "stage".into(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
        .group_id
        .unwrap();
    let broadcast = messages
        .send_broadcast_msg(authed(pb::SendBroadcastMsgRequest {
            from_account: Some("alice".into()),
            msg_body: text("to every stage"),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(broadcast.random, 0);
    assert_eq!(emulator.broadcasts().len(), 1);
    let pushed = messages
        .im_push(authed(pb::ImPushRequest { msg_body: text("to everyone"), ..Default::default() }))
        .await
        .unwrap()
        .into_inner();
    assert!(pushed.task_id.is_some());
    groups.destroy_group(authed(pb::DestroyGroupRequest { group_id: live.clone() })).await.unwrap();
    let gone = messages
        .send_group_msg(authed(pb::SendGroupMsgRequest { group_id: live, msg_body: text("x"), ..Default::default() }))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound, "{gone:?}");
    let detail = error_detail(&gone).unwrap();
    assert_eq!((detail.error_code, detail.command.as_str()), (10010, "v4/group_open_http_svc/send_group_msg"));
    assert_eq!(gone.metadata().get("tim-error-code").unwrap(), "10010");
    accounts.account_delete(authed(pb::AccountDeleteRequest { user_ids: vec!["erin".into()] })).await.unwrap();
    assert!(!emulator.account_exists("erin"));

    // The generic call.
    let answer = rest
        .call(authed(pb::CallRequest {
            command: "im_open_login_svc/account_check".into(),
            json_body: r#"{"CheckItem":[{"UserID":"dave"}]}"#.into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.command, "v4/im_open_login_svc/account_check");
    let json: serde_json::Value = serde_json::from_str(&answer.json_body).unwrap();
    assert_eq!(json["ResultItem"][0]["AccountStatus"], "Imported");

    setup.stop.send(()).unwrap();
    assert_eq!(setup.served.await.unwrap(), tim_grpc::ShutdownReport::default());
}

#[tokio::test]
async fn callers_without_a_valid_token_reach_nothing_but_health() {
    let setup = setup(FaultConfig::none(), true, |_, _| {}).await;
    let mut messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    let request = || pb::SendMsgRequest { to_account: "alice".into(), msg_body: text("hi"), ..Default::default() };
    let missing = messages.send_msg(Request::new(request())).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(missing.message().contains("authorization: Bearer"), "{}", missing.message());
    for header in ["Bearer wrong-token", "Basic Y2FsbGVyOnRva2Vu", TOKEN] {
        let mut wrong = Request::new(request());
        wrong.metadata_mut().insert("authorization", header.parse().unwrap());
        let refused = messages.send_msg(wrong).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{header}");
        assert!(!refused.message().contains(TOKEN));
    }
    let mut fanout = pb::fanout_service_client::FanoutServiceClient::new(setup.channel.clone());
    let refused = fanout.fanout(futures_util::stream::empty::<pb::FanoutRequest>()).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(setup.emulator.stats().calls.values().sum::<u64>(), 0, "nothing reached the service");
    let metrics = setup.metrics.render();
    assert!(
        metrics.contains(r#"tim_grpc_requests_total{method="MessageService/SendMsg",code="UNAUTHENTICATED"} 4"#),
        "{metrics}"
    );

    let mut health = tonic_health::pb::health_client::HealthClient::new(setup.channel.clone());
    for service in ["", "tim.v1.MessageService", "tim.v1.FanoutService"] {
        let answer = health
            .check(Request::new(tonic_health::pb::HealthCheckRequest { service: service.into() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.status(), tonic_health::pb::health_check_response::ServingStatus::Serving, "{service:?}");
    }
    setup.stop.send(()).unwrap();
    setup.served.await.unwrap();
}

#[tokio::test]
async fn the_gateway_embedded_in_a_server_of_ones_own_guards_its_services_and_no_others() {
    let emulator = start_emulator(FaultConfig::none(), true, QuotaConfig::disabled()).await;
    let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    let client = Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap();
    let embedded = Gateway::new(client, options()).unwrap().embed().await.unwrap();

    // The service's own server: tim's routes beside a service of its own (health stands in for it).
    let (_reporter, own) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_routes(embedded.routes())
            .add_service(own)
            .serve_with_incoming_shutdown(tonic::transport::server::TcpIncoming::from(listener), async {
                let _ = stopped.await;
            }),
    );
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{address}")).unwrap().connect().await.unwrap();

    let mut messages = pb::message_service_client::MessageServiceClient::new(channel.clone());
    let request = || pb::SendMsgRequest { to_account: "alice".into(), msg_body: text("hi"), ..Default::default() };
    let refused = messages.send_msg(Request::new(request())).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(emulator.emulator().inbox_len("alice"), None, "nothing reached the service");
    let sent = messages.send_msg(authed(request())).await.unwrap().into_inner();
    assert!(sent.msg_key.is_some());
    assert_eq!(emulator.emulator().inbox_len("alice"), Some(1));
    // Without a data directory, jobs are refused as by a served gateway.
    let mut jobs = pb::job_service_client::JobServiceClient::new(channel.clone());
    let no_jobs = jobs.list_jobs(authed(pb::ListJobsRequest::default())).await.unwrap_err();
    assert_eq!(no_jobs.code(), Code::FailedPrecondition);

    // The server's own service is not behind tim's callers.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let answer = health.check(Request::new(tonic_health::pb::HealthCheckRequest::default())).await.unwrap();
    assert_eq!(answer.into_inner().status(), tonic_health::pb::health_check_response::ServingStatus::Serving);

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    assert_eq!(embedded.shutdown().await, tim_grpc::ShutdownReport::default());
    emulator.shutdown().await;
}

#[tokio::test]
async fn invalid_requests_are_refused_before_sending_naming_each_field() {
    let setup = setup(FaultConfig::none(), true, |_, _| {}).await;
    let mut messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    let refused = messages
        .batch_send_msg(authed(pb::BatchSendMsgRequest {
            to_account: vec!["a".into(), "b".into(), "x".repeat(33)],
            msg_body: vec![],
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    let detail = error_detail(&refused).unwrap();
    let fields: Vec<&str> = detail.violations.iter().map(|v| v.field.as_str()).collect();
    assert!(fields.contains(&"to_account[2]"), "{fields:?}");
    assert!(fields.contains(&"msg_body"), "{fields:?}");
    assert!(refused.message().contains("to_account[2]"), "{}", refused.message());

    let too_many = messages
        .batch_send_msg(authed(pb::BatchSendMsgRequest {
            to_account: (0..501).map(|i| format!("u{i}")).collect(),
            msg_body: text("hi"),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), Code::InvalidArgument);
    let detail = error_detail(&too_many).unwrap();
    assert_eq!(detail.violations[0].field, "to_account", "{detail:?}");
    assert_eq!(detail.violations[0].rest_field, "To_Account");

    let long_text = messages
        .send_msg(authed(pb::SendMsgRequest {
            to_account: "a".into(),
            msg_body: text(&"x".repeat(12_001)),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(long_text.code(), Code::InvalidArgument);
    assert!(error_detail(&long_text).unwrap().violations.iter().any(|v| v.field.starts_with("msg_body")));

    let mut rest = pb::rest_service_client::RestServiceClient::new(setup.channel.clone());
    let unknown = rest
        .call(authed(pb::CallRequest { command: "openim/nothing".into(), json_body: "{}".into() }))
        .await
        .unwrap_err();
    assert_eq!(
        (unknown.code(), error_detail(&unknown).unwrap().violations[0].field.as_str()),
        (Code::InvalidArgument, "command")
    );
    let not_json = rest
        .call(authed(pb::CallRequest { command: "openim/sendmsg".into(), json_body: "{".into() }))
        .await
        .unwrap_err();
    assert_eq!(error_detail(&not_json).unwrap().violations[0].field, "json_body");
    let invalid_body = rest
        .call(authed(pb::CallRequest {
            command: "openim/sendmsg".into(),
            json_body: r#"{"To_Account":"a","MsgBody":[]}"#.into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(invalid_body.code(), Code::InvalidArgument);
    assert_eq!(error_detail(&invalid_body).unwrap().violations[0].field, "json_body.MsgBody");

    let mut fanout = pb::fanout_service_client::FanoutServiceClient::new(setup.channel.clone());
    let no_start = futures_util::stream::iter([pb::FanoutRequest {
        kind: Some(Input::Recipients(pb::RecipientBatch { lines: "a\nb".into(), user_ids: vec![] })),
    }]);
    let refused = fanout.fanout(authed(no_start)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(error_detail(&refused).unwrap().violations[0].field, "start");

    assert_eq!(setup.emulator.stats().calls.values().sum::<u64>(), 0, "nothing invalid was sent");
    setup.stop.send(()).unwrap();
    setup.served.await.unwrap();
}

#[tokio::test]
async fn a_caller_over_its_concurrency_limit_is_told_so() {
    let delay: FaultConfig = "delay=1:300ms".parse().unwrap();
    let setup = setup(delay, true, |config, options| {
        options.max_concurrent_per_caller = 2;
        config.attempt_timeout = Duration::from_secs(5);
    })
    .await;
    let messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    let calls = (0..3).map(|i| {
        let mut client = messages.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(i * 50)).await;
            client
                .send_msg(authed(pb::SendMsgRequest {
                    to_account: "a".into(),
                    msg_body: text("x"),
                    ..Default::default()
                }))
                .await
        }
    });
    let results = futures_util::future::join_all(calls).await;
    let exhausted = results.iter().filter(|r| r.as_ref().is_err_and(|s| s.code() == Code::ResourceExhausted)).count();
    assert_eq!(exhausted, 1, "{results:?}");
    setup.stop.send(()).unwrap();
    setup.served.await.unwrap();
}

/// Streams `ids` (in batches of `per_batch` lines) after a start message; returns every event.
#[tokio::test(start_paused = true)]
async fn calls_through_the_gateway_are_paced_to_the_quota_instead_of_refused() {
    // The service allows 40 sendmsg a second; the gateway's client paces to 20 (a burst of 20, then one every
    // 50 ms), so no window of the service's second ever sees more than 40 and nobody is refused.
    let quotas = QuotaConfig::default().with(CommandId::SendMsg, per_second(40));
    let setup = setup_with_quotas(FaultConfig::default(), true, quotas, |config, _| {
        config.pacing = true;
        config.quota_overrides.insert(CommandId::SendMsg, per_second(20));
    })
    .await;
    let messages = pb::message_service_client::MessageServiceClient::new(setup.channel.clone());
    let started = tokio::time::Instant::now();
    let calls = (0..60).map(|i| {
        let mut messages = messages.clone();
        async move {
            let request =
                pb::SendMsgRequest { to_account: format!("user{i}"), msg_body: text("hi"), ..Default::default() };
            messages.send_msg(authed(request)).await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    let elapsed = started.elapsed();
    for answer in &answers {
        assert!(answer.is_ok(), "{answer:?}");
    }
    // 20 at once, then 40 more at 50 ms intervals: the last starts 1.95 s after the first. (On the paused clock,
    // which also drives the emulator's quota windows; the clock may jump ahead while loopback I/O is pending, so
    // only the pacer's lower bound is exact.)
    assert!(elapsed >= Duration::from_millis(1_950), "{elapsed:?}");
    let stats = setup.emulator.stats();
    assert_eq!(stats.rate_limited, 0, "the service refused a call for its rate");
    assert_eq!(setup.emulator.emulator().inbox_len("user59"), Some(1));
    let metrics = setup.metrics.render();
    let waits = metrics
        .lines()
        .find(|line| line.starts_with("tim_transport_quota_waits_total "))
        .and_then(|line| line.split_whitespace().nth(1)?.parse::<f64>().ok())
        .expect("the quota waits are exported");
    assert!(waits >= 40.0, "{waits} calls waited for their turn");
}

async fn run_fanout(channel: Channel, ids: Vec<String>, per_batch: usize) -> Vec<pb::FanoutEvent> {
    let mut fanout = pb::fanout_service_client::FanoutServiceClient::new(channel);
    let start = pb::FanoutRequest {
        kind: Some(Input::Start(pb::FanoutStart {
            message: Some(pb::BatchSendMsgRequest { msg_body: text("sale starts now"), ..Default::default() }),
            concurrency: 8,
            progress_interval_secs: 1,
            expected_recipients: ids.len() as u64,
        })),
    };
    let batches: Vec<pb::FanoutRequest> = ids
        .chunks(per_batch)
        .map(|chunk| pb::FanoutRequest {
            kind: Some(Input::Recipients(pb::RecipientBatch { lines: chunk.join("\n"), user_ids: vec![] })),
        })
        .collect();
    let input = futures_util::stream::iter(std::iter::once(start).chain(batches));
    let mut events = fanout.fanout(authed(input)).await.unwrap().into_inner();
    let mut all = Vec::new();
    while let Some(event) = events.next().await {
        all.push(event.unwrap());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_out_of_100k_through_faults_loses_no_one_and_doubles_no_one() {
    const RECIPIENTS: usize = 100_000;
    let faults: FaultConfig =
        "502=0.03,code70169=0.03,code91000=0.02,lost=0.03,drop=0.02,delay=0.02:400ms".parse().unwrap();
    let setup = setup(faults, true, |config, _| {
        config.attempt_timeout = Duration::from_millis(250);
        config.retry = RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(50),
            max_attempts: 6,
            budget_max: 1e9,
            ..RetryPolicy::default()
        };
    })
    .await;
    let mut ids: Vec<String> = (0..RECIPIENTS).map(|i| format!("fan{i:06}")).collect();
    // Five duplicates and one UserID over 32 bytes.
    ids.extend((0..5).map(|i| format!("fan{i:06}")));
    ids.push("y".repeat(33));
    let events = run_fanout(setup.channel.clone(), ids.clone(), 5_000).await;

    let Some(pb::FanoutEvent { kind: Some(Event::Report(report)) }) = events.last() else {
        panic!("the last event must be the report: {:?}", events.last());
    };
    let mut failures = Vec::new();
    let mut duplicates = Vec::new();
    for event in &events[..events.len() - 1] {
        match &event.kind {
            Some(Event::Failures(batch)) => {
                failures.extend(batch.failures.iter().cloned());
                duplicates.extend(batch.duplicates.iter().cloned());
            }
            Some(Event::Progress(_)) => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(report.read as usize, ids.len());
    assert_eq!(duplicates.len(), 5);
    let settled = report.failed + report.outcome_unknown + report.invalid;
    assert_eq!((settled as usize, report.duplicates as usize), (failures.len(), 5));
    assert_eq!(report.invalid, 1);
    assert_eq!(report.outcome_unknown as usize, failures.iter().filter(|f| f.outcome_unknown).count());
    let invalid = failures.iter().find(|f| f.user_id == "y".repeat(33)).expect("the invalid UserID is listed");
    assert_eq!(invalid.line as usize, ids.len(), "with its line number");
    assert_eq!(report.delivered as usize + failures.len() + duplicates.len(), ids.len(), "everyone accounted for once");
    assert!(failures.iter().any(|f| f.user_id == "y".repeat(33) && !f.outcome_unknown));

    let emulator = setup.emulator.emulator();
    let failed: std::collections::HashSet<&str> = failures.iter().map(|f| f.user_id.as_str()).collect();
    for id in &ids[..RECIPIENTS] {
        let count = emulator.inbox_len(id).unwrap_or(0);
        assert!(count <= 1, "{id} received the message {count} times");
        if !failed.contains(id.as_str()) {
            assert_eq!(count, 1, "{id} reported delivered but not in its inbox");
        }
    }
    for failure in failures.iter().filter(|f| f.user_id.len() <= 32) {
        assert!(failure.outcome_unknown, "{failure:?}: only unknown outcomes may remain with these faults");
    }
    let stats = setup.emulator.stats();
    assert!(stats.faults.values().sum::<u64>() > 0, "faults were injected: {:?}", stats.faults);
    let metrics = setup.metrics.render();
    let delivered = format!(r#"tim_fanout_recipients_total{{outcome="delivered"}} {}"#, report.delivered);
    assert!(metrics.contains(&delivered), "{metrics}");
    assert!(metrics.contains("tim_fanouts_active 0"), "{metrics}");
    assert!(metrics.contains("tim_fanout_recipients_pending 0"), "{metrics}");
    let retries = metrics.lines().find(|l| l.starts_with("tim_transport_retries_total ")).unwrap_or_default();
    assert!(retries.split(' ').nth(1).and_then(|v| v.parse::<f64>().ok()).is_some_and(|v| v > 0.0), "{metrics}");
    setup.stop.send(()).unwrap();
    setup.served.await.unwrap();
}

/// A loopback service that takes 200 ms to accept every batch.
async fn slow_service() -> String {
    use http_body_util::BodyExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                    let _ = request.into_body().collect().await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let answer = r#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","MsgKey":"1_2_3"}"#;
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from_static(answer.as_bytes()),
                    )))
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_lets_a_running_fan_out_finish_within_the_grace_period_then_cancels_it() {
    // 40 chunks one at a time, 200 ms each, outlast a 300 ms grace period.
    let mut config = ClientConfig::new(Endpoint::BaseUrl(slow_service().await));
    config.pacing = false;
    let mut options = options();
    options.shutdown_grace = Duration::from_millis(300);
    let Served { channel, stop, served, .. } = serve(config, options).await;
    let mut fanout = pb::fanout_service_client::FanoutServiceClient::new(channel);
    let start = pb::FanoutRequest {
        kind: Some(Input::Start(pb::FanoutStart {
            message: Some(pb::BatchSendMsgRequest { msg_body: text("x"), ..Default::default() }),
            concurrency: 1,
            progress_interval_secs: 1,
            expected_recipients: 0,
        })),
    };
    let ids: Vec<String> = (0..20_000).map(|i| format!("s{i}")).collect();
    let batch = pb::FanoutRequest {
        kind: Some(Input::Recipients(pb::RecipientBatch { lines: ids.join("\n"), user_ids: vec![] })),
    };
    let input = futures_util::stream::iter([start, batch]);
    let mut events = fanout.fanout(authed(input)).await.unwrap().into_inner();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.send(()).unwrap();
    let mut report = None;
    while let Some(event) = events.next().await {
        if let Some(Event::Report(r)) = event.unwrap().kind {
            report = Some(r);
        }
    }
    let report = report.expect("a report");
    assert!(report.cancelled, "{report:?}");
    assert!(report.delivered >= 500 && report.delivered < 20_000, "{report:?}");
    assert_eq!(report.delivered + report.failed, report.read, "{report:?}");
    let shutdown = served.await.unwrap();
    assert_eq!(shutdown.fanouts_cancelled, 1);
    assert_eq!(shutdown.recipients_not_delivered, report.read - report.delivered);
    assert_eq!(shutdown.fanouts_abandoned, 0);
}

fn job_start(start_at_unix_ms: i64) -> pb::SubmitJobRequest {
    let start = pb::JobStart {
        message: Some(pb::BatchSendMsgRequest { msg_body: text("job news"), ..Default::default() }),
        start_at_unix_ms,
        ..Default::default()
    };
    pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Start(start)) }
}

fn job_recipients(lines: String) -> pb::SubmitJobRequest {
    let batch = pb::RecipientBatch { lines, user_ids: Vec::new() };
    pb::SubmitJobRequest { kind: Some(pb::submit_job_request::Kind::Recipients(batch)) }
}

/// Jobs through `JobService`: recipients streamed in, paused (nothing more is sent once the batches on their way
/// are settled), resumed to the end; a job scheduled for later sends nothing and can be cancelled; a gateway
/// without a data directory refuses jobs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_pause_resume_cancel_and_wait_for_their_start_time() {
    let data = std::env::temp_dir().join(format!("tim-gateway-jobs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let setup = setup(FaultConfig::none(), true, |config, options| {
        // Two 500-recipient batches a second: slow enough to pause in the middle.
        config.pacing = true;
        config.quota_overrides.insert(CommandId::BatchSendMsg, per_second(2));
        options.data_dir = Some(data.clone());
    })
    .await;
    let mut jobs = pb::job_service_client::JobServiceClient::new(setup.channel.clone());
    let mut first = "a line far too long to be a UserID of Tencent Cloud Chat\n".to_owned();
    first.extend((0..2_000).map(|i| format!("pj{i:05}\n")));
    let second: String = (2_000..3_000).map(|i| format!("pj{i:05}\n")).collect();
    let submitted = futures_util::stream::iter([job_start(0), job_recipients(first), job_recipients(second)]);
    let job = jobs.submit_job(authed(submitted)).await.unwrap().into_inner();

    while setup.emulator.stats().stored.c2c < 500 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let paused = jobs.pause_job(authed(pb::JobRef { id: job.id })).await.unwrap().into_inner();
    assert_eq!(paused.state, pb::JobState::Paused as i32);
    // The explicit signal that the run has stopped: a watch of a job that is not running ends once its runner is
    // gone. From then on nothing can send, and what was stored is exactly what the journal counts as delivered.
    let mut watch =
        jobs.watch_job(authed(pb::WatchJobRequest { id: job.id, interval_secs: 1 })).await.unwrap().into_inner();
    let mut settled = None;
    while let Some(event) = watch.message().await.unwrap() {
        if let Some(pb::job_event::Kind::Job(job)) = event.kind {
            settled = Some(job);
        }
    }
    let settled = settled.unwrap();
    assert_eq!((settled.state, settled.in_flight), (pb::JobState::Paused as i32, 0), "{settled:?}");
    assert!(settled.delivered < 3_000, "paused before the end: {settled:?}");
    assert_eq!(setup.emulator.stats().stored.c2c, settled.delivered, "a paused job sends nothing more");

    let resumed = jobs.resume_job(authed(pb::JobRef { id: job.id })).await.unwrap().into_inner();
    assert_eq!(resumed.state, pb::JobState::Running as i32);
    let mut events =
        jobs.watch_job(authed(pb::WatchJobRequest { id: job.id, interval_secs: 1 })).await.unwrap().into_inner();
    let (mut last, mut kinds) = (None, Vec::new());
    while let Some(event) = events.message().await.unwrap() {
        match event.kind {
            Some(pb::job_event::Kind::Job(job)) => {
                kinds.push("job");
                last = Some(job);
            }
            Some(pb::job_event::Kind::Failures(batch)) => {
                kinds.push("failures");
                assert_eq!(batch.failures.len(), 1);
                assert_eq!((batch.failures[0].line, batch.failures[0].outcome_unknown), (1, false));
            }
            None => {}
        }
    }
    // The invalid first line was settled before the watch began: it comes first, not after the end.
    assert_eq!(kinds.first(), Some(&"failures"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|kind| **kind == "failures").count(), 1, "{kinds:?}");
    let last = last.unwrap();
    assert_eq!((last.state, last.lines, last.delivered), (pb::JobState::Finished as i32, 3_001, 3_000), "{last:?}");
    assert_eq!(last.invalid, 1);
    for i in [0, 1_999, 2_999] {
        assert_eq!(setup.emulator.emulator().inbox_len(&format!("pj{i:05}")), Some(1));
    }

    // Scheduled an hour from now: it waits, and a cancel ends it without a send.
    let later =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 3_600_000;
    let scheduled = futures_util::stream::iter([job_start(later), job_recipients("later1\nlater2\n".to_owned())]);
    let waiting = jobs.submit_job(authed(scheduled)).await.unwrap().into_inner();
    assert_eq!(waiting.start_at_unix_ms, later);
    let cancelled = jobs.cancel_job(authed(pb::JobRef { id: waiting.id })).await.unwrap().into_inner();
    assert_eq!((cancelled.state, cancelled.chunks), (pb::JobState::Cancelled as i32, 0));
    assert_eq!(setup.emulator.emulator().inbox_len("later1"), None, "never sent");
    let listed = jobs.list_jobs(authed(pb::ListJobsRequest {})).await.unwrap().into_inner();
    assert_eq!(listed.jobs.iter().map(|job| job.id).collect::<Vec<_>>(), [job.id, waiting.id]);
    let missing = jobs.get_job(authed(pb::JobRef { id: 99 })).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    // Without a data directory, jobs are refused and say why.
    let plain = setup_with_quotas(FaultConfig::none(), true, QuotaConfig::disabled(), |_, _| {}).await;
    let mut refused = pb::job_service_client::JobServiceClient::new(plain.channel.clone());
    let status = refused.list_jobs(authed(pb::ListJobsRequest {})).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    assert!(status.message().contains("data_dir"), "{status:?}");
    let _ = std::fs::remove_dir_all(&data);
}

/// A gateway with jobs in a fresh data directory named after `name`, and a JobService client of it.
async fn setup_with_jobs(
    name: &str,
) -> (std::path::PathBuf, Setup, pb::job_service_client::JobServiceClient<tonic::transport::Channel>) {
    let data = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let setup = setup(FaultConfig::none(), true, |_, options| options.data_dir = Some(data.clone())).await;
    let jobs = pb::job_service_client::JobServiceClient::new(setup.channel.clone());
    (data, setup, jobs)
}

/// A job whose run fails (here its spooled recipients vanished before its start time) stops and says why, a watch
/// of it ends, and resuming it once the cause is gone runs it to the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_run_fails_stops_with_its_reason_and_runs_again_when_resumed() {
    let (data, setup, mut jobs) = setup_with_jobs("tim-gateway-job-fails").await;
    let start_at =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 2_000;
    let lines = "fails1\nfails2\n".to_owned();
    let submitted = futures_util::stream::iter([job_start(start_at), job_recipients(lines.clone())]);
    let job = jobs.submit_job(authed(submitted)).await.unwrap().into_inner();
    // The job waits for its start time; its recipients disappear meanwhile.
    let spooled: Vec<_> = std::fs::read_dir(data.join("recipients")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    std::fs::remove_file(&spooled[0]).unwrap();

    let stopped = common::watch_to_end(&mut jobs, TOKEN, job.id).await;
    assert_eq!(stopped.state, pb::JobState::Stopped as i32, "{stopped:?}");
    assert!(stopped.error.contains("cannot open"), "{stopped:?}");
    assert_eq!(setup.emulator.emulator().inbox_len("fails1"), None, "nothing was sent");

    std::fs::write(&spooled[0], lines).unwrap();
    let resumed = jobs.resume_job(authed(pb::JobRef { id: job.id })).await.unwrap().into_inner();
    assert_eq!((resumed.state, resumed.error.as_str()), (pb::JobState::Running as i32, ""));
    let finished = common::watch_to_end(&mut jobs, TOKEN, job.id).await;
    assert_eq!((finished.state, finished.delivered), (pb::JobState::Finished as i32, 2), "{finished:?}");
    assert_eq!(setup.emulator.emulator().inbox_len("fails2"), Some(1));
    let _ = std::fs::remove_dir_all(&data);
}

/// The metrics port cuts off a client that trickles its headers, as the emulator does: it holds nothing for ever.
#[tokio::test(start_paused = true)]
async fn the_metrics_port_closes_connections_whose_headers_never_end() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let setup = setup(FaultConfig::none(), true, |_, _| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(tim_grpc::serve_metrics(listener, setup.metrics.clone(), std::future::pending()));
    let started = tokio::time::Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut seen = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(300), stream.read_to_end(&mut seen)).await;
    assert!(closed.is_ok(), "the metrics server closed the connection");
    assert!(started.elapsed() >= tim_grpc::METRICS_HEADER_TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_no_job_reads_are_deleted_at_start_and_a_jobs_own_are_kept() {
    let (data, setup, mut jobs) = setup_with_jobs("tim-gateway-sweep").await;
    let recipients: String = (0..10).map(|i| format!("sw{i}\n")).collect();
    let submitted = futures_util::stream::iter([job_start(0), job_recipients(recipients)]);
    let job = jobs.submit_job(authed(submitted)).await.unwrap().into_inner();
    let done = common::watch_to_end(&mut jobs, TOKEN, job.id).await;
    assert_eq!((done.state, done.delivered), (pb::JobState::Finished as i32, 10));
    setup.stop.send(()).unwrap();
    setup.served.await.unwrap();

    // What a gateway stopped between storing a submission's recipients and creating its job leaves behind.
    let spool = data.join("recipients");
    let listed = || {
        let mut names: Vec<String> =
            std::fs::read_dir(&spool).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        names
    };
    let kept = listed();
    assert_eq!(kept.len(), 1, "the job's own recipients: {kept:?}");
    std::fs::write(spool.join("0-deadbeef.txt"), "never\nbecame\na job\n").unwrap();

    let config = ClientConfig::new(Endpoint::BaseUrl(setup.emulator.base_url()));
    let client = Client::new(SDKAPPID, "administrator", SecretKey::new(KEY).unwrap(), config).unwrap();
    let mut options = options();
    options.data_dir = Some(data.clone());
    let embedded = Gateway::new(client, options).unwrap().embed().await.unwrap();
    assert_eq!(listed(), kept, "the orphan is deleted at start, the job's file is kept");
    embedded.shutdown().await;
    std::fs::remove_dir_all(&data).unwrap();
}
