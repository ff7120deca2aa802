//! The remediation actions, one module per action, each a pure decision.
//!
//! Every action module has the same shape, so an executor for it is a thin
//! wrapper around SDK calls:
//!
//! - `NAME`: the kebab-case name used in `TRAILGUARD_ENABLED_ACTIONS` and in
//!   audit records;
//! - `PERMISSIONS`: every IAM action the executor needs, reads included;
//! - `EVENT_SOURCE` and `EVENT_NAMES`: the CloudTrail calls that trigger it
//!   (the stack's EventBridge rule and the remediable-finding mapping);
//! - `resource(event, failed)`: the resource a triggering call is about,
//!   or `None` when the call leaves nothing to remediate;
//! - `LiveState`: what the executor reads from the account before deciding.
//!   It is serialisable because it becomes the audit record's `before`;
//! - `Plan`: exactly what the executor will change. It serialises into the
//!   audit record's `plan` and deserialises again, so an undo can be driven
//!   from the audit trail alone;
//! - `decide(&RemediationRequest, &LiveState, ..) -> Decision<Plan>`: pure,
//!   so every branch is unit-tested without an account.
//!
//! Two actions need operator configuration, validated when the
//! configuration is loaded ([`crate::remediation::GuardConfig::from_vars`]):
//! [`security_group_open_ingress`] takes the allowed ports and
//! [`iam_access_key`] the user deny list, as an extra `decide` argument.

pub mod cloudtrail_logging;
pub mod config_recorder;
pub mod iam_access_key;
pub mod image_public;
pub mod kms_key_deletion;
pub mod s3_public_access;
pub mod security_group_open_ingress;
pub mod snapshot_public;

use std::fmt;

use serde::{Deserialize, Serialize};

use serde_json::Value;

use super::audit::Outcome;
use super::request::{RemediationRequest, RequestError, ResourceRef};

/// The EC2 permission group that stands for "everyone" in snapshot
/// create-volume and AMI launch permissions.
pub const PUBLIC_GROUP: &str = "all";

/// Which remediation an event calls for. Serialises as the action's
/// kebab-case [`ActionKind::name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// Revoke security group ingress open to the world: [`security_group_open_ingress`].
    SecurityGroupOpenIngress,
    /// Restart a stopped trail: [`cloudtrail_logging`].
    CloudtrailLogging,
    /// Put back a full S3 public access block: [`s3_public_access`].
    S3PublicAccess,
    /// Make a public EBS snapshot private: [`snapshot_public`].
    SnapshotPublic,
    /// Make a public AMI private: [`image_public`].
    ImagePublic,
    /// Cancel a scheduled KMS key deletion: [`kms_key_deletion`].
    KmsKeyDeletion,
    /// Restart a stopped AWS Config recorder: [`config_recorder`].
    ConfigRecorder,
    /// Deactivate a new access key of a deny-listed user: [`iam_access_key`].
    IamAccessKey,
}

impl ActionKind {
    /// Every action, in a fixed order.
    pub const ALL: [ActionKind; 8] = [
        ActionKind::SecurityGroupOpenIngress,
        ActionKind::CloudtrailLogging,
        ActionKind::S3PublicAccess,
        ActionKind::SnapshotPublic,
        ActionKind::ImagePublic,
        ActionKind::KmsKeyDeletion,
        ActionKind::ConfigRecorder,
        ActionKind::IamAccessKey,
    ];

