//! Identifiers with rules: [`UserId`] and [`GroupId`], built only through checked constructors.
//!
//! Requests hold these types, so a request that decodes or is built in code always carries valid identifiers.
//! Responses hold plain `String`s: what the service says is recorded as it is.

use crate::error::{Problem, ValidationError};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The most bytes a UserID may have (UTF-8), per the account documentation.
pub const MAX_USER_ID_BYTES: usize = 32;

/// The most bytes a custom GroupId may have (UTF-8).
pub const MAX_GROUP_ID_BYTES: usize = 48;

macro_rules! checked_string_id {
    ($(#[$doc:meta])* $name:ident, $max:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Checks the value: not empty, and at most the documented number of UTF-8 bytes.
            pub fn new(value: impl Into<String>) -> Result<Self, ValidationError> {
                let value = value.into();
                Self::check(&value)?;
                Ok(Self(value))
            }

            /// The check that [`Self::new`] applies, without taking the value.
            pub fn check(value: &str) -> Result<(), ValidationError> {
                if value.is_empty() {
                    return Err(ValidationError::new("", Problem::Empty));
                }
                if value.len() > $max {
                    return Err(ValidationError::new("", Problem::TooLong { max: $max, actual: value.len() })
                        .with_value(value));
                }
                Ok(())
            }

            /// The identifier as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identifier as an owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = ValidationError;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct IdVisitor;
                impl Visitor<'_> for IdVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($what)
                    }
                    fn visit_str<E: de::Error>(self, value: &str) -> Result<$name, E> {
                        $name::check(value).map_err(|e| E::custom(e.detail()))?;
                        Ok($name(value.to_owned()))
                    }
                    fn visit_string<E: de::Error>(self, value: String) -> Result<$name, E> {
                        $name::check(&value).map_err(|e| E::custom(e.detail()))?;
                        Ok($name(value))
                    }
                }
                deserializer.deserialize_string(IdVisitor)
            }
        }
    };
}

checked_string_id!(
    /// A UserID (an account): 1 to 32 bytes of UTF-8.
    ///
    /// ```
    /// use tim_model::UserId;
    /// assert!(UserId::new("alice").is_ok());
    /// assert!(UserId::new("").is_err());
    /// assert!(UserId::new("x".repeat(33)).is_err());
    /// ```
    UserId,
    MAX_USER_ID_BYTES,
    "a UserID string of 1 to 32 bytes"
);

checked_string_id!(
    /// A GroupId: 1 to 48 bytes of UTF-8.
    GroupId,
    MAX_GROUP_ID_BYTES,
    "a GroupId string of 1 to 48 bytes"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_id_limits_are_in_bytes_not_characters() {
        // 11 three-byte characters: 33 bytes.
        let id = "中".repeat(11);
        let error = UserId::new(id.clone()).unwrap_err();
        assert_eq!(error.problem(), &Problem::TooLong { max: 32, actual: 33 });
        assert_eq!(UserId::new("中".repeat(10)).unwrap().as_str().len(), 30);
    }

    #[test]
    fn decoding_applies_the_same_check() {
        let ok: UserId = serde_json::from_str("\"bob\"").unwrap();
        assert_eq!(ok, "bob");
        let err = serde_json::from_str::<UserId>("\"\"").unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
        let err = serde_json::from_str::<GroupId>(&format!("\"{}\"", "g".repeat(49))).unwrap_err();
        assert!(err.to_string().contains("49 bytes, at most 48"), "{err}");
    }
}
