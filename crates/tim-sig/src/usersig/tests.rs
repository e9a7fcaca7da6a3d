//! Unit tests of generation and of each verification step; the official vectors are in `tests/vectors.rs`.

use super::*;
use crate::{Privileges, RoomId};

const SDKAPPID: u64 = 1_400_000_000;
const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
const T0: u64 = 1_700_000_000;
const DAY: Validity = Validity { issued_at: T0, expire_secs: 86_400 };

fn signer() -> Signer {
    Signer::new(SDKAPPID, SecretKey::new(KEY).unwrap())
}

/// The inflated JSON document of a UserSig, as text.
fn document(usersig: &UserSig) -> String {
    let zlib = codec::decode_tencent(usersig.expose()).unwrap();
    String::from_utf8(codec::inflate_strict(&zlib, MAX_DOCUMENT_LEN).unwrap().to_vec()).unwrap()
}

/// Re-encodes a document the way an official library would, to build UserSigs this crate would not write.
fn encode_document(json: &str) -> String {
    codec::encode_tencent(&codec::zlib_stored(json.as_bytes()))
}

#[test]
fn content_lines_are_exactly_the_spec_text() {
    let validity = Validity { issued_at: 1_700_000_000, expire_secs: 1 };
    assert_eq!(
        content_lines("admin", 1_400_000_000, validity, None),
        "TLS.identifier:admin\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:1\n"
    );
    assert_eq!(
        content_lines("a", 1, validity, Some("YWJj")),
        "TLS.identifier:a\nTLS.sdkappid:1\nTLS.time:1700000000\nTLS.expire:1\nTLS.userbuf:YWJj\n"
    );
    assert!(content_lines("a", 1, validity, Some("")).ends_with("TLS.userbuf:\n"));
}

#[test]
fn generated_document_is_compact_in_python_key_order_in_a_stored_zlib_stream() {
    let usersig = signer().generate("admin", Validity { issued_at: T0, expire_secs: 1 }).unwrap();
    // 78 01 01 in Tencent's base64.
    assert!(usersig.expose().starts_with("eAEB"), "{}", usersig.expose());
    assert_eq!(
        document(&usersig),
        r#"{"TLS.ver":"2.0","TLS.identifier":"admin","TLS.sdkappid":1400000000,"TLS.expire":1,"TLS.time":1700000000,"TLS.sig":"gb3jgulkJsdfFEhBZpUfyEU9H5niwdJWaKek2wPKuVk="}"#
    );
}

#[test]
fn round_trip_returns_the_claims() {
    let usersig = signer().generate("user_01", DAY).unwrap();
    let claims = signer().verify(usersig.expose(), "user_01", T0).unwrap();
    assert_eq!(claims.identifier, "user_01");
    assert_eq!(claims.sdkappid, SDKAPPID);
    assert_eq!(claims.validity, DAY);
    assert_eq!(claims.userbuf, None);
    assert_eq!(claims.version.as_deref(), Some("2.0"));
    assert_eq!(decode(usersig.expose()).unwrap().claims, claims);
}

#[test]
fn expiry_is_inclusive_of_the_last_second() {
    let usersig = signer().generate("admin", DAY).unwrap();
    signer().verify(usersig.expose(), "admin", T0 + 86_400).unwrap();
    assert_eq!(
        signer().verify(usersig.expose(), "admin", T0 + 86_401).unwrap_err(),
        Error::Expired { expired_at: T0 + 86_400, now: T0 + 86_401 }
    );
    let instant = signer().generate("admin", Validity { issued_at: T0, expire_secs: 0 }).unwrap();
    signer().verify(instant.expose(), "admin", T0).unwrap();
    assert!(matches!(signer().verify(instant.expose(), "admin", T0 + 1), Err(Error::Expired { .. })));
    // time + expire beyond u64 saturates instead of wrapping into the past.
    let forever = signer().generate("admin", Validity { issued_at: T0, expire_secs: u64::MAX }).unwrap();
    signer().verify(forever.expose(), "admin", u64::MAX).unwrap();
}

#[test]
fn each_mismatch_has_its_own_error() {
    let usersig = signer().generate("admin", DAY).unwrap();
    let other_app = Signer::new(SDKAPPID + 1, SecretKey::new(KEY).unwrap());
    assert_eq!(
        other_app.verify(usersig.expose(), "admin", T0).unwrap_err(),
        Error::SdkAppIdMismatch { expected: SDKAPPID + 1, found: SDKAPPID }
    );
    assert_eq!(
        signer().verify(usersig.expose(), "Admin", T0).unwrap_err(),
        Error::IdentifierMismatch { expected: "Admin".to_owned(), found: "admin".to_owned() }
    );
    let other_key = Signer::new(SDKAPPID, SecretKey::new("another key").unwrap());
    assert_eq!(other_key.verify(usersig.expose(), "admin", T0).unwrap_err(), Error::SigMismatch);
}

