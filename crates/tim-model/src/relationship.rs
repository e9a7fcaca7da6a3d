//! Relationships: friends (one-way or two-way, with remarks, friend lists and add sources) and blocklists.
//!
//! A friendship is one-way when only one account has the other in its list, two-way when both do. Blocking ends a
//! friendship both ways, and while either account blocks the other neither can add it.

mod generated;

pub use generated::*;

use crate::error::Problem;
use crate::validate::Checker;

/// `AddType`: a two-way friendship (the default).
pub const ADD_TYPE_BOTH: &str = "Add_Type_Both";
/// `AddType`: a one-way friendship.
pub const ADD_TYPE_SINGLE: &str = "Add_Type_Single";
/// `DeleteType`: delete from `From_Account`'s list only (the default).
pub const DELETE_TYPE_SINGLE: &str = "Delete_Type_Single";
/// `DeleteType`: delete from both lists.
pub const DELETE_TYPE_BOTH: &str = "Delete_Type_Both";
/// friend_check's `CheckType`: `From_Account`'s list only.
pub const CHECK_SINGLE: &str = "CheckResult_Type_Single";
/// friend_check's `CheckType`: both lists.
pub const CHECK_BOTH: &str = "CheckResult_Type_Both";
/// black_list_check's `CheckType`: `From_Account`'s blocklist only.
pub const BLACK_CHECK_SINGLE: &str = "BlackCheckResult_Type_Single";
/// black_list_check's `CheckType`: both blocklists.
pub const BLACK_CHECK_BOTH: &str = "BlackCheckResult_Type_Both";

/// The prefix of every `AddSource`.
pub const ADD_SOURCE_PREFIX: &str = "AddSource_Type_";
/// The prefix of every custom friend field.
pub const CUSTOM_SNS_TAG_PREFIX: &str = "Tag_SNS_Custom_";
/// The longest keyword after `AddSource_Type_` or `Tag_SNS_Custom_`, in bytes.
pub const MAX_KEYWORD_BYTES: usize = 8;

/// The relation of `From_Account` (A) and `To_Account` (B) in a check, as friend_check and black_list_check
/// answer it: `BothWay`, `AWithB` (B is in A's list), `BWithA` (A is in B's list), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Each is in the other's list.
    BothWay,
    /// B is in A's list (and, for a two-way check, A is not in B's).
    AWithB,
    /// A is in B's list but B is not in A's (two-way checks only).
    BWithA,
    /// B is not in A's list (and, for a two-way check, A is not in B's).
    None,
}

impl Relation {
    /// The relation from whether B is in A's list and, for a two-way check, whether A is in B's.
    pub fn of(a_has_b: bool, b_has_a: Option<bool>) -> Self {
        match (a_has_b, b_has_a) {
            (true, Some(true)) => Self::BothWay,
            (true, _) => Self::AWithB,
            (false, Some(true)) => Self::BWithA,
            (false, _) => Self::None,
        }
    }

    /// friend_check's spelling: `CheckResult_Type_BothWay`, ..., `CheckResult_Type_NoRelation`.
    pub fn friend_name(self) -> &'static str {
        match self {
            Self::BothWay => "CheckResult_Type_BothWay",
            Self::AWithB => "CheckResult_Type_AWithB",
            Self::BWithA => "CheckResult_Type_BWithA",
            Self::None => "CheckResult_Type_NoRelation",
        }
    }

    /// black_list_check's spelling: `BlackCheckResult_Type_BothWay`, ..., `BlackCheckResult_Type_NO`.
    pub fn blocklist_name(self) -> &'static str {
        match self {
            Self::BothWay => "BlackCheckResult_Type_BothWay",
            Self::AWithB => "BlackCheckResult_Type_AWithB",
            Self::BWithA => "BlackCheckResult_Type_BWithA",
            Self::None => "BlackCheckResult_Type_NO",
        }
    }
}

/// A name that must be one of `allowed`.
fn one_of_names(c: &mut Checker, field: &str, value: Option<&str>, allowed: &[&str], described: &'static str) {
    if let Some(value) = value
        && !allowed.contains(&value)
    {
        c.fail_value(field, Problem::NotAllowed { allowed: described }, value);
    }
}

