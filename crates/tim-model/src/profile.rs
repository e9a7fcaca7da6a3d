//! Profiles: portrait_get and portrait_set.
//!
//! The types, limits and field checks are declared in `crates/tim-model/commands/profile.toml` and generated into
//! `profile/generated.rs` (`cargo xtask codegen`). What depends on a field's tag is here: which tags exist, which
//! take a number and which a string, the enumerated values and the lengths.

mod generated;

pub use generated::*;

use crate::Problem;
use crate::TextOrNumber;
use crate::validate::Checker;

/// The prefix of the app's own profile fields, which the app declares in the console.
pub const CUSTOM_TAG_PREFIX: &str = "Tag_Profile_Custom_";

/// The prefix of every profile field, standard or custom (friend_get_list reads them beside friend fields).
pub const TAG_PREFIX: &str = "Tag_Profile_";

/// `Tag_Profile_IM_AllowType`: how others may add the account as a friend.
pub const ALLOW_TYPE_TAG: &str = "Tag_Profile_IM_AllowType";
/// AllowType: a friend request waits for the account's confirmation.
pub const ALLOW_TYPE_NEED_CONFIRM: &str = "AllowType_Type_NeedConfirm";
/// AllowType: anyone may add the account.
pub const ALLOW_TYPE_ALLOW_ANY: &str = "AllowType_Type_AllowAny";
/// AllowType: nobody may add the account.
pub const ALLOW_TYPE_DENY_ANY: &str = "AllowType_Type_DenyAny";

/// The longest name of a custom field after [`CUSTOM_TAG_PREFIX`], in letters.
pub const MAX_CUSTOM_TAG_LETTERS: usize = 8;

/// The longest string value of a profile field, in bytes (error 40601 beyond).
pub const MAX_TAG_VALUE_BYTES: usize = 500;

/// The rule a tag breaks when it is neither a standard tag nor a well-formed custom tag (error 40009).
pub const UNKNOWN_TAG: &str = "is not a standard Tag_Profile_IM_* tag nor Tag_Profile_Custom_ and 1 to 8 letters";

/// The rule a value breaks when its JSON type is not its tag's (error 40610).
pub const WRONG_VALUE_TYPE: &str = "has the wrong type for its tag (a number for integer tags, else a string)";

/// What a standard tag's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// A string of at most this many bytes.
    Text(usize),
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// An unsigned 32-bit integer.
    Number,
}

/// The standard profile fields and what each value must be.
pub const STANDARD_TAGS: &[(&str, TagKind)] = &[
    ("Tag_Profile_IM_Nick", TagKind::Text(MAX_TAG_VALUE_BYTES)),
    ("Tag_Profile_IM_Gender", TagKind::OneOf(&["Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male"])),
    ("Tag_Profile_IM_BirthDay", TagKind::Number),
    ("Tag_Profile_IM_Location", TagKind::Text(16)),
    ("Tag_Profile_IM_SelfSignature", TagKind::Text(MAX_TAG_VALUE_BYTES)),
    (ALLOW_TYPE_TAG, TagKind::OneOf(&[ALLOW_TYPE_NEED_CONFIRM, ALLOW_TYPE_ALLOW_ANY, ALLOW_TYPE_DENY_ANY])),
    ("Tag_Profile_IM_Language", TagKind::Number),
    ("Tag_Profile_IM_Image", TagKind::Text(MAX_TAG_VALUE_BYTES)),
    ("Tag_Profile_IM_MsgSettings", TagKind::Number),
    ("Tag_Profile_IM_AdminForbidType", TagKind::OneOf(&["AdminForbid_Type_None", "AdminForbid_Type_SendOut"])),
    ("Tag_Profile_IM_Level", TagKind::Number),
    ("Tag_Profile_IM_Role", TagKind::Number),
];

/// The standard tag account_import's `Nick` writes.
pub const NICK_TAG: &str = "Tag_Profile_IM_Nick";
/// The standard tag account_import's `FaceUrl` writes.
pub const IMAGE_TAG: &str = "Tag_Profile_IM_Image";

/// What `tag`'s value must be: a standard tag's kind, a string for a well-formed custom tag, `None` otherwise.
pub fn tag_kind(tag: &str) -> Option<TagKind> {
    if let Some((_, kind)) = STANDARD_TAGS.iter().find(|(name, _)| *name == tag) {
        return Some(*kind);
    }
    let letters = tag.strip_prefix(CUSTOM_TAG_PREFIX)?;
    let well_formed =
        (1..=MAX_CUSTOM_TAG_LETTERS).contains(&letters.len()) && letters.bytes().all(|b| b.is_ascii_alphabetic());
    well_formed.then_some(TagKind::Text(MAX_TAG_VALUE_BYTES))
}

impl ProfileItem {
    /// A field with its tag and value.
    pub fn new(tag: impl Into<String>, value: impl Into<TextOrNumber>) -> Self {
        Self { tag: tag.into(), value: value.into() }
    }

    /// The value must suit the tag.
    fn rules(&self, c: &mut Checker) {
        let Some(kind) = tag_kind(&self.tag) else {
            c.fail_value("Tag", Problem::Rule(UNKNOWN_TAG), &self.tag);
            return;
        };
        let custom = self.tag.starts_with(CUSTOM_TAG_PREFIX);
        match (kind, &self.value) {
            (TagKind::Text(max), TextOrNumber::Text(text)) => c.max_bytes("Value", Some(text), max),
            // The console's custom fields hold strings; some SDKs store numbers in them, which the service keeps.
            (TagKind::Text(_), TextOrNumber::Number(_)) if custom => {}
            (TagKind::OneOf(allowed), TextOrNumber::Text(text)) if !allowed.contains(&text.as_str()) => {
                c.fail_value("Value", Problem::NotAllowed { allowed: "one of the tag's documented values" }, text);
            }
            (TagKind::OneOf(_), TextOrNumber::Text(_)) => {}
            (TagKind::Number, TextOrNumber::Number(number)) => {
                c.range("Value", Some(i128::from(*number)), 0, i128::from(u32::MAX));
            }
            _ => c.fail("Value", Problem::Rule(WRONG_VALUE_TYPE)),
        }
    }
}

impl PortraitGetRequest {
    /// Every tag asked for must be one that can exist.
    fn rules(&self, c: &mut Checker) {
        for (i, tag) in self.tag_list.iter().enumerate() {
            if tag_kind(tag).is_none() {
                c.fail_value(&format!("TagList[{i}]"), Problem::Rule(UNKNOWN_TAG), tag);
            }
        }
    }
}
