//! The PrivateMapKey userbuf (TRTC room permission ticket, spec §4.4), as types rather than hand-packed bytes.
//!
//! A PrivateMapKey is an ordinary UserSig whose userbuf says which room the user may enter and what they may do
//! there. [`PrivateMapKey::userbuf`] lays it out exactly as Tencent's libraries do (all integers big-endian);
//! [`Signer::generate_private_map_key`](crate::Signer::generate_private_map_key) signs it.

use std::ops::{BitOr, BitOrAssign};

use crate::error::Error;

/// The room a PrivateMapKey grants access to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RoomId {
    /// A numeric room id (`roomid`; layout version 0).
    Numeric(u32),
    /// A string room id (`strRoomId`; layout version 1, numeric room id 0).
    Str(String),
}

/// The `privilegeMap` bit set. Any `u32` is accepted and written as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Privileges(pub u32);

impl Privileges {
    /// Create the room.
    pub const CREATE_ROOM: Self = Self(1);
    /// Enter the room.
    pub const ENTER_ROOM: Self = Self(2);
    /// Send audio.
    pub const SEND_AUDIO: Self = Self(4);
    /// Receive audio.
    pub const RECEIVE_AUDIO: Self = Self(8);
    /// Send video.
    pub const SEND_VIDEO: Self = Self(16);
    /// Receive video.
    pub const RECEIVE_VIDEO: Self = Self(32);
    /// Send the sub-stream (screen sharing).
    pub const SEND_SUB_STREAM: Self = Self(64);
    /// Receive the sub-stream.
    pub const RECEIVE_SUB_STREAM: Self = Self(128);
    /// All eight privileges (255), what Tencent's examples grant.
    pub const ALL: Self = Self(255);

    /// Whether every bit of `other` is set in `self`.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for Privileges {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

impl BitOrAssign for Privileges {
    fn bitor_assign(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// What a PrivateMapKey grants: a room and the privileges in it. The account, the SDKAppID and the expiry come
/// from the UserSig it is signed into.
///
/// ```
/// use tim_sig::{PrivateMapKey, Privileges, RoomId, SecretKey, Signer, Validity};
///
/// let signer = Signer::new(1_400_000_000, SecretKey::new("console-secret")?);
/// let validity = Validity { issued_at: 1_700_000_000, expire_secs: 300 };
/// let privileges = Privileges::ENTER_ROOM | Privileges::RECEIVE_AUDIO;
/// let grant = PrivateMapKey::new(RoomId::Str("standup".into()), privileges);
/// let ticket = signer.generate_private_map_key("alice", validity, &grant)?;
///
/// let userbuf = grant.userbuf("alice", 1_400_000_000, validity.expires_at())?;
/// signer.verify_with_userbuf(ticket.expose(), "alice", &userbuf, 1_700_000_100)?;
/// # Ok::<(), tim_sig::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PrivateMapKey {
    room: RoomId,
    privileges: Privileges,
}

impl PrivateMapKey {
    /// A grant of `privileges` in `room`.
    pub fn new(room: RoomId, privileges: Privileges) -> Self {
        Self { room, privileges }
    }

    /// The room.
    pub fn room(&self) -> &RoomId {
        &self.room
    }

    /// The privileges.
    pub fn privileges(&self) -> Privileges {
        self.privileges
    }

