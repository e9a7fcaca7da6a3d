//! Tests of the conversions: every request to its REST JSON, every answer from Tencent's samples, element
//! round trips, error paths in both forms, and fan-out events.

use super::elem::{element_to_pb, elements_from_pb};
use super::{
    FromModel, IntoModel, failure_batch, fanout_message_path, fanout_progress, fanout_report_events, message_for_fanout,
};
use crate::pb;
use crate::pb::android_info::VivoClassification;
use crate::pb::fanout_event::Kind;
use crate::pb::msg_element::Elem;
use proptest::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use tim_model::api::TypedRequest;
use tim_model::validate::Validate;
use tim_model::{MsgElement, Problem, ValidationErrors};

/// A fixture of `tim-model`, decoded into the type the context asks for.
macro_rules! fixture {
    ($path:literal) => {
        serde_json::from_str(include_str!(concat!("../../../tim-model/tests/fixtures/", $path)))
            .expect(concat!("fixture ", $path))
    };
}

/// An owned string.
fn s(text: &str) -> String {
    text.to_owned()
}

/// An optional string that is set.
fn some(text: &str) -> Option<String> {
    Some(text.to_owned())
}

/// Owned strings.
fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| s(text)).collect()
}

/// An element of the given kind.
fn element(elem: Elem) -> pb::MsgElement {
    pb::MsgElement { elem: Some(elem) }
}

/// A text element.
fn text(text: &str) -> pb::MsgElement {
    pb::MsgElement::text(text)
}

/// An element given as REST JSON.
fn unknown(json: &str) -> pb::MsgElement {
    element(Elem::UnknownJson(s(json)))
}

/// The REST JSON of a model value.
fn rest_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).expect("model requests serialize")
}

/// Converts `request` and checks its REST JSON.
fn assert_rest<R: IntoModel>(request: R, expected: Value) -> R::Model {
    let model = request.into_model().unwrap_or_else(|errors| panic!("conversion failed: {errors}"));
    assert_eq!(rest_json(&model), expected);
    model
}

/// The fields of each error, as REST paths and as this API's paths.
fn paths<R: IntoModel>(request: &R, errors: &ValidationErrors) -> Vec<(String, String)> {
    errors.errors().iter().map(|error| (error.field().to_owned(), request.proto_path(error.field()))).collect()
}

/// Expected (REST path, proto path) pairs.
fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(rest, proto)| (s(rest), s(proto))).collect()
}

