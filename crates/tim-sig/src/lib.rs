//! UserSig (TLS Sig API v2) for Tencent Cloud Chat, and the webhook signature.
//!
//! This crate owns generating and verifying UserSigs compatibly with Tencent's official libraries
//! ([`Signer`], [`decode`]), the PrivateMapKey userbuf ([`PrivateMapKey`]), the admin UserSig cache that the
//! transport shares between requests and refreshes ahead of expiry ([`AdminSigCache`]), and the webhook `Sign`
//! check ([`WebhookVerifier`]). Secrets travel in types that never print them ([`SecretKey`], [`WebhookToken`],
//! [`UserSig`]).
//!
//! It is pure computation: it depends on nothing asynchronous, on no transport and on no gateway, it never reads
//! the clock (time is always a parameter, in UNIX seconds) and never reads environment variables.
//!
//! ```
//! use tim_sig::{SecretKey, Signer, Validity};
//!
//! let signer = Signer::new(1_400_000_000, SecretKey::new("console-secret")?);
//! let now = 1_700_000_000;
//! let usersig = signer.generate("admin", Validity { issued_at: now, expire_secs: 86_400 })?;
//! let claims = signer.verify(usersig.expose(), "admin", now + 60)?;
//! assert_eq!(claims.validity.expires_at(), now + 86_400);
//! # Ok::<(), tim_sig::Error>(())
//! ```
//!
//! # Feature flags
//!
//! None: the crate is small and has no optional parts.
//!
//! # Stability
//!
//! Everything exported at the root is the crate's API. [`Error`] is `#[non_exhaustive]`: match it with a
//! catch-all arm; its messages never contain a key, token, UserSig or expected signature, and are not a stable
//! format. The UserSig format itself is Tencent's (TLS Sig API v2), checked against vectors made with Tencent's
//! official libraries.

mod cache;
mod codec;
pub mod error;
mod private_map_key;
mod secret;
mod usersig;
mod webhook;

pub use cache::{AdminSigCache, AdminSigConfig, DEFAULT_ADMIN_LIFETIME_SECS, DEFAULT_REFRESH_MARGIN_PERCENT};
pub use error::Error;
pub use private_map_key::{PrivateMapKey, Privileges, RoomId};
pub use secret::{SecretKey, UserSig, WebhookToken};
pub use usersig::{Claims, Decoded, MAX_DOCUMENT_LEN, MAX_USERSIG_LEN, Signer, TLS_VERSION, Validity, decode};
pub use webhook::{DEFAULT_WEBHOOK_WINDOW_SECS, WebhookVerifier};
