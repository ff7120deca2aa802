//! SQS batches: each message's body is unwrapped on its own, so one bad
//! body fails only its own message.

use aws_lambda_events::sqs::SqsMessage;
use serde::Deserialize;
use serde_json::Value;

use super::{
    Contents, EnvelopeError, Found, Layer, Message, Origin, Part, Place, parse_embedded, payload,
    records_source,
};

/// The records of a Lambda SQS event, if `event` is one.
pub(super) fn batch(event: &Value) -> Option<&[Value]> {
    let records = event.get("Records")?.as_array()?;
    (records_source(records) == Some("aws:sqs")).then_some(records.as_slice())
}

/// Unwraps one SQS record into its [`Message`].
pub(super) fn message<C: Contents>(contents: &C, index: usize, record: &Value) -> Message<C::Item> {
    // Read before anything can fail, so that even a bad record can be reported by id.
    let id = record
        .get("messageId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let at = match &id {
        Some(id) => Place::new(format!("SQS message {id}")),
        None => Place::new(format!("SQS record {index} (no messageId)")),
    };
    let mut found = Found::default();
    match body(contents, record, &at, &mut found) {
        Ok(()) => Message {
            id,
            outcome: Ok(found.items),
            ignored: found.ignored,
        },
        Err(e) => Message {
            id,
            outcome: Err(e),
            ignored: Vec::new(),
        },
    }
}

fn body<C: Contents>(
    contents: &C,
    record: &Value,
    at: &Place,
    found: &mut Found<C::Item>,
) -> Result<(), EnvelopeError> {
    let message = SqsMessage::deserialize(record).map_err(|source| EnvelopeError::Invalid {
        at: at.to_string(),
        what: "SQS message",
        source,
    })?;
    let body = message
        .body
        .as_deref()
        .ok_or_else(|| EnvelopeError::Malformed {
            at: at.to_string(),
            field: "body",
            problem: "is missing",
        })?;
    let inner = parse_embedded(body, at, "body")?;
    let origin = Origin::Sqs {
        queue_arn: message.event_source_arn.clone(),
    };
    let part = Part {
        value: &inner,
        text: Some(body),
        layer: Layer::SqsBody,
        origin: &origin,
        sns_topic_arn: None,
        at,
    };
    payload(contents, &part, found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::envelope::Files;

    #[test]
    fn only_sqs_records_make_a_batch() {
        let sqs = json!({"Records": [{"eventSource": "aws:sqs", "messageId": "a", "body": "{}"}]});
        assert_eq!(batch(&sqs).map(<[Value]>::len), Some(1));
        let s3 = json!({"Records": [{"eventSource": "aws:s3"}]});
        assert!(batch(&s3).is_none());
        assert!(batch(&json!({"Records": []})).is_none());
    }

    #[test]
    fn missing_body_fails_the_message_by_id() {
        let record = json!({"eventSource": "aws:sqs", "messageId": "m-7"});
        let message = message(&Files, 0, &record);
        assert_eq!(message.id.as_deref(), Some("m-7"));
        assert_eq!(
            message.outcome.map_err(|e| e.to_string()),
            Err("SQS message m-7: `body` is missing".to_owned())
        );
    }

    #[test]
    fn record_without_id_is_named_by_position() {
        let record = json!({"eventSource": "aws:sqs", "body": "[]"});
        let message = message(&Files, 3, &record);
        assert_eq!(message.id, None);
        assert_eq!(
            message
                .outcome
                .map_err(|e| e.to_string())
                .err()
                .as_deref()
                .and_then(|e| e.split(" is not").next()),
            Some("SQS record 3 (no messageId)")
        );
    }

    #[test]
    fn ignored_parts_are_kept_for_good_messages() {
        let body =
            json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"}).to_string();
        let record = json!({"eventSource": "aws:sqs", "messageId": "m-1", "body": body});
        let message = message(&Files, 0, &record);
        assert_eq!(message.outcome.map_err(|e| e.to_string()), Ok(Vec::new()));
        assert_eq!(message.ignored.len(), 1);
    }
}
