//! Bounds on the work one object may cost: its bytes and records, and the
//! time left to read it.
//!
//! A log file is written by whoever can write to the bucket, so its size is
//! not trusted: a 1.5 MB gzip of `{},` holds 2 GB and 268 million empty
//! records. The defaults are far above anything CloudTrail delivers (its
//! files hold minutes of one account's events) and still stop such a file
//! early; the deadline is what a Lambda function sets to finish in time.

use std::time::Instant;

/// [`ReadLimits::max_record_bytes`] by default.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// [`ReadLimits::max_uncompressed_bytes`] by default: 4 GiB.
pub const DEFAULT_MAX_UNCOMPRESSED_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// [`ReadLimits::max_records`] by default.
pub const DEFAULT_MAX_RECORDS: u64 = 10_000_000;

/// What one [`RecordReader`](super::RecordReader) accepts before it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// Largest record (or other top-level value), in bytes; the window grows
    /// to about this size only while such a value is read. Blanks between
    /// values are not part of any value and never count here.
    pub max_record_bytes: usize,
    /// Most uncompressed bytes read from one object.
    pub max_uncompressed_bytes: u64,
    /// Most elements (records, rejected ones included) read from one object.
    pub max_records: u64,
    /// When to stop reading, wherever the reader is; `None` reads to the end.
    pub deadline: Option<Instant>,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_uncompressed_bytes: DEFAULT_MAX_UNCOMPRESSED_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            deadline: None,
        }
    }
}

impl ReadLimits {
    /// The same limits with `deadline`.
    pub fn until(self, deadline: Option<Instant>) -> ReadLimits {
        ReadLimits { deadline, ..self }
    }
}
