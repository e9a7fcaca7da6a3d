//! REST JSON paths (`MsgBody[0].MsgContent.Text`) turned into this API's field paths (`msg_body[0].text.text`).
//!
//! Most REST names map to proto names by snake-casing (`From_Account` → `from_account`, `VideoUUID` →
//! `video_uuid`). The exceptions are declared per request as [`Field`]s: message bodies, whose proto form names
//! the element kind where REST says `MsgContent`, and lists of one-field objects that the proto flattens into
//! lists of strings (`CheckItem[2].UserID` → `user_ids[2]`).

use crate::pb;
use crate::pb::msg_element::Elem;

/// A top-level REST field whose proto path is not its snake-cased name.
pub(super) enum Field<'a> {
    /// A message body: `MsgBody[i].MsgContent.X` → `msg_body[i].<kind>.x`, the kind read from `elements`.
    Body {
        /// The REST name (`MsgBody`).
        rest: &'static str,
        /// The proto name (`msg_body`).
        proto: &'static str,
        /// The elements that were received.
        elements: &'a [pb::MsgElement],
    },
    /// A list of objects of one field, flattened to a list of that field: `CheckItem[i].UserID` → `user_ids[i]`.
    Flat {
        /// The REST list (`CheckItem`).
        rest: &'static str,
        /// The REST field inside each object (`UserID`).
        inner: &'static str,
        /// The proto list (`user_ids`).
        proto: &'static str,
    },
    // The generator emits this for a declaration that renames a top-level field; no declaration does yet.
    #[allow(dead_code)]
    /// A field whose proto name is not its snake-cased REST name: `Rest` → `proto`, the rest of the path plain.
    Renamed {
        /// The REST name.
        rest: &'static str,
        /// The proto name.
        proto: &'static str,
    },
    /// A list of items that each carry a message body: `MsgList[i].MsgBody[j]...` with each item's elements.
    Items {
        /// The REST list (`MsgList`).
        rest: &'static str,
        /// The proto list (`msg_list`).
        proto: &'static str,
        /// Each item's elements, in order.
        bodies: Vec<&'a [pb::MsgElement]>,
    },
}

/// One step of a REST path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment<'a> {
    /// A field name.
    Key(&'a str),
    /// A list index, as written.
    Index(&'a str),
}

impl Segment<'_> {
    /// The index as a number, when this is an index.
    fn index(&self) -> Option<usize> {
        match self {
            Self::Index(text) => text.parse().ok(),
            Self::Key(_) => None,
        }
    }
}

/// Splits `A[1].B` into `A`, `[1]`, `B`. Text that does not parse as a path stays one name.
fn parse(path: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|part| !part.is_empty()) {
        let (name, mut indices) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !name.is_empty() {
            segments.push(Segment::Key(name));
        }
        while let Some(inner) = indices.strip_prefix('[') {
            let Some(end) = inner.find(']') else {
                segments.push(Segment::Key(indices));
                break;
            };
            segments.push(Segment::Index(&inner[..end]));
            indices = &inner[end + 1..];
        }
    }
    segments
}

/// A proto path under construction.
#[derive(Debug, Default)]
struct Writer(String);

impl Writer {
    /// Appends a proto field name as it is.
    fn name(&mut self, name: &str) {
        if !self.0.is_empty() {
            self.0.push('.');
        }
        self.0.push_str(name);
    }

    /// Appends a list index.
    fn index(&mut self, index: &str) {
        self.0.push('[');
        self.0.push_str(index);
        self.0.push(']');
    }

