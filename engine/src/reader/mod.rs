//! Streaming the records of one CloudTrail log file, in bounded memory.
//!
//! [`RecordReader`] takes any [`Read`] (a file, an S3 body through
//! [`blocking_reader`]), detects gzip by its magic bytes and the layout
//! (`{"Records":[...]}`, a bare array, or JSON lines) from the first
//! bytes, and hands out one [`Record`] at a time, parsed in place.
//!
//! ```
//! use trailguard_engine::RecordReader;
//!
//! let log = br#"{"Records":[{"eventName":"ConsoleLogin"},{"eventName":"CreateUser"}]}"#;
//! let mut reader = RecordReader::new(&log[..], "example.json")?;
//! let mut names = Vec::new();
//! while let Some(record) = reader.next_record() {
//!     names.push(record?.event_name.unwrap_or_default().into_owned());
//! }
//! assert_eq!(names, ["ConsoleLogin", "CreateUser"]);
//! # Ok::<(), trailguard_engine::ReadError>(())
//! ```
//!
//! A record that is not an object, whose typed fields have the wrong type
//! or hold invalid UTF-8 or a lone surrogate escape, or that repeats a
//! member, comes back as a non-fatal error and the next records still come;
//! anything that breaks the file (bad gzip, invalid JSON, truncation) is
//! fatal and ends it.
//!
//! # Memory
//!
//! Records borrow from a 256 KiB window of decompressed text, refilled
//! whenever less than 64 KiB is left ahead, so a record up to 64 KiB is
//! always whole when parsed. A larger record is copied out with the rest of
//! the window and read on into that copy, which is freed once the record
//! has been handed out. Memory therefore stays near the window's size
//! whatever the file's size, and grows only while an oversized record (up
//! to [`ReadLimits::max_record_bytes`]) is being read. Blanks between
//! values are dropped as they come, so no amount of them grows it.
//!
//! # Limits
//!
//! [`ReadLimits`] bounds one object: its record size, uncompressed bytes,
//! records, and a deadline. Passing any of them ends the file with a fatal
//! error that says which; [`ReadError::is_retryable`] tells a deadline (try
//! again) from a file that will never read (poison).

mod async_body;
mod compression;
mod detect;
mod element;
mod error;
mod limits;
mod window;

use std::io::Read;
use std::sync::Arc;

pub use async_body::blocking_reader;
pub use detect::{Compression, Layout, detect_compression};
pub use error::ReadError;
pub use limits::{
    DEFAULT_MAX_RECORD_BYTES, DEFAULT_MAX_RECORDS, DEFAULT_MAX_UNCOMPRESSED_BYTES, ReadLimits,
};

use compression::{Failure, Input};
use detect::{Probe, Tail, skip_blanks};
use element::{Element, Measure};
use error::{JsonFault, show_head};
use window::Window;

use crate::record::Record;

/// The window's steady-state size.
const WINDOW_BYTES: usize = 256 * 1024;

/// Bytes kept ahead of the next record: records up to this size are always
/// whole in the window when parsed. Larger ones are gathered separately.
const LOOKAHEAD_BYTES: usize = 64 * 1024;

/// Counts for one file, so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Records handed out.
    pub records: u64,
    /// Records skipped with a non-fatal error.
    pub rejected: u64,
    /// Bytes read from the object (compressed size, for gzip).
    pub compressed_bytes: u64,
    /// Bytes of JSON text after decompression.
    pub uncompressed_bytes: u64,
}

/// Where the reader is in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Inside the record array.
    Array { in_envelope: bool, expect: Expect },
    /// Between JSON-lines records.
    Lines,
    /// After the last record or a fatal error: `None` from now on.
    Ended,
}

/// What may come next inside the record array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Just after `[`: a record or `]`.
    FirstOrEnd,
    /// After a record: `,` or `]`.
    CommaOrEnd,
    /// After `,`: a record.
    Record,
}

/// Reads the records of one log file, one at a time.
///
/// Records borrow from the reader, so each must be dropped before asking
/// for the next (`while let Some(record) = reader.next_record()`).
pub struct RecordReader<R: Read> {
    object: Arc<str>,
    input: Input<R>,
    compression: Compression,
    layout: Layout,
    window: Window,
    /// A record larger than the lookahead, and what followed it, read past the window.
    spill: Vec<u8>,
    /// The uncompressed offset of `spill[0]`.
    spill_offset: u64,
    /// Window bytes used by the last element handed out, released on the next call.
    pending: usize,
    /// Spill bytes used by the last element handed out; the rest goes back to the window.
    spill_used: Option<usize>,
    state: State,
    /// The position of the next element in the file, from 0.
    index: u64,
    records: u64,
    rejected: u64,
    max_record_bytes: usize,
    max_records: u64,
}

