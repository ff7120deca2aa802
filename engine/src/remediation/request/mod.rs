//! Turning a CloudTrail record into the remediation it calls for.
//!
//! [`Remediation::assess`] maps one record to an action and its resource,
//! or says why no action applies; [`requests_from_cloudtrail`] wraps that
//! into a [`RemediationRequest`] with the facts the guard needs. The same
//! mapping runs in the notifier (to mark remediable findings) and in the
//! remediator ([`trigger`] unwraps the envelopes a record arrives in).
//!
//! # CloudTrail fields read
//!
//! Every record: `eventName`, `eventSource`, `eventID`, `awsRegion`,
//! `recipientAccountId` (else `userIdentity.accountId`), and optionally
//! `eventTime`, `userIdentity.arn` and `errorCode`. Per event:
//!
//! | event | action | resource from |
//! |---|---|---|
//! | `AuthorizeSecurityGroupIngress` (ec2) | security-group-open-ingress | `requestParameters.groupId`, else `responseElements.securityGroupRuleSet.items[].groupId` (calls by `groupName`) |
//! | `StopLogging` (cloudtrail) | cloudtrail-logging | `requestParameters.name`, a trail name or ARN |
//! | `PutBucketPolicy`, `PutBucketAcl`, `DeletePublicAccessBlock`, `DeleteBucketPublicAccessBlock`, `PutBucketPublicAccessBlock` (s3) | s3-public-access | `requestParameters.bucketName` |
//! | `ModifySnapshotAttribute` (ec2), only when `createVolumePermission.add.items[].group` is `all` | snapshot-public | `requestParameters.snapshotId` |
//! | `ModifyImageAttribute` (ec2), only when `launchPermission.add.items[].group` is `all` | image-public | `requestParameters.imageId` |
//! | `ScheduleKeyDeletion` (kms) | kms-key-deletion | `requestParameters.keyId` |
//! | `StopConfigurationRecorder` (config) | config-recorder | `requestParameters.configurationRecorderName` |
//! | `CreateAccessKey` (iam) | iam-access-key | owner: `requestParameters.userName`, else `responseElements.accessKey.userName`, else the caller (`userIdentity.type` `Root`, or an `IAMUser`'s `userName`); key: `responseElements.accessKey.accessKeyId` |
//!
//! Sharing a snapshot or AMI with one account is routine, so only a grant to
//! the `all` group becomes a request. Every other mapped event always
//! becomes one and the action decides from live state: a policy change that
//! left a bucket private, or a key created for a user not on the deny list,
//! ends as "already compliant" or "not applicable" in the audit.
//!
//! Failed calls (`errorCode` set) still map, so the guard can record why it
//! skipped them; only fields CloudTrail fills from the response
//! (`responseElements`) may then be absent. Any other missing or mistyped
//! field is a [`RequestError`] naming it, with the path through the
//! envelope (for example `detail.requestParameters.groupId missing`). An
//! empty string counts as missing.

pub mod trigger;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actions::ActionKind;
use crate::envelope::EnvelopeError;

/// EventBridge's `detail-type` for CloudTrail management events.
pub const CLOUDTRAIL_DETAIL_TYPE: &str = "AWS API Call via CloudTrail";

/// One thing to remediate, as decided from one CloudTrail record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemediationRequest {
    /// The action that handles it.
    pub action: ActionKind,
    /// The resource to look at.
    pub resource: ResourceRef,
    /// The CloudTrail `eventName` that triggered it.
    pub event_name: String,
    /// The CloudTrail `eventID`, the idempotency key on redelivery.
    pub trigger_event_id: String,
    /// The CloudTrail `eventTime`, when the record has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// The caller's `userIdentity.arn`; absent for some service identities.
    pub principal_arn: Option<String>,
    /// The account the resource lives in (`recipientAccountId`).
    pub account: String,
    /// The region the call was made in (`awsRegion`).
    pub region: String,
    /// The call's `errorCode`, when it failed.
    pub error_code: Option<String>,
    /// How the record reached the remediator.
    pub source: TriggerSource,
}

/// How a CloudTrail record reached the remediator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum TriggerSource {
    /// A trailguard finding published on SNS.
    Finding {
        /// The `rule.id` of the rule that produced the finding.
        rule_id: String,
        /// The finding's `id`.
        finding_id: String,
    },
    /// An EventBridge "AWS API Call via CloudTrail" event.
    EventBridge,
}

/// The resource a request is about, typed per action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ResourceRef {
    /// An EC2 security group.
    SecurityGroup {
        /// Its id, `sg-…`.
        group_id: String,
    },
    /// A CloudTrail trail.
    Trail {
        /// The trail's name.
        name: String,
        /// Its ARN, when the event named the trail by ARN.
        arn: Option<String>,
    },
    /// An S3 bucket.
    Bucket {
        /// The bucket name.
        name: String,
    },
    /// An EBS snapshot.
    Snapshot {
        /// Its id, `snap-…`.
        snapshot_id: String,
    },
    /// An AMI.
    Image {
        /// Its id, `ami-…`.
        image_id: String,
    },
    /// A KMS key.
    KmsKey {
        /// The key id or key ARN, as the event gave it.
        key_id: String,
    },
    /// An AWS Config configuration recorder.
    ConfigRecorder {
        /// The recorder's name.
        name: String,
    },
    /// An IAM access key.
    AccessKey {
        /// Whose key it is.
        owner: KeyOwner,
        /// The key id; absent when the creating call failed.
        access_key_id: Option<String>,
    },
}

