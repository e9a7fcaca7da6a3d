//! Settling an unknown outcome from the roaming history: was this chunk's message stored for this recipient?
//!
//! A batchsendmsg that may have acted (its answer was lost, it timed out, the process died while it was on its
//! way) stored its message for some recipients or none. The message is known by its sender and its pinned keys
//! (`MsgSeq`, `MsgRandom`), so `admin_getroammsg` of each recipient's conversation with the sender, over a window
//! around the time it was sent, says which: found means delivered; absent from a complete answer means it was
//! never stored, and the recipient can be sent the message again (in a new chunk, under new keys). A lookup that
//! fails leaves the outcome unknown. Only messages kept in the recipients' history can be looked up: not
//! `OnlineOnlyFlag` 1, not `MsgLifeTime` 0 (the model's `C2cDelivery` says which).
//!
//! The history read is the recipient's copy (`Operator_Account` the recipient, `Peer_Account` the sender): the
//! sender's copy leaves out a message sent with `SyncOtherMachine` 2, and reading it would call a delivered
//! message absent and send it twice.

use crate::client::Client;
use crate::error::Error;
use futures_util::StreamExt;
use std::time::Duration;
use tim_model::UserId;
use tim_model::api::TypedRequest;
use tim_model::c2c::{AdminGetRoamMsgRequest, AdminGetRoamMsgResult, BatchSendMsgRequest};
use tim_model::catalog::RetryClass;

/// How far around the sending time the history is searched, in seconds (the service's clock may differ from
/// ours; the keys, not the time, identify the message).
const WINDOW_SLACK_SECS: i64 = 300;
/// Messages asked for per history page.
const PAGE: u32 = 100;
/// Pages read at most per recipient before giving up (the outcome then stays unknown).
const MAX_PAGES: usize = 20;
/// History lookups of one chunk in flight at once (each is paced by the client like any call).
const LOOKUPS_IN_FLIGHT: usize = 8;
/// Times a page is asked for before the lookup fails: reading the history is always safe to repeat, so this
/// holds whatever the client's own retry policy allows.
const PAGE_ATTEMPTS: u32 = 6;
/// The wait before asking for a page again, doubled each time.
const PAGE_BACKOFF: Duration = Duration::from_millis(50);

/// How unknown outcomes are resolved: the message's sender and how long to wait after sending before looking.
#[derive(Debug, Clone)]
pub(super) struct Resolver {
    sender: UserId,
    /// The wait between sending and the first lookup, so the service has finished with the request.
    pub(super) delay: Duration,
}

impl Resolver {
    /// A resolver for `message`, or `None` when it is not kept in the history (nothing could be found).
    pub(super) fn for_message(client: &Client, message: &BatchSendMsgRequest, delay: Duration) -> Option<Self> {
        if !message.kept_in_history() {
            return None;
        }
        let sender = match &message.from_account {
            Some(from) => from.clone(),
            None => UserId::new(client.identifier()).ok()?,
        };
        Some(Self { sender, delay })
    }

    /// For each recipient in order: found in the history (`true`), certainly absent (`false`), or the lookup failed.
    pub(super) async fn look_up(
        &self,
        client: &Client,
        recipients: Vec<String>,
        seq: u32,
        random: u32,
        sent_ms: i64,
    ) -> Vec<Result<bool, Error>> {
        let wait = (sent_ms + self.delay.as_millis() as i64 - client.wall_clock_ms()).max(0);
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        let sent_secs = sent_ms.div_euclid(1000);
        futures_util::stream::iter(recipients)
            .map(|recipient| self.find(client, recipient, seq, random, sent_secs))
            .buffered(LOOKUPS_IN_FLIGHT)
            .collect()
            .await
    }

    async fn find(
        &self,
        client: &Client,
        recipient: String,
        seq: u32,
        random: u32,
        sent_secs: i64,
    ) -> Result<bool, Error> {
        let peer = UserId::new(recipient.clone()).map_err(|error| Error::NotSent {
            command: AdminGetRoamMsgRequest::command().path,
            reason: format!("not a UserID: {}", error.detail()),
        })?;
        let now_secs = client.wall_clock_ms().div_euclid(1000);
        // The recipient's copy of the conversation: it holds the message whatever SyncOtherMachine said.
        let mut request = AdminGetRoamMsgRequest {
            operator_account: peer,
            peer_account: self.sender.clone(),
            max_cnt: PAGE,
            min_time: sent_secs - WINDOW_SLACK_SECS,
            max_time: now_secs.max(sent_secs) + WINDOW_SLACK_SECS,
            last_msg_key: None,
            extra: Default::default(),
        };
        for _ in 0..MAX_PAGES {
            let page = Self::page(client, &request).await?;
            let found = page.msg_list.iter().flatten().any(|message| {
                message.msg_seq == seq
                    && message.msg_random == random
                    && message.from_account == self.sender.as_str()
                    && message.to_account == recipient
            });
            if found {
                return Ok(true);
            }
            if page.complete != Some(0) {
                return Ok(false);
            }
            match (page.last_msg_key, page.last_msg_time) {
                (Some(key), Some(time)) => {
                    request.last_msg_key = Some(key);
                    request.max_time = time;
                }
                _ => return Ok(false),
            }
        }
        Err(Error::NotSent {
            command: AdminGetRoamMsgRequest::command().path,
            reason: format!("the history holds more than {} messages in the window", PAGE as usize * MAX_PAGES),
        })
    }

    /// One page of the history, asked for again after failures the service may not repeat.
    async fn page(client: &Client, request: &AdminGetRoamMsgRequest) -> Result<AdminGetRoamMsgResult, Error> {
        let mut backoff = PAGE_BACKOFF;
        let mut attempt = 1;
        loop {
            match client.call(request.clone()).await {
                Ok(answer) => return Ok(answer.body),
                Err(error @ (Error::Refused { class: RetryClass::Permanent, .. } | Error::Invalid { .. })) => {
                    return Err(error);
                }
                Err(error) if attempt >= PAGE_ATTEMPTS => return Err(error),
                Err(_) => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
            }
        }
    }
}
