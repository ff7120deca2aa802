//! Feeds arbitrary bytes to the record reader, as a log file.
//!
//! Run with `cargo +nightly fuzz run reader` from `fuzz/`. The first byte
//! sets how many bytes each read hands out, so window and gzip boundaries
//! fall everywhere; a small record limit exercises the oversized-record path.
//! Checks that nothing panics, that nothing follows a fatal error, and that
//! every record is a JSON object its `Document` view can walk.
#![no_main]

use std::io::{self, Read};

use libfuzzer_sys::fuzz_target;
use trailguard_engine::{Document, RecordReader, Segment};

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

fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else {
        return;
    };
    let step = if first == 0 {
        usize::MAX
    } else {
        usize::from(first)
    };
    let input = Trickle { bytes, step };
    let Ok(mut reader) = RecordReader::with_max_record_bytes(input, "fuzz", 1 << 20) else {
        return;
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
            }
            Err(error) => fatal = error.is_fatal(),
        }
    }
});