    /// Appends segments that have no special meaning: names snake-cased, indices kept.
    fn plain(&mut self, segments: &[Segment<'_>]) {
        for segment in segments {
            match segment {
                Segment::Key(name) => self.name(&snake_case(name)),
                Segment::Index(index) => self.index(index),
            }
        }
    }

    /// Appends the segments after a message body's name; `proto` is the body's proto name.
    fn body(&mut self, proto: &str, elements: &[pb::MsgElement], segments: &[Segment<'_>]) {
        self.name(proto);
        let Some((first, rest)) = segments.split_first() else { return };
        let Segment::Index(index) = first else { return self.plain(segments) };
        self.index(index);
        let element = first.index().and_then(|i| elements.get(i)).and_then(|element| element.elem.as_ref());
        match (element, rest.split_first()) {
            // The whole element is one string: every path inside it points at that string.
            (Some(elem @ Elem::UnknownJson(_)), _) => self.name(kind(elem)),
            (Some(elem), Some((Segment::Key("MsgType"), _))) => self.name(kind(elem)),
            (Some(elem), Some((Segment::Key("MsgContent"), content))) => {
                self.name(kind(elem));
                self.content(elem, content);
            }
            _ => self.plain(rest),
        }
    }

    /// Appends the segments inside an element's `MsgContent`.
    fn content(&mut self, elem: &Elem, segments: &[Segment<'_>]) {
        if let (Elem::Relay(relay), [Segment::Key("MsgList"), index, Segment::Key("MsgBody"), rest @ ..]) =
            (elem, segments)
            && let Some(message) = index.index().and_then(|i| relay.msg_list.get(i))
        {
            self.name("msg_list");
            self.plain(&[*index]);
            return self.body("msg_body", &message.msg_body, rest);
        }
        self.plain(segments);
    }
}

/// The proto name of an element's kind (the `MsgElement.elem` oneof field).
pub(super) fn kind(elem: &Elem) -> &'static str {
    match elem {
        Elem::Text(_) => "text",
        Elem::Location(_) => "location",
        Elem::Face(_) => "face",
        Elem::Custom(_) => "custom",
        Elem::Sound(_) => "sound",
        Elem::Image(_) => "image",
        Elem::File(_) => "file",
        Elem::VideoFile(_) => "video_file",
        Elem::Relay(_) => "relay",
        Elem::UnknownJson(_) => "unknown_json",
    }
}

/// A REST name in snake case, as the proto spells it: `From_Account` → `from_account`, `UserID` → `user_id`,
/// `OPPOChannelID` → `oppo_channel_id`, `HuaWeiChannelID` → `huawei_channel_id`.
fn snake_case(name: &str) -> String {
    // The proto treats these brand names as one word.
    let name = name.replace("HuaWei", "Huawei").replace("XiaoMi", "Xiaomi");
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let previous = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|next| next.is_lowercase());
            let starts_word =
                previous.is_lowercase() || previous.is_ascii_digit() || (previous.is_uppercase() && next_is_lower);
            if starts_word {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Maps a REST path of a request whose exceptional top-level fields are `fields`.
pub(super) fn map(rest_path: &str, fields: &[Field<'_>]) -> String {
    let segments = parse(rest_path);
    let mut out = Writer::default();
    let Some((Segment::Key(first), rest)) = segments.split_first() else {
        out.plain(&segments);
        return out.0;
    };
    let field = fields.iter().find(|field| match field {
        Field::Body { rest, .. }
        | Field::Flat { rest, .. }
        | Field::Renamed { rest, .. }
        | Field::Items { rest, .. } => rest == first,
    });
    match field {
        Some(Field::Body { proto, elements, .. }) => out.body(proto, elements, rest),
        Some(Field::Flat { inner, proto, .. }) => {
            out.name(proto);
            match rest {
                [index @ Segment::Index(_), Segment::Key(key), tail @ ..] if key == inner => {
                    out.plain(&[*index]);
                    out.plain(tail);
                }
                _ => out.plain(rest),
            }
        }
        Some(Field::Renamed { proto, .. }) => {
            out.name(proto);
            out.plain(rest);
        }
        Some(Field::Items { proto, bodies, .. }) => {
            out.name(proto);
            if let [index, Segment::Key("MsgBody"), tail @ ..] = rest
                && let Some(elements) = index.index().and_then(|i| bodies.get(i))
            {
                out.plain(&[*index]);
                out.body("msg_body", elements, tail);
            } else {
                out.plain(rest);
            }
        }
        None => out.plain(&segments),
    }
    out.0
}

/// Maps a REST path with no exceptional fields.
pub(super) fn plain(rest_path: &str) -> String {
    map(rest_path, &[])
}
