//! What people receive: chat messages in AWS Chatbot's custom notification
//! format (validated against the schema AWS documents), the e-mail body
//! (golden), and, through moto, that queue subscribers of the findings
//! topic still get Finding v1 JSON and the same subject.
//!
//! Findings are made by the notifier's detector from the bundled real
//! samples, never written by hand. `UPDATE_EXPECTED=1` rewrites the golden
//! e-mail after a deliberate change.

use serde_json::Value;
use testkit::{Moto, assert_schema_valid, repo_root, sample_files};
use trailguard_delivery::sinks::sns::{self, Outgoing, per_protocol_message};
use trailguard_engine::ObjectRef;
use trailguard_engine::detect::Detector;
use trailguard_engine::findings::Finding;
use trailguard_engine::findings::chat::ChatMessage;
use trailguard_engine::findings::finding::MAX_MESSAGE_BYTES;
use trailguard_engine::findings::readable::is_flood_summary;
use trailguard_engine::rules::{Catalogue, Severity};
use trailguard_engine::sigma::SigmaRules;

const GOLDEN: &str = "delivery/tests/expected/email-cloudtrail-logging-stopped.txt";

/// Every finding of the samples, as the notifier makes them with `flood_cap`.
fn findings(flood_cap: usize) -> Vec<Finding> {
    let (sigma, _) = SigmaRules::builtin();
    let detector = Detector::new(
        Catalogue::builtin().unwrap(),
        Some(sigma),
        Severity::Informational,
        flood_cap,
    )
    .unwrap();
    let mut all = Vec::new();
    for path in sample_files() {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let object = ObjectRef::new(
            "trail",
            format!("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/{name}"),
        );
        let file = std::fs::File::open(&path).unwrap();
        all.extend(detector.scan(file, &object, None).unwrap().findings);
    }
    all
}

/// The StopLogging finding of the first Stratus Red Team run.
fn stop_logging() -> Finding {
    findings(100)
        .into_iter()
        .find(|f| {
            f.rule.id == "cloudtrail-logging-stopped"
                && f.event.event_id.as_deref() == Some("9790ee84-ed2b-4866-83d1-f32af0dd4cd2")
        })
        .expect("the samples' StopLogging finding")
}

#[test]
fn chat_messages_follow_the_documented_custom_notification_schema() {
    let all = findings(1);
    let floods: Vec<&Finding> = all.iter().filter(|f| is_flood_summary(f)).collect();
    assert!(!floods.is_empty(), "a cap of 1 sums some rules up");
    let chatty: Vec<&Finding> = all
        .iter()
        .filter(|f| f.rule.severity >= Severity::High)
        .chain(floods.iter().copied())
        .collect();
    let messages: Vec<Value> = chatty
        .iter()
        .map(|f| serde_json::from_str(&ChatMessage::of(f).to_json()).unwrap())
        .collect();
    assert_schema_valid("schemas/chatbot-custom-notification.schema.json", &messages);
    // A flood summary is one message saying how many were held back.
    let flood = ChatMessage::of(floods[0]);
    assert!(
        flood.content.next_steps[0].contains("sample event ids"),
        "{:?}",
        flood.content.next_steps
    );
}

