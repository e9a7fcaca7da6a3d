//! Properties over random input: any identifier round-trips, tampering with any byte of a generated UserSig
//! breaks it, and decoding never panics whatever it is given.

use base64::Engine as _;
use proptest::prelude::*;
use std::io::Write as _;
use tim_sig::{Error, SecretKey, Signer, Validity, decode};

fn signer(sdkappid: u64, key: &str) -> Signer {
    Signer::new(sdkappid, SecretKey::new(key).unwrap())
}

/// Base64 in Tencent's alphabet, written independently of the crate.
fn tencent_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '+' => '*',
            '/' => '-',
            '=' => '_',
            other => other,
        })
        .collect()
}

fn zlib(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_identifier_round_trips(
        identifier in any::<String>(),
        sdkappid in any::<u64>(),
        key in "\\PC{1,80}",
        issued_at in any::<u64>(),
        expire_secs in any::<u64>(),
        userbuf in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
    ) {
        let signer = signer(sdkappid, &key);
        let validity = Validity { issued_at, expire_secs };
        let (usersig, claims) = match &userbuf {
            None => {
                let usersig = signer.generate(&identifier, validity).unwrap();
                let claims = signer.verify(usersig.expose(), &identifier, issued_at).unwrap();
                (usersig, claims)
            }
            Some(userbuf) => {
                let usersig = signer.generate_with_userbuf(&identifier, validity, userbuf).unwrap();
                let claims = signer.verify_with_userbuf(usersig.expose(), &identifier, userbuf, issued_at).unwrap();
                (usersig, claims)
            }
        };
        prop_assert_eq!(&claims.identifier, &identifier);
        prop_assert_eq!(claims.sdkappid, sdkappid);
        prop_assert_eq!(claims.validity, validity);
        prop_assert_eq!(&claims.userbuf, &userbuf);
        prop_assert_eq!(&decode(usersig.expose()).unwrap().claims, &claims);
    }

    #[test]
    fn changing_any_byte_breaks_verification_or_changes_the_fields(
        identifier in "\\PC{0,40}",
        userbuf in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)),
        index in any::<prop::sample::Index>(),
        replacement in prop::char::range(' ', '~'),
    ) {
        let signer = signer(1_400_000_000, "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e");
        let validity = Validity { issued_at: 1_700_000_000, expire_secs: 86_400 };
        let usersig = match &userbuf {
            None => signer.generate(&identifier, validity),
            Some(userbuf) => signer.generate_with_userbuf(&identifier, validity, userbuf),
        }
        .unwrap();
        let original = usersig.expose();
        let at = index.index(original.len());
        prop_assume!(original.as_bytes()[at] != replacement as u8);
        let mut tampered = original.to_owned();
        tampered.replace_range(at..=at, &replacement.to_string());
        let verified = match &userbuf {
            None => signer.verify(&tampered, &identifier, 1_700_000_000),
            Some(userbuf) => signer.verify_with_userbuf(&tampered, &identifier, userbuf, 1_700_000_000),
        };
        if verified.is_ok() {
            prop_assert_ne!(decode(&tampered).unwrap(), decode(original).unwrap());
        }
    }

    #[test]
    fn decoding_any_string_never_panics(input in any::<String>()) {
        let _ = decode(&input);
    }

    #[test]
    fn decoding_any_bytes_in_tencent_base64_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let result = decode(&tencent_base64(&bytes));
        // Random bytes are (almost surely) not a zlib stream of a valid document: the error comes from inflating
        // or parsing, never from the base64 layer, which accepts whatever the encoder wrote.
        prop_assert!(
            matches!(result, Err(Error::Inflate { .. } | Error::InflatedTooLarge { .. } | Error::Document { .. })),
            "{:?}",
            result
        );
    }

    #[test]
    fn decoding_any_zlib_document_never_panics(document in any::<Vec<u8>>(), json in r#"\{("TLS\.[a-z]{2,10}":("[ -~]{0,8}"|-?[0-9]{1,22}|null|\[\]),?){0,8}\}"#) {
        for candidate in [document.as_slice(), json.as_bytes()] {
            let _ = decode(&tencent_base64(&zlib(candidate)));
        }
    }

    #[test]
    fn decoding_a_corrupted_zlib_stream_never_panics(
        identifier in "[a-z]{1,20}",
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1..=255_u8), 1..4),
    ) {
        let signer = signer(1, "k");
        let usersig = signer.generate(&identifier, Validity { issued_at: 1, expire_secs: 1 }).unwrap();
        let standard: String = usersig.expose().chars().map(|c| match c { '*' => '+', '-' => '/', '_' => '=', o => o }).collect();
        let original = base64::engine::general_purpose::STANDARD.decode(standard).unwrap();
        let mut stream = original.clone();
        for (index, mask) in &flips {
            let at = index.index(stream.len());
            stream[at] ^= mask;
        }
        // Two flips of the same byte may cancel out.
        prop_assume!(stream != original);
        // A flip of the header's FLEVEL bits alone leaves a valid header (0x78 0x5E, 0x78 0x9C, 0x78 0xDA) and the
        // same content: that stream is not corrupted, and it verifies.
        let header = u16::from(stream[0]) << 8 | u16::from(stream[1]);
        let same_content = stream[0] == original[0] && stream[2..] == original[2..];
        prop_assume!(!(same_content && header % 31 == 0 && stream[1] & 0x20 == 0));
        prop_assert!(signer.verify(&tencent_base64(&stream), &identifier, 1).is_err());
    }
}
