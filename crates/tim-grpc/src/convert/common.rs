//! Parts shared by several requests and answers: offline push settings and string-or-number values.

use crate::pb;
use crate::pb::android_info::VivoClassification;
use tim_model::Extra;
use tim_model::push::{AndroidInfo, ApnsInfo, IntOrString, OfflinePushInfo};

/// `OfflinePushInfo` of a request.
pub(super) fn offline_push_info(info: pb::OfflinePushInfo) -> OfflinePushInfo {
    OfflinePushInfo {
        push_flag: info.push_flag,
        title: info.title,
        desc: info.desc,
        ext: info.ext,
        android_info: info.android_info.map(android_info),
        apns_info: info.apns_info.map(apns_info),
        extra: Extra::new(),
    }
}

/// `OfflinePushInfo.AndroidInfo`; `VIVOClassification` keeps the form (number or text) it was given in.
fn android_info(info: pb::AndroidInfo) -> AndroidInfo {
    AndroidInfo {
        sound: info.sound,
        huawei_channel_id: info.huawei_channel_id,
        xiaomi_channel_id: info.xiaomi_channel_id,
        oppo_channel_id: info.oppo_channel_id,
        google_channel_id: info.google_channel_id,
        vivo_classification: info.vivo_classification.map(|class| match class {
            VivoClassification::VivoClassificationNumber(number) => IntOrString::Int(number),
            VivoClassification::VivoClassificationText(text) => IntOrString::Str(text),
        }),
        huawei_importance: info.huawei_importance,
        ext_as_huawei_intent_param: info.ext_as_huawei_intent_param,
        huawei_category: info.huawei_category,
        vivo_category: info.vivo_category,
        push_style: info.push_style,
        huawei_image: info.huawei_image,
        honor_image: info.honor_image,
        google_image: info.google_image,
        honor_importance: info.honor_importance,
        extra: Extra::new(),
    }
}

/// `OfflinePushInfo.ApnsInfo`.
fn apns_info(info: pb::ApnsInfo) -> ApnsInfo {
    ApnsInfo {
        sound: info.sound,
        badge_mode: info.badge_mode,
        title: info.title,
        sub_title: info.sub_title,
        image: info.image,
        mutable_content: info.mutable_content,
        interruption_level: info.interruption_level,
        content_available: info.content_available,
        extra: Extra::new(),
    }
}

/// A string-or-number value as this API carries it.
pub(super) fn text_or_number_to_pb(value: tim_model::TextOrNumber) -> pb::TextOrNumber {
    let kind = match value {
        tim_model::TextOrNumber::Text(text) => pb::text_or_number::Kind::Text(text),
        tim_model::TextOrNumber::Number(number) => pb::text_or_number::Kind::Number(number),
    };
    pb::TextOrNumber { kind: Some(kind) }
}
