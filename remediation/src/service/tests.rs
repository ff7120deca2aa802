use super::audit_log::{DEFERRED_OUTCOME, FAILED_OUTCOME, FIRST_WRITE_CONDITION, subject};
use super::*;
use trailguard_engine::remediation::request::ResourceRef;
use trailguard_engine::remediation::request::trigger::requests_from_trigger;

fn eventbridge(detail: Value) -> Value {
    json!({"detail-type": "AWS API Call via CloudTrail", "detail": detail})
}

fn stop_logging() -> Value {
    json!({
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "eventID": "f6e10706-705c-47f2-94d4-112a9527ab8b",
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "requestParameters": {"name": "org-trail"}
    })
}

fn sqs(bodies: &[String]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| json!({"eventSource": "aws:sqs", "messageId": format!("m{i}"), "body": body}))
        .collect();
    json!({ "Records": records })
}

/// `message` as SNS writes it into a queue without raw delivery.
fn notification(message: &str) -> Value {
    json!({
        "Type": "Notification",
        "MessageId": "n-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:trailguard-findings",
        "Message": message
    })
}

fn request_error(payload: &Value) -> String {
    match requests_from_trigger(payload) {
        Ok(requests) => panic!("expected an error, got {requests:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn sqs_bodies_raw_or_sns_wrapped_are_unwrapped() {
    let raw = eventbridge(stop_logging()).to_string();
    let wrapped = notification(&raw).to_string();
    let requests = requests_from_trigger(&sqs(&[raw, wrapped])).unwrap_or_default();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.resource
        == ResourceRef::Trail {
            name: "org-trail".into(),
            arn: None
        }));
}

#[test]
fn sqs_errors_name_the_record_and_the_field() {
    let mut detail = stop_logging();
    detail["requestParameters"] = json!({});
    let bad = notification(&eventbridge(detail).to_string());
    let ok = eventbridge(stop_logging()).to_string();
    assert_eq!(
        request_error(&sqs(&[ok, bad.to_string()])),
        "SQS message m1 > SNS message n-1: detail.requestParameters.name missing"
    );
    assert!(
        request_error(&sqs(&["{oops".to_owned()]))
            .starts_with("SQS message m0: `body` is not JSON")
    );
    assert!(
        request_error(&sqs(&["{}".to_owned()]))
            .starts_with("SQS message m0 is not a delivery trailguard understands")
    );
    let no_body = json!({"Records": [{"eventSource": "aws:sqs"}]});
    assert!(request_error(&no_body).starts_with("SQS record 0 (no messageId)"));
}

#[test]
fn other_payloads_go_to_the_trigger_mapping() {
    let requests = requests_from_trigger(&eventbridge(stop_logging())).unwrap_or_default();
    assert_eq!(requests.len(), 1);
    let no_message = json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]});
    assert!(
        request_error(&no_message)
            .starts_with("Lambda input > Records[0]: not a valid SNS message")
    );
}

#[test]
fn gone_resources_are_not_applicable_and_call_failures_fail() {
    let gone = ExecuteError::NotFound {
        resource: "bucket/b".into(),
        code: "NoSuchBucket".into(),
    };
    assert!(matches!(
        error_outcome(&gone),
        Outcome::SkippedNotApplicable { .. }
    ));
    let denied = ExecuteError::Call {
        operation: "GetBucketAcl",
        resource: "bucket/b".into(),
        code: Some("AccessDenied".into()),
        message: "denied".into(),
    };
    assert!(matches!(
        error_outcome(&denied),
        Outcome::Failed { ref error } if error.contains("GetBucketAcl")
    ));
}

#[test]
fn the_retryable_outcome_is_the_one_the_condition_names() {
    let failed = Outcome::Failed {
        error: "throttled".into(),
    };
    assert_eq!(failed.kind(), FAILED_OUTCOME);
    assert!(!failed.is_final());
    let deferred = Outcome::Deferred { until_epoch: 0 };
    assert_eq!(deferred.kind(), DEFERRED_OUTCOME);
    assert!(!deferred.is_final());
    assert!(FIRST_WRITE_CONDITION.contains("outcome IN (:failed, :deferred)"));
    assert_ne!(CLAIM_OUTCOME, FAILED_OUTCOME);
}

#[test]
fn subjects_fit_sns() {
    let rejected = AuditRecord::rejected(&json!({}), "x", true, 0);
    assert_eq!(
        subject(&rejected),
        "trailguard remediation rejected: trigger"
    );
    assert!(subject(&rejected).len() < 100);
}

#[test]
fn errors_have_stable_types() {
    let rejected = RemediatorError::Rejected {
        source: RequestError::Missing {
            field: "detail.requestParameters.groupId".into(),
        },
    };
    assert_eq!(rejected.error_type(), "TriggerRejected");
    assert_eq!(
        rejected.to_string(),
        "trigger rejected: detail.requestParameters.groupId missing"
    );
}
