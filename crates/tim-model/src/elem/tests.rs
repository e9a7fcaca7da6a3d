//! Unit tests of message elements: key order, unknown kinds, and errors that say where.

use super::*;
use serde_json::json;

#[test]
fn content_before_type_decodes_like_type_before_content() {
    let forward: MsgElement =
        serde_json::from_value(json!({"MsgType": "TIMTextElem", "MsgContent": {"Text": "a"}})).unwrap();
    let backward: MsgElement =
        serde_json::from_str(r#"{"MsgContent": {"Text": "a"}, "MsgType": "TIMTextElem"}"#).unwrap();
    assert_eq!(forward, backward);
    assert_eq!(forward, MsgElement::text("a"));
}

#[test]
fn unknown_kinds_keep_every_key() {
    let raw = json!({"MsgType": "TIMNewElem", "MsgContent": {"X": 1}, "Top": [true]});
    let element: MsgElement = serde_json::from_value(raw.clone()).unwrap();
    assert_eq!(element.msg_type(), Some("TIMNewElem"));
    assert_eq!(serde_json::to_value(&element).unwrap(), raw);
}

#[test]
fn a_known_kind_with_bad_content_is_an_error_not_an_unknown_element() {
    let error =
        serde_json::from_str::<MsgElement>(r#"{"MsgType": "TIMTextElem", "MsgContent": {"Text": 5}}"#).unwrap_err();
    assert!(error.to_string().contains("invalid type"), "{error}");
    let error = serde_json::from_str::<MsgElement>(r#"{"MsgType": "TIMTextElem"}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `MsgContent`"), "{error}");
    let error = serde_json::from_str::<MsgElement>(r#"{"MsgContent": {}}"#).unwrap_err();
    assert!(error.to_string().contains("missing field `MsgType`"), "{error}");
    let error =
        serde_json::from_str::<MsgElement>(r#"{"MsgType": "TIMTextElem", "MsgType": "TIMTextElem", "MsgContent": {}}"#)
            .unwrap_err();
    assert!(error.to_string().contains("duplicate field `MsgType`"), "{error}");
}

#[test]
fn serialization_puts_the_type_first() {
    let text = serde_json::to_string(&MsgElement::custom("d")).unwrap();
    assert_eq!(text, r#"{"MsgType":"TIMCustomElem","MsgContent":{"Data":"d"}}"#);
}
