//! Parsing one element of the record stream from the bytes at hand.
//!
//! The element is parsed straight into a typed [`Record`] that borrows
//! from those bytes; its end comes from the parser's byte offset. If the
//! bytes end first, the caller reads more and tries again.

use serde::de::IgnoredAny;

use super::error::JsonFault;
use crate::record::Record;

/// What the bytes at the start of an element turned out to be.
#[expect(
    clippy::large_enum_variant,
    reason = "a short-lived return value; boxing the record would allocate once per record"
)]
pub(crate) enum Element<'w> {
    /// A record, `len` bytes long.
    Record { record: Record<'w>, len: usize },
    /// A complete JSON value that is not an object.
    NotObject { found: &'static str, len: usize },
    /// A complete object that does not fit the record schema.
    Mismatch { reason: String, len: usize },
    /// The bytes end inside the element (the fault says where and how).
    Incomplete(JsonFault),
    /// Invalid JSON.
    Invalid(JsonFault),
}

impl Element<'_> {
    /// The bytes the element takes up; nothing for one that did not parse.
    pub(crate) fn len(&self) -> usize {
        match self {
            Element::Record { len, .. }
            | Element::NotObject { len, .. }
            | Element::Mismatch { len, .. } => *len,
            Element::Incomplete(_) | Element::Invalid(_) => 0,
        }
    }
}

/// Parses the element at the start of `bytes` (its first byte is not
/// blank). `complete` says whether `bytes` runs to the end of the text.
pub(crate) fn parse(bytes: &[u8], complete: bool) -> Element<'_> {
    if bytes.first() != Some(&b'{') {
        return not_object(bytes, complete);
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Record<'_>>();
    match stream.next() {
        Some(Ok(mut record)) => {
            let len = stream.byte_offset();
            let text = bytes.get(..len).unwrap_or_default();
            // serde checks the strings it decodes, not those it skips.
            match std::str::from_utf8(text) {
                Ok(raw) => {
                    record.set_raw(raw);
                    Element::Record { record, len }
                }
                Err(error) => Element::Mismatch {
                    reason: format!(
                        "invalid UTF-8 at byte {} of the record",
                        error.valid_up_to()
                    ),
                    len,
                },
            }
        }
        Some(Err(error)) if error.is_data() => match measure(bytes) {
            Measure::Complete(len) => Element::Mismatch {
                reason: JsonFault::from_serde(bytes, &error).reason,
                len,
            },
            Measure::Incomplete(fault) => Element::Incomplete(fault),
            Measure::Invalid(fault) => Element::Invalid(fault),
        },
        Some(Err(error)) if error.is_eof() => {
            Element::Incomplete(JsonFault::from_serde(bytes, &error))
        }
        // Invalid UTF-8 or a lone surrogate escape in a string the record
        // decodes is a syntax error to serde, yet the record's extent is
        // still sound (measuring skips strings without decoding them): it
        // is this record's problem only.
        Some(Err(error)) => match measure(bytes) {
            Measure::Complete(len) => Element::Mismatch {
                reason: JsonFault::from_serde(bytes, &error).reason,
                len,
            },
            Measure::Incomplete(fault) => Element::Incomplete(fault),
            Measure::Invalid(_) => Element::Invalid(JsonFault::from_serde(bytes, &error)),
        },
        None => Element::Incomplete(JsonFault::new(bytes.len(), "EOF while parsing a value")),
    }
}

fn not_object(bytes: &[u8], complete: bool) -> Element<'_> {
    let found = match bytes.first() {
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        _ => "a number",
    };
    match measure(bytes) {
        // A number running to the end of the bytes may go on in the next ones.
        Measure::Complete(len) if len == bytes.len() && !complete && found == "a number" => {
            Element::Incomplete(JsonFault::new(len, "EOF while parsing a number"))
        }
        Measure::Complete(len) => Element::NotObject { found, len },
        Measure::Incomplete(fault) => Element::Incomplete(fault),
        Measure::Invalid(fault) => Element::Invalid(fault),
    }
}

/// The length of the JSON value at the start of some bytes.
pub(crate) enum Measure {
    /// The value is complete and this long.
    Complete(usize),
    /// The bytes end inside the value.
    Incomplete(JsonFault),
    /// Invalid JSON.
    Invalid(JsonFault),
}

