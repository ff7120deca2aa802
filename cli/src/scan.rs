//! `trailguard scan`: the rules over local or S3 log files, printing
//! findings and the metric datapoints the deployed functions would produce
//! for the same files.
//!
//! Output (`--format`):
//! - `table`: findings (severity, rule, who, what, where, when), metric
//!   counts per rule, a summary line;
//! - `json`: one document, `schemas/scan-output.v1.schema.json`;
//! - `jsonl`: one finding per line (`schemas/finding.v1.schema.json`).
//!
//! Unreadable files and targets are listed on stderr at the end (and under
//! `errors` in JSON); everything else is still scanned and printed.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use trailguard::findings::Finding;
use trailguard::metrics::Datum;
use trailguard::rules::Severity;
use trailguard::service::notifier::Detector;

use crate::aws::{self, Aws};
use crate::filters::FilterArgs;
use crate::format::{self, Format, Table};
use crate::ordered::OrderedWriter;
use crate::outcome::Outcome;
use crate::progress;
use crate::ruleset::{RuleArgs, Ruleset, severity_arg};
use crate::runner::{Finish, RunResult, Runner};
use crate::sources::{self, TargetError};

/// Where `--format jsonl` output goes.
type JsonLines = OrderedWriter<BufWriter<std::io::Stdout>>;

/// Version of the `--format json` document.
pub const OUTPUT_VERSION: &str = "1";

/// `trailguard scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Log files, folders (searched recursively) or s3://bucket/prefix URLs.
    #[arg(required = true, value_name = "PATH|S3_URL")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Drop findings below this severity (informational, low, medium, high, critical).
    #[arg(long, value_parser = severity_arg, default_value = "informational", value_name = "SEVERITY")]
    pub min_severity: Severity,
    /// Findings per rule per file before the rest is summed up in one
    /// summary finding (the notifier uses 100); unlimited by default.
    #[arg(long, value_name = "N")]
    pub flood_cap: Option<usize>,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Files read at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// The default `--jobs`: every core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism()
        .map(std::num::NonZeroUsize::get)
        .unwrap_or(1)
}

/// One scanned file in the JSON document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FileEntry {
    path: String,
    records: u64,
    rejected: u64,
    findings: usize,
    suppressed: u64,
    held_back: u64,
}

/// One unreadable file or target in the JSON document.
#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    /// The file, URL or target.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
}

/// The `--format json` document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScanOutput<'a> {
    schema_version: &'static str,
    files: Vec<FileEntry>,
    findings: Vec<&'a Finding>,
    metrics: Vec<Datum>,
    errors: &'a [ErrorEntry],
}

/// What a scan gathered, ready to print.
pub struct Report {
    /// The run.
    pub run: RunResult,
    /// Findings of every file, in file order (those a finish step already
    /// wrote out are counted in each file's `written` instead).
    pub findings: Vec<Finding>,
    /// Unreadable targets and files.
    pub errors: Vec<ErrorEntry>,
}

impl Report {
    /// Every finding of the run, whether held here or already written.
    pub fn finding_count(&self) -> usize {
        let written: usize = self
            .run
            .files
            .iter()
            .filter_map(|f| f.result.as_ref().ok())
            .map(|r| r.written)
            .sum();
        self.findings.len() + written
    }
}

/// Lists and reads `targets` with `detector`; shared with `search`.
pub fn gather(
    targets: &[String],
    filter: &FilterArgs,
    detector: Detector,
    jobs: usize,
    metrics: bool,
    finish: Option<Finish>,
) -> Report {
    let cell: OnceCell<Aws> = OnceCell::new();
    let plan = sources::plan(targets, &filter.window(), || aws::lazy(&cell));
    let runner = Runner {
        detector: Arc::new(detector),
        jobs,
        metrics,
        aws: cell.get(),
        progress: progress::bar(plan.sources.len(), "files"),
        finish,
    };
    let run = runner.run(plan.sources);
    let mut errors: Vec<ErrorEntry> = plan
        .errors
        .into_iter()
        .map(|TargetError { target, error }| ErrorEntry {
            path: target,
            error,
        })
        .collect();
    let mut findings = Vec::new();
    for file in &run.files {
        match &file.result {
            Ok(result) => findings.extend(result.findings.findings.iter().cloned()),
            Err(error) => errors.push(ErrorEntry {
                path: file.source.name(),
                error: error.clone(),
            }),
        }
    }
    Report {
        run,
        findings,
        errors,
    }
}

/// Prints the errors on stderr, one per line.
pub fn print_errors(errors: &[ErrorEntry]) {
    if errors.is_empty() {
        return;
    }
    eprintln!(
        "trailguard: {} file(s) or target(s) could not be read:",
        errors.len()
    );
    for e in errors {
        eprintln!("  {}: {}", e.path, e.error);
    }
}

