//! Validation before sending: the documented limits, checked with errors that name the field, the limit and the
//! value. Identifiers and message bodies are already checked by their types ([`crate::UserId`],
//! [`crate::MsgBody`]); the rules here involve counts, sizes, ranges, element contents and several fields at once.

use crate::elem::{MsgElement, RelayElem};
use crate::error::{Problem, ValidationError, ValidationErrors, join_path};
use serde::Serialize;
use std::io;

/// The most bytes a message's content may have: `MsgBody` plus `CloudCustomData` for single sends, the whole JSON
/// packet for batchsendmsg (error 93000 counts the recipients too). The API pages say "12K bytes" and, on the
/// broadcast and group-import pages, "12,000 bytes"; tim holds to the stricter 12,000.
pub const MAX_MSG_BYTES: usize = 12_000;

/// The most recipients of one batchsendmsg (error 90011 beyond).
pub const MAX_BATCH_RECIPIENTS: usize = 500;

/// A type whose documented rules can be checked before it is sent.
pub trait Validate {
    /// Every broken rule, or `Ok` when there is none.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// Collects errors while walking a request, keeping the JSON path of the field being checked.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    path: String,
    errors: Vec<ValidationError>,
}

impl Checker {
    /// Runs `check` with `segment` (a field name or `[i]`) appended to the path.
    pub(crate) fn at(&mut self, segment: &str, check: impl FnOnce(&mut Self)) {
        let saved = self.path.len();
        self.path = join_path(&self.path, segment);
        check(self);
        self.path.truncate(saved);
    }

    /// Records that `field` (relative to the current path) has `problem`.
    pub(crate) fn fail(&mut self, field: &str, problem: Problem) {
        self.errors.push(ValidationError::new(join_path(&self.path, field), problem));
    }

    /// Records that `field` has `problem`, showing the offending value.
    pub(crate) fn fail_value(&mut self, field: &str, problem: Problem, value: &str) {
        self.errors.push(ValidationError::new(join_path(&self.path, field), problem).with_value(value));
    }

    /// `field` must be present.
    pub(crate) fn required<T>(&mut self, field: &str, value: &Option<T>) {
        if value.is_none() {
            self.fail(field, Problem::Missing);
        }
    }

    /// `field` must be present and not empty.
    pub(crate) fn required_text(&mut self, field: &str, value: &Option<String>) {
        match value {
            None => self.fail(field, Problem::Missing),
            Some(text) if text.is_empty() => self.fail(field, Problem::Empty),
            Some(_) => {}
        }
    }

    /// `field`, when present, must be one of `allowed` (described as `described`).
    pub(crate) fn one_of(&mut self, field: &str, value: Option<u32>, allowed: &[u32], described: &'static str) {
        if let Some(value) = value.filter(|v| !allowed.contains(v)) {
            self.fail_value(field, Problem::NotAllowed { allowed: described }, &value.to_string());
        }
    }

    /// `field`, when present, must lie in `min..=max`.
    pub(crate) fn range(&mut self, field: &str, value: Option<i128>, min: i128, max: i128) {
        if let Some(actual) = value.filter(|v| !(min..=max).contains(v)) {
            self.fail(field, Problem::OutOfRange { min, max, actual });
        }
    }

    /// `field` must have between `min` and `max` entries.
    pub(crate) fn count(&mut self, field: &str, len: usize, min: usize, max: usize) {
        if len < min {
            self.fail(field, if len == 0 { Problem::Empty } else { Problem::Rule("has too few entries") });
        } else if len > max {
            self.fail(field, Problem::TooMany { max, actual: len });
        }
    }

    /// `field`, when present, must have at most `max` bytes.
    pub(crate) fn max_bytes(&mut self, field: &str, value: Option<&str>, max: usize) {
        if let Some(text) = value.filter(|t| t.len() > max) {
            self.fail_value(field, Problem::TooLong { max, actual: text.len() }, text);
        }
    }

    /// The collected errors.
    pub(crate) fn finish(self) -> Result<(), ValidationErrors> {
        ValidationErrors::from_vec(self.errors).map_or(Ok(()), Err)
    }
}

