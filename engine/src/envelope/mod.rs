//! Turning any Lambda input into what it carries: the S3 objects a delivery
//! announces, or the triggers the remediator acts on.
//!
//! The envelopes AWS writes around a payload are peeled here, once, for
//! every function: an SQS batch (each message on its own), a Lambda SNS
//! event, and the SNS envelope SNS writes into queues without raw delivery.
//! What is inside them is read by a [`Contents`] reader, which is told the
//! [`Origin`] (the envelope AWS wrote) as well: [`Files`] for the services
//! reading log files, `remediation::request::trigger::Triggers` for the
//! remediator.
//!
//! The functions receive the raw payload (`LambdaEvent<serde_json::Value>`)
//! and [`unwrap`] recognises every way a new CloudTrail file can be announced:
//!
//! - an S3 event notification (`Records[].s3`, `ObjectCreated:*`);
//! - an SNS Lambda event whose `Records[].Sns.Message` holds one of these;
//! - an SQS batch whose message bodies hold an S3 notification, an SNS
//!   envelope (`Message`, SNS to SQS without raw delivery) or a raw-delivered
//!   SNS message, or an EventBridge event;
//! - an EventBridge `Object Created` event from `aws.s3`;
//! - CloudTrail's own SNS notice `{"s3Bucket": .., "s3ObjectKey": [..]}`.
//!
//! S3 notification and EventBridge keys are URL-encoded and are decoded here
//! ([`crate::keys::decode_s3_event_key`]); CloudTrail notice keys are not
//! encoded and are used as written.
//!
//! Some inputs are recognised and deliberately not processed (S3's
//! `s3:TestEvent`, non-create events, SNS subscription messages): they are
//! reported as [`Ignored`] for callers to count, never as errors.
//!
//! Each SQS message is judged on its own: a bad body fails only that
//! [`Message`], whose `id` goes into `batchItemFailures`.

mod cloudtrail;
pub(crate) mod describe;
mod eventbridge;
mod files;
mod object;
mod origin;
mod s3;
mod sns;
mod sqs;

use std::fmt;

use serde_json::Value;

use crate::keys::KeyError;

pub use files::Files;
pub use object::ObjectRef;
pub use origin::Origin;

/// Everything one Lambda invocation carried: objects, unless read for
/// something else ([`unwrap_with`]).
#[derive(Debug)]
pub struct Delivery<T = ObjectRef> {
    /// One entry per SQS message, or a single entry for a direct invocation.
    pub messages: Vec<Message<T>>,
}

impl<T> Delivery<T> {
    /// Whether this was an SQS batch, whose failures are reported per
    /// message (`batchItemFailures`) rather than by failing the invocation.
    pub fn from_sqs(&self) -> bool {
        self.messages.iter().any(|m| m.id.is_some())
    }

    /// Every item carried by the messages that unwrapped successfully.
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.messages
            .iter()
            .filter_map(|m| m.outcome.as_ref().ok())
            .flatten()
    }

    /// The SQS message ids to report in `batchItemFailures` because their
    /// body could not be unwrapped.
    pub fn failed_message_ids(&self) -> impl Iterator<Item = &str> {
        self.messages
            .iter()
            .filter(|m| m.outcome.is_err())
            .filter_map(|m| m.id.as_deref())
    }
}

/// What one SQS message (or a direct invocation) carried.
#[derive(Debug)]
pub struct Message<T = ObjectRef> {
    /// The SQS `messageId`, for `batchItemFailures`; `None` for a direct
    /// (S3, SNS, EventBridge or notice) invocation.
    pub id: Option<String>,
    /// What it carried, or why the message could not be unwrapped.
    pub outcome: Result<Vec<T>, EnvelopeError>,
    /// What the message held that is recognised and deliberately skipped.
    /// Empty when `outcome` is an error: the message will be retried whole.
    pub ignored: Vec<Ignored>,
}

