//! Deactivating a new access key of a deny-listed IAM user.
//!
//! Off unless named in `TRAILGUARD_ENABLED_ACTIONS` (the `all` keyword
//! leaves it out): deactivating a key can stop a production workload.
//!
//! The executor reads the key with `ListAccessKeys(UserName)` and calls
//! `UpdateAccessKey(UserName, AccessKeyId, Status=Inactive)`. The key is
//! deactivated, never deleted, so the change is undone by setting it
//! `Active` again.
//!
//! Only the key the triggering `CreateAccessKey` created is acted on: the
//! live key must belong to the event's user and have been created within
//! [`CREATION_SKEW_SECS`] of the event's time. A trigger naming an older
//! key (a forged or replayed one) is "not applicable", whoever's key it is,
//! so it cannot switch off a workload's long-lived credentials.
//!
//! Root user keys are reported, not changed. IAM accepts `UpdateAccessKey`
//! without a `UserName` only from the key owner's own long-term
//! credentials, and the remediator runs on temporary role credentials, so it
//! cannot reach root's keys. (Centralised root access can *delete* them
//! through `sts:AssumeRoot` from the management account; deleting is not
//! undoable and stays a human decision.)

use crate::remediation::request::{RequestError, missing, optional_str, required_str};
use serde_json::Value;
use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{KeyOwner, RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "iam-access-key";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "iam:ListAccessKeys",
    "iam:ListUserTags",
    "iam:UpdateAccessKey",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "iam.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["CreateAccessKey"];

/// The key a call created (its id is only in a successful call's
/// response), and whose it is.
pub fn resource(event: &Value, failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let key_path = ["responseElements", "accessKey", "accessKeyId"];
    let access_key_id = optional_str(event, &key_path)?.map(str::to_owned);
    if access_key_id.is_none() && !failed {
        return Err(missing(&key_path));
    }
    Ok(Some(ResourceRef::AccessKey {
        owner: key_owner(event)?,
        access_key_id,
    }))
}

/// Whose key a `CreateAccessKey` call created.
fn key_owner(event: &Value) -> Result<KeyOwner, RequestError> {
    if let Some(user) = optional_str(event, &["requestParameters", "userName"])? {
        return Ok(KeyOwner::User(user.to_owned()));
    }
    if let Some(user) = optional_str(event, &["responseElements", "accessKey", "userName"])? {
        return Ok(KeyOwner::User(user.to_owned()));
    }
    // Without a userName the key belongs to the caller.
    match optional_str(event, &["userIdentity", "type"])? {
        Some("Root") => Ok(KeyOwner::Root),
        Some("IAMUser") => Ok(KeyOwner::User(
            required_str(event, &["userIdentity", "userName"])?.to_owned(),
        )),
        _ => Err(missing(&["requestParameters", "userName"])),
    }
}

/// How far apart the key's `CreateDate` and the event's `eventTime` may be
/// for the key to be the one the event created. CloudTrail's `eventTime`
/// is the call's time to the second; the slack covers clock differences.
pub const CREATION_SKEW_SECS: i64 = 300;

/// An access key's status, spelt as IAM spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AccessKeyStatus {
    /// Usable.
    Active,
    /// Rejected by AWS until made active again.
    Inactive,
}

/// The key as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The key read.
    pub access_key_id: String,
    /// The user IAM lists it under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// Its status.
    pub status: AccessKeyStatus,
    /// When IAM says it was created, epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_epoch: Option<i64>,
}

/// Call `UpdateAccessKey` for this user's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The key's owner.
    pub user_name: String,
    /// The key to change.
    pub access_key_id: String,
    /// The status to set: always `Inactive`.
    pub new_status: AccessKeyStatus,
}

/// Why a deny list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` is not an IAM user name: names are 1-64 characters of letters, digits and `+=.@_-` \
     (a name containing a comma cannot be listed)"
)]
pub struct DenyListError {
    /// The offending entry.
    pub name: String,
}

