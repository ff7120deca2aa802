//! `--format json` and `jsonl`: findings written as the workers find them,
//! in file order ([`crate::ordered`]), then what only the end of the run
//! knows.

use std::io::{BufWriter, Stdout, Write};
use std::sync::Arc;

use serde::Serialize;
use trailguard_engine::findings::Finding;

use super::{FileEntry, OUTPUT_VERSION, Report};
use crate::ordered::{OrderedWriter, Slot};
use crate::ruleset::Ruleset;
use crate::runner::{FileOutput, FileResult, Output};

/// Findings as the workers write them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stream {
    /// One finding per line.
    Lines,
    /// The `--format json` document (`schemas/scan-output.v1.schema.json`),
    /// pretty-printed: findings first, as they come, then the members known
    /// only at the end.
    Document,
}

/// Where streamed findings go.
pub(super) type Streamed = OrderedWriter<BufWriter<Stdout>>;

impl Stream {
    /// Starts the output on `out`.
    pub(super) fn open<W: Write>(self, mut out: W) -> std::io::Result<OrderedWriter<W>> {
        match self {
            Stream::Lines => Ok(OrderedWriter::new(out, b"")),
            Stream::Document => {
                write!(
                    out,
                    "{{\n  \"schemaVersion\": \"{OUTPUT_VERSION}\",\n  \"findings\": ["
                )?;
                Ok(OrderedWriter::new(out, b","))
            }
        }
    }

    /// One finding, rendered after the separator.
    pub(super) fn render(self, finding: &Finding, out: &mut Vec<u8>) {
        // Only a raw event that is not JSON could fail to serialize, and
        // raw events come from parsed records.
        match self {
            Stream::Lines => {
                if serde_json::to_writer(&mut *out, finding).is_ok() {
                    out.push(b'\n');
                }
            }
            Stream::Document => {
                if let Ok(item) = serde_json::to_vec_pretty(finding) {
                    out.extend_from_slice(b"\n    ");
                    indent_into(out, &item, b"    ");
                }
            }
        }
    }

    /// Ends the output once every file is in (`wrote`: whether any finding was).
    pub(super) fn close(
        self,
        mut out: impl Write,
        wrote: bool,
        report: &Report,
    ) -> anyhow::Result<()> {
        if self == Stream::Document {
            out.write_all(if wrote { b"\n  ]" } else { b"]" })?;
            write_member(&mut out, "files", &file_entries(report))?;
            write_member(&mut out, "metrics", &report.run.metrics.datums())?;
            write_member(&mut out, "errors", &report.errors)?;
            out.write_all(b"\n}\n")?;
        }
        out.flush()?;
        Ok(())
    }
}

/// Writes `,\n  "name": value` at the document's first level.
fn write_member(out: &mut impl Write, name: &str, value: &impl Serialize) -> anyhow::Result<()> {
    let mut member = Vec::new();
    indent_into(&mut member, &serde_json::to_vec_pretty(value)?, b"  ");
    write!(out, ",\n  \"{name}\": ")?;
    out.write_all(&member)?;
    Ok(())
}

/// Appends pretty-printed `json` with every line after the first indented
/// by `indent`. JSON strings hold no raw newlines (they are escaped), so
/// every newline is layout.
fn indent_into(out: &mut Vec<u8>, json: &[u8], indent: &[u8]) {
    for (i, line) in json.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
            out.extend_from_slice(indent);
        }
        out.extend_from_slice(line);
    }
}

/// One file's findings of `--only`, written in order as they come.
struct StreamFile {
    slot: Slot<BufWriter<Stdout>>,
    stream: Stream,
    only: Arc<Vec<String>>,
    written: usize,
}

impl FileOutput for StreamFile {
    fn finding(&mut self, finding: Finding) -> Option<Finding> {
        if Ruleset::wanted(&self.only, &finding.rule.id) {
            let stream = self.stream;
            self.slot.item(|out| stream.render(&finding, out));
            self.written += 1;
        }
        None
    }

    fn close(self: Box<Self>, result: &mut Result<FileResult, String>) {
        if let Ok(file) = result {
            file.written = self.written;
        }
        // Dropping the slot hands the file's place over to the next one.
    }
}

pub(super) fn stream_output(stream: Stream, out: Arc<Streamed>, only: Arc<Vec<String>>) -> Output {
    Arc::new(move |position| {
        Box::new(StreamFile {
            slot: out.slot(position),
            stream,
            only: Arc::clone(&only),
            written: 0,
        })
    })
}

/// The `files` member: each file read and what it gave.
fn file_entries(report: &Report) -> Vec<FileEntry> {
    report
        .run
        .files
        .iter()
        .filter_map(|file| {
            let result = file.result.as_ref().ok()?;
            Some(FileEntry {
                path: file.source.name(),
                records: result.findings.records,
                rejected: result.findings.rejected,
                findings: result.findings.findings.len() + result.written,
                suppressed: result.findings.suppressed,
                held_back: result.findings.held_back,
                partial: result.partial.clone(),
            })
        })
        .collect()
}