/// The size in bytes of `value` serialized as compact JSON, without building the bytes.
pub fn json_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Counter(usize);
    impl io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Serializing our own types into a counter cannot fail: they hold no maps with non-string keys.
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// The position of the first byte that a JSON string must escape (a quote, a backslash or a control character),
/// read eight bytes at a time: UserIDs are a dozen bytes, and a byte loop would be the slowest part of handling
/// a 500-recipient batch. `None` when the bytes can sit between quotes as they are.
pub fn first_json_special(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let mut le = [0_u8; 8];
        le.copy_from_slice(chunk);
        let flagged = json_special_bytes(u64::from_le_bytes(le));
        if flagged != 0 {
            return Some(offset + (flagged.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    chunks.remainder().iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|p| offset + p)
}

/// The top bit of each byte of `word` (little-endian) that may be a quote, a backslash or a control character;
/// the lowest one set is exact (the classic "has a zero byte" test, whose false positives only follow a true
/// one).
pub fn json_special_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_bytes = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    // Quote, backslash, or a byte below 0x20 (its top three bits clear).
    zero_bytes(word ^ (ONES * u64::from(b'"')))
        | zero_bytes(word ^ (ONES * u64::from(b'\\')))
        | zero_bytes(word & (ONES * 0xE0))
}

/// Which element kinds a command accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sendable {
    /// Every sendable kind (the one-to-one and group sending APIs).
    All,
    /// Text, Face, Location and Custom only (import_group_msg).
    Basic,
}

/// Received-only element kinds: they appear in history but cannot be sent.
const RECEIVED_ONLY: [&str; 2] = ["TIMGroupTipElem", "TIMGroupSystemNoticeElem"];

/// Checks each element of a body against the REST sending rules of spec §2.2.
pub(crate) fn check_elements(c: &mut Checker, field: &str, elements: &[MsgElement], sendable: Sendable) {
    c.at(field, |c| {
        for (i, element) in elements.iter().enumerate() {
            c.at(&format!("[{i}]"), |c| check_element(c, element, sendable));
        }
    });
}

fn check_element(c: &mut Checker, element: &MsgElement, sendable: Sendable) {
    let basic =
        matches!(element, MsgElement::Text(_) | MsgElement::Face(_) | MsgElement::Location(_) | MsgElement::Custom(_));
    if sendable == Sendable::Basic && !basic {
        c.fail_value(
            "MsgType",
            Problem::NotAllowed { allowed: "TIMTextElem, TIMFaceElem, TIMLocationElem or TIMCustomElem" },
            element.msg_type().unwrap_or_default(),
        );
        return;
    }
    c.at("MsgContent", |c| match element {
        MsgElement::Location(l) => {
            if !l.latitude.is_finite() || !(-90.0..=90.0).contains(&l.latitude) {
                c.fail_value(
                    "Latitude",
                    Problem::Rule("must be a finite number of degrees in -90..=90"),
                    &l.latitude.to_string(),
                );
            }
            if !l.longitude.is_finite() || !(-180.0..=180.0).contains(&l.longitude) {
                c.fail_value(
                    "Longitude",
                    Problem::Rule("must be a finite number of degrees in -180..=180"),
                    &l.longitude.to_string(),
                );
            }
        }
        MsgElement::Sound(s) => {
            c.required_text("Url", &s.url);
            c.required_text("UUID", &s.uuid);
            download_flag(c, "Download_Flag", s.download_flag);
        }
        MsgElement::Image(image) => {
            c.required_text("UUID", &image.uuid);
            c.required("ImageFormat", &image.image_format);
            c.one_of(
                "ImageFormat",
                image.image_format,
                &[1, 2, 3, 4, 255],
                "1 (JPG), 2 (GIF), 3 (PNG), 4 (BMP) or 255",
            );
            c.count("ImageInfoArray", image.image_info_array.len(), 1, 3);
            c.at("ImageInfoArray", |c| {
                for (i, info) in image.image_info_array.iter().enumerate() {
                    c.at(&format!("[{i}]"), |c| {
                        c.one_of("Type", Some(info.kind), &[1, 2, 3], "1 (original), 2 (large) or 3 (thumbnail)");
                        if info.url.is_empty() {
                            c.fail("URL", Problem::Empty);
                        }
                    });
                }
            });
        }
        MsgElement::File(file) => {
            c.required_text("Url", &file.url);
            c.required_text("UUID", &file.uuid);
            c.required("FileSize", &file.file_size);
            c.required("FileName", &file.file_name);
            download_flag(c, "Download_Flag", file.download_flag);
        }
        MsgElement::VideoFile(video) => {
            c.required_text("VideoUrl", &video.video_url);
            c.required_text("VideoUUID", &video.video_uuid);
            c.required_text("ThumbUrl", &video.thumb_url);
            c.required_text("ThumbUUID", &video.thumb_uuid);
            c.required("ThumbWidth", &video.thumb_width);
            c.required("ThumbHeight", &video.thumb_height);
            download_flag(c, "VideoDownloadFlag", video.video_download_flag);
            download_flag(c, "ThumbDownloadFlag", video.thumb_download_flag);
        }
        MsgElement::Relay(relay) => check_relay(c, relay),
        MsgElement::Unknown(raw) => match raw.get("MsgType").and_then(|t| t.as_str()) {
            Some(kind) if RECEIVED_ONLY.contains(&kind) => {
                c.fail_value("", Problem::Rule("is a received-only element kind and cannot be sent"), kind);
            }
            Some(_) => {}
            None => c.fail("", Problem::Rule("has no string MsgType")),
        },
        MsgElement::Text(_) | MsgElement::Face(_) | MsgElement::Custom(_) => {}
    });
}