/// Something recognised and deliberately not processed: counted by callers,
/// never an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// The `s3:TestEvent` S3 sends when a notification configuration is saved.
    TestEvent {
        /// The bucket the configuration belongs to, when the event names it.
        bucket: Option<String>,
    },
    /// An S3 or EventBridge event about something other than a new object.
    NotObjectCreated {
        /// `eventName` (S3 notification) or `detail-type` (EventBridge).
        event_name: String,
        /// The bucket, empty if the event omits it.
        bucket: String,
        /// The decoded key (as received if it does not decode), empty if the event omits it.
        key: String,
    },
    /// An SNS message that is not a `Notification`, such as the
    /// `SubscriptionConfirmation` SNS sends to a newly subscribed queue.
    SnsControl {
        /// The SNS `Type`.
        message_type: String,
        /// The topic, when the message names it.
        topic_arn: Option<String>,
    },
}

/// Why a delivery, or one SQS message of it, could not be unwrapped.
///
/// `at` names where the problem is, outermost first, e.g.
/// `SQS message 059f36b4-... > SNS message 6a7f5f3c-... > Records[0]`.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The payload is none of the supported deliveries.
    #[error("{at} is not a delivery trailguard understands: got {what}; expected {expected}")]
    Unrecognised {
        /// Where the payload was found.
        at: String,
        /// A short description of what was received (top-level keys or an excerpt).
        what: String,
        /// What the reader takes ([`Contents::EXPECTED`]).
        expected: &'static str,
    },
    /// A field that must hold JSON text does not.
    #[error("{at}: `{field}` is not JSON ({source}); it starts {excerpt:?}")]
    NotJson {
        /// Where the field was found.
        at: String,
        /// The field, e.g. `body` or `Message`.
        field: &'static str,
        /// The first characters of the field.
        excerpt: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// A recognised payload does not have the shape its sender documents.
    #[error("{at}: not a valid {what}: {source}")]
    Invalid {
        /// Where the payload was found.
        at: String,
        /// What it was taken for, e.g. `S3 event record`.
        what: &'static str,
        /// What does not fit, naming the field.
        source: serde_json::Error,
    },
    /// A required field is missing or empty.
    #[error("{at}: `{field}` {problem}")]
    Malformed {
        /// Where the field was expected.
        at: String,
        /// The field's path within that part, e.g. `s3.bucket.name`.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An object key could not be decoded.
    #[error("{at}: `{field}`: {source}")]
    Key {
        /// Where the key was found.
        at: String,
        /// The key's field, e.g. `s3.object.key`.
        field: &'static str,
        /// Why it does not decode.
        source: KeyError,
    },
}

/// Unwraps a raw Lambda payload into the objects it announces.
///
/// `Err` means the whole invocation is unusable: its shape is not recognised,
/// or it is a direct (non-SQS) delivery with a bad part. Problems with single
/// messages of an SQS batch are reported in their [`Message::outcome`] so
/// that only those messages are retried.
pub fn unwrap(event: &Value) -> Result<Delivery, EnvelopeError> {
    unwrap_with(&Files, event)
}

/// The place of the payload itself, which every other place is inside.
pub const LAMBDA_INPUT: &str = "Lambda input";

/// What a delivery carries, read where AWS's envelopes end.
pub trait Contents {
    /// One thing carried (an object, a trigger).
    type Item;
    /// What the reader takes, for the error naming a payload it does not.
    const EXPECTED: &'static str;
    /// Reads `part`, a payload inside no further envelope, into `found`.
    fn read(&self, part: &Part<'_>, found: &mut Found<Self::Item>) -> Result<(), EnvelopeError>;
}

/// A payload where the envelopes end, and what they said about it.
#[derive(Debug)]
pub struct Part<'a> {
    /// The payload.
    pub value: &'a Value,
    /// Its JSON text, when it came as text (an SQS body, an SNS `Message`).
    pub text: Option<&'a str>,
    /// How deep in the delivery it sits.
    pub layer: Layer,
    /// The envelope AWS wrote around it.
    pub origin: &'a Origin,
    /// The topic, when it came in an SNS notification (inside a queue, as
    /// the notification says, which whoever sent it wrote).
    pub sns_topic_arn: Option<&'a str>,
    /// Where it sits, for messages.
    pub at: &'a Place,
}

impl Part<'_> {
    /// The error for a payload the reader does not take.
    pub fn unrecognised<C: Contents>(&self) -> EnvelopeError {
        unrecognised::<C>(self.at, self.value)
    }
}

