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
//!
//! Two views give the same answers: [`RecordEvent`] over a
//! `serde_json::Value`, and [`RecordView`] over a typed [`Record`] read in
//! place, which answers dot paths from the typed fields and the raw member
//! text without building a `Value` (one costs several times the typed parse,
//! and a scan evaluates Sigma rules on every record some rule could match).

use std::borrow::Cow;
use std::cell::OnceCell;

use rsigma_eval::event::{Event, EventValue, JsonEvent};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::document::Scalar;
use crate::record::{Reach, Record, raw_json};

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

/// A typed record as rsigma sees it, read in place (see the module doc).
pub(super) struct RecordView<'a> {
    record: &'a Record<'a>,
    /// Built only for what the typed and raw lookups do not cover: paths
    /// with `[index]` or escapes, keyword searches over every string.
    value: OnceCell<Value>,
}

impl<'a> RecordView<'a> {
    /// Views `record`.
    pub(super) fn new(record: &'a Record<'a>) -> RecordView<'a> {
        RecordView {
            record,
            value: OnceCell::new(),
        }
    }

    fn value(&self) -> &Value {
        self.value.get_or_init(|| self.record.to_value())
    }

    /// The answer of the `Value` view, for the paths only it handles.
    fn by_value(&self, path: &str) -> Option<EventValue<'static>> {
        RecordEvent::new(self.value()).get_field(path).map(owned)
    }
}

impl Event for RecordView<'_> {
    fn get_field(&self, path: &str) -> Option<EventValue<'_>> {
        let raw = self.record.raw();
        // Positional indexes and escaped brackets follow rsigma's path
        // grammar; a flat key holding dots (`"a.b": ...`) takes precedence
        // over the nested path (rsigma looks for it among top-level members,
        // and the record notes as it is parsed whether any member name holds
        // a dot). Neither occurs in CloudTrail, so a cheap test sends them
        // to the `Value` view.
        if path.contains(['[', '\\'])
            || (path.contains('.')
                && self.record.has_dotted_member()
                && raw_json::may_hold_key(raw, path))
        {
            return self.by_value(path);
        }
        // CloudTrail paths are short: split into a stack buffer, not a Vec,
        // as this runs for every field of every rule evaluated.
        let mut buffer = [""; 8];
        let mut parts = path.split('.');
        let mut depth = 0;
        for (slot, part) in buffer.iter_mut().zip(&mut parts) {
            *slot = part;
            depth += 1;
        }
        let spilled: Vec<&str>;
        let keys: &[&str] = if parts.next().is_some() {
            spilled = path.split('.').collect();
            &spilled
        } else {
            buffer.get(..depth).unwrap_or_default()
        };
        let mut found = Vec::new();
        match self.record.reach(keys) {
            Reach::Scalar(scalar) => return Some(scalar_value(scalar)),
            Reach::Absent => return None,
            Reach::Raw(member, rest) => collect(member.get(), rest, &mut found),
            Reach::Text => collect(raw, keys, &mut found),
        }
        match found.len() {
            0 => None,
            1 => found.pop(),
            _ => Some(EventValue::Array(found)),
        }
    }

    fn any_string_value(&self, pred: &dyn Fn(&str) -> bool) -> bool {
        RecordEvent::new(self.value()).any_string_value(pred)
    }

    fn all_string_values(&self) -> Vec<Cow<'_, str>> {
        let mut values = Vec::new();
        RecordEvent::new(self.value())
            .visit_string_values(&mut |s| values.push(Cow::Owned(s.to_owned())));
        values
    }

    fn visit_string_values(&self, visit: &mut dyn FnMut(&str)) {
        RecordEvent::new(self.value()).visit_string_values(visit)
    }

    fn to_json(&self) -> Value {
        self.value().clone()
    }
}

/// Follows `keys` through the JSON text `json` as rsigma follows a dot
/// path: a key reaches into every member of an array.
fn collect<'j>(json: &'j str, keys: &[&str], out: &mut Vec<EventValue<'j>>) {
    let Some((key, rest)) = keys.split_first() else {
        out.push(raw_value(json));
        return;
    };
    match json.trim_start().as_bytes().first() {
        Some(b'{') => {
            if let Some(member) = raw_json::member(json, key) {
                collect(member.get(), rest, out);
            }
        }
        Some(b'[') => {
            raw_json::any_element(json, &mut |element| {
                collect(element.get(), keys, out);
                false
            });
        }
        _ => {}
    }
}

