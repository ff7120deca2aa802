//! Every invocation sample in `events/` unwraps to exactly the objects (or
//! ignored notices) it announces, and those objects are CloudTrail log files.

use serde_json::Value;
use trailguard_engine::envelope::{self, Delivery, Ignored, ObjectRef};
use trailguard_engine::keys::{self, KeyKind};

const BUCKET: &str = "trailguard-demo-trail";
const KEY: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
                   218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz";

/// The object as S3 describes it in notifications and EventBridge events.
fn announced_by_s3() -> ObjectRef {
    ObjectRef {
        size: Some(2817),
        etag: Some("5d3c52b6a8a24e0ebc4b6aa2d8b1cd3f".to_owned()),
        sequencer: Some("0064ABF2E7C81B7A51".to_owned()),
        ..ObjectRef::new(BUCKET, KEY)
    }
}

/// The object as CloudTrail's notice names it: bucket and key only.
fn announced_by_cloudtrail() -> ObjectRef {
    ObjectRef::new(BUCKET, KEY)
}

fn unwrap_sample(name: &str, text: &str) -> Delivery {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => panic!("events/{name} is not JSON: {e}"),
    };
    match envelope::unwrap(&value) {
        Ok(delivery) => delivery,
        Err(e) => panic!("events/{name} does not unwrap: {e}"),
    }
}

/// Asserts that a sample holds exactly one message with these contents.
fn assert_sample(
    name: &str,
    text: &str,
    id: Option<&str>,
    objects: &[ObjectRef],
    ignored: &[Ignored],
) {
    let delivery = unwrap_sample(name, text);
    assert_eq!(delivery.messages.len(), 1, "events/{name}: {delivery:?}");
    let Some(message) = delivery.messages.first() else {
        return;
    };
    assert_eq!(message.id.as_deref(), id, "events/{name}");
    match &message.outcome {
        Ok(found) => assert_eq!(found.as_slice(), objects, "events/{name}"),
        Err(e) => panic!("events/{name}: {e}"),
    }
    assert_eq!(message.ignored, ignored, "events/{name}");
    for object in objects {
        let info = keys::classify(&object.key);
        assert_eq!(info.kind, KeyKind::Log, "events/{name}: {object}");
        assert_eq!(info.account.as_deref(), Some("218007301253"));
    }
}

macro_rules! sample {
    ($name:literal) => {
        ($name, include_str!(concat!("../../events/", $name)))
    };
}

#[test]
fn s3_object_created() {
    let (name, text) = sample!("s3-object-created.json");
    assert_sample(name, text, None, &[announced_by_s3()], &[]);
}

#[test]
fn sns_wrapping_s3() {
    let (name, text) = sample!("sns-s3.json");
    assert_sample(name, text, None, &[announced_by_s3()], &[]);
}

#[test]
fn sqs_wrapping_s3() {
    let (name, text) = sample!("sqs-s3.json");
    let id = Some("059f36b4-87a3-44ab-83d2-661975830a7d");
    assert_sample(name, text, id, &[announced_by_s3()], &[]);
}

#[test]
fn sqs_wrapping_sns_envelope_of_s3() {
    let (name, text) = sample!("sqs-sns-s3.json");
    let id = Some("2e1424d4-f796-459a-8184-9c92662be6da");
    assert_sample(name, text, id, &[announced_by_s3()], &[]);
}

#[test]
fn sqs_wrapping_raw_sns_delivery_of_s3() {
    let (name, text) = sample!("sqs-sns-raw-s3.json");
    let id = Some("c80e8021-a70a-42c7-a470-796e1186f753");
    assert_sample(name, text, id, &[announced_by_s3()], &[]);
}

#[test]
fn eventbridge_object_created() {
    let (name, text) = sample!("eventbridge-object-created.json");
    assert_sample(name, text, None, &[announced_by_s3()], &[]);
}

#[test]
fn sqs_wrapping_eventbridge_object_created() {
    let (name, text) = sample!("sqs-eventbridge-object-created.json");
    let id = Some("d9c4b8b2-3b1e-4b43-9c2f-7c3f0e5a1d64");
    assert_sample(name, text, id, &[announced_by_s3()], &[]);
}

#[test]
fn cloudtrail_notice() {
    let (name, text) = sample!("cloudtrail-sns-notice.json");
    assert_sample(name, text, None, &[announced_by_cloudtrail()], &[]);
}

#[test]
fn sns_wrapping_cloudtrail_notice() {
    let (name, text) = sample!("sns-cloudtrail-notice.json");
    assert_sample(name, text, None, &[announced_by_cloudtrail()], &[]);
}

#[test]
fn sqs_wrapping_cloudtrail_notice() {
    let (name, text) = sample!("sqs-cloudtrail-notice.json");
    let id = Some("8f5e2d7a-4c1b-4e9f-a3d6-2b7c0e9f1a58");
    assert_sample(name, text, id, &[announced_by_cloudtrail()], &[]);
}

#[test]
fn s3_test_event_is_ignored() {
    let (name, text) = sample!("s3-test-event.json");
    let ignored = Ignored::TestEvent {
        bucket: Some(BUCKET.to_owned()),
    };
    assert_sample(name, text, None, &[], &[ignored]);
}

#[test]
fn sqs_wrapping_s3_test_event_is_ignored() {
    let (name, text) = sample!("sqs-s3-test-event.json");
    let ignored = Ignored::TestEvent {
        bucket: Some(BUCKET.to_owned()),
    };
    let id = Some("a3c1b6f0-2d4e-4f8a-9b7c-5e0d1f2a3b4c");
    assert_sample(name, text, id, &[], &[ignored]);
}

#[test]
fn every_sample_in_events_is_covered() {
    let covered = [
        "cloudtrail-sns-notice.json",
        "eventbridge-object-created.json",
        "s3-object-created.json",
        "s3-test-event.json",
        "sns-cloudtrail-notice.json",
        "sns-s3.json",
        "sqs-cloudtrail-notice.json",
        "sqs-eventbridge-object-created.json",
        "sqs-s3-test-event.json",
        "sqs-s3.json",
        "sqs-sns-raw-s3.json",
        "sqs-sns-s3.json",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events");
    let mut found: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    found.sort();
    assert_eq!(found, covered, "add a test for each new sample");
}