    /// The userbuf bytes of spec §4.4 for `account` (the UserSig's identifier, written as UTF-8 like Tencent's Go
    /// library; the Node and Python libraries mangle non-ASCII accounts, so keep accounts ASCII to interoperate).
    ///
    /// `sdkappid` is truncated to 32 bits, as every official library does. `expires_at` is the absolute expiry in
    /// UNIX seconds and must fit in 32 bits.
    pub fn userbuf(&self, account: &str, sdkappid: u64, expires_at: u64) -> Result<Vec<u8>, Error> {
        let account_len = u16::try_from(account.len())
            .map_err(|_| Error::PrivateMapKeyFieldTooLong { field: "account", len: account.len() })?;
        let expires_at = u32::try_from(expires_at).map_err(|_| Error::PrivateMapKeyExpiry { expires_at })?;
        let (version, room_number, room_text) = match &self.room {
            RoomId::Numeric(number) => (0_u8, *number, None),
            RoomId::Str(text) => {
                let len = u16::try_from(text.len())
                    .map_err(|_| Error::PrivateMapKeyFieldTooLong { field: "room id", len: text.len() })?;
                (1_u8, 0, Some((len, text.as_bytes())))
            }
        };
        let mut out = Vec::with_capacity(25 + account.len() + room_text.map_or(0, |(_, bytes)| bytes.len()));
        out.push(version);
        out.extend_from_slice(&account_len.to_be_bytes());
        out.extend_from_slice(account.as_bytes());
        // Truncation on purpose: the field is 32 bits wide and the official libraries keep the low bits.
        out.extend_from_slice(&(sdkappid as u32).to_be_bytes());
        out.extend_from_slice(&room_number.to_be_bytes());
        out.extend_from_slice(&expires_at.to_be_bytes());
        out.extend_from_slice(&self.privileges.0.to_be_bytes());
        // The account type, always 0.
        out.extend_from_slice(&0_u32.to_be_bytes());
        if let Some((len, bytes)) = room_text {
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_room_layout_matches_the_official_vector() {
        // The userbuf of the PrivateMapKey vector (Node `genPrivateMapKeyWithStringRoomID`, privilegeMap 42).
        let key = PrivateMapKey::new(
            RoomId::Str("adbjkl".to_owned()),
            Privileges::ENTER_ROOM | Privileges::RECEIVE_AUDIO | Privileges::RECEIVE_VIDEO,
        );
        assert_eq!(key.privileges(), Privileges(42));
        let userbuf = key.userbuf("xiaojun", 1_400_000_000, 1_735_689_600 + 300).unwrap();
        let expected = [
            &[1_u8, 0, 7][..],
            b"xiaojun",
            &[0x53, 0x72, 0x4e, 0x00],
            &[0, 0, 0, 0],
            &[0x67, 0x74, 0x86, 0xac],
            &[0, 0, 0, 42],
            &[0, 0, 0, 0],
            &[0, 6],
            b"adbjkl",
        ]
        .concat();
        assert_eq!(userbuf, expected);
    }

    #[test]
    fn numeric_room_layout_has_no_room_string() {
        let userbuf =
            PrivateMapKey::new(RoomId::Numeric(0x0102_0304), Privileges::ALL).userbuf("ab", 20_000_000_001, 7).unwrap();
        let expected: &[u8] = &[
            0, 0, 2, b'a', b'b', // version, account
            0xa8, 0x17, 0xc8, 0x01, // 20_000_000_001 truncated to 32 bits
            1, 2, 3, 4, // room number
            0, 0, 0, 7, // expiry
            0, 0, 0, 255, // privileges
            0, 0, 0, 0, // account type
        ];
        assert_eq!(userbuf, expected);
        assert!(Privileges::ALL.contains(Privileges::SEND_SUB_STREAM | Privileges::CREATE_ROOM));
        assert!(!Privileges::ENTER_ROOM.contains(Privileges::ALL));
    }

    #[test]
    fn oversized_fields_are_refused() {
        let key = PrivateMapKey::new(RoomId::Str("r".repeat(65_536)), Privileges::ALL);
        assert_eq!(
            key.userbuf("a", 1, 1).unwrap_err(),
            Error::PrivateMapKeyFieldTooLong { field: "room id", len: 65_536 }
        );
        let key = PrivateMapKey::new(RoomId::Numeric(1), Privileges::ALL);
        assert_eq!(
            key.userbuf(&"a".repeat(70_000), 1, 1).unwrap_err(),
            Error::PrivateMapKeyFieldTooLong { field: "account", len: 70_000 }
        );
        assert_eq!(key.userbuf("a", 1, 1 << 32).unwrap_err(), Error::PrivateMapKeyExpiry { expires_at: 1 << 32 });
    }
}
