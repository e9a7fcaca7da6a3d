//! Authentication as the service does it: the query string (`sdkappid`, `identifier`, `usersig`, `random`,
//! `contenttype=json`), the UserSig verified with `tim-sig` against the configured SDKAppID and key, and the
//! identifier checked against the app admins, each failure answered with Tencent's code.
//!
//! Verifying a UserSig costs microseconds, so a successful verification is cached by the UserSig string with its
//! identifier and expiry: a hot loop pays for one lookup per request, and an expired UserSig is still refused.
//! Neither the key nor a UserSig ever appears in an answer or a log.

use crate::hash::{FxHashMap, FxHashSet};
use std::borrow::Cow;
use std::sync::Mutex;
use tim_sig::Signer;

/// The most verified UserSigs kept; the cache is emptied when full (callers reuse one admin UserSig for hours).
const MAX_CACHED_SIGS: usize = 4096;

/// A refused request: the code and the `ErrorInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) code: i64,
    pub(crate) info: String,
}

impl Refusal {
    pub(crate) fn new(code: i64, info: impl Into<String>) -> Self {
        Self { code, info: info.into() }
    }
}

/// The query parameters of a `/v4` request, percent-decoded.
#[derive(Debug, Default)]
struct Query<'a> {
    sdkappid: Option<Cow<'a, str>>,
    identifier: Option<Cow<'a, str>>,
    usersig: Option<Cow<'a, str>>,
    random: Option<Cow<'a, str>>,
    contenttype: Option<Cow<'a, str>>,
}

fn parse_query(query: &str) -> Result<Query<'_>, Refusal> {
    let mut parsed = Query::default();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // Names and values are case-sensitive; the first occurrence of a name counts.
        let slot = match name {
            "sdkappid" => &mut parsed.sdkappid,
            "identifier" => &mut parsed.identifier,
            "usersig" => &mut parsed.usersig,
            "random" => &mut parsed.random,
            "contenttype" => &mut parsed.contenttype,
            _ => continue,
        };
        if slot.is_none() {
            let decoded = percent_decode(value).ok_or_else(|| {
                Refusal::new(60002, format!("query parameter {name} is not valid percent-encoded UTF-8"))
            })?;
            *slot = Some(decoded);
        }
    }
    Ok(parsed)
}

/// Decodes `%XX` escapes (a `+` stays a `+`: Tencent's UserSig alphabet avoids it for this reason); `None` when an
/// escape is malformed or the result is not UTF-8.
pub(crate) fn percent_decode(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains('%') {
        return Some(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().map(Cow::Owned)
}

#[derive(Debug)]
struct Verified {
    identifier: Box<str>,
    expires_at: u64,
}

/// Checks the query of every `/v4` request.
pub(crate) struct Authenticator {
    signer: Signer,
    admins: FxHashSet<Box<str>>,
    cache: Mutex<FxHashMap<Box<str>, Verified>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("sdkappid", &self.signer.sdkappid())
            .field("admins", &self.admins)
            .finish()
    }
}

impl Authenticator {
    pub(crate) fn new(signer: Signer, admins: &[String]) -> Self {
        let admins = admins.iter().map(|admin| admin.as_str().into()).collect();
        Self { signer, admins, cache: Mutex::new(FxHashMap::default()) }
    }

    pub(crate) fn is_admin(&self, identifier: &str) -> bool {
        self.admins.contains(identifier)
    }

    /// Checks a request's query at `now`; on success returns the (admin) identifier.
    pub(crate) fn authenticate<'q>(&self, query: Option<&'q str>, now: u64) -> Result<Cow<'q, str>, Refusal> {
        let query = parse_query(query.unwrap_or(""))?;
        let sdkappid = query.sdkappid.ok_or_else(|| Refusal::new(60012, "sdkappid is missing from the URL"))?;
        match sdkappid.parse::<u64>() {
            Ok(value) if value == self.signer.sdkappid() => {}
            _ => {
                return Err(Refusal::new(
                    60006,
                    format!("invalid SDKAppID {sdkappid:?}: this emulator serves {}", self.signer.sdkappid()),
                ));
            }
        }
        let identifier = query
            .identifier
            .filter(|identifier| !identifier.is_empty())
            .ok_or_else(|| Refusal::new(60004, "identifier is missing from the URL"))?;
        let usersig = query.usersig.ok_or_else(|| Refusal::new(60004, "usersig is missing from the URL"))?;
        if usersig.is_empty() {
            return Err(Refusal::new(70002, "usersig is empty"));
        }
        match query.random.as_deref().map(str::parse::<u32>) {
            Some(Ok(_)) => {}
            Some(Err(_)) => return Err(Refusal::new(60002, "random must be a decimal number in 0..=4294967295")),
            None => return Err(Refusal::new(60002, "random is missing from the URL")),
        }
        if query.contenttype.as_deref() != Some("json") {
            return Err(Refusal::new(60002, "contenttype must be json"));
        }
        self.verify(&usersig, &identifier, now)?;
        if !self.is_admin(&identifier) {
            return Err(Refusal::new(60010, format!("identifier {identifier:?} is not an App admin")));
        }
        Ok(identifier)
    }

    fn verify(&self, usersig: &str, identifier: &str, now: u64) -> Result<(), Refusal> {
        {
            let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(verified) = cache.get(usersig)
                && &*verified.identifier == identifier
                && now <= verified.expires_at
            {
                return Ok(());
            }
        }
        let claims = self.signer.verify(usersig, identifier, now).map_err(refusal_for)?;
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.len() >= MAX_CACHED_SIGS {
            cache.clear();
        }
        cache.insert(
            usersig.into(),
            Verified { identifier: identifier.into(), expires_at: claims.validity.expires_at() },
        );
        Ok(())
    }
}

