//! Validation before sending: each documented limit is enforced with an error that names the field path, the
//! limit and the value.

use serde_json::{Value, json};
use tim_model::api::{decode, decode_request};
use tim_model::c2c::{BatchSendMsgRequest, ImportMsgRequest, SendMsgRequest};
use tim_model::elem::{SoundElem, VideoFileElem};
use tim_model::group::{CreateGroupRequest, GetGroupMemberInfoRequest, GroupType, GroupTypeRules};
use tim_model::group_msg::{ImportGroupMsgRequest, SendGroupMsgRequest, SendGroupSystemNotificationRequest};
use tim_model::push_all::ImPushRequest;
use tim_model::validate::{MAX_MSG_BYTES, Validate};
use tim_model::{Extra, GroupId, MsgBody, MsgElement, Problem, UserId, ValidationErrors};

fn user(id: &str) -> UserId {
    UserId::new(id).expect("valid test id")
}

fn send(body: MsgBody) -> SendMsgRequest {
    let mut request = SendMsgRequest::new(user("bob"), body);
    request.msg_random = Some(1);
    request
}

fn batch(ids: Vec<UserId>, text: &str) -> BatchSendMsgRequest {
    let mut request = BatchSendMsgRequest::new(ids, MsgBody::text(text));
    request.msg_random = Some(1);
    request
}

fn errors_in<T: Validate>(value: &T) -> ValidationErrors {
    value.validate().expect_err("the request breaks a rule")
}

#[test]
fn a_minimal_send_is_valid_and_msg_random_is_required() {
    assert_eq!(send(MsgBody::text("hi")).validate(), Ok(()));
    let mut request = send(MsgBody::text("hi"));
    request.msg_random = None;
    let errors = errors_in(&request);
    assert_eq!(errors.first().field(), "MsgRandom");
    assert_eq!(errors.first().problem(), &Problem::Missing);
    assert_eq!(errors.to_string(), "MsgRandom is required");
}

#[test]
fn batch_recipients_are_counted_between_one_and_five_hundred() {
    let ids = |n: usize| (0..n).map(|i| user(&format!("u{i}"))).collect::<Vec<_>>();
    assert_eq!(batch(ids(500), "x").validate(), Ok(()));
    let over = errors_in(&batch(ids(501), "x"));
    assert_eq!(over.first().field(), "To_Account");
    assert_eq!(over.first().problem(), &Problem::TooMany { max: 500, actual: 501 });
    let empty = errors_in(&batch(ids(0), "x"));
    assert_eq!(empty.first().problem(), &Problem::Empty);
}

#[test]
fn batch_size_limit_counts_the_whole_packet_recipients_included() {
    // 400 recipients of 32 bytes are about 14 KB of JSON before the message itself.
    let long_ids: Vec<UserId> = (0..400).map(|i| user(&format!("{i:0>32}"))).collect();
    let request = batch(long_ids, "short text");
    let errors = errors_in(&request);
    assert_eq!(errors.first().field(), "");
    let size = serde_json::to_vec(&request).unwrap().len();
    assert_eq!(errors.first().problem(), &Problem::TooLong { max: MAX_MSG_BYTES, actual: size });
    assert!(errors.to_string().starts_with("request is "), "{errors}");
    // The same message to 100 such recipients fits.
    let ids: Vec<UserId> = (0..100).map(|i| user(&format!("{i:0>32}"))).collect();
    assert_eq!(batch(ids, "short text").validate(), Ok(()));
}

#[test]
fn single_send_size_limit_counts_body_and_cloud_custom_data() {
    // {"MsgType":"TIMTextElem","MsgContent":{"Text":""}} is 49 bytes around the text, and the array adds 2.
    let overhead = serde_json::to_vec(&MsgBody::text("")).unwrap().len();
    let fits = send(MsgBody::text("a".repeat(MAX_MSG_BYTES - overhead)));
    assert_eq!(fits.validate(), Ok(()));
    let mut over = fits.clone();
    over.cloud_custom_data = Some("z".into());
    let errors = errors_in(&over);
    assert_eq!(errors.first().field(), "MsgBody");
    assert_eq!(errors.first().problem(), &Problem::TooLong { max: MAX_MSG_BYTES, actual: MAX_MSG_BYTES + 1 });
}

