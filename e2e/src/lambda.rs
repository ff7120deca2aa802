//! The events Lambda would invoke a function with, made from what the
//! function's queue or tap really holds: an SQS batch as the event source
//! mapping delivers it, and an SNS record as SNS invokes a subscribed
//! function.

use aws_sdk_sqs::types::Message;
use serde_json::{Map, Value, json};

/// The SQS event for `messages` received from the queue `queue_arn`
/// (the shape of `events/sqs-s3.json`, as documented for Lambda).
pub fn sqs_event(queue_arn: &str, region: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let attributes: Map<String, Value> = m
                .attributes()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.as_str().to_owned(), Value::from(v.as_str())))
                        .collect()
                })
                .unwrap_or_default();
            json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": m.body(),
                "attributes": attributes,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The SNS event Lambda gets for one notification, from the envelope an
/// SQS subscription of the same topic received (`Type`, `Message`,
/// `MessageAttributes`, ...). The Lambda record spells two members
/// differently (`SigningCertUrl`, `UnsubscribeUrl`).
pub fn sns_event(subscription_arn: &str, envelope: &Value) -> Value {
    let member = |name: &str| envelope.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": member("Type"),
                "MessageId": member("MessageId"),
                "TopicArn": member("TopicArn"),
                "Subject": member("Subject"),
                "Message": member("Message"),
                "Timestamp": member("Timestamp"),
                "SignatureVersion": member("SignatureVersion"),
                "Signature": member("Signature"),
                "SigningCertUrl": member("SigningCertURL"),
                "UnsubscribeUrl": member("UnsubscribeURL"),
                "MessageAttributes": envelope.get("MessageAttributes").cloned().unwrap_or_else(|| json!({})),
            }
        }]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sns_record_carries_the_envelope_under_lambdas_names() {
        let envelope = json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t",
            "Message": "{}", "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "1",
            "Signature": "s", "SigningCertURL": "c", "UnsubscribeURL": "u",
            "MessageAttributes": {"remediation": {"Type": "String", "Value": "x"}}});
        let event = sns_event("sub", &envelope);
        let sns = &event["Records"][0]["Sns"];
        assert_eq!(event["Records"][0]["EventSubscriptionArn"], "sub");
        assert_eq!(
            (&sns["SigningCertUrl"], &sns["UnsubscribeUrl"]),
            (&json!("c"), &json!("u"))
        );
        assert_eq!(sns["MessageAttributes"]["remediation"]["Value"], "x");
        assert_eq!(sns["Subject"], Value::Null);
    }

    #[test]
    fn an_sqs_record_names_its_queue() {
        let message = Message::builder()
            .message_id("id")
            .receipt_handle("rh")
            .body("{}")
            .build();
        let event = sqs_event("arn:q", "us-east-1", &[message]);
        let record = &event["Records"][0];
        assert_eq!(record["eventSourceARN"], "arn:q");
        assert_eq!(record["messageId"], "id");
        assert_eq!(record["body"], "{}");
    }
}
