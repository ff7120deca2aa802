//! Recognising a log file from its first bytes: gzip or not, and which JSON layout.
//!
//! These are pure functions over the bytes seen so far, so the reader can
//! call them again with more bytes when they cannot decide yet.

use std::borrow::Cow;
use std::fmt;

use serde::de::IgnoredAny;

use super::error::JsonFault;
use crate::record::raw_json::Text;

/// How a log file's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// gzip, possibly several members back to back (as CloudTrail writes).
    Gzip,
    /// Not compressed.
    Plain,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::Gzip => "gzip-decompressed",
            Compression::Plain => "uncompressed",
        })
    }
}

/// How records are laid out in the (uncompressed) text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{"Records": [...]}`, as CloudTrail delivers to S3. Other top-level
    /// members are skipped, before or after `Records`.
    Wrapped,
    /// A bare JSON array of records.
    Array,
    /// One record object per line (JSON lines); blank lines are allowed.
    Lines,
}

/// The compression of a stream, from its first bytes (two are enough).
pub fn detect_compression(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else {
        Compression::Plain
    }
}

/// What the start of the text shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    /// The layout, and the offset where its records begin: just inside the
    /// array for [`Layout::Wrapped`] and [`Layout::Array`], at the first
    /// object for [`Layout::Lines`].
    Found { layout: Layout, body: usize },
    /// The bytes seen so far cannot decide.
    NeedMore,
    /// No bytes at all (but blanks).
    Empty,
    /// The first byte cannot start a JSON object or array.
    NotJson,
    /// A top-level object that is neither an envelope nor a record.
    NoRecords,
    /// Broken JSON before the layout was known.
    Invalid(JsonFault),
}

/// Keys every CloudTrail event has; a top-level object with one of them and
/// no `Records` is the first line of a JSON-lines file.
const EVENT_KEYS: [&str; 4] = ["eventVersion", "eventTime", "eventName", "eventID"];

/// Decides the layout from the start of the text. `at_eof` says whether
/// `head` is the whole text.
///
/// An object at the top level is walked member by member: a `Records` key
/// makes it an envelope (wherever it is); otherwise an object holding an
/// event key (`eventVersion`, `eventTime`, ...) is the first record of a
/// JSON-lines file, and any other object is not a log file.
pub(crate) fn probe(head: &[u8], at_eof: bool) -> Probe {
    let mut scan = Scan::new(head);
    scan.skip_bom();
    match scan.peek() {
        Err(Stop::NeedMore) if at_eof => Probe::Empty,
        Err(stop) => stop.into_probe(at_eof, head.len()),
        Ok(b'[') => Probe::Found {
            layout: Layout::Array,
            body: scan.pos + 1,
        },
        Ok(b'{') => {
            let start = scan.pos;
            match walk_envelope(&mut scan) {
                Ok(Envelope::Records { body }) => Probe::Found {
                    layout: Layout::Wrapped,
                    body,
                },
                Ok(Envelope::Event) => Probe::Found {
                    layout: Layout::Lines,
                    body: start,
                },
                Ok(Envelope::Other) => Probe::NoRecords,
                Err(stop) => stop.into_probe(at_eof, head.len()),
            }
        }
        Ok(_) => Probe::NotJson,
    }
}

/// How the end of the text, after the record array's `]`, checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tail {
    /// Well formed to the end.
    Done,
    /// More bytes are needed to tell.
    NeedMore,
    /// Broken JSON or trailing data.
    Invalid(JsonFault),
}

/// Checks the text after the record array: for an envelope, its remaining
/// members and closing `}`; then nothing but blanks to the end.
pub(crate) fn tail(rest: &[u8], at_eof: bool, in_envelope: bool) -> Tail {
    let mut scan = Scan::new(rest);
    let closed = if in_envelope {
        finish_object(&mut scan)
    } else {
        Ok(())
    };
    let ended = closed.and_then(|()| match scan.peek() {
        Err(Stop::NeedMore) => Ok(()),
        Err(stop) => Err(stop),
        Ok(_) => Err(Stop::Invalid(JsonFault::new(
            scan.pos,
            "trailing characters after the document",
        ))),
    });
    match ended {
        Err(Stop::Invalid(fault)) => Tail::Invalid(fault),
        // Only the end of the input proves nothing follows.
        _ if !at_eof => Tail::NeedMore,
        Ok(()) => Tail::Done,
        Err(Stop::NeedMore) => {
            Tail::Invalid(JsonFault::new(rest.len(), "EOF while parsing an object"))
        }
    }
}