/// Parses a comma-separated list of IAM user names.
pub fn parse_deny_list(text: &str) -> Result<BTreeSet<String>, DenyListError> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            if is_user_name(name) {
                Ok(name.to_owned())
            } else {
                Err(DenyListError {
                    name: name.to_owned(),
                })
            }
        })
        .collect()
}

/// Whether `name` is a valid IAM user name (commas excluded, as the list separator).
fn is_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=.@_-".contains(c))
}

/// Decides whether the key must be deactivated. IAM user names are unique
/// case-insensitively, so the deny list is matched that way.
pub fn decide(
    req: &RemediationRequest,
    live: &LiveState,
    deny_listed_users: &BTreeSet<String>,
) -> Decision<Plan> {
    let ResourceRef::AccessKey {
        owner,
        access_key_id,
    } = &req.resource
    else {
        return wrong_resource(NAME, req);
    };
    let Some(access_key_id) = access_key_id else {
        return Decision::NotApplicable {
            reason: "the event names no access key (the creating call failed)".to_owned(),
        };
    };
    if live.access_key_id != *access_key_id {
        return live_mismatch(access_key_id, &live.access_key_id);
    }
    if let Some(reason) = not_created_by_event(req, owner, live) {
        return Decision::NotApplicable { reason };
    }
    if live.status == AccessKeyStatus::Inactive {
        return Decision::AlreadyCompliant {
            reason: format!("{access_key_id} of {owner} is inactive"),
        };
    }
    let user_name = match owner {
        KeyOwner::Root => {
            return Decision::NotApplicable {
                reason: format!(
                    "{access_key_id} is an active root user key; a role cannot deactivate root keys: \
                     sign in as root to deactivate it, or delete it through centralised root access"
                ),
            };
        }
        KeyOwner::User(name) => name,
    };
    if !deny_listed_users
        .iter()
        .any(|denied| denied.eq_ignore_ascii_case(user_name))
    {
        return Decision::NotApplicable {
            reason: format!("user {user_name} is not on the deny list"),
        };
    }
    Decision::Act(Plan {
        user_name: user_name.clone(),
        access_key_id: access_key_id.clone(),
        new_status: AccessKeyStatus::Inactive,
    })
}

