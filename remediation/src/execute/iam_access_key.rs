//! Executor for [`trailguard_engine::remediation::actions::iam_access_key`]: the key's
//! user, status and creation time from `ListAccessKeys(UserName)`, the user's tags from
//! `ListUserTags`, and `UpdateAccessKey(Status=Inactive)`.
//!
//! Root user keys are out of reach: IAM lists and updates them only for the
//! root user's own credentials, never for a role, so such a request ends as
//! "not applicable" with the reason, before any call.

use aws_config::SdkConfig;
use aws_sdk_iam::Client;
use aws_sdk_iam::types::StatusType;

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::Decision;
use trailguard_engine::remediation::actions::iam_access_key::{self as action, AccessKeyStatus};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{KeyOwner, RemediationRequest, ResourceRef};

/// IAM's error code for a user that does not exist.
const NOT_FOUND: &[&str] = &["NoSuchEntity"];

/// Reads and deactivates one access key of one IAM user.
pub struct AccessKeyExecutor {
    iam: Client,
    user_name: String,
    access_key_id: String,
    resource: String,
}

impl AccessKeyExecutor {
    /// The executor for `req`'s key.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::AccessKey {
            owner,
            access_key_id,
        } = &req.resource
        else {
            return Err(wrong_resource(action::NAME, req));
        };
        let resource = req.resource.to_string();
        let user_name = match owner {
            KeyOwner::User(name) => name.clone(),
            KeyOwner::Root => {
                return Err(ExecuteError::OutOfReach {
                    resource,
                    reason: "a role can neither read nor deactivate root user keys: sign in as \
                             root to deactivate the key, or delete it through centralised root access"
                        .to_owned(),
                });
            }
        };
        let Some(access_key_id) = access_key_id.clone() else {
            return Err(ExecuteError::OutOfReach {
                resource,
                reason: "the event names no access key (the creating call failed)".to_owned(),
            });
        };
        // IAM is global; the region only picks the partition's endpoint.
        Ok(Self {
            iam: Client::new(&regional(sdk, &req.region)),
            user_name,
            access_key_id,
            resource,
        })
    }
}

impl Executor for AccessKeyExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let keys = self
            .iam
            .list_access_keys()
            .user_name(&self.user_name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ListAccessKeys", &self.resource, NOT_FOUND, e))?;
        let key = keys
            .into_iter()
            .find(|k| k.access_key_id() == Some(self.access_key_id.as_str()))
            .ok_or_else(|| ExecuteError::NotFound {
                resource: self.resource.clone(),
                code: format!("not among the access keys of {}", self.user_name),
            })?;
        let status = match key.status() {
            Some(StatusType::Active) => AccessKeyStatus::Active,
            Some(StatusType::Inactive) => AccessKeyStatus::Inactive,
            _ => {
                return Err(ExecuteError::MissingField {
                    operation: "ListAccessKeys",
                    resource: self.resource.clone(),
                    field: "Status (Active or Inactive)",
                });
            }
        };
        Ok(action::LiveState {
            access_key_id: self.access_key_id.clone(),
            user_name: key.user_name().map(str::to_owned),
            status,
            created_epoch: key.create_date().map(|d| d.secs()),
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let tags = self
            .iam
            .list_user_tags()
            .user_name(&self.user_name)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ListUserTags", &self.resource, NOT_FOUND, e))?;
        Ok(tags.into_iter().map(|t| (t.key, t.value)).collect())
    }

    fn decide(
        &self,
        req: &RemediationRequest,
        live: &action::LiveState,
        cfg: &GuardConfig,
    ) -> Decision<action::Plan> {
        action::decide(req, live, &cfg.deny_listed_users)
    }

    async fn apply(&self, plan: &action::Plan) -> Result<(), ExecuteError> {
        let status = match plan.new_status {
            AccessKeyStatus::Active => StatusType::Active,
            AccessKeyStatus::Inactive => StatusType::Inactive,
        };
        self.iam
            .update_access_key()
            .user_name(&plan.user_name)
            .access_key_id(&plan.access_key_id)
            .status(status)
            .send()
            .await
            .map_err(|e| call_error("UpdateAccessKey", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::execute::test_sdk;
    use testkit::remediation_request as test_request;
    use trailguard_engine::remediation::actions::ActionKind;

    fn request(owner: KeyOwner, key: Option<&str>) -> RemediationRequest {
        test_request(
            ActionKind::IamAccessKey,
            ResourceRef::AccessKey {
                owner,
                access_key_id: key.map(Into::into),
            },
            "CreateAccessKey",
        )
    }

    #[test]
    fn root_keys_and_failed_creations_are_out_of_reach() {
        for req in [
            request(KeyOwner::Root, Some("AKIAIOSFODNN7EXAMPLE")),
            request(KeyOwner::User("svc".into()), None),
        ] {
            let err = AccessKeyExecutor::new(&test_sdk(), &req).err();
            assert!(
                err.as_ref()
                    .and_then(ExecuteError::not_applicable_reason)
                    .is_some(),
                "{err:?}"
            );
        }
        let user = request(KeyOwner::User("svc".into()), Some("AKIAIOSFODNN7EXAMPLE"));
        assert!(AccessKeyExecutor::new(&test_sdk(), &user).is_ok());
    }
}
