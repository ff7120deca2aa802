//! The view of a CloudTrail record that Sigma rules are evaluated against.
//!
//! It is rsigma's [`JsonEvent`] (dot paths, any-member matching through
//! arrays) with one change: a field that holds an object is seen as the
//! object's text. Some SigmaHQ rules apply string modifiers to a whole
//! object, e.g. `requestParameters|contains: 'Suspended'`; SIEMs that store
//! such members as JSON text match them, while rsigma matches strings only and
//! would never match. Only fields a rule names are looked up, so the text is
//! built only for objects that a rule asks about as a whole, and only when the
//! rule's earlier items (usually `eventSource` / `eventName`) have matched.
//!
//! The text is compact JSON, except that a string member holding a JSON
//! document is written as that document. IAM records its policy documents as
//! JSON text inside `requestParameters` (`"policyDocument": "{\"Version\"...`),
//! and a rule looking for `"s3:GetObject"` in `requestParameters` means the
//! policy, not its escaped form.

use std::borrow::Cow;

use rsigma_eval::event::{Event, EventValue, JsonEvent};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A CloudTrail record as rsigma sees it (see the module doc).
pub(super) struct RecordEvent<'a> {
    value: &'a Value,
    json: JsonEvent<'a>,
}

impl<'a> RecordEvent<'a> {
    /// Views `value` (one CloudTrail record).
    pub(super) fn new(value: &'a Value) -> RecordEvent<'a> {
        RecordEvent {
            value,
            json: JsonEvent::borrow(value),
        }
    }
}

impl Event for RecordEvent<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        // A top-level object (the common case: `requestParameters`) is
        // written straight from the record rather than through rsigma's
        // `EventValue::Map` copy of it.
        if let Some(object @ Value::Object(_)) = self.value.get(path) {
            return Some(EventValue::Str(Cow::Owned(object_text(object))));
        }
        self.json.get_field(path).map(objects_as_text)
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        self.json.any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        self.json.all_string_values()
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        self.json.visit_string_values(visit)
    }

    fn to_json(&self) -> Value {
        self.json.to_json()
    }

    fn field_keys(&self) -> Vec<Cow<'_, str>> {
        self.json.field_keys()
    }

    fn top_level_keys(&self) -> Option<Vec<Cow<'_, str>>> {
        self.json.top_level_keys()
    }

    fn visit_top_level_keys(&self, visit: &mut dyn FnMut(&str)) -> bool {
        self.json.visit_top_level_keys(visit)
    }
}

/// Replaces objects (also as array members) by their text.
fn objects_as_text(value: EventValue<'_>) -> EventValue<'_> {
    match value {
        EventValue::Map(_) => EventValue::Str(Cow::Owned(object_text(&value.to_json()))),
        EventValue::Array(items) => {
            EventValue::Array(items.into_iter().map(objects_as_text).collect())
        }
        other => other,
    }
}

/// The text rules see for an object (see the module doc).
pub(super) fn object_text(value: &Value) -> String {
    // Serialising a `Value` cannot fail: its keys are strings.
    serde_json::to_string(&Expanded(value)).unwrap_or_default()
}

/// Serialises a value with embedded JSON documents expanded in place.
struct Expanded<'a>(&'a Value);

impl Serialize for Expanded<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => match embedded_document(text) {
                Some(document) => Expanded(&document).serialize(serializer),
                None => serializer.serialize_str(text),
            },
            Value::Array(items) => serializer.collect_seq(items.iter().map(Expanded)),
            Value::Object(members) => {
                serializer.collect_map(members.iter().map(|(k, v)| (k, Expanded(v))))
            }
            scalar => scalar.serialize(serializer),
        }
    }
}

/// The JSON object or array a string holds, if it holds one.
fn embedded_document(text: &str) -> Option<Value> {
    // Cheap test first: nearly every string is not a document.
    if !text.trim_start().starts_with(['{', '[']) {
        return None;
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_compact_json_text() {
        let record =
            json!({"requestParameters": {"VersioningConfiguration": {"Status": "Suspended"}}});
        let event = RecordEvent::new(&record);
        assert_eq!(
            event.get_field("requestParameters"),
            Some(EventValue::Str(
                r#"{"VersioningConfiguration":{"Status":"Suspended"}}"#.into()
            ))
        );
        // Nested objects too, reached through a dot path.
        assert_eq!(
            event.get_field("requestParameters.VersioningConfiguration"),
            Some(EventValue::Str(r#"{"Status":"Suspended"}"#.into()))
        );
    }

    #[test]
    fn scalars_and_arrays_of_strings_are_unchanged() {
        let record = json!({"eventName": "PutBucketVersioning", "requestParameters": {"layers": ["a", "b"]}});
        let event = RecordEvent::new(&record);
        assert_eq!(
            event.get_field("eventName"),
            Some(EventValue::Str("PutBucketVersioning".into()))
        );
        assert_eq!(
            event.get_field("requestParameters.layers"),
            Some(EventValue::Array(vec![
                EventValue::Str("a".into()),
                EventValue::Str("b".into())
            ]))
        );
        assert_eq!(event.get_field("missing"), None);
    }

    #[test]
    fn array_members_that_are_objects_become_text() {
        let record = json!({"resources": [{"ARN": "arn:a"}, "plain"]});
        let event = RecordEvent::new(&record);
        assert_eq!(
            event.get_field("resources"),
            Some(EventValue::Array(vec![
                EventValue::Str(r#"{"ARN":"arn:a"}"#.into()),
                EventValue::Str("plain".into())
            ]))
        );
    }

    #[test]
    fn embedded_policy_documents_are_expanded() {
        let policy =
            "{\n  \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"]}]\n}";
        let record = json!({"requestParameters": {"policyDocument": policy, "note": "{not json"}});
        let text = object_text(&record["requestParameters"]);
        assert!(text.contains(r#""s3:GetObject""#), "{text}");
        let expected = json!({
            "policyDocument": {"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"]}]},
            "note": "{not json",
        });
        assert_eq!(serde_json::from_str::<Value>(&text).ok(), Some(expected));
    }
}
