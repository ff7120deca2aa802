//! One pass over one log file: read each record once, run the catalogue on
//! it, hand record and matches to the caller. Shared by every function and
//! the CLI so they cannot disagree about what a file contains.

use std::io::Read;

use crate::reader::{ReadError, ReadLimits, RecordReader};
use crate::record::Record;
use crate::rules::{Catalogue, Rule};

/// Which records a pass looks at (the CLI's `--since/--until/--account/
/// --region`); the default takes every record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    /// Only records with `eventTime` at or after this (epoch seconds).
    pub since: Option<i64>,
    /// Only records with `eventTime` before this (epoch seconds).
    pub until: Option<i64>,
    /// Only these accounts (`recipientAccountId`, else `userIdentity.accountId`).
    pub accounts: Vec<String>,
    /// Only these regions (`awsRegion`).
    pub regions: Vec<String>,
}

impl RecordFilter {
    /// Whether the filter lets every record through.
    pub fn is_open(&self) -> bool {
        *self == RecordFilter::default()
    }

    /// Whether `record` passes.
    pub fn accepts(&self, record: &Record<'_>) -> bool {
        if self.is_open() {
            return true;
        }
        let facts = crate::metrics::EventFacts::of(record);
        let time_ok = match (self.since, self.until, facts.event_time) {
            (None, None, _) => true,
            (_, _, None) => false,
            (since, until, Some(t)) => since.is_none_or(|s| t >= s) && until.is_none_or(|u| t < u),
        };
        time_ok
            && (self.accounts.is_empty()
                || facts
                    .account
                    .is_some_and(|a| self.accounts.iter().any(|x| x == a)))
            && (self.regions.is_empty()
                || facts
                    .region
                    .is_some_and(|r| self.regions.iter().any(|x| x == r)))
    }
}

/// How many rejected-record messages a summary keeps (the count is exact).
pub const REJECTION_SAMPLES: usize = 5;

/// What a pass over one file saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileSummary {
    /// Records read, including rejected ones.
    pub records: u64,
    /// Records that could not be used (not an object, wrong field types).
    pub rejected: u64,
    /// The first few rejection messages, each naming the file and record.
    pub rejections: Vec<String>,
    /// Newest `eventTime` seen, epoch seconds.
    pub newest_event_time: Option<i64>,
    /// Records without a usable `eventTime`.
    pub without_event_time: u64,
    /// Rule matches.
    pub matches: u64,
    /// Records left out by the [`RecordFilter`].
    pub filtered: u64,
}

/// Reads every record of `input` (named `source` in errors) that `filter`
/// accepts, evaluates the catalogue and calls `visit` with each usable
/// record and the rules it matched (possibly none). A fatal read error ends
/// the pass; a rejected record is counted and the pass goes on. The
/// reader's default [`ReadLimits`] apply.
pub fn scan_file<R: Read>(
    input: R,
    source: &str,
    catalogue: &Catalogue,
    filter: &RecordFilter,
    visit: impl FnMut(&Record<'_>, &[&Rule]),
) -> Result<FileSummary, ReadError> {
    let limits = ReadLimits::default();
    scan_file_within(input, source, catalogue, filter, &limits, visit)
}

/// [`scan_file`] within `limits` (caps and a deadline), past which the
/// pass ends with the reader's fatal error.
pub fn scan_file_within<R: Read>(
    input: R,
    source: &str,
    catalogue: &Catalogue,
    filter: &RecordFilter,
    limits: &ReadLimits,
    mut visit: impl FnMut(&Record<'_>, &[&Rule]),
) -> Result<FileSummary, ReadError> {
    let mut matched: Vec<&Rule> = Vec::new();
    let (mut matches, mut newest, mut without_time) = (0, None, 0);
    let mut summary = scan_records(input, source, filter, limits, |record| {
        match record.event_time_epoch() {
            Some(t) => newest = Some(newest.map_or(t, |n: i64| n.max(t))),
            None => without_time += 1,
        }
        matched.clear();
        catalogue.for_each_match_record(record, |rule| matched.push(rule));
        matches += matched.len() as u64;
        visit(record, &matched);
    })?;
    summary.matches = matches;
    summary.newest_event_time = newest;
    summary.without_event_time = without_time;
    Ok(summary)
}

/// The pass [`scan_file`] makes, for a caller that runs rules its own
/// way: `visit` gets each usable record `filter` accepts; the summary
/// counts records, rejections and filtered records, not matches or event
/// times.
pub fn scan_records<R: Read>(
    input: R,
    source: &str,
    filter: &RecordFilter,
    limits: &ReadLimits,
    visit: impl FnMut(&Record<'_>),
) -> Result<FileSummary, ReadError> {
    match scan_records_partial(input, source, filter, limits, visit) {
        (summary, None) => Ok(summary),
        (_, Some(error)) => Err(error),
    }
}

/// [`scan_records`] that keeps what was read before a fatal error (a
/// truncated or corrupt object, trailing data after the document): the
/// summary of the records visited, and the error that ended the pass.
pub fn scan_records_partial<R: Read>(
    input: R,
    source: &str,
    filter: &RecordFilter,
    limits: &ReadLimits,
    mut visit: impl FnMut(&Record<'_>),
) -> (FileSummary, Option<ReadError>) {
    let mut summary = FileSummary::default();
    let mut reader = match RecordReader::with_limits(input, source, *limits) {
        Ok(reader) => reader,
        Err(error) => return (summary, Some(error)),
    };
    let open = filter.is_open();
    while let Some(next) = reader.next_record() {
        // Borrowed in place: a record is a large struct, and this loop
        // runs once per record.
        let record = match next {
            Ok(ref record) => record,
            Err(e) if e.is_fatal() => return (summary, Some(e)),
            Err(e) => {
                summary.records += 1;
                summary.rejected += 1;
                if summary.rejections.len() < REJECTION_SAMPLES {
                    summary.rejections.push(e.to_string());
                }
                continue;
            }
        };
        summary.records += 1;
        if !open && !filter.accepts(record) {
            summary.filtered += 1;
            continue;
        }
        visit(record);
    }
    (summary, None)
}
