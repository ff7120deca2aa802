//! Executor for [`trailguard_engine::remediation::actions::snapshot_public`]: the
//! snapshot's `createVolumePermission` groups from
//! `DescribeSnapshotAttribute`, its tags from `DescribeSnapshots`, and
//! `ModifySnapshotAttribute` removing the `all` group.
//!
//! The removal is sent in the flat form, `Attribute=createVolumePermission`,
//! `OperationType=remove`, `UserGroup.1=all`. EC2 documents and honours
//! it alongside the structured `CreateVolumePermission.Remove` form, and
//! local stand-ins that implement only the flat form honour it too; the
//! service reads the attribute back after applying either way.

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{OperationType, SnapshotAttributeName};

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::{Decision, snapshot_public as action};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// EC2's error code for a snapshot that does not exist.
const NOT_FOUND: &[&str] = &["InvalidSnapshot.NotFound"];

/// Reads and unshares one snapshot.
pub struct SnapshotExecutor {
    ec2: Client,
    snapshot_id: String,
    resource: String,
}

impl SnapshotExecutor {
    /// The executor for `req`'s snapshot, in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::Snapshot { snapshot_id } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            ec2: Client::new(&regional(sdk, &req.region)),
            snapshot_id: snapshot_id.clone(),
            resource: req.resource.to_string(),
        })
    }
}

impl Executor for SnapshotExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let out = self
            .ec2
            .describe_snapshot_attribute()
            .snapshot_id(&self.snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .map_err(|e| call_error("DescribeSnapshotAttribute", &self.resource, NOT_FOUND, e))?;
        Ok(action::LiveState {
            snapshot_id: self.snapshot_id.clone(),
            create_volume_groups: out
                .create_volume_permissions()
                .iter()
                .filter_map(|p| p.group())
                .map(|g| g.as_str().to_owned())
                .collect(),
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let out = self
            .ec2
            .describe_snapshots()
            .snapshot_ids(&self.snapshot_id)
            .send()
            .await
            .map_err(|e| call_error("DescribeSnapshots", &self.resource, NOT_FOUND, e))?;
        Ok(out
            .snapshots()
            .iter()
            .filter(|s| s.snapshot_id() == Some(self.snapshot_id.as_str()))
            .flat_map(|s| s.tags())
            .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
            .collect())
    }

    fn decide(
        &self,
        req: &RemediationRequest,
        live: &action::LiveState,
        _cfg: &GuardConfig,
    ) -> Decision<action::Plan> {
        action::decide(req, live)
    }

    async fn apply(&self, plan: &action::Plan) -> Result<(), ExecuteError> {
        self.ec2
            .modify_snapshot_attribute()
            .snapshot_id(&plan.snapshot_id)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(OperationType::Remove)
            .group_names(&plan.remove_group)
            .send()
            .await
            .map_err(|e| call_error("ModifySnapshotAttribute", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}
