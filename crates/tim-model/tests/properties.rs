//! Properties of the wire model, checked on generated values: encoding then decoding is the identity,
//! decoding applies exactly the checked constructors' rules, and decoding arbitrary input never panics.

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::fmt::Debug;
use tim_model::api::decode;
use tim_model::c2c::{BatchSendMsgRequest, SendMsgRequest};
use tim_model::control::{ForbidCallback, SendMsgControl};
use tim_model::elem::*;
use tim_model::group_msg::SendGroupMsgRequest;
use tim_model::push::{AndroidInfo, ApnsInfo, IntOrString, OfflinePushInfo};
use tim_model::validate::Validate;
use tim_model::{Extra, GroupId, MsgBody, MsgElement, UserId};

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[A-Za-z_]{0,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Unknown fields, named so that they never collide with a documented one.
fn extra() -> impl Strategy<Value = Extra> {
    prop::collection::btree_map("X_[a-z]{1,6}", json_value(), 0..2).prop_map(|m| m.into_iter().collect())
}

fn text() -> impl Strategy<Value = String> {
    ".{0,16}"
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

fn user_id() -> impl Strategy<Value = UserId> {
    ".{1,12}".prop_filter_map("1..=32 bytes", |s| UserId::new(s).ok())
}

fn finite() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

fn leaf_element() -> impl Strategy<Value = MsgElement> {
    prop_oneof![
        (text(), extra()).prop_map(|(text, extra)| MsgElement::Text(TextElem { text, extra })),
        (text(), finite(), finite(), extra()).prop_map(|(desc, latitude, longitude, extra)| {
            MsgElement::Location(LocationElem { desc, latitude, longitude, extra })
        }),
        (any::<i64>(), opt_text(), extra()).prop_map(|(index, data, extra)| MsgElement::Face(FaceElem {
            index,
            data,
            extra
        })),
        (text(), opt_text(), opt_text(), opt_text(), extra()).prop_map(|(data, desc, ext, sound, extra)| {
            MsgElement::Custom(CustomElem { data, desc, ext, sound, extra })
        }),
        (opt_text(), opt_text(), any::<Option<u64>>(), any::<Option<u64>>(), any::<Option<u32>>(), extra()).prop_map(
            |(url, uuid, size, second, download_flag, extra)| {
                MsgElement::Sound(SoundElem { url, uuid, size, second, download_flag, extra })
            }
        ),
        (
            opt_text(),
            any::<Option<u32>>(),
            prop::collection::vec(
                (any::<u32>(), any::<u64>(), any::<u32>(), any::<u32>(), text(), extra()).prop_map(
                    |(kind, size, width, height, url, extra)| ImageInfo { kind, size, width, height, url, extra }
                ),
                0..3
            ),
            extra()
        )
            .prop_map(|(uuid, image_format, image_info_array, extra)| {
                MsgElement::Image(ImageElem { uuid, image_format, image_info_array, extra })
            }),
        (opt_text(), opt_text(), any::<Option<u64>>(), opt_text(), any::<Option<u32>>(), extra()).prop_map(
            |(url, uuid, file_size, file_name, download_flag, extra)| {
                MsgElement::File(FileElem { url, uuid, file_size, file_name, download_flag, extra })
            }
        ),
        (opt_text(), opt_text(), any::<Option<u32>>(), opt_text(), any::<Option<u32>>(), any::<Option<u32>>(), extra())
            .prop_map(|(video_url, thumb_url, video_download_flag, thumb_format, thumb_width, thumb_height, extra)| {
                MsgElement::VideoFile(VideoFileElem {
                    video_url,
                    video_uuid: Some("v".into()),
                    video_size: Some(1),
                    video_second: None,
                    video_format: Some("mp4".into()),
                    video_download_flag,
                    thumb_url,
                    thumb_uuid: None,
                    thumb_size: None,
                    thumb_width,
                    thumb_height,
                    thumb_format,
                    thumb_download_flag: Some(2),
                    extra,
                })
            }),
        ("[A-Za-z]{1,10}", json_value())
            .prop_filter("unknown kinds only", |(kind, _)| !KNOWN_MSG_TYPES.contains(&kind.as_str()))
            .prop_map(|(kind, content)| {
                let mut raw = Extra::new();
                raw.insert("MsgType".into(), Value::String(kind));
                raw.insert("MsgContent".into(), content);
                MsgElement::Unknown(raw)
            }),
    ]
}

fn element() -> impl Strategy<Value = MsgElement> {
    prop_oneof![
        4 => leaf_element(),
        1 => (text(), any::<u32>(), prop::collection::vec(text(), 0..3), prop::collection::vec(relay_msg(), 0..2), extra())
            .prop_map(|(title, msg_num, abstract_list, msgs, extra)| {
                MsgElement::Relay(RelayElem {
                    title,
                    msg_num,
                    compatible_text: "upgrade".into(),
                    abstract_list,
                    msg_list: Some(msgs),
                    json_msg_key: None,
                    extra,
                })
            }),
    ]
}

fn relay_msg() -> impl Strategy<Value = RelayMsg> {
    (text(), opt_text(), any::<u32>(), any::<u32>(), any::<i64>(), prop::collection::vec(leaf_element(), 0..3))
        .prop_map(|(from_account, to_account, msg_seq, msg_random, msg_time_stamp, msg_body)| RelayMsg {
            from_account,
            to_account,
            group_id: None,
            msg_seq,
            msg_random,
            msg_time_stamp,
            msg_body,
            cloud_custom_data: None,
            extra: Extra::new(),
        })
}

fn body() -> impl Strategy<Value = MsgBody> {
    prop::collection::vec(element(), 1..4).prop_filter_map("at most one custom element", |v| MsgBody::new(v).ok())
}

fn push_info() -> impl Strategy<Value = OfflinePushInfo> {
    (
        any::<Option<u32>>(),
        opt_text(),
        opt_text(),
        prop::option::of(prop_oneof![
            any::<i64>().prop_map(IntOrString::Int),
            "[0-9a-z]{0,3}".prop_map(IntOrString::Str)
        ]),
        opt_text(),
        extra(),
    )
        .prop_map(|(push_flag, title, desc, vivo, sound, extra)| OfflinePushInfo {
            push_flag,
            title,
            desc,
            ext: None,
            android_info: Some(AndroidInfo {
                vivo_classification: vivo,
                sound: sound.clone(),
                ..AndroidInfo::default()
            }),
            apns_info: Some(ApnsInfo { sound, badge_mode: push_flag, ..ApnsInfo::default() }),
            extra,
        })
}

fn send_request() -> impl Strategy<Value = SendMsgRequest> {
    (
        user_id(),
        body(),
        any::<Option<u32>>(),
        any::<Option<u32>>(),
        prop::option::of(push_info()),
        prop::option::of(prop::collection::vec(
            prop_oneof![Just(SendMsgControl::NoUnread), "[a-z]{1,5}".prop_map(|s| SendMsgControl::parse(&s))],
            0..3,
        )),
        prop::option::of(prop::collection::vec(Just(ForbidCallback::ForbidAfterSendMsgCallback), 0..2)),
        (opt_text(), extra(), prop::option::of(user_id()), any::<Option<i64>>()),
    )
        .prop_map(|(to, body, random, seq, push, control, forbid, (custom, extra, from, stamp))| {
            let mut request = SendMsgRequest::new(to, body);
            request.msg_random = random;
            request.msg_seq = seq;
            request.offline_push_info = push;
            request.send_msg_control = control;
            request.forbid_callback_control = forbid;
            request.cloud_custom_data = custom;
            request.extra = extra;
            request.from_account = from;
            request.msg_time_stamp = stamp;
            request
        })
}

fn assert_round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = serde_json::to_vec(value).expect("encodes");
    let back: T =
        decode(&bytes).map_err(|e| TestCaseError::fail(format!("{e} in {}", String::from_utf8_lossy(&bytes))))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

fn send_json(to: &Value, random: &Value, body: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"To_Account": to, "MsgRandom": random, "MsgBody": body})).expect("encodes")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn elements_round_trip(element in element()) {
        assert_round_trip(&element)?;
    }

    #[test]
    fn send_requests_round_trip(request in send_request()) {
        assert_round_trip(&request)?;
    }

    #[test]
    fn batch_requests_round_trip(ids in prop::collection::vec(user_id(), 0..20), body in body(), random in any::<Option<u32>>()) {
        let mut request = BatchSendMsgRequest::new(ids, body);
        request.msg_random = random;
        assert_round_trip(&request)?;
    }

    #[test]
    fn decoding_a_user_id_agrees_with_its_constructor(id in ".{0,40}") {
        let bytes = send_json(&json!(id), &json!(1), &json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]));
        let decoded = decode::<SendMsgRequest>(&bytes);
        prop_assert_eq!(decoded.is_ok(), UserId::new(id.clone()).is_ok(), "{:?}", decoded.err());
    }

    #[test]
    fn decoding_a_group_id_agrees_with_its_constructor(id in ".{0,60}") {
        let bytes = serde_json::to_vec(&json!({"GroupId": id, "Random": 1,
            "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]})).unwrap();
        prop_assert_eq!(decode::<SendGroupMsgRequest>(&bytes).is_ok(), GroupId::new(id.clone()).is_ok());
    }

    #[test]
    fn decoding_a_body_agrees_with_its_constructor(elements in prop::collection::vec(element(), 0..4)) {
        let body = serde_json::to_value(&elements).unwrap();
        let decoded = decode::<SendMsgRequest>(&send_json(&json!("a"), &json!(1), &body));
        prop_assert_eq!(decoded.is_ok(), MsgBody::new(elements).is_ok());
    }

    #[test]
    fn u32_fields_accept_exactly_the_u32_range(random in prop_oneof![any::<i64>(), (0..=u32::MAX).prop_map(i64::from)]) {
        let bytes = send_json(&json!("a"), &json!(random), &json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "x"}}]));
        let decoded = decode::<SendMsgRequest>(&bytes);
        prop_assert_eq!(decoded.is_ok(), u32::try_from(random).is_ok());
        if let Err(error) = decoded {
            prop_assert_eq!(error.field(), "MsgRandom");
        }
    }

    #[test]
    fn batch_validation_agrees_with_the_recipient_limit(n in 0_usize..=600) {
        let ids = (0..n).map(|i| UserId::new(format!("u{i}")).unwrap()).collect();
        let mut request = BatchSendMsgRequest::new(ids, MsgBody::text("x"));
        request.msg_random = Some(1);
        let errors = request.validate().err();
        let count_error = errors.as_ref().is_some_and(|e| e.concerns("To_Account"));
        prop_assert_eq!(count_error, n == 0 || n > 500);
    }

    #[test]
    fn decoding_arbitrary_json_never_panics(value in json_value()) {
        let bytes = serde_json::to_vec(&value).unwrap();
        let _ = decode::<MsgElement>(&bytes);
        let _ = decode::<SendMsgRequest>(&bytes);
        let _ = decode::<BatchSendMsgRequest>(&bytes);
        let _ = decode::<SendGroupMsgRequest>(&bytes);
        let _ = decode::<OfflinePushInfo>(&bytes);
        let _ = decode::<<BatchSendMsgRequest as tim_model::api::TypedRequest>::Response>(&bytes);
        let _ = decode::<<tim_model::c2c::AdminGetRoamMsgRequest as tim_model::api::TypedRequest>::Response>(&bytes);
        let _ = tim_model::api::decode_request::<SendMsgRequest>(&bytes);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode::<MsgElement>(&bytes);
        let _ = tim_model::api::decode_request::<BatchSendMsgRequest>(&bytes);
    }

    #[test]
    fn decoding_arbitrary_element_shaped_json_never_panics(kind in prop_oneof![Just("TIMTextElem".to_owned()), Just("TIMRelayElem".to_owned()), ".{0,8}".prop_map(String::from)], content in json_value()) {
        let bytes = serde_json::to_vec(&json!({"MsgContent": content, "MsgType": kind})).unwrap();
        let _ = decode::<MsgElement>(&bytes);
    }
}
