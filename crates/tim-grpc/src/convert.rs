//! Conversions between the protobuf types of `tim.v1` and the `tim-model` types: the one place where the two wire
//! formats meet.
//!
//! A request goes one way, proto to model ([`IntoModel`]), through the model's checked constructors ([`UserId`],
//! [`GroupId`], [`MsgBody`]): every field that breaks a constructor's rule is reported at once, by its REST JSON
//! path, and [`IntoModel::proto_path`] turns such a path (or one from the model's validation) into this API's
//! field path. An answer goes the other way ([`FromModel`]), echoing the deduplication keys that were sent.
//! Fan-out reports become streams of events in [`fanout`].
//!
//! Nothing here validates the documented limits (the client does, after conversion) or draws deduplication keys
//! (the caller pins them): a conversion only changes the form of a request.

use crate::pb;
use tim_model::api::TypedRequest;
use tim_model::{GroupId, MsgBody, Problem, UserId, ValidationError, ValidationErrors};

mod account;
mod c2c;
mod common;
mod elem;
mod fanout;
mod global_mute;
mod group;
mod group_msg;
mod path;
mod profile;
mod push_all;
mod relationship;
mod values;

#[cfg(test)]
mod tests;

pub(crate) use fanout::{
    failure_batch, failures, fanout_message_path, fanout_progress, fanout_report_events, message_for_fanout,
};

/// A protobuf request of a typed RPC that becomes a `tim-model` request.
pub(crate) trait IntoModel {
    /// The model request.
    type Model: TypedRequest;

    /// Builds the model request through its checked constructors. Errors name fields by their REST JSON path
    /// (`To_Account[3]`, `MsgBody[0].MsgContent.Text`), like `tim-model`'s own validation errors.
    fn into_model(self) -> Result<Self::Model, ValidationErrors>;

    /// Maps a REST JSON path of this request (from a conversion error or from `tim-model`'s validation) to this
    /// API's field path: `To_Account[3]` → `to_account[3]`, `MsgBody[0].MsgContent.Text` → `msg_body[0].text.text`
    /// (the element kind comes from the request that was received), `CheckItem[2].UserID` → `user_ids[2]`,
    /// `MemberList[1].Member_Account` (add_group_member) → `member_accounts[1]`, `MsgSeqList[0].MsgSeq` →
    /// `msg_seq_list[0]`. The empty path (the whole request) stays empty.
    fn proto_path(&self, rest_path: &str) -> String;
}

/// A protobuf answer built from the model's answer and the deduplication key that was sent (whose dedupe keys
/// (`MsgRandom` / `Random`) were pinned before sending, so the answer can echo them).
pub(crate) trait FromModel<M: TypedRequest>: Sized {
    /// Builds the answer; fields the model keeps but this API does not carry (the envelope, unknown fields) are
    /// left out.
    /// `dedupe_key` is the sent request's [`TypedRequest::dedupe_key`], which the answer echoes where it has a
    /// field for it.
    fn from_model(response: M::Response, dedupe_key: Option<u32>) -> Self;
}

/// The conversion errors of one request, gathered so that the caller hears of every broken field at once.
///
/// Each method converts one field and returns `None` when it could not (having recorded why), so a request is
/// assembled with `?` inside [`Collector::finish`].
#[derive(Debug, Default)]
struct Collector(Vec<ValidationError>);

impl Collector {
    /// A UserID at `field`.
    fn user(&mut self, field: &str, value: String) -> Option<UserId> {
        UserId::new(value).map_err(|error| self.0.push(error.under(field))).ok()
    }

    /// An optional UserID at `field`.
    fn optional_user(&mut self, field: &str, value: Option<String>) -> Option<Option<UserId>> {
        match value {
            Some(value) => self.user(field, value).map(Some),
            None => Some(None),
        }
    }

    /// A list of UserIDs at `field`; each broken entry is reported at `field[i]`.
    fn users(&mut self, field: &str, values: Vec<String>) -> Option<Vec<UserId>> {
        let before = self.0.len();
        let users: Vec<UserId> = values
            .into_iter()
            .enumerate()
            .filter_map(|(i, value)| self.user(&format!("{field}[{i}]"), value))
            .collect();
        (self.0.len() == before).then_some(users)
    }

    /// A GroupId at `field`.
    fn group(&mut self, field: &str, value: String) -> Option<GroupId> {
        GroupId::new(value).map_err(|error| self.0.push(error.under(field))).ok()
    }

    /// An optional GroupId at `field`.
    fn optional_group(&mut self, field: &str, value: Option<String>) -> Option<Option<GroupId>> {
        match value {
            Some(value) => self.group(field, value).map(Some),
            None => Some(None),
        }
    }

    /// A list of GroupIds at `field`; each broken entry is reported at `field[i]`.
    fn groups(&mut self, field: &str, values: Vec<String>) -> Option<Vec<GroupId>> {
        let before = self.0.len();
        let groups: Vec<GroupId> = values
            .into_iter()
            .enumerate()
            .filter_map(|(i, value)| self.group(&format!("{field}[{i}]"), value))
            .collect();
        (self.0.len() == before).then_some(groups)
    }

    /// A message body at `field`: every element converts, and the body is not empty and holds at most one custom
    /// element.
    fn body(&mut self, field: &str, elements: Vec<pb::MsgElement>) -> Option<MsgBody> {
        let elements = elem::elements_from_pb(elements, field, &mut self.0)?;
        MsgBody::new(elements).map_err(|error| self.0.push(error.under(field))).ok()
    }

    /// A string-or-number value at `field`; a value of neither kind is reported missing.
    fn text_or_number(&mut self, field: &str, value: pb::TextOrNumber) -> Option<tim_model::TextOrNumber> {
        match value.kind {
            Some(pb::text_or_number::Kind::Text(text)) => Some(tim_model::TextOrNumber::Text(text)),
            Some(pb::text_or_number::Kind::Number(number)) => Some(tim_model::TextOrNumber::Number(number)),
            None => {
                self.fail(field, Problem::Missing);
                None
            }
        }
    }

    /// A string-or-number value at `field` that must be present.
    fn required_text_or_number(
        &mut self,
        field: &str,
        value: Option<pb::TextOrNumber>,
    ) -> Option<tim_model::TextOrNumber> {
        match value {
            Some(value) => self.text_or_number(field, value),
            None => {
                self.fail(field, Problem::Missing);
                None
            }
        }
    }

    /// Records a broken field that no constructor checks.
    fn fail(&mut self, field: &str, problem: Problem) {
        self.0.push(ValidationError::new(field, problem));
    }

    /// The request `build` assembles from the converted fields, or every error recorded.
    fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ValidationErrors> {
        let built = build();
        match (built, ValidationErrors::from_vec(self.0)) {
            (Some(value), None) => Ok(value),
            (_, Some(errors)) => Err(errors),
            // Every conversion that yields `None` records why, so this arm is never reached; it answers with an
            // error rather than a half-built request all the same.
            (None, None) => Err(ValidationError::new("", Problem::Rule("could not be converted")).into()),
        }
    }
}

/// A repeated proto field that maps to an optional model list: empty means absent.
fn non_empty<T>(values: Vec<T>) -> Option<Vec<T>> {
    if values.is_empty() { None } else { Some(values) }
}
