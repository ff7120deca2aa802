//! Reading group-by and counted fields from a record.
//!
//! The typed fields answer the common paths (`userIdentity.arn`,
//! `sourceIPAddress`, `eventName`, ...) without parsing; a path into a raw
//! member (`requestParameters.*`) parses that member alone, and any other
//! path parses the record's text, once per record and only when needed.

use serde_json::Value;

use crate::document::Scalar;
use crate::record::{Reach, Record};

/// The record's JSON, parsed on first use.
#[derive(Default)]
pub(super) struct Parsed {
    event: Option<Option<Value>>,
}

/// The value of the dotted `path` in `record`, as text: strings as they
/// are, numbers and booleans written out, objects and arrays as compact
/// JSON; `None` when absent or `null`.
pub(super) fn field_value(record: &Record<'_>, path: &str, parsed: &mut Parsed) -> Option<String> {
    let keys: Vec<&str> = path.split('.').collect();
    match record.reach(&keys) {
        Reach::Scalar(scalar) => scalar_text(scalar),
        Reach::Absent => None,
        Reach::Raw(member, rest) => {
            let member: Value = serde_json::from_str(member.get()).ok()?;
            if rest.is_empty() {
                text_of(&member)
            } else {
                text_at(&member, &rest.join("."))
            }
        }
        Reach::Text => {
            let event = parsed
                .event
                .get_or_insert_with(|| serde_json::from_str(record.raw()).ok());
            text_at(event.as_ref()?, path)
        }
    }
}

fn scalar_text(scalar: Scalar<'_>) -> Option<String> {
    match scalar {
        Scalar::Null => None,
        Scalar::Bool(b) => Some(b.to_string()),
        Scalar::Number(n) => Some(n.to_string()),
        Scalar::String(s) => Some(s.into_owned()),
        // Typed fields end in text or flags; whole objects go to the text.
        Scalar::Array | Scalar::Object => None,
    }
}

/// The text at a dotted path (an exact key containing dots wins).
fn text_at(value: &Value, path: &str) -> Option<String> {
    if let Some(direct) = value.get(path) {
        return text_of(direct);
    }
    let mut current = value;
    for part in path.split('.') {
        current = current.get(part)?;
    }
    text_of(current)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_typed_fields_parameters_and_other_paths() {
        let text = r#"{
            "eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", "eventID": "e1",
            "eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a",
                "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
            "requestParameters": {"userName": "mallory", "tags": [1], "a.b": "dotted"},
            "recipientAccountId": "111122223333",
            "readOnly": true,
            "additionalEventData": {"MFAUsed": "No"}
        }"#;
        let record = Record::from_json(text).unwrap();
        let mut parsed = Parsed::default();
        let mut read = |path| field_value(&record, path, &mut parsed);
        assert_eq!(
            read("userIdentity.arn").as_deref(),
            Some("arn:aws:iam::1:user/a")
        );
        assert_eq!(
            read("requestParameters.userName").as_deref(),
            Some("mallory")
        );
        assert_eq!(read("requestParameters.tags").as_deref(), Some("[1]"));
        assert_eq!(read("requestParameters.a.b").as_deref(), Some("dotted"));
        assert_eq!(
            read("requestParameters").as_deref(),
            Some(r#"{"a.b":"dotted","tags":[1],"userName":"mallory"}"#)
        );
        assert_eq!(read("recipientAccountId").as_deref(), Some("111122223333"));
        assert_eq!(read("readOnly").as_deref(), Some("true"));
        assert_eq!(
            read("userIdentity.sessionContext.attributes.mfaAuthenticated").as_deref(),
            Some("false")
        );
        assert_eq!(read("additionalEventData.MFAUsed").as_deref(), Some("No"));
        assert_eq!(read("errorCode"), None);
        assert_eq!(read("eventName.more"), None);
        assert_eq!(read("requestParameters.missing"), None);
    }
}
