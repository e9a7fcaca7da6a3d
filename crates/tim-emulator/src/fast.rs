//! batchsendmsg's fast path: the recipients borrowed from the body instead of 500 owned `UserId`s.
//!
//! Decoding a 500-recipient batch with `tim-model` costs about 100 µs on our machines, nearly all of it
//! allocating and freeing 500 strings: four times what a bare server spends on the whole request. So the
//! emulator locates the `To_Account` array, scans its strings in place, checks each with `UserId::check`, and lets
//! `tim-model` decode and validate the rest of the body with a one-recipient placeholder in its place, adding the
//! real recipients' count and size to the packet-size rule itself.
//!
//! The model stays the judge: anything unusual (an escaped recipient, a count or size out of range, any rule
//! broken) makes the fast path give up, and the caller decodes the whole body with `tim-model`, which then names
//! the error. The fast path only ever accepts what the model accepts, with the same recipients; a property test
//! below holds it to that.

use crate::state::{Recipient, UserKey};
use tim_model::api::decode_request;
use tim_model::c2c::BatchSendMsgRequest;
use tim_model::validate::{MAX_BATCH_RECIPIENTS, MAX_MSG_BYTES, first_json_special, json_len, json_special_bytes};
use tim_model::{MAX_USER_ID_BYTES, UserId};

/// What stands in for the recipients while the model checks the rest.
const PLACEHOLDER: &str = r#"["x"]"#;

/// A batch the model accepts, with its recipients borrowed from the body.
#[derive(Debug)]
pub(crate) struct FastBatch<'a> {
    /// The request, its `to_account` left empty.
    pub(crate) request: BatchSendMsgRequest,
    /// Where each recipient sits in the body, in order: 8 bytes each, so a batch's scratch stays in the
    /// first-level cache (keys are built while storing, from the bytes just scanned).
    recipients: Spans<'a>,
}

/// A recipient's place in the body.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: u32,
    len: u8,
}

/// The recipients of a batch, as places in its body.
#[derive(Debug)]
pub(crate) struct Spans<'a> {
    text: &'a str,
    spans: Vec<Span>,
}

impl<'a> Spans<'a> {
    fn id(&self, span: Span) -> &'a str {
        let start = span.start as usize;
        // Spans lie between ASCII quotes, hence on character boundaries.
        self.text.get(start..start + usize::from(span.len)).unwrap_or_default()
    }

    /// The recipients, in order, with their keys.
    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = Recipient<'a>> + '_ {
        let bytes = self.text.as_bytes();
        self.spans.iter().map(move |span| Recipient {
            id: self.id(*span),
            key: Some(key_at(bytes, span.start as usize, usize::from(span.len))),
        })
    }
}

impl<'a> FastBatch<'a> {
    /// The request (its `to_account` empty) and its recipients.
    pub(crate) fn into_parts(self) -> (BatchSendMsgRequest, Spans<'a>) {
        (self.request, self.recipients)
    }

    #[cfg(test)]
    fn recipients(&self) -> impl ExactSizeIterator<Item = Recipient<'a>> + '_ {
        self.recipients.iter()
    }
}

/// The batch, when the fast path can vouch for it; `None` means "decode it with the model".
pub(crate) fn batch(body: &[u8]) -> Option<FastBatch<'_>> {
    let text = std::str::from_utf8(body).ok()?;
    let Recipients { start, end, spans } = locate_recipients(text)?;
    if spans.is_empty() || spans.len() > MAX_BATCH_RECIPIENTS {
        return None;
    }
    let recipients = Spans { text, spans };
    if !recipients.spans.iter().all(|span| UserId::check(recipients.id(*span)).is_ok()) {
        return None;
    }
    let mut rest = Vec::with_capacity(body.len() - (end - start) + PLACEHOLDER.len());
    rest.extend_from_slice(&body[..start]);
    rest.extend_from_slice(PLACEHOLDER.as_bytes());
    rest.extend_from_slice(&body[end..]);
    let mut request: BatchSendMsgRequest = decode_request(&rest).ok()?;
    // The packet-size rule (error 93000) counts the recipients: the model measured the placeholder instead.
    // Recipients without escapes serialize as themselves in quotes, separated by commas.
    let spans = &recipients.spans;
    let recipients_len = 2 + spans.iter().map(|span| usize::from(span.len) + 2).sum::<usize>() + spans.len() - 1;
    let packet = json_len(&request) - PLACEHOLDER.len() + recipients_len;
    if packet > MAX_MSG_BYTES {
        return None;
    }
    request.to_account.clear();
    Some(FastBatch { request, recipients })
}

/// The top-level `To_Account` array: its byte range and where its strings are.
struct Recipients {
    start: usize,
    end: usize,
    spans: Vec<Span>,
}

