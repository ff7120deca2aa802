//! What can go wrong reading a log file, each error naming the object.

use std::io;
use std::sync::Arc;

use super::Compression;

/// A failure reading a log file. Every variant names the object (`object`:
/// an `s3://bucket/key` or a path) and says where in it the problem is.
///
/// Errors for one record ([`ReadError::NotAnObject`],
/// [`ReadError::InvalidRecord`]) are not fatal: the reader skips the record
/// and goes on. Any other error ends the file; see [`ReadError::is_fatal`].
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The input holds no bytes (after decompression).
    #[error("{object}: empty; a CloudTrail log file holds at least {{\"Records\":[]}}")]
    Empty {
        /// The object read.
        object: Arc<str>,
    },

    /// The (decompressed) text does not start like JSON.
    #[error(
        "{object}: not a CloudTrail log file: its {compression} content starts with {head}, \
         where JSON (`{{` or `[`) was expected"
    )]
    NotJson {
        /// The object read.
        object: Arc<str>,
        /// Whether the bytes were gzip.
        compression: Compression,
        /// The first bytes, escaped.
        head: String,
    },

    /// The gzip stream stops before its end.
    #[error(
        "{object}: gzip data ends early (after {compressed_bytes} compressed bytes); \
         the object is truncated, or was read while still being written"
    )]
    TruncatedGzip {
        /// The object read.
        object: Arc<str>,
        /// Compressed bytes read when the decoder gave up.
        compressed_bytes: u64,
    },

    /// The gzip stream is damaged (bad header, data or checksum).
    #[error("{object}: corrupt gzip data (after {compressed_bytes} compressed bytes): {reason}")]
    CorruptGzip {
        /// The object read.
        object: Arc<str>,
        /// Compressed bytes read when the decoder gave up.
        compressed_bytes: u64,
        /// The decoder's message.
        reason: String,
    },

    /// The text is not valid JSON.
    #[error("{object}: invalid JSON at uncompressed byte {offset}: {reason}")]
    InvalidJson {
        /// The object read.
        object: Arc<str>,
        /// Where the problem was found, counted in uncompressed bytes from 0.
        offset: u64,
        /// serde_json's description of the problem.
        reason: String,
    },

    /// A JSON object at the top level without a `Records` array, such as a digest file.
    #[error(
        "{object}: no `Records` array at the top level; this JSON is not a CloudTrail \
         log file (digest files and other documents are not read as logs)"
    )]
    NoRecordsArray {
        /// The object read.
        object: Arc<str>,
    },

    /// One record (or other top-level value) is larger than the reader accepts.
    #[error(
        "{object}: the value starting at uncompressed byte {offset} is larger than \
         {limit} bytes; raise the record size limit if it is genuine"
    )]
    TooLarge {
        /// The object read.
        object: Arc<str>,
        /// Where the value starts, in uncompressed bytes.
        offset: u64,
        /// The limit in force.
        limit: usize,
    },

    /// The object holds more uncompressed text than the reader accepts.
    #[error(
        "{object}: more than {limit} uncompressed bytes; not a CloudTrail log file \
         of any usual size (a compression bomb?), so it is not read further"
    )]
    TooManyBytes {
        /// The object read.
        object: Arc<str>,
        /// The limit in force.
        limit: u64,
    },

    /// The object holds more records than the reader accepts.
    #[error(
        "{object}: more than {limit} records; not a CloudTrail log file of any usual \
         size, so it is not read further"
    )]
    TooManyRecords {
        /// The object read.
        object: Arc<str>,
        /// The limit in force.
        limit: u64,
    },

    /// The deadline passed before the object was read to its end.
    #[error(
        "{object}: stopped after {records} records ({uncompressed_bytes} uncompressed \
         bytes) to finish before the function's deadline; the file will be retried"
    )]
    Deadline {
        /// The object read.
        object: Arc<str>,
        /// Records (rejected ones included) read before stopping.
        records: u64,
        /// Uncompressed bytes read before stopping.
        uncompressed_bytes: u64,
    },

    /// A record is not a JSON object (not fatal: the record is skipped).
    #[error("{object}: record {index} is {found}, not an object; skipped")]
    NotAnObject {
        /// The object read.
        object: Arc<str>,
        /// The record's position in the file, from 0.
        index: u64,
        /// What was found instead (`an array`, `a string`, ...).
        found: &'static str,
    },

    /// A record does not fit the CloudTrail schema, such as a string field
    /// holding a number (not fatal: the record is skipped).
    #[error(
        "{object}: record {index} does not fit the CloudTrail record schema: {reason}; skipped"
    )]
    InvalidRecord {
        /// The object read.
        object: Arc<str>,
        /// The record's position in the file, from 0.
        index: u64,
        /// What did not fit.
        reason: String,
    },

    /// Reading the underlying object failed.
    #[error("{object}: read failed after {compressed_bytes} bytes")]
    Io {
        /// The object read.
        object: Arc<str>,
        /// Bytes read from the object before the failure.
        compressed_bytes: u64,
        /// The I/O error.
        #[source]
        error: io::Error,
    },
}