/// The service's code for each way verification fails (spec §1.5 and §4.2). `tim-sig`'s messages never contain a
/// key or a UserSig, so they can be passed on as `ErrorInfo`.
fn refusal_for(error: tim_sig::Error) -> Refusal {
    let code = match &error {
        // Step 6: expired; regenerate.
        tim_sig::Error::Expired { .. } => 70001,
        // Step 5: the UserSig belongs to another identifier.
        tim_sig::Error::IdentifierMismatch { .. } => 70013,
        // Step 4: the UserSig belongs to another SDKAppID.
        tim_sig::Error::SdkAppIdMismatch { .. } => 70014,
        // Step 8: made with another key.
        tim_sig::Error::SigMismatch => 70009,
        // Steps 1-3 and 7: not a UserSig at all (bad base64, zlib, document, an unexpected userbuf).
        _ => 70003,
    };
    Refusal::new(code, format!("usersig check failed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tim_sig::{SecretKey, Validity};

    const T0: u64 = 1_735_689_600;

    fn authenticator() -> (Authenticator, Signer) {
        let signer = Signer::new(1_400_000_000, SecretKey::new("key").unwrap());
        (Authenticator::new(signer.clone(), &["admin".to_owned()]), signer)
    }

    fn query(signer: &Signer, identifier: &str) -> String {
        let sig = signer.generate(identifier, Validity { issued_at: T0, expire_secs: 60 }).unwrap();
        format!("sdkappid=1400000000&identifier={identifier}&usersig={}&random=7&contenttype=json", sig.expose())
    }

    #[test]
    fn a_cached_usersig_still_expires() {
        let (auth, signer) = authenticator();
        let query = query(&signer, "admin");
        assert_eq!(auth.authenticate(Some(&query), T0).unwrap(), "admin");
        assert_eq!(auth.authenticate(Some(&query), T0 + 60).unwrap(), "admin");
        assert_eq!(auth.authenticate(Some(&query), T0 + 61).unwrap_err().code, 70001);
    }

    #[test]
    fn a_cached_usersig_is_not_accepted_for_another_identifier() {
        let (auth, signer) = authenticator();
        let good = query(&signer, "admin");
        assert!(auth.authenticate(Some(&good), T0).is_ok());
        let other = good.replace("identifier=admin", "identifier=mallory");
        assert_eq!(auth.authenticate(Some(&other), T0).unwrap_err().code, 70013);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b+c").unwrap(), "a b+c");
        assert_eq!(percent_decode("%E4%B8%AD").unwrap(), "中");
        assert!(percent_decode("%zz").is_none());
        assert!(percent_decode("%4").is_none());
        assert!(percent_decode("%ff").is_none());
    }
}
