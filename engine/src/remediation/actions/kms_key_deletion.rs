//! Cancelling a scheduled KMS key deletion.
//!
//! The executor reads the key with `DescribeKey` (`KeyState`,
//! `DeletionDate`) and calls `CancelKeyDeletion`. Cancelling is accepted in
//! `PendingDeletion` and, for a multi-Region primary key whose replicas
//! still exist, `PendingReplicaDeletion`.
//!
//! Cancelling leaves the key **`Disabled`**, whatever its state was before
//! the deletion was scheduled: KMS does not remember it. The action stops
//! there on purpose. The key may have been disabled deliberately before it
//! was scheduled, and enabling a key is a decision for its owner, so data
//! encrypted under it stays undecryptable until someone calls `EnableKey`.
//! The plan says so in `resultingState` and the audit record carries it.

use crate::remediation::request::{RequestError, required_str};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "kms-key-deletion";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "kms:DescribeKey",
    "kms:ListResourceTags",
    "kms:CancelKeyDeletion",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "kms.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["ScheduleKeyDeletion"];

/// The key a call scheduled for deletion.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let key_id = required_str(event, &["requestParameters", "keyId"])?.to_owned();
    Ok(Some(ResourceRef::KmsKey { key_id }))
}

/// A KMS key state, spelt as KMS spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyState {
    /// Being created.
    Creating,
    /// Usable.
    Enabled,
    /// Not usable until enabled.
    Disabled,
    /// Scheduled for deletion.
    PendingDeletion,
    /// Waiting for imported key material.
    PendingImport,
    /// A multi-Region primary scheduled for deletion, waiting for its replicas.
    PendingReplicaDeletion,
    /// Its custom key store is disconnected.
    Unavailable,
    /// Being updated (multi-Region).
    Updating,
    /// A state this version does not know.
    Unknown,
}

impl KeyState {
    /// Whether the key is scheduled for deletion, so `CancelKeyDeletion` applies.
    pub fn is_pending_deletion(self) -> bool {
        matches!(
            self,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion
        )
    }
}

/// The key as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// `KeyMetadata.Arn`.
    pub key_arn: String,
    /// `KeyMetadata.KeyState`.
    pub key_state: KeyState,
    /// `KeyMetadata.DeletionDate` (RFC 3339), when scheduled.
    pub deletion_date: Option<String>,
}

/// Call `CancelKeyDeletion` for this key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The key ARN, passed as `KeyId`.
    pub key_arn: String,
    /// The deletion date being cancelled, for the record.
    pub cancelled_deletion_date: Option<String>,
    /// The state the key is left in: always `Disabled`.
    pub resulting_state: KeyState,
}

/// Decides whether the key's deletion must be cancelled.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::KmsKey { key_id } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    // The event may name the key by id or ARN; DescribeKey always gives the ARN.
    let same_key = live.key_arn == *key_id
        || live
            .key_arn
            .rsplit_once(":key/")
            .is_some_and(|(_, id)| id == key_id);
    if !same_key {
        return live_mismatch(key_id, &live.key_arn);
    }
    if !live.key_state.is_pending_deletion() {
        return Decision::AlreadyCompliant {
            reason: format!(
                "{} is not scheduled for deletion (state {:?})",
                live.key_arn, live.key_state
            ),
        };
    }
    Decision::Act(Plan {
        key_arn: live.key_arn.clone(),
        cancelled_deletion_date: live.deletion_date.clone(),
        resulting_state: KeyState::Disabled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    const KEY_ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";
    const KEY_ARN: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn request(key_id: &str) -> RemediationRequest {
        test_request(
            ActionKind::KmsKeyDeletion,
            ResourceRef::KmsKey {
                key_id: key_id.into(),
            },
            "ScheduleKeyDeletion",
        )
    }

    fn live(key_state: KeyState) -> LiveState {
        LiveState {
            key_arn: KEY_ARN.into(),
            key_state,
            deletion_date: key_state
                .is_pending_deletion()
                .then(|| "2024-05-09T09:14:03Z".to_owned()),
        }
    }

    #[test]
    fn pending_deletion_is_cancelled_leaving_the_key_disabled() {
        let expected = Plan {
            key_arn: KEY_ARN.into(),
            cancelled_deletion_date: Some("2024-05-09T09:14:03Z".into()),
            resulting_state: KeyState::Disabled,
        };
        assert_eq!(
            decide(&request(KEY_ID), &live(KeyState::PendingDeletion)),
            Decision::Act(expected.clone())
        );
        assert_eq!(
            decide(&request(KEY_ARN), &live(KeyState::PendingDeletion)),
            Decision::Act(expected)
        );
    }

    #[test]
    fn primary_waiting_for_replicas_is_cancelled_too() {
        let decision = decide(&request(KEY_ID), &live(KeyState::PendingReplicaDeletion));
        assert!(matches!(decision, Decision::Act(_)), "{decision:?}");
    }

    #[test]
    fn keys_not_scheduled_are_compliant() {
        for state in [
            KeyState::Enabled,
            KeyState::Disabled,
            KeyState::PendingImport,
        ] {
            let decision = decide(&request(KEY_ID), &live(state));
            assert!(
                matches!(decision, Decision::AlreadyCompliant { .. }),
                "{decision:?}"
            );
        }
    }

    #[test]
    fn another_key_is_not_acted_on() {
        let decision = decide(
            &request("0000abcd-12ab-34cd-56ef-1234567890ab"),
            &live(KeyState::PendingDeletion),
        );
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn key_states_serialise_as_kms_spells_them() {
        let json = serde_json::to_value(KeyState::PendingDeletion).unwrap_or_default();
        assert_eq!(json, "PendingDeletion");
    }
}