/// One element of every kind, every field set (a relay holding nested elements, and an unknown kind).
fn every_element() -> Vec<pb::MsgElement> {
    vec![
        text("hello world"),
        element(Elem::Location(pb::LocationElem {
            desc: s("someinfo"),
            latitude: 29.340656774469956,
            longitude: 116.77497920478824,
        })),
        element(Elem::Face(pb::FaceElem { index: 1, data: some("content") })),
        element(Elem::Custom(pb::CustomElem {
            data: s("message"),
            desc: some("notification"),
            ext: some("url"),
            sound: some("dingdong.aiff"),
        })),
        element(Elem::Sound(pb::SoundElem {
            url: some("https://example.invalid/a.silk"),
            uuid: some("305c0201"),
            size: Some(62351),
            second: Some(1),
            download_flag: Some(2),
        })),
        element(Elem::Image(pb::ImageElem {
            uuid: some("1853095_D61040894AC3DE44CDFFFB3EC7EB720F"),
            image_format: Some(1),
            image_info_array: vec![
                pb::ImageInfo {
                    r#type: 1,
                    size: 1853095,
                    width: 2448,
                    height: 3264,
                    url: s("https://example.invalid/a.jpg"),
                },
                pb::ImageInfo {
                    r#type: 3,
                    size: 12535,
                    width: 150,
                    height: 200,
                    url: s("https://example.invalid/c.jpg"),
                },
            ],
        })),
        element(Elem::File(pb::FileElem {
            url: some("https://example.invalid/f.txt"),
            uuid: some("5da3b1"),
            file_size: Some(1773552),
            file_name: some("f.txt"),
            download_flag: Some(2),
        })),
        element(Elem::VideoFile(pb::VideoFileElem {
            video_url: some("https://example.invalid/v.mp4"),
            video_uuid: some("5da38ba89d6521136e6cc92e"),
            video_size: Some(1194603),
            video_second: Some(5),
            video_format: some("mp4"),
            video_download_flag: Some(2),
            thumb_url: some("https://example.invalid/t.jpg"),
            thumb_uuid: some("6edaffedb"),
            thumb_size: Some(13907),
            thumb_width: Some(720),
            thumb_height: Some(1280),
            thumb_format: some("JPG"),
            thumb_download_flag: Some(2),
        })),
        element(Elem::Relay(pb::RelayElem {
            title: s("Chat history of A and B"),
            msg_num: 1,
            compatible_text: s("Please upgrade"),
            abstract_list: strings(&["A: hi", "B: hello"]),
            msg_list: vec![pb::RelayMsg {
                from_account: s("A"),
                to_account: some("B"),
                group_id: some("@TGS#2J4SZEAEL"),
                msg_seq: 1,
                msg_random: 4294967295,
                msg_time_stamp: 1668400000,
                msg_body: vec![text("hi"), unknown(r#"{"MsgContent":{"X":1},"MsgType":"TIMNestedElem"}"#)],
                cloud_custom_data: some("cd"),
            }],
            json_msg_key: some("relay-key"),
        })),
        unknown(r#"{"Elsewhere":"kept","MsgContent":{"Anything":[1,2,{"nested":true}]},"MsgType":"TIMFutureElem"}"#),
    ]
}

/// The REST JSON of [`every_element`].
fn every_element_json() -> Value {
    json!([
        {"MsgType": "TIMTextElem", "MsgContent": {"Text": "hello world"}},
        {"MsgType": "TIMLocationElem", "MsgContent": {
            "Desc": "someinfo", "Latitude": 29.340656774469956, "Longitude": 116.77497920478824}},
        {"MsgType": "TIMFaceElem", "MsgContent": {"Index": 1, "Data": "content"}},
        {"MsgType": "TIMCustomElem", "MsgContent": {
            "Data": "message", "Desc": "notification", "Ext": "url", "Sound": "dingdong.aiff"}},
        {"MsgType": "TIMSoundElem", "MsgContent": {
            "Url": "https://example.invalid/a.silk", "UUID": "305c0201", "Size": 62351, "Second": 1,
            "Download_Flag": 2}},
        {"MsgType": "TIMImageElem", "MsgContent": {
            "UUID": "1853095_D61040894AC3DE44CDFFFB3EC7EB720F", "ImageFormat": 1,
            "ImageInfoArray": [
                {"Type": 1, "Size": 1853095, "Width": 2448, "Height": 3264, "URL": "https://example.invalid/a.jpg"},
                {"Type": 3, "Size": 12535, "Width": 150, "Height": 200, "URL": "https://example.invalid/c.jpg"}
            ]}},
        {"MsgType": "TIMFileElem", "MsgContent": {
            "Url": "https://example.invalid/f.txt", "UUID": "5da3b1", "FileSize": 1773552, "FileName": "f.txt",
            "Download_Flag": 2}},
        {"MsgType": "TIMVideoFileElem", "MsgContent": {
            "VideoUrl": "https://example.invalid/v.mp4", "VideoUUID": "5da38ba89d6521136e6cc92e",
            "VideoSize": 1194603, "VideoSecond": 5, "VideoFormat": "mp4", "VideoDownloadFlag": 2,
            "ThumbUrl": "https://example.invalid/t.jpg", "ThumbUUID": "6edaffedb", "ThumbSize": 13907,
            "ThumbWidth": 720, "ThumbHeight": 1280, "ThumbFormat": "JPG", "ThumbDownloadFlag": 2}},
        {"MsgType": "TIMRelayElem", "MsgContent": {
            "Title": "Chat history of A and B", "MsgNum": 1, "CompatibleText": "Please upgrade",
            "AbstractList": ["A: hi", "B: hello"],
            "MsgList": [{
                "From_Account": "A", "To_Account": "B", "GroupId": "@TGS#2J4SZEAEL", "MsgSeq": 1,
                "MsgRandom": 4294967295u32, "MsgTimeStamp": 1668400000,
                "MsgBody": [
                    {"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}},
                    {"MsgType": "TIMNestedElem", "MsgContent": {"X": 1}}
                ],
                "CloudCustomData": "cd"
            }],
            "JsonMsgKey": "relay-key"}},
        {"MsgType": "TIMFutureElem", "MsgContent": {"Anything": [1, 2, {"nested": true}]}, "Elsewhere": "kept"}
    ])
}

/// A short body with a custom element (at most one per body).
fn short_body() -> Vec<pb::MsgElement> {
    vec![text("hi"), element(Elem::Custom(pb::CustomElem { data: s("{}"), desc: None, ext: None, sound: None }))]
}

/// The REST JSON of [`short_body`].
fn short_body_json() -> Value {
    json!([
        {"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}},
        {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{}"}}
    ])
}

/// `OfflinePushInfo` with every field set.
fn offline_push() -> pb::OfflinePushInfo {
    pb::OfflinePushInfo {
        push_flag: Some(0),
        title: some("title"),
        desc: some("desc"),
        ext: some("{\"entity\":1}"),
        android_info: Some(pb::AndroidInfo {
            sound: some("android.mp3"),
            huawei_channel_id: some("hw-channel"),
            xiaomi_channel_id: some("mi-channel"),
            oppo_channel_id: some("oppo-channel"),
            google_channel_id: some("fcm-channel"),
            vivo_classification: Some(VivoClassification::VivoClassificationText(s("1"))),
            huawei_importance: some("NORMAL"),
            ext_as_huawei_intent_param: Some(1),
            huawei_category: some("IM"),
            vivo_category: some("IM"),
            push_style: Some(1),
            huawei_image: some("https://example.invalid/hw.png"),
            honor_image: some("https://example.invalid/honor.png"),
            google_image: some("https://example.invalid/google.png"),
            honor_importance: some("LOW"),
        }),
        apns_info: Some(pb::ApnsInfo {
            sound: some("apns.mp3"),
            badge_mode: Some(1),
            title: some("apns title"),
            sub_title: some("apns subtitle"),
            image: some("https://example.invalid/apns.png"),
            mutable_content: Some(1),
            interruption_level: some("time-sensitive"),
            content_available: Some(1),
        }),
    }
}

/// The REST JSON of [`offline_push`].
fn offline_push_json() -> Value {
    json!({
        "PushFlag": 0,
        "Title": "title",
        "Desc": "desc",
        "Ext": "{\"entity\":1}",
        "AndroidInfo": {
            "Sound": "android.mp3",
            "HuaWeiChannelID": "hw-channel",
            "XiaoMiChannelID": "mi-channel",
            "OPPOChannelID": "oppo-channel",
            "GoogleChannelID": "fcm-channel",
            "VIVOClassification": "1",
            "HuaWeiImportance": "NORMAL",
            "ExtAsHuaweiIntentParam": 1,
            "HuaWeiCategory": "IM",
            "VIVOCategory": "IM",
            "PushStyle": 1,
            "HuaWeiImage": "https://example.invalid/hw.png",
            "HonorImage": "https://example.invalid/honor.png",
            "GoogleImage": "https://example.invalid/google.png",
            "HonorImportance": "LOW"
        },
        "ApnsInfo": {
            "Sound": "apns.mp3",
            "BadgeMode": 1,
            "Title": "apns title",
            "SubTitle": "apns subtitle",
            "Image": "https://example.invalid/apns.png",
            "MutableContent": 1,
            "InterruptionLevel": "time-sensitive",
            "ContentAvailable": 1
        }
    })
}

/// A sendmsg request with every field set.
fn send_msg() -> pb::SendMsgRequest {
    pb::SendMsgRequest {
        sync_other_machine: Some(1),
        from_account: some("alice"),
        to_account: s("bob"),
        msg_life_time: Some(604800),
        msg_seq: Some(93847636),
        msg_random: Some(1287657),
        msg_time_stamp: Some(1557387418),
        online_only_flag: Some(0),
        forbid_callback_control: strings(&["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"]),
        send_msg_control: strings(&["NoUnread", "NoLastMsg", "WithMuteNotifications", "NoMsgCheck", "FutureControl"]),
        msg_body: every_element(),
        cloud_custom_data: some("your cloud custom data"),
        support_message_extension: Some(1),
        offline_push_info: Some(offline_push()),
        is_need_read_receipt: Some(1),
    }
}

/// A batchsendmsg request with every field set.
fn batch_send_msg() -> pb::BatchSendMsgRequest {
    pb::BatchSendMsgRequest {
        sync_other_machine: Some(2),
        from_account: some("alice"),
        to_account: strings(&["bob", "carol"]),
        msg_seq: Some(28460),
        msg_random: Some(19901224),
        msg_body: short_body(),
        msg_life_time: Some(0),
        cloud_custom_data: some("ccd"),
        send_msg_control: strings(&["NoUnread"]),
        offline_push_info: Some(offline_push()),
        is_need_read_receipt: Some(0),
        online_only_flag: Some(1),
    }
}

// Requests: proto with every field set → model → Tencent's REST JSON.

#[test]
fn send_msg_with_every_field_becomes_its_rest_json() {
    assert_rest(
        send_msg(),
        json!({
            "SyncOtherMachine": 1,
            "From_Account": "alice",
            "To_Account": "bob",
            "MsgLifeTime": 604800,
            "MsgSeq": 93847636,
            "MsgRandom": 1287657,
            "MsgTimeStamp": 1557387418,
            "OnlineOnlyFlag": 0,
            "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
            "SendMsgControl": ["NoUnread", "NoLastMsg", "WithMuteNotifications", "NoMsgCheck", "FutureControl"],
            "MsgBody": every_element_json(),
            "CloudCustomData": "your cloud custom data",
            "SupportMessageExtension": 1,
            "OfflinePushInfo": offline_push_json(),
            "IsNeedReadReceipt": 1
        }),
    );
}

#[test]
fn send_msg_leaves_out_what_is_unset() {
    let request = pb::SendMsgRequest { to_account: s("bob"), msg_body: vec![text("hi")], ..Default::default() };
    let model = assert_rest(
        request,
        json!({"To_Account": "bob", "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "hi"}}]}),
    );
    assert_eq!(model.msg_random, None, "the conversion does not draw dedupe keys");
    assert!(model.extra.is_empty());
}

#[test]
fn a_vivo_classification_number_stays_a_number() {
    let mut request = send_msg();
    let push = request.offline_push_info.as_mut().and_then(|push| push.android_info.as_mut()).unwrap();
    push.vivo_classification = Some(VivoClassification::VivoClassificationNumber(0));
    let model = request.into_model().unwrap();
    assert_eq!(rest_json(&model)["OfflinePushInfo"]["AndroidInfo"]["VIVOClassification"], json!(0));
}

#[test]
fn batch_send_msg_with_every_field_becomes_its_rest_json() {
    assert_rest(
        batch_send_msg(),
        json!({
            "SyncOtherMachine": 2,
            "From_Account": "alice",
            "To_Account": ["bob", "carol"],
            "MsgSeq": 28460,
            "MsgRandom": 19901224,
            "MsgBody": short_body_json(),
            "MsgLifeTime": 0,
            "OnlineOnlyFlag": 1,
            "CloudCustomData": "ccd",
            "SendMsgControl": ["NoUnread"],
            "OfflinePushInfo": offline_push_json(),
            "IsNeedReadReceipt": 0
        }),
    );
}

#[test]
fn import_msg_with_every_field_becomes_its_rest_json() {
    let request = pb::ImportMsgRequest {
        sync_from_old_system: 2,
        from_account: s("alice"),
        to_account: s("bob"),
        msg_seq: Some(93847636),
        msg_random: Some(1287657),
        msg_time_stamp: 1557387418,
        msg_body: short_body(),
        cloud_custom_data: some("ccd"),
    };
    assert_rest(
        request,
        json!({
            "SyncFromOldSystem": 2,
            "From_Account": "alice",
            "To_Account": "bob",
            "MsgSeq": 93847636,
            "MsgRandom": 1287657,
            "MsgTimeStamp": 1557387418,
            "MsgBody": short_body_json(),
            "CloudCustomData": "ccd"
        }),
    );
}

#[test]
fn admin_msg_withdraw_becomes_its_rest_json() {
    let request = pb::AdminMsgWithdrawRequest {
        from_account: s("alice"),
        to_account: s("bob"),
        msg_key: s("31906_833502_1572869830"),
    };
    assert_rest(request, json!({"From_Account": "alice", "To_Account": "bob", "MsgKey": "31906_833502_1572869830"}));
}

#[test]
fn admin_get_roam_msg_with_every_field_becomes_its_rest_json() {
    let request = pb::AdminGetRoamMsgRequest {
        operator_account: s("alice"),
        peer_account: s("bob"),
        max_cnt: 100,
        min_time: 1584669600,
        max_time: 1584673200,
        last_msg_key: some("549396494_2578554_1584669680"),
    };
    assert_rest(
        request,
        json!({
            "Operator_Account": "alice",
            "Peer_Account": "bob",
            "MaxCnt": 100,
            "MinTime": 1584669600,
            "MaxTime": 1584673200,
            "LastMsgKey": "549396494_2578554_1584669680"
        }),
    );
}

#[test]
fn send_group_msg_with_every_field_becomes_its_rest_json() {
    let request = pb::SendGroupMsgRequest {
        group_id: s("@TGS#2C5SZEAEF"),
        random: Some(8912345),
        msg_priority: some("High"),
        msg_body: short_body(),
        from_account: some("alice"),
        offline_push_info: Some(offline_push()),
        forbid_callback_control: strings(&["ForbidBeforeSendMsgCallback"]),
        online_only_flag: Some(0),
        send_msg_control: strings(&["NoLastMsg"]),
        cloud_custom_data: some("ccd"),
        support_message_extension: Some(0),
        to_account: strings(&["bob", "carol"]),
        topic_id: some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"),
        group_at_info: vec![
            pb::GroupAtInfo { group_at_all_flag: 1, group_at_account: None },
            pb::GroupAtInfo { group_at_all_flag: 0, group_at_account: some("bob") },
        ],
        need_read_receipt: Some(1),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2C5SZEAEF",
            "Random": 8912345,
            "MsgPriority": "High",
            "MsgBody": short_body_json(),
            "From_Account": "alice",
            "OfflinePushInfo": offline_push_json(),
            "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback"],
            "OnlineOnlyFlag": 0,
            "SendMsgControl": ["NoLastMsg"],
            "CloudCustomData": "ccd",
            "SupportMessageExtension": 0,
            "To_Account": ["bob", "carol"],
            "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic",
            "GroupAtInfo": [{"GroupAtAllFlag": 1}, {"GroupAtAllFlag": 0, "GroupAt_Account": "bob"}],
            "NeedReadReceipt": 1
        }),
    );
}

#[test]
fn send_group_system_notification_with_every_field_becomes_its_rest_json() {
    let request = pb::SendGroupSystemNotificationRequest {
        group_id: s("@TGS#2C5SZEAEF"),
        to_members_account: strings(&["peter", "leckie"]),
        content: s("Hey"),
        topic_id: some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2C5SZEAEF",
            "ToMembers_Account": ["peter", "leckie"],
            "Content": "Hey",
            "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"
        }),
    );
    // No recipients means every member: the field is left out.
    let everyone = pb::SendGroupSystemNotificationRequest { group_id: s("g"), content: s("Hey"), ..Default::default() };
    assert_rest(everyone, json!({"GroupId": "g", "Content": "Hey"}));
}

#[test]
fn send_broadcast_msg_with_every_field_becomes_its_rest_json() {
    let request = pb::SendBroadcastMsgRequest {
        from_account: some("admin"),
        random: Some(132132),
        msg_body: short_body(),
        cloud_custom_data: some("ccd"),
    };
    assert_rest(
        request,
        json!({"From_Account": "admin", "Random": 132132, "MsgBody": short_body_json(), "CloudCustomData": "ccd"}),
    );
}

#[test]
fn import_group_msg_with_every_field_becomes_its_rest_json() {
    let request = pb::ImportGroupMsgRequest {
        group_id: s("@TGS#2J4SZEAEL"),
        recent_contact_flag: Some(1),
        msg_list: vec![
            pb::ImportGroupMsgItem {
                from_account: s("leckie"),
                send_time: 1620808101,
                random: Some(8912345),
                msg_body: vec![text("first")],
            },
            pb::ImportGroupMsgItem {
                from_account: s("peter"),
                send_time: 1620892821,
                random: None,
                msg_body: short_body(),
            },
        ],
        topic_id: some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2J4SZEAEL",
            "RecentContactFlag": 1,
            "MsgList": [
                {"From_Account": "leckie", "SendTime": 1620808101, "Random": 8912345,
                 "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "first"}}]},
                {"From_Account": "peter", "SendTime": 1620892821, "MsgBody": short_body_json()}
            ],
            "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"
        }),
    );
}

#[test]
fn group_msg_recall_with_every_field_becomes_its_rest_json() {
    let request = pb::GroupMsgRecallRequest {
        group_id: s("@TGS#2J4SZEAEL"),
        msg_seq_list: vec![100, 101],
        topic_id: some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"),
        reason: some("by mistake"),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2J4SZEAEL",
            "MsgSeqList": [{"MsgSeq": 100}, {"MsgSeq": 101}],
            "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic",
            "Reason": "by mistake"
        }),
    );
}

