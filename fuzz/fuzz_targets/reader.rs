//! Feeds arbitrary bytes to the record reader, as a log file (gzip or
//! plain; `{"Records":[...]}`, a bare array or JSON lines: the reader
//! detects which).
//!
//! The first byte sets how many bytes each read hands out, so window and
//! gzip boundaries fall everywhere; a small record limit exercises the
//! oversized-record path. Checks that nothing panics and that:
//! - nothing follows a fatal error;
//! - every record is a JSON object its `Document` view can walk;
//! - the outcome does not depend on how the input arrives (a few bytes at
//!   a time or all at once), except that damaged gzip may be noticed
//!   sooner or later: the decoder hands out what it inflated before a
//!   read that fails, and a bad checksum fails the read holding it;
//! - an error's byte offset lies inside the text read;
//! - records read from a prefix of the input are never lost or changed:
//!   they are the first records of the whole input (unless that is
//!   damaged gzip).
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailguard_engine::{Document, ReadError, RecordReader, Segment};

/// Small enough that seeds reach the oversized-record path.
const MAX_RECORD_BYTES: usize = 1 << 12;

/// Hands out at most `step` bytes per read.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        buf[..n].copy_from_slice(head);
        self.bytes = rest;
        Ok(n)
    }
}

/// What one read of a file gave, comparable across reads.
#[derive(Debug, PartialEq)]
enum Item {
    Record(Value),
    /// A skipped record, by kind.
    Skipped(&'static str),
    /// A fatal error, by kind and offset where it names one. Gzip errors
    /// name the compressed bytes read, which depends on the read sizes, so
    /// only their kind is compared.
    Fatal(&'static str, Option<u64>),
}

fn kind(error: &ReadError) -> (&'static str, Option<u64>) {
    match error {
        ReadError::Empty { .. } => ("empty", None),
        ReadError::NotJson { .. } => ("not-json", None),
        ReadError::TruncatedGzip { .. } => ("truncated-gzip", None),
        ReadError::CorruptGzip { .. } => ("corrupt-gzip", None),
        ReadError::InvalidJson { offset, .. } => ("invalid-json", Some(*offset)),
        ReadError::NoRecordsArray { .. } => ("no-records", None),
        ReadError::TooLarge { offset, .. } => ("too-large", Some(*offset)),
        ReadError::TooManyBytes { .. } => ("too-many-bytes", None),
        ReadError::TooManyRecords { .. } => ("too-many-records", None),
        ReadError::Deadline { .. } => ("deadline", None),
        ReadError::NotAnObject { .. } => ("not-an-object", None),
        ReadError::InvalidRecord { .. } => ("invalid-record", None),
        ReadError::Io { .. } => ("io", None),
    }
}

/// Reads `bytes` to the end, `step` bytes per read, checking each record.
fn read_all(bytes: &[u8], step: usize) -> Vec<Item> {
    let input = Trickle { bytes, step };
    let mut reader = match RecordReader::with_max_record_bytes(input, "fuzz", MAX_RECORD_BYTES) {
        Ok(reader) => reader,
        Err(error) => {
            assert!(error.is_fatal(), "opening failed with a non-fatal error");
            let (kind, offset) = kind(&error);
            return vec![Item::Fatal(kind, offset)];
        }
    };
    let paths = [
        vec![Segment::Key("eventName".into())],
        vec![
            Segment::Key("userIdentity".into()),
            Segment::Key("type".into()),
        ],
        vec![
            Segment::Key("requestParameters".into()),
            Segment::AnyIndex,
            Segment::Index(1),
        ],
    ];
    let mut items = Vec::new();
    let mut fatal = false;
    while let Some(item) = reader.next_record() {
        assert!(!fatal, "a record after a fatal error");
        match item {
            Ok(record) => {
                let value = record.to_value();
                assert!(value.is_object(), "a record that is not an object");
                for path in &paths {
                    assert_eq!(record.exists(path), value.exists(path));
                }
                let _ = record.event_time_epoch();
                items.push(Item::Record(value));
            }
            Err(error) => {
                fatal = error.is_fatal();
                let (kind, offset) = kind(&error);
                items.push(if fatal {
                    Item::Fatal(kind, offset)
                } else {
                    Item::Skipped(kind)
                });
            }
        }
    }
    let stats = reader.stats();
    if let Some(Item::Fatal(kind, Some(offset))) = items.last() {
        // An offset names a byte of the text read, or its end.
        assert!(
            *offset <= stats.uncompressed_bytes,
            "{kind} at {offset}, past the {} bytes read",
            stats.uncompressed_bytes
        );
    }
    items
}

fn records(items: &[Item]) -> impl Iterator<Item = &Value> {
    items.iter().filter_map(|item| match item {
        Item::Record(value) => Some(value),
        _ => None,
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let step = usize::from(first).max(1);
    let trickled = read_all(bytes, step);
    let whole = read_all(bytes, usize::MAX);
    let damaged_gzip = [&trickled, &whole].iter().any(|items| {
        matches!(
            items.last(),
            Some(Item::Fatal("corrupt-gzip" | "truncated-gzip", _))
        )
    });
    if damaged_gzip {
        // Then one read's records are the first records of the other's.
        let (fewer, more) = if records(&trickled).count() <= records(&whole).count() {
            (&trickled, &whole)
        } else {
            (&whole, &trickled)
        };
        assert!(
            records(fewer).zip(records(more)).all(|(a, b)| a == b),
            "damaged gzip read differently"
        );
    } else {
        assert_eq!(trickled, whole, "the outcome depends on the read size");
    }

    // A prefix cut where the first byte says: whatever it reads are the
    // first records of the whole (of an undamaged whole: damaged gzip read
    // in one go fails before handing out what it inflated).
    if damaged_gzip {
        return;
    }
    let cut = bytes.len() * usize::from(first) / 256;
    let Some(prefix) = bytes.get(..cut) else {
        return;
    };
    let partial = read_all(prefix, usize::MAX);
    let mut full = records(&whole);
    for (i, record) in records(&partial).enumerate() {
        assert_eq!(
            Some(record),
            full.next(),
            "record {i} of the first {cut} bytes differs from the whole input's"
        );
    }
});
