//! Rate-limited requests, queued to run again once their window ends.
//!
//! When the per-account breaker ([`crate::remediation::rate`]) is tripped,
//! the request is not dropped: the service sends it, as a
//! [`DeferredRequest`] body, to the remediator's retry queue with
//! `DelaySeconds` = [`delay_secs`] (SQS delays at most 15 minutes, so a
//! longer window defers the request again when it comes back early). The
//! retry queue feeds the remediator, which runs the request as if it had
//! just arrived: claim, live read, decision, admission.
//!
//! The request's account was authenticated before it was deferred, and
//! only the remediator's role may send to the retry queue (its queue
//! policy), so a deferred request is trusted only when Lambda read it from
//! that queue ([`crate::remediation::origin`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::request::{RemediationRequest, RequestError};

/// The `type` member marking a deferred request body.
pub const DEFERRED_TYPE: &str = "trailguard.deferredRemediation.v1";

/// SQS's largest `DelaySeconds`.
pub const MAX_DELAY_SECS: u64 = 900;

/// The body of a retry queue message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredRequest {
    /// Always [`DEFERRED_TYPE`].
    #[serde(rename = "type")]
    pub kind: String,
    /// The request, as authenticated when it was first received.
    pub request: RemediationRequest,
    /// How many times it has been deferred, this time included.
    pub deferrals: u32,
    /// When the window it waits for starts (epoch seconds).
    pub until_epoch: u64,
}

impl DeferredRequest {
    /// The body for `request`, deferred for the `deferrals`-th time until
    /// `until_epoch`.
    pub fn new(request: RemediationRequest, deferrals: u32, until_epoch: u64) -> Self {
        Self {
            kind: DEFERRED_TYPE.to_owned(),
            request,
            deferrals,
            until_epoch,
        }
    }

    /// Whether a message body claims to be a deferred request.
    pub fn is_deferred(body: &Value) -> bool {
        body.get("type").and_then(Value::as_str) == Some(DEFERRED_TYPE)
    }

    /// Reads a deferred request body; the error names the field.
    pub fn from_value(body: &Value) -> Result<Self, RequestError> {
        serde_json::from_value(body.clone()).map_err(|e| RequestError::Invalid {
            field: "request".to_owned(),
            reason: format!("not a deferred remediation request: {e}"),
        })
    }

    /// The message body.
    pub fn to_body(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

/// The `DelaySeconds` for a request waiting until `until_epoch` at `now`:
/// the rest of the window, at most [`MAX_DELAY_SECS`].
pub fn delay_secs(until_epoch: u64, now: u64) -> u64 {
    until_epoch.saturating_sub(now).min(MAX_DELAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::test_group_request;

    fn request() -> RemediationRequest {
        test_group_request()
    }

    #[test]
    fn bodies_round_trip_and_are_recognised() {
        let deferred = DeferredRequest::new(request(), 2, 7200);
        let body: Value = deferred
            .to_body()
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        assert!(DeferredRequest::is_deferred(&body));
        assert_eq!(body["untilEpoch"], 7200);
        assert_eq!(DeferredRequest::from_value(&body).ok(), Some(deferred));
        assert!(!DeferredRequest::is_deferred(
            &serde_json::json!({"type": "other"})
        ));
    }

    #[test]
    fn a_broken_body_names_the_field() {
        let body = serde_json::json!({"type": DEFERRED_TYPE, "deferrals": 1});
        let text = DeferredRequest::from_value(&body)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            text.starts_with("request invalid: not a deferred remediation request"),
            "{text}"
        );
    }

    #[test]
    fn delays_run_to_the_window_end_within_sqs_limits() {
        assert_eq!(delay_secs(3600, 3000), 600);
        assert_eq!(delay_secs(7200, 3600), MAX_DELAY_SECS);
        assert_eq!(delay_secs(3600, 3600), 0);
        assert_eq!(delay_secs(3600, 4000), 0);
    }
}