/// Finds where the value at the start of `bytes` ends, without building it.
pub(crate) fn measure(bytes: &[u8]) -> Measure {
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => Measure::Complete(stream.byte_offset()),
        Some(Err(error)) if error.is_eof() => {
            Measure::Incomplete(JsonFault::from_serde(bytes, &error))
        }
        Some(Err(error)) => Measure::Invalid(JsonFault::from_serde(bytes, &error)),
        None => Measure::Incomplete(JsonFault::new(bytes.len(), "EOF while parsing a value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_ends_where_its_object_does() {
        let bytes = br#"{"eventName":"A","x":[1,{"y":"}"}]} ,{"eventName":"B"}"#;
        let Element::Record { record, len } = parse(bytes, false) else {
            panic!("expected a record");
        };
        assert_eq!(len, 35);
        assert_eq!(record.raw(), r#"{"eventName":"A","x":[1,{"y":"}"}]}"#);
        assert_eq!(record.event_name.as_deref(), Some("A"));
    }

    #[test]
    fn cut_elements_are_incomplete_and_broken_ones_invalid() {
        assert!(matches!(
            parse(br#"{"eventName":"A"#, false),
            Element::Incomplete(_)
        ));
        assert!(matches!(
            parse(br#"{"eventName":"A"}"#, true),
            Element::Record { .. }
        ));
        assert!(matches!(
            parse(br#"{"eventName" "A"}"#, false),
            Element::Invalid(_)
        ));
        assert!(matches!(parse(b"12", false), Element::Incomplete(_)));
        assert!(matches!(parse(b"tr", true), Element::Incomplete(_)));
    }

    #[test]
    fn wrong_types_are_mismatches_of_known_length() {
        let bytes = br#"{"eventName":5,"a":"b"},{}"#;
        let Element::Mismatch { reason, len } = parse(bytes, false) else {
            panic!("expected a mismatch");
        };
        assert_eq!(len, 23);
        assert!(reason.starts_with("invalid type: integer `5`"), "{reason}");
        // Whether the rest of a mismatched record is complete is still checked.
        assert!(matches!(
            parse(br#"{"eventName":5,"a":"#, false),
            Element::Incomplete(_)
        ));
    }

    #[test]
    fn other_values_are_named() {
        let cases: [(&[u8], &str, usize); 5] = [
            (b"[1,2] ,", "an array", 5),
            (br#""s","#, "a string", 3),
            (b"false]", "a boolean", 5),
            (b"null ", "null", 4),
            (b"-1.5e3,", "a number", 6),
        ];
        for (bytes, expected, expected_len) in cases {
            let Element::NotObject { found, len } = parse(bytes, false) else {
                panic!("{bytes:?} should be a complete non-object");
            };
            assert_eq!((found, len), (expected, expected_len));
        }
        assert!(matches!(
            parse(b"7", true),
            Element::NotObject { len: 1, .. }
        ));
    }

    #[test]
    fn bad_text_in_a_typed_member_is_a_mismatch_of_known_length() {
        let cases: [&[u8]; 4] = [
            b"{\"userAgent\":\"aws-cli\xff\"},{}",
            br#"{"userAgent":"\ud800"},{}"#,
            br#"{"userIdentity":{"userName":"\udc00x"}},{}"#,
            br#"{"eventName":"A","eventName":"B"},{}"#,
        ];
        for bytes in cases {
            let Element::Mismatch { len, reason } = parse(bytes, false) else {
                panic!("{} should be a mismatch", bytes.escape_ascii());
            };
            assert_eq!(len, bytes.len() - 3, "{reason}");
        }
        // Broken JSON around bad text is still invalid.
        assert!(matches!(
            parse(b"{\"userAgent\":\"\xff\" \"x\"}", true),
            Element::Invalid(_)
        ));
    }

    #[test]
    fn invalid_utf8_in_a_skipped_member_is_a_mismatch() {
        let bytes = b"{\"unknown\":\"\xff\"}";
        assert!(matches!(
            parse(bytes, true),
            Element::Mismatch { len: 15, .. }
        ));
    }
}
