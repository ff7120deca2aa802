//! The AWS half of the remediator: one executor per action.
//!
//! Every executor does the same four things through the SDK, and nothing
//! else; the decision stays in the action's pure `decide`:
//!
//! 1. [`Executor::read`] the resource's live state into the action's
//!    `LiveState`, from the account, never from the trigger;
//! 2. [`Executor::tags`] read the resource's tags for the exemption check
//!    (a resource kind without tags, or a "no tags" error, gives none);
//! 3. [`Executor::decide`] hand both to the action's `decide`;
//! 4. [`Executor::apply`] make exactly the change the `Plan` names.
//!
//! The service ([`crate::service`]) runs them in that order,
//! reads the state again after applying, and audits the result.
//!
//! Clients are made per request for the region of the triggering call
//! ([`regional`]), so a finding from a multi-region trail is read and
//! fixed where the resource lives. The remediator acts in its own account
//! only: a request for a resource in another account fails to read.

pub mod cloudtrail_logging;
pub mod config_recorder;
pub mod iam_access_key;
pub mod image_public;
pub mod kms_key_deletion;
pub mod s3_public_access;
pub mod security_group_open_ingress;
pub mod snapshot_public;
pub mod tag_history;

use std::error::Error as StdError;
use std::fmt::Debug;
use std::future::Future;

use aws_config::{Region, SdkConfig};
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use serde::Serialize;

use trailguard_engine::remediation::actions::Decision;
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::RemediationRequest;

/// A resource's tags, as `(key, value)` pairs.
pub type Tags = Vec<(String, String)>;

/// The SDK calls of one action, for one request.
pub trait Executor {
    /// The action's `LiveState`.
    type Live: Serialize + Send + Sync;
    /// The action's `Plan`.
    type Plan: Serialize + Send + Sync;

    /// Reads the resource's live state.
    fn read(&self) -> impl Future<Output = Result<Self::Live, ExecuteError>> + Send;

    /// Reads the resource's tags; `live` is the state [`Executor::read`] returned.
    fn tags(&self, live: &Self::Live) -> impl Future<Output = Result<Tags, ExecuteError>> + Send;

    /// The action's pure decision on `live`.
    fn decide(
        &self,
        req: &RemediationRequest,
        live: &Self::Live,
        cfg: &GuardConfig,
    ) -> Decision<Self::Plan>;

    /// Makes the change `plan` names.
    fn apply(&self, plan: &Self::Plan) -> impl Future<Output = Result<(), ExecuteError>> + Send;
}

/// Why an executor could not read or change a resource.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The resource does not exist (any more): there is nothing to fix.
    #[error("{resource} does not exist ({code})")]
    NotFound {
        /// The resource, as `kind/identifier`.
        resource: String,
        /// The AWS error code that said so.
        code: String,
    },
    /// The request names a resource this action cannot handle.
    #[error("{action} cannot act on {resource}")]
    WrongResource {
        /// The action.
        action: &'static str,
        /// The resource the request names.
        resource: String,
    },
    /// The resource is out of the remediator's reach by design.
    #[error("{resource} cannot be remediated: {reason}")]
    OutOfReach {
        /// The resource.
        resource: String,
        /// Why, and what a person can do instead.
        reason: String,
    },
    /// An AWS call failed.
    #[error("{operation} on {resource} failed: {message}")]
    Call {
        /// The API operation, e.g. `DescribeSecurityGroupRules`.
        operation: &'static str,
        /// The resource it was about.
        resource: String,
        /// The AWS error code, when the service sent one.
        code: Option<String>,
        /// The SDK's full error text.
        message: String,
    },
    /// A response lacked a field the action needs.
    #[error("{operation} on {resource} returned no {field}")]
    MissingField {
        /// The API operation.
        operation: &'static str,
        /// The resource it was about.
        resource: String,
        /// The missing field.
        field: &'static str,
    },
    /// A bucket policy returned by S3 is not JSON.
    #[error("the policy of bucket {bucket} is not JSON: {source}")]
    PolicyNotJson {
        /// The bucket.
        bucket: String,
        /// The parser's complaint.
        source: serde_json::Error,
    },
}

impl ExecuteError {
    /// Why there is nothing to do, when the error means the action does not
    /// apply (the resource is gone or out of reach) rather than a failure
    /// worth retrying.
    pub fn not_applicable_reason(&self) -> Option<String> {
        match self {
            ExecuteError::NotFound { .. }
            | ExecuteError::WrongResource { .. }
            | ExecuteError::OutOfReach { .. } => Some(self.to_string()),
            ExecuteError::Call { .. }
            | ExecuteError::MissingField { .. }
            | ExecuteError::PolicyNotJson { .. } => None,
        }
    }
}

/// Turns an SDK error into an [`ExecuteError`]; an error code in
/// `not_found` becomes [`ExecuteError::NotFound`].
pub(crate) fn call_error<E, R>(
    operation: &'static str,
    resource: &str,
    not_found: &[&str],
    err: SdkError<E, R>,
) -> ExecuteError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: Debug,
{
    let code = err.code().map(str::to_owned);
    match code {
        Some(code) if not_found.contains(&code.as_str()) => ExecuteError::NotFound {
            resource: resource.to_owned(),
            code,
        },
        code => ExecuteError::Call {
            operation,
            resource: resource.to_owned(),
            code,
            message: DisplayErrorContext(&err).to_string(),
        },
    }
}

/// Whether an SDK error carries one of `codes`.
pub(crate) fn has_code<E, R>(err: &SdkError<E, R>, codes: &[&str]) -> bool
where
    E: ProvideErrorMetadata,
{
    err.code().is_some_and(|code| codes.contains(&code))
}

/// `sdk` with its region set to `region`, where the resource lives.
pub fn regional(sdk: &SdkConfig, region: &str) -> SdkConfig {
    sdk.to_builder()
        .region(Region::new(region.to_owned()))
        .build()
}

/// The wrong-resource error of `action` for `req`.
pub(crate) fn wrong_resource(action: &'static str, req: &RemediationRequest) -> ExecuteError {
    ExecuteError::WrongResource {
        action,
        resource: req.resource.to_string(),
    }
}

/// An SDK config for unit tests: no endpoint is ever called.
#[cfg(test)]
pub(crate) fn test_sdk() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gone_and_out_of_reach_are_not_applicable_but_call_failures_are_not() {
        let gone = ExecuteError::NotFound {
            resource: "security-group/sg-1".into(),
            code: "InvalidGroup.NotFound".into(),
        };
        assert_eq!(
            gone.not_applicable_reason().as_deref(),
            Some("security-group/sg-1 does not exist (InvalidGroup.NotFound)")
        );
        let denied = ExecuteError::Call {
            operation: "DescribeSecurityGroupRules",
            resource: "security-group/sg-1".into(),
            code: Some("UnauthorizedOperation".into()),
            message: "not authorised".into(),
        };
        assert_eq!(denied.not_applicable_reason(), None);
        assert_eq!(
            denied.to_string(),
            "DescribeSecurityGroupRules on security-group/sg-1 failed: not authorised"
        );
    }

    #[test]
    fn regional_config_keeps_the_endpoint_and_changes_the_region() {
        let sdk = SdkConfig::builder()
            .region(Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:5000")
            .build();
        let moved = regional(&sdk, "eu-west-1");
        assert_eq!(moved.region().map(Region::as_ref), Some("eu-west-1"));
        assert_eq!(moved.endpoint_url(), Some("http://127.0.0.1:5000"));
    }
}
