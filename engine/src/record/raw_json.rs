//! Finding values by path inside JSON text, parsing only the levels the path passes through.
//!
//! Each step deserializes one object or array as a list of borrowed raw
//! members and descends into the one it needs; nothing is built for the
//! members it skips. Results match `serde_json::Value`'s view of the same
//! text: a repeated key resolves to its last occurrence, numbers read as
//! serde_json reads them.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, Deserialize, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::document::{Scalar, Segment};

/// Calls `visit` with each value found at `path` in `json`, as
/// [`Document::any_at`](crate::Document::any_at) does.
pub(crate) fn any_at(
    json: &str,
    path: &[Segment],
    visit: &mut dyn FnMut(&Scalar<'_>) -> bool,
) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return visit(&scalar(json));
    };
    match first {
        Segment::Key(key) => {
            member(json, key).is_some_and(|value| any_at(value.get(), rest, visit))
        }
        Segment::Index(index) => {
            element(json, *index).is_some_and(|value| any_at(value.get(), rest, visit))
        }
        Segment::AnyIndex => any_element(json, &mut |value| any_at(value.get(), rest, visit)),
    }
}

/// Whether every key of `path` could occur in `json`. `false` means the path
/// is certainly absent, which spares a parse for the common "field not in
/// this record" question.
pub(crate) fn may_hold_path(json: &str, path: &[Segment]) -> bool {
    let mut escapes = None;
    path.iter().all(|segment| match segment {
        Segment::Key(key) => {
            may_hold_key(json, key)
                || *escapes
                    .get_or_insert_with(|| memchr::memmem::find(json.as_bytes(), b"\\u").is_some())
        }
        Segment::Index(_) | Segment::AnyIndex => true,
    })
}

/// Whether `"key"` could be written in `json` without `\u` escapes: either
/// it occurs literally, or the key has characters a writer may escape in
/// other ways (then only a parse can tell).
pub(crate) fn may_hold_key(json: &str, key: &str) -> bool {
    let escapable = key
        .bytes()
        .any(|b| b == b'"' || b == b'\\' || b == b'/' || b < 0x20);
    if escapable {
        return true;
    }
    // The key between quotes, found without building the quoted needle
    // (this runs for many keys of every record).
    let text = json.as_bytes();
    memchr::memmem::find_iter(text, key.as_bytes()).any(|at| {
        at.checked_sub(1).and_then(|before| text.get(before)) == Some(&b'"')
            && text.get(at + key.len()) == Some(&b'"')
    })
}

/// The [`Scalar`] view of one JSON value's text.
pub(crate) fn scalar(json: &str) -> Scalar<'_> {
    let json = json.trim_start_matches([' ', '\t', '\n', '\r']);
    match json.as_bytes().first() {
        Some(b'{') => Scalar::Object,
        Some(b'[') => Scalar::Array,
        Some(b'"') => serde_json::from_str::<Text<'_>>(json)
            .map_or(Scalar::Null, |text| Scalar::String(text.0)),
        Some(b't') => Scalar::Bool(true),
        Some(b'f') => Scalar::Bool(false),
        // Numbers go through serde_json so they round exactly as in a `Value`.
        Some(b'-' | b'0'..=b'9') => {
            Scalar::Number(serde_json::from_str::<f64>(json).unwrap_or(f64::NAN))
        }
        _ => Scalar::Null,
    }
}

/// The last value of `key` in the object `json`, if `json` is an object holding it.
pub(crate) fn member<'j>(json: &'j str, key: &str) -> Option<&'j RawValue> {
    if !starts_with(json, b'{') {
        return None;
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_map(Member { key }).ok().flatten()
}

/// Element `index` of the array `json`.
fn element(json: &str, index: usize) -> Option<&RawValue> {
    let mut found = None;
    let mut position = 0;
    any_element(json, &mut |value| {
        if position == index {
            found = Some(value);
        }
        position += 1;
        false
    });
    found
}

/// Calls `test` on the elements of the array `json` until one passes.
pub(crate) fn any_element<'j>(json: &'j str, test: &mut dyn FnMut(&'j RawValue) -> bool) -> bool {
    if !starts_with(json, b'[') {
        return false;
    }
    let mut de = serde_json::Deserializer::from_str(json);
    de.deserialize_seq(Elements { test }).unwrap_or(false)
}

fn starts_with(json: &str, byte: u8) -> bool {
    json.trim_start_matches([' ', '\t', '\n', '\r'])
        .as_bytes()
        .first()
        == Some(&byte)
}

/// Finds the last member named `key` in a map.
struct Member<'k> {
    key: &'k str,
}