enum Envelope {
    /// A `Records` array starts at `body`.
    Records { body: usize },
    /// The object is itself an event.
    Event,
    /// Some other object.
    Other,
}

/// Walks a top-level object's members until `Records` or its end.
fn walk_envelope(scan: &mut Scan<'_>) -> Result<Envelope, Stop> {
    scan.expect(b'{', "expected `{`")?;
    let mut event = false;
    if scan.peek()? == b'}' {
        return Ok(Envelope::Other);
    }
    loop {
        let key = scan.key()?;
        if key == "Records" {
            return match scan.peek()? {
                b'[' => Ok(Envelope::Records { body: scan.pos + 1 }),
                _ => Ok(Envelope::Other),
            };
        }
        event |= EVENT_KEYS.contains(&key.as_ref());
        scan.skip_value()?;
        match scan.peek()? {
            b',' => scan.pos += 1,
            b'}' => {
                return Ok(if event {
                    Envelope::Event
                } else {
                    Envelope::Other
                });
            }
            _ => return Err(scan.invalid("expected `,` or `}` after an object member")),
        }
    }
}

/// Reads an object's remaining members and its `}`, from just after a value.
fn finish_object(scan: &mut Scan<'_>) -> Result<(), Stop> {
    loop {
        match scan.peek()? {
            b'}' => {
                scan.pos += 1;
                return Ok(());
            }
            b',' => {
                scan.pos += 1;
                scan.key()?;
                scan.skip_value()?;
            }
            _ => return Err(scan.invalid("expected `,` or `}` after the Records array")),
        }
    }
}

/// Why a walk stopped early.
enum Stop {
    NeedMore,
    Invalid(JsonFault),
}

impl Stop {
    fn into_probe(self, at_eof: bool, len: usize) -> Probe {
        match self {
            Stop::NeedMore if at_eof => {
                Probe::Invalid(JsonFault::new(len, "EOF while parsing an object"))
            }
            Stop::NeedMore => Probe::NeedMore,
            Stop::Invalid(fault) => Probe::Invalid(fault),
        }
    }
}

/// A cursor over JSON tokens in a byte slice.
struct Scan<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl<'b> Scan<'b> {
    fn new(bytes: &'b [u8]) -> Self {
        Scan { bytes, pos: 0 }
    }

    /// Skips a UTF-8 byte-order mark, which some editors write and JSON parsers refuse.
    fn skip_bom(&mut self) {
        self.pos = bom_len(self.bytes);
    }

    /// The next byte after blanks, without consuming it.
    fn peek(&mut self) -> Result<u8, Stop> {
        self.pos = skip_blanks(self.bytes, self.pos);
        self.bytes.get(self.pos).copied().ok_or(Stop::NeedMore)
    }

    fn expect(&mut self, byte: u8, reason: &str) -> Result<(), Stop> {
        if self.peek()? != byte {
            return Err(self.invalid(reason));
        }
        self.pos += 1;
        Ok(())
    }

    fn invalid(&self, reason: &str) -> Stop {
        Stop::Invalid(JsonFault::new(self.pos, reason))
    }

    /// An object key and the `:` after it.
    fn key(&mut self) -> Result<Cow<'b, str>, Stop> {
        if self.peek()? != b'"' {
            return Err(self.invalid("expected an object key"));
        }
        let key = self.parse::<Text<'b>>()?.0;
        self.expect(b':', "expected `:` after an object key")?;
        Ok(key)
    }

    fn skip_value(&mut self) -> Result<(), Stop> {
        self.peek()?;
        self.parse::<IgnoredAny>().map(drop)
    }

    fn parse<T: serde::Deserialize<'b>>(&mut self) -> Result<T, Stop> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
        match stream.next() {
            Some(Ok(value)) => {
                self.pos += stream.byte_offset();
                Ok(value)
            }
            Some(Err(error)) if error.is_eof() => Err(Stop::NeedMore),
            Some(Err(error)) => {
                let fault = JsonFault::from_serde(rest, &error);
                Err(Stop::Invalid(JsonFault::new(
                    self.pos + fault.at,
                    &fault.reason,
                )))
            }
            None => Err(Stop::NeedMore),
        }
    }
}

/// The length of the UTF-8 byte-order mark `bytes` start with (0 or 3).
pub(crate) fn bom_len(bytes: &[u8]) -> usize {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    }
}