/// The owner of an access key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyOwner {
    /// The account's root user.
    Root,
    /// An IAM user, by name.
    User(String),
}

impl fmt::Display for KeyOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOwner::Root => f.write_str("root"),
            KeyOwner::User(name) => write!(f, "user/{name}"),
        }
    }
}

/// The canonical text of a resource, as `kind/identifier`; it names the
/// resource in audit records and feeds the audit id.
impl fmt::Display for ResourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceRef::SecurityGroup { group_id } => write!(f, "security-group/{group_id}"),
            ResourceRef::Trail { arn: Some(arn), .. } => write!(f, "trail/{arn}"),
            ResourceRef::Trail { name, arn: None } => write!(f, "trail/{name}"),
            ResourceRef::Bucket { name } => write!(f, "bucket/{name}"),
            ResourceRef::Snapshot { snapshot_id } => write!(f, "snapshot/{snapshot_id}"),
            ResourceRef::Image { image_id } => write!(f, "image/{image_id}"),
            ResourceRef::KmsKey { key_id } => write!(f, "kms-key/{key_id}"),
            ResourceRef::ConfigRecorder { name } => write!(f, "config-recorder/{name}"),
            ResourceRef::AccessKey {
                owner,
                access_key_id,
            } => write!(
                f,
                "access-key/{owner}/{}",
                access_key_id.as_deref().unwrap_or("unknown")
            ),
        }
    }
}

/// Why a trigger could not be turned into requests.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A required field is absent, null or empty.
    #[error("{field} missing")]
    Missing {
        /// Path of the field from the trigger's root.
        field: String,
    },
    /// A field is present but not usable.
    #[error("{field} invalid: {reason}")]
    Invalid {
        /// Path of the field from the trigger's root.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A field that should hold JSON text does not.
    #[error("{field} is not JSON: {source}")]
    NotJson {
        /// Path of the field from the trigger's root.
        field: String,
        /// The parser's complaint.
        source: serde_json::Error,
    },
    /// The delivery around the trigger could not be unwrapped, or holds
    /// none of the trigger shapes the remediator accepts.
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
    /// A trigger that cannot be read, at its place in the delivery.
    #[error("{at}: {source}")]
    In {
        /// Where the trigger sits (`Lambda input > SNS message ..`).
        at: String,
        /// What is wrong with it.
        source: Box<RequestError>,
    },
}

impl RequestError {
    /// The same error, with its field path prefixed by `parent`.
    pub(crate) fn within(self, parent: &str) -> Self {
        let prefix = |field: String| format!("{parent}.{field}");
        match self {
            RequestError::Missing { field } => RequestError::Missing {
                field: prefix(field),
            },
            RequestError::Invalid { field, reason } => RequestError::Invalid {
                field: prefix(field),
                reason,
            },
            RequestError::NotJson { field, source } => RequestError::NotJson {
                field: prefix(field),
                source,
            },
            other @ (RequestError::Envelope(_) | RequestError::In { .. }) => other,
        }
    }
}

/// What an event calls for: the action that handles it and the resource
/// the action looks at. The notifier writes it into findings (schema 1.1),
/// so a finding whose raw event was cut for SNS still names its resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// The action.
    pub action: ActionKind,
    /// The resource.
    pub resource: ResourceRef,
}

/// What [`Remediation::assess`] concluded about one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// An action handles it.
    Remediate(Remediation),
    /// No action handles it, and why.
    NoAction {
        /// For people: which check the event did not pass.
        reason: String,
    },
}

impl Remediation {
    /// Whether some action handles events named `event_name` (the cheap
    /// first test; [`Remediation::assess`] decides).
    pub fn handles_event_name(event_name: &str) -> bool {
        ActionKind::for_event_name(event_name).is_some()
    }

    /// The remediation `event` calls for, if any.
    pub fn of_event(event: &Value) -> Result<Option<Remediation>, RequestError> {
        Ok(match Remediation::assess(event)? {
            Assessment::Remediate(remediation) => Some(remediation),
            Assessment::NoAction { .. } => None,
        })
    }

    /// Maps one CloudTrail record to its action and resource, or says why
    /// none applies (an unmapped event, a mapped name from an unexpected
    /// `eventSource`, a share that is not public).
    pub fn assess(event: &Value) -> Result<Assessment, RequestError> {
        let event_name = required_str(event, &["eventName"])?;
        let event_source = required_str(event, &["eventSource"])?;
        let Some(action) = ActionKind::for_event_name(event_name) else {
            return Ok(Assessment::NoAction {
                reason: format!("no remediation action handles `{event_name}`"),
            });
        };
        let expected_source = action.event_source();
        if event_source != expected_source {
            return Ok(Assessment::NoAction {
                reason: format!(
                    "`{event_name}` from `{event_source}`: {action} answers it from `{expected_source}` only"
                ),
            });
        }
        let failed = optional_str(event, &["errorCode"])?.is_some();
        Ok(match action.resource(event, failed)? {
            Some(resource) => Assessment::Remediate(Remediation { action, resource }),
            None => Assessment::NoAction {
                reason: format!(
                    "`{event_name}` does not grant the `{}` group: not a public share",
                    super::actions::PUBLIC_GROUP
                ),
            },
        })
    }
}