#[test]
fn decoding_names_the_field_that_breaks_a_type_rule() {
    let long = "x".repeat(33);
    let body = json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]);
    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"To_Account": long, "MsgRandom": 1, "MsgBody": body}), "To_Account", "33 bytes, at most 32"),
        (json!({"To_Account": "a", "MsgRandom": 4_294_967_296_u64, "MsgBody": body}), "MsgRandom", "u32"),
        (json!({"To_Account": "a", "MsgRandom": -1, "MsgBody": body}), "MsgRandom", "u32"),
        (json!({"To_Account": "a", "MsgRandom": 1, "MsgBody": []}), "MsgBody", "must not be empty"),
        (json!({"To_Account": "a", "MsgRandom": 1}), "", "missing field `MsgBody`"),
        (
            json!({"To_Account": "a", "MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {}}]}),
            "MsgBody[0]",
            "missing field `Text`",
        ),
    ];
    for (value, field, words) in cases {
        let bytes = serde_json::to_vec(&value).unwrap();
        let error = decode::<SendMsgRequest>(&bytes).expect_err("invalid");
        assert_eq!(error.field(), field, "{value}");
        assert!(error.to_string().contains(words), "{error} should mention {words}");
    }
}

#[test]
fn at_most_one_custom_element_per_message() {
    let two = vec![MsgElement::custom("a"), MsgElement::text("t"), MsgElement::custom("b")];
    let error = MsgBody::new(two).expect_err("two custom elements");
    assert!(error.to_string().contains("more than one TIMCustomElem"), "{error}");
    let json = br#"{"To_Account":"a","MsgRandom":1,"MsgBody":[
        {"MsgType":"TIMCustomElem","MsgContent":{"Data":"a"}},{"MsgType":"TIMCustomElem","MsgContent":{"Data":"b"}}]}"#;
    let errors = decode_request::<SendMsgRequest>(json).expect_err("two custom elements");
    assert_eq!(errors.first().field(), "MsgBody");
}

#[test]
fn rest_sends_need_urls_uuids_and_download_flag_two() {
    let sound = MsgElement::Sound(SoundElem {
        url: Some("https://example.invalid/a".into()),
        uuid: None,
        size: None,
        second: None,
        download_flag: Some(1),
        extra: Extra::new(),
    });
    let errors = errors_in(&send(MsgBody::new(vec![MsgElement::text("t"), sound]).unwrap()));
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field()).collect();
    assert_eq!(fields, ["MsgBody[1].MsgContent.UUID", "MsgBody[1].MsgContent.Download_Flag"]);
    assert!(errors.to_string().contains("(value \"1\")"), "{errors}");

    let video = MsgElement::VideoFile(VideoFileElem {
        video_url: Some("u".into()),
        video_uuid: Some("v".into()),
        video_size: None,
        video_second: None,
        video_format: None,
        video_download_flag: Some(2),
        thumb_url: Some("t".into()),
        thumb_uuid: Some("w".into()),
        thumb_size: None,
        thumb_width: Some(1),
        thumb_height: None,
        thumb_format: None,
        thumb_download_flag: Some(2),
        extra: Extra::new(),
    });
    let errors = errors_in(&send(MsgBody::new(vec![video]).unwrap()));
    assert_eq!(errors.errors().len(), 1);
    assert_eq!(errors.first().field(), "MsgBody[0].MsgContent.ThumbHeight");
}

#[test]
fn received_only_elements_cannot_be_sent_but_new_kinds_pass_through() {
    let tip: MsgElement = serde_json::from_value(json!({"MsgType": "TIMGroupTipElem", "MsgContent": {}})).unwrap();
    let errors = errors_in(&send(MsgBody::new(vec![tip]).unwrap()));
    assert_eq!(errors.first().field(), "MsgBody[0].MsgContent");
    let future: MsgElement = serde_json::from_value(json!({"MsgType": "TIMFutureElem", "MsgContent": {}})).unwrap();
    assert_eq!(send(MsgBody::new(vec![future]).unwrap()).validate(), Ok(()));
}

#[test]
fn ranges_and_enumerations_of_control_fields() {
    let mut request = send(MsgBody::text("x"));
    request.msg_life_time = Some(604_801);
    request.sync_other_machine = Some(3);
    request.is_need_read_receipt = Some(2);
    let errors = errors_in(&request);
    let shown: Vec<String> = errors.errors().iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "SyncOtherMachine must be one of 1 or 2 (value \"3\")",
            "MsgLifeTime is 604801, allowed range is 0..=604800",
            "IsNeedReadReceipt must be one of 0 or 1 (value \"2\")",
        ]
    );
    let mut import: ImportMsgRequest = decode(
        br#"{"SyncFromOldSystem":2,"From_Account":"a","To_Account":"b","MsgRandom":1,"MsgTimeStamp":1,
             "MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#,
    )
    .unwrap();
    assert_eq!(import.validate(), Ok(()));
    import.sync_from_old_system = 3;
    assert_eq!(errors_in(&import).first().field(), "SyncFromOldSystem");
}

