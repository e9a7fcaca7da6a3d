//! The byte layers under a UserSig: Tencent's base64 alphabet, zlib, and standard base64 inside the document.
//!
//! Decoding is strict: canonical base64 padding and no stray bits, exactly one zlib stream with a valid Adler-32
//! and nothing after it, zero padding bits in stored blocks, and inflation capped at a fixed size so hostile input
//! costs bounded work and memory. A stored stream therefore has one byte form only; a Huffman-coded one (Python's
//! and Node's) keeps deflate's own slack, such as the unused bits after its last code, which zlib ignores too.
//!
//! Encoding writes zlib *stored* blocks (what Tencent's Go library writes, `78 01`): every zlib inflater accepts
//! them, the output is deterministic, and no compressor is built: compressing a document with flate2's Rust
//! backend measured 80–110 µs (levels 1–6), against under 3 µs for a whole generation with stored blocks.
//! A UserSig is a few hundred bytes, so compression would save little (about 20% of its length).

use base64::Engine as _;
use base64::alphabet::Alphabet;
use base64::engine::general_purpose::{GeneralPurpose, PAD};
use flate2::{Decompress, FlushDecompress, Status};
use std::ops::Deref;
use zeroize::{Zeroize as _, Zeroizing};

use crate::error::Error;

/// Bytes zeroed on drop, up to their length only. `Zeroizing<Vec<u8>>` zeroes the whole capacity, one volatile
/// write per byte: for an inflated document that is 8 KiB never written, about 3 µs, half again the cost of a
/// verification.
pub(crate) struct Wiped(Vec<u8>);

impl Deref for Wiped {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.0.as_mut_slice().zeroize();
    }
}

/// RFC 4648 base64 with `=` padding; decoding accepts only the canonical form (the default of `PAD`).
pub(crate) const STANDARD: GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Tencent's alphabet: standard base64 with `+` and `/` written `*` and `-`. The padding `=` is written `_`,
/// which the engine cannot express: [`encode_tencent`] and [`decode_tencent`] translate it.
const TENCENT_ALPHABET: Alphabet =
    match Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-") {
        Ok(alphabet) => alphabet,
        Err(_) => panic!("tencent's base64 alphabet is 64 distinct printable characters"),
    };

const TENCENT: GeneralPurpose = GeneralPurpose::new(&TENCENT_ALPHABET, PAD);

/// Base64 in Tencent's alphabet, padding included (as `_`).
pub(crate) fn encode_tencent(bytes: &[u8]) -> String {
    let mut text = TENCENT.encode(bytes);
    let padding = text.len() - text.trim_end_matches('=').len();
    text.truncate(text.len() - padding);
    text.extend(std::iter::repeat_n('_', padding));
    text
}

/// Decodes base64 in Tencent's alphabet. The standard characters `+`, `/` and `=` are refused: an official
/// UserSig never contains them.
pub(crate) fn decode_tencent(text: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let mut mapped = Zeroizing::new(Vec::with_capacity(text.len()));
    for (offset, &byte) in text.as_bytes().iter().enumerate() {
        mapped.push(match byte {
            b'_' => b'=',
            b'+' | b'/' | b'=' => {
                return Err(Error::Base64 {
                    detail: format!(
                        "{} at offset {offset} is standard base64, tencent's alphabet writes `+/=` as `*-_`",
                        describe(byte)
                    ),
                });
            }
            other => other,
        });
    }
    TENCENT.decode(&*mapped).map(Zeroizing::new).map_err(|error| Error::Base64 {
        detail: match error {
            base64::DecodeError::InvalidByte(offset, _) => {
                format!("unexpected {} at offset {offset}", describe(text.as_bytes()[offset]))
            }
            base64::DecodeError::InvalidLength(symbols) => format!("{symbols} symbols is not a valid length"),
            base64::DecodeError::InvalidLastSymbol(offset, _) => {
                format!("last symbol {} at offset {offset} has stray bits", describe(text.as_bytes()[offset]))
            }
            base64::DecodeError::InvalidPadding => "padding `_` is missing or malformed".to_owned(),
        },
    })
}

