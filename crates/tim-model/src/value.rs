//! Values that the JSON API types loosely: a profile field's `Value` is a string for some tags and an unsigned
//! integer for others; a relationship field's may also be a list of strings.

use serde::{Deserialize, Serialize};

/// A JSON string or unsigned integer, kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextOrNumber {
    /// A JSON number (Tencent's integer fields are unsigned).
    Number(u64),
    /// A JSON string.
    Text(String),
}

impl TextOrNumber {
    /// The string, when this is one.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            Self::Number(_) => None,
        }
    }

    /// The number, when this is one.
    pub fn as_number(&self) -> Option<u64> {
        match self {
            Self::Number(number) => Some(*number),
            Self::Text(_) => None,
        }
    }
}

impl From<&str> for TextOrNumber {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<u64> for TextOrNumber {
    fn from(number: u64) -> Self {
        Self::Number(number)
    }
}

/// A relationship field's value (`Tag_SNS_IM_*`, `Tag_SNS_Custom_*`): a string, an unsigned integer, or a list of
/// strings (`Tag_SNS_IM_Group`), kept as it came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SnsValue {
    /// A JSON number.
    Number(u64),
    /// A JSON string.
    Text(String),
    /// A JSON array of strings.
    List(Vec<String>),
}

impl From<TextOrNumber> for SnsValue {
    fn from(value: TextOrNumber) -> Self {
        match value {
            TextOrNumber::Number(number) => Self::Number(number),
            TextOrNumber::Text(text) => Self::Text(text),
        }
    }
}