#[test]
fn group_type_rules_for_live_groups() {
    let group = GroupId::new("@TGS#aLive").unwrap();
    let notification = SendGroupSystemNotificationRequest {
        group_id: group.clone(),
        to_members_account: Some(vec![user("a")]),
        content: "hello".into(),
        topic_id: None,
        extra: Extra::new(),
    };
    assert_eq!(notification.validate(), Ok(()));
    assert_eq!(notification.validate_for_group(&GroupType::Public), Ok(()));
    let errors = notification.validate_for_group(&GroupType::AvChatRoom).expect_err("live group");
    assert_eq!(errors.first().field(), "ToMembers_Account");
    let to_all = SendGroupSystemNotificationRequest { to_members_account: None, ..notification };
    assert_eq!(to_all.validate_for_group(&GroupType::AvChatRoom), Ok(()));
    // A topic is only for a Community (with topics), as for send_group_msg.
    let topic = SendGroupSystemNotificationRequest { topic_id: Some("@TGS#_@TGS#cTopic".into()), ..to_all.clone() };
    assert_eq!(topic.validate_for_group(&GroupType::Community), Ok(()));
    let errors = topic.validate_for_group(&GroupType::Public).expect_err("not a community");
    assert_eq!(errors.first().field(), "TopicId");

    let mut message = SendGroupMsgRequest::new(group, MsgBody::text("x"));
    message.random = Some(1);
    message.online_only_flag = Some(1);
    message.to_account = Some(vec![user("a")]);
    let errors = message.validate_for_group(&GroupType::AvChatRoom).expect_err("live group");
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field()).collect();
    assert_eq!(fields, ["OnlineOnlyFlag", "To_Account"]);
    assert_eq!(message.validate_for_group(&GroupType::Work), Ok(()));

    let mut create = CreateGroupRequest::new(GroupType::AvChatRoom, "live");
    create.member_list = Some(vec![tim_model::group::NewMember {
        member_account: user("a"),
        role: Some("Owner".into()),
        app_member_defined_data: None,
    }]);
    let fields: Vec<String> = errors_of(&create);
    assert_eq!(fields, ["MemberList", "MemberList[0].Role"]);
}

fn errors_of<T: Validate>(value: &T) -> Vec<String> {
    errors_in(value).errors().iter().map(|e| e.field().to_owned()).collect()
}

#[test]
fn group_imports_take_seven_basic_messages_in_time_order() {
    let item = |time: i64, body: Value| json!({"From_Account": "a", "SendTime": time, "MsgBody": body});
    let text = json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]);
    let image = json!([{"MsgType": "TIMImageElem", "MsgContent": {"UUID": "u", "ImageFormat": 1,
        "ImageInfoArray": [{"Type": 1, "Size": 1, "Width": 1, "Height": 1, "URL": "https://example.invalid/i"}]}}]);
    let request = json!({"GroupId": "g", "MsgList": [item(2, text.clone()), item(1, text.clone()), item(3, image)]});
    let request: ImportGroupMsgRequest = serde_json::from_value(request).unwrap();
    assert_eq!(errors_of(&request), ["MsgList[1].SendTime", "MsgList[2].MsgBody[0].MsgType"]);
    let many: Vec<Value> = (0..8).map(|i| item(i, text.clone())).collect();
    let request: ImportGroupMsgRequest = serde_json::from_value(json!({"GroupId": "g", "MsgList": many})).unwrap();
    assert_eq!(errors_in(&request).first().problem(), &Problem::TooMany { max: 7, actual: 8 });
    assert_eq!(
        request.validate_for_group(&GroupType::AvChatRoom).map_err(|e| e.first().field().to_owned()),
        Err("GroupId".into())
    );
}

