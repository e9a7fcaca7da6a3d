//! A UserSig for a client app, as a backend hands one out at login, and the same UserSig verified back.
//!
//! `cargo run --example sign_usersig -- alice 86400` signs for the UserID `alice`, valid for a day.
//! Only `tim-sig` is needed: it is pure computation, with no runtime and no network.

#![allow(clippy::print_stdout)] // An example prints what it did.

use tim_sig::{SecretKey, Signer, Validity, decode};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let user = args.next().unwrap_or_else(|| "alice".to_owned());
    let expire_secs: u64 = args.next().map_or(Ok(86_400), |secs| secs.parse())?;

    // The SDKAppID and secret key of the app, from the console (here, the examples' own).
    let signer = Signer::new(tim_examples::SDKAPPID, SecretKey::new(tim_examples::KEY)?);
    let now = tim_examples::now();
    let usersig = signer.generate(&user, Validity { issued_at: now, expire_secs })?;

    // `usersig.expose()` is what the client app logs in with. The type never prints it by accident:
    println!("UserSig for {user}: {usersig:?} ({} characters)", usersig.expose().len());

    // What it says, readable without the key (as anyone holding it could)...
    let decoded = decode(usersig.expose())?;
    println!("decoded: {decoded:?}");
    // ...and verified with the key, as Tencent's service does.
    let claims = signer.verify(usersig.expose(), &user, now)?;
    println!("verified for {user}: valid until {} (UNIX seconds)", claims.validity.expires_at());

    // A UserSig for someone else does not pass for this user.
    let other = signer.generate("mallory", Validity { issued_at: now, expire_secs })?;
    let refused = signer.verify(other.expose(), &user, now).expect_err("another user's UserSig is refused");
    println!("another user's UserSig is refused: {refused}");
    Ok(())
}
