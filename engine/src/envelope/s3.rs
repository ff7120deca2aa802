//! S3 event notifications (`Records[].s3`) and S3's `s3:TestEvent`.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{EnvelopeError, Found, Ignored, ObjectRef, Place};
use crate::keys::decode_s3_event_key;

/// The members of an S3 event record that are read. `aws_lambda_events`'
/// `S3EventRecord` also requires `userIdentity`, `requestParameters` and
/// `responseElements`, which nothing here uses and which some senders (moto,
/// hand-made test events) leave out.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3EventRecord {
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Bucket {
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: Option<String>,
    size: Option<i64>,
    #[serde(rename = "versionId")]
    version_id: Option<String>,
    #[serde(rename = "eTag")]
    e_tag: Option<String>,
    sequencer: Option<String>,
}

/// Event names of new objects all start with this (`ObjectCreated:Put`, `:Copy`, ...).
const OBJECT_CREATED: &str = "ObjectCreated:";

/// Whether a payload is the test message S3 sends when a notification
/// configuration is saved.
pub(super) fn is_test_event(fields: &Map<String, Value>) -> bool {
    fields.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

/// The [`Ignored`] entry for a test event.
pub(super) fn test_event(fields: &Map<String, Value>) -> Ignored {
    Ignored::TestEvent {
        bucket: fields
            .get("Bucket")
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// Unwraps the records of an S3 event notification.
pub(super) fn unwrap_records(
    records: &[Value],
    at: &Place,
    found: &mut Found,
) -> Result<(), EnvelopeError> {
    for (index, record) in records.iter().enumerate() {
        let at = at.child(format_args!("Records[{index}]"));
        let record =
            S3EventRecord::deserialize(record).map_err(|source| EnvelopeError::Invalid {
                at: at.to_string(),
                what: "S3 event record",
                source,
            })?;
        unwrap_record(record, &at, found)?;
    }
    Ok(())
}

fn unwrap_record(
    record: S3EventRecord,
    at: &Place,
    found: &mut Found,
) -> Result<(), EnvelopeError> {
    let event_name = record.event_name.ok_or_else(|| EnvelopeError::Malformed {
        at: at.to_string(),
        field: "eventName",
        problem: "is missing",
    })?;
    let bucket = record.s3.bucket.name.filter(|b| !b.is_empty());
    let object = record.s3.object;

    if !event_name.starts_with(OBJECT_CREATED) {
        found.ignored.push(Ignored::NotObjectCreated {
            event_name,
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
        field: "s3.bucket.name",
        problem: "is missing or empty",
    })?;
    let raw_key = object.key.ok_or_else(|| EnvelopeError::Malformed {
        at: at.to_string(),
        field: "s3.object.key",
        problem: "is missing",
    })?;
    let key = decode_s3_event_key(&raw_key).map_err(|source| EnvelopeError::Key {
        at: at.to_string(),
        field: "s3.object.key",
        source,
    })?;
    found.items.push(ObjectRef {
        bucket,
        key,
        // The size is only a hint; a negative one is dropped rather than failing the object.
        size: object.size.and_then(|s| u64::try_from(s).ok()),
        version_id: object.version_id,
        etag: object.e_tag,
        sequencer: object.sequencer,
    });
    Ok(())
}

/// Decodes the key of an ignored event; it is only reported, so a key that
/// does not decode is kept as received instead of failing the message.
pub(super) fn decode_or_keep(raw: &str) -> String {
    decode_s3_event_key(raw).unwrap_or_else(|_| raw.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(event_name: Value, object: Value) -> Value {
        json!({
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2023-07-10T12:05:43.512Z",
            "eventName": event_name,
            "userIdentity": {"principalId": "P"},
            "requestParameters": {"sourceIPAddress": "10.0.0.1"},
            "responseElements": {},
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b"}, "object": object}
        })
    }

    fn run(records: &[Value]) -> (Result<(), String>, Found) {
        let mut found = Found::default();
        let result =
            unwrap_records(records, &Place::new("here"), &mut found).map_err(|e| e.to_string());
        (result, found)
    }

    #[test]
    fn keeps_version_etag_size_and_sequencer() {
        let object =
            json!({"key": "k%2B1", "size": 7, "versionId": "v1", "eTag": "e", "sequencer": "s"});
        let (result, found) = run(&[record(json!("ObjectCreated:Copy"), object)]);
        assert_eq!(result, Ok(()));
        assert_eq!(
            found.items,
            [ObjectRef {
                bucket: "b".to_owned(),
                key: "k+1".to_owned(),
                size: Some(7),
                version_id: Some("v1".to_owned()),
                etag: Some("e".to_owned()),
                sequencer: Some("s".to_owned()),
            }]
        );
    }

    #[test]
    fn negative_size_is_dropped() {
        let (result, found) = run(&[record(
            json!("ObjectCreated:Put"),
            json!({"key": "k", "size": -1}),
        )]);
        assert_eq!(result, Ok(()));
        assert_eq!(found.items.first().map(|o| o.size), Some(None));
    }

    #[test]
    fn a_record_without_s3_names_the_field() {
        let mut bad = record(json!("ObjectCreated:Put"), json!({"key": "k"}));
        if let Some(fields) = bad.as_object_mut() {
            fields.remove("s3");
        }
        let (result, _) = run(&[bad]);
        assert_eq!(
            result,
            Err("here > Records[0]: not a valid S3 event record: missing field `s3`".to_owned())
        );
    }

    #[test]
    fn members_nobody_reads_may_be_missing() {
        // moto's notifications carry no userIdentity, requestParameters or
        // responseElements; real S3's do. Neither is read.
        let mut sparse = record(json!("ObjectCreated:Put"), json!({"key": "k"}));
        if let Some(fields) = sparse.as_object_mut() {
            for unused in [
                "userIdentity",
                "requestParameters",
                "responseElements",
                "eventTime",
            ] {
                fields.remove(unused);
            }
        }
        let (result, found) = run(&[sparse]);
        assert_eq!(result, Ok(()));
        assert_eq!(found.items.len(), 1);
    }

    #[test]
    fn missing_key_and_event_name_are_malformed() {
        let (result, _) = run(&[record(json!("ObjectCreated:Put"), json!({"size": 1}))]);
        assert_eq!(
            result,
            Err("here > Records[0]: `s3.object.key` is missing".to_owned())
        );
        let (result, _) = run(&[record(Value::Null, json!({"key": "k"}))]);
        assert_eq!(
            result,
            Err("here > Records[0]: `eventName` is missing".to_owned())
        );
    }

    #[test]
    fn ignored_events_keep_undecodable_keys_as_received() {
        let (result, found) = run(&[record(json!("ObjectTagging:Put"), json!({"key": "a%zz"}))]);
        assert_eq!(result, Ok(()));
        assert_eq!(
            found.ignored,
            [Ignored::NotObjectCreated {
                event_name: "ObjectTagging:Put".to_owned(),
                bucket: "b".to_owned(),
                key: "a%zz".to_owned(),
            }]
        );
    }

    #[test]
    fn recognises_test_events() {
        let event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"});
        let fields = event.as_object().cloned().unwrap_or_default();
        assert!(is_test_event(&fields));
        assert_eq!(
            test_event(&fields),
            Ignored::TestEvent {
                bucket: Some("b".to_owned())
            }
        );
        let other = json!({"Event": "s3:ObjectCreated:Put"});
        assert!(!is_test_event(other.as_object().unwrap_or(&Map::new())));
    }
}
