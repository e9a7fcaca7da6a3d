//! UserSig generation and verification (TLS Sig API v2, spec §4), compatible with Tencent's official libraries.
//!
//! A UserSig is `tencent_base64(zlib(json))`, where the JSON document carries the identifier, the SDKAppID, the
//! issue time, the lifetime, an optional userbuf and `TLS.sig`: the HMAC-SHA256, keyed by the console secret, of
//! a few `TLS.<field>:<value>` lines. Only that HMAC is comparable between implementations; the JSON layout and
//! the zlib stream differ from one official library to the next (spec §4.3), so verification decodes and
//! recomputes rather than comparing strings. Verification follows the official flow step by step (spec §4.2) and
//! reports each failing step as its own [`Error`] variant. Time is always a parameter.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::fmt::Write as _;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::codec::{self, STANDARD};
use crate::error::Error;
use crate::private_map_key::PrivateMapKey;
use crate::secret::{SecretKey, UserSig};
use base64::Engine as _;

/// The longest UserSig [`decode`] accepts and [`Signer`] produces, in bytes. Official UserSigs for a 32-byte
/// identifier are about 200 characters; the limit leaves room for long identifiers and userbufs while refusing
/// oversized input before any work is done.
pub const MAX_USERSIG_LEN: usize = 4096;

/// The most bytes a UserSig may inflate to. Inflation stops there, so a zlib bomb costs at most this much memory.
pub const MAX_DOCUMENT_LEN: usize = 8192;

/// The `TLS.ver` written into generated UserSigs. Verification does not check it, as the official verifiers do not.
pub const TLS_VERSION: &str = "2.0";

/// When a UserSig was issued and for how long it is valid: `TLS.time` and `TLS.expire`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Validity {
    /// `TLS.time`: the issue time, in UNIX seconds.
    pub issued_at: u64,
    /// `TLS.expire`: the lifetime in seconds. 0 is allowed: such a UserSig is valid during its issue second only.
    pub expire_secs: u64,
}

impl Validity {
    /// The last UNIX second at which the UserSig is still valid: `issued_at + expire_secs` (saturating). Tencent
    /// refuses it when `now > expires_at`.
    pub fn expires_at(&self) -> u64 {
        self.issued_at.saturating_add(self.expire_secs)
    }
}

/// The fields a UserSig's document carries.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// `TLS.identifier`: the user the UserSig authenticates.
    pub identifier: String,
    /// `TLS.sdkappid`.
    pub sdkappid: u64,
    /// `TLS.time` and `TLS.expire`.
    pub validity: Validity,
    /// `TLS.userbuf`, decoded from base64. `None` when absent, which is not the same as empty (spec §4.5).
    pub userbuf: Option<Vec<u8>>,
    /// `TLS.ver`, when present (`"2.0"` from every official library).
    pub version: Option<String>,
}

/// A UserSig taken apart by [`decode`], not verified.
#[derive(Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The document's fields.
    pub claims: Claims,
    /// `TLS.sig`, decoded. Together with the claims it is the credential, so it is not printed, and
    /// verification compares it in constant time; the derived `PartialEq` is for tests and diagnostics.
    sig: [u8; 32],
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded").field("claims", &self.claims).field("sig", &"<redacted>").finish()
    }
}

/// The JSON document as official libraries write it. Unknown keys are ignored, as by the official verifiers;
/// a duplicated key is refused.
#[derive(Deserialize)]
struct DocumentIn {
    #[serde(rename = "TLS.ver", default)]
    version: Option<String>,
    #[serde(rename = "TLS.identifier")]
    identifier: String,
    #[serde(rename = "TLS.sdkappid")]
    sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    expire: u64,
    #[serde(rename = "TLS.time")]
    time: u64,
    #[serde(rename = "TLS.userbuf", default)]
    userbuf: Option<String>,
    #[serde(rename = "TLS.sig")]
    sig: String,
}

/// The JSON document this crate writes: the Python library's key order, compact like the Go library's.
#[derive(Serialize)]
struct DocumentOut<'a> {
    #[serde(rename = "TLS.ver")]
    version: &'static str,
    #[serde(rename = "TLS.identifier")]
    identifier: &'a str,
    #[serde(rename = "TLS.sdkappid")]
    sdkappid: u64,
    #[serde(rename = "TLS.expire")]
    expire: u64,
    #[serde(rename = "TLS.time")]
    time: u64,
    #[serde(rename = "TLS.userbuf", skip_serializing_if = "Option::is_none")]
    userbuf: Option<&'a str>,
    #[serde(rename = "TLS.sig")]
    sig: &'a str,
}

