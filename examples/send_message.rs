//! Accounts and a one-to-one message with `Client::call`, then the message read back from the history.
//!
//! `cargo run --example send_message` runs it against an emulator started in the process. Against Tencent's
//! service, only the `Endpoint` and the key change (see the comment in `main`).

#![allow(clippy::print_stdout)] // An example prints what it did.

use tim_model::account::MultiAccountImportRequest;
use tim_model::c2c::{AdminGetRoamMsgRequest, SendMsgRequest};
use tim_model::{MsgBody, UserId};
use tim_sig::SecretKey;
use tim_transport::{Client, ClientConfig, Endpoint, Error};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = tim_examples::local_emulator(false).await?;

    // Against Tencent: `Endpoint::Region { region: Region::Singapore, standby: false }` and the console's key.
    let config = ClientConfig::new(Endpoint::BaseUrl(emulator.base_url()));
    let client = Client::new(tim_examples::SDKAPPID, tim_examples::ADMIN, SecretKey::new(tim_examples::KEY)?, config)?;

    // Accounts must exist before they can send or receive.
    let import = MultiAccountImportRequest {
        accounts: Some(vec![UserId::new("alice")?, UserId::new("bob")?]),
        account_list: None,
        extra: Default::default(),
    };
    let imported = client.call(import).await?;
    println!("imported, failed accounts: {:?}", imported.body.fail_accounts.unwrap_or_default());

    // One message. `call` validates it first, pins MsgRandom once, and repeats the same bytes only when the
    // service is proven to drop the repeat, so a retry never delivers it twice.
    let mut message = SendMsgRequest::new(UserId::new("bob")?, MsgBody::text("Your order has shipped"));
    message.from_account = Some(UserId::new("alice")?);
    let sent = client.call(message).await?;
    println!("sent: MsgKey {:?}, MsgTime {:?}", sent.body.msg_key, sent.body.msg_time);

    // Invalid requests are refused before anything is sent, naming every broken rule with its field.
    let too_long = SendMsgRequest::new(UserId::new("bob")?, MsgBody::text("x".repeat(13_000)));
    match client.call(too_long).await {
        Err(Error::Invalid { errors, .. }) => println!("refused before sending: {errors}"),
        other => return Err(format!("a 13,000-byte message was not refused: {other:?}").into()),
    }

    // The history of the conversation, as the service keeps it.
    let history = AdminGetRoamMsgRequest {
        operator_account: UserId::new("alice")?,
        peer_account: UserId::new("bob")?,
        max_cnt: 100,
        min_time: 0,
        max_time: i64::from(u32::MAX),
        last_msg_key: None,
        extra: Default::default(),
    };
    let answer = client.call(history).await?;
    for msg in answer.body.msg_list.unwrap_or_default() {
        println!("history: {} -> {}: {:?}", msg.from_account, msg.to_account, msg.msg_body);
    }

    emulator.shutdown().await;
    Ok(())
}
