//! Addressing any JSON path of an event, whatever concrete form holds it.
//!
//! Rules (filter patterns, detections) never touch a concrete record type:
//! they ask a [`Document`] for the values at a [`Path`]. A parsed
//! [`crate::Record`] answers from its typed fields first and navigates the
//! original JSON text only for fields it does not model; a
//! `serde_json::Value` answers directly, which keeps rule tests simple.

use std::borrow::Cow;
use std::fmt;

/// One step of a selector such as `$.requestParameters.ipPermissions.items[*].ipRanges`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object member.
    Key(String),
    /// One array element, as `[0]`.
    Index(usize),
    /// Every element of an array, as `[*]`: the path matches when any element does.
    AnyIndex,
}

/// A selector, as a list of steps from the event's root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Path(pub Vec<Segment>);

impl Path {
    /// The steps of this path.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for seg in &self.0 {
            match seg {
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(i) => write!(f, "[{i}]")?,
                Segment::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

/// A value found at a path. Containers are reported by kind only: rules
/// compare scalars, and test containers only for existence.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// JSON `null`.
    Null,
    /// JSON `true` / `false`.
    Bool(bool),
    /// A JSON number, with its text as written (so `"1.0"` and `1` compare as numbers).
    Number(f64),
    /// A JSON string, unescaped.
    String(Cow<'a, str>),
    /// A JSON array (its elements are reachable with `[n]` / `[*]`).
    Array,
    /// A JSON object.
    Object,
}

/// Anything a rule can be evaluated against.
pub trait Document {
    /// Calls `visit` with each value found at `path` until `visit` returns
    /// `true`, and returns whether it did. A missing path visits nothing; a
    /// path through `[*]` visits one value per matching element.
    fn any_at(&self, path: &[Segment], visit: &mut dyn FnMut(&Scalar<'_>) -> bool) -> bool;

    /// Whether anything (including `null`) exists at `path`.
    fn exists(&self, path: &[Segment]) -> bool {
        self.any_at(path, &mut |_| true)
    }
}

impl Document for serde_json::Value {
    fn any_at(&self, path: &[Segment], visit: &mut dyn FnMut(&Scalar<'_>) -> bool) -> bool {
        value_any_at(self, path, visit)
    }
}

fn value_any_at(
    value: &serde_json::Value,
    path: &[Segment],
    visit: &mut dyn FnMut(&Scalar<'_>) -> bool,
) -> bool {
    use serde_json::Value;
    let Some((first, rest)) = path.split_first() else {
        return visit(&scalar_of(value));
    };
    match (first, value) {
        (Segment::Key(k), Value::Object(map)) => map
            .get(k.as_str())
            .is_some_and(|v| value_any_at(v, rest, visit)),
        (Segment::Index(i), Value::Array(items)) => {
            items.get(*i).is_some_and(|v| value_any_at(v, rest, visit))
        }
        (Segment::AnyIndex, Value::Array(items)) => {
            items.iter().any(|v| value_any_at(v, rest, visit))
        }
        _ => false,
    }
}

/// The [`Scalar`] view of a `serde_json::Value`.
pub fn scalar_of(value: &serde_json::Value) -> Scalar<'_> {
    use serde_json::Value;
    match value {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => Scalar::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Scalar::String(Cow::Borrowed(s)),
        Value::Array(_) => Scalar::Array,
        Value::Object(_) => Scalar::Object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn missing_paths_visit_nothing_and_null_exists() {
        let doc = json!({"a": {"b": null}});
        assert!(doc.exists(&[key("a"), key("b")]));
        assert!(!doc.exists(&[key("a"), key("c")]));
        assert!(!doc.exists(&[key("a"), key("b"), key("c")]));
    }

    #[test]
    fn any_index_matches_if_one_element_does() {
        let doc = json!({"items": [{"cidr": "10.0.0.0/8"}, {"cidr": "0.0.0.0/0"}]});
        let path = [key("items"), Segment::AnyIndex, key("cidr")];
        let open = doc.any_at(&path, &mut |v| *v == Scalar::String("0.0.0.0/0".into()));
        assert!(open);
        let first = [key("items"), Segment::Index(0), key("cidr")];
        assert!(!doc.any_at(&first, &mut |v| *v == Scalar::String("0.0.0.0/0".into())));
    }

    #[test]
    fn path_displays_as_a_selector() {
        let p = Path(vec![
            key("a"),
            Segment::Index(0),
            Segment::AnyIndex,
            key("b"),
        ]);
        assert_eq!(p.to_string(), "$.a[0][*].b");
    }
}