impl<'de> Visitor<'de> for Member<'_> {
    type Value = Option<&'de RawValue>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(name) = map.next_key::<Text<'de>>()? {
            if name.0 == self.key {
                found = Some(map.next_value::<&'de RawValue>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Tests the elements of a sequence, then consumes the rest so the parse ends cleanly.
struct Elements<'t, 'de> {
    test: &'t mut dyn FnMut(&'de RawValue) -> bool,
}

impl<'de> Visitor<'de> for Elements<'_, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut passed = false;
        while let Some(value) = seq.next_element::<&'de RawValue>()? {
            passed = passed || (self.test)(value);
        }
        Ok(passed)
    }
}

/// A JSON string, borrowed unless it had escapes (serde's own `Cow<str>`
/// impl always copies).
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(text.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    /// Every value `path` reaches in `json`, through this module and through `Value`.
    fn both(json: &str, path: &[Segment]) -> (Vec<String>, Vec<String>) {
        let mut ours = Vec::new();
        any_at(json, path, &mut |s| {
            ours.push(format!("{s:?}"));
            false
        });
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut theirs = Vec::new();
        value.any_at(path, &mut |s| {
            theirs.push(format!("{s:?}"));
            false
        });
        (ours, theirs)
    }

    #[test]
    fn agrees_with_value_on_tricky_text() {
        let json = r#" { "a" : [1, 2.50, -3e2, 18446744073709551615, 1.7976931348623157e308] ,
            "b": {"c": null, "c": "last"}, "d\u0065": "esc\"aped", "e": [[{"f": true}], []],
            "g": 123456789012345678901234567890 } "#;
        let paths = [
            vec![],
            vec![key("a")],
            vec![key("a"), Segment::AnyIndex],
            vec![key("a"), Segment::Index(3)],
            vec![key("a"), Segment::Index(9)],
            vec![key("b"), key("c")],
            vec![key("de")],
            vec![key("e"), Segment::AnyIndex, Segment::AnyIndex, key("f")],
            vec![key("e"), Segment::Index(1), Segment::Index(0)],
            vec![key("g")],
            vec![key("a"), key("x")],
            vec![Segment::Index(0)],
            vec![key("missing"), key("x")],
        ];
        for path in paths {
            let (ours, theirs) = both(json, &path);
            assert_eq!(ours, theirs, "path {path:?}");
        }
    }

    #[test]
    fn any_index_stops_at_the_first_match() {
        let json = r#"{"items":[{"cidr":"10.0.0.0/8"},{"cidr":"0.0.0.0/0"},{"cidr":"0.0.0.0/0"}]}"#;
        let mut seen = 0;
        let path = [key("items"), Segment::AnyIndex, key("cidr")];
        let found = any_at(json, &path, &mut |s| {
            seen += 1;
            *s == Scalar::String("0.0.0.0/0".into())
        });
        assert!(found);
        assert_eq!(seen, 2);
    }

    #[test]
    fn strings_without_escapes_stay_borrowed() {
        assert!(matches!(
            scalar(r#""plain""#),
            Scalar::String(Cow::Borrowed("plain"))
        ));
        assert!(matches!(scalar(r#""a\nb""#), Scalar::String(Cow::Owned(s)) if s == "a\nb"));
    }

    #[test]
    fn key_filter_only_rules_out_what_cannot_be_there() {
        let json = r#"{"eventName":"X","requestParameters":{"a/b":1}}"#;
        assert!(may_hold_path(json, &[key("eventName")]));
        assert!(!may_hold_path(json, &[key("errorCode")]));
        assert!(!may_hold_path(
            json,
            &[key("requestParameters"), key("nope")]
        ));
        // A `/` may be written as `\/`, so such keys are never ruled out.
        assert!(may_hold_path(json, &[key("requestParameters"), key("x/y")]));
        // Any `\u` escape could spell the key.
        assert!(may_hold_path(
            r#"{"error\u0043ode":"X"}"#,
            &[key("errorCode")]
        ));
    }

    #[test]
    fn a_key_counts_only_between_quotes() {
        let json = r#"{"typeName":"x","a":"type","subtype":1,"":2}"#;
        assert!(may_hold_key(json, "typeName"));
        assert!(may_hold_key(json, "a"));
        // As a value between quotes it may be a key elsewhere: kept.
        assert!(may_hold_key(json, "type"));
        assert!(!may_hold_key(json, "Name"));
        assert!(!may_hold_key(json, "sub"));
        assert!(may_hold_key(json, ""));
        assert!(!may_hold_key(r#"{"a":1}"#, ""));
        assert!(!may_hold_key("type\"", "type"));
    }
}
