use super::*;
use serde_json::json;

fn rule() -> RuleInfo {
    RuleInfo {
        id: "cloudtrail-logging-stopped".into(),
        title: "CloudTrail logging stopped".into(),
        description: String::new(),
        severity: Severity::High,
        references: vec!["attack:T1562.008".into()],
        engine: "trailguard",
    }
}

fn event() -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                         "userName": "alice", "accountId": "111122223333",
                         "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
        "eventTime": "2023-07-10T12:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.13.0",
        "requestParameters": {"name": "main"},
        "responseElements": null,
        "eventID": "4b8b1d8f-0000-4000-8000-000000000001",
        "recipientAccountId": "111122223333"
    })
}

#[test]
fn carries_the_seven_facets() {
    let object = ObjectRef::new(
        "b",
        "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f.json.gz",
    );
    let f = Finding::new(rule(), &event(), Some(&object));
    assert_eq!(
        f.id,
        finding_id(
            "cloudtrail-logging-stopped",
            "4b8b1d8f-0000-4000-8000-000000000001"
        )
    );
    assert_eq!(f.id.len(), 32);
    assert_eq!(f.event.who.user_name.as_deref(), Some("alice"));
    assert_eq!(f.event.who.mfa_authenticated, Some(false));
    assert_eq!(f.event.what.event_name.as_deref(), Some("StopLogging"));
    assert_eq!(f.account(), Some("111122223333"));
    assert_eq!(f.log_file.as_ref().unwrap().bucket, "b");
    assert_eq!(
        f.subject(),
        "[HIGH] CloudTrail logging stopped: StopLogging by alice in 111122223333/us-east-1"
    );
    let v: Value = serde_json::from_str(&f.to_message(MAX_MESSAGE_BYTES)).unwrap();
    assert_eq!(v["schemaVersion"], message::SCHEMA_VERSION);
    assert_eq!(v["where"]["region"], "us-east-1");
    assert_eq!(v["who"]["userName"], "alice");
    assert_eq!(v["who"]["mfaAuthenticated"], false);
    assert_eq!(v["what"]["requestParameters"]["name"], "main");
    assert_eq!(v["outcome"], json!({"success": true}));
    assert_eq!(v["logFile"]["bucket"], "b");
    assert_eq!(v["rawEvent"], event());
    assert_eq!(v["rawEventTruncated"], false);
}

#[test]
fn ids_differ_per_rule_and_event() {
    assert_ne!(finding_id("a", "1"), finding_id("a", "2"));
    assert_ne!(finding_id("a", "1"), finding_id("b", "1"));
    assert_ne!(finding_id("ab", "c"), finding_id("a", "bc"));
}

#[test]
fn failed_calls_report_the_error() {
    let mut e = event();
    e["errorCode"] = json!("AccessDenied");
    e["errorMessage"] = json!("User is not authorized");
    let f = Finding::new(rule(), &e, None);
    assert!(!f.event.outcome.success);
    assert_eq!(f.event.outcome.error_code.as_deref(), Some("AccessDenied"));
}

#[test]
fn huge_events_are_truncated_with_a_marker_and_always_fit() {
    let mut e = event();
    e["requestParameters"] = json!({"policy": "x".repeat(600_000)});
    e["responseElements"] = json!({"blob": "y".repeat(300_000)});
    let f = Finding::new(rule(), &e, None);
    let message = f.to_message(MAX_MESSAGE_BYTES);
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
    let v: Value = serde_json::from_str(&message).unwrap();
    assert_eq!(v["rawEventTruncated"], true);
    assert!(v["rawEvent"]["originalBytes"].as_u64().unwrap() > 900_000);
    assert_eq!(v["what"]["requestParameters"], json!({"truncated": true}));
    assert_eq!(v["eventId"], "4b8b1d8f-0000-4000-8000-000000000001");
}

#[test]
fn typed_records_give_the_facets_and_text_as_written() {
    let text = r#"{"eventID":"e-1","eventName":"RunInstances","eventSource":"ec2.amazonaws.com",
        "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","accountId":"1",
        "sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r"},"attributes":{"mfaAuthenticated":true}}},
        "requestParameters":null,"resources":[{"ARN":"arn:aws:ec2:::i-1"}],
        "errorMessage":"quote \" and \u00e9","awsRegion":"eu-west-1","unmodelled":{"kept":[1,2]}}"#;
    let record = Record::from_json(text).unwrap();
    let f = Finding::on(Arc::new(rule()), Arc::new(EventFacts::of(&record)), None);
    let v: Value = serde_json::from_str(&f.to_message(MAX_MESSAGE_BYTES)).unwrap();
    assert_eq!(v["rawEvent"], serde_json::from_str::<Value>(text).unwrap());
    assert_eq!(v["id"], finding_id("cloudtrail-logging-stopped", "e-1"));
    assert_eq!(
        v["who"],
        json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/r/s", "accountId": "1",
               "sessionIssuer": "arn:aws:iam::1:role/r", "mfaAuthenticated": true})
    );
    assert_eq!(
        v["what"],
        json!({"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
               "resources": [{"ARN": "arn:aws:ec2:::i-1"}]})
    );
    assert_eq!(v["where"], json!({"account": "1", "region": "eu-west-1"}));
    assert_eq!(
        v["outcome"],
        json!({"success": true, "errorMessage": "quote \" and \u{e9}"})
    );
    assert!(v.get("logFile").is_none() && v.get("time").is_none());
}

#[test]
fn pretty_printed_records_are_compacted() {
    let text =
        "{\n  \"eventID\": \"e-2\",\n  \"requestParameters\": {\n    \"a\": [1,\n 2]\n  }\n}";
    let record = Record::from_json(text).unwrap();
    let facts = EventFacts::of(&record);
    assert_eq!(
        facts.raw_event(),
        r#"{"eventID":"e-2","requestParameters":{"a":[1,2]}}"#
    );
    let f = Finding::on(Arc::new(rule()), Arc::new(facts), None);
    assert!(!f.to_message(MAX_MESSAGE_BYTES).contains('\n'));
}

#[test]
fn subjects_are_ascii_and_short() {
    let mut r = rule();
    r.title = "Ünïcode title that is rather long ".repeat(5);
    let f = Finding::new(r, &event(), None);
    let subject = f.subject();
    assert!(subject.chars().count() <= 100);
    assert!(subject.is_ascii());
}
