//! Push to all users, by tag or by attribute: im_push (spec §3.10).

mod generated;

pub use generated::*;

use crate::error::Problem;
use crate::validate::{Checker, Sendable, check_message};

impl ImPushRequest {
    /// The rules beyond each field's own: the body's elements and its size.
    fn rules(&self, c: &mut Checker) {
        check_message(c, &self.msg_body, Sendable::All, None);
    }
}

impl PushCondition {
    /// Tags or attributes, not both; each tag present and short; no tag in both lists.
    fn rules(&self, c: &mut Checker) {
        let condition = self;
        let has_tags = condition.tags_or.is_some() || condition.tags_and.is_some();
        let has_attrs = condition.attrs_or.is_some() || condition.attrs_and.is_some();
        if has_tags && has_attrs {
            c.fail("", Problem::Rule("cannot hold both tag and attribute conditions"));
        }
        for (field, tags) in [("TagsOr", &condition.tags_or), ("TagsAnd", &condition.tags_and)] {
            let Some(tags) = tags else { continue };
            c.at(field, |c| {
                for (i, tag) in tags.iter().enumerate() {
                    if tag.is_empty() {
                        c.fail(&format!("[{i}]"), Problem::Empty);
                    }
                    c.max_bytes(&format!("[{i}]"), Some(tag), MAX_TAG_BYTES);
                }
            });
        }
        if let (Some(or), Some(and)) = (&condition.tags_or, &condition.tags_and)
            && let Some(shared) = or.iter().find(|tag| and.contains(tag))
        {
            c.fail_value("TagsAnd", Problem::Rule("repeats a tag of TagsOr"), shared);
        }
    }
}
