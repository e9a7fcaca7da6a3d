//! Message elements: `tim.v1.MsgElement` and `tim_model::MsgElement`, both ways.
//!
//! Known kinds map field by field. An element of a kind the gateway does not know travels as its REST JSON object
//! in `unknown_json`, decoded with the model's own decoder (so a known kind written as JSON is accepted too).

use crate::pb;
use crate::pb::msg_element::Elem;
use tim_model::elem::{
    CustomElem, FaceElem, FileElem, ImageElem, ImageInfo, LocationElem, RelayElem, RelayMsg, SoundElem, TextElem,
    VideoFileElem,
};
use tim_model::{Extra, MsgElement, Problem, ValidationError};

/// Converts the elements of a list at the REST path `field`; each broken element is reported at `field[i]` in
/// `errors`. `None` when any element is broken.
pub(super) fn elements_from_pb(
    elements: Vec<pb::MsgElement>,
    field: &str,
    errors: &mut Vec<ValidationError>,
) -> Option<Vec<MsgElement>> {
    let before = errors.len();
    let converted: Vec<MsgElement> = elements
        .into_iter()
        .enumerate()
        .filter_map(|(i, element)| element_from_pb(element, &format!("{field}[{i}]"), errors))
        .collect();
    (errors.len() == before).then_some(converted)
}

/// Converts one element found at the REST path `at`, recording in `errors` why it cannot be.
fn element_from_pb(element: pb::MsgElement, at: &str, errors: &mut Vec<ValidationError>) -> Option<MsgElement> {
    let Some(elem) = element.elem else {
        errors.push(ValidationError::new(at, Problem::Rule("has no element kind set")));
        return None;
    };
    Some(match elem {
        Elem::Text(text) => MsgElement::Text(TextElem { text: text.text, extra: Extra::new() }),
        Elem::Location(location) => MsgElement::Location(LocationElem {
            desc: location.desc,
            latitude: location.latitude,
            longitude: location.longitude,
            extra: Extra::new(),
        }),
        Elem::Face(face) => MsgElement::Face(FaceElem { index: face.index, data: face.data, extra: Extra::new() }),
        Elem::Custom(custom) => MsgElement::Custom(CustomElem {
            data: custom.data,
            desc: custom.desc,
            ext: custom.ext,
            sound: custom.sound,
            extra: Extra::new(),
        }),
        Elem::Sound(sound) => MsgElement::Sound(SoundElem {
            url: sound.url,
            uuid: sound.uuid,
            size: sound.size,
            second: sound.second,
            download_flag: sound.download_flag,
            extra: Extra::new(),
        }),
        Elem::Image(image) => MsgElement::Image(ImageElem {
            uuid: image.uuid,
            image_format: image.image_format,
            image_info_array: image
                .image_info_array
                .into_iter()
                .map(|info| ImageInfo {
                    kind: info.r#type,
                    size: info.size,
                    width: info.width,
                    height: info.height,
                    url: info.url,
                    extra: Extra::new(),
                })
                .collect(),
            extra: Extra::new(),
        }),
        Elem::File(file) => MsgElement::File(FileElem {
            url: file.url,
            uuid: file.uuid,
            file_size: file.file_size,
            file_name: file.file_name,
            download_flag: file.download_flag,
            extra: Extra::new(),
        }),
        Elem::VideoFile(video) => MsgElement::VideoFile(VideoFileElem {
            video_url: video.video_url,
            video_uuid: video.video_uuid,
            video_size: video.video_size,
            video_second: video.video_second,
            video_format: video.video_format,
            video_download_flag: video.video_download_flag,
            thumb_url: video.thumb_url,
            thumb_uuid: video.thumb_uuid,
            thumb_size: video.thumb_size,
            thumb_width: video.thumb_width,
            thumb_height: video.thumb_height,
            thumb_format: video.thumb_format,
            thumb_download_flag: video.thumb_download_flag,
            extra: Extra::new(),
        }),
        Elem::Relay(relay) => MsgElement::Relay(relay_from_pb(relay, at, errors)?),
        Elem::UnknownJson(json) => match tim_model::api::decode::<MsgElement>(json.as_bytes()) {
            Ok(element) => element,
            Err(error) => {
                errors.push(error.under(at));
                return None;
            }
        },
    })
}

