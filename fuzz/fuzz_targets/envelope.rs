//! Feeds arbitrary JSON to the Lambda envelope unwrapper (S3, SNS, SQS,
//! EventBridge and CloudTrail-notice deliveries, nested).
//!
//! The input is parsed as JSON and unwrapped as a Lambda payload; as text,
//! it is also unwrapped as the body of an SQS message and as the `Message`
//! of an SNS notification, so the raw bytes reach the unwrapper's own JSON
//! parsing. Checks that:
//! - an SQS batch never fails as a whole: each message has its outcome, in
//!   order, named by its id;
//! - a direct invocation is one message without an id;
//! - a message that failed lists nothing as ignored;
//! - every announced object names a bucket and a key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use trailguard_engine::envelope::{self, Delivery};

fn check(delivery: &Delivery) {
    for message in &delivery.messages {
        match &message.outcome {
            Ok(objects) => {
                for object in objects {
                    assert!(!object.bucket.is_empty(), "an object without a bucket");
                    assert!(!object.key.is_empty(), "an object without a key");
                }
            }
            Err(error) => {
                assert!(
                    message.ignored.is_empty(),
                    "a failed message lists ignored parts"
                );
                assert!(!error.to_string().is_empty());
            }
        }
    }
}

fn unwrap_direct(event: &Value) {
    match envelope::unwrap(event) {
        Ok(delivery) => {
            check(&delivery);
            if !delivery.from_sqs() {
                assert_eq!(
                    delivery.messages.len(),
                    1,
                    "a direct delivery of several messages"
                );
            }
        }
        Err(error) => assert!(!error.to_string().is_empty()),
    }
}

fn unwrap_batch(body: &str) {
    let batch = json!({
        "Records": [
            {"messageId": "m-0", "eventSource": "aws:sqs", "body": body},
            {"messageId": "m-1", "eventSource": "aws:sqs", "body": "{\"Records\":[]}"},
        ]
    });
    let delivery = envelope::unwrap(&batch).expect("an SQS batch never fails as a whole");
    check(&delivery);
    let ids: Vec<_> = delivery.messages.iter().map(|m| m.id.as_deref()).collect();
    assert_eq!(ids, [Some("m-0"), Some("m-1")]);
}

fuzz_target!(|data: &[u8]| {
    if let Ok(event) = serde_json::from_slice::<Value>(data) {
        unwrap_direct(&event);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    unwrap_batch(text);
    let notification = json!({
        "Records": [{
            "EventSource": "aws:sns",
            "Sns": {"Type": "Notification", "MessageId": "n-0", "Message": text}
        }]
    });
    unwrap_direct(&notification);
});
