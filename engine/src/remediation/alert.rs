//! What a tripped rate limit tells people: a CloudWatch datum for the
//! stack's alarm, and a high-severity finding on the findings topic.
//!
//! Anyone who can make risky calls can trip the breaker on purpose, to
//! shield one change among many; so a trip is never quiet. Every deferred
//! request counts in [`RATE_LIMITED_METRIC`]; the finding goes out once
//! per account and window. The finding's event is not one any action
//! handles, so it carries no `remediation` attribute and never reaches the
//! remediator again.

use serde_json::{Value, json};

use super::rate::RateLimit;
use super::request::RemediationRequest;
use crate::clock::rfc3339_utc;
use crate::findings::{Finding, RuleInfo};
use crate::metrics::Datum;
use crate::rules::Severity;

/// The metric counting deferred (rate-limited) requests.
pub const RATE_LIMITED_METRIC: &str = "RemediationsRateLimited";

/// The rule id of the finding.
pub const RATE_LIMIT_RULE_ID: &str = "trailguard-remediation-rate-limit";

/// The `eventName` of the finding's synthetic event.
pub const RATE_LIMIT_EVENT: &str = "trailguard:RemediationRateLimitTripped";

/// One deferred request, for `namespace`.
pub fn rate_limited_datum(namespace: &str, now: u64) -> Datum {
    Datum {
        rule_id: None,
        references: Vec::new(),
        namespace: namespace.to_owned(),
        metric_name: RATE_LIMITED_METRIC.to_owned(),
        dimensions: Vec::new(),
        timestamp: i64::try_from(now).unwrap_or(i64::MAX),
        value: 1.0,
        unit: "Count".to_owned(),
    }
}

/// The finding for the breaker of `req.account` tripping at `now`; its id
/// is one per account and window.
pub fn rate_limit_finding(req: &RemediationRequest, rate: &RateLimit, now: u64) -> Finding {
    let window = rate.window_start(now);
    let until = rate.window_end(now);
    let rule = RuleInfo {
        id: RATE_LIMIT_RULE_ID.to_owned(),
        title: "Remediation rate limit tripped".to_owned(),
        description: format!(
            "More than {} remediations were needed in account {} within {} seconds. Further \
             changes wait for the next window; a burst of risky changes may be meant to hide \
             one of them.",
            rate.max_actions(),
            req.account,
            rate.window_secs()
        ),
        severity: Severity::High,
        references: Vec::new(),
        engine: "trailguard",
    };
    let event: Value = json!({
        "eventVersion": "1.09",
        "eventID": format!("rate-limit:{}:{window}", req.account),
        "eventTime": rfc3339_utc(now),
        "eventSource": "trailguard",
        "eventName": RATE_LIMIT_EVENT,
        "eventType": "AwsServiceEvent",
        "awsRegion": req.region,
        "recipientAccountId": req.account,
        "userIdentity": {"type": "AWSService", "invokedBy": "trailguard"},
        "requestParameters": {
            "maxActions": rate.max_actions(),
            "windowSecs": rate.window_secs(),
            "windowEnds": rfc3339_utc(until),
            "firstDeferred": {
                "action": req.action.name(),
                "resource": req.resource.to_string(),
                "triggerEventId": req.trigger_event_id,
                "principal": req.principal_arn,
            },
        },
    });
    Finding::new(rule, &event, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::test_group_request;

    fn request() -> RemediationRequest {
        test_group_request()
    }

    #[test]
    fn the_finding_is_high_once_per_window_and_never_remediable() {
        let rate = RateLimit::new(10, 3600).unwrap_or_default();
        let finding = rate_limit_finding(&request(), &rate, 7300);
        assert_eq!(finding.rule.severity, Severity::High);
        assert_eq!(finding.account(), Some("111122223333"));
        assert_eq!(finding.region(), Some("us-east-1"));
        assert!(finding.event.remediation.is_none());
        let same_window = rate_limit_finding(&request(), &rate, 10_700);
        assert_eq!(same_window.id, finding.id);
        assert_ne!(rate_limit_finding(&request(), &rate, 10_900).id, finding.id);
        let message: Value =
            serde_json::from_str(&finding.to_message(usize::MAX)).unwrap_or_default();
        assert_eq!(message["rule"]["id"], RATE_LIMIT_RULE_ID);
        assert!(message.get("remediation").is_none(), "{message}");
    }

    #[test]
    fn the_datum_counts_one_deferral() {
        let datum = rate_limited_datum("Trailguard", 60);
        assert_eq!(datum.metric_name, RATE_LIMITED_METRIC);
        assert_eq!((datum.value, datum.timestamp), (1.0, 60));
        assert_eq!(datum.unit, "Count");
    }
}