#[test]
fn a_folded_burst_says_how_many_times_in_e_mail_and_chat() {
    let (sigma, _) = SigmaRules::builtin();
    let detector = Detector::new(
        Catalogue::builtin().unwrap(),
        Some(sigma),
        Severity::Low,
        100,
    )
    .unwrap()
    .with_repeat_window(3600);
    let path = sample_files()
        .into_iter()
        .find(|p| p.to_string_lossy().contains("iLj9fb7yyUG9X4Bf"))
        .expect("the GetPasswordData sample");
    let object = ObjectRef::new(
        "trail",
        "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/x.json.gz",
    );
    let found = detector
        .scan(std::fs::File::open(&path).unwrap(), &object, None)
        .unwrap();
    let burst = found
        .findings
        .iter()
        .find(|f| f.rule.id == "ec2-password-data-retrieved")
        .expect("one finding for the burst");
    assert_eq!(burst.repeats.as_ref().map(|r| r.count), Some(24));
    assert_eq!(
        found
            .findings
            .iter()
            .filter(|f| f.rule.id == "ec2-password-data-retrieved")
            .count(),
        1
    );
    let document: Value = serde_json::from_str(&per_protocol_message(burst)).unwrap();
    let email = document["email"].as_str().unwrap();
    assert!(
        email.contains("and 23 more time(s) until 2023-07-10T"),
        "{email}"
    );
    let chat: Value = serde_json::from_str(&ChatMessage::of(burst).to_json()).unwrap();
    assert!(chat.to_string().contains("23 more time(s)"), "{chat}");
    assert_schema_valid("schemas/chatbot-custom-notification.schema.json", &[chat]);
    let wire: Value = serde_json::from_str(&burst.to_message(MAX_MESSAGE_BYTES)).unwrap();
    assert_eq!(wire["repeats"]["count"], 24);
    assert_eq!(wire["schemaVersion"], "1.4");
    assert_schema_valid("schemas/finding.v1.schema.json", &[wire]);
}

#[test]
fn e_mail_subscribers_get_a_readable_finding_and_the_rest_finding_v1() {
    let finding = stop_logging();
    let document: Value = serde_json::from_str(&per_protocol_message(&finding)).unwrap();
    assert_eq!(
        document["default"].as_str().unwrap(),
        finding.to_message(MAX_MESSAGE_BYTES)
    );
    let email = document["email"].as_str().unwrap();
    let golden = repo_root().join(GOLDEN);
    if std::env::var_os("UPDATE_EXPECTED").is_some() {
        std::fs::write(&golden, email).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap();
    assert_eq!(
        email, expected,
        "e-mail body changed (UPDATE_EXPECTED=1 to accept)"
    );
}

#[test]
fn a_huge_finding_still_fits_one_message_with_both_bodies() {
    let mut finding = stop_logging();
    let mut event: Value = serde_json::from_str(finding.event.raw_event()).unwrap();
    event["requestParameters"]["padding"] = Value::String("\"x".repeat(200_000));
    finding = Finding::on(
        finding.rule.clone(),
        std::sync::Arc::new(trailguard_engine::findings::finding::EventFacts::from_value(&event)),
        finding.log_file.clone(),
    );
    let message = per_protocol_message(&finding);
    assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
    let document: Value = serde_json::from_str(&message).unwrap();
    let default: Value = serde_json::from_str(document["default"].as_str().unwrap()).unwrap();
    assert_eq!(default["rawEventTruncated"], true);
    assert!(document["email"].as_str().unwrap().contains("StopLogging"));
}

#[tokio::test]
async fn queue_subscribers_still_receive_finding_v1_json() {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let client = aws_sdk_sns::Client::new(&sdk);
    let topic = client
        .create_topic()
        .name("findings")
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let raw = moto.queue_on_topic(&topic, "raw", true).await;
    let wrapped = moto.queue_on_topic(&topic, "wrapped", false).await;
    let finding = stop_logging();
    let rejected = sns::publish(&client, &topic, &[Outgoing::of(&finding)]).await;
    assert!(rejected.is_empty(), "{rejected:?}");
    let expected = serde_json::to_value(&finding).unwrap();
    assert_eq!(
        moto.drain_queue(&raw).await,
        std::slice::from_ref(&expected)
    );
    let envelopes = moto.drain_queue(&wrapped).await;
    assert_eq!(envelopes.len(), 1);
    let envelope = &envelopes[0];
    assert_eq!(envelope["Subject"], finding.subject());
    let message: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message, expected);
    assert_eq!(
        envelope["MessageAttributes"]["severity"]["Value"],
        finding.rule.severity.as_str()
    );
}