/// Runs `trailguard scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
    let ruleset: Ruleset = args.rules.load().context("loading rules")?;
    let detector = Detector::new(
        ruleset.catalogue,
        ruleset.sigma,
        args.min_severity,
        args.flood_cap.unwrap_or(usize::MAX).max(1),
    )
    .context("loading suppressions")?
    .with_filter(args.filter.record_filter());
    let format = Format::resolve(args.format, Format::Json);
    // JSON lines are written by the workers as files finish, in file order.
    let lines = (format == Format::Jsonl)
        .then(|| Arc::new(OrderedWriter::new(BufWriter::new(std::io::stdout()))));
    let report = gather(
        &args.targets,
        &args.filter,
        detector,
        args.jobs.unwrap_or_else(default_jobs),
        true,
        Some(finish_step(args.rules.only.clone(), lines.clone())),
    );
    if let Some(lines) = lines {
        Arc::into_inner(lines)
            .context("output still in use after the scan")?
            .finish()?;
    }
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &json_document(&report))?;
            writeln!(out)?;
        }
        Format::Jsonl => {}
        Format::Table => write!(out, "{}", table(&report))?,
    }
    out.flush()?;
    print_errors(&report.errors);
    Ok(if report.errors.is_empty() {
        Outcome::found_if(report.finding_count() > 0)
    } else {
        Outcome::Failed
    })
}

/// What each worker does with a file: keeps the findings of `--only` and,
/// for JSON lines, writes them (one per line) to `lines` at the file's
/// position and drops them.
fn finish_step(only: Vec<String>, lines: Option<Arc<JsonLines>>) -> Finish {
    Arc::new(move |position, result| {
        let mut chunk = Vec::new();
        if let Ok(file) = result {
            let findings = &mut file.findings.findings;
            findings.retain(|f| Ruleset::wanted(&only, &f.rule.id));
            if lines.is_some() {
                for finding in findings.iter() {
                    // Only a raw event that is not JSON could fail, and raw
                    // events come from parsed records.
                    if serde_json::to_writer(&mut chunk, finding).is_ok() {
                        chunk.push(b'\n');
                    }
                }
                file.written = findings.len();
                findings.clear();
            }
        }
        // Every position is handed over, so later files are not held back.
        if let Some(lines) = &lines {
            lines.put(position, chunk);
        }
    })
}

fn json_document(report: &Report) -> ScanOutput<'_> {
    let files = report
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
            })
        })
        .collect();
    ScanOutput {
        schema_version: OUTPUT_VERSION,
        files,
        findings: report.findings.iter().collect(),
        metrics: report.run.metrics.datums(),
        errors: &report.errors,
    }
}

fn table(report: &Report) -> String {
    let mut text = String::new();
    let mut findings = Table::new(&["SEVERITY", "RULE", "WHO", "WHAT", "WHERE", "WHEN"]);
    for f in &report.findings {
        findings.row(vec![
            f.rule.severity.as_str().to_owned(),
            // Sigma ids are UUIDs; their titles say more.
            format::clip(
                if f.rule.engine == "sigma" {
                    &f.rule.title
                } else {
                    &f.rule.id
                },
                48,
            ),
            format::clip(&format::who(f), 48),
            format::what(f),
            format::place(f),
            f.event.time.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    if !findings.is_empty() {
        text.push_str(&findings.to_string());
        text.push('\n');
    }
    let mut per_metric: BTreeMap<(String, String), f64> = BTreeMap::new();
    for datum in report.run.metrics.datums() {
        let rule = datum.rule_id.clone().unwrap_or_else(|| "-".to_owned());
        *per_metric
            .entry((format!("{}/{}", datum.namespace, datum.metric_name), rule))
            .or_default() += datum.value;
    }
    if !per_metric.is_empty() {
        let mut metrics = Table::new(&["METRIC", "RULE", "TOTAL"]);
        for ((metric, rule), total) in per_metric {
            metrics.row(vec![metric, rule, total.to_string()]);
        }
        text.push_str(&metrics.to_string());
        text.push('\n');
    }
    let read: Vec<_> = report
        .run
        .files
        .iter()
        .filter_map(|f| f.result.as_ref().ok())
        .collect();
    let records: u64 = read.iter().map(|r| r.findings.records).sum();
    text.push_str(&format!(
        "{} finding(s) in {} file(s), {records} record(s); {} file(s) unreadable\n",
        report.findings.len(),
        read.len(),
        report.errors.len(),
    ));
    text
}