#[test]
fn push_conditions_are_tags_or_attributes_within_limits() {
    let base = json!({"MsgRandom": 1, "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]});
    let with = |condition: Value| {
        let mut value = base.clone();
        value["Condition"] = condition;
        serde_json::from_value::<ImPushRequest>(value).unwrap()
    };
    assert_eq!(with(json!({"TagsOr": ["a"], "TagsAnd": ["b"]})).validate(), Ok(()));
    assert_eq!(errors_of(&with(json!({"TagsOr": ["a"], "AttrsOr": {"k": "v"}}))), ["Condition"]);
    assert_eq!(errors_of(&with(json!({"TagsOr": ["a"], "TagsAnd": ["a"]}))), ["Condition.TagsAnd"]);
    assert_eq!(
        errors_of(&with(json!({"TagsOr": ["", "x".repeat(51)]}))),
        ["Condition.TagsOr[0]", "Condition.TagsOr[1]"]
    );
    let eleven: Vec<String> = (0..11).map(|i| i.to_string()).collect();
    assert_eq!(errors_of(&with(json!({"TagsAnd": eleven}))), ["Condition.TagsAnd"]);
}

#[test]
fn member_paging_depends_on_the_group_type() {
    let request: GetGroupMemberInfoRequest =
        serde_json::from_value(json!({"GroupId": "g", "Limit": 100, "Offset": 0})).unwrap();
    assert_eq!(request.validate(), Ok(()));
    assert!(request.validate_for_group(&GroupType::Public).is_ok());
    assert_eq!(
        request.validate_for_group(&GroupType::Community).map_err(|e| e.first().field().to_owned()),
        Err("Offset".into())
    );
    let too_big: GetGroupMemberInfoRequest = serde_json::from_value(json!({"GroupId": "g", "Limit": 101})).unwrap();
    assert_eq!(errors_of(&too_big), ["Limit"]);
}

#[test]
fn offline_push_switches_are_checked_with_their_paths() {
    let mut request = batch(vec![user("a")], "hi");
    request.offline_push_info = Some(
        decode(br#"{"PushFlag": 2, "Title": "t", "ApnsInfo": {"BadgeMode": 3}}"#)
            .expect("decodes: ranges are checked later"),
    );
    let errors = errors_in(&request);
    let fields: Vec<&str> = errors.errors().iter().map(|error| error.field()).collect();
    assert_eq!(fields, ["OfflinePushInfo.PushFlag", "OfflinePushInfo.ApnsInfo.BadgeMode"]);
    request.offline_push_info = Some(decode(br#"{"PushFlag": 1, "ApnsInfo": {"BadgeMode": 1}}"#).unwrap());
    assert_eq!(request.validate(), Ok(()));
}

#[test]
fn profile_values_are_checked_against_their_tags_with_field_paths() {
    use tim_model::profile::{PortraitSetRequest, ProfileItem};
    let request = PortraitSetRequest {
        from_account: tim_model::UserId::new("id1").unwrap(),
        profile_item: vec![
            ProfileItem::new("Tag_Profile_IM_Nick", "fine"),
            ProfileItem::new("Tag_Profile_IM_Gender", "Male"),
            ProfileItem::new("Tag_Profile_IM_BirthDay", "20190419"),
            ProfileItem::new("Tag_Profile_Custom_NineLetter", "x"),
        ],
        extra: tim_model::Extra::new(),
    };
    let errors = request.validate().unwrap_err();
    let fields: Vec<&str> = errors.errors().iter().map(|e| e.field()).collect();
    assert_eq!(fields, ["ProfileItem[1].Value", "ProfileItem[2].Value", "ProfileItem[3].Tag"]);
}

#[test]
fn online_status_accepts_the_older_state_spelling() {
    use tim_model::account::QueryOnlineStatusResult;
    let body: tim_model::envelope::Response<QueryOnlineStatusResult> = tim_model::api::decode(
        br#"{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","QueryResult":[{"To_Account":"a","State":"Online"}]}"#,
    )
    .unwrap();
    let result = body.body.query_result.unwrap();
    assert_eq!(result[0].status, "Online");
}

#[test]
fn kick_takes_the_older_field_name_and_a_mute_needs_one_of_its_times() {
    use tim_model::account::KickRequest;
    use tim_model::global_mute::SetNoSpeakingRequest;
    let old: KickRequest = tim_model::api::decode_request(br#"{"Identifier":"test"}"#).unwrap();
    assert_eq!(old.user_id.as_str(), "test");
    assert_eq!(serde_json::to_value(&old).unwrap(), json!({"UserID": "test"}), "written with today's name");
    let neither: SetNoSpeakingRequest = tim_model::api::decode(br#"{"Set_Account":"a"}"#).unwrap();
    assert_eq!(errors_of(&neither), ["C2CmsgNospeakingTime"]);
    let one: SetNoSpeakingRequest =
        tim_model::api::decode(br#"{"Set_Account":"a","GroupmsgNospeakingTime":0}"#).unwrap();
    assert_eq!(one.validate(), Ok(()));
    // A time is a u32: 4294967295 (for ever) is the largest.
    let too_long =
        tim_model::api::decode::<SetNoSpeakingRequest>(br#"{"Set_Account":"a","C2CmsgNospeakingTime":4294967296}"#);
    assert!(too_long.is_err());
}