/// The offset of the first non-blank byte at or after `from`.
pub(crate) fn skip_blanks(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    from + rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .unwrap_or(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_is_told_by_the_gzip_magic() {
        let cases: [(&[u8], Compression); 5] = [
            (&[0x1f, 0x8b, 0x08, 0x00], Compression::Gzip),
            (&[0x1f, 0x8b], Compression::Gzip),
            (&[0x1f], Compression::Plain),
            (b"{\"Records\":[]}", Compression::Plain),
            (b"", Compression::Plain),
        ];
        for (head, expected) in cases {
            assert_eq!(detect_compression(head), expected, "{head:?}");
        }
    }

    fn found(layout: Layout, body: usize) -> Probe {
        Probe::Found { layout, body }
    }

    #[test]
    fn layouts_are_told_by_their_start() {
        let cases: Vec<(&str, bool, Probe)> = vec![
            (r#"{"Records":[{"a":1}]}"#, true, found(Layout::Wrapped, 12)),
            (r#"  {"Records" : [ "#, false, found(Layout::Wrapped, 16)),
            (
                r#"{"version":"1.0","Records":["#,
                false,
                found(Layout::Wrapped, 28),
            ),
            (r#"{"Rec\u006frds":["#, false, found(Layout::Wrapped, 17)),
            (
                r#"{"big":{"nested":[1,2,{"Records":[]}]},"Records":[]}"#,
                true,
                found(Layout::Wrapped, 50),
            ),
            ("\u{feff}[{}]", true, found(Layout::Array, 4)),
            ("\n [", false, found(Layout::Array, 3)),
            (
                "{\"eventVersion\":\"1.08\",\"eventName\":\"X\"}\n{",
                false,
                found(Layout::Lines, 0),
            ),
            (
                "  {\"eventTime\":\"2023-07-10T11:45:02Z\"}",
                true,
                found(Layout::Lines, 2),
            ),
            (
                r#"{"awsAccountId":"1","logFiles":[]}"#,
                true,
                Probe::NoRecords,
            ),
            (r#"{"Records":null}"#, true, Probe::NoRecords),
            ("{}", true, Probe::NoRecords),
            (r#"{"Records""#, false, Probe::NeedMore),
            (r#"{"version":"1."#, false, Probe::NeedMore),
            (r#"{"version":12"#, false, Probe::NeedMore),
            ("", true, Probe::Empty),
            (" \n\t", true, Probe::Empty),
            ("", false, Probe::NeedMore),
            ("PK\x03\x04", true, Probe::NotJson),
            ("<html>", false, Probe::NotJson),
        ];
        for (head, at_eof, expected) in cases {
            assert_eq!(probe(head.as_bytes(), at_eof), expected, "{head:?}");
        }
    }

    #[test]
    fn broken_starts_are_located() {
        let Probe::Invalid(fault) = probe(br#"{"a" 1}"#, true) else {
            panic!("a missing colon must be invalid");
        };
        assert_eq!(
            (fault.at, fault.reason.as_str()),
            (5, "expected `:` after an object key")
        );
        let Probe::Invalid(fault) = probe(br#"{"version":"1.0""#, true) else {
            panic!("a truncated envelope must be invalid");
        };
        assert_eq!(fault.at, 16);
        let Probe::Invalid(fault) = probe(br#"{"a": tru, "Records": []}"#, false) else {
            panic!("a bad literal must be invalid");
        };
        assert!((6..=9).contains(&fault.at), "{fault:?}");
    }

    #[test]
    fn tails_must_close_the_envelope_and_end() {
        let cases: Vec<(&str, bool, bool, Tail)> = vec![
            ("}", true, true, Tail::Done),
            (" } \n", true, true, Tail::Done),
            (
                r#","version":"1.0", "x": {"y": [1]}}"#,
                true,
                true,
                Tail::Done,
            ),
            (r#","version":"1.0""#, false, true, Tail::NeedMore),
            ("}", false, true, Tail::NeedMore),
            ("", true, false, Tail::Done),
            ("\n\n", true, false, Tail::Done),
            ("", false, false, Tail::NeedMore),
        ];
        for (rest, at_eof, in_envelope, expected) in cases {
            assert_eq!(
                tail(rest.as_bytes(), at_eof, in_envelope),
                expected,
                "{rest:?}"
            );
        }
        let invalid = [
            ("}x", true),
            ("", true),
            (r#","a":1"#, true),
            ("]", true),
            ("x", false),
        ];
        for (rest, in_envelope) in invalid {
            assert!(
                matches!(tail(rest.as_bytes(), true, in_envelope), Tail::Invalid(_)),
                "{rest:?}"
            );
        }
    }
}
