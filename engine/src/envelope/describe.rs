//! Short descriptions of unrecognised payloads for error messages.
//!
//! A payload can be megabytes; errors name its shape (top-level keys, a few
//! characters) and never embed it.

use serde_json::Value;

/// At most this many top-level keys are named.
const MAX_KEYS: usize = 8;
/// Each named key, and each text excerpt, is cut to this many characters.
const MAX_CHARS: usize = 40;

/// Describes a JSON value by its shape.
pub(super) fn value(value: &Value) -> String {
    match value {
        Value::Object(fields) if fields.is_empty() => "an empty JSON object".to_owned(),
        Value::Object(fields) => {
            // Sorted so the text does not depend on serde_json's map ordering.
            let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
            keys.sort_unstable();
            let named: Vec<String> = keys
                .iter()
                .take(MAX_KEYS)
                .map(|k| format!("{:?}", cut(k)))
                .collect();
            let more = keys.len().saturating_sub(MAX_KEYS);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("a JSON object with keys {}{more}", named.join(", "))
        }
        Value::Array(items) => format!("a JSON array of {} element(s)", items.len()),
        Value::String(text) => format!("a JSON string {:?}", cut(text)),
        Value::Number(n) => format!("the number {n}"),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Null => "null".to_owned(),
    }
}

/// Describes a `Records` array whose event source is not supported where it was found.
pub(super) fn records(count: usize, source: Option<&str>) -> String {
    match source {
        Some(source) => {
            format!("a Records array of {count} record(s) from event source {source:?}")
        }
        None if count == 0 => "an empty Records array".to_owned(),
        None => format!("a Records array of {count} record(s) with mixed or missing event sources"),
    }
}

/// The first characters of a text field.
pub(super) fn excerpt(text: &str) -> String {
    cut(text)
}

/// Cuts `text` to [`MAX_CHARS`] characters, marking the cut.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => format!("{}…", text.get(..end).unwrap_or_default()),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_sorted_keys_up_to_a_limit() {
        let v =
            json!({"k": 1, "j": 1, "i": 1, "h": 1, "g": 1, "f": 1, "e": 1, "d": 1, "c": 1, "b": 1});
        assert_eq!(
            value(&v),
            "a JSON object with keys \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\" and 2 more"
        );
    }

    #[test]
    fn cuts_long_text_on_character_boundaries() {
        let long = "é".repeat(100);
        let described = value(&Value::String(long));
        assert_eq!(
            described,
            format!("a JSON string \"{}…\"", "é".repeat(MAX_CHARS))
        );
        assert_eq!(excerpt("short"), "short");
    }

    #[test]
    fn describes_scalars_and_arrays() {
        assert_eq!(value(&json!([1, 2, 3])), "a JSON array of 3 element(s)");
        assert_eq!(value(&json!(42)), "the number 42");
        assert_eq!(value(&json!(true)), "the boolean true");
        assert_eq!(value(&Value::Null), "null");
        assert_eq!(value(&json!({})), "an empty JSON object");
    }

    #[test]
    fn describes_records_arrays() {
        assert_eq!(records(0, None), "an empty Records array");
        assert_eq!(
            records(3, Some("aws:dynamodb")),
            "a Records array of 3 record(s) from event source \"aws:dynamodb\""
        );
    }
}
