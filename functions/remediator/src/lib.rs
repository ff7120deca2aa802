//! The `remediator` Lambda function: risky CloudTrail API calls in (from
//! EventBridge or as trailguard findings on SNS), guarded, audited changes
//! out. All the work is [`trailguard_remediation::RemediatorService`];
//! this crate only adapts it to the Lambda runtime.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use trailguard_remediation::RemediatorService;

/// Handles one invocation: any trigger the service accepts.
pub async fn handler(
    service: &RemediatorService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, _context) = event.into_parts();
    let now = u64::try_from(trailguard_engine::clock::now()).unwrap_or(0);
    service.handle(&payload, now).await.map_err(|e| Diagnostic {
        error_type: e.error_type().to_owned(),
        error_message: e.to_string(),
    })
}