/// Unwraps a raw Lambda payload, reading what its envelopes hold with
/// `contents`; errors as in [`unwrap`].
pub fn unwrap_with<C: Contents>(
    contents: &C,
    event: &Value,
) -> Result<Delivery<C::Item>, EnvelopeError> {
    if let Some(records) = sqs::batch(event) {
        let messages = records
            .iter()
            .enumerate()
            .map(|(index, record)| sqs::message(contents, index, record))
            .collect();
        return Ok(Delivery { messages });
    }
    let mut found = Found::default();
    let at = Place::new(LAMBDA_INPUT);
    let part = Part {
        value: event,
        text: None,
        layer: Layer::Direct,
        origin: &Origin::Direct,
        sns_topic_arn: None,
        at: &at,
    };
    payload(contents, &part, &mut found)?;
    Ok(Delivery {
        messages: vec![Message {
            id: None,
            outcome: Ok(found.items),
            ignored: found.ignored,
        }],
    })
}

/// How deep in a delivery a payload sits, which decides what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The Lambda input itself.
    Direct,
    /// The body of an SQS message.
    SqsBody,
    /// The `Message` of an SNS notification.
    SnsMessage,
}

/// What has been found so far in one message.
#[derive(Debug)]
pub struct Found<T = ObjectRef> {
    /// What it carries.
    pub items: Vec<T>,
    /// What it holds that is recognised and deliberately skipped.
    pub ignored: Vec<Ignored>,
}

impl<T> Default for Found<T> {
    fn default() -> Self {
        Found {
            items: Vec::new(),
            ignored: Vec::new(),
        }
    }
}

/// Where in a delivery a part sits, for error messages.
#[derive(Debug, Clone)]
pub struct Place(String);

impl Place {
    fn new(label: impl Into<String>) -> Self {
        Self(label.into())
    }