impl RemediationRequest {
    /// The triggering event's time in epoch seconds, when it has a readable one.
    pub fn event_epoch(&self) -> Option<i64> {
        let text = self.event_time.as_deref()?;
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(time::OffsetDateTime::unix_timestamp)
    }

    /// The request for `remediation`, with the facts of `event` the guard
    /// and the audit need.
    pub fn for_event(
        remediation: Remediation,
        event: &Value,
        source: TriggerSource,
    ) -> Result<RemediationRequest, RequestError> {
        let account = match optional_str(event, &["recipientAccountId"])? {
            Some(account) => account,
            None => optional_str(event, &["userIdentity", "accountId"])?
                .ok_or_else(|| missing(&["recipientAccountId"]))?,
        };
        Ok(RemediationRequest {
            action: remediation.action,
            resource: remediation.resource,
            event_name: required_str(event, &["eventName"])?.to_owned(),
            trigger_event_id: required_str(event, &["eventID"])?.to_owned(),
            event_time: optional_str(event, &["eventTime"])?.map(str::to_owned),
            principal_arn: optional_str(event, &["userIdentity", "arn"])?.map(str::to_owned),
            account: account.to_owned(),
            region: required_str(event, &["awsRegion"])?.to_owned(),
            error_code: optional_str(event, &["errorCode"])?.map(str::to_owned),
            source,
        })
    }
}

/// Maps one CloudTrail record to the remediation it calls for.
///
/// Returns an empty list for events no action handles (including a mapped
/// event name from an unexpected `eventSource`), and one request otherwise.
pub fn requests_from_cloudtrail(
    event: &Value,
    source: TriggerSource,
) -> Result<Vec<RemediationRequest>, RequestError> {
    match Remediation::assess(event)? {
        Assessment::Remediate(remediation) => Ok(vec![RemediationRequest::for_event(
            remediation,
            event,
            source,
        )?]),
        Assessment::NoAction { .. } => Ok(Vec::new()),
    }
}

/// Whether a snapshot or image attribute change adds the `all` group.
/// CloudTrail writes `{"add": {"items": [{"group": "all"}]}}`; some tools
/// document the key as `groups`, so both are accepted.
pub(crate) fn adds_public_group(event: &Value, attribute: &str) -> Result<bool, RequestError> {
    if at(event, &["requestParameters"]).is_none() {
        return Err(missing(&["requestParameters"]));
    }
    let items = at(event, &["requestParameters", attribute, "add", "items"]);
    let public = items.and_then(Value::as_array).is_some_and(|items| {
        items.iter().any(|item| {
            ["group", "groups"].iter().any(|key| {
                item.get(*key).and_then(Value::as_str) == Some(super::actions::PUBLIC_GROUP)
            })
        })
    });
    Ok(public)
}

/// A required id that must carry an EC2 prefix such as `sg-`.
pub(crate) fn prefixed_id(
    event: &Value,
    path: &[&str],
    prefix: &str,
) -> Result<String, RequestError> {
    check_prefix(required_str(event, path)?, path, prefix)
}

pub(crate) fn check_prefix(id: &str, path: &[&str], prefix: &str) -> Result<String, RequestError> {
    if id.starts_with(prefix) {
        Ok(id.to_owned())
    } else {
        Err(RequestError::Invalid {
            field: path.join("."),
            reason: format!("`{id}` does not start with `{prefix}`"),
        })
    }
}

/// The value at `path`, treating JSON `null` as absent.
pub(crate) fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .filter(|v| !v.is_null())
}

/// A string at `path`; absent, null and empty are `None`, other types an error.
pub(crate) fn optional_str<'a>(
    value: &'a Value,
    path: &[&str],
) -> Result<Option<&'a str>, RequestError> {
    match at(value, path) {
        None => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(RequestError::Invalid {
            field: path.join("."),
            reason: format!("expected a string, found {}", kind_of(other)),
        }),
    }
}

pub(crate) fn required_str<'a>(value: &'a Value, path: &[&str]) -> Result<&'a str, RequestError> {
    optional_str(value, path)?.ok_or_else(|| missing(path))
}

pub(crate) fn required_object<'a>(value: &'a Value, key: &str) -> Result<&'a Value, RequestError> {
    match at(value, &[key]) {
        None => Err(missing(&[key])),
        Some(obj @ Value::Object(_)) => Ok(obj),
        Some(other) => Err(RequestError::Invalid {
            field: key.to_owned(),
            reason: format!("expected an object, found {}", kind_of(other)),
        }),
    }
}

pub(crate) fn missing(path: &[&str]) -> RequestError {
    RequestError::Missing {
        field: path.join("."),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
