//! Strings that must not leak: the console secret key, the webhook token and UserSigs.
//!
//! Each is a newtype whose `Debug` and `Display` print `<redacted>` and whose memory is zeroed when dropped.
//! The key and the token are never handed back out: only this crate reads them, to compute an HMAC or a hash.
//! A UserSig is a bearer credential, so reading it takes an explicit [`UserSig::expose`].

use std::fmt;
use zeroize::Zeroizing;

use crate::error::Error;

/// The SDKAppID's secret key from the console, used as raw UTF-8 bytes (spec §4.1: never hex-decoded).
#[derive(Clone)]
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    /// Wraps a console key; refuses an empty one, which can only be a configuration mistake.
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = Zeroizing::new(key.into());
        if key.is_empty() {
            return Err(Error::EmptySecret { what: "secret key" });
        }
        Ok(Self(key))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl fmt::Display for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The webhook authentication token configured in the console (spec §5.2).
#[derive(Clone)]
pub struct WebhookToken(Zeroizing<String>);

impl WebhookToken {
    /// Wraps a console token; refuses an empty one.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token = Zeroizing::new(token.into());
        if token.is_empty() {
            return Err(Error::EmptySecret { what: "webhook token" });
        }
        Ok(Self(token))
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Debug for WebhookToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookToken(<redacted>)")
    }
}

impl fmt::Display for WebhookToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A generated UserSig: whoever holds it may act as its identifier until it expires.
#[derive(Clone, PartialEq, Eq)]
pub struct UserSig(Zeroizing<String>);

impl UserSig {
    pub(crate) fn new(usersig: String) -> Self {
        Self(Zeroizing::new(usersig))
    }

    /// The UserSig itself, to put in a request's `usersig` query parameter or to print on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for UserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserSig(<redacted, {} chars>)", self.0.len())
    }
}

impl fmt::Display for UserSig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_print_the_secret() {
        let key = SecretKey::new("s3cr3t-key").unwrap();
        let token = WebhookToken::new("s3cr3t-token").unwrap();
        let usersig = UserSig::new("eJyrVs3cr3t-sig".to_owned());
        for printed in [
            format!("{key:?}"),
            format!("{key}"),
            format!("{key:#?}"),
            format!("{token:?}"),
            format!("{token}"),
            format!("{usersig:?}"),
            format!("{usersig}"),
            format!("{usersig:#?}"),
        ] {
            assert!(!printed.contains("s3cr3t"), "{printed}");
            assert!(printed.contains("<redacted"), "{printed}");
        }
        assert_eq!(usersig.expose(), "eJyrVs3cr3t-sig");
    }

    #[test]
    fn empty_secrets_are_refused() {
        assert_eq!(SecretKey::new("").unwrap_err(), Error::EmptySecret { what: "secret key" });
        assert_eq!(WebhookToken::new(String::new()).unwrap_err(), Error::EmptySecret { what: "webhook token" });
    }
}
