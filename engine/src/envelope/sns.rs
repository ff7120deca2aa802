//! SNS: the Lambda SNS event (`Records[].Sns`) and the envelope SNS writes
//! into SQS queues without raw message delivery.
//!
//! Both carry the same fields (`Type`, `MessageId`, `TopicArn`, `Message`);
//! they differ only in the casing of fields this module does not read
//! (`SigningCertUrl` in the Lambda event, `SigningCertURL` in queues).
//! `aws_lambda_events`' `SnsMessage` is not used: it requires the signature
//! fields, which FIFO topics and subscription confirmations omit.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    Contents, EnvelopeError, Found, Ignored, Layer, Origin, Part, Place, parse_embedded, payload,
};

/// The SNS message type that carries a published message.
const NOTIFICATION: &str = "Notification";

/// The fields of an SNS message this module reads.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    #[serde(rename = "Type")]
    message_type: String,
    #[serde(default)]
    message_id: Option<String>,
    #[serde(default)]
    topic_arn: Option<String>,
    message: String,
}

/// Whether an SQS body is an SNS envelope rather than a raw-delivered message.
pub(super) fn is_envelope(fields: &Map<String, Value>) -> bool {
    fields.contains_key("Type") && fields.contains_key("TopicArn") && fields.contains_key("Message")
}

/// Unwraps an SNS envelope found in an SQS body (`part`): its message
/// keeps the queue as its origin.
pub(super) fn unwrap_envelope<C: Contents>(
    contents: &C,
    part: &Part<'_>,
    found: &mut Found<C::Item>,
) -> Result<(), EnvelopeError> {
    let envelope = Envelope::deserialize(part.value).map_err(|source| EnvelopeError::Invalid {
        at: part.at.to_string(),
        what: "SNS message",
        source,
    })?;
    unwrap_message(contents, envelope, part.origin, part.at, found)
}

/// Unwraps the records of a Lambda SNS event: each message's origin is
/// its topic.
pub(super) fn unwrap_lambda_records<C: Contents>(
    contents: &C,
    records: &[Value],
    at: &Place,
    found: &mut Found<C::Item>,
) -> Result<(), EnvelopeError> {
    for (index, record) in records.iter().enumerate() {
        let record_at = at.child(format_args!("Records[{index}]"));
        let sns = record.get("Sns").ok_or_else(|| EnvelopeError::Malformed {
            at: record_at.to_string(),
            field: "Sns",
            problem: "is missing",
        })?;
        let envelope = Envelope::deserialize(sns).map_err(|source| EnvelopeError::Invalid {
            at: record_at.to_string(),
            what: "SNS message",
            source,
        })?;
        let origin = Origin::Sns {
            topic_arn: envelope.topic_arn.clone(),
        };
        unwrap_message(contents, envelope, &origin, at, found)?;
    }
    Ok(())
}

fn unwrap_message<C: Contents>(
    contents: &C,
    envelope: Envelope,
    origin: &Origin,
    at: &Place,
    found: &mut Found<C::Item>,
) -> Result<(), EnvelopeError> {
    if envelope.message_type != NOTIFICATION {
        found.ignored.push(Ignored::SnsControl {
            message_type: envelope.message_type,
            topic_arn: envelope.topic_arn,
        });
        return Ok(());
    }
    let at = at.child(format_args!(
        "SNS message {}",
        envelope.message_id.as_deref().unwrap_or("(no MessageId)")
    ));
    let inner = parse_embedded(&envelope.message, &at, "Message")?;
    let part = Part {
        value: &inner,
        text: Some(&envelope.message),
        layer: Layer::SnsMessage,
        origin,
        sns_topic_arn: envelope.topic_arn.as_deref(),
        at: &at,
    };
    payload(contents, &part, found)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::envelope::Files;

    /// `value` as the body of a message from queue `q`.
    fn queued<'a>(value: &'a Value, at: &'a Place) -> Part<'a> {
        Part {
            value,
            text: None,
            layer: Layer::SqsBody,
            origin: &Origin::Direct,
            sns_topic_arn: None,
            at,
        }
    }

    #[test]
    fn subscription_confirmations_are_ignored() {
        let confirmation = json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:MyTopic",
            "Message": "You have chosen to subscribe to the topic.",
            "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription",
            "Timestamp": "2012-04-26T20:45:04.751Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem"
        });
        let mut found = Found::default();
        let result = unwrap_envelope(&Files, &queued(&confirmation, &Place::new("q")), &mut found);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            found.ignored,
            [Ignored::SnsControl {
                message_type: "SubscriptionConfirmation".to_owned(),
                topic_arn: Some("arn:aws:sns:us-east-1:123456789012:MyTopic".to_owned()),
            }]
        );
    }

    #[test]
    fn unsigned_fifo_messages_are_accepted() {
        // FIFO topics send no signature fields.
        let message = json!({
            "Type": "Notification",
            "MessageId": "f5458878-95d1-5aad-82d9-d3d5edf775d9",
            "SequenceNumber": "10000000000000027000",
            "TopicArn": "arn:aws:sns:eu-central-1:111122223333:trail.fifo",
            "Message": json!({"s3Bucket": "b", "s3ObjectKey": ["k"]}).to_string(),
            "Timestamp": "2022-09-27T22:15:02.834Z"
        });
        let mut found = Found::default();
        let result = unwrap_envelope(&Files, &queued(&message, &Place::new("q")), &mut found);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(
            found
                .items
                .iter()
                .map(|o| o.key.as_str())
                .collect::<Vec<_>>(),
            ["k"]
        );
    }

    #[test]
    fn message_that_is_not_json_names_the_sns_message() {
        let message = json!({"Type": "Notification", "MessageId": "m-9", "TopicArn": "t", "Message": "Hello from SNS!"});
        let mut found = Found::default();
        let at = Place::new("SQS message q-1");
        let err =
            unwrap_envelope(&Files, &queued(&message, &at), &mut found).map_err(|e| e.to_string());
        assert!(
            err.as_ref().is_err_and(|e| e
                .starts_with("SQS message q-1 > SNS message m-9: `Message` is not JSON")
                && e.ends_with("it starts \"Hello from SNS!\"")),
            "{err:?}"
        );
    }

    #[test]
    fn lambda_record_without_sns_is_malformed() {
        let records = [json!({"EventSource": "aws:sns"})];
        let mut found = Found::default();
        let err = unwrap_lambda_records(&Files, &records, &Place::new("Lambda input"), &mut found)
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("Lambda input > Records[0]: `Sns` is missing".to_owned())
        );
    }
}