/// One JSON value's text as rsigma's value, objects as their text.
fn raw_value(json: &str) -> EventValue<'_> {
    match json.trim_start().as_bytes().first() {
        Some(b'{') => {
            let object = serde_json::from_str::<Value>(json).unwrap_or(Value::Null);
            EventValue::Str(Cow::Owned(object_text(&object)))
        }
        Some(b'[') => {
            let mut items = Vec::new();
            raw_json::any_element(json, &mut |element| {
                items.push(raw_value(element.get()));
                false
            });
            EventValue::Array(items)
        }
        // Integers stay integers, as in rsigma's own `Value` conversion.
        Some(b'-' | b'0'..=b'9') => match serde_json::from_str::<serde_json::Number>(json) {
            Ok(number) => number.as_i64().map_or_else(
                || EventValue::Float(number.as_f64().unwrap_or(f64::NAN)),
                EventValue::Int,
            ),
            Err(_) => EventValue::Null,
        },
        _ => scalar_value(raw_json::scalar(json)),
    }
}

fn scalar_value(scalar: Scalar<'_>) -> EventValue<'_> {
    match scalar {
        Scalar::String(text) => EventValue::Str(text),
        Scalar::Bool(b) => EventValue::Bool(b),
        Scalar::Number(n) => EventValue::Float(n),
        // Objects and arrays never come as scalars here; `Null` is null.
        Scalar::Null | Scalar::Array | Scalar::Object => EventValue::Null,
    }
}

/// Detaches a value from the event it was read from.
fn owned(value: EventValue<'_>) -> EventValue<'static> {
    match value {
        EventValue::Str(s) => EventValue::Str(Cow::Owned(s.into_owned())),
        EventValue::Int(n) => EventValue::Int(n),
        EventValue::Float(f) => EventValue::Float(f),
        EventValue::Bool(b) => EventValue::Bool(b),
        EventValue::Null => EventValue::Null,
        EventValue::Array(items) => EventValue::Array(items.into_iter().map(owned).collect()),
        EventValue::Map(members) => EventValue::Map(
            members
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k.into_owned()), owned(v)))
                .collect(),
        ),
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

    /// The typed view answers every path as the `Value` view does.
    #[test]
    fn typed_view_agrees_with_the_value_view() {
        const ODD: &str = r#"{"eventName":null,"errorCode":"AccessDenied","readOnly":"true",
            "managementEvent":true,"eventVersion":"1.08",
            "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s",
            "sessionContext":{"attributes":{"mfaAuthenticated":"false"},
            "webIdFederationData":{"federatedProvider":"x"},"sessionIssuer":{"type":"Role"}},"userName":null},
            "requestParameters":{"items":[{"cidr":"0.0.0.0/0","n":[1,2.5]},{"cidr":"10.0.0.0/8"}],
            "layers":["a","b\u0041"],"x":{},"policy":"{\"Statement\":[]}","count":-3,"ratio":0.25,
            "deep":{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":"bottom"}}}}}}}}},
            "responseElements":null,"resources":[{"ARN":"arn:a"},"plain",[{"ARN":"arn:b"}]],
            "apiVersion":"2016-11-15","a.b":"flat","a":{"b":"nested"},"additionalEventData":{"MFAUsed":"No"}}"#;
        let record = Record::from_json(ODD).unwrap();
        let value: Value = serde_json::from_str(ODD).unwrap();
        let typed = RecordView::new(&record);
        let by_value = RecordEvent::new(&value);
        for path in [
            "eventName",
            "eventName.x",
            "eventSource",
            "errorCode",
            "readOnly",
            "managementEvent",
            "eventVersion",
            "userIdentity",
            "userIdentity.type",
            "userIdentity.type.x",
            "userIdentity.arn",
            "userIdentity.userName",
            "userIdentity.invokedBy",
            "userIdentity.sessionContext",
            "userIdentity.sessionContext.attributes.mfaAuthenticated",
            "userIdentity.sessionContext.sessionIssuer.type",
            "userIdentity.sessionContext.webIdFederationData.federatedProvider",
            "requestParameters",
            "requestParameters.items",
            "requestParameters.items.cidr",
            "requestParameters.items.n",
            "requestParameters.items[1].cidr",
            "requestParameters.layers",
            "requestParameters.x",
            "requestParameters.policy",
            "requestParameters.count",
            "requestParameters.ratio",
            "requestParameters.missing",
            // Paths longer than the look-up's stack buffer of 8 keys.
            "requestParameters.deep.a.b.c.d.e.f",
            "requestParameters.deep.a.b.c.d.e.f.g",
            "requestParameters.deep.a.b.c.d.e.f.g.h",
            "requestParameters.deep.a.b.c.d.e.f.g.x",
            "responseElements",
            "responseElements.ConsoleLogin",
            "resources",
            "resources.ARN",
            "apiVersion",
            "a.b",
            "a",
            "additionalEventData.MFAUsed",
            "missing",
        ] {
            assert_eq!(
                typed.get_field(path),
                by_value.get_field(path),
                "path {path}"
            );
        }
        let mut seen = Vec::new();
        typed.visit_string_values(&mut |s| seen.push(s.to_owned()));
        assert!(seen.contains(&"flat".to_owned()));
        assert!(typed.any_string_value(&|s| s == "nested"));
    }

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
