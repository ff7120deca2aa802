//! Executor for [`trailguard_engine::remediation::actions::image_public`]: the AMI's
//! `launchPermission` groups from `DescribeImageAttribute`, its tags from
//! `DescribeImages`, and `ModifyImageAttribute` with
//! `LaunchPermission.Remove = [{Group: all}]`.

use aws_config::SdkConfig;
use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{
    ImageAttributeName, LaunchPermission, LaunchPermissionModifications, PermissionGroup,
};

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::{Decision, image_public as action};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// EC2's error codes for an image that does not exist (any more).
const NOT_FOUND: &[&str] = &["InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"];

/// Reads and unshares one AMI.
pub struct ImageExecutor {
    ec2: Client,
    image_id: String,
    resource: String,
}

impl ImageExecutor {
    /// The executor for `req`'s image, in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::Image { image_id } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            ec2: Client::new(&regional(sdk, &req.region)),
            image_id: image_id.clone(),
            resource: req.resource.to_string(),
        })
    }
}

impl Executor for ImageExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let out = self
            .ec2
            .describe_image_attribute()
            .image_id(&self.image_id)
            .attribute(ImageAttributeName::LaunchPermission)
            .send()
            .await
            .map_err(|e| call_error("DescribeImageAttribute", &self.resource, NOT_FOUND, e))?;
        Ok(action::LiveState {
            image_id: self.image_id.clone(),
            launch_groups: out
                .launch_permissions()
                .iter()
                .filter_map(|p| p.group())
                .map(|g| g.as_str().to_owned())
                .collect(),
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let out = self
            .ec2
            .describe_images()
            .image_ids(&self.image_id)
            .send()
            .await
            .map_err(|e| call_error("DescribeImages", &self.resource, NOT_FOUND, e))?;
        Ok(out
            .images()
            .iter()
            .filter(|i| i.image_id() == Some(self.image_id.as_str()))
            .flat_map(|i| i.tags())
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
        let remove = LaunchPermission::builder()
            .group(PermissionGroup::from(plan.remove_group.as_str()))
            .build();
        self.ec2
            .modify_image_attribute()
            .image_id(&plan.image_id)
            .launch_permission(
                LaunchPermissionModifications::builder()
                    .remove(remove)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| call_error("ModifyImageAttribute", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}
