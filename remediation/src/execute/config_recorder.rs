//! Executor for [`trailguard_engine::remediation::actions::config_recorder`]: the
//! recorder's status from `DescribeConfigurationRecorderStatus`, its tags
//! from `ListTagsForResource` when `DescribeConfigurationRecorders` gives
//! it an ARN (recorders made before AWS Config tagged recorders have none,
//! and so no tags), and `StartConfigurationRecorder`.

use aws_config::SdkConfig;
use aws_sdk_config::Client;

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::{Decision, config_recorder as action};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// AWS Config's error code for a recorder that does not exist.
const NOT_FOUND: &[&str] = &["NoSuchConfigurationRecorderException"];

/// Reads and restarts one configuration recorder.
pub struct RecorderExecutor {
    config: Client,
    name: String,
    resource: String,
}

impl RecorderExecutor {
    /// The executor for `req`'s recorder, in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::ConfigRecorder { name } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            config: Client::new(&regional(sdk, &req.region)),
            name: name.clone(),
            resource: req.resource.to_string(),
        })
    }

    fn gone(&self) -> ExecuteError {
        ExecuteError::NotFound {
            resource: self.resource.clone(),
            code: "no recorder of that name in the response".to_owned(),
        }
    }
}

impl Executor for RecorderExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let out = self
            .config
            .describe_configuration_recorder_status()
            .configuration_recorder_names(&self.name)
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "DescribeConfigurationRecorderStatus",
                    &self.resource,
                    NOT_FOUND,
                    e,
                )
            })?;
        let status = out
            .configuration_recorders_status()
            .iter()
            .find(|s| s.name() == Some(self.name.as_str()))
            .ok_or_else(|| self.gone())?;
        Ok(action::LiveState {
            recorder_name: self.name.clone(),
            recording: status.recording(),
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let out = self
            .config
            .describe_configuration_recorders()
            .configuration_recorder_names(&self.name)
            .send()
            .await
            .map_err(|e| {
                call_error(
                    "DescribeConfigurationRecorders",
                    &self.resource,
                    NOT_FOUND,
                    e,
                )
            })?;
        let recorder = out
            .configuration_recorders()
            .iter()
            .find(|r| r.name() == Some(self.name.as_str()))
            .ok_or_else(|| self.gone())?;
        let Some(arn) = recorder.arn() else {
            return Ok(Tags::new());
        };
        let tags = self
            .config
            .list_tags_for_resource()
            .resource_arn(arn)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ListTagsForResource", &self.resource, NOT_FOUND, e))?;
        Ok(tags
            .into_iter()
            .filter_map(|t| Some((t.key?, t.value.unwrap_or_default())))
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
        self.config
            .start_configuration_recorder()
            .configuration_recorder_name(&plan.recorder_name)
            .send()
            .await
            .map_err(|e| call_error("StartConfigurationRecorder", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}