impl ReadError {
    /// Whether the error ends the file. Non-fatal errors concern one record,
    /// and the reader carries on with the next.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            ReadError::NotAnObject { .. } | ReadError::InvalidRecord { .. }
        )
    }

    /// Whether reading the object again may succeed: an I/O failure or a
    /// deadline may not recur; a broken or oversized file stays so (it is
    /// poison, and retrying it only delays its dead-letter queue).
    pub fn is_retryable(&self) -> bool {
        matches!(self, ReadError::Io { .. } | ReadError::Deadline { .. })
    }

    /// The object the error is about.
    pub fn object(&self) -> &str {
        match self {
            ReadError::Empty { object }
            | ReadError::NotJson { object, .. }
            | ReadError::TruncatedGzip { object, .. }
            | ReadError::CorruptGzip { object, .. }
            | ReadError::InvalidJson { object, .. }
            | ReadError::NoRecordsArray { object }
            | ReadError::TooLarge { object, .. }
            | ReadError::TooManyBytes { object, .. }
            | ReadError::TooManyRecords { object, .. }
            | ReadError::Deadline { object, .. }
            | ReadError::NotAnObject { object, .. }
            | ReadError::InvalidRecord { object, .. }
            | ReadError::Io { object, .. } => object,
        }
    }
}

/// A JSON problem found in a slice of the window: where, and serde's reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonFault {
    /// Offset of the problem in the slice that was parsed.
    pub(crate) at: usize,
    /// What is wrong, without serde's line/column suffix.
    pub(crate) reason: String,
}

impl JsonFault {
    /// Locates serde's error (reported as line and column) in `bytes`, the slice it parsed.
    pub(crate) fn from_serde(bytes: &[u8], error: &serde_json::Error) -> Self {
        let line_start = match error.line() {
            0 | 1 => 0,
            line => memchr::memchr_iter(b'\n', bytes)
                .nth(line - 2)
                .map_or(bytes.len(), |newline| newline + 1),
        };
        let at = (line_start + error.column().saturating_sub(1)).min(bytes.len());
        let message = error.to_string();
        let suffix = format!(" at line {} column {}", error.line(), error.column());
        let reason = message.strip_suffix(&suffix).unwrap_or(&message).to_owned();
        JsonFault { at, reason }
    }

    /// A fault described by the reader itself rather than by serde.
    pub(crate) fn new(at: usize, reason: &str) -> Self {
        JsonFault {
            at,
            reason: reason.to_owned(),
        }
    }
}

/// The first bytes of a text, escaped for an error message.
pub(crate) fn show_head(bytes: &[u8]) -> String {
    let head = bytes.get(..16).unwrap_or(bytes);
    format!("\"{}\"", head.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_point_at_the_offending_byte() {
        let text = b"{\"a\": 1,\n \"b\": x}";
        let error = serde_json::from_slice::<serde_json::Value>(text).unwrap_err();
        let fault = JsonFault::from_serde(text, &error);
        assert_eq!(text.get(fault.at), Some(&b'x'));
        assert_eq!(fault.reason, "expected value");
    }

    #[test]
    fn only_per_record_errors_are_not_fatal() {
        let object: Arc<str> = "s3://b/k".into();
        let skipped = ReadError::NotAnObject {
            object: object.clone(),
            index: 3,
            found: "a string",
        };
        assert!(!skipped.is_fatal());
        let fatal = ReadError::NoRecordsArray { object };
        assert!(fatal.is_fatal());
        assert_eq!(fatal.object(), "s3://b/k");
        assert!(
            skipped
                .to_string()
                .starts_with("s3://b/k: record 3 is a string")
        );
    }

    #[test]
    fn heads_are_escaped_and_short() {
        assert_eq!(show_head(b"PK\x03\x04"), r#""PK\x03\x04""#);
        assert_eq!(show_head(&[b'a'; 40]).len(), 18);
    }
}
