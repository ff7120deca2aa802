//! Executor for [`trailguard_engine::remediation::actions::cloudtrail_logging`]:
//! `GetTrail` (ARN and home region) and `GetTrailStatus` (`IsLogging`) in
//! the event's region, the trail's tags from `ListTags` and `StartLogging`
//! in its home region, the only region CloudTrail accepts them in.

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::Client;

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::{Decision, cloudtrail_logging as action};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// CloudTrail's error codes for a trail that does not exist.
const NOT_FOUND: &[&str] = &["TrailNotFoundException"];

/// Reads and restarts one trail.
pub struct TrailExecutor {
    sdk: SdkConfig,
    cloudtrail: Client,
    /// The trail as the event named it: its ARN, else its name.
    trail: String,
    resource: String,
}

impl TrailExecutor {
    /// The executor for `req`'s trail, reading in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::Trail { name, arn } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        let regional = regional(sdk, &req.region);
        Ok(Self {
            cloudtrail: Client::new(&regional),
            sdk: regional,
            trail: arn.clone().unwrap_or_else(|| name.clone()),
            resource: req.resource.to_string(),
        })
    }

    /// A client for the trail's home region.
    fn home(&self, home_region: &str) -> Client {
        Client::new(&regional(&self.sdk, home_region))
    }
}

/// The region of an ARN (`arn:<partition>:<service>:<region>:…`), if it names one.
fn arn_region(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|region| !region.is_empty())
}

impl Executor for TrailExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let missing = |operation, field| ExecuteError::MissingField {
            operation,
            resource: self.resource.clone(),
            field,
        };
        let trail = self
            .cloudtrail
            .get_trail()
            .name(&self.trail)
            .send()
            .await
            .map_err(|e| call_error("GetTrail", &self.resource, NOT_FOUND, e))?
            .trail
            .ok_or_else(|| missing("GetTrail", "Trail"))?;
        let trail_arn = trail
            .trail_arn
            .ok_or_else(|| missing("GetTrail", "TrailARN"))?;
        // A trail's ARN names its home region; it stands in when the
        // response leaves `HomeRegion` out, as some stand-ins do.
        let home_region = trail
            .home_region
            .or_else(|| arn_region(&trail_arn).map(str::to_owned))
            .ok_or_else(|| missing("GetTrail", "HomeRegion"))?;
        // By ARN: a shadow copy of a multi-region trail answers only to it.
        let status = self
            .cloudtrail
            .get_trail_status()
            .name(&trail_arn)
            .send()
            .await
            .map_err(|e| call_error("GetTrailStatus", &self.resource, NOT_FOUND, e))?;
        Ok(action::LiveState {
            is_logging: status
                .is_logging
                .ok_or_else(|| missing("GetTrailStatus", "IsLogging"))?,
            trail_arn,
            home_region,
        })
    }

    async fn tags(&self, live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let out = self
            .home(&live.home_region)
            .list_tags()
            .resource_id_list(&live.trail_arn)
            .send()
            .await
            .map_err(|e| call_error("ListTags", &self.resource, NOT_FOUND, e))?;
        Ok(out
            .resource_tag_list()
            .iter()
            .filter(|r| r.resource_id() == Some(live.trail_arn.as_str()))
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key().to_owned(), t.value().unwrap_or("").to_owned()))
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
        self.home(&plan.region)
            .start_logging()
            .name(&plan.trail_arn)
            .send()
            .await
            .map_err(|e| call_error("StartLogging", &self.resource, &[], e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::test_sdk;
    use testkit::remediation_request as test_request;
    use trailguard_engine::remediation::actions::ActionKind;

    #[test]
    fn home_region_falls_back_to_the_arn() {
        assert_eq!(
            arn_region("arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"),
            Some("eu-west-1")
        );
        assert_eq!(arn_region("arn:aws:iam::111122223333:role/x"), None);
        assert_eq!(arn_region("org-trail"), None);
    }

    #[test]
    fn the_trail_is_addressed_by_arn_when_the_event_gave_one() {
        let arn = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail";
        let by_arn = test_request(
            ActionKind::CloudtrailLogging,
            ResourceRef::Trail {
                name: "org-trail".into(),
                arn: Some(arn.into()),
            },
            "StopLogging",
        );
        let by_name = test_request(
            ActionKind::CloudtrailLogging,
            ResourceRef::Trail {
                name: "org-trail".into(),
                arn: None,
            },
            "StopLogging",
        );
        let trail = |req| TrailExecutor::new(&test_sdk(), req).map(|e| e.trail).ok();
        assert_eq!(trail(&by_arn).as_deref(), Some(arn));
        assert_eq!(trail(&by_name).as_deref(), Some("org-trail"));
    }
}