/// `prefix` followed by 1 to 8 ASCII letters.
fn prefixed_keyword(value: &str, prefix: &str) -> bool {
    value.strip_prefix(prefix).is_some_and(|keyword| {
        (1..=MAX_KEYWORD_BYTES).contains(&keyword.len()) && keyword.bytes().all(|b| b.is_ascii_alphabetic())
    })
}

fn check_add_source(c: &mut Checker, value: &str) {
    if !prefixed_keyword(value, ADD_SOURCE_PREFIX) {
        c.fail_value("AddSource", Problem::Rule("must be AddSource_Type_ and 1 to 8 letters"), value);
    }
}

impl FriendAddRequest {
    fn rules(&self, c: &mut Checker) {
        let types = [ADD_TYPE_BOTH, ADD_TYPE_SINGLE];
        one_of_names(c, "AddType", self.add_type.as_deref(), &types, "Add_Type_Both or Add_Type_Single");
    }
}

impl AddFriendItem {
    fn rules(&self, c: &mut Checker) {
        check_add_source(c, &self.add_source);
        if self.group_name.as_deref() == Some("") {
            c.fail("GroupName", Problem::Empty);
        }
    }
}

impl ImportFriendItem {
    fn rules(&self, c: &mut Checker) {
        check_add_source(c, &self.add_source);
        if let Some(names) = &self.group_name {
            check_groups(c, "GroupName", names);
        }
    }
}

impl SnsCustomItem {
    fn rules(&self, c: &mut Checker) {
        if !prefixed_keyword(&self.tag, CUSTOM_SNS_TAG_PREFIX) {
            c.fail_value("Tag", Problem::Rule("must be Tag_SNS_Custom_ and 1 to 8 letters"), &self.tag);
        }
    }
}

/// `Tag_SNS_IM_Remark`: the remark.
pub const REMARK_TAG: &str = "Tag_SNS_IM_Remark";
/// `Tag_SNS_IM_Group`: the friend lists.
pub const GROUP_TAG: &str = "Tag_SNS_IM_Group";
/// `Tag_SNS_IM_AddSource`.
pub const ADD_SOURCE_TAG: &str = "Tag_SNS_IM_AddSource";
/// `Tag_SNS_IM_AddWording`.
pub const ADD_WORDING_TAG: &str = "Tag_SNS_IM_AddWording";
/// `Tag_SNS_IM_AddTime`.
pub const ADD_TIME_TAG: &str = "Tag_SNS_IM_AddTime";
/// The longest string value of a relationship field, in bytes.
pub const MAX_SNS_VALUE_BYTES: usize = 500;

fn check_groups(c: &mut Checker, field: &str, names: &[String]) {
    c.count(field, names.len(), 0, MAX_FRIEND_GROUPS);
    for (i, name) in names.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if name.is_empty() {
            c.fail(&at, Problem::Empty);
        }
        c.max_bytes(&at, Some(name), MAX_GROUP_NAME_BYTES);
    }
}

impl UpdateFriendItem {
    /// Only the remark, the friend lists and custom fields change, each with a value of its kind.
    fn rules(&self, c: &mut Checker) {
        for (i, item) in self.sns_item.iter().enumerate() {
            let value = format!("SnsItem[{i}].Value");
            match (item.tag.as_str(), &item.value) {
                (REMARK_TAG, crate::SnsValue::Text(text)) => c.max_bytes(&value, Some(text), MAX_REMARK_BYTES),
                (GROUP_TAG, crate::SnsValue::List(names)) => check_groups(c, &value, names),
                (REMARK_TAG | GROUP_TAG, _) => {
                    c.fail(&value, Problem::Rule("must be a string (remark) or a list of strings (friend lists)"));
                }
                (tag, value_of) if tag.starts_with(CUSTOM_SNS_TAG_PREFIX) => {
                    if !prefixed_keyword(tag, CUSTOM_SNS_TAG_PREFIX) {
                        c.fail_value(
                            &format!("SnsItem[{i}].Tag"),
                            Problem::Rule("must be Tag_SNS_Custom_ and 1 to 8 letters"),
                            tag,
                        );
                    }
                    match value_of {
                        crate::SnsValue::Text(text) => c.max_bytes(&value, Some(text), MAX_SNS_VALUE_BYTES),
                        crate::SnsValue::Number(_) => {}
                        crate::SnsValue::List(_) => {
                            c.fail(&value, Problem::Rule("a custom field holds a string or a number"))
                        }
                    }
                }
                (tag, _) => c.fail_value(
                    &format!("SnsItem[{i}].Tag"),
                    Problem::Rule(
                        "cannot be changed: only Tag_SNS_IM_Remark, Tag_SNS_IM_Group and Tag_SNS_Custom_* can",
                    ),
                    tag,
                ),
            }
        }
    }
}