#[test]
fn group_msg_get_simple_with_every_field_becomes_its_rest_json() {
    let request = pb::GroupMsgGetSimpleRequest {
        group_id: s("@TGS#2J4SZEAEL"),
        req_msg_number: 20,
        req_msg_seq: Some(7803321),
        with_recalled_msg: Some(1),
        topic_id: some("@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2J4SZEAEL",
            "ReqMsgNumber": 20,
            "ReqMsgSeq": 7803321,
            "WithRecalledMsg": 1,
            "TopicId": "@TGS#_@TGS#cQVLVHIM62CJ@TOPIC#_TestTopic"
        }),
    );
}

#[test]
fn im_push_with_every_field_becomes_its_rest_json() {
    let request = pb::ImPushRequest {
        from_account: some("admin"),
        msg_random: Some(56512),
        msg_body: short_body(),
        msg_life_time: Some(120),
        offline_push_info: Some(offline_push()),
        condition: Some(pb::PushCondition {
            attrs_or: HashMap::from([(s("sex"), s("male")), (s("city"), s("Shenzhen"))]),
            attrs_and: HashMap::from([(s("age"), s("20"))]),
            tags_or: strings(&["a", "b"]),
            tags_and: strings(&["c"]),
        }),
    };
    assert_rest(
        request,
        json!({
            "From_Account": "admin",
            "MsgRandom": 56512,
            "MsgBody": short_body_json(),
            "MsgLifeTime": 120,
            "OfflinePushInfo": offline_push_json(),
            "Condition": {
                "AttrsOr": {"sex": "male", "city": "Shenzhen"},
                "AttrsAnd": {"age": "20"},
                "TagsOr": ["a", "b"],
                "TagsAnd": ["c"]
            }
        }),
    );
    // An empty condition keeps none of its parts.
    let everyone = pb::ImPushRequest {
        msg_body: vec![text("hi")],
        condition: Some(pb::PushCondition::default()),
        ..Default::default()
    };
    let model = everyone.into_model().unwrap();
    assert_eq!(rest_json(&model)["Condition"], json!({}));
}

#[test]
fn account_import_with_every_field_becomes_its_rest_json() {
    let request =
        pb::AccountImportRequest { user_id: s("test"), nick: some("test"), face_url: some("http://www.qq.com") };
    assert_rest(request, json!({"UserID": "test", "Nick": "test", "FaceUrl": "http://www.qq.com"}));
}

#[test]
fn multi_account_import_with_every_field_becomes_its_rest_json() {
    let request = pb::MultiAccountImportRequest {
        accounts: strings(&["test1", "test2"]),
        account_list: vec![
            pb::AccountItem { user_id: s("test3"), nick: some("three"), face_url: some("https://example.invalid/3") },
            pb::AccountItem { user_id: s("test4"), nick: None, face_url: None },
        ],
    };
    assert_rest(
        request,
        json!({
            "Accounts": ["test1", "test2"],
            "AccountList": [
                {"UserID": "test3", "Nick": "three", "FaceUrl": "https://example.invalid/3"},
                {"UserID": "test4"}
            ]
        }),
    );
    // Neither form given: both are left out (the model's validation names the missing one).
    assert_rest(pb::MultiAccountImportRequest::default(), json!({}));
}

#[test]
fn account_check_becomes_its_rest_json() {
    let request = pb::AccountCheckRequest { user_ids: strings(&["UserID_1", "UserID_2"]) };
    assert_rest(request, json!({"CheckItem": [{"UserID": "UserID_1"}, {"UserID": "UserID_2"}]}));
}

#[test]
fn account_delete_becomes_its_rest_json() {
    let request = pb::AccountDeleteRequest { user_ids: strings(&["UserID_1", "UserID_2"]) };
    assert_rest(request, json!({"DeleteItem": [{"UserID": "UserID_1"}, {"UserID": "UserID_2"}]}));
}

#[test]
fn create_group_with_every_field_becomes_its_rest_json() {
    let request = pb::CreateGroupRequest {
        owner_account: some("leckie"),
        r#type: s("Public"),
        group_id: some("MyFirstGroup"),
        name: s("TestGroup"),
        introduction: some("This is group Introduction"),
        notification: some("This is group Notification"),
        face_url: some("http://this.is.face.url"),
        max_member_count: Some(500),
        apply_join_option: some("FreeAccess"),
        invite_join_option: some("DisableInvite"),
        app_defined_data: vec![pb::KeyValue { key: s("GroupTestData1"), value: s("xxxxx") }],
        member_list: vec![
            pb::NewMember {
                member_account: s("bob"),
                role: some("Admin"),
                app_member_defined_data: vec![pb::KeyValue { key: s("MemberDefined1"), value: s("1") }],
            },
            pb::NewMember { member_account: s("peter"), role: None, app_member_defined_data: vec![] },
        ],
        support_topic: Some(0),
    };
    assert_rest(
        request,
        json!({
            "Owner_Account": "leckie",
            "Type": "Public",
            "GroupId": "MyFirstGroup",
            "Name": "TestGroup",
            "Introduction": "This is group Introduction",
            "Notification": "This is group Notification",
            "FaceUrl": "http://this.is.face.url",
            "MaxMemberCount": 500,
            "ApplyJoinOption": "FreeAccess",
            "InviteJoinOption": "DisableInvite",
            "AppDefinedData": [{"Key": "GroupTestData1", "Value": "xxxxx"}],
            "MemberList": [
                {"Member_Account": "bob", "Role": "Admin",
                 "AppMemberDefinedData": [{"Key": "MemberDefined1", "Value": "1"}]},
                {"Member_Account": "peter"}
            ],
            "SupportTopic": 0
        }),
    );
}

