//! One pass over one log file: read each record once, run the catalogue on
//! it, hand record and matches to the caller. Shared by every function and
//! the CLI so they cannot disagree about what a file contains.

use std::io::Read;

use crate::reader::{ReadError, RecordReader};
use crate::record::Record;
use crate::rules::{Catalogue, Rule};

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
}

/// Reads every record of `input` (named `source` in errors), evaluates the
/// catalogue and calls `visit` with each usable record and the rules it
/// matched (possibly none). A fatal read error ends the pass; a rejected
/// record is counted and the pass goes on.
pub fn scan_file<R: Read>(
    input: R,
    source: &str,
    catalogue: &Catalogue,
    mut visit: impl FnMut(&Record<'_>, &[&Rule]),
) -> Result<FileSummary, ReadError> {
    let mut reader = RecordReader::new(input, source)?;
    let mut summary = FileSummary::default();
    let mut matched: Vec<&Rule> = Vec::new();
    while let Some(next) = reader.next_record() {
        summary.records += 1;
        let record = match next {
            Ok(record) => record,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => {
                summary.rejected += 1;
                if summary.rejections.len() < REJECTION_SAMPLES {
                    summary.rejections.push(e.to_string());
                }
                continue;
            }
        };
        match record.event_time_epoch() {
            Some(t) => {
                summary.newest_event_time = Some(summary.newest_event_time.map_or(t, |n| n.max(t)))
            }
            None => summary.without_event_time += 1,
        }
        matched.clear();
        catalogue.for_each_match(&record, |rule| matched.push(rule));
        summary.matches += matched.len() as u64;
        visit(&record, &matched);
    }
    Ok(summary)
}