    /// The action's kebab-case name (its module's `NAME`).
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::SecurityGroupOpenIngress => security_group_open_ingress::NAME,
            ActionKind::CloudtrailLogging => cloudtrail_logging::NAME,
            ActionKind::S3PublicAccess => s3_public_access::NAME,
            ActionKind::SnapshotPublic => snapshot_public::NAME,
            ActionKind::ImagePublic => image_public::NAME,
            ActionKind::KmsKeyDeletion => kms_key_deletion::NAME,
            ActionKind::ConfigRecorder => config_recorder::NAME,
            ActionKind::IamAccessKey => iam_access_key::NAME,
        }
    }

    /// The action named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The IAM actions the executor of this action needs (its module's `PERMISSIONS`).
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            ActionKind::SecurityGroupOpenIngress => security_group_open_ingress::PERMISSIONS,
            ActionKind::CloudtrailLogging => cloudtrail_logging::PERMISSIONS,
            ActionKind::S3PublicAccess => s3_public_access::PERMISSIONS,
            ActionKind::SnapshotPublic => snapshot_public::PERMISSIONS,
            ActionKind::ImagePublic => image_public::PERMISSIONS,
            ActionKind::KmsKeyDeletion => kms_key_deletion::PERMISSIONS,
            ActionKind::ConfigRecorder => config_recorder::PERMISSIONS,
            ActionKind::IamAccessKey => iam_access_key::PERMISSIONS,
        }
    }

    /// The service whose calls trigger the action (its module's `EVENT_SOURCE`).
    pub fn event_source(self) -> &'static str {
        match self {
            ActionKind::SecurityGroupOpenIngress => security_group_open_ingress::EVENT_SOURCE,
            ActionKind::CloudtrailLogging => cloudtrail_logging::EVENT_SOURCE,
            ActionKind::S3PublicAccess => s3_public_access::EVENT_SOURCE,
            ActionKind::SnapshotPublic => snapshot_public::EVENT_SOURCE,
            ActionKind::ImagePublic => image_public::EVENT_SOURCE,
            ActionKind::KmsKeyDeletion => kms_key_deletion::EVENT_SOURCE,
            ActionKind::ConfigRecorder => config_recorder::EVENT_SOURCE,
            ActionKind::IamAccessKey => iam_access_key::EVENT_SOURCE,
        }
    }

    /// The calls that trigger the action (its module's `EVENT_NAMES`).
    pub fn event_names(self) -> &'static [&'static str] {
        match self {
            ActionKind::SecurityGroupOpenIngress => security_group_open_ingress::EVENT_NAMES,
            ActionKind::CloudtrailLogging => cloudtrail_logging::EVENT_NAMES,
            ActionKind::S3PublicAccess => s3_public_access::EVENT_NAMES,
            ActionKind::SnapshotPublic => snapshot_public::EVENT_NAMES,
            ActionKind::ImagePublic => image_public::EVENT_NAMES,
            ActionKind::KmsKeyDeletion => kms_key_deletion::EVENT_NAMES,
            ActionKind::ConfigRecorder => config_recorder::EVENT_NAMES,
            ActionKind::IamAccessKey => iam_access_key::EVENT_NAMES,
        }
    }

    /// The action a call named `event_name` triggers, if any.
    pub fn for_event_name(event_name: &str) -> Option<ActionKind> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.event_names().contains(&event_name))
    }

    /// The resource a triggering `event` is about (its module's
    /// `resource`); `failed` when the call has an `errorCode`.
    pub fn resource(
        self,
        event: &Value,
        failed: bool,
    ) -> Result<Option<ResourceRef>, RequestError> {
        match self {
            ActionKind::SecurityGroupOpenIngress => {
                security_group_open_ingress::resource(event, failed)
            }
            ActionKind::CloudtrailLogging => cloudtrail_logging::resource(event, failed),
            ActionKind::S3PublicAccess => s3_public_access::resource(event, failed),
            ActionKind::SnapshotPublic => snapshot_public::resource(event, failed),
            ActionKind::ImagePublic => image_public::resource(event, failed),
            ActionKind::KmsKeyDeletion => kms_key_deletion::resource(event, failed),
            ActionKind::ConfigRecorder => config_recorder::resource(event, failed),
            ActionKind::IamAccessKey => iam_access_key::resource(event, failed),
        }
    }

    /// Whether `TRAILGUARD_ENABLED_ACTIONS=all` turns this action on.
    ///
    /// Deactivating an access key can stop a production workload, so
    /// [`ActionKind::IamAccessKey`] must always be named explicitly.
    pub fn enabled_by_all(self) -> bool {
        !matches!(self, ActionKind::IamAccessKey)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an action concluded from a request and the live state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<P> {
    /// Change the account as the plan says.
    Act(P),
    /// The resource is already in the state the action would put it in.
    AlreadyCompliant {
        /// Why, for the audit record.
        reason: String,
    },
    /// The action does not apply to this request (wrong resource, live
    /// state read for another resource, a case the action cannot fix).
    NotApplicable {
        /// Why, for the audit record.
        reason: String,
    },
}

impl<P> Decision<P> {
    /// The plan, when the decision is to act.
    pub fn plan(&self) -> Option<&P> {
        match self {
            Decision::Act(plan) => Some(plan),
            Decision::AlreadyCompliant { .. } | Decision::NotApplicable { .. } => None,
        }
    }

    /// The audit outcome of a decision not to act; `None` for [`Decision::Act`],
    /// whose outcome depends on the rate limit, dry run and the apply itself.
    pub fn skip_outcome(&self) -> Option<Outcome> {
        match self {
            Decision::Act(_) => None,
            Decision::AlreadyCompliant { reason } => Some(Outcome::SkippedAlreadyCompliant {
                reason: reason.clone(),
            }),
            Decision::NotApplicable { reason } => Some(Outcome::SkippedNotApplicable {
                reason: reason.clone(),
            }),
        }
    }
}

/// The decision for a request whose resource is not the kind `action` handles.
fn wrong_resource<P>(action: &str, req: &RemediationRequest) -> Decision<P> {
    Decision::NotApplicable {
        reason: format!("{action} cannot act on {}", req.resource),
    }
}

/// The decision for live state read from a different resource than the
/// request names: acting on it would change the wrong thing.
fn live_mismatch<P>(requested: &str, live: &str) -> Decision<P> {
    Decision::NotApplicable {
        reason: format!("live state was read for {live} but the request names {requested}"),
    }
}

/// A request as the mapping would produce it, for action tests.
#[cfg(test)]
pub(crate) fn test_request(
    action: ActionKind,
    resource: super::request::ResourceRef,
    event_name: &str,
) -> RemediationRequest {
    RemediationRequest {
        action,
        resource,
        event_name: event_name.into(),
        trigger_event_id: "2aae5c69-4eaf-490d-b022-fd622c12a717".into(),
        event_time: Some("2024-05-02T09:14:03Z".into()),
        principal_arn: Some("arn:aws:iam::111122223333:user/Alice".into()),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        error_code: None,
        source: super::request::TriggerSource::EventBridge,
    }
}

/// A request for `sg-1` by the test request's caller, for unit tests of
/// the modules around the actions.
#[cfg(test)]
pub(crate) fn test_group_request() -> RemediationRequest {
    test_request(
        ActionKind::SecurityGroupOpenIngress,
        super::request::ResourceRef::SecurityGroup {
            group_id: "sg-1".into(),
        },
        "AuthorizeSecurityGroupIngress",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_serde() {
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::from_name(kind.name()), Some(kind));
            let json = serde_json::to_value(kind).ok();
            assert_eq!(json, Some(serde_json::Value::from(kind.name())));
            assert!(
                !kind.permissions().is_empty(),
                "{kind} lists no permissions"
            );
        }
        assert_eq!(ActionKind::from_name("Security-Group-Open-Ingress"), None);
    }

    #[test]
    fn every_action_can_write_what_it_changes() {
        let writes = [
            (
                ActionKind::SecurityGroupOpenIngress,
                "ec2:RevokeSecurityGroupIngress",
            ),
            (ActionKind::CloudtrailLogging, "cloudtrail:StartLogging"),
            (ActionKind::S3PublicAccess, "s3:PutBucketPublicAccessBlock"),
            (ActionKind::SnapshotPublic, "ec2:ModifySnapshotAttribute"),
            (ActionKind::ImagePublic, "ec2:ModifyImageAttribute"),
            (ActionKind::KmsKeyDeletion, "kms:CancelKeyDeletion"),
            (
                ActionKind::ConfigRecorder,
                "config:StartConfigurationRecorder",
            ),
            (ActionKind::IamAccessKey, "iam:UpdateAccessKey"),
        ];
        for (kind, write) in writes {
            assert!(kind.permissions().contains(&write), "{kind} lacks {write}");
        }
    }

    #[test]
    fn all_keyword_leaves_access_keys_out() {
        let by_all: Vec<_> = ActionKind::ALL
            .into_iter()
            .filter(|k| !k.enabled_by_all())
            .collect();
        assert_eq!(by_all, vec![ActionKind::IamAccessKey]);
    }

    #[test]
    fn skip_outcomes_carry_the_reason() {
        let compliant: Decision<()> = Decision::AlreadyCompliant {
            reason: "fine".into(),
        };
        assert_eq!(
            compliant.skip_outcome(),
            Some(Outcome::SkippedAlreadyCompliant {
                reason: "fine".into()
            })
        );
        assert_eq!(Decision::Act(()).skip_outcome(), None);
        assert_eq!(Decision::Act(7).plan(), Some(&7));
    }
}
