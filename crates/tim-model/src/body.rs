//! [`MsgBody`]: a message's elements, never empty and with at most one `TIMCustomElem`.

use crate::elem::MsgElement;
use crate::error::{Problem, ValidationError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The elements of a message to send: at least one, and at most one `TIMCustomElem` (spec §2.1).
///
/// ```
/// use tim_model::{MsgBody, MsgElement};
/// assert!(MsgBody::new(vec![MsgElement::text("hi")]).is_ok());
/// assert!(MsgBody::new(vec![]).is_err());
/// assert!(MsgBody::new(vec![MsgElement::custom("a"), MsgElement::custom("b")]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MsgBody(Vec<MsgElement>);

impl MsgBody {
    /// Checks the elements: not empty, at most one custom element.
    pub fn new(elements: Vec<MsgElement>) -> Result<Self, ValidationError> {
        Self::check(&elements)?;
        Ok(Self(elements))
    }

    /// A body of one text element.
    pub fn text(text: impl Into<String>) -> Self {
        Self(vec![MsgElement::text(text)])
    }

    /// The check that [`Self::new`] applies.
    pub fn check(elements: &[MsgElement]) -> Result<(), ValidationError> {
        if elements.is_empty() {
            return Err(ValidationError::new("", Problem::Empty));
        }
        let custom = elements.iter().filter(|e| matches!(e, MsgElement::Custom(_))).count();
        if custom > 1 {
            return Err(ValidationError::new(
                "",
                Problem::Rule("holds more than one TIMCustomElem, at most one allowed"),
            ));
        }
        Ok(())
    }

    /// The elements.
    pub fn elements(&self) -> &[MsgElement] {
        &self.0
    }

    /// The elements, owned.
    pub fn into_vec(self) -> Vec<MsgElement> {
        self.0
    }
}

impl TryFrom<Vec<MsgElement>> for MsgBody {
    type Error = ValidationError;
    fn try_from(elements: Vec<MsgElement>) -> Result<Self, Self::Error> {
        Self::new(elements)
    }
}

impl Serialize for MsgBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MsgBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let elements = Vec::<MsgElement>::deserialize(deserializer)?;
        Self::check(&elements).map_err(|e| serde::de::Error::custom(e.detail()))?;
        Ok(Self(elements))
    }
}