fn download_flag(c: &mut Checker, field: &str, value: Option<u32>) {
    match value {
        None => c.fail(field, Problem::Missing),
        Some(2) => {}
        Some(other) => c.fail_value(
            field,
            Problem::NotAllowed { allowed: "2 (download from the URL) for REST sends" },
            &other.to_string(),
        ),
    }
}

fn check_relay(c: &mut Checker, relay: &RelayElem) {
    match (&relay.msg_list, &relay.json_msg_key) {
        (Some(_), Some(_)) => c.fail("", Problem::Rule("has both MsgList and JsonMsgKey, exactly one allowed")),
        (None, None) => c.fail("", Problem::Rule("has neither MsgList nor JsonMsgKey, exactly one required")),
        (Some(list), None) if json_len(list) > MAX_MSG_BYTES => {
            c.fail("MsgList", Problem::TooLong { max: MAX_MSG_BYTES, actual: json_len(list) });
        }
        _ => {}
    }
}

/// Checks a message's `MsgBody`: each element against the sending rules (of `sendable`), and the 12 KB content
/// limit of the body plus its `CloudCustomData`.
pub(crate) fn check_message(
    c: &mut Checker,
    body: &crate::body::MsgBody,
    sendable: Sendable,
    cloud_custom_data: Option<&str>,
) {
    check_elements(c, "MsgBody", body.elements(), sendable);
    check_content_size(c, body, cloud_custom_data);
}

/// Checks the 12 KB content limit of one message: `MsgBody` plus `CloudCustomData`.
pub(crate) fn check_content_size<B: Serialize + ?Sized>(c: &mut Checker, body: &B, cloud_custom_data: Option<&str>) {
    let size = json_len(body) + cloud_custom_data.map_or(0, str::len);
    if size > MAX_MSG_BYTES {
        c.fail("MsgBody", Problem::TooLong { max: MAX_MSG_BYTES, actual: size });
    }
}

/// `OfflinePushInfo`'s documented ranges, at the checker's path: `PushFlag` 0 (push) or 1 (no offline push),
/// `ApnsInfo.BadgeMode` 0 (count the badge) or 1 (do not increment it).
pub(crate) fn check_offline_push(c: &mut Checker, info: &crate::push::OfflinePushInfo) {
    check_switch(c, "PushFlag", info.push_flag);
    if let Some(apns) = &info.apns_info {
        c.at("ApnsInfo", |c| check_switch(c, "BadgeMode", apns.badge_mode));
    }
}

/// A 0/1 switch.
pub(crate) fn check_switch(c: &mut Checker, field: &str, value: Option<u32>) {
    c.one_of(field, value, &[0, 1], "0 or 1");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_bytes_are_found_word_by_word() {
        let naive = |bytes: &[u8]| bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let mut samples: Vec<Vec<u8>> =
            vec![b"".to_vec(), b"abcdefghijklmnop".to_vec(), "é中🙂xyz\"".as_bytes().to_vec()];
        for position in 0..20 {
            for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut sample = vec![b'a'; 20];
                sample[position] = special;
                samples.push(sample);
            }
        }
        for sample in samples {
            assert_eq!(first_json_special(&sample), naive(&sample), "{sample:?}");
        }
    }
}