impl<R: Read> RecordReader<R> {
    /// Opens a log file. `object` names it in every error (an
    /// `s3://bucket/key` or a path).
    ///
    /// Reads the first bytes to detect gzip and the layout, so an object
    /// that is not a log file fails here.
    pub fn new(input: R, object: impl Into<String>) -> Result<Self, ReadError> {
        Self::with_limits(input, object, ReadLimits::default())
    }

    /// Opens a log file as [`RecordReader::new`] does, accepting records
    /// (and other top-level values) of up to `limit` bytes; a larger one is
    /// a fatal [`ReadError::TooLarge`]. Memory grows to about `limit` only
    /// while such a value is being read.
    pub fn with_max_record_bytes(
        input: R,
        object: impl Into<String>,
        limit: usize,
    ) -> Result<Self, ReadError> {
        let limits = ReadLimits {
            max_record_bytes: limit,
            ..ReadLimits::default()
        };
        Self::with_limits(input, object, limits)
    }

    /// Opens a log file as [`RecordReader::new`] does, within `limits`.
    pub fn with_limits(
        input: R,
        object: impl Into<String>,
        limits: ReadLimits,
    ) -> Result<Self, ReadError> {
        let object: Arc<str> = object.into().into();
        let (input, compression) =
            Input::open(input).map_err(|failure| fail(&object, failure, None::<&Input<R>>, 0))?;
        let input = input.bounded(limits.max_uncompressed_bytes, limits.deadline);
        let mut reader = RecordReader {
            object,
            input,
            compression,
            layout: Layout::Wrapped,
            window: Window::new(WINDOW_BYTES),
            spill: Vec::new(),
            spill_offset: 0,
            pending: 0,
            spill_used: None,
            state: State::Ended,
            index: 0,
            records: 0,
            rejected: 0,
            max_record_bytes: limits.max_record_bytes,
            max_records: limits.max_records,
        };
        reader.detect_layout()?;
        Ok(reader)
    }

