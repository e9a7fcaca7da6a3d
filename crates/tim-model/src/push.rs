//! `OfflinePushInfo` and its Android and APNs parts, spec §2.4.
//!
//! When a message carries `OfflinePushInfo`, push settings inside its `TIMCustomElem` are ignored.

use crate::Extra;
use serde::{Deserialize, Serialize};

/// Offline-push settings of a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfflinePushInfo {
    /// `0` push (default), `1` no offline push.
    #[serde(rename = "PushFlag", default, skip_serializing_if = "Option::is_none")]
    pub push_flag: Option<u32>,
    /// Title on iOS and Android.
    #[serde(rename = "Title", default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Push body; overrides the texts taken from the elements.
    #[serde(rename = "Desc", default, skip_serializing_if = "Option::is_none")]
    pub desc: Option<String>,
    /// Pass-through data; some Android vendors require it to be a JSON string.
    #[serde(rename = "Ext", default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    /// Android settings.
    #[serde(rename = "AndroidInfo", default, skip_serializing_if = "Option::is_none")]
    pub android_info: Option<AndroidInfo>,
    /// APNs settings.
    #[serde(rename = "ApnsInfo", default, skip_serializing_if = "Option::is_none")]
    pub apns_info: Option<ApnsInfo>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A field documented as an integer that some SDKs send as a string (`"0"`/`"1"`); kept in the form it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// The integer form.
    Int(i64),
    /// The string form.
    Str(String),
}

impl IntOrString {
    /// The value as an integer, when the string form holds one.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(value) => Some(*value),
            Self::Str(text) => text.trim().parse().ok(),
        }
    }
}

/// Android-specific push settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AndroidInfo {
    /// Sound file path.
    #[serde(rename = "Sound", default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    /// Huawei channel id; overrides the console's when not empty.
    #[serde(rename = "HuaWeiChannelID", default, skip_serializing_if = "Option::is_none")]
    pub huawei_channel_id: Option<String>,
    /// Xiaomi channel id; overrides the console's when not empty.
    #[serde(rename = "XiaoMiChannelID", default, skip_serializing_if = "Option::is_none")]
    pub xiaomi_channel_id: Option<String>,
    /// OPPO channel id; overrides the console's when not empty.
    #[serde(rename = "OPPOChannelID", default, skip_serializing_if = "Option::is_none")]
    pub oppo_channel_id: Option<String>,
    /// FCM channel id.
    #[serde(rename = "GoogleChannelID", default, skip_serializing_if = "Option::is_none")]
    pub google_channel_id: Option<String>,
    /// vivo classification: `0` operational, `1` system (default); integer or string on the wire.
    #[serde(rename = "VIVOClassification", default, skip_serializing_if = "Option::is_none")]
    pub vivo_classification: Option<IntOrString>,
    /// Huawei importance: `LOW` or `NORMAL` (default).
    #[serde(rename = "HuaWeiImportance", default, skip_serializing_if = "Option::is_none")]
    pub huawei_importance: Option<String>,
    /// `0` Ext as Action (default), `1` Ext as Intent parameter.
    #[serde(rename = "ExtAsHuaweiIntentParam", default, skip_serializing_if = "Option::is_none")]
    pub ext_as_huawei_intent_param: Option<u32>,
    /// Huawei message category.
    #[serde(rename = "HuaWeiCategory", default, skip_serializing_if = "Option::is_none")]
    pub huawei_category: Option<String>,
    /// vivo category.
    #[serde(rename = "VIVOCategory", default, skip_serializing_if = "Option::is_none")]
    pub vivo_category: Option<String>,
    /// `0` default, `1` big text (Huawei, Honor, OPPO).
    #[serde(rename = "PushStyle", default, skip_serializing_if = "Option::is_none")]
    pub push_style: Option<u32>,
    /// Huawei image URL (HTTPS).
    #[serde(rename = "HuaWeiImage", default, skip_serializing_if = "Option::is_none")]
    pub huawei_image: Option<String>,
    /// Honor image URL (HTTPS).
    #[serde(rename = "HonorImage", default, skip_serializing_if = "Option::is_none")]
    pub honor_image: Option<String>,
    /// Google image URL (HTTPS).
    #[serde(rename = "GoogleImage", default, skip_serializing_if = "Option::is_none")]
    pub google_image: Option<String>,
    /// Honor importance: `LOW` or `NORMAL`.
    #[serde(rename = "HonorImportance", default, skip_serializing_if = "Option::is_none")]
    pub honor_importance: Option<String>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}

/// APNs-specific push settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApnsInfo {
    /// Sound file name.
    #[serde(rename = "Sound", default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    /// `0` or absent: count the badge; `1`: do not increment it.
    #[serde(rename = "BadgeMode", default, skip_serializing_if = "Option::is_none")]
    pub badge_mode: Option<u32>,
    /// Title; overrides the top-level `Title`.
    #[serde(rename = "Title", default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Subtitle.
    #[serde(rename = "SubTitle", default, skip_serializing_if = "Option::is_none")]
    pub sub_title: Option<String>,
    /// Image URL.
    #[serde(rename = "Image", default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// `1` enables the iOS notification-service extension.
    #[serde(rename = "MutableContent", default, skip_serializing_if = "Option::is_none")]
    pub mutable_content: Option<u32>,
    /// `active`, `critical`, `passive` or `time-sensitive`.
    #[serde(rename = "InterruptionLevel", default, skip_serializing_if = "Option::is_none")]
    pub interruption_level: Option<String>,
    /// `1` for a silent push.
    #[serde(rename = "ContentAvailable", default, skip_serializing_if = "Option::is_none")]
    pub content_available: Option<u32>,
    /// Fields this version of tim does not know, kept as they came.
    #[serde(flatten)]
    pub extra: Extra,
}
