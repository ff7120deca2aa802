//! Making an EBS snapshot that was shared with everyone private again.
//!
//! A snapshot is public when its `createVolumePermission` attribute holds
//! the group `all`. The executor reads it with
//! `DescribeSnapshotAttribute(Attribute=createVolumePermission)` and removes
//! only that group with `ModifySnapshotAttribute(CreateVolumePermission.Remove
//! = [{Group: all}])`; shares with named accounts are left as they are.

use crate::remediation::request::{RequestError, adds_public_group, prefixed_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, PUBLIC_GROUP, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "snapshot-public";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "ec2:DescribeSnapshots",
    "ec2:DescribeSnapshotAttribute",
    "ec2:ModifySnapshotAttribute",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "ec2.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["ModifySnapshotAttribute"];

/// The snapshot a call shared with everyone; `None` for any other share.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    if !adds_public_group(event, "createVolumePermission")? {
        return Ok(None);
    }
    let snapshot_id = prefixed_id(event, &["requestParameters", "snapshotId"], "snap-")?;
    Ok(Some(ResourceRef::Snapshot { snapshot_id }))
}

/// The snapshot as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The snapshot read.
    pub snapshot_id: String,
    /// The `Group` of each create-volume permission (account grants left out).
    pub create_volume_groups: Vec<String>,
}

/// Remove this group's create-volume permission from this snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The snapshot to change.
    pub snapshot_id: String,
    /// The group to remove: always `all`.
    pub remove_group: String,
}

/// Decides whether the snapshot must be made private.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::Snapshot { snapshot_id } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    if live.snapshot_id != *snapshot_id {
        return live_mismatch(snapshot_id, &live.snapshot_id);
    }
    if !live.create_volume_groups.iter().any(|g| g == PUBLIC_GROUP) {
        return Decision::AlreadyCompliant {
            reason: format!("{snapshot_id} is not shared with the `{PUBLIC_GROUP}` group"),
        };
    }
    Decision::Act(Plan {
        snapshot_id: snapshot_id.clone(),
        remove_group: PUBLIC_GROUP.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    fn request() -> RemediationRequest {
        test_request(
            ActionKind::SnapshotPublic,
            ResourceRef::Snapshot {
                snapshot_id: "snap-01b3f7d87a02559a1".into(),
            },
            "ModifySnapshotAttribute",
        )
    }

    fn live(groups: &[&str]) -> LiveState {
        LiveState {
            snapshot_id: "snap-01b3f7d87a02559a1".into(),
            create_volume_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn public_snapshot_loses_the_all_group() {
        assert_eq!(
            decide(&request(), &live(&["all"])),
            Decision::Act(Plan {
                snapshot_id: "snap-01b3f7d87a02559a1".into(),
                remove_group: "all".into(),
            })
        );
    }

    #[test]
    fn private_snapshot_is_compliant() {
        let decision = decide(&request(), &live(&[]));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn another_snapshot_is_not_acted_on() {
        let mut state = live(&["all"]);
        state.snapshot_id = "snap-0ffffffffffffffff".into();
        let decision = decide(&request(), &state);
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }
}