    /// The compression found.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The layout found.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Counts so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats {
            records: self.records,
            rejected: self.rejected,
            compressed_bytes: self.input.compressed_bytes(),
            uncompressed_bytes: self.input.uncompressed_bytes(),
        }
    }

    /// The next record, a non-fatal error for a record that was skipped,
    /// or a fatal error; `None` at the end of the file and after a fatal
    /// error.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, ReadError>> {
        match self.advance() {
            Ok(Some(_)) if self.index >= self.max_records => {
                self.state = State::Ended;
                Some(Err(ReadError::TooManyRecords {
                    object: self.object.clone(),
                    limit: self.max_records,
                }))
            }
            Ok(Some(at)) => Some(self.element(at)),
            Ok(None) => {
                self.state = State::Ended;
                None
            }
            Err(error) => {
                self.state = State::Ended;
                Some(Err(error))
            }
        }
    }

    /// Reads the start of the text until the layout is known, and positions
    /// the window at the first record.
    fn detect_layout(&mut self) -> Result<(), ReadError> {
        let mut started = false;
        loop {
            // Blanks before the document are dropped as they come (after a
            // byte-order mark, which only the very start may hold).
            let data = self.window.data();
            let bom = if started { 0 } else { detect::bom_len(data) };
            let blanks = skip_blanks(data, bom);
            if blanks > bom && blanks == data.len() && !self.input.is_done() {
                self.window.consume(blanks);
                started = true;
                self.more()?;
                continue;
            }
            started |= !data.is_empty();
            match detect::probe(self.window.data(), self.input.is_done()) {
                Probe::Found { layout, body } => {
                    self.layout = layout;
                    self.window.consume(body);
                    self.state = match layout {
                        Layout::Lines => State::Lines,
                        Layout::Wrapped | Layout::Array => State::Array {
                            in_envelope: layout == Layout::Wrapped,
                            expect: Expect::FirstOrEnd,
                        },
                    };
                    return Ok(());
                }
                Probe::NeedMore => self.more()?,
                Probe::Empty => {
                    return Err(ReadError::Empty {
                        object: self.object.clone(),
                    });
                }
                Probe::NotJson => {
                    return Err(ReadError::NotJson {
                        object: self.object.clone(),
                        compression: self.compression,
                        head: show_head(self.window.data()),
                    });
                }
                Probe::NoRecords => {
                    return Err(ReadError::NoRecordsArray {
                        object: self.object.clone(),
                    });
                }
                Probe::Invalid(fault) => return Err(self.invalid_json(fault)),
            }
        }
    }

    /// Releases the last element, then moves past separators to the next
    /// element: its offset in the window, or `None` at the end of the text.
    /// One loop over (state, next byte): the whole grammar between records
    /// reads in one place, which splitting would scatter.
    fn advance(&mut self) -> Result<Option<usize>, ReadError> {
        if self.state == State::Ended {
            return Ok(None);
        }
        self.window.consume(self.pending);
        self.pending = 0;
        if let Some(used) = self.spill_used.take() {
            // The window was emptied into the spill: what follows the
            // oversized record goes back to the window.
            let rest = self.spill.get(used..).unwrap_or_default();
            self.window.load(rest, self.spill_offset + used as u64);
            self.spill = Vec::new();
        }
        loop {
            if self.window.data().len() < LOOKAHEAD_BYTES && self.input.can_read() {
                self.window
                    .refill(&mut self.input)
                    .map_err(|failure| self.fail(failure))?;
            }
            let data = self.window.data();
            let at = skip_blanks(data, 0);
            let next = data.get(at).copied();
            match (self.state, next) {
                (State::Ended, _) => return Ok(None),
                (State::Lines, Some(_)) => return Ok(Some(at)),
                (State::Lines, None) if self.input.is_done() => return Ok(None),
                (State::Array { .. }, None) if self.input.is_done() => {
                    let fault = JsonFault::new(at, "EOF while parsing the record array");
                    return Err(self.invalid_json(fault));
                }
                (State::Lines | State::Array { .. }, None) => {
                    self.window.consume(at);
                    self.more()?;
                }
                (
                    State::Array {
                        in_envelope,
                        expect,
                    },
                    Some(byte),
                ) => match (expect, byte) {
                    (Expect::FirstOrEnd | Expect::CommaOrEnd, b']') => {
                        self.window.consume(at + 1);
                        self.finish(in_envelope)?;
                        return Ok(None);
                    }
                    (Expect::CommaOrEnd, b',') => {
                        self.window.consume(at + 1);
                        self.state = State::Array {
                            in_envelope,
                            expect: Expect::Record,
                        };
                    }
                    (Expect::CommaOrEnd, _) => {
                        let fault = JsonFault::new(at, "expected `,` or `]` after a record");
                        return Err(self.invalid_json(fault));
                    }
                    (Expect::FirstOrEnd | Expect::Record, _) => {
                        self.state = State::Array {
                            in_envelope,
                            expect: Expect::CommaOrEnd,
                        };
                        return Ok(Some(at));
                    }
                },
            }
        }
    }

    /// Checks the text after the record array's `]` through to its end.
    fn finish(&mut self, mut in_envelope: bool) -> Result<(), ReadError> {
        loop {
            // Blanks are dropped as they come, and so is the envelope's
            // closing brace, so blanks after the document never pile up.
            let at = skip_blanks(self.window.data(), 0);
            self.window.consume(at);
            if in_envelope && self.window.data().first() == Some(&b'}') {
                self.window.consume(1);
                in_envelope = false;
                continue;
            }
            match detect::tail(self.window.data(), self.input.is_done(), in_envelope) {
                Tail::Done => return Ok(()),
                Tail::NeedMore => self.more()?,
                Tail::Invalid(fault) => return Err(self.invalid_json(fault)),
            }
        }
    }

    /// Parses the element at `at` in the window and hands it out.
    ///
    /// The record returned borrows the window (or the spill), so from the
    /// first parse on, only other fields may change here.
    fn element(&mut self, at: usize) -> Result<Record<'_>, ReadError> {
        let index = self.index;
        self.index += 1;
        let complete = self.input.is_done();
        let offset = self.window.offset() + at as u64;
        let data = self.window.data();
        let bytes = data.get(at..).unwrap_or_default();
        let mut parsed = element::parse(bytes, complete);
        if matches!(parsed, Element::Incomplete(_)) && !complete {
            // Larger than the lookahead: copy it out with the rest of the
            // window, and read on into that copy.
            self.pending = data.len();
            self.spill_offset = offset;
            self.spill.clear();
            self.spill.extend_from_slice(bytes);
            if let Err(stop) = gather(&mut self.spill, &mut self.input, self.max_record_bytes) {
                self.state = State::Ended;
                return Err(match stop {
                    Gather::TooLarge => ReadError::TooLarge {
                        object: self.object.clone(),
                        offset,
                        limit: self.max_record_bytes,
                    },
                    Gather::Failed(failure) => {
                        fail(&self.object, failure, Some(&self.input), index)
                    }
                });
            }
            parsed = element::parse(&self.spill, self.input.is_done());
            self.spill_used = Some(parsed.len());
        } else {
            self.pending = at + parsed.len();
        }
        let result = outcome(parsed, &self.object, index, offset);
        match &result {
            Ok(_) => self.records += 1,
            Err(error) if error.is_fatal() => self.state = State::Ended,
            Err(_) => self.rejected += 1,
        }
        result
    }

    /// Makes room for more text (growing a full window up to the record
    /// limit) and reads it.
    fn more(&mut self) -> Result<(), ReadError> {
        if self.window.is_full() && !self.window.grow(self.max_record_bytes) {
            return Err(ReadError::TooLarge {
                object: self.object.clone(),
                offset: self.window.offset(),
                limit: self.max_record_bytes,
            });
        }
        self.window
            .refill(&mut self.input)
            .map_err(|failure| self.fail(failure))?;
        Ok(())
    }

    fn fail(&self, failure: Failure) -> ReadError {
        fail(&self.object, failure, Some(&self.input), self.index)
    }

    /// An error for a fault located relative to the window's unconsumed bytes.
    fn invalid_json(&self, fault: JsonFault) -> ReadError {
        ReadError::InvalidJson {
            object: self.object.clone(),
            offset: self.window.offset() + fault.at as u64,
            reason: fault.reason,
        }
    }
}

