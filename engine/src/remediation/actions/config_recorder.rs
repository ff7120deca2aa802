//! Restarting an AWS Config configuration recorder that was stopped.
//!
//! The executor reads `DescribeConfigurationRecorderStatus` for the
//! recorder (`recording`) and calls `StartConfigurationRecorder`. Starting
//! fails if the recorder has no delivery channel; that is recorded as a
//! failed apply, not guessed at here.

use crate::remediation::request::{RequestError, required_str};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "config-recorder";

/// IAM actions the executor needs.
pub const PERMISSIONS: &[&str] = &[
    "config:DescribeConfigurationRecorders",
    "config:DescribeConfigurationRecorderStatus",
    "config:ListTagsForResource",
    "config:StartConfigurationRecorder",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "config.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &["StopConfigurationRecorder"];

/// The recorder a call stopped.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let path = ["requestParameters", "configurationRecorderName"];
    let name = required_str(event, &path)?.to_owned();
    Ok(Some(ResourceRef::ConfigRecorder { name }))
}

/// The recorder as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The recorder's name.
    pub recorder_name: String,
    /// `ConfigurationRecorderStatus.recording`.
    pub recording: bool,
}

/// Call `StartConfigurationRecorder` for this recorder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The recorder to start.
    pub recorder_name: String,
}

/// Decides whether the recorder must be restarted.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::ConfigRecorder { name } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    if live.recorder_name != *name {
        return live_mismatch(name, &live.recorder_name);
    }
    if live.recording {
        return Decision::AlreadyCompliant {
            reason: format!("configuration recorder {name} is recording"),
        };
    }
    Decision::Act(Plan {
        recorder_name: name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};

    fn request(name: &str) -> RemediationRequest {
        test_request(
            ActionKind::ConfigRecorder,
            ResourceRef::ConfigRecorder { name: name.into() },
            "StopConfigurationRecorder",
        )
    }

    fn live(recording: bool) -> LiveState {
        LiveState {
            recorder_name: "default".into(),
            recording,
        }
    }

    #[test]
    fn stopped_recorder_is_started() {
        assert_eq!(
            decide(&request("default"), &live(false)),
            Decision::Act(Plan {
                recorder_name: "default".into()
            })
        );
    }

    #[test]
    fn recording_recorder_is_compliant() {
        let decision = decide(&request("default"), &live(true));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn another_recorder_is_not_acted_on() {
        let decision = decide(&request("audit"), &live(false));
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }
}
