//! Restarting a trail whose logging was stopped.
//!
//! The executor reads the trail with `GetTrail` (its ARN and home region)
//! and `GetTrailStatus` (`IsLogging`), then calls `StartLogging` with the
//! trail ARN in the trail's home region: CloudTrail only accepts
//! `StartLogging` there, whichever region the `StopLogging` call named.

use serde::{Deserialize, Serialize};

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