/// Takes a UserSig apart (spec §4.2 steps 1–3) without checking anything it claims.
///
/// Strict: refuses input longer than [`MAX_USERSIG_LEN`], anything but canonical base64 in Tencent's alphabet,
/// anything but exactly one zlib stream, a document over [`MAX_DOCUMENT_LEN`], and a `TLS.sig` that is not the
/// standard base64 of 32 bytes.
pub fn decode(usersig: &str) -> Result<Decoded, Error> {
    if usersig.len() > MAX_USERSIG_LEN {
        return Err(Error::UserSigTooLong { len: usersig.len(), max: MAX_USERSIG_LEN });
    }
    let zlib = codec::decode_tencent(usersig)?;
    let json = codec::inflate_strict(&zlib, MAX_DOCUMENT_LEN)?;
    // serde would also read a struct from a JSON array of its fields in order; a document is an object.
    if json.trim_ascii_start().first() != Some(&b'{') {
        return Err(Error::Document { detail: "the document is not a JSON object".to_owned() });
    }
    let document: DocumentIn =
        serde_json::from_slice(&json).map_err(|error| Error::Document { detail: error.to_string() })?;
    let sig = STANDARD
        .decode(&document.sig)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| Error::Document { detail: "TLS.sig is not the base64 of 32 bytes".to_owned() })?;
    let userbuf = match document.userbuf {
        None => None,
        Some(text) => Some(STANDARD.decode(&text).map_err(|error| Error::Document {
            detail: format!("TLS.userbuf {text:?} is not standard base64: {error}"),
        })?),
    };
    let claims = Claims {
        identifier: document.identifier,
        sdkappid: document.sdkappid,
        validity: Validity { issued_at: document.time, expire_secs: document.expire },
        userbuf,
        version: document.version,
    };
    Ok(Decoded { claims, sig })
}

/// Generates and verifies UserSigs for one SDKAppID with its secret key.
#[derive(Clone, Debug)]
pub struct Signer {
    sdkappid: u64,
    key: SecretKey,
}

impl Signer {
    /// A signer for `sdkappid`, keyed by its console secret.
    pub fn new(sdkappid: u64, key: SecretKey) -> Self {
        Self { sdkappid, key }
    }

    /// The SDKAppID this signer signs for.
    pub fn sdkappid(&self) -> u64 {
        self.sdkappid
    }

    /// A UserSig for `identifier` without a userbuf (the official `genUserSig`).
    pub fn generate(&self, identifier: &str, validity: Validity) -> Result<UserSig, Error> {
        self.generate_inner(identifier, validity, None)
    }

    /// A UserSig carrying `userbuf` (the official `genSigWithUserbuf`). An empty userbuf is signed and written as
    /// an empty `TLS.userbuf`, like the Python and Node libraries; it is still distinct from no userbuf.
    pub fn generate_with_userbuf(
        &self,
        identifier: &str,
        validity: Validity,
        userbuf: &[u8],
    ) -> Result<UserSig, Error> {
        self.generate_inner(identifier, validity, Some(userbuf))
    }

    /// A PrivateMapKey (TRTC room permission ticket): a UserSig whose userbuf is `key` laid out as in spec §4.4,
    /// with `identifier` as the account and `validity.expires_at()` as the absolute expiry.
    pub fn generate_private_map_key(
        &self,
        identifier: &str,
        validity: Validity,
        key: &PrivateMapKey,
    ) -> Result<UserSig, Error> {
        let userbuf = key.userbuf(identifier, self.sdkappid, validity.expires_at())?;
        self.generate_inner(identifier, validity, Some(&userbuf))
    }

    /// Verifies a UserSig that must not carry a userbuf, at `now` (UNIX seconds), and returns its claims.
    pub fn verify(&self, usersig: &str, identifier: &str, now: u64) -> Result<Claims, Error> {
        self.verify_inner(usersig, identifier, None, now)
    }