#[test]
fn userbuf_presence_and_equality_are_checked() {
    let plain = signer().generate("admin", DAY).unwrap();
    let with = signer().generate_with_userbuf("admin", DAY, b"abc").unwrap();
    let empty = signer().generate_with_userbuf("admin", DAY, b"").unwrap();
    assert!(document(&with).contains(r#""TLS.userbuf":"YWJj""#));
    assert!(document(&empty).contains(r#""TLS.userbuf":"""#));

    assert_eq!(
        signer().verify_with_userbuf(with.expose(), "admin", b"abc", T0).unwrap().userbuf,
        Some(b"abc".to_vec())
    );
    assert_eq!(signer().verify_with_userbuf(empty.expose(), "admin", b"", T0).unwrap().userbuf, Some(Vec::new()));
    assert_eq!(signer().verify_with_userbuf(plain.expose(), "admin", b"abc", T0).unwrap_err(), Error::UserBufMissing);
    // Empty is not absent, either way.
    assert_eq!(signer().verify_with_userbuf(plain.expose(), "admin", b"", T0).unwrap_err(), Error::UserBufMissing);
    assert_eq!(
        signer().verify(empty.expose(), "admin", T0).unwrap_err(),
        Error::UserBufUnexpected { found_b64: String::new() }
    );
    assert_eq!(
        signer().verify(with.expose(), "admin", T0).unwrap_err(),
        Error::UserBufUnexpected { found_b64: "YWJj".to_owned() }
    );
    assert_eq!(
        signer().verify_with_userbuf(with.expose(), "admin", b"abd", T0).unwrap_err(),
        Error::UserBufMismatch { expected_b64: "YWJk".to_owned(), found_b64: "YWJj".to_owned() }
    );
}

#[test]
fn altered_fields_break_the_signature() {
    let usersig = signer().generate("admin", DAY).unwrap();
    let original = document(&usersig);
    for (from, to) in [
        ("\"TLS.expire\":86400", "\"TLS.expire\":86401"),
        ("\"TLS.time\":1700000000", "\"TLS.time\":1700000001"),
        ("\"TLS.sig\":", "\"TLS.userbuf\":\"\",\"TLS.sig\":"),
    ] {
        assert!(original.contains(from), "{from}");
        let forged = encode_document(&original.replace(from, to));
        let expected = if to.contains("userbuf") {
            Error::UserBufUnexpected { found_b64: String::new() }
        } else {
            Error::SigMismatch
        };
        assert_eq!(signer().verify(&forged, "admin", T0).unwrap_err(), expected, "{to}");
    }
    // Changing TLS.ver is not detected, exactly as by the official verifiers: it is neither checked nor signed.
    let reversioned = encode_document(&original.replace("\"2.0\"", "\"9.9\""));
    assert_eq!(signer().verify(&reversioned, "admin", T0).unwrap().version.as_deref(), Some("9.9"));
}

#[test]
fn documents_from_other_libraries_are_accepted_when_equivalent() {
    let usersig = signer().generate("admin", DAY).unwrap();
    let sig = decode(usersig.expose()).unwrap();
    let doc = document(&usersig);
    let tls_sig = doc.split("\"TLS.sig\":\"").nth(1).unwrap().trim_end_matches("\"}");
    // Node's key order, Go's trailing newline, Python's spacing, an unknown key, and no TLS.ver at all.
    for json in [
        format!(
            r#"{{"TLS.ver":"2.0","TLS.identifier":"admin","TLS.sdkappid":{SDKAPPID},"TLS.time":{T0},"TLS.expire":86400,"TLS.sig":"{tls_sig}"}}"#
        ),
        format!("{doc}\n"),
        format!(
            r#"{{"TLS.ver": "2.0", "TLS.identifier": "\u0061dmin", "TLS.sdkappid": {SDKAPPID}, "TLS.expire": 86400, "TLS.time": {T0}, "TLS.sig": "{tls_sig}"}}"#
        ),
        doc.replace("{", r#"{"TLS.extra":[1,{"x":null}],"#),
        doc.replace(r#""TLS.ver":"2.0","#, ""),
    ] {
        let claims = signer().verify(&encode_document(&json), "admin", T0).unwrap();
        assert_eq!(claims.validity, sig.claims.validity, "{json}");
    }
}

#[test]
fn malformed_documents_are_refused_as_documents() {
    let usersig = signer().generate("admin", DAY).unwrap();
    let doc = document(&usersig);
    for (json, expected) in [
        ("not json".to_owned(), "not a JSON object"),
        (" \n{".to_owned(), "EOF while parsing an object"),
        ("[]".to_owned(), "not a JSON object"),
        (doc.replace(r#""TLS.sdkappid":1400000000"#, r#""TLS.sdkappid":"1400000000""#), "invalid type: string"),
        (doc.replace(r#""TLS.expire":86400"#, r#""TLS.expire":-1"#), "invalid value: integer `-1`"),
        (doc.replace(r#""TLS.time":1700000000,"#, ""), "missing field `TLS.time`"),
        (doc.replace(r#""TLS.expire":86400"#, r#""TLS.expire":86400,"TLS.expire":86400"#), "duplicate field"),
        (doc.replace("=\"", "\""), "TLS.sig is not the base64 of 32 bytes"),
        (
            doc.replace("\"TLS.sig\":", "\"TLS.userbuf\":\"YWJ\",\"TLS.sig\":"),
            "TLS.userbuf \"YWJ\" is not standard base64",
        ),
        (format!("{doc}{{}}"), "trailing characters"),
    ] {
        let Error::Document { detail } = decode(&encode_document(&json)).unwrap_err() else { panic!("{json}") };
        assert!(detail.contains(expected), "{json}: {detail}");
    }
}

#[test]
fn oversized_input_is_refused_before_decoding_and_never_generated() {
    let long = "A".repeat(MAX_USERSIG_LEN + 1);
    assert_eq!(decode(&long).unwrap_err(), Error::UserSigTooLong { len: MAX_USERSIG_LEN + 1, max: MAX_USERSIG_LEN });
    let identifier = "x".repeat(MAX_USERSIG_LEN);
    assert!(matches!(signer().generate(&identifier, DAY), Err(Error::UserSigTooLong { max: MAX_USERSIG_LEN, .. })));
    // The longest identifier that still fits is generated and verifies.
    let fits = (1..MAX_USERSIG_LEN).rev().find(|&n| signer().generate(&"x".repeat(n), DAY).is_ok()).unwrap();
    assert!(fits > 2_800, "{fits}");
    let usersig = signer().generate(&"x".repeat(fits), DAY).unwrap();
    signer().verify(usersig.expose(), &"x".repeat(fits), T0).unwrap();
}

#[test]
fn a_zlib_bomb_in_a_usersig_is_refused() {
    use std::io::Write as _;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&[b' '; 2_000_000]).unwrap();
    let bomb = codec::encode_tencent(&encoder.finish().unwrap());
    assert!(bomb.len() <= MAX_USERSIG_LEN, "{}", bomb.len());
    assert_eq!(decode(&bomb).unwrap_err(), Error::InflatedTooLarge { max: MAX_DOCUMENT_LEN });
}

#[test]
fn private_map_key_round_trips_with_its_userbuf() {
    let key = PrivateMapKey::new(RoomId::Numeric(1234), Privileges::ENTER_ROOM | Privileges::SEND_AUDIO);
    let validity = Validity { issued_at: T0, expire_secs: 300 };
    let usersig = signer().generate_private_map_key("alice", validity, &key).unwrap();
    let userbuf = key.userbuf("alice", SDKAPPID, T0 + 300).unwrap();
    let claims = signer().verify_with_userbuf(usersig.expose(), "alice", &userbuf, T0).unwrap();
    assert_eq!(claims.userbuf, Some(userbuf));
    assert_eq!(
        signer().generate_private_map_key("alice", Validity { issued_at: u64::from(u32::MAX), expire_secs: 1 }, &key),
        Err(Error::PrivateMapKeyExpiry { expires_at: u64::from(u32::MAX) + 1 })
    );
}

#[test]
fn decoded_debug_hides_the_signature() {
    let usersig = signer().generate("admin", DAY).unwrap();
    let printed = format!("{:?}", decode(usersig.expose()).unwrap());
    let doc = document(&usersig);
    let sig_b64 = doc.split("\"TLS.sig\":\"").nth(1).unwrap().trim_end_matches("\"}");
    assert_eq!(sig_b64.len(), 44, "{doc}");
    assert!(printed.contains("sig: \"<redacted>\""), "{printed}");
    assert!(!printed.contains(sig_b64), "{printed}");
    assert!(!printed.contains("sig: ["), "{printed}");
}