#[test]
fn create_group_keeps_group_types_it_does_not_know() {
    let request = pb::CreateGroupRequest { r#type: s("FutureRoom"), name: s("n"), ..Default::default() };
    let model = assert_rest(request, json!({"Type": "FutureRoom", "Name": "n"}));
    assert_eq!(model.group_type, tim_model::group::GroupType::Other(s("FutureRoom")));
}

#[test]
fn destroy_group_becomes_its_rest_json() {
    assert_rest(pb::DestroyGroupRequest { group_id: s("@TGS#2J4SZEAEL") }, json!({"GroupId": "@TGS#2J4SZEAEL"}));
}

#[test]
fn add_group_member_with_every_field_becomes_its_rest_json() {
    let request = pb::AddGroupMemberRequest {
        group_id: s("@TGS#2J4SZEAEL"),
        silence: Some(1),
        member_accounts: strings(&["tommy", "jared"]),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2J4SZEAEL",
            "Silence": 1,
            "MemberList": [{"Member_Account": "tommy"}, {"Member_Account": "jared"}]
        }),
    );
}

#[test]
fn delete_group_member_with_every_field_becomes_its_rest_json() {
    let request = pb::DeleteGroupMemberRequest {
        group_id: s("@TGS#2J4SZEAEL"),
        silence: Some(1),
        reason: some("kick reason"),
        member_to_del_account: strings(&["tommy", "jared"]),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#2J4SZEAEL",
            "Silence": 1,
            "Reason": "kick reason",
            "MemberToDel_Account": ["tommy", "jared"]
        }),
    );
}

#[test]
fn get_group_info_with_every_field_becomes_its_rest_json() {
    let request = pb::GetGroupInfoRequest {
        group_id_list: strings(&["@TGS#1NVTZEAE4", "@TGS#1CXTZEAET"]),
        response_filter: Some(pb::ResponseFilter {
            group_base_info_filter: strings(&["Type", "Name"]),
            member_info_filter: strings(&["Role"]),
            app_defined_data_filter_group: strings(&["GroupTestData1"]),
            app_defined_data_filter_group_member: strings(&["MemberDefined2"]),
        }),
    };
    assert_rest(
        request,
        json!({
            "GroupIdList": ["@TGS#1NVTZEAE4", "@TGS#1CXTZEAET"],
            "ResponseFilter": {
                "GroupBaseInfoFilter": ["Type", "Name"],
                "MemberInfoFilter": ["Role"],
                "AppDefinedDataFilter_Group": ["GroupTestData1"],
                "AppDefinedDataFilter_GroupMember": ["MemberDefined2"]
            }
        }),
    );
}

#[test]
fn get_group_member_info_with_every_field_becomes_its_rest_json() {
    let request = pb::GetGroupMemberInfoRequest {
        group_id: s("@TGS#_@TGS#cQVLVHIM62CJ"),
        member_info_filter: strings(&["Role", "JoinTime"]),
        member_role_filter: strings(&["Owner", "Member"]),
        app_defined_data_filter_group_member: strings(&["MemberDefined2"]),
        limit: Some(100),
        offset: Some(0),
        next: some(""),
    };
    assert_rest(
        request,
        json!({
            "GroupId": "@TGS#_@TGS#cQVLVHIM62CJ",
            "MemberInfoFilter": ["Role", "JoinTime"],
            "MemberRoleFilter": ["Owner", "Member"],
            "AppDefinedDataFilter_GroupMember": ["MemberDefined2"],
            "Limit": 100,
            "Offset": 0,
            "Next": ""
        }),
    );
}

// Answers: Tencent's samples, decoded by the model, become proto answers.

/// The model request of `request`, with its dedupe keys pinned as the client does before sending.
fn sent<R: IntoModel>(request: R, key: u32) -> R::Model {
    let mut model = request.into_model().unwrap();
    model.pin_dedupe_keys(&mut || key);
    model
}

#[test]
fn send_msg_answer_echoes_the_msg_random_sent() {
    let sent = sent(pb::SendMsgRequest { to_account: s("bob"), msg_body: vec![text("hi")], ..Default::default() }, 77);
    let response: <tim_model::c2c::SendMsgRequest as TypedRequest>::Response = fixture!("openim/sendmsg/response.json");
    let answer = pb::SendMsgResponse::from_model(response, sent.dedupe_key());
    assert_eq!(
        answer,
        pb::SendMsgResponse {
            msg_time: Some(1566889260),
            msg_key: some("48374_2837546_1557481126"),
            msg_random: 77,
            msg_id: some("144115233406643804-1557481126-2837546"),
        }
    );
}

#[test]
fn batch_send_msg_answer_lists_failed_recipients_and_echoes_the_msg_random() {
    let sent = sent(batch_send_msg(), 1);
    assert_eq!(sent.msg_random, Some(19901224), "a key the caller set is kept");
    let response = fixture!("openim/batchsendmsg/response_some_error.json");
    let answer = pb::BatchSendMsgResponse::from_model(response, sent.dedupe_key());
    assert_eq!(
        answer,
        pb::BatchSendMsgResponse {
            msg_key: some("1213_12313_1664761810"),
            error_list: vec![
                pb::RecipientError { to_account: s("rong"), error_code: 70107 },
                pb::RecipientError { to_account: s("ghost"), error_code: 70107 },
            ],
            msg_random: 19901224,
            msg_id: some("144115233406643804-1664761810-12313"),
        }
    );
    let all_delivered =
        pb::BatchSendMsgResponse::from_model(fixture!("openim/batchsendmsg/response.json"), sent.dedupe_key());
    assert!(all_delivered.error_list.is_empty());
}

#[test]
fn an_unpinned_key_is_echoed_as_zero() {
    let model = pb::SendBroadcastMsgRequest { msg_body: vec![text("hi")], ..Default::default() }.into_model().unwrap();
    let answer = pb::SendBroadcastMsgResponse::from_model(
        fixture!("group_open_http_svc/send_broadcast_msg/response.json"),
        model.dedupe_key(),
    );
    assert_eq!(answer, pb::SendBroadcastMsgResponse { msg_seq: Some(1), random: 0 });
}

#[test]
fn admin_get_roam_msg_answer_carries_the_history() {
    let sent = sent(
        pb::AdminGetRoamMsgRequest { operator_account: s("user1"), peer_account: s("user2"), ..Default::default() },
        0,
    );
    let answer =
        pb::AdminGetRoamMsgResponse::from_model(fixture!("openim/admin_getroammsg/response.json"), sent.dedupe_key());
    assert_eq!(
        answer,
        pb::AdminGetRoamMsgResponse {
            complete: Some(1),
            msg_cnt: Some(1),
            last_msg_time: Some(1584669680),
            last_msg_key: some("549396494_2578554_1584669680"),
            msg_list: vec![pb::RoamMsg {
                from_account: s("user1"),
                to_account: s("user2"),
                msg_seq: 549396494,
                msg_random: 2578554,
                msg_time_stamp: 1584669680,
                msg_flag_bits: Some(0),
                is_peer_read: Some(0),
                msg_key: s("549396494_2578554_1584669680"),
                msg_body: vec![text("1")],
                cloud_custom_data: some("your cloud custom data"),
            }],
        }
    );
}

#[test]
fn send_group_msg_answer_carries_the_drop_reason_and_echoes_the_random() {
    let sent = sent(pb::SendGroupMsgRequest { group_id: s("g"), msg_body: vec![text("hi")], ..Default::default() }, 42);
    let answer = pb::SendGroupMsgResponse::from_model(
        fixture!("group_open_http_svc/send_group_msg/response_dropped.json"),
        sent.dedupe_key(),
    );
    assert_eq!(
        answer,
        pb::SendGroupMsgResponse {
            msg_time: Some(1497238162),
            msg_seq: Some(2),
            msg_drop_reason: some("MsgFreqCtrl"),
            random: 42
        }
    );
}

#[test]
fn im_push_answer_carries_the_task_and_echoes_the_msg_random() {
    let sent = sent(pb::ImPushRequest { msg_body: vec![text("hi")], ..Default::default() }, 9);
    let answer = pb::ImPushResponse::from_model(fixture!("all_member_push/im_push/response.json"), sent.dedupe_key());
    assert_eq!(
        answer,
        pb::ImPushResponse { task_id: some("1400123456_144115212910570789_4155518400_15723514"), msg_random: 9 }
    );
}

