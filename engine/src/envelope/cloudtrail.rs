//! CloudTrail's own delivery notice, published to the trail's SNS topic:
//! `{"s3Bucket": "bucket", "s3ObjectKey": ["key", ...]}`.
//!
//! CloudTrail writes the keys itself and does not URL-encode them, so they
//! are used exactly as written.

use serde::Deserialize;
use serde_json::Value;

use super::{EnvelopeError, Found, ObjectRef, Place};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Notice {
    s3_bucket: String,
    s3_object_key: Vec<String>,
}

/// Unwraps a CloudTrail delivery notice.
pub(super) fn unwrap(value: &Value, at: &Place, found: &mut Found) -> Result<(), EnvelopeError> {
    let notice = Notice::deserialize(value).map_err(|source| EnvelopeError::Invalid {
        at: at.to_string(),
        what: "CloudTrail delivery notice",
        source,
    })?;
    if notice.s3_bucket.is_empty() {
        return Err(EnvelopeError::Malformed {
            at: at.to_string(),
            field: "s3Bucket",
            problem: "is empty",
        });
    }
    if notice.s3_object_key.iter().any(String::is_empty) {
        return Err(EnvelopeError::Malformed {
            at: at.to_string(),
            field: "s3ObjectKey",
            problem: "contains an empty key",
        });
    }
    let bucket = notice.s3_bucket;
    found.items.extend(
        notice
            .s3_object_key
            .into_iter()
            .map(|key| ObjectRef::new(bucket.clone(), key)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(value: &Value) -> (Result<(), String>, Found) {
        let mut found = Found::default();
        let result = unwrap(value, &Place::new("here"), &mut found).map_err(|e| e.to_string());
        (result, found)
    }

    #[test]
    fn keys_are_used_as_written() {
        let notice = json!({"s3Bucket": "b", "s3ObjectKey": ["logs+x/a%2Bb.json.gz", "k2"]});
        let (result, found) = run(&notice);
        assert_eq!(result, Ok(()));
        assert_eq!(
            found.items,
            [
                ObjectRef::new("b", "logs+x/a%2Bb.json.gz"),
                ObjectRef::new("b", "k2")
            ]
        );
    }

    #[test]
    fn wrong_shapes_name_the_field() {
        let (result, _) = run(&json!({"s3Bucket": "b", "s3ObjectKey": "k"}));
        assert_eq!(
            result,
            Err(
                "here: not a valid CloudTrail delivery notice: invalid type: string \"k\", \
                 expected a sequence"
                    .to_owned()
            )
        );
        let (result, _) = run(&json!({"s3ObjectKey": ["k"]}));
        assert_eq!(
            result,
            Err(
                "here: not a valid CloudTrail delivery notice: missing field `s3Bucket`".to_owned()
            )
        );
        let (result, _) = run(&json!({"s3Bucket": "", "s3ObjectKey": ["k"]}));
        assert_eq!(result, Err("here: `s3Bucket` is empty".to_owned()));
        let (result, _) = run(&json!({"s3Bucket": "b", "s3ObjectKey": ["k", ""]}));
        assert_eq!(
            result,
            Err("here: `s3ObjectKey` contains an empty key".to_owned())
        );
    }
}