/// A byte of input, printed for an error message.
fn describe(byte: u8) -> String {
    if byte.is_ascii_graphic() { format!("`{}`", char::from(byte)) } else { format!("byte 0x{byte:02x}") }
}

/// One zlib stream made of stored (uncompressed) deflate blocks.
pub(crate) fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const BLOCK: usize = u16::MAX as usize;
    let blocks = data.len().div_ceil(BLOCK).max(1);
    let mut out = Vec::with_capacity(2 + 5 * blocks + data.len() + 4);
    // CMF 0x78: deflate with a 32 KiB window; FLG 0x01: no dictionary, "fastest", and 0x7801 % 31 == 0.
    out.extend_from_slice(&[0x78, 0x01]);
    for index in 0..blocks {
        let block = &data[(index * BLOCK).min(data.len())..((index + 1) * BLOCK).min(data.len())];
        // Bit 0 is BFINAL, bits 1-2 are BTYPE 00 (stored); the rest pads to the byte boundary.
        out.push(u8::from(index + 1 == blocks));
        // A block holds at most BLOCK bytes, so its length fits in 16 bits.
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Adler-32 (RFC 1950), the checksum that ends a zlib stream.
fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    // 5552 bytes is the longest run for which `b` cannot overflow 32 bits before the reduction.
    let (mut a, mut b) = (1_u32, 0_u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// Inflates exactly one zlib stream into at most `max` bytes.
pub(crate) fn inflate_strict(zlib: &[u8], max: usize) -> Result<Wiped, Error> {
    check_stored_padding(zlib)?;
    // One allocation of max + 1 bytes: filling it means the limit was exceeded, and nothing grows past it.
    let mut out = Wiped(Vec::with_capacity(max + 1));
    let mut inflater = Decompress::new(true);
    let status = inflater
        .decompress_vec(zlib, &mut out.0, FlushDecompress::Finish)
        .map_err(|error| Error::Inflate { detail: error.to_string() })?;
    match status {
        Status::StreamEnd if out.len() > max => Err(Error::InflatedTooLarge { max }),
        Status::StreamEnd => {
            let consumed = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
            match zlib.len().checked_sub(consumed) {
                Some(0) => Ok(out),
                Some(extra) => {
                    Err(Error::Inflate { detail: format!("{extra} bytes after the end of the zlib stream") })
                }
                None => Err(Error::Inflate { detail: "the inflater read past its input".to_owned() }),
            }
        }
        Status::Ok | Status::BufError if out.len() > max => Err(Error::InflatedTooLarge { max }),
        Status::Ok | Status::BufError => Err(Error::Inflate { detail: "the zlib stream is truncated".to_owned() }),
    }
}

/// Refuses non-zero padding bits in the leading stored blocks of a zlib stream. Inflaters ignore those bits, so
/// without this check flipping one of them would give a second, equally valid, byte form of the same UserSig.
/// Walks stored blocks only (which start on a byte boundary); the inflater judges everything else.
fn check_stored_padding(zlib: &[u8]) -> Result<(), Error> {
    let mut at = 2;
    while let Some(&header) = zlib.get(at) {
        if header & 0b110 != 0 {
            return Ok(());
        }
        if header >> 3 != 0 {
            return Err(Error::Inflate {
                detail: format!("stored block header 0x{header:02x} at byte {at} has non-zero padding bits"),
            });
        }
        let (Some(&low), Some(&high)) = (zlib.get(at + 1), zlib.get(at + 2)) else { return Ok(()) };
        if header & 1 == 1 {
            return Ok(());
        }
        at += 5 + usize::from(u16::from_le_bytes([low, high]));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn tencent_alphabet_round_trips_and_maps_the_three_characters() {
        // 0xfb 0xff 0xbf encodes to "+/+/" in standard base64; one byte needs two padding characters.
        assert_eq!(encode_tencent(&[0xfb, 0xff, 0xbf]), "*-*-");
        assert_eq!(encode_tencent(&[0xff]), "-w__");
        assert_eq!(*decode_tencent("*-*-").unwrap(), [0xfb, 0xff, 0xbf]);
        assert_eq!(*decode_tencent("-w__").unwrap(), [0xff]);
        for len in 0..40_u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37).wrapping_add(200)).collect();
            assert_eq!(*decode_tencent(&encode_tencent(&bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn tencent_decoding_is_strict() {
        for (input, expected) in [
            ("+/+/", "`+` at offset 0 is standard base64"),
            ("-w==", "`=` at offset 2 is standard base64"),
            ("-w", "padding `_` is missing or malformed"),
            ("-x__", "last symbol `x` at offset 1 has stray bits"),
            ("-w_a", "unexpected `_` at offset 2"),
            ("ab c", "unexpected byte 0x20 at offset 2"),
            ("abcde", "5 symbols is not a valid length"),
        ] {
            let Err(Error::Base64 { detail }) = decode_tencent(input) else { panic!("{input}") };
            assert!(detail.contains(expected), "{input}: {detail}");
        }
    }

    #[test]
    fn stored_zlib_inflates_with_flate2_and_checks_out() {
        for len in [0, 1, 200, 65_535, 65_536, 140_000] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let zlib = zlib_stored(&data);
            assert_eq!(&zlib[..2], [0x78, 0x01]);
            let mut inflated = Vec::new();
            flate2::write::ZlibDecoder::new(&mut inflated).write_all(&zlib).unwrap();
            assert_eq!(inflated, data, "length {len}");
            assert_eq!(*inflate_strict(&zlib, len.max(1)).unwrap(), data);
        }
    }

    #[test]
    fn adler32_matches_the_reference_value() {
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        assert_eq!(adler32(b""), 1);
        let zeros = vec![0xff_u8; 100_000];
        let mut a: u64 = 1;
        let mut b: u64 = 0;
        for &x in &zeros {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&zeros), ((b << 16) | a) as u32);
    }

    #[test]
    fn inflate_refuses_every_malformation() {
        let good = zlib_stored(b"{\"a\":1}");
        let mut bad_adler = good.clone();
        *bad_adler.last_mut().unwrap() ^= 1;
        let mut trailing = good.clone();
        trailing.push(0);
        let mut padding = good.clone();
        padding[2] |= 0b1000;
        let mut bad_header = good.clone();
        bad_header[1] = 0x02;
        for (name, input, expected) in [
            ("adler", bad_adler, "deflate"),
            ("trailing", trailing, "1 bytes after the end"),
            ("padding", padding, "non-zero padding bits"),
            ("header", bad_header, "deflate"),
            ("truncated", good[..good.len() - 1].to_vec(), "truncated"),
            ("empty", Vec::new(), "truncated"),
        ] {
            let Err(Error::Inflate { detail }) = inflate_strict(&input, 100) else { panic!("{name}") };
            assert!(detail.contains(expected), "{name}: {detail}");
        }
        assert_eq!(*inflate_strict(&good, 7).unwrap(), *b"{\"a\":1}");
        assert!(matches!(inflate_strict(&good, 6), Err(Error::InflatedTooLarge { max: 6 })));
    }

    #[test]
    fn a_zlib_bomb_stops_at_the_limit() {
        // 10 MB of zeros compresses to about 10 KB; inflating it must stop after `max` bytes.
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![0_u8; 10_000_000]).unwrap();
        let bomb = encoder.finish().unwrap();
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        assert!(matches!(inflate_strict(&bomb, 8192), Err(Error::InflatedTooLarge { max: 8192 })));
    }
}
