//! Whether an exemption tag on a resource may be honoured.
//!
//! Whoever can make a risky change can often tag the resource too, so the
//! tag alone proves nothing. It is honoured only when CloudTrail proves it
//! was set **before** the change **by another principal**:
//!
//! - the events CloudTrail recorded for the resource (`LookupEvents` by
//!   resource name, the last 90 days) are read, and those whose request
//!   names the tag key are its changes ([`tag_change_of`]);
//! - the newest change must be older than the triggering event and made by
//!   a principal other than the event's ([`standing`]). Roles compare by
//!   role, not by session, so a new session of the same role is the same
//!   principal.
//!
//! Anything else is not honoured, failing closed: a change at or after the
//! event, the event's own principal, no recorded change (a tag older than
//! CloudTrail's 90 days of history, or one set so recently CloudTrail has
//! not made it searchable yet), an unknown principal or time, or a failed
//! lookup. The audit record's `note` says why. An administrator renews an
//! exemption older than 90 days by setting the tag again. Reserving the
//! tag key to administrators with a service control policy
//! (`docs/scp-exempt-tag.json`) keeps everyone else from setting it at all.

use serde_json::Value;

use super::request::{KeyOwner, RemediationRequest, ResourceRef};

/// How far back CloudTrail's event history reaches.
pub const HISTORY_SECS: i64 = 90 * 86_400;

/// One recorded change of the exemption tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChange {
    /// When, epoch seconds.
    pub at_epoch: i64,
    /// Who (`userIdentity.arn`), when CloudTrail names them.
    pub principal: Option<String>,
}

/// The name CloudTrail's `LookupEvents` knows the resource by (its
/// `ResourceName` attribute); the tags of an access key are its user's.
pub fn lookup_name(resource: &ResourceRef) -> Option<&str> {
    Some(match resource {
        ResourceRef::SecurityGroup { group_id } => group_id,
        ResourceRef::Trail { arn: Some(arn), .. } => arn,
        ResourceRef::Trail { name, arn: None } => name,
        ResourceRef::Bucket { name } => name,
        ResourceRef::Snapshot { snapshot_id } => snapshot_id,
        ResourceRef::Image { image_id } => image_id,
        ResourceRef::KmsKey { key_id } => key_id,
        ResourceRef::ConfigRecorder { name } => name,
        ResourceRef::AccessKey {
            owner: KeyOwner::User(name),
            ..
        } => name,
        ResourceRef::AccessKey {
            owner: KeyOwner::Root,
            ..
        } => return None,
    })
}

