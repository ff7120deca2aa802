//! What the log-reading services take from a delivery: the S3 objects it
//! announces.

use serde_json::Value;

use super::{
    Contents, EnvelopeError, Found, ObjectRef, Part, cloudtrail, describe, eventbridge,
    records_source, s3,
};

/// Reads the announcements of new objects (see the module doc of
/// [`crate::envelope`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Files;

impl Contents for Files {
    type Item = ObjectRef;

    const EXPECTED: &'static str = "an S3 event notification, an SNS or SQS message carrying \
        one, an EventBridge \"Object Created\" event from aws.s3, or a CloudTrail log delivery \
        notice";

    fn read(&self, part: &Part<'_>, found: &mut Found) -> Result<(), EnvelopeError> {
        let Some(fields) = part.value.as_object() else {
            return Err(part.unrecognised::<Files>());
        };
        if let Some(records) = fields.get("Records") {
            return records_payload(records, part, found);
        }
        if s3::is_test_event(fields) {
            found.ignored.push(s3::test_event(fields));
            return Ok(());
        }
        if fields.contains_key("detail-type") {
            return eventbridge::unwrap(part.value, part.at, found);
        }
        if fields.contains_key("s3Bucket") || fields.contains_key("s3ObjectKey") {
            return cloudtrail::unwrap(part.value, part.at, found);
        }
        Err(part.unrecognised::<Files>())
    }
}

/// A `Records` array that is no SNS Lambda event: an S3 notification.
fn records_payload(
    records: &Value,
    part: &Part<'_>,
    found: &mut Found,
) -> Result<(), EnvelopeError> {
    let Some(records) = records.as_array() else {
        return Err(EnvelopeError::Malformed {
            at: part.at.to_string(),
            field: "Records",
            problem: "is not an array",
        });
    };
    match records_source(records) {
        Some("aws:s3") => s3::unwrap_records(records, part.at, found),
        source => Err(EnvelopeError::Unrecognised {
            at: part.at.to_string(),
            what: describe::records(records.len(), source),
            expected: Files::EXPECTED,
        }),
    }
}