/// `NeedFriend`: list each friend list's friends.
pub const NEED_FRIEND: &str = "Need_Friend_Type_Yes";

impl FriendGroupAddRequest {
    fn rules(&self, c: &mut Checker) {
        check_groups(c, "GroupName", &self.group_name);
    }
}

impl FriendGroupGetRequest {
    fn rules(&self, c: &mut Checker) {
        one_of_names(c, "NeedFriend", self.need_friend.as_deref(), &[NEED_FRIEND], "Need_Friend_Type_Yes");
    }
}

fn check_delete_type(c: &mut Checker, value: Option<&str>) {
    let types = [DELETE_TYPE_SINGLE, DELETE_TYPE_BOTH];
    one_of_names(c, "DeleteType", value, &types, "Delete_Type_Single or Delete_Type_Both");
}

impl FriendDeleteRequest {
    fn rules(&self, c: &mut Checker) {
        check_delete_type(c, self.delete_type.as_deref());
    }
}

impl FriendDeleteAllRequest {
    fn rules(&self, c: &mut Checker) {
        check_delete_type(c, self.delete_type.as_deref());
    }
}

impl FriendCheckRequest {
    fn rules(&self, c: &mut Checker) {
        let types = [CHECK_SINGLE, CHECK_BOTH];
        one_of_names(
            c,
            "CheckType",
            Some(&self.check_type),
            &types,
            "CheckResult_Type_Single or CheckResult_Type_Both",
        );
    }

    /// Whether the check looks at both lists.
    pub fn both_ways(&self) -> bool {
        self.check_type == CHECK_BOTH
    }
}

impl BlackListCheckRequest {
    fn rules(&self, c: &mut Checker) {
        let types = [BLACK_CHECK_SINGLE, BLACK_CHECK_BOTH];
        let described = "BlackCheckResult_Type_Single or BlackCheckResult_Type_Both";
        one_of_names(c, "CheckType", Some(&self.check_type), &types, described);
    }

    /// Whether the check looks at both blocklists.
    pub fn both_ways(&self) -> bool {
        self.check_type == BLACK_CHECK_BOTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relations_are_named_as_each_check_spells_them() {
        assert_eq!(Relation::of(true, Some(true)).friend_name(), "CheckResult_Type_BothWay");
        assert_eq!(Relation::of(true, Some(false)).friend_name(), "CheckResult_Type_AWithB");
        assert_eq!(Relation::of(true, None), Relation::AWithB, "a one-way check says nothing of the reverse");
        assert_eq!(Relation::of(false, Some(true)).blocklist_name(), "BlackCheckResult_Type_BWithA");
        assert_eq!(Relation::of(false, None).blocklist_name(), "BlackCheckResult_Type_NO");
    }

    #[test]
    fn add_sources_and_custom_tags_are_a_prefix_and_a_short_word() {
        assert!(prefixed_keyword("AddSource_Type_Android", ADD_SOURCE_PREFIX));
        assert!(!prefixed_keyword("AddSource_Type_", ADD_SOURCE_PREFIX));
        assert!(!prefixed_keyword("AddSource_Type_Android2", ADD_SOURCE_PREFIX));
        assert!(!prefixed_keyword("AddSource_Type_Televisions", ADD_SOURCE_PREFIX));
        assert!(prefixed_keyword("Tag_SNS_Custom_Test", CUSTOM_SNS_TAG_PREFIX));
    }
}
