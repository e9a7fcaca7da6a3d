//! Message elements (`TIMMsgElement`): the parts of a `MsgBody`, spec §2.
//!
//! On the wire an element is `{"MsgType": "TIMTextElem", "MsgContent": {...}}`. [`MsgElement`] has one variant per
//! documented kind and an [`MsgElement::Unknown`] variant that keeps the raw JSON of any kind Tencent adds later,
//! so it round-trips untouched. Every content struct keeps fields it does not know in `extra`.

use crate::Extra;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// `TIMTextElem`: a text message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextElem {
    /// The text; also the offline-push text.
    #[serde(rename = "Text")]
    pub text: String,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMLocationElem`: a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationElem {
    /// Description of the place.
    #[serde(rename = "Desc")]
    pub desc: String,
    /// Latitude in degrees.
    #[serde(rename = "Latitude")]
    pub latitude: f64,
    /// Longitude in degrees.
    #[serde(rename = "Longitude")]
    pub longitude: f64,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMFaceElem`: an emoji chosen by index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceElem {
    /// App-defined emoji index.
    #[serde(rename = "Index")]
    pub index: i64,
    /// Extra data (any characters).
    #[serde(rename = "Data", default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMCustomElem`: an app-defined payload. At most one per message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomElem {
    /// The custom payload (not put in the APNs payload).
    #[serde(rename = "Data")]
    pub data: String,
    /// Offline-push text. A message made of one custom element with neither this nor `OfflinePushInfo.Desc`
    /// gets no offline push.
    #[serde(rename = "Desc", default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Delivered as `ext` in the APNs payload.
    #[serde(rename = "Ext", default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    /// Custom APNs sound file name.
    #[serde(rename = "Sound", default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMSoundElem`: a voice clip. Sending it through REST needs `Url`, `UUID` and `Download_Flag` 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoundElem {
    /// Direct download URL.
    #[serde(rename = "Url", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Globally unique id (usually the file's MD5).
    #[serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Size in bytes.
    #[serde(rename = "Size", default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Duration in seconds.
    #[serde(rename = "Second", default, skip_serializing_if = "Option::is_none")]
    pub second: Option<u64>,
    /// Download flag; must be 2 for REST sends.
    #[serde(rename = "Download_Flag", default, skip_serializing_if = "Option::is_none")]
    pub download_flag: Option<u32>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMImageElem`: an image in up to three sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageElem {
    /// Unique id (usually the MD5).
    #[serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// 1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other.
    #[serde(rename = "ImageFormat", default, skip_serializing_if = "Option::is_none")]
    pub image_format: Option<u32>,
    /// Original, large and thumbnail entries.
    #[serde(rename = "ImageInfoArray", default)]
    pub image_info_array: Vec<ImageInfo>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One size of a [`ImageElem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// 1 original, 2 large, 3 thumbnail.
    #[serde(rename = "Type")]
    pub kind: u32,
    /// Bytes (0 allowed).
    #[serde(rename = "Size")]
    pub size: u64,
    /// Width in pixels (0 allowed).
    #[serde(rename = "Width")]
    pub width: u32,
    /// Height in pixels.
    #[serde(rename = "Height")]
    pub height: u32,
    /// Download URL (upper-case `URL` on the wire).
    #[serde(rename = "URL")]
    pub url: String,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMFileElem`: a file. Sending it through REST needs `Url`, `UUID` and `Download_Flag` 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileElem {
    /// Download URL.
    #[serde(rename = "Url", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Unique id.
    #[serde(rename = "UUID", default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Size in bytes.
    #[serde(rename = "FileSize", default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    /// File name.
    #[serde(rename = "FileName", default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Download flag; must be 2 for REST sends.
    #[serde(rename = "Download_Flag", default, skip_serializing_if = "Option::is_none")]
    pub download_flag: Option<u32>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMVideoFileElem`: a video with its thumbnail. Sending it through REST needs the video and thumbnail URLs
/// and UUIDs, the thumbnail size in pixels, and both download flags set to 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoFileElem {
    /// Video download URL.
    #[serde(rename = "VideoUrl", default, skip_serializing_if = "Option::is_none")]
    pub video_url: Option<String>,
    /// Video unique id.
    #[serde(rename = "VideoUUID", default, skip_serializing_if = "Option::is_none")]
    pub video_uuid: Option<String>,
    /// Video size in bytes.
    #[serde(rename = "VideoSize", default, skip_serializing_if = "Option::is_none")]
    pub video_size: Option<u64>,
    /// Duration in seconds (0 from web clients).
    #[serde(rename = "VideoSecond", default, skip_serializing_if = "Option::is_none")]
    pub video_second: Option<u64>,
    /// Container format, for example `mp4`.
    #[serde(rename = "VideoFormat", default, skip_serializing_if = "Option::is_none")]
    pub video_format: Option<String>,
    /// Video download flag; must be 2 for REST sends.
    #[serde(rename = "VideoDownloadFlag", default, skip_serializing_if = "Option::is_none")]
    pub video_download_flag: Option<u32>,
    /// Thumbnail download URL.
    #[serde(rename = "ThumbUrl", default, skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    /// Thumbnail unique id.
    #[serde(rename = "ThumbUUID", default, skip_serializing_if = "Option::is_none")]
    pub thumb_uuid: Option<String>,
    /// Thumbnail size in bytes.
    #[serde(rename = "ThumbSize", default, skip_serializing_if = "Option::is_none")]
    pub thumb_size: Option<u64>,
    /// Thumbnail width in pixels.
    #[serde(rename = "ThumbWidth", default, skip_serializing_if = "Option::is_none")]
    pub thumb_width: Option<u32>,
    /// Thumbnail height in pixels.
    #[serde(rename = "ThumbHeight", default, skip_serializing_if = "Option::is_none")]
    pub thumb_height: Option<u32>,
    /// Thumbnail format, for example `JPG` (may be empty).
    #[serde(rename = "ThumbFormat", default, skip_serializing_if = "Option::is_none")]
    pub thumb_format: Option<String>,
    /// Thumbnail download flag; must be 2 for REST sends.
    #[serde(rename = "ThumbDownloadFlag", default, skip_serializing_if = "Option::is_none")]
    pub thumb_download_flag: Option<u32>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `TIMRelayElem`: merged, forwarded messages. Carries `MsgList` inline when the forwarded messages total at most
/// 12 KB, otherwise a `JsonMsgKey`; exactly one of the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayElem {
    /// Title of the merged message.
    #[serde(rename = "Title")]
    pub title: String,
    /// Number of forwarded messages.
    #[serde(rename = "MsgNum")]
    pub msg_num: u32,
    /// Text shown by SDKs too old to render the element.
    #[serde(rename = "CompatibleText")]
    pub compatible_text: String,
    /// Digest lines.
    #[serde(rename = "AbstractList")]
    pub abstract_list: Vec<String>,
    /// The forwarded messages, inline.
    #[serde(rename = "MsgList", default, skip_serializing_if = "Option::is_none")]
    pub msg_list: Option<Vec<RelayMsg>>,
    /// Key of the forwarded messages stored server-side.
    #[serde(rename = "JsonMsgKey", default, skip_serializing_if = "Option::is_none")]
    pub json_msg_key: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One forwarded message inside a [`RelayElem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelayMsg {
    /// Sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// Recipient (one-to-one messages only).
    #[serde(rename = "To_Account", default, skip_serializing_if = "Option::is_none")]
    pub to_account: Option<String>,
    /// Group (group messages only).
    #[serde(rename = "GroupId", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Sequence number.
    #[serde(rename = "MsgSeq")]
    pub msg_seq: u32,
    /// Random of the original message.
    #[serde(rename = "MsgRandom")]
    pub msg_random: u32,
    /// Send time, UNIX seconds.
    #[serde(rename = "MsgTimeStamp")]
    pub msg_time_stamp: i64,
    /// The message's elements.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// Custom data of the original message.
    #[serde(rename = "CloudCustomData", default, skip_serializing_if = "Option::is_none")]
    pub cloud_custom_data: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One element of a message body.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MsgElement {
    /// `TIMTextElem`.
    Text(TextElem),
    /// `TIMLocationElem`.
    Location(LocationElem),
    /// `TIMFaceElem`.
    Face(FaceElem),
    /// `TIMCustomElem`.
    Custom(CustomElem),
    /// `TIMSoundElem`.
    Sound(SoundElem),
    /// `TIMImageElem`.
    Image(ImageElem),
    /// `TIMFileElem`.
    File(FileElem),
    /// `TIMVideoFileElem`.
    VideoFile(VideoFileElem),
    /// `TIMRelayElem`.
    Relay(RelayElem),
    /// A kind this version of tim does not know (including the received-only `TIMGroupTipElem` and
    /// `TIMGroupSystemNoticeElem`): the whole element object, kept exactly as it came.
    Unknown(Extra),
}

/// The `MsgType` names of the documented element kinds, in the order of [`MsgElement`]'s variants.
pub const KNOWN_MSG_TYPES: [&str; 9] = [
    "TIMTextElem",
    "TIMLocationElem",
    "TIMFaceElem",
    "TIMCustomElem",
    "TIMSoundElem",
    "TIMImageElem",
    "TIMFileElem",
    "TIMVideoFileElem",
    "TIMRelayElem",
];

impl MsgElement {
    /// A text element.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(TextElem { text: text.into(), extra: Extra::new() })
    }

    /// A custom element carrying `data`.
    pub fn custom(data: impl Into<String>) -> Self {
        Self::Custom(CustomElem { data: data.into(), desc: None, ext: None, sound: None, extra: Extra::new() })
    }

    /// The element's `MsgType` as it appears on the wire (`None` for an unknown element without a string one).
    pub fn msg_type(&self) -> Option<&str> {
        Some(match self {
            Self::Text(_) => KNOWN_MSG_TYPES[0],
            Self::Location(_) => KNOWN_MSG_TYPES[1],
            Self::Face(_) => KNOWN_MSG_TYPES[2],
            Self::Custom(_) => KNOWN_MSG_TYPES[3],
            Self::Sound(_) => KNOWN_MSG_TYPES[4],
            Self::Image(_) => KNOWN_MSG_TYPES[5],
            Self::File(_) => KNOWN_MSG_TYPES[6],
            Self::VideoFile(_) => KNOWN_MSG_TYPES[7],
            Self::Relay(_) => KNOWN_MSG_TYPES[8],
            Self::Unknown(raw) => return raw.get(MSG_TYPE).and_then(Value::as_str),
        })
    }
}

const MSG_TYPE: &str = "MsgType";
const MSG_CONTENT: &str = "MsgContent";

impl Serialize for MsgElement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        fn pair<S: Serializer, T: Serialize>(serializer: S, kind: &str, content: &T) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(2))?;
            map.serialize_entry(MSG_TYPE, kind)?;
            map.serialize_entry(MSG_CONTENT, content)?;
            map.end()
        }
        let kind = self.msg_type().unwrap_or_default();
        match self {
            Self::Text(c) => pair(serializer, kind, c),
            Self::Location(c) => pair(serializer, kind, c),
            Self::Face(c) => pair(serializer, kind, c),
            Self::Custom(c) => pair(serializer, kind, c),
            Self::Sound(c) => pair(serializer, kind, c),
            Self::Image(c) => pair(serializer, kind, c),
            Self::File(c) => pair(serializer, kind, c),
            Self::VideoFile(c) => pair(serializer, kind, c),
            Self::Relay(c) => pair(serializer, kind, c),
            Self::Unknown(raw) => raw.serialize(serializer),
        }
    }
}

/// Which documented kind a `MsgType` names, by index into [`KNOWN_MSG_TYPES`].
fn known_kind(msg_type: &str) -> Option<usize> {
    KNOWN_MSG_TYPES.iter().position(|known| *known == msg_type)
}

/// Decodes the content of a documented kind from a deserializer.
fn decode_content<'de, D: Deserializer<'de>>(kind: usize, content: D) -> Result<MsgElement, D::Error> {
    Ok(match kind {
        0 => MsgElement::Text(TextElem::deserialize(content)?),
        1 => MsgElement::Location(LocationElem::deserialize(content)?),
        2 => MsgElement::Face(FaceElem::deserialize(content)?),
        3 => MsgElement::Custom(CustomElem::deserialize(content)?),
        4 => MsgElement::Sound(SoundElem::deserialize(content)?),
        5 => MsgElement::Image(ImageElem::deserialize(content)?),
        6 => MsgElement::File(FileElem::deserialize(content)?),
        7 => MsgElement::VideoFile(VideoFileElem::deserialize(content)?),
        _ => MsgElement::Relay(RelayElem::deserialize(content)?),
    })
}

/// Deserializes a `MsgContent` straight into its typed struct; used when `MsgType` came first (the usual order).
struct ContentSeed(usize);

impl<'de> de::DeserializeSeed<'de> for ContentSeed {
    type Value = MsgElement;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<MsgElement, D::Error> {
        decode_content(self.0, deserializer)
    }
}

impl<'de> Deserialize<'de> for MsgElement {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ElementVisitor)
    }
}

struct ElementVisitor;

impl<'de> Visitor<'de> for ElementVisitor {
    type Value = MsgElement;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message element object with MsgType and MsgContent")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MsgElement, A::Error> {
        // Fast path: `MsgType` first, then `MsgContent` decoded directly into its struct. Any other shape is
        // buffered as JSON and decided at the end, so every order of keys is accepted.
        let mut raw = Extra::new();
        let mut typed: Option<MsgElement> = None;
        let mut known: Option<usize> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                MSG_TYPE => {
                    if raw.contains_key(MSG_TYPE) || known.is_some() {
                        return Err(de::Error::duplicate_field(MSG_TYPE));
                    }
                    let value: Value = map.next_value()?;
                    known = value.as_str().and_then(known_kind);
                    raw.insert(key, value);
                }
                MSG_CONTENT if typed.is_some() || raw.contains_key(MSG_CONTENT) => {
                    return Err(de::Error::duplicate_field(MSG_CONTENT));
                }
                MSG_CONTENT if known.is_some() => {
                    typed = Some(map.next_value_seed(ContentSeed(known.unwrap_or_default()))?);
                }
                _ => {
                    let value: Value = map.next_value()?;
                    raw.insert(key, value);
                }
            }
        }
        if let Some(element) = typed {
            return Ok(element);
        }
        match (known, raw.remove(MSG_CONTENT)) {
            (Some(kind), Some(content)) => decode_content(kind, content).map_err(de::Error::custom),
            (Some(_), None) => Err(de::Error::missing_field(MSG_CONTENT)),
            (None, content) => {
                if !raw.contains_key(MSG_TYPE) {
                    return Err(de::Error::missing_field(MSG_TYPE));
                }
                if let Some(content) = content {
                    raw.insert(MSG_CONTENT.to_owned(), content);
                }
                Ok(MsgElement::Unknown(raw))
            }
        }
    }
}

#[cfg(test)]
mod tests;