fn skip_whitespace(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i).is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// A string starting at `i` (a quote) without escapes or control characters: its content and the index after it.
fn plain_string(text: &str, i: usize) -> Option<(&str, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let end = start + first_json_special(bytes.get(start..)?)?;
    // Both ends are ASCII, hence character boundaries.
    (bytes[end] == b'"').then(|| (&text[start..end], end + 1))
}

/// The index after the string starting at `i` (a quote), escapes and all.
fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match bytes.get(j)? {
            b'"' => return Some(j + 1),
            b'\\' => j += 2,
            _ => j += 1,
        }
    }
}

/// The index after the value starting at `i`. Lenient about what it skips: the model decodes it afterwards.
fn skip_value(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'"' => skip_string(bytes, i),
        b'{' | b'[' => {
            let mut depth = 0_usize;
            let mut j = i;
            loop {
                match bytes.get(j)? {
                    b'"' => {
                        j = skip_string(bytes, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let length = bytes[i..].iter().position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'));
            let end = i + length.unwrap_or(bytes.len() - i);
            (end > i).then_some(end)
        }
    }
}

/// Walks the top-level object and scans its one `To_Account` array of plain strings; `None` when the body is not
/// such an object (no `To_Account`, twice `To_Account`, an escaped key, a recipient with escapes, ...).
fn locate_recipients(text: &str) -> Option<Recipients> {
    let bytes = text.as_bytes();
    let mut i = skip_whitespace(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_whitespace(bytes, i + 1);
    let mut found = None;
    loop {
        let (key, after_key) = plain_string(text, i)?;
        i = skip_whitespace(bytes, after_key);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_whitespace(bytes, i + 1);
        if key == "To_Account" {
            if found.is_some() {
                return None;
            }
            let (spans, end) = plain_string_array(bytes, i)?;
            found = Some(Recipients { start: i, end, spans });
            i = end;
        } else {
            i = skip_value(bytes, i)?;
        }
        i = skip_whitespace(bytes, i);
        match bytes.get(i)? {
            b',' => i = skip_whitespace(bytes, i + 1),
            b'}' => break,
            _ => return None,
        }
    }
    (skip_whitespace(bytes, i + 1) == bytes.len()).then_some(())?;
    found
}

/// The array of recipients starting at `i` (plain strings of at most 32 bytes), and the index after its `]`.
fn plain_string_array(bytes: &[u8], i: usize) -> Option<(Vec<Span>, usize)> {
    if bytes.get(i) != Some(&b'[') {
        return None;
    }
    let mut spans = Vec::with_capacity(MAX_BATCH_RECIPIENTS);
    let mut j = skip_whitespace(bytes, i + 1);
    if bytes.get(j) == Some(&b']') {
        return Some((spans, j + 1));
    }
    loop {
        if bytes.get(j) != Some(&b'"') {
            return None;
        }
        let start = j + 1;
        let end = recipient_end(bytes, start)?;
        spans.push(Span { start: u32::try_from(start).ok()?, len: (end - start) as u8 });
        j = skip_whitespace(bytes, end + 1);
        match bytes.get(j)? {
            b',' => j = skip_whitespace(bytes, j + 1),
            b']' => return Some((spans, j + 1)),
            _ => return None,
        }
    }
}

/// The word of `bytes` at `at`, little-endian; past the end, the bytes left padded with zeros (which read as
/// control characters).
fn word_at(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(chunk) => {
            let mut le = [0_u8; 8];
            le.copy_from_slice(chunk);
            u64::from_le_bytes(le)
        }
        None => bytes.get(at..).unwrap_or_default().iter().rev().fold(0, |word, &b| (word << 8) | u64::from(b)),
    }
}

/// The index of the closing quote of the plain string starting at `start` (after its opening quote), read a word
/// at a time; `None` for a string with an escape or a control character, or longer than a UserID.
fn recipient_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut offset = 0;
    loop {
        let flagged = json_special_bytes(word_at(bytes, start + offset));
        if flagged != 0 {
            let end = start + offset + (flagged.trailing_zeros() / 8) as usize;
            return (bytes.get(end) == Some(&b'"') && end - start <= MAX_USER_ID_BYTES).then_some(end);
        }
        if offset == MAX_USER_ID_BYTES {
            return None;
        }
        offset += 8;
    }
}

/// The key of the `len` bytes at `start` (a scanned recipient), built a word at a time.
fn key_at(bytes: &[u8], start: usize, len: usize) -> UserKey {
    let mut words = [0_u64; MAX_USER_ID_BYTES / 8];
    for (k, word) in words.iter_mut().enumerate().take(len.div_ceil(8)) {
        let left = len - 8 * k;
        let value = word_at(bytes, start + 8 * k);
        *word = if left >= 8 { value } else { value & ((1_u64 << (8 * left)) - 1) };
    }
    UserKey::from_words(len, words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn body(recipients: &[&str]) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "From_Account": "admin", "To_Account": recipients, "MsgRandom": 7,
            "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "hi" } }]
        }))
        .unwrap()
    }

    #[test]
    fn borrows_plain_recipients_and_keeps_the_rest() {
        let body = body(&["a", "中文", "b"]);
        let fast = batch(&body).unwrap();
        let ids: Vec<&str> = fast.recipients().map(|r| r.id).collect();
        assert_eq!(ids, ["a", "中文", "b"]);
        for recipient in fast.recipients() {
            assert_eq!(recipient.key, UserKey::new(recipient.id), "{}", recipient.id);
        }
        assert_eq!(fast.request.msg_random, Some(7));
        assert_eq!(fast.request.from_account.as_ref().map(UserId::as_str), Some("admin"));
        assert!(fast.request.to_account.is_empty());
    }

    #[test]
    fn gives_up_on_anything_unusual() {
        for recipients in [&[][..], &["a\"b"], &["a\\b"], &[""], &["x"; 501]] {
            assert!(batch(&body(recipients)).is_none(), "{recipients:?}");
        }
        let long = "y".repeat(33);
        assert!(batch(&body(&[long.as_str()])).is_none());
        for raw in
            [r#"{"To_Account":["a",1],"MsgRandom":1,"MsgBody":[]}"#, r#"{"To_Account":"a"}"#, r#"{"MsgRandom":1}"#]
        {
            assert!(batch(raw.as_bytes()).is_none(), "{raw}");
        }
        let twice = r#"{"To_Account":["a"],"To_Account":["b"],"MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}]}"#;
        assert!(batch(twice.as_bytes()).is_none());
    }

    #[test]
    fn finds_the_array_across_whitespace() {
        let body = br#"{ "MsgRandom": 1, "To_Account" : [ "a" ,
            "b"	] , "MsgBody": [{"MsgType":"TIMTextElem","MsgContent":{"Text":"x"}}] }"#;
        let fast = batch(body).unwrap();
        let ids: Vec<&str> = fast.recipients().map(|r| r.id).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(fast.request.msg_random, Some(1));
    }

    #[test]
    fn the_packet_size_rule_counts_the_real_recipients() {
        // 500 recipients of 24 bytes: 13.5 KB of recipients, while the rest of the body is small.
        let ids: Vec<String> = (0..500).map(|i| format!("{i:024}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let body = body(&ids);
        let errors = decode_request::<BatchSendMsgRequest>(&body).expect_err("the model refuses the packet");
        assert_eq!(errors.first().field(), "");
        assert!(batch(&body).is_none());
    }

    fn recipient() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-z0-9_]{1,12}",
            1 => "\\PC{0,34}",
            1 => "[a-z\"\\\\ ]{1,5}",
        ]
    }

    proptest! {
        /// The fast path accepts only what the model accepts, with the same recipients and the same other fields;
        /// and it accepts every such batch whose recipients need no escaping.
        #[test]
        fn agrees_with_the_model(
            recipients in prop::collection::vec(recipient(), 0..8),
            text in "\\PC{0,40}",
            sync in prop::option::of(0_u32..4),
            padding in 0_usize..12_100,
        ) {
            let mut document = json!({
                "To_Account": recipients, "MsgRandom": 1,
                "MsgBody": [{ "MsgType": "TIMTextElem", "MsgContent": { "Text": format!("{text}{}", "p".repeat(padding)) } }]
            });
            if let Some(sync) = sync {
                document["SyncOtherMachine"] = json!(sync);
            }
            let body = serde_json::to_vec(&document).unwrap();
            let model = decode_request::<BatchSendMsgRequest>(&body);
            match batch(&body) {
                Some(fast) => {
                    let mut model = model.expect("the fast path accepted what the model refuses");
                    let ids: Vec<&str> = model.to_account.iter().map(UserId::as_str).collect();
                    let fast_ids: Vec<&str> = fast.recipients().map(|r| r.id).collect();
                    prop_assert_eq!(&fast_ids, &ids);
                    for recipient in fast.recipients() {
                        prop_assert_eq!(recipient.key, UserKey::new(recipient.id));
                    }
                    model.to_account.clear();
                    prop_assert_eq!(fast.request, model);
                }
                None => {
                    let plain = recipients.iter().all(|r| !r.contains(['"', '\\']) && !r.chars().any(char::is_control));
                    prop_assert!(model.is_err() || !plain, "the fast path gave up on a plain batch the model accepts");
                }
            }
        }
    }
}
