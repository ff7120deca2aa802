use super::super::tests::authorize_ingress;
use super::*;
use crate::findings::{Finding, RuleInfo};
use crate::remediation::actions::ActionKind;
use crate::remediation::request::ResourceRef;
use crate::rules::Severity;
use serde_json::json;

fn error_text(result: Result<Vec<RemediationRequest>, RequestError>) -> String {
    match result {
        Ok(requests) => panic!("expected an error, got {requests:?}"),
        Err(e) => e.to_string(),
    }
}

fn rule() -> RuleInfo {
    RuleInfo {
        id: "security-group-open-to-world".into(),
        title: "Security group opened to the world".into(),
        description: String::new(),
        severity: Severity::High,
        references: vec![],
        engine: "trailguard",
    }
}

/// The finding text the notifier publishes for `event`, cut to `max` bytes.
fn finding_text(event: &Value, max: usize) -> String {
    Finding::new(rule(), event, None).to_message(max)
}

/// Where the [`sns`] record's trigger sits.
const SNS_AT: &str = "Lambda input > SNS message 95df01b4-ee98-5cb9-9903-4c221d41eb5e";

fn sns(message: &str) -> Value {
    sns_with_id("95df01b4-ee98-5cb9-9903-4c221d41eb5e", message)
}

fn sns_with_id(id: &str, message: &str) -> Value {
    json!({
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:111122223333:trailguard-findings:0b5c",
        "Sns": {
            "Type": "Notification",
            "MessageId": id,
            "TopicArn": "arn:aws:sns:us-east-1:111122223333:trailguard-findings",
            "Subject": null,
            "Message": message,
            "Timestamp": "2024-05-02T09:14:05.000Z"
        }
    })
}

#[test]
fn eventbridge_envelope_is_unwrapped() {
    let payload = json!({
        "version": "0",
        "id": "7400a4bd-d520-3e73-7dd9-beffc1e29501",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.ec2",
        "account": "111122223333",
        "time": "2024-05-02T09:14:03Z",
        "region": "us-east-1",
        "resources": [],
        "detail": authorize_ingress()
    });
    let requests = requests_from_trigger(&payload).unwrap_or_default();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests.first().map(|r| r.source.clone()),
        Some(TriggerSource::EventBridge)
    );
}

#[test]
fn missing_group_id_in_eventbridge_detail_names_the_path() {
    let mut detail = authorize_ingress();
    detail["requestParameters"] = json!({"ipPermissions": {"items": []}});
    detail["responseElements"] = Value::Null;
    let payload = json!({"detail-type": "AWS API Call via CloudTrail", "detail": detail});
    assert_eq!(
        error_text(requests_from_trigger(&payload)),
        "Lambda input: detail.requestParameters.groupId missing"
    );
}

#[test]
fn other_detail_types_are_rejected() {
    let payload = json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
    let text = error_text(requests_from_trigger(&payload));
    assert!(
        text.starts_with("Lambda input: detail-type invalid"),
        "{text}"
    );
}

#[test]
fn eventbridge_without_detail_names_it() {
    let payload = json!({"detail-type": "AWS API Call via CloudTrail"});
    assert_eq!(
        error_text(requests_from_trigger(&payload)),
        "Lambda input: detail missing"
    );
}

#[test]
fn a_published_finding_maps_through_its_raw_event() {
    let text = finding_text(&authorize_ingress(), usize::MAX);
    let finding: Value = serde_json::from_str(&text).unwrap_or_default();
    let requests = requests_from_trigger(&finding).unwrap_or_default();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(request.action, ActionKind::SecurityGroupOpenIngress);
    assert_eq!(
        request.resource,
        ResourceRef::SecurityGroup {
            group_id: "sg-0632fa4ee8a8468a4".into()
        }
    );
    assert_eq!(
        request.source,
        TriggerSource::Finding {
            rule_id: "security-group-open-to-world".into(),
            finding_id: finding["id"].as_str().unwrap_or_default().into(),
        }
    );
    // The finding names the same remediation the remediator computes.
    assert_eq!(
        finding["remediation"]["action"],
        "security-group-open-ingress"
    );
    assert_eq!(
        finding["remediation"]["resource"]["groupId"],
        "sg-0632fa4ee8a8468a4"
    );
}

#[test]
fn a_finding_cut_for_sns_maps_through_its_remediation_member() {
    let mut event = authorize_ingress();
    event["responseElements"]["padding"] = json!("x".repeat(300_000));
    let whole = finding_text(&event, usize::MAX);
    let cut = finding_text(&event, 64 * 1024);
    assert!(
        cut.contains("\"rawEventTruncated\":true"),
        "{}",
        &cut[..200]
    );
    let from_whole = requests_from_trigger(&serde_json::from_str(&whole).unwrap_or_default())
        .unwrap_or_default();
    let from_cut = requests_from_trigger(&json!({"Records": [sns(&cut)]})).unwrap_or_default();
    assert_eq!(from_cut.len(), 1);
    assert_eq!(from_cut, from_whole);
}

#[test]
fn a_cut_finding_without_remediation_says_why() {
    let mut finding: Value =
        serde_json::from_str(&finding_text(&authorize_ingress(), usize::MAX)).unwrap_or_default();
    finding["rawEvent"] = json!({"excerpt": "{\"eventVersion", "originalBytes": 400000});
    finding["rawEventTruncated"] = json!(true);
    if let Some(obj) = finding.as_object_mut() {
        obj.remove("remediation");
    }
    let text = error_text(requests_from_trigger(
        &json!({"Records": [sns(&finding.to_string())]}),
    ));
    assert!(
        text.starts_with(&format!("{SNS_AT}: rawEvent invalid: cut to fit SNS")),
        "{text}"
    );
}