/// Converts a relay element found at the REST path `at`: its merged messages' bodies are elements too.
fn relay_from_pb(relay: pb::RelayElem, at: &str, errors: &mut Vec<ValidationError>) -> Option<RelayElem> {
    let before = errors.len();
    let messages: Vec<RelayMsg> = relay
        .msg_list
        .into_iter()
        .enumerate()
        .filter_map(|(i, message)| {
            let field = format!("{at}.MsgContent.MsgList[{i}].MsgBody");
            Some(RelayMsg {
                from_account: message.from_account,
                to_account: message.to_account,
                group_id: message.group_id,
                msg_seq: message.msg_seq,
                msg_random: message.msg_random,
                msg_time_stamp: message.msg_time_stamp,
                msg_body: elements_from_pb(message.msg_body, &field, errors)?,
                cloud_custom_data: message.cloud_custom_data,
                extra: Extra::new(),
            })
        })
        .collect();
    (errors.len() == before).then(|| RelayElem {
        title: relay.title,
        msg_num: relay.msg_num,
        compatible_text: relay.compatible_text,
        abstract_list: relay.abstract_list,
        msg_list: super::non_empty(messages),
        json_msg_key: relay.json_msg_key,
        extra: Extra::new(),
    })
}

/// Converts model elements (of an answer) to proto elements.
pub(super) fn elements_to_pb(elements: Vec<MsgElement>) -> Vec<pb::MsgElement> {
    elements.into_iter().map(element_to_pb).collect()
}

/// Converts one model element to a proto element. Unknown fields of a known kind are not carried.
pub(super) fn element_to_pb(element: MsgElement) -> pb::MsgElement {
    let elem = match element {
        MsgElement::Text(text) => Elem::Text(pb::TextElem { text: text.text }),
        MsgElement::Location(location) => Elem::Location(pb::LocationElem {
            desc: location.desc,
            latitude: location.latitude,
            longitude: location.longitude,
        }),
        MsgElement::Face(face) => Elem::Face(pb::FaceElem { index: face.index, data: face.data }),
        MsgElement::Custom(custom) => {
            Elem::Custom(pb::CustomElem { data: custom.data, desc: custom.desc, ext: custom.ext, sound: custom.sound })
        }
        MsgElement::Sound(sound) => Elem::Sound(pb::SoundElem {
            url: sound.url,
            uuid: sound.uuid,
            size: sound.size,
            second: sound.second,
            download_flag: sound.download_flag,
        }),
        MsgElement::Image(image) => Elem::Image(pb::ImageElem {
            uuid: image.uuid,
            image_format: image.image_format,
            image_info_array: image
                .image_info_array
                .into_iter()
                .map(|info| pb::ImageInfo {
                    r#type: info.kind,
                    size: info.size,
                    width: info.width,
                    height: info.height,
                    url: info.url,
                })
                .collect(),
        }),
        MsgElement::File(file) => Elem::File(pb::FileElem {
            url: file.url,
            uuid: file.uuid,
            file_size: file.file_size,
            file_name: file.file_name,
            download_flag: file.download_flag,
        }),
        MsgElement::VideoFile(video) => Elem::VideoFile(pb::VideoFileElem {
            video_url: video.video_url,
            video_uuid: video.video_uuid,
            video_size: video.video_size,
            video_second: video.video_second,
            video_format: video.video_format,
            video_download_flag: video.video_download_flag,
            thumb_url: video.thumb_url,
            thumb_uuid: video.thumb_uuid,
            thumb_size: video.thumb_size,
            thumb_width: video.thumb_width,
            thumb_height: video.thumb_height,
            thumb_format: video.thumb_format,
            thumb_download_flag: video.thumb_download_flag,
        }),
        MsgElement::Relay(relay) => Elem::Relay(pb::RelayElem {
            title: relay.title,
            msg_num: relay.msg_num,
            compatible_text: relay.compatible_text,
            abstract_list: relay.abstract_list,
            msg_list: relay
                .msg_list
                .unwrap_or_default()
                .into_iter()
                .map(|message| pb::RelayMsg {
                    from_account: message.from_account,
                    to_account: message.to_account,
                    group_id: message.group_id,
                    msg_seq: message.msg_seq,
                    msg_random: message.msg_random,
                    msg_time_stamp: message.msg_time_stamp,
                    msg_body: elements_to_pb(message.msg_body),
                    cloud_custom_data: message.cloud_custom_data,
                })
                .collect(),
            json_msg_key: relay.json_msg_key,
        }),
        MsgElement::Unknown(raw) => Elem::UnknownJson(serde_json::Value::Object(raw).to_string()),
        // A kind a later model knows but this conversion does not: its REST JSON, which the model always writes.
        other => Elem::UnknownJson(serde_json::to_value(&other).map(|value| value.to_string()).unwrap_or_default()),
    };
    pb::MsgElement { elem: Some(elem) }
}
