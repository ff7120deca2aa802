//! The SQS event Lambda's event source mapping would invoke a function
//! with, made from what the function's queue really holds (the SNS event of
//! a subscription tap is `testkit::sns_lambda_event`).

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

#[cfg(test)]
mod tests {
    use super::*;

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