#[test]
fn findings_of_unmapped_events_say_why_no_action_applies() {
    let mut event = authorize_ingress();
    event["eventName"] = json!("RevokeSecurityGroupIngress");
    let plans = plan(&json!({"Records": [sns(&finding_text(&event, usize::MAX))]}));
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].at, SNS_AT);
    assert_eq!(
        plans[0].sns_topic_arn.as_deref(),
        Some("arn:aws:sns:us-east-1:111122223333:trailguard-findings")
    );
    assert!(
        matches!(&plans[0].outcome, Ok(Planned::NoAction { reason })
            if reason == "no remediation action handles `RevokeSecurityGroupIngress`"),
        "{:?}",
        plans[0].outcome
    );
}

#[test]
fn the_old_hand_made_shape_is_not_a_finding() {
    let old = json!({"rule": {"id": "r1"}, "event": authorize_ingress()});
    let text = error_text(requests_from_trigger(&old));
    assert!(
        text.starts_with("Lambda input is not a delivery trailguard understands"),
        "{text}"
    );
    let future = {
        let mut f: Value = serde_json::from_str(&finding_text(&authorize_ingress(), usize::MAX))
            .unwrap_or_default();
        f["schemaVersion"] = json!("2.0");
        f
    };
    assert_eq!(
        error_text(requests_from_trigger(&future)),
        "Lambda input: schemaVersion invalid: `2.0` is not a finding version this remediator reads"
    );
}

#[test]
fn sns_records_are_unwrapped_and_errors_name_the_record() {
    let finding = finding_text(&authorize_ingress(), usize::MAX);
    let mut bad = authorize_ingress();
    if let Some(obj) = bad.as_object_mut() {
        obj.remove("eventID");
    }
    let bad_finding = finding_text(&bad, usize::MAX);
    let good = json!({"Records": [sns(&finding), sns(&finding)]});
    assert_eq!(requests_from_trigger(&good).map(|r| r.len()).ok(), Some(2));
    let mixed = json!({"Records": [sns(&finding), sns_with_id("m-2", &bad_finding)]});
    assert_eq!(
        error_text(requests_from_trigger(&mixed)),
        "Lambda input > SNS message m-2: rawEvent.eventID missing"
    );
    let no_message = json!({"Records": [{"EventSource": "aws:sns", "Sns": {}}]});
    let text = error_text(requests_from_trigger(&no_message));
    assert!(
        text.starts_with("Lambda input > Records[0]: not a valid SNS message: missing field"),
        "{text}"
    );
    let not_json = json!({"Records": [sns_with_id("m-3", "hello")]});
    let text = error_text(requests_from_trigger(&not_json));
    assert!(
        text.starts_with("Lambda input > SNS message m-3: `Message` is not JSON"),
        "{text}"
    );
    let unknown = json!({"Records": [sns_with_id("m-4", "{\"hello\": 1}")]});
    let text = error_text(requests_from_trigger(&unknown));
    assert!(
        text.starts_with(
            "Lambda input > SNS message m-4 is not a delivery trailguard understands: \
             got a JSON object with keys \"hello\"; expected an EventBridge event"
        ),
        "{text}"
    );
}

#[test]
fn sns_control_messages_call_for_no_action() {
    let mut confirmation = sns("You have chosen to subscribe to the topic.");
    confirmation["Sns"]["Type"] = json!("SubscriptionConfirmation");
    let plans = plan(&json!({"Records": [confirmation]}));
    assert_eq!(plans.len(), 1);
    assert!(
        matches!(&plans[0].outcome, Ok(Planned::NoAction { reason })
            if reason.starts_with("an SNS SubscriptionConfirmation message")),
        "{:?}",
        plans[0].outcome
    );
}

#[test]
fn sqs_bodies_raw_or_sns_wrapped_are_unwrapped() {
    let finding = finding_text(&authorize_ingress(), usize::MAX);
    let wrapped =
        json!({"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:111122223333:t",
                         "Message": finding})
        .to_string();
    let eventbridge =
        json!({"detail-type": CLOUDTRAIL_DETAIL_TYPE, "detail": authorize_ingress()}).to_string();
    let sqs = json!({"Records": [
        {"eventSource": "aws:sqs", "messageId": "m1", "body": wrapped},
        {"eventSource": "aws:sqs", "messageId": "m2", "body": eventbridge},
    ]});
    let plans = plan(&sqs);
    assert_eq!(plans.len(), 2);
    assert_eq!(plans[0].at, "SQS message m1 > SNS message (no MessageId)");
    assert_eq!(
        plans[0].sns_topic_arn.as_deref(),
        Some("arn:aws:sns:us-east-1:111122223333:t")
    );
    assert_eq!(plans[1].at, "SQS message m2");
    // The queue is the envelope AWS wrote, whatever the body says.
    assert!(
        plans
            .iter()
            .all(|p| matches!(&p.envelope, Origin::Sqs { queue_arn: None }))
    );
    assert_eq!(requests_from_trigger(&sqs).map(|r| r.len()).ok(), Some(2));
    let broken = json!({"Records": [{"eventSource": "aws:sqs", "messageId": "m3", "body": "{"}]});
    let text = error_text(requests_from_trigger(&broken));
    assert!(
        text.starts_with("SQS message m3: `body` is not JSON"),
        "{text}"
    );
}

#[test]
fn unknown_payload_says_what_is_accepted() {
    let text = error_text(requests_from_trigger(&json!({"hello": "world"})));
    assert!(
        text.starts_with("Lambda input is not a delivery trailguard understands"),
        "{text}"
    );
    assert!(
        text.contains("a Lambda SNS event carrying either"),
        "{text}"
    );
}