#[test]
fn group_message_answers_carry_their_lists() {
    let import = sent(
        pb::ImportGroupMsgRequest {
            group_id: s("g"),
            msg_list: vec![pb::ImportGroupMsgItem {
                from_account: s("a"),
                msg_body: vec![text("x")],
                ..Default::default()
            }],
            ..Default::default()
        },
        3,
    );
    assert_eq!(import.msg_list[0].random, Some(3));
    let answer = pb::ImportGroupMsgResponse::from_model(
        fixture!("group_open_http_svc/import_group_msg/response.json"),
        import.dedupe_key(),
    );
    assert_eq!(
        answer.import_msg_result,
        vec![
            pb::ImportMsgResult { msg_seq: 1, msg_time: 1620808101, result: 0 },
            pb::ImportMsgResult { msg_seq: 2, msg_time: 1620892821, result: 80002 },
        ]
    );

    let recall =
        sent(pb::GroupMsgRecallRequest { group_id: s("g"), msg_seq_list: vec![100, 101], ..Default::default() }, 0);
    let answer = pb::GroupMsgRecallResponse::from_model(
        fixture!("group_open_http_svc/group_msg_recall/response.json"),
        recall.dedupe_key(),
    );
    assert_eq!(
        answer.recall_ret_list,
        vec![pb::RecallRet { msg_seq: 100, ret_code: 10030 }, pb::RecallRet { msg_seq: 101, ret_code: 0 }]
    );

    let history = sent(pb::GroupMsgGetSimpleRequest { group_id: s("g"), req_msg_number: 2, ..Default::default() }, 0);
    let answer = pb::GroupMsgGetSimpleResponse::from_model(
        fixture!("group_open_http_svc/group_msg_get_simple/response.json"),
        history.dedupe_key(),
    );
    assert_eq!(answer.group_id, some("@TGS#15ERQPAER"));
    assert_eq!(answer.is_finished, Some(1));
    assert_eq!(answer.rsp_msg_list.len(), 2);
    let first = &answer.rsp_msg_list[0];
    assert_eq!(
        (first.from_account.as_str(), first.msg_seq, first.msg_random, first.msg_priority, first.is_place_msg),
        ("144115197276518801", 7803321, 51083293, Some(1), Some(0))
    );
    assert_eq!(
        first.msg_body,
        vec![
            element(Elem::Face(pb::FaceElem { index: 15, data: some("") })),
            element(Elem::Custom(pb::CustomElem {
                data: s("\u{8}\u{1}\u{10}\u{6}\u{1a}\u{6}test"),
                desc: None,
                ext: None,
                sound: None
            })),
        ]
    );
    assert_eq!(answer.rsp_msg_list[1].msg_body, vec![text("Report")]);
    assert_eq!(answer.rsp_msg_list[1].is_system_msg, Some(0));
}

#[test]
fn account_answers_carry_each_account() {
    let multi = sent(pb::MultiAccountImportRequest { accounts: strings(&["test3"]), ..Default::default() }, 0);
    let answer = pb::MultiAccountImportResponse::from_model(
        fixture!("im_open_login_svc/multiaccount_import/response.json"),
        multi.dedupe_key(),
    );
    assert_eq!(answer.fail_accounts, strings(&["test3", "test4"]));

    let check = sent(pb::AccountCheckRequest { user_ids: strings(&["UserID_1", "UserID_2"]) }, 0);
    let answer = pb::AccountCheckResponse::from_model(
        fixture!("im_open_login_svc/account_check/response.json"),
        check.dedupe_key(),
    );
    assert_eq!(
        answer.result_item,
        vec![
            pb::AccountResult {
                user_id: s("UserID_1"),
                result_code: 0,
                result_info: s(""),
                account_status: some("Imported")
            },
            pb::AccountResult {
                user_id: s("UserID_2"),
                result_code: 0,
                result_info: s(""),
                account_status: some("NotImported")
            },
        ]
    );

    let delete = sent(pb::AccountDeleteRequest { user_ids: strings(&["UserID_1", "UserID_2"]) }, 0);
    let answer = pb::AccountDeleteResponse::from_model(
        fixture!("im_open_login_svc/account_delete/response.json"),
        delete.dedupe_key(),
    );
    assert_eq!(answer.result_item[1].result_code, 70107);
    assert_eq!(answer.result_item[1].result_info, "Err_TLS_PT_Open_Login_Account_Not_Exist");
    assert_eq!(answer.result_item[1].account_status, None);
}

