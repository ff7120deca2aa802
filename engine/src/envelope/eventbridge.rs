//! EventBridge events from `aws.s3` (buckets with EventBridge notifications on).
//!
//! Their object keys are URL-encoded like S3 event notification keys and are
//! decoded the same way.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use super::{Contents, EnvelopeError, Files, Found, Ignored, ObjectRef, Place, s3::decode_or_keep};
use crate::keys::decode_s3_event_key;

/// The event source of S3's EventBridge events.
const S3_SOURCE: &str = "aws.s3";
/// The detail type of a new object.
const OBJECT_CREATED: &str = "Object Created";

/// The `detail` of an S3 EventBridge event, as far as it is read here.
#[derive(Debug, Default, Deserialize)]
struct Detail {
    #[serde(default)]
    bucket: Bucket,
    #[serde(default)]
    object: Object,
}

#[derive(Debug, Default, Deserialize)]
struct Bucket {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Object {
    key: Option<String>,
    size: Option<u64>,
    etag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// Unwraps an EventBridge event; only S3 events are recognised.
pub(super) fn unwrap(value: &Value, at: &Place, found: &mut Found) -> Result<(), EnvelopeError> {
    let event =
        EventBridgeEvent::<Value>::deserialize(value).map_err(|source| EnvelopeError::Invalid {
            at: at.to_string(),
            what: "EventBridge event",
            source,
        })?;
    let at = match &event.id {
        Some(id) => at.child(format_args!("EventBridge event {id}")),
        None => at.child("EventBridge event"),
    };
    if event.source != S3_SOURCE {
        return Err(EnvelopeError::Unrecognised {
            at: at.to_string(),
            what: format!(
                "an EventBridge event from {:?} of type {:?}",
                event.source, event.detail_type
            ),
            expected: Files::EXPECTED,
        });
    }
    let detail = Detail::deserialize(&event.detail).map_err(|source| EnvelopeError::Invalid {
        at: at.to_string(),
        what: "S3 EventBridge event detail",
        source,
    })?;
    let bucket = detail.bucket.name.filter(|b| !b.is_empty());
    let object = detail.object;

    if event.detail_type != OBJECT_CREATED {
        found.ignored.push(Ignored::NotObjectCreated {
            event_name: event.detail_type,
            bucket: bucket.unwrap_or_default(),
            key: object
                .key
                .as_deref()
                .map(decode_or_keep)
                .unwrap_or_default(),
        });
        return Ok(());
    }

    let bucket = bucket.ok_or_else(|| EnvelopeError::Malformed {
        at: at.to_string(),
        field: "detail.bucket.name",
        problem: "is missing or empty",
    })?;
    let raw_key = object.key.ok_or_else(|| EnvelopeError::Malformed {
        at: at.to_string(),
        field: "detail.object.key",
        problem: "is missing",
    })?;
    let key = decode_s3_event_key(&raw_key).map_err(|source| EnvelopeError::Key {
        at: at.to_string(),
        field: "detail.object.key",
        source,
    })?;
    found.items.push(ObjectRef {
        bucket,
        key,
        size: object.size,
        version_id: object.version_id,
        etag: object.etag,
        sequencer: object.sequencer,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(source: &str, detail_type: &str, detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "17793124-05d4-b198-2fde-7ededc63b103",
            "detail-type": detail_type,
            "source": source,
            "account": "111122223333",
            "time": "2021-11-12T00:00:00Z",
            "region": "ca-central-1",
            "resources": ["arn:aws:s3:::b"],
            "detail": detail
        })
    }

    fn run(value: &Value) -> (Result<(), String>, Found) {
        let mut found = Found::default();
        let result = unwrap(value, &Place::new("here"), &mut found).map_err(|e| e.to_string());
        (result, found)
    }

    #[test]
    fn object_created_keeps_version_and_decodes_the_key() {
        let detail = json!({
            "version": "0",
            "bucket": {"name": "b"},
            "object": {"key": "a+b%3D1", "size": 5, "etag": "e", "version-id": "v", "sequencer": "s"},
            "reason": "PutObject"
        });
        let (result, found) = run(&event("aws.s3", "Object Created", detail));
        assert_eq!(result, Ok(()));
        assert_eq!(
            found.items,
            [ObjectRef {
                bucket: "b".to_owned(),
                key: "a b=1".to_owned(),
                size: Some(5),
                version_id: Some("v".to_owned()),
                etag: Some("e".to_owned()),
                sequencer: Some("s".to_owned()),
            }]
        );
    }

    #[test]
    fn other_s3_detail_types_are_ignored() {
        let detail = json!({"bucket": {"name": "b"}, "object": {"key": "k", "sequencer": "s"}, "deletion-type": "Permanently Deleted"});
        let (result, found) = run(&event("aws.s3", "Object Deleted", detail));
        assert_eq!(result, Ok(()));
        assert!(found.items.is_empty());
        assert_eq!(
            found.ignored,
            [Ignored::NotObjectCreated {
                event_name: "Object Deleted".to_owned(),
                bucket: "b".to_owned(),
                key: "k".to_owned(),
            }]
        );
    }

    #[test]
    fn other_sources_are_unrecognised() {
        let (result, _) = run(&event(
            "aws.ec2",
            "EC2 Instance State-change Notification",
            json!({}),
        ));
        assert_eq!(
            result.err().as_deref().and_then(|e| e.split(';').next()),
            Some(
                "here > EventBridge event 17793124-05d4-b198-2fde-7ededc63b103 is not a delivery \
                 trailguard understands: got an EventBridge event from \"aws.ec2\" of type \
                 \"EC2 Instance State-change Notification\""
            )
        );
    }

    #[test]
    fn missing_bucket_names_the_field() {
        let (result, _) = run(&event(
            "aws.s3",
            "Object Created",
            json!({"object": {"key": "k"}}),
        ));
        assert_eq!(
            result,
            Err(
                "here > EventBridge event 17793124-05d4-b198-2fde-7ededc63b103: \
                 `detail.bucket.name` is missing or empty"
                    .to_owned()
            )
        );
    }
}
