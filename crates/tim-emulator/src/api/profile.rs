//! `profile`: portrait_get and portrait_set, over the profiles that account_import also writes.
//!
//! A custom field (`Tag_Profile_Custom_*`) exists only when the app declared it
//! ([`crate::EmulatorBuilder::custom_profile_fields`], as in the console); any other is answered 40009.

use super::{Answer, Ctx, fail, ok};
use tim_model::Extra;
use tim_model::envelope::NoFields;
use tim_model::profile::{
    CUSTOM_TAG_PREFIX, PortraitGetRequest, PortraitGetResult, PortraitSetRequest, ProfileItem, UserProfileItem,
};

/// The account does not exist.
const NO_SUCH_ACCOUNT: i64 = 40003;
/// The tag does not exist.
const NO_SUCH_TAG: i64 = 40009;

/// A custom tag the app did not declare.
fn undeclared<'a>(ctx: &Ctx<'_>, mut tags: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    tags.find(|tag| tag.starts_with(CUSTOM_TAG_PREFIX) && !ctx.inner.custom_profile_fields.iter().any(|t| t == tag))
}

pub(super) fn portrait_get(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: PortraitGetRequest = ctx.decode(body)?;
    if let Some(tag) = undeclared(ctx, request.tag_list.iter().map(String::as_str)) {
        return Err(fail(NO_SUCH_TAG, format!("TagList: {tag} is not a custom profile field of this app")));
    }
    let state = ctx.state();
    let mut failed = Vec::new();
    let items = request
        .to_account
        .iter()
        .map(|id| {
            let Some(account) = state.account_index(id.as_str()) else {
                failed.push(id.to_string());
                return UserProfileItem {
                    to_account: id.to_string(),
                    profile_item: None,
                    result_code: NO_SUCH_ACCOUNT,
                    result_info: "Err_Profile_Account_Not_Exist".to_owned(),
                };
            };
            let tags = state.profiles.get(&account).map(|profile| &profile.tags);
            // The fields asked for that are set, in the order asked.
            let fields = request
                .tag_list
                .iter()
                .filter_map(|tag| Some(ProfileItem::new(tag.clone(), tags?.get(tag)?.clone())))
                .collect();
            UserProfileItem {
                to_account: id.to_string(),
                profile_item: Some(fields),
                result_code: 0,
                result_info: String::new(),
            }
        })
        .collect();
    Ok(ok(PortraitGetResult {
        user_profile_item: Some(items),
        fail_account: (!failed.is_empty()).then_some(failed),
        error_display: Some(String::new()),
        extra: Extra::new(),
    }))
}

/// Writes every field or none: the request is checked whole before anything is stored.
pub(super) fn portrait_set(ctx: &Ctx<'_>, body: &[u8]) -> Answer {
    let request: PortraitSetRequest = ctx.decode(body)?;
    if let Some(tag) = undeclared(ctx, request.profile_item.iter().map(|item| item.tag.as_str())) {
        return Err(fail(NO_SUCH_TAG, format!("ProfileItem: {tag} is not a custom profile field of this app")));
    }
    let mut state = ctx.state();
    let Some(account) = state.account_index(request.from_account.as_str()) else {
        return Err(fail(NO_SUCH_ACCOUNT, format!("From_Account {} does not exist", request.from_account)));
    };
    let profile = state.profiles.entry(account).or_default();
    for item in request.profile_item {
        profile.tags.insert(item.tag, item.value);
    }
    Ok(ok(NoFields::default()))
}