/// Why the live key is not the one the triggering event created, if it is not.
fn not_created_by_event(
    req: &RemediationRequest,
    owner: &KeyOwner,
    live: &LiveState,
) -> Option<String> {
    let key = &live.access_key_id;
    if let (KeyOwner::User(expected), Some(listed)) = (owner, &live.user_name)
        && !expected.eq_ignore_ascii_case(listed)
    {
        return Some(format!("{key} belongs to {listed}, not to {expected}"));
    }
    let (Some(created), Some(event)) = (live.created_epoch, req.event_epoch()) else {
        return Some(format!(
            "{key}: its creation time or the event's time is unknown, so it cannot be shown \
             to be the key the event created"
        ));
    };
    if (created - event).abs() > CREATION_SKEW_SECS {
        return Some(format!(
            "{key} was created at epoch {created}, not by the triggering event at epoch {event}: \
             an older key is never deactivated on a trigger's word"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    const KEY: &str = "AKIAI44QH8DHBEXAMPLE";

    fn request(owner: KeyOwner, key: Option<&str>) -> RemediationRequest {
        test_request(
            ActionKind::IamAccessKey,
            ResourceRef::AccessKey {
                owner,
                access_key_id: key.map(Into::into),
            },
            "CreateAccessKey",
        )
    }

    /// The test request's `eventTime`, 2024-05-02T09:14:03Z.
    const EVENT_EPOCH: i64 = 1_714_641_243;

    fn live(status: AccessKeyStatus) -> LiveState {
        LiveState {
            access_key_id: KEY.into(),
            user_name: None,
            status,
            created_epoch: Some(EVENT_EPOCH + 1),
        }
    }

    fn deny(names: &str) -> BTreeSet<String> {
        parse_deny_list(names).unwrap_or_default()
    }

    #[test]
    fn active_key_of_a_deny_listed_user_is_deactivated() {
        let req = request(KeyOwner::User("svc-backup".into()), Some(KEY));
        assert_eq!(
            decide(
                &req,
                &live(AccessKeyStatus::Active),
                &deny("svc-backup, ci-legacy")
            ),
            Decision::Act(Plan {
                user_name: "svc-backup".into(),
                access_key_id: KEY.into(),
                new_status: AccessKeyStatus::Inactive,
            })
        );
        // IAM user names are case-insensitive.
        let decision = decide(&req, &live(AccessKeyStatus::Active), &deny("SVC-Backup"));
        assert!(matches!(decision, Decision::Act(_)), "{decision:?}");
    }

    #[test]
    fn inactive_key_is_compliant() {
        let req = request(KeyOwner::User("svc-backup".into()), Some(KEY));
        let decision = decide(&req, &live(AccessKeyStatus::Inactive), &deny("svc-backup"));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn users_off_the_deny_list_are_left_alone() {
        let req = request(KeyOwner::User("alice".into()), Some(KEY));
        let decision = decide(&req, &live(AccessKeyStatus::Active), &deny("svc-backup"));
        assert!(
            matches!(decision, Decision::NotApplicable { ref reason } if reason.contains("alice")),
            "{decision:?}"
        );
    }

    #[test]
    fn active_root_key_is_reported_not_changed() {
        let req = request(KeyOwner::Root, Some(KEY));
        let decision = decide(&req, &live(AccessKeyStatus::Active), &deny("root"));
        assert!(
            matches!(decision, Decision::NotApplicable { ref reason } if reason.contains("root")),
            "{decision:?}"
        );
    }

    #[test]
    fn failed_creation_or_another_key_is_not_applicable() {
        let no_key = request(KeyOwner::User("svc-backup".into()), None);
        let other = request(
            KeyOwner::User("svc-backup".into()),
            Some("AKIAOTHERKEYEXAMPLE0"),
        );
        for req in [no_key, other] {
            let decision = decide(&req, &live(AccessKeyStatus::Active), &deny("svc-backup"));
            assert!(
                matches!(decision, Decision::NotApplicable { .. }),
                "{decision:?}"
            );
        }
    }

    #[test]
    fn only_the_key_the_event_created_is_acted_on() {
        let req = request(KeyOwner::User("svc-backup".into()), Some(KEY));
        let deny = deny("svc-backup");
        let old = LiveState {
            created_epoch: Some(EVENT_EPOCH - 86_400 * 400),
            ..live(AccessKeyStatus::Active)
        };
        let decision = decide(&req, &old, &deny);
        assert!(
            matches!(decision, Decision::NotApplicable { ref reason } if reason.contains("older key")),
            "{decision:?}"
        );
        let unknown = LiveState {
            created_epoch: None,
            ..live(AccessKeyStatus::Active)
        };
        assert!(matches!(
            decide(&req, &unknown, &deny),
            Decision::NotApplicable { .. }
        ));
        let other_user = LiveState {
            user_name: Some("alice".into()),
            ..live(AccessKeyStatus::Active)
        };
        let decision = decide(&req, &other_user, &deny);
        assert!(
            matches!(decision, Decision::NotApplicable { ref reason } if reason.contains("belongs to alice")),
            "{decision:?}"
        );
        let within_skew = LiveState {
            user_name: Some("SVC-backup".into()),
            created_epoch: Some(EVENT_EPOCH - CREATION_SKEW_SECS),
            ..live(AccessKeyStatus::Active)
        };
        assert!(matches!(
            decide(&req, &within_skew, &deny),
            Decision::Act(_)
        ));
    }

    #[test]
    fn deny_list_rejects_invalid_names() {
        assert_eq!(deny(" a , b@example.com,, c+d=e ").len(), 3);
        assert_eq!(
            parse_deny_list("ok, not ok").err().map(|e| e.name),
            Some("not ok".to_owned())
        );
        assert!(parse_deny_list(&"x".repeat(65)).is_err());
    }
}
