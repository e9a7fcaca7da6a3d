//! The webhook signature (spec §5.2): `Sign = lowercase_hex(sha256(token + RequestTime))`.
//!
//! Tencent adds `Sign` and `RequestTime` to a webhook's query string when webhook authentication is enabled.
//! [`WebhookVerifier::verify`] recomputes the hash over the token and the `RequestTime` text exactly as received,
//! compares it in constant time, and refuses request times outside a replay window around `now` (a parameter).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::Error;
use crate::secret::WebhookToken;

/// Request times this many seconds or more away from now are refused, as community implementations do
/// (Tencent documents no window).
pub const DEFAULT_WEBHOOK_WINDOW_SECS: u64 = 60;

/// The longest `RequestTime` accepted: 20 digits hold any `u64`.
const MAX_REQUEST_TIME_DIGITS: usize = 20;

impl WebhookToken {
    /// The `Sign` Tencent sends with `RequestTime`: the lowercase hex SHA-256 of the token followed by
    /// `request_time` (the decimal text from the query string).
    pub fn sign(&self, request_time: &str) -> String {
        let hex = self.sign_hex(request_time);
        hex.iter().map(|&byte| char::from(byte)).collect()
    }

    fn sign_hex(&self, request_time: &str) -> [u8; 64] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let digest = Sha256::new().chain_update(self.as_bytes()).chain_update(request_time.as_bytes()).finalize();
        let mut hex = [0_u8; 64];
        for (pair, byte) in hex.chunks_exact_mut(2).zip(digest) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        hex
    }
}

/// Checks the `Sign` of incoming webhooks.
///
/// Tencent adds `RequestTime` and `Sign` to the callback URL's query when the console's webhook authentication
/// has a token; check them (and that `SdkAppid` is the app's) before reading the body.
///
/// ```
/// use tim_sig::{WebhookToken, WebhookVerifier};
///
/// let verifier = WebhookVerifier::new(WebhookToken::new("console-webhook-token")?);
/// let now = 1_700_000_000;
/// // What Tencent sends: Sign = hex(SHA-256(token || RequestTime)).
/// let sign = WebhookToken::new("console-webhook-token")?.sign("1700000000");
/// verifier.verify("1700000000", &sign, now + 5)?;
///
/// assert!(verifier.verify("1700000000", &sign, now + 60).is_err()); // a minute later: a replay
/// assert!(verifier.verify("1700000001", &sign, now).is_err()); // another time: another Sign
/// # Ok::<(), tim_sig::Error>(())
/// ```
///
/// `examples/webhook_axum.rs` has the check in an axum handler.
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    token: WebhookToken,
    window_secs: u64,
}

impl WebhookVerifier {
    /// A verifier for `token` with the [`DEFAULT_WEBHOOK_WINDOW_SECS`] replay window.
    pub fn new(token: WebhookToken) -> Self {
        Self { token, window_secs: DEFAULT_WEBHOOK_WINDOW_SECS }
    }

    /// Sets the replay window: request times `secs` or more away from now are refused.
    pub fn window_secs(mut self, secs: u64) -> Self {
        self.window_secs = secs;
        self
    }

    /// Checks the `RequestTime` and `Sign` query parameters of a webhook received at `now` (UNIX seconds).
    /// `request_time` must be plain decimal digits; `sign` must be lowercase hex, as Tencent sends it.
    pub fn verify(&self, request_time: &str, sign: &str, now: u64) -> Result<(), Error> {
        let parsed = (!request_time.is_empty()
            && request_time.len() <= MAX_REQUEST_TIME_DIGITS
            && request_time.bytes().all(|byte| byte.is_ascii_digit()))
        .then(|| request_time.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| Error::WebhookRequestTime { value: request_time.to_owned() })?;
        if parsed.abs_diff(now) >= self.window_secs {
            return Err(Error::WebhookStale { request_time: parsed, now, window_secs: self.window_secs });
        }
        let expected = self.token.sign_hex(request_time);
        if bool::from(expected.as_slice().ct_eq(sign.as_bytes())) {
            Ok(())
        } else {
            Err(Error::WebhookSignMismatch { request_time: parsed })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "xxxyyy";
    const TIME: &str = "1669872112";
    /// SHA-256("xxxyyy1669872112"), computed from the formula: the docs' own example digest is not reproducible
    /// (spec §5.2).
    const SIGN: &str = "e78a85473bed2cdc8d6fa8c4d5a4ba4735fd64156e15a99516b9890293e135de";
    const NOW: u64 = 1_669_872_112;

    fn verifier() -> WebhookVerifier {
        WebhookVerifier::new(WebhookToken::new(TOKEN).unwrap())
    }

    #[test]
    fn sign_matches_the_known_answer() {
        assert_eq!(WebhookToken::new(TOKEN).unwrap().sign(TIME), SIGN);
        verifier().verify(TIME, SIGN, NOW).unwrap();
    }

    #[test]
    fn the_window_is_open_below_sixty_seconds_either_way() {
        for now in [NOW - 59, NOW + 59] {
            verifier().verify(TIME, SIGN, now).unwrap();
        }
        for now in [NOW - 60, NOW + 60, 0, u64::MAX] {
            assert_eq!(
                verifier().verify(TIME, SIGN, now).unwrap_err(),
                Error::WebhookStale { request_time: NOW, now, window_secs: 60 }
            );
        }
        verifier().window_secs(300).verify(TIME, SIGN, NOW + 299).unwrap();
    }

    #[test]
    fn any_other_sign_is_refused() {
        let mismatch = Error::WebhookSignMismatch { request_time: NOW };
        let mut flipped = SIGN.to_owned().into_bytes();
        flipped[63] = b'f';
        for sign in ["", &SIGN[..63], &format!("{SIGN}0"), &SIGN.to_uppercase(), std::str::from_utf8(&flipped).unwrap()]
        {
            assert_eq!(verifier().verify(TIME, sign, NOW).unwrap_err(), mismatch, "{sign}");
        }
        let other = WebhookVerifier::new(WebhookToken::new("xxxyyz").unwrap());
        assert_eq!(other.verify(TIME, SIGN, NOW).unwrap_err(), mismatch);
    }

    #[test]
    fn request_time_must_be_plain_decimal() {
        for value in ["", "+1669872112", "1669872112 ", "-1", "1.5", "99999999999999999999999", "18446744073709551616"]
        {
            assert_eq!(
                verifier().verify(value, SIGN, NOW).unwrap_err(),
                Error::WebhookRequestTime { value: value.to_owned() }
            );
        }
    }

    #[test]
    fn the_hash_covers_the_request_time_text_as_received() {
        // "01669872112" means the same second, but it is different text, so a different Sign.
        let token = WebhookToken::new(TOKEN).unwrap();
        let padded = token.sign("01669872112");
        assert_ne!(padded, SIGN);
        verifier().verify("01669872112", &padded, NOW).unwrap();
        assert_eq!(
            verifier().verify("01669872112", SIGN, NOW).unwrap_err(),
            Error::WebhookSignMismatch { request_time: NOW }
        );
    }
}
