//! The `integrity` Lambda function: each CloudTrail digest delivered is
//! checked (signature, chain link, the log files it lists), and an hourly
//! schedule looks for regions whose digests stopped arriving. All the work
//! is [`trailguard_delivery::integrity::IntegrityService`]; this crate only
//! adapts it to the Lambda runtime.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use trailguard_delivery::integrity::IntegrityService;

/// Handles one invocation: a delivery (any envelope trailguard knows) or
/// the EventBridge schedule's event.
pub async fn handler(
    service: &IntegrityService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, _context) = event.into_parts();
    service
        .handle(&payload, trailguard_engine::clock::now())
        .await
        .map_err(|e| Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        })
}