/// Why gathering an oversized record stopped short.
enum Gather {
    TooLarge,
    Failed(Failure),
}

/// Reads on into `spill` until the value at its start is complete, the
/// input ends, or the value passes `limit` bytes.
fn gather<R: Read>(spill: &mut Vec<u8>, input: &mut Input<R>, limit: usize) -> Result<(), Gather> {
    loop {
        match element::measure(spill) {
            // A value running to the end may be a number that goes on.
            Measure::Complete(len) if len < spill.len() => return Ok(()),
            Measure::Invalid(_) => return Ok(()),
            _ if input.is_done() => return Ok(()),
            _ if spill.len() > limit => return Err(Gather::TooLarge),
            _ => {}
        }
        // Doubling keeps the repeated measuring linear in the record's size.
        let old = spill.len();
        let target = old
            .saturating_mul(2)
            .max(old.saturating_add(WINDOW_BYTES))
            .min(limit.saturating_add(1))
            .max(old + 1);
        spill.resize(target, 0);
        let read = input.fill(spill.get_mut(old..).unwrap_or_default());
        spill.truncate(old + *read.as_ref().unwrap_or(&0));
        read.map_err(Gather::Failed)?;
    }
}

/// What `next_record` returns for a parsed element starting at
/// uncompressed `offset`.
fn outcome<'w>(
    parsed: Element<'w>,
    object: &Arc<str>,
    index: u64,
    offset: u64,
) -> Result<Record<'w>, ReadError> {
    let object = object.clone();
    match parsed {
        Element::Record { record, .. } => Ok(record),
        Element::NotObject { found, .. } => Err(ReadError::NotAnObject {
            object,
            index,
            found,
        }),
        Element::Mismatch { reason, .. } => Err(ReadError::InvalidRecord {
            object,
            index,
            reason,
        }),
        Element::Incomplete(fault) | Element::Invalid(fault) => Err(ReadError::InvalidJson {
            object,
            offset: offset + fault.at as u64,
            reason: fault.reason,
        }),
    }
}

/// The error for an input `failure`, `records` elements into the file
/// (`input` is `None` when it could not be opened).
fn fail<R: Read>(
    object: &Arc<str>,
    failure: Failure,
    input: Option<&Input<R>>,
    records: u64,
) -> ReadError {
    let object = object.clone();
    let compressed_bytes = input.map_or(0, Input::compressed_bytes);
    match failure {
        Failure::Io(error) => ReadError::Io {
            object,
            compressed_bytes,
            error,
        },
        Failure::TruncatedGzip => ReadError::TruncatedGzip {
            object,
            compressed_bytes,
        },
        Failure::CorruptGzip(reason) => ReadError::CorruptGzip {
            object,
            compressed_bytes,
            reason,
        },
        Failure::TooManyBytes(limit) => ReadError::TooManyBytes { object, limit },
        Failure::Deadline => ReadError::Deadline {
            object,
            records,
            uncompressed_bytes: input.map_or(0, Input::uncompressed_bytes),
        },
    }
}