    /// Verifies a UserSig that must carry exactly `userbuf`, at `now` (UNIX seconds), and returns its claims.
    pub fn verify_with_userbuf(
        &self,
        usersig: &str,
        identifier: &str,
        userbuf: &[u8],
        now: u64,
    ) -> Result<Claims, Error> {
        self.verify_inner(usersig, identifier, Some(userbuf), now)
    }

    fn generate_inner(&self, identifier: &str, validity: Validity, userbuf: Option<&[u8]>) -> Result<UserSig, Error> {
        let userbuf_b64 = userbuf.map(|bytes| STANDARD.encode(bytes));
        let sig = STANDARD.encode(self.mac(identifier, validity, userbuf_b64.as_deref()));
        let document = DocumentOut {
            version: TLS_VERSION,
            identifier,
            sdkappid: self.sdkappid,
            expire: validity.expire_secs,
            time: validity.issued_at,
            userbuf: userbuf_b64.as_deref(),
            sig: &sig,
        };
        // Serializing strings and integers into memory cannot fail; the error is mapped rather than unwrapped.
        let json = Zeroizing::new(
            serde_json::to_vec(&document).map_err(|error| Error::Document { detail: error.to_string() })?,
        );
        let zlib = Zeroizing::new(codec::zlib_stored(&json));
        let usersig = UserSig::new(codec::encode_tencent(&zlib));
        if usersig.expose().len() > MAX_USERSIG_LEN {
            return Err(Error::UserSigTooLong { len: usersig.expose().len(), max: MAX_USERSIG_LEN });
        }
        Ok(usersig)
    }

    /// The official verification flow (spec §4.2), each step with its own error.
    fn verify_inner(&self, usersig: &str, identifier: &str, userbuf: Option<&[u8]>, now: u64) -> Result<Claims, Error> {
        let Decoded { claims, sig } = decode(usersig)?;
        if claims.sdkappid != self.sdkappid {
            return Err(Error::SdkAppIdMismatch { expected: self.sdkappid, found: claims.sdkappid });
        }
        if claims.identifier != identifier {
            return Err(Error::IdentifierMismatch { expected: identifier.to_owned(), found: claims.identifier });
        }
        let expired_at = claims.validity.expires_at();
        if now > expired_at {
            return Err(Error::Expired { expired_at, now });
        }
        match (userbuf, &claims.userbuf) {
            (None, None) => {}
            (Some(_), None) => return Err(Error::UserBufMissing),
            (None, Some(found)) => return Err(Error::UserBufUnexpected { found_b64: STANDARD.encode(found) }),
            (Some(expected), Some(found)) if expected != found.as_slice() => {
                return Err(Error::UserBufMismatch {
                    expected_b64: STANDARD.encode(expected),
                    found_b64: STANDARD.encode(found),
                });
            }
            (Some(_), Some(_)) => {}
        }
        // `decode` accepted only canonical base64, so re-encoding gives back the document's `TLS.userbuf` text.
        let userbuf_b64 = claims.userbuf.as_deref().map(|bytes| STANDARD.encode(bytes));
        let expected = self.mac(identifier, claims.validity, userbuf_b64.as_deref());
        if bool::from(expected.ct_eq(&sig)) { Ok(claims) } else { Err(Error::SigMismatch) }
    }

    /// HMAC-SHA256 of the content lines of spec §4.1 step 2, keyed by the secret's UTF-8 bytes.
    fn mac(&self, identifier: &str, validity: Validity, userbuf_b64: Option<&str>) -> [u8; 32] {
        let content = content_lines(identifier, self.sdkappid, validity, userbuf_b64);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(content.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// The text whose HMAC is `TLS.sig`: one `TLS.<field>:<value>` line per field, each ending in `\n`, in this order.
fn content_lines(identifier: &str, sdkappid: u64, validity: Validity, userbuf_b64: Option<&str>) -> String {
    let mut content = String::with_capacity(96 + identifier.len() + userbuf_b64.map_or(0, str::len));
    // Writing into a String cannot fail.
    let _ = write!(
        content,
        "TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{}\nTLS.expire:{}\n",
        validity.issued_at, validity.expire_secs
    );
    if let Some(userbuf_b64) = userbuf_b64 {
        let _ = writeln!(content, "TLS.userbuf:{userbuf_b64}");
    }
    content
}

#[cfg(test)]
mod tests;
