//! The `metrics` Lambda function: CloudTrail log-file deliveries in,
//! CloudWatch metrics out. All the work is
//! [`trailguard_delivery::MetricsService`]; this crate only adapts it to
//! the Lambda runtime.

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use trailguard_delivery::MetricsService;

/// Handles one invocation (any delivery envelope trailguard knows).
pub async fn handler(
    service: &MetricsService,
    event: LambdaEvent<Value>,
) -> Result<Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let deadline = trailguard_engine::clock::lambda_deadline(context.deadline);
    service
        .handle(&payload, trailguard_engine::clock::now(), deadline)
        .await
        .map_err(|e| Diagnostic {
            error_type: e.error_type().to_owned(),
            error_message: e.to_string(),
        })
}