/// The change of `tag_key` a CloudTrail record (`LookupEvents`'
/// `CloudTrailEvent` JSON) makes, if it is a write whose request names the
/// key: `CreateTags`, `TagResource`, `PutBucketTagging`, `AddTags`,
/// `TagUser`, a creation with tags, or the matching removals.
pub fn tag_change_of(cloudtrail_event: &str, tag_key: &str) -> Option<TagChange> {
    let event: Value = serde_json::from_str(cloudtrail_event).ok()?;
    if event.get("readOnly").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    if !names_tag_key(event.get("requestParameters")?, tag_key, false) {
        return None;
    }
    let time = event.get("eventTime").and_then(Value::as_str)?;
    let at =
        time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339).ok()?;
    Some(TagChange {
        at_epoch: at.unix_timestamp(),
        principal: event
            .pointer("/userIdentity/arn")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// Whether `value` holds `tag_key` as a tag key: the value of a `key` or
/// `tagKey` member (any case), or an item of a `tagKeys` list.
fn names_tag_key(value: &Value, tag_key: &str, in_key_list: bool) -> bool {
    match value {
        Value::String(text) => in_key_list && text == tag_key,
        Value::Array(items) => items
            .iter()
            .any(|item| names_tag_key(item, tag_key, in_key_list)),
        Value::Object(members) => members.iter().any(|(name, member)| {
            let name = name.to_ascii_lowercase();
            match name.as_str() {
                "key" | "tagkey" => member.as_str() == Some(tag_key),
                "tagkeys" => names_tag_key(member, tag_key, true),
                _ => names_tag_key(member, tag_key, false),
            }
        }),
        _ => false,
    }
}

/// Whether the exemption tag may be honoured for `req`, given its recorded
/// `changes`: `Ok` when honoured, else why not (see the module docs).
pub fn standing(req: &RemediationRequest, changes: &[TagChange]) -> Result<(), String> {
    let Some(event_at) = req.event_epoch() else {
        return Err("the triggering event has no readable time to compare the tag with".to_owned());
    };
    let Some(changer) = req.principal_arn.as_deref() else {
        return Err(
            "the triggering event names no principal to compare the tagger with".to_owned(),
        );
    };
    let by_changer = |c: &&TagChange| {
        c.principal
            .as_deref()
            .is_some_and(|p| same_principal(p, changer))
    };
    if let Some(own) = changes
        .iter()
        .filter(|c| c.at_epoch >= event_at)
        .find(by_changer)
    {
        return Err(format!(
            "set by {changer}, who made the change, at epoch {} (the change: {event_at})",
            own.at_epoch
        ));
    }
    let Some(last) = changes.iter().max_by_key(|c| c.at_epoch) else {
        return Err(
            "CloudTrail records no setting of the tag in the last 90 days, so nothing proves it \
             predates the change or who set it"
                .to_owned(),
        );
    };
    if last.at_epoch >= event_at {
        return Err(format!(
            "last set at epoch {}, at or after the change at epoch {event_at}",
            last.at_epoch
        ));
    }
    match last.principal.as_deref() {
        None => Err("last set by a principal CloudTrail does not name".to_owned()),
        Some(tagger) if same_principal(tagger, changer) => Err(format!(
            "last set by {tagger}, the principal that made the change"
        )),
        Some(_) => Ok(()),
    }
}

/// Whether two `userIdentity.arn`s are the same principal: a role and its
/// sessions (`assumed-role/<name>/<session>`) compare by account and role
/// name, users by account and name (paths ignored), anything else exactly.
pub fn same_principal(a: &str, b: &str) -> bool {
    principal_key(a) == principal_key(b)
}

fn principal_key(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, _, service, _, account, resource] = parts.as_slice() else {
        return arn.to_owned();
    };
    let mut segments = resource.split('/');
    let kind = segments.next().unwrap_or_default();
    let rest: Vec<&str> = segments.collect();
    let name = match (*service, kind) {
        ("sts", "assumed-role") => rest.first().copied(),
        ("iam", "role" | "user") => rest.last().copied(),
        _ => None,
    };
    match name {
        Some(name) => {
            let kind = if kind == "assumed-role" { "role" } else { kind };
            format!("{account}:{kind}/{}", name.to_ascii_lowercase())
        }
        None => arn.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::test_group_request;
    use crate::remediation::guard::DEFAULT_EXEMPTION_TAG;
    use serde_json::json;

    /// The test request: 2024-05-02T09:14:03Z by user Alice.
    const CHANGE_AT: i64 = 1_714_641_243;
    const ALICE: &str = "arn:aws:iam::111122223333:user/Alice";
    const ADMIN: &str = "arn:aws:sts::111122223333:assumed-role/SecurityAdmin/bob";

    fn request() -> RemediationRequest {
        test_group_request()
    }

    fn change(at_epoch: i64, principal: &str) -> TagChange {
        TagChange {
            at_epoch,
            principal: Some(principal.into()),
        }
    }

    #[test]
    fn a_tag_set_earlier_by_someone_else_is_honoured() {
        assert_eq!(
            standing(&request(), &[change(CHANGE_AT - 86_400, ADMIN)]),
            Ok(())
        );
    }

    #[test]
    fn a_tag_the_changer_set_at_or_after_the_change_is_not() {
        for at in [CHANGE_AT, CHANGE_AT + 20] {
            let changes = [change(CHANGE_AT - 86_400, ADMIN), change(at, ALICE)];
            let why = standing(&request(), &changes).err().unwrap_or_default();
            assert!(why.contains("who made the change"), "{why}");
        }
        let why = standing(&request(), &[change(CHANGE_AT - 60, ALICE)])
            .err()
            .unwrap_or_default();
        assert!(why.contains("the principal that made the change"), "{why}");
    }

    #[test]
    fn anything_unproven_is_not_honoured() {
        let why = standing(&request(), &[]).err().unwrap_or_default();
        assert!(why.contains("no setting of the tag"), "{why}");
        let later = [change(CHANGE_AT + 5, ADMIN)];
        assert!(standing(&request(), &later).is_err());
        let anonymous = [TagChange {
            at_epoch: CHANGE_AT - 60,
            principal: None,
        }];
        assert!(standing(&request(), &anonymous).is_err());
        let mut timeless = request();
        timeless.event_time = None;
        assert!(standing(&timeless, &[change(CHANGE_AT - 60, ADMIN)]).is_err());
        let mut nameless = request();
        nameless.principal_arn = None;
        assert!(standing(&nameless, &[change(CHANGE_AT - 60, ADMIN)]).is_err());
    }

    #[test]
    fn roles_compare_by_role_not_session() {
        let role = "arn:aws:iam::111122223333:role/ops/Deployer";
        let session = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-42";
        let other_session = "arn:aws:sts::111122223333:assumed-role/Deployer/ci-43";
        assert!(same_principal(session, other_session));
        assert!(same_principal(role, session));
        assert!(!same_principal(session, ADMIN));
        assert!(same_principal(
            ALICE,
            "arn:aws:iam::111122223333:user/team/alice"
        ));
        assert!(!same_principal(
            ALICE,
            "arn:aws:iam::444455556666:user/Alice"
        ));
    }

    #[test]
    fn tagging_records_are_read_for_the_key() {
        let key = DEFAULT_EXEMPTION_TAG;
        let ec2 = json!({"eventTime": "2024-05-01T09:14:03Z", "readOnly": false,
            "userIdentity": {"arn": ADMIN},
            "requestParameters": {"resourcesSet": {"items": [{"resourceId": "sg-1"}]},
                "tagSet": {"items": [{"key": key, "value": "vendor appliance"}]}}});
        assert_eq!(
            tag_change_of(&ec2.to_string(), key),
            Some(change(CHANGE_AT - 86_400, ADMIN))
        );
        let s3 = json!({"eventTime": "2024-05-01T09:14:03Z", "userIdentity": {"arn": ALICE},
            "requestParameters": {"Tagging": {"TagSet": {"Tag": {"Key": key, "Value": "x"}}}}});
        assert!(tag_change_of(&s3.to_string(), key).is_some());
        let kms = json!({"eventTime": "2024-05-01T09:14:03Z",
            "requestParameters": {"tags": [{"tagKey": key, "tagValue": "x"}]}});
        assert_eq!(
            tag_change_of(&kms.to_string(), key).map(|c| c.principal),
            Some(None)
        );
        let untag = json!({"eventTime": "2024-05-01T09:14:03Z",
            "requestParameters": {"tagKeys": [key]}});
        assert!(tag_change_of(&untag.to_string(), key).is_some());
        let other_key = json!({"eventTime": "2024-05-01T09:14:03Z",
            "requestParameters": {"tagSet": {"items": [{"key": "team", "value": key}]}}});
        assert_eq!(tag_change_of(&other_key.to_string(), key), None);
        let read = json!({"eventTime": "2024-05-01T09:14:03Z", "readOnly": true,
            "requestParameters": {"filterSet": {"items": [{"key": key}]}}});
        assert_eq!(tag_change_of(&read.to_string(), key), None);
        assert_eq!(tag_change_of("{not json", key), None);
    }

    #[test]
    fn lookup_names_are_the_resource_ids() {
        assert_eq!(lookup_name(&request().resource), Some("sg-1"));
        let key = ResourceRef::AccessKey {
            owner: KeyOwner::User("svc".into()),
            access_key_id: None,
        };
        assert_eq!(lookup_name(&key), Some("svc"));
        let root = ResourceRef::AccessKey {
            owner: KeyOwner::Root,
            access_key_id: None,
        };
        assert_eq!(lookup_name(&root), None);
    }

    /// The shipped service control policy reserves the default tag key.
    #[test]
    fn the_scp_snippet_reserves_the_default_tag_key() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/scp-exempt-tag.json");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let scp: Value = serde_json::from_str(&text).unwrap_or_default();
        let statements = scp["Statement"].as_array().cloned().unwrap_or_default();
        assert!(statements.len() >= 2, "{text}");
        let request_tag = format!("aws:RequestTag/{DEFAULT_EXEMPTION_TAG}");
        for s in &statements {
            assert_eq!(s["Effect"], "Deny", "{s}");
            let admins = s["Condition"]["ArnNotLike"]["aws:PrincipalArn"].as_array();
            assert!(
                admins.is_some_and(|arns| !arns.is_empty()),
                "every statement leaves the named administrators out: {s}"
            );
        }
        let on_request_tag = statements
            .iter()
            .any(|s| s["Condition"]["Null"][&request_tag] == "false");
        assert!(
            on_request_tag,
            "a statement denies requests setting {request_tag}"
        );
        let on_tag_keys = statements.iter().any(|s| {
            s["Condition"]["ForAnyValue:StringEquals"]["aws:TagKeys"]
                .as_array()
                .is_some_and(|keys| keys.iter().any(|k| k == DEFAULT_EXEMPTION_TAG))
        });
        assert!(
            on_tag_keys,
            "a statement denies requests naming the key in aws:TagKeys"
        );
    }
}