#[test]
fn group_answers_carry_groups_and_members() {
    let create = sent(pb::CreateGroupRequest { r#type: s("Public"), name: s("n"), ..Default::default() }, 0);
    let answer = pb::CreateGroupResponse::from_model(
        fixture!("group_open_http_svc/create_group/response.json"),
        create.dedupe_key(),
    );
    assert_eq!(answer.group_id, some("@TGS#2J4SZEAEL"));

    let add = sent(
        pb::AddGroupMemberRequest { group_id: s("g"), member_accounts: strings(&["tommy"]), ..Default::default() },
        0,
    );
    let answer = pb::AddGroupMemberResponse::from_model(
        fixture!("group_open_http_svc/add_group_member/response.json"),
        add.dedupe_key(),
    );
    assert_eq!(
        answer.member_list,
        vec![
            pb::MemberResult { member_account: s("tommy"), result: 1 },
            pb::MemberResult { member_account: s("jared"), result: 2 }
        ]
    );

    let info = sent(pb::GetGroupInfoRequest { group_id_list: strings(&["@TGS#2J4SZEAEL"]), ..Default::default() }, 0);
    let answer = pb::GetGroupInfoResponse::from_model(
        fixture!("group_open_http_svc/get_group_info/response.json"),
        info.dedupe_key(),
    );
    assert_eq!(answer.group_info.len(), 2);
    assert_eq!(
        answer.group_info[0],
        pb::GroupInfo {
            group_id: s("@TGS#2J4SZEAEL"),
            error_code: 0,
            error_info: some(""),
            r#type: some("Public"),
            name: some("MyFirstGroup"),
            appid: Some(1400001001),
            introduction: some("TestGroup"),
            notification: some("TestGroup"),
            face_url: some("http://this.is.face.url"),
            owner_account: some("leckie"),
            create_time: Some(1426976500),
            last_info_time: Some(1426976500),
            last_msg_time: Some(1426976600),
            next_msg_seq: Some(1234),
            member_num: Some(2),
            max_member_num: Some(50),
            apply_join_option: some("FreeAccess"),
            mute_all_member: some("On"),
            app_defined_data: vec![pb::KeyValue { key: s("GroupTestData1"), value: s("xxxx") }],
            member_list: vec![pb::MemberInfo {
                member_account: s("leckie"),
                role: some("Owner"),
                join_time: Some(1425976500),
                msg_seq: Some(1233),
                msg_flag: some("AcceptAndNotify"),
                last_send_msg_time: Some(1425976500),
                mute_until: Some(1431069882),
                name_card: None,
                app_member_defined_data: vec![pb::KeyValue { key: s("MemberDefined1"), value: s("ModifyDefined1") }],
            }],
        }
    );
    assert_eq!(
        (
            answer.group_info[1].error_code,
            answer.group_info[1].error_info.as_deref(),
            answer.group_info[1].r#type.as_deref()
        ),
        (10010, Some("this group does not exist"), None)
    );

    let members = sent(pb::GetGroupMemberInfoRequest { group_id: s("g"), ..Default::default() }, 0);
    let answer = pb::GetGroupMemberInfoResponse::from_model(
        fixture!("group_open_http_svc/get_group_member_info/response.json"),
        members.dedupe_key(),
    );
    assert_eq!(answer.member_num, Some(8));
    assert_eq!(answer.next, None);
    assert_eq!(
        answer.member_list.iter().map(|m| (m.member_account.as_str(), m.role.as_deref())).collect::<Vec<_>>(),
        vec![("Test_1", Some("Owner")), ("Test_6", Some("Admin"))]
    );
    assert_eq!(answer.member_list[0].name_card, some(""));
}

#[test]
fn answers_without_fields_convert() {
    let ok = || -> tim_model::envelope::EmptyResponse { fixture!("openim/importmsg/response.json") };
    let import = sent(
        pb::ImportMsgRequest {
            sync_from_old_system: 2,
            from_account: s("a"),
            to_account: s("b"),
            msg_body: vec![text("x")],
            ..Default::default()
        },
        5,
    );
    assert_eq!((import.msg_seq, import.msg_random), (Some(5), Some(5)));
    assert_eq!(pb::ImportMsgResponse::from_model(ok(), import.dedupe_key()), pb::ImportMsgResponse {});
    let withdraw = sent(pb::AdminMsgWithdrawRequest { from_account: s("a"), to_account: s("b"), msg_key: s("k") }, 0);
    assert_eq!(pb::AdminMsgWithdrawResponse::from_model(ok(), withdraw.dedupe_key()), pb::AdminMsgWithdrawResponse {});
    let notice =
        sent(pb::SendGroupSystemNotificationRequest { group_id: s("g"), content: s("c"), ..Default::default() }, 0);
    assert_eq!(
        pb::SendGroupSystemNotificationResponse::from_model(ok(), notice.dedupe_key()),
        pb::SendGroupSystemNotificationResponse {}
    );
    let account = sent(pb::AccountImportRequest { user_id: s("a"), ..Default::default() }, 0);
    assert_eq!(pb::AccountImportResponse::from_model(ok(), account.dedupe_key()), pb::AccountImportResponse {});
    let destroy = sent(pb::DestroyGroupRequest { group_id: s("g") }, 0);
    assert_eq!(pb::DestroyGroupResponse::from_model(ok(), destroy.dedupe_key()), pb::DestroyGroupResponse {});
    let delete = sent(
        pb::DeleteGroupMemberRequest { group_id: s("g"), member_to_del_account: strings(&["a"]), ..Default::default() },
        0,
    );
    assert_eq!(pb::DeleteGroupMemberResponse::from_model(ok(), delete.dedupe_key()), pb::DeleteGroupMemberResponse {});
}

// Elements: proto → model → proto gives the original.

/// An element converted to the model and back.
fn round_trip(original: &pb::MsgElement) -> pb::MsgElement {
    let mut errors = Vec::new();
    let model = elements_from_pb(vec![original.clone()], "MsgBody", &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    let mut model = model.unwrap();
    assert_eq!(model.len(), 1);
    element_to_pb(model.remove(0))
}

#[test]
fn every_element_kind_round_trips() {
    let elements = every_element();
    let kinds: Vec<&str> = elements.iter().map(|e| super::path::kind(e.elem.as_ref().unwrap())).collect();
    assert_eq!(
        kinds,
        ["text", "location", "face", "custom", "sound", "image", "file", "video_file", "relay", "unknown_json"]
    );
    for original in &elements {
        assert_eq!(&round_trip(original), original);
    }
}

#[test]
fn unset_optional_fields_stay_unset_through_a_round_trip() {
    let bare = [
        element(Elem::Sound(pb::SoundElem::default())),
        element(Elem::Image(pb::ImageElem::default())),
        element(Elem::File(pb::FileElem::default())),
        element(Elem::VideoFile(pb::VideoFileElem::default())),
        element(Elem::Relay(pb::RelayElem { json_msg_key: some("k"), ..Default::default() })),
        element(Elem::Face(pb::FaceElem { index: -1, data: None })),
    ];
    for original in &bare {
        assert_eq!(&round_trip(original), original);
    }
}

#[test]
fn unknown_elements_keep_their_json_and_known_kinds_written_as_json_are_understood() {
    let raw = r#"{"Elsewhere":"kept","MsgContent":{"Anything":[1,2,{"nested":true}]},"MsgType":"TIMFutureElem"}"#;
    let mut errors = Vec::new();
    let model = elements_from_pb(vec![unknown(raw)], "MsgBody", &mut errors).unwrap();
    let MsgElement::Unknown(kept) = &model[0] else { panic!("expected an unknown element, got {model:?}") };
    assert_eq!(Value::Object(kept.clone()), serde_json::from_str::<Value>(raw).unwrap());

    let known = elements_from_pb(
        vec![unknown(r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":"typed"}}"#)],
        "MsgBody",
        &mut errors,
    )
    .unwrap();
    assert_eq!(known, vec![MsgElement::text("typed")]);
    assert!(errors.is_empty());
}

#[test]
fn received_elements_of_unknown_kinds_arrive_as_json() {
    let tip: MsgElement = fixture!("elements/group_tip.json");
    let Elem::UnknownJson(json) = element_to_pb(tip.clone()).elem.unwrap() else { panic!("expected unknown_json") };
    let again: MsgElement = serde_json::from_str(&json).unwrap();
    assert_eq!(again, tip);
}

/// Any short optional string.
fn opt_text() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(".{0,12}")
}

/// Any element that is not a relay.
fn leaf_element() -> impl Strategy<Value = pb::MsgElement> {
    let image_info = (any::<u32>(), any::<u64>(), any::<u32>(), any::<u32>(), ".{0,12}")
        .prop_map(|(r#type, size, width, height, url)| pb::ImageInfo { r#type, size, width, height, url });
    let video = (
        (opt_text(), opt_text(), any::<Option<u64>>(), any::<Option<u64>>(), opt_text(), any::<Option<u32>>()),
        (opt_text(), opt_text(), any::<Option<u64>>(), any::<Option<u32>>(), any::<Option<u32>>(), opt_text()),
        any::<Option<u32>>(),
    )
        .prop_map(
            |(
                (video_url, video_uuid, video_size, video_second, video_format, video_download_flag),
                (thumb_url, thumb_uuid, thumb_size, thumb_width, thumb_height, thumb_format),
                thumb_download_flag,
            )| {
                Elem::VideoFile(pb::VideoFileElem {
                    video_url,
                    video_uuid,
                    video_size,
                    video_second,
                    video_format,
                    video_download_flag,
                    thumb_url,
                    thumb_uuid,
                    thumb_size,
                    thumb_width,
                    thumb_height,
                    thumb_format,
                    thumb_download_flag,
                })
            },
        );
    let unknown_kind = ("[A-Za-z]{1,8}", proptest::collection::btree_map("[A-Za-z]{1,6}", ".{0,8}", 0..4)).prop_map(
        |(name, content)| {
            let raw = json!({"MsgType": format!("TIMFuture{name}Elem"), "MsgContent": content});
            Elem::UnknownJson(raw.to_string())
        },
    );
    prop_oneof![
        ".{0,24}".prop_map(|text| Elem::Text(pb::TextElem { text })),
        (".{0,12}", -90.0..=90.0f64, -180.0..=180.0f64)
            .prop_map(|(desc, latitude, longitude)| Elem::Location(pb::LocationElem { desc, latitude, longitude })),
        (any::<i64>(), opt_text()).prop_map(|(index, data)| Elem::Face(pb::FaceElem { index, data })),
        (".{0,12}", opt_text(), opt_text(), opt_text())
            .prop_map(|(data, desc, ext, sound)| Elem::Custom(pb::CustomElem { data, desc, ext, sound })),
        (opt_text(), opt_text(), any::<Option<u64>>(), any::<Option<u64>>(), any::<Option<u32>>()).prop_map(
            |(url, uuid, size, second, download_flag)| Elem::Sound(pb::SoundElem {
                url,
                uuid,
                size,
                second,
                download_flag
            })
        ),
        (opt_text(), any::<Option<u32>>(), proptest::collection::vec(image_info, 0..4)).prop_map(
            |(uuid, image_format, image_info_array)| Elem::Image(pb::ImageElem {
                uuid,
                image_format,
                image_info_array
            })
        ),
        (opt_text(), opt_text(), any::<Option<u64>>(), opt_text(), any::<Option<u32>>()).prop_map(
            |(url, uuid, file_size, file_name, download_flag)| Elem::File(pb::FileElem {
                url,
                uuid,
                file_size,
                file_name,
                download_flag
            })
        ),
        video,
        unknown_kind,
    ]
    .prop_map(element)
}

/// Any element, relays holding leaf elements included.
fn any_element() -> impl Strategy<Value = pb::MsgElement> {
    let relay_msg = (
        ".{0,8}",
        opt_text(),
        opt_text(),
        any::<u32>(),
        any::<u32>(),
        any::<i64>(),
        proptest::collection::vec(leaf_element(), 0..3),
        opt_text(),
    )
        .prop_map(
            |(from_account, to_account, group_id, msg_seq, msg_random, msg_time_stamp, msg_body, cloud_custom_data)| {
                pb::RelayMsg {
                    from_account,
                    to_account,
                    group_id,
                    msg_seq,
                    msg_random,
                    msg_time_stamp,
                    msg_body,
                    cloud_custom_data,
                }
            },
        );
    let relay = (
        ".{0,12}",
        any::<u32>(),
        ".{0,12}",
        proptest::collection::vec(".{0,8}", 0..3),
        proptest::collection::vec(relay_msg, 0..3),
        opt_text(),
    )
        .prop_map(|(title, msg_num, compatible_text, abstract_list, msg_list, json_msg_key)| {
            element(Elem::Relay(pb::RelayElem {
                title,
                msg_num,
                compatible_text,
                abstract_list,
                msg_list,
                json_msg_key,
            }))
        });
    prop_oneof![3 => leaf_element(), 1 => relay]
}

proptest! {
    #[test]
    fn any_element_round_trips(original in any_element()) {
        prop_assert_eq!(round_trip(&original), original);
    }
}

// Errors: every broken field, at its REST path and at this API's path.

#[test]
fn an_invalid_recipient_is_named_in_both_forms() {
    let mut request = batch_send_msg();
    request.to_account = strings(&["bob", "carol", "", "dave"]);
    let errors = request.clone().into_model().unwrap_err();
    assert_eq!(paths(&request, &errors), pairs(&[("To_Account[2]", "to_account[2]")]));
    assert_eq!(errors.first().problem(), &Problem::Empty);
}

#[test]
fn an_empty_body_is_named_in_both_forms() {
    let request = pb::SendMsgRequest { to_account: s("bob"), ..Default::default() };
    let errors = request.clone().into_model().unwrap_err();
    assert_eq!(paths(&request, &errors), pairs(&[("MsgBody", "msg_body")]));
    assert_eq!(errors.first().to_string(), "MsgBody must not be empty");
}

#[test]
fn element_paths_name_the_kind_that_was_received() {
    let request = pb::SendMsgRequest { to_account: s("bob"), msg_body: every_element(), ..Default::default() };
    assert_eq!(request.proto_path("MsgBody[0].MsgContent.Text"), "msg_body[0].text.text");
    assert_eq!(request.proto_path("MsgBody[1].MsgContent.Latitude"), "msg_body[1].location.latitude");
    assert_eq!(request.proto_path("MsgBody[4].MsgContent.Download_Flag"), "msg_body[4].sound.download_flag");
    assert_eq!(
        request.proto_path("MsgBody[5].MsgContent.ImageInfoArray[1].URL"),
        "msg_body[5].image.image_info_array[1].url"
    );
    assert_eq!(request.proto_path("MsgBody[7].MsgContent.ThumbUUID"), "msg_body[7].video_file.thumb_uuid");
    assert_eq!(request.proto_path("MsgBody[8].MsgContent"), "msg_body[8].relay");
    assert_eq!(request.proto_path("MsgBody[8].MsgContent.MsgList"), "msg_body[8].relay.msg_list");
    assert_eq!(
        request.proto_path("MsgBody[8].MsgContent.MsgList[0].MsgBody[0].MsgContent.Text"),
        "msg_body[8].relay.msg_list[0].msg_body[0].text.text"
    );
    assert_eq!(request.proto_path("MsgBody[9].MsgContent.Anything"), "msg_body[9].unknown_json");
    assert_eq!(request.proto_path("MsgBody[2].MsgType"), "msg_body[2].face");
    assert_eq!(request.proto_path("MsgBody[2]"), "msg_body[2]");
    assert_eq!(request.proto_path("MsgBody"), "msg_body");
    assert_eq!(request.proto_path("MsgBody[12].MsgContent.Text"), "msg_body[12].msg_content.text");
    assert_eq!(request.proto_path(""), "");
    assert_eq!(
        request.proto_path("OfflinePushInfo.AndroidInfo.HuaWeiChannelID"),
        "offline_push_info.android_info.huawei_channel_id"
    );
    assert_eq!(
        request.proto_path("OfflinePushInfo.AndroidInfo.XiaoMiChannelID"),
        "offline_push_info.android_info.xiaomi_channel_id"
    );
    assert_eq!(
        request.proto_path("OfflinePushInfo.AndroidInfo.OPPOChannelID"),
        "offline_push_info.android_info.oppo_channel_id"
    );
    assert_eq!(request.proto_path("OfflinePushInfo.ApnsInfo.SubTitle"), "offline_push_info.apns_info.sub_title");
    assert_eq!(request.proto_path("MsgLifeTime"), "msg_life_time");
    assert_eq!(request.proto_path("IsNeedReadReceipt"), "is_need_read_receipt");
}

#[test]
fn validation_errors_of_the_model_map_to_proto_paths() {
    // A voice clip without its URL and with a bad download flag, and a location off the globe.
    let request = pb::SendMsgRequest {
        to_account: s("bob"),
        msg_random: Some(1),
        msg_life_time: Some(604801),
        msg_body: vec![
            text("ok"),
            element(Elem::Sound(pb::SoundElem { uuid: some("u"), download_flag: Some(1), ..Default::default() })),
            element(Elem::Location(pb::LocationElem { desc: s("d"), latitude: 91.0, longitude: 0.0 })),
        ],
        ..Default::default()
    };
    let errors = request.clone().into_model().unwrap().validate().unwrap_err();
    assert_eq!(
        paths(&request, &errors),
        pairs(&[
            ("MsgLifeTime", "msg_life_time"),
            ("MsgBody[1].MsgContent.Url", "msg_body[1].sound.url"),
            ("MsgBody[1].MsgContent.Download_Flag", "msg_body[1].sound.download_flag"),
            ("MsgBody[2].MsgContent.Latitude", "msg_body[2].location.latitude"),
        ])
    );
}

#[test]
fn every_conversion_error_is_reported_at_once() {
    let request = pb::SendMsgRequest {
        from_account: Some("x".repeat(33)),
        to_account: s(""),
        msg_body: vec![
            pb::MsgElement { elem: None },
            unknown(r#"{"MsgType":"TIMTextElem","MsgContent":{"Text":5}}"#),
            unknown("not json"),
            element(Elem::Relay(pb::RelayElem {
                msg_list: vec![pb::RelayMsg { msg_body: vec![text("fine"), unknown("[]")], ..Default::default() }],
                ..Default::default()
            })),
        ],
        ..Default::default()
    };
    let errors = request.clone().into_model().unwrap_err();
    assert_eq!(
        paths(&request, &errors),
        pairs(&[
            ("From_Account", "from_account"),
            ("To_Account", "to_account"),
            ("MsgBody[0]", "msg_body[0]"),
            ("MsgBody[1].MsgContent.Text", "msg_body[1].unknown_json"),
            ("MsgBody[2]", "msg_body[2].unknown_json"),
            ("MsgBody[3].MsgContent.MsgList[0].MsgBody[1]", "msg_body[3].relay.msg_list[0].msg_body[1].unknown_json"),
        ])
    );
    assert_eq!(errors.errors()[0].problem(), &Problem::TooLong { max: 32, actual: 33 });
    assert_eq!(errors.errors()[1].problem(), &Problem::Empty);
    assert!(matches!(errors.errors()[3].problem(), Problem::Malformed(_)), "{}", errors.errors()[3]);
}

#[test]
fn more_than_one_custom_element_is_refused_at_the_body() {
    let custom = || element(Elem::Custom(pb::CustomElem { data: s("d"), ..Default::default() }));
    let request = pb::SendBroadcastMsgRequest { msg_body: vec![custom(), custom()], ..Default::default() };
    let errors = request.clone().into_model().unwrap_err();
    assert_eq!(paths(&request, &errors), pairs(&[("MsgBody", "msg_body")]));
}

#[test]
fn flattened_lists_map_to_their_proto_entries() {
    let check = pb::AccountCheckRequest { user_ids: strings(&["a", "b", "", "d"]) };
    let errors = check.clone().into_model().unwrap_err();
    assert_eq!(paths(&check, &errors), pairs(&[("CheckItem[2].UserID", "user_ids[2]")]));
    assert_eq!(check.proto_path("CheckItem"), "user_ids");

    let delete = pb::AccountDeleteRequest { user_ids: strings(&["", "b"]) };
    let errors = delete.clone().into_model().unwrap_err();
    assert_eq!(paths(&delete, &errors), pairs(&[("DeleteItem[0].UserID", "user_ids[0]")]));

    let add = pb::AddGroupMemberRequest { group_id: s(""), silence: None, member_accounts: strings(&["a", ""]) };
    let errors = add.clone().into_model().unwrap_err();
    assert_eq!(
        paths(&add, &errors),
        pairs(&[("GroupId", "group_id"), ("MemberList[1].Member_Account", "member_accounts[1]")])
    );
    assert_eq!(add.proto_path("MemberList"), "member_accounts");

    let recall = pb::GroupMsgRecallRequest { group_id: s("g"), ..Default::default() };
    assert_eq!(recall.proto_path("MsgSeqList[0].MsgSeq"), "msg_seq_list[0]");
    let errors = recall.clone().into_model().unwrap().validate().unwrap_err();
    assert_eq!(paths(&recall, &errors), pairs(&[("MsgSeqList", "msg_seq_list")]));
}

#[test]
fn nested_lists_keep_their_structure() {
    let import = pb::ImportGroupMsgRequest {
        group_id: s("g"),
        msg_list: vec![
            pb::ImportGroupMsgItem { from_account: s(""), msg_body: vec![text("a")], ..Default::default() },
            pb::ImportGroupMsgItem { from_account: s("b"), msg_body: vec![], ..Default::default() },
        ],
        ..Default::default()
    };
    let errors = import.clone().into_model().unwrap_err();
    assert_eq!(
        paths(&import, &errors),
        pairs(&[
            ("MsgList[0].From_Account", "msg_list[0].from_account"),
            ("MsgList[1].MsgBody", "msg_list[1].msg_body")
        ])
    );
    assert_eq!(import.proto_path("MsgList[0].MsgBody[0].MsgContent.Text"), "msg_list[0].msg_body[0].text.text");
    assert_eq!(import.proto_path("MsgList[0].SendTime"), "msg_list[0].send_time");

    let create = pb::CreateGroupRequest {
        owner_account: some(""),
        name: s("n"),
        group_id: Some("g".repeat(49)),
        member_list: vec![pb::NewMember { member_account: s(""), ..Default::default() }],
        ..Default::default()
    };
    let errors = create.clone().into_model().unwrap_err();
    assert_eq!(
        paths(&create, &errors),
        pairs(&[
            ("Owner_Account", "owner_account"),
            ("Type", "type"),
            ("GroupId", "group_id"),
            ("MemberList[0].Member_Account", "member_list[0].member_account"),
        ])
    );

    let multi = pb::MultiAccountImportRequest {
        accounts: strings(&[""]),
        account_list: vec![pb::AccountItem { user_id: s(""), ..Default::default() }],
    };
    let errors = multi.clone().into_model().unwrap_err();
    assert_eq!(
        paths(&multi, &errors),
        pairs(&[("Accounts[0]", "accounts[0]"), ("AccountList[0].UserID", "account_list[0].user_id")])
    );

    let info = pb::GetGroupInfoRequest { group_id_list: strings(&["ok", ""]), response_filter: None };
    let errors = info.clone().into_model().unwrap_err();
    assert_eq!(paths(&info, &errors), pairs(&[("GroupIdList[1]", "group_id_list[1]")]));

    let notice = pb::SendGroupSystemNotificationRequest {
        group_id: s("g"),
        to_members_account: strings(&["", "b"]),
        ..Default::default()
    };
    let errors = notice.clone().into_model().unwrap_err();
    assert_eq!(paths(&notice, &errors), pairs(&[("ToMembers_Account[0]", "to_members_account[0]")]));

    let push = pb::ImPushRequest { msg_body: vec![text("x")], ..Default::default() };
    assert_eq!(push.proto_path("Condition.TagsOr[1]"), "condition.tags_or[1]");

    let group_msg = pb::SendGroupMsgRequest { group_id: s("g"), msg_body: vec![text("x")], ..Default::default() };
    assert_eq!(group_msg.proto_path("GroupAtInfo[0].GroupAt_Account"), "group_at_info[0].group_at_account");
}

// Fan-outs.

#[test]
fn a_fanout_message_has_no_recipients_and_paths_under_start_message() {
    let mut start = batch_send_msg();
    start.to_account = strings(&["", "not checked: the engine reads recipients from the stream"]);
    let message = message_for_fanout(start.clone()).unwrap();
    assert!(message.to_account.is_empty());
    let mut expected = rest_json(&batch_send_msg().into_model().unwrap());
    expected["To_Account"] = json!([]);
    assert_eq!(rest_json(&message), expected);

    assert_eq!(fanout_message_path(&start, "MsgBody[0].MsgContent.Text"), "start.message.msg_body[0].text.text");
    assert_eq!(fanout_message_path(&start, ""), "start.message");

    let broken = pb::BatchSendMsgRequest { from_account: some(""), ..Default::default() };
    let errors = message_for_fanout(broken.clone()).unwrap_err();
    let mapped: Vec<String> = errors.errors().iter().map(|e| fanout_message_path(&broken, e.field())).collect();
    assert_eq!(mapped, ["start.message.from_account", "start.message.msg_body"]);
}

/// A fan-out report with `failures` failed recipients (every other one with code 70107, the second of unknown
/// outcome) and `duplicates` duplicate lines, next to 100 delivered.
fn report(failures: usize, duplicates: usize) -> tim_transport::FanoutReport {
    use tim_transport::fanout::Settled;
    let failures: Vec<tim_transport::fanout::Failure> = (0..failures)
        .map(|i| tim_transport::fanout::Failure {
            user_id: format!("failed{i}"),
            line: None,
            status: if i == 1 { Settled::OutcomeUnknown } else { Settled::Failed },
            code: (i % 2 == 0).then_some(70107),
            reason: s("no such account"),
            outcome_unknown: i == 1,
        })
        .collect();
    let mut failed_by_code = BTreeMap::new();
    for failure in failures.iter().filter(|f| !f.outcome_unknown) {
        *failed_by_code.entry(failure.code.unwrap_or(0)).or_insert(0) += 1;
    }
    let unknown = failures.iter().filter(|f| f.outcome_unknown).count() as u64;
    tim_transport::FanoutReport {
        read: 100 + (failures.len() + duplicates) as u64,
        delivered: 100,
        failed: failures.len() as u64 - unknown,
        outcome_unknown: unknown,
        resolved: 7,
        invalid: 0,
        duplicate_lines: duplicates as u64,
        failed_by_code,
        failures,
        duplicates: (0..duplicates).map(|i| format!("dup{i}")).collect(),
        chunks: 3,
        cancelled: false,
    }
}

/// The failure batches and the report of a list of events, checking that the report comes once, last.
fn split(events: Vec<pb::FanoutEvent>) -> (Vec<pb::FailureBatch>, pb::FanoutReport) {
    let mut batches = Vec::new();
    let mut reports = Vec::new();
    for (i, event) in events.iter().enumerate() {
        match event.kind.clone() {
            Some(Kind::Failures(batch)) => batches.push(batch),
            Some(Kind::Report(report)) => reports.push((i, report)),
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(reports.len(), 1, "exactly one report");
    let (position, report) = reports.remove(0);
    assert_eq!(position, events.len() - 1, "the report comes last");
    (batches, report)
}

#[test]
fn fanout_reports_become_batches_of_the_requested_size_then_one_report() {
    let (batches, report) = split(fanout_report_events(report(5, 3), 3));
    let sizes: Vec<usize> = batches.iter().map(|b| b.failures.len() + b.duplicates.len()).collect();
    assert_eq!(sizes, [3, 3, 2]);
    let failures: Vec<pb::RecipientFailure> = batches.iter().flat_map(|b| b.failures.clone()).collect();
    let duplicates: Vec<String> = batches.iter().flat_map(|b| b.duplicates.clone()).collect();
    assert_eq!(
        failures.iter().map(|f| f.user_id.as_str()).collect::<Vec<_>>(),
        ["failed0", "failed1", "failed2", "failed3", "failed4"]
    );
    assert_eq!(failures.iter().map(|f| f.error_code).collect::<Vec<_>>(), [70107, 0, 70107, 0, 70107]);
    assert_eq!(failures.iter().map(|f| f.outcome_unknown).collect::<Vec<_>>(), [false, true, false, false, false]);
    assert_eq!(failures[0].reason, "no such account");
    assert_eq!(duplicates, ["dup0", "dup1", "dup2"]);
    assert_eq!(
        report,
        pb::FanoutReport {
            read: 108,
            delivered: 100,
            failed: 4,
            duplicates: 3,
            failed_by_code: HashMap::from([(70107, 3), (0, 1)]),
            chunks: 3,
            cancelled: false,
            outcome_unknown: 1,
            invalid: 0,
            resolved: 7,
        }
    );
    assert_eq!(report.read, report.delivered + report.failed + report.outcome_unknown + report.duplicates);
    assert_eq!(report.failed, report.failed_by_code.values().sum::<u64>());
}

#[test]
fn fanout_batches_hold_at_most_the_requested_size_whatever_it_is() {
    for (failures, duplicates) in [(0, 0), (1, 0), (0, 1), (7, 7), (10, 0)] {
        for size in [0, 1, 2, 5, 10, 100] {
            let (batches, report) = split(fanout_report_events(report(failures, duplicates), size));
            let entries = failures + duplicates;
            assert_eq!(batches.len(), entries.div_ceil(size.max(1)), "{failures}+{duplicates} in batches of {size}");
            assert!(batches.iter().all(|b| {
                let len = b.failures.len() + b.duplicates.len();
                (1..=size.max(1)).contains(&len)
            }));
            assert_eq!(batches.iter().map(|b| b.failures.len()).sum::<usize>(), failures);
            assert_eq!(batches.iter().map(|b| b.duplicates.len()).sum::<usize>(), duplicates);
            let unknown = u64::from(failures > 1);
            assert_eq!((report.failed, report.duplicates), (failures as u64 - unknown, duplicates as u64));
            assert_eq!(report.outcome_unknown, unknown);
        }
    }
    let (batches, report) =
        split(fanout_report_events(tim_transport::FanoutReport { cancelled: true, ..Default::default() }, 10));
    assert!(batches.is_empty());
    assert!(report.cancelled);
}

#[test]
fn settled_batches_put_duplicates_apart_and_keep_the_line_of_invalid_entries() {
    use tim_transport::fanout::{Failure, Settled};
    let entry = |user_id: &str, line, status| Failure {
        user_id: s(user_id),
        line,
        status,
        code: None,
        reason: s("why"),
        outcome_unknown: status == Settled::OutcomeUnknown,
    };
    let event = failure_batch(vec![
        entry("bad id", Some(3), Settled::Invalid),
        entry("u1", Some(4), Settled::Duplicate),
        entry("u2", None, Settled::OutcomeUnknown),
    ]);
    let Some(Kind::Failures(batch)) = event.kind else { panic!("{event:?}") };
    assert_eq!(batch.duplicates, ["u1"]);
    assert_eq!(
        batch.failures.iter().map(|f| (f.user_id.as_str(), f.line)).collect::<Vec<_>>(),
        [("bad id", 3), ("u2", 0)]
    );
    assert!(batch.failures[1].outcome_unknown);
}

#[test]
fn fanout_progress_copies_the_counters() {
    let progress = tim_transport::FanoutProgress {
        read: 10,
        delivered: 6,
        failed: 1,
        outcome_unknown: 1,
        resolved: 3,
        invalid: 1,
        duplicates: 2,
        pending: 1,
        failed_by_code: BTreeMap::from([(70107, 1)]),
    };
    assert_eq!(
        fanout_progress(&progress),
        pb::FanoutEvent {
            kind: Some(Kind::Progress(pb::FanoutProgress {
                read: 10,
                delivered: 6,
                failed: 1,
                duplicates: 2,
                pending: 1,
                outcome_unknown: 1,
                invalid: 1,
                resolved: 3,
            }))
        }
    );
}
