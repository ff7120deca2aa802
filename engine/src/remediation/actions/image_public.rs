//! Making an AMI that was shared with everyone private again.
//!
//! An AMI is public when its `launchPermission` attribute holds the group
//! `all`. The executor reads it with
//! `DescribeImageAttribute(Attribute=launchPermission)` and removes only that
//! group with `ModifyImageAttribute(LaunchPermission.Remove = [{Group: all}])`;
//! shares with named accounts, organisations or OUs are left as they are.

use crate::remediation::request::{RequestError, adds_public_group, prefixed_id};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, PUBLIC_GROUP, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "image-public";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "ec2:DescribeImages",
    "ec2:DescribeImageAttribute",
    "ec2:ModifyImageAttribute",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "ec2.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["ModifyImageAttribute"];

/// The image a call shared with everyone; `None` for any other share.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    if !adds_public_group(event, "launchPermission")? {
        return Ok(None);
    }
    let image_id = prefixed_id(event, &["requestParameters", "imageId"], "ami-")?;
    Ok(Some(ResourceRef::Image { image_id }))
}

/// The image as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The image read.
    pub image_id: String,
    /// The `Group` of each launch permission (account grants left out).
    pub launch_groups: Vec<String>,
}

/// Remove this group's launch permission from this image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The image to change.
    pub image_id: String,
    /// The group to remove: always `all`.
    pub remove_group: String,
}

/// Decides whether the image must be made private.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::Image { image_id } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    if live.image_id != *image_id {
        return live_mismatch(image_id, &live.image_id);
    }
    if !live.launch_groups.iter().any(|g| g == PUBLIC_GROUP) {
        return Decision::AlreadyCompliant {
            reason: format!("{image_id} is not shared with the `{PUBLIC_GROUP}` group"),
        };
    }
    Decision::Act(Plan {
        image_id: image_id.clone(),
        remove_group: PUBLIC_GROUP.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    fn request() -> RemediationRequest {
        test_request(
            ActionKind::ImagePublic,
            ResourceRef::Image {
                image_id: "ami-011213ff2fc95b6f6".into(),
            },
            "ModifyImageAttribute",
        )
    }

    fn live(groups: &[&str]) -> LiveState {
        LiveState {
            image_id: "ami-011213ff2fc95b6f6".into(),
            launch_groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn public_image_loses_the_all_group() {
        assert_eq!(
            decide(&request(), &live(&["all"])),
            Decision::Act(Plan {
                image_id: "ami-011213ff2fc95b6f6".into(),
                remove_group: "all".into(),
            })
        );
    }

    #[test]
    fn private_image_is_compliant() {
        let decision = decide(&request(), &live(&[]));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn a_snapshot_request_is_not_applicable() {
        let mut req = request();
        req.resource = ResourceRef::Snapshot {
            snapshot_id: "snap-1".into(),
        };
        let decision = decide(&req, &live(&["all"]));
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }
}