    /// A place inside this one.
    pub fn child(&self, label: impl fmt::Display) -> Self {
        Self(format!("{} > {label}", self.0))
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Peels the envelope `part` is, if it is one, and hands what is inside
/// to `contents`.
fn payload<C: Contents>(
    contents: &C,
    part: &Part<'_>,
    found: &mut Found<C::Item>,
) -> Result<(), EnvelopeError> {
    let Some(fields) = part.value.as_object() else {
        return Err(part.unrecognised::<C>());
    };
    // SNS delivers to Lambda directly, never inside a queue or another message.
    if part.layer == Layer::Direct
        && let Some(Value::Array(records)) = fields.get("Records")
        && records_source(records) == Some("aws:sns")
    {
        return sns::unwrap_lambda_records(contents, records, part.at, found);
    }
    // SNS writes its envelope into queues, never into Lambda input or another SNS message.
    if part.layer == Layer::SqsBody && sns::is_envelope(fields) {
        return sns::unwrap_envelope(contents, part, found);
    }
    contents.read(part, found)
}

/// The event source shared by every record of a `Records` array
/// (`eventSource`, or SNS's `EventSource`), if there is one: what tells an
/// SQS batch, an SNS event and an S3 notification apart.
pub fn records_source(records: &[Value]) -> Option<&str> {
    let mut sources = records.iter().map(|record| {
        record
            .get("eventSource")
            .or_else(|| record.get("EventSource"))
            .and_then(Value::as_str)
    });
    let first = sources.next()??;
    sources.all(|s| s == Some(first)).then_some(first)
}

fn unrecognised<C: Contents>(at: &Place, value: &Value) -> EnvelopeError {
    EnvelopeError::Unrecognised {
        at: at.to_string(),
        what: describe::value(value),
        expected: C::EXPECTED,
    }
}

/// Parses a field that carries JSON as text (an SQS body, an SNS `Message`).
fn parse_embedded(text: &str, at: &Place, field: &'static str) -> Result<Value, EnvelopeError> {
    serde_json::from_str(text).map_err(|source| EnvelopeError::NotJson {
        at: at.to_string(),
        field,
        excerpt: describe::excerpt(text),
        source,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const BUCKET: &str = "trailguard-demo-trail";
    const KEY: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
                       218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz";

    fn s3_record(event_name: &str, key: &str) -> Value {
        json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2023-07-10T12:05:43.512Z",
            "eventName": event_name,
            "userIdentity": {"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
            "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {"x-amz-request-id": "R", "x-amz-id-2": "H"},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "c",
                "bucket": {"name": BUCKET, "arn": "arn:aws:s3:::trailguard-demo-trail"},
                "object": {"key": key, "size": 10, "eTag": "e1", "sequencer": "01"}
            }
        })
    }

    fn sqs_record(id: &str, body: &str) -> Value {
        json!({
            "messageId": id,
            "receiptHandle": "h",
            "body": body,
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": "m",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:218007301253:q",
            "awsRegion": "us-east-1"
        })
    }

    fn only_message(delivery: &Delivery) -> &Message {
        assert_eq!(delivery.messages.len(), 1, "{delivery:?}");
        &delivery.messages[0]
    }

    fn keys(message: &Message) -> Vec<&str> {
        match &message.outcome {
            Ok(objects) => objects.iter().map(|o| o.key.as_str()).collect(),
            Err(e) => panic!("unexpected error: {e}"),
        }
    }

    #[test]
    fn multi_record_s3_event_yields_every_object_in_order() {
        let second = KEY.replace("UljXNp9xLp8nsAGc", "SecondFile000000");
        let event = json!({"Records": [
            s3_record("ObjectCreated:Put", KEY),
            s3_record("ObjectCreated:CompleteMultipartUpload", &second),
        ]});
        let delivery = unwrap(&event).map_err(|e| e.to_string());
        let delivery = delivery.as_ref().map_err(String::as_str);
        let message = delivery.map(only_message);
        assert_eq!(message.map(keys), Ok(vec![KEY, second.as_str()]));
        assert_eq!(message.map(|m| m.id.clone()), Ok(None));
    }

    #[test]
    fn object_removed_is_ignored_and_listed() {
        let event = json!({"Records": [
            s3_record("ObjectRemoved:Delete", "old+file%3D1.json.gz"),
            s3_record("ObjectCreated:Put", KEY),
        ]});
        let delivery = unwrap(&event).map_err(|e| e.to_string());
        let message = delivery.as_ref().map(only_message);
        assert_eq!(message.map(keys), Ok(vec![KEY]));
        assert_eq!(
            message.map(|m| m.ignored.clone()),
            Ok(vec![Ignored::NotObjectCreated {
                event_name: "ObjectRemoved:Delete".to_owned(),
                bucket: BUCKET.to_owned(),
                key: "old file=1.json.gz".to_owned(),
            }])
        );
    }

    #[test]
    fn url_encoded_keys_are_decoded() {
        let event = json!({"Records": [
            s3_record("ObjectCreated:Put", "team+logs/dt%3D2023-07-10/a%2Bb.json.gz"),
        ]});
        let delivery = unwrap(&event).map_err(|e| e.to_string());
        assert_eq!(
            delivery.as_ref().map(only_message).map(keys),
            Ok(vec!["team logs/dt=2023-07-10/a+b.json.gz"])
        );
    }

    #[test]
    fn one_bad_sqs_message_fails_alone() {
        let good = json!({"Records": [s3_record("ObjectCreated:Put", KEY)]}).to_string();
        let bad_key = json!({"Records": [s3_record("ObjectCreated:Put", "bad%zzkey")]}).to_string();
        let event = json!({"Records": [
            sqs_record("m-1", &good),
            sqs_record("m-2", "not json at all"),
            sqs_record("m-3", &bad_key),
            sqs_record("m-4", &good),
        ]});
        let delivery = match unwrap(&event) {
            Ok(delivery) => delivery,
            Err(e) => panic!("batch should unwrap: {e}"),
        };
        let ids: Vec<_> = delivery.messages.iter().map(|m| m.id.as_deref()).collect();
        assert_eq!(ids, [Some("m-1"), Some("m-2"), Some("m-3"), Some("m-4")]);
        assert_eq!(
            delivery.failed_message_ids().collect::<Vec<_>>(),
            ["m-2", "m-3"]
        );
        assert_eq!(
            delivery.items().map(|o| o.key.as_str()).collect::<Vec<_>>(),
            [KEY, KEY]
        );

        let errors: Vec<String> = delivery
            .messages
            .iter()
            .filter_map(|m| m.outcome.as_ref().err())
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].starts_with("SQS message m-2: `body` is not JSON ("),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].ends_with("it starts \"not json at all\""),
            "{}",
            errors[0]
        );
        assert_eq!(
            errors[1],
            "SQS message m-3 > Records[0]: `s3.object.key`: S3 event key \"bad%zzkey\" has a bad \
             percent escape at byte 3: expected % followed by two hex digits"
        );
    }

    #[test]
    fn unknown_payload_names_its_keys() {
        let event = json!({"detail": {}, "foo": 1, "bar": [1, 2]});
        let text = unwrap(&event).map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            text,
            Err(
                "Lambda input is not a delivery trailguard understands: got a JSON object with \
                 keys \"bar\", \"detail\", \"foo\"; expected an S3 event notification, an SNS \
                 or SQS message carrying one, an EventBridge \"Object Created\" event from \
                 aws.s3, or a CloudTrail log delivery notice"
                    .to_owned()
            )
        );
    }

    #[test]
    fn unknown_records_name_their_source() {
        let event = json!({"Records": [{"eventSource": "aws:kinesis", "kinesis": {}}]});
        let err = unwrap(&event).map(|_| ());
        assert!(
            matches!(&err, Err(EnvelopeError::Unrecognised { what, .. })
                if what == "a Records array of 1 record(s) from event source \"aws:kinesis\""),
            "{err:?}"
        );
    }

    #[test]
    fn mixed_record_sources_are_unrecognised() {
        let event = json!({"Records": [
            s3_record("ObjectCreated:Put", KEY),
            {"eventSource": "aws:sqs", "body": "{}"}
        ]});
        let err = unwrap(&event).map(|_| ());
        assert!(
            matches!(&err, Err(EnvelopeError::Unrecognised { what, .. })
                if what == "a Records array of 2 record(s) with mixed or missing event sources"),
            "{err:?}"
        );
    }

    #[test]
    fn non_object_inputs_are_described_briefly() {
        let long = "x".repeat(10_000);
        let err = unwrap(&Value::String(long))
            .map(|_| ())
            .map_err(|e| e.to_string());
        let text = err.err().unwrap_or_default();
        assert!(text.len() < 400, "{text}");
        assert!(text.contains("a JSON string \"xxxx"), "{text}");
    }

    #[test]
    fn direct_delivery_with_a_bad_part_fails_whole() {
        let mut record = s3_record("ObjectCreated:Put", KEY);
        record["s3"]["bucket"]["name"] = Value::Null;
        let err = unwrap(&json!({"Records": [record]}))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            err,
            Err("Lambda input > Records[0]: `s3.bucket.name` is missing or empty".to_owned())
        );
    }

    #[test]
    fn sns_envelope_is_only_unwrapped_from_a_queue() {
        let envelope = json!({
            "Type": "Notification",
            "MessageId": "sns-1",
            "TopicArn": "arn:aws:sns:us-east-1:218007301253:t",
            "Message": json!({"s3Bucket": BUCKET, "s3ObjectKey": [KEY]}).to_string()
        });
        assert!(matches!(
            unwrap(&envelope),
            Err(EnvelopeError::Unrecognised { .. })
        ));
        let event = json!({"Records": [sqs_record("m-1", &envelope.to_string())]});
        let delivery = unwrap(&event).map_err(|e| e.to_string());
        assert_eq!(delivery.as_ref().map(only_message).map(keys), Ok(vec![KEY]));
    }

    #[test]
    fn sqs_inside_sns_is_unrecognised() {
        let inner = json!({"Records": [sqs_record("m-1", "{}")]}).to_string();
        let event = json!({"Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn",
            "Sns": {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "t", "Message": inner}
        }]});
        let err = unwrap(&event).map(|_| ()).map_err(|e| e.to_string());
        assert!(
            err.as_ref().is_err_and(|e| e.starts_with(
                "Lambda input > SNS message sns-1 is not a delivery trailguard understands: \
                 got a Records array of 1 record(s) from event source \"aws:sqs\""
            )),
            "{err:?}"
        );
    }
}
