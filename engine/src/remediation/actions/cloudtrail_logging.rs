//! Restarting a trail whose logging was stopped.
//!
//! The executor reads the trail with `GetTrail` (its ARN and home region)
//! and `GetTrailStatus` (`IsLogging`), then calls `StartLogging` with the
//! trail ARN in the trail's home region: CloudTrail only accepts
//! `StartLogging` there, whichever region the `StopLogging` call named.

use crate::remediation::request::{RequestError, required_str};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "cloudtrail-logging";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "cloudtrail:GetTrail",
    "cloudtrail:GetTrailStatus",
    "cloudtrail:ListTags",
    "cloudtrail:StartLogging",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "cloudtrail.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["StopLogging"];

/// The trail a call stopped, by name or ARN as the call gave it.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let path = ["requestParameters", "name"];
    let (name, arn) =
        parse_trail(required_str(event, &path)?).map_err(|reason| RequestError::Invalid {
            field: path.join("."),
            reason,
        })?;
    Ok(Some(ResourceRef::Trail { name, arn }))
}

/// Splits a `StopLogging` `name`, which may be a trail name or a trail ARN
/// (`arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`).
fn parse_trail(value: &str) -> Result<(String, Option<String>), String> {
    if !value.starts_with("arn:") {
        return Ok((value.to_owned(), None));
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    let name = match parts.as_slice() {
        [_, partition, "cloudtrail", region, account, resource]
            if !partition.is_empty() && !region.is_empty() && !account.is_empty() =>
        {
            resource.strip_prefix("trail/").filter(|n| !n.is_empty())
        }
        _ => None,
    };
    match name {
        Some(name) => Ok((name.to_owned(), Some(value.to_owned()))),
        None => Err(format!(
            "`{value}` is neither a trail name nor a trail ARN (arn:<partition>:cloudtrail:<region>:<account>:trail/<name>)"
        )),
    }
}

/// The trail as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// `arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`.
    pub trail_arn: String,
    /// The region the trail was created in.
    pub home_region: String,
    /// `GetTrailStatus.IsLogging`.
    pub is_logging: bool,
}

/// Call `StartLogging` for this trail in this region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The trail ARN, passed as `Name`.
    pub trail_arn: String,
    /// The trail's home region, where the call must be made.
    pub region: String,
}

/// Decides whether the trail must be restarted.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::Trail { name, arn } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    let same_trail = match arn {
        Some(arn) => live.trail_arn == *arn,
        None => live
            .trail_arn
            .rsplit_once(":trail/")
            .is_some_and(|(_, live_name)| live_name == name),
    };
    if !same_trail {
        return live_mismatch(&req.resource.to_string(), &live.trail_arn);
    }
    if live.is_logging {
        return Decision::AlreadyCompliant {
            reason: format!("{} is logging", live.trail_arn),
        };
    }
    Decision::Act(Plan {
        trail_arn: live.trail_arn.clone(),
        region: live.home_region.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    const ARN: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail";

    fn request(name: &str, arn: Option<&str>) -> RemediationRequest {
        test_request(
            ActionKind::CloudtrailLogging,
            ResourceRef::Trail {
                name: name.into(),
                arn: arn.map(Into::into),
            },
            "StopLogging",
        )
    }

    fn live(is_logging: bool) -> LiveState {
        LiveState {
            trail_arn: ARN.into(),
            home_region: "us-east-1".into(),
            is_logging,
        }
    }

    #[test]
    fn stopped_trail_is_restarted_in_its_home_region() {
        let expected = Plan {
            trail_arn: ARN.into(),
            region: "us-east-1".into(),
        };
        assert_eq!(
            decide(&request("org-trail", None), &live(false)),
            Decision::Act(expected.clone())
        );
        assert_eq!(
            decide(&request("org-trail", Some(ARN)), &live(false)),
            Decision::Act(expected)
        );
    }

    #[test]
    fn logging_trail_is_compliant() {
        let decision = decide(&request("org-trail", None), &live(true));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn another_trail_is_not_acted_on() {
        for req in [
            request("org-trail-2", None),
            request("trail", None),
            request(
                "org-trail",
                Some("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"),
            ),
        ] {
            let decision = decide(&req, &live(false));
            assert!(
                matches!(decision, Decision::NotApplicable { .. }),
                "{decision:?}"
            );
        }
    }
}
