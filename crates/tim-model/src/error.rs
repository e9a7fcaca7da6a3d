//! Errors of the wire model: a request that breaks a documented rule, or JSON that does not decode.
//!
//! Every error names the field by its JSON path (`To_Account[3]`, `MsgBody[0].MsgContent.Text`), the rule, and
//! the offending value or size, so a caller can fix the request without reading Tencent's documentation.

use std::fmt;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is absent.
    Missing,
    /// A field that must hold something is empty.
    Empty,
    /// A string or a serialized part is longer, in bytes, than allowed.
    TooLong {
        /// The most bytes allowed.
        max: usize,
        /// The bytes found.
        actual: usize,
    },
    /// A list holds more entries than allowed.
    TooMany {
        /// The most entries allowed.
        max: usize,
        /// The entries found.
        actual: usize,
    },
    /// A number lies outside its documented range.
    OutOfRange {
        /// The smallest value allowed.
        min: i128,
        /// The largest value allowed.
        max: i128,
        /// The value found.
        actual: i128,
    },
    /// A value is not one of those the field accepts.
    NotAllowed {
        /// The values the field accepts, as documentation would list them.
        allowed: &'static str,
    },
    /// A rule that involves the field and its context is broken (the sentence says which).
    Rule(&'static str),
    /// The JSON does not decode into the field's type (the decoder's own words).
    Malformed(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("is required"),
            Self::Empty => f.write_str("must not be empty"),
            Self::TooLong { max, actual } => write!(f, "is {actual} bytes, at most {max} allowed"),
            Self::TooMany { max, actual } => write!(f, "has {actual} entries, at most {max} allowed"),
            Self::OutOfRange { min, max, actual } => write!(f, "is {actual}, allowed range is {min}..={max}"),
            Self::NotAllowed { allowed } => write!(f, "must be one of {allowed}"),
            Self::Rule(rule) => f.write_str(rule),
            Self::Malformed(message) => write!(f, "does not decode: {message}"),
        }
    }
}

/// One broken rule: the field's JSON path, what is wrong, and the offending value when it is short enough to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    field: String,
    problem: Problem,
    value: Option<String>,
}

/// The longest value, in characters, that an error message repeats; longer ones are cut with `…`.
const MAX_SHOWN_VALUE_CHARS: usize = 48;

impl ValidationError {
    /// An error about `field` (a JSON path such as `To_Account[3]`).
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self { field: field.into(), problem, value: None }
    }

    /// The same error, also showing the offending value (cut to a readable length).
    #[must_use]
    pub fn with_value(mut self, value: &str) -> Self {
        let mut shown: String = value.chars().take(MAX_SHOWN_VALUE_CHARS).collect();
        if shown.len() < value.len() {
            shown.push('…');
        }
        self.value = Some(shown);
        self
    }

    /// The JSON path of the field, for example `MsgBody[0].MsgContent.Text`.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// The offending value, as shown in the message, when there is one.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// The problem and the offending value, without the field: what a decoder reports at the field's position.
    pub fn detail(&self) -> String {
        match &self.value {
            Some(value) => format!("{} (value {value:?})", self.problem),
            None => self.problem.to_string(),
        }
    }

    /// The same error placed under a parent path: `To_Account` under `""` stays, `Text` under `MsgContent`
    /// becomes `MsgContent.Text`, `[3]` under `To_Account` becomes `To_Account[3]`.
    #[must_use]
    pub fn under(mut self, parent: &str) -> Self {
        self.field = join_path(parent, &self.field);
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = if self.field.is_empty() { "request" } else { &self.field };
        write!(f, "{field} {}", self.detail())
    }
}

impl std::error::Error for ValidationError {}

/// Every rule a request breaks, in the order the fields were checked. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(Vec<ValidationError>);

impl ValidationErrors {
    /// Wraps a non-empty list; `None` when the list is empty.
    pub fn from_vec(errors: Vec<ValidationError>) -> Option<Self> {
        if errors.is_empty() { None } else { Some(Self(errors)) }
    }

    /// The individual errors.
    pub fn errors(&self) -> &[ValidationError] {
        &self.0
    }

    /// The first error (there always is one).
    pub fn first(&self) -> &ValidationError {
        &self.0[0]
    }

    /// Whether some error concerns exactly this field path.
    pub fn concerns(&self, field: &str) -> bool {
        self.0.iter().any(|error| error.field == field)
    }
}

impl From<ValidationError> for ValidationErrors {
    fn from(error: ValidationError) -> Self {
        Self(vec![error])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Joins a parent JSON path and a child path or index.
pub(crate) fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (true, _) => child.to_owned(),
        (false, true) => parent.to_owned(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}
