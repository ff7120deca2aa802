//! `trailguard scan`: the rules over local or S3 log files, printing
//! findings and the metric datapoints the deployed functions would produce
//! for the same files.
//!
//! Output (`--format`):
//! - `table`: findings, most urgent first (see [`crate::findings_view`]),
//!   metric counts per rule, the summary per rule and severity, a totals
//!   line; `--summary` prints only the summary and totals;
//! - `json`: one document, `schemas/scan-output.v1.schema.json`;
//! - `jsonl`: one finding per line (`schemas/finding.v1.schema.json`).
//!
//! JSON findings are written while files are read, in file order, in
//! bounded memory (see [`crate::ordered`]); the findings of a file that
//! fails part-way are those read before the failure.
//!
//! Unreadable files and targets are listed on stderr at the end (and under
//! `errors` in JSON); everything else is still scanned and printed.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Args;
use serde::Serialize;
use trailguard_engine::detect::Detector;
use trailguard_engine::findings::Finding;
use trailguard_engine::keys;
use trailguard_engine::rules::Severity;
use trailguard_engine::sigma::correlation::DEFAULT_CAP;

use crate::aws::{self, Aws};
use crate::correlate::{self, Correlating};
use crate::filters::FilterArgs;
use crate::findings_view::FindingsView;
use crate::format::{self, Format, Table};
use crate::outcome::Outcome;
use crate::progress;
use crate::ruleset::{RuleArgs, Ruleset, severity_arg};
use crate::runner::{FileOutput, FileResult, Output, RunResult, Runner, Scanned};
use crate::sources::{self, TargetError};

mod stream;

use stream::{Stream, stream_output};

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
    /// Fold repeats of a rule by one principal within this many seconds of
    /// event time into one finding with a count (`repeats` in JSON), as the
    /// notifier does with 3600; default 0: every match on its own, so an
    /// investigation sees every event.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub repeat_window: u64,
    /// Matches held per correlation rule until the scan ends; past it,
    /// matches are dropped and counted (memory stays bounded).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CAP)]
    pub correlation_cap: usize,
    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print only the summary: findings per rule and severity, and totals.
    #[arg(long, conflicts_with = "format")]
    pub summary: bool,
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
    /// Why reading stopped part way, when it did: the file's findings are
    /// those of the records read before.
    #[serde(skip_serializing_if = "Option::is_none")]
    partial: Option<String>,
}

/// One unreadable file or target in the JSON document.
#[derive(Debug, Serialize)]
pub struct ErrorEntry {
    /// The file, URL or target.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
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
    /// Records rejected in the files read.
    pub fn rejected_records(&self) -> u64 {
        self.run
            .files
            .iter()
            .filter_map(|f| f.result.as_ref().ok())
            .map(|r| r.findings.rejected)
            .sum()
    }

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
    detector: Arc<Detector>,
    jobs: usize,
    metrics: bool,
    output: Option<Output>,
) -> Report {
    let cell: OnceCell<Aws> = OnceCell::new();
    let plan = sources::plan(targets, &filter.window(), || aws::lazy(&cell));
    let runner = Runner {
        detector,
        jobs,
        metrics,
        aws: cell.get(),
        progress: progress::bar(plan.sources.len(), "files"),
        output,
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
            Ok(result) => {
                findings.extend(result.findings.findings.iter().cloned());
                // Reported as far as it was read, and an error all the same.
                if let Some(reason) = &result.partial {
                    errors.push(ErrorEntry {
                        path: file.source.name(),
                        error: format!(
                            "read in part ({} records before the failure are reported): {reason}",
                            result.findings.records
                        ),
                    });
                }
            }
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
        "trailguard: {} file(s) or target(s) could not be read, or were read in part:",
        errors.len()
    );
    for e in errors {
        eprintln!("  {}: {}", e.path, e.error);
    }
}

/// Runs `trailguard scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<Outcome> {
    let ruleset: Ruleset = args.rules.load().context("loading rules")?;
    let has_correlations = (ruleset.sigma.as_ref()).is_some_and(|s| !s.correlations().is_empty());
    let detector = Arc::new(detector(&args, ruleset, has_correlations)?);
    let correlating = Correlating::start(
        Arc::clone(&detector),
        args.correlation_cap,
        args.min_severity,
    )?;
    let scan = Scan {
        args: &args,
        detector,
        correlating,
        only: Arc::new(args.rules.only.clone()),
    };
    let format = if args.summary {
        Format::Table
    } else {
        Format::resolve(args.format, Format::Json)
    };
    let report = match format {
        Format::Json => scan.write_stream(Stream::Document)?,
        Format::Jsonl => scan.write_stream(Stream::Lines)?,
        Format::Table => scan.write_table()?,
    };
    let outcome = conclude(&args, &report);
    // Nothing reads the report after this, and the process exits next: the
    // system takes its memory back at once, where freeing tens of thousands
    // of findings one by one takes tens of milliseconds.
    std::mem::forget(report);
    Ok(outcome)
}

/// The detector the arguments ask for.
fn detector(args: &ScanArgs, ruleset: Ruleset, correlating: bool) -> anyhow::Result<Detector> {
    let detector = Detector::new(
        ruleset.catalogue,
        ruleset.sigma,
        args.min_severity,
        args.flood_cap.unwrap_or(usize::MAX).max(1),
    )
    .context("loading suppressions")?
    .with_repeat_window(args.repeat_window)
    .with_filter(args.filter.record_filter());
    // Inputs count whatever their severity, repeats and cap (see `correlate`).
    Ok(if correlating {
        detector
            .with_correlation_inputs()
            .deferring_correlation_only()
    } else {
        detector
    })
}

/// One scan about to run: the detector, and the correlations fed by it.
struct Scan<'a> {
    args: &'a ScanArgs,
    detector: Arc<Detector>,
    correlating: Option<Arc<Correlating>>,
    only: Arc<Vec<String>>,
}

impl Scan<'_> {
    /// Scans every target into `output`; returns the report and the
    /// correlation findings, which only the whole scan can give.
    fn run(self, output: Output) -> (Report, Vec<Finding>) {
        let output = match &self.correlating {
            Some(c) => correlate::wrap(output, Arc::clone(c)),
            None => output,
        };
        let jobs = self.args.jobs.unwrap_or_else(default_jobs);
        let report = gather(
            &self.args.targets,
            &self.args.filter,
            self.detector,
            jobs,
            true,
            Some(output),
        );
        let correlated = self.correlating.map(Correlating::finish);
        if let Some(note) = correlated
            .as_ref()
            .and_then(|c| correlate::notes(c, self.args.correlation_cap))
        {
            eprintln!("trailguard: {note}");
        }
        let correlated: Vec<Finding> = correlated
            .map(|c| c.findings)
            .unwrap_or_default()
            .into_iter()
            .filter(|f| Ruleset::wanted(&self.only, &f.rule.id))
            .collect();
        (report, correlated)
    }

    /// Scans, writing findings to stdout as they come (`json`, `jsonl`).
    fn write_stream(self, stream: Stream) -> anyhow::Result<Report> {
        let out = Arc::new(stream.open(BufWriter::new(std::io::stdout()))?);
        let only = Arc::clone(&self.only);
        let (mut report, correlated) = self.run(stream_output(stream, Arc::clone(&out), only));
        // After every file's slot: the correlation findings come last.
        let mut slot = out.slot(report.run.files.len());
        for finding in &correlated {
            slot.item(|buf| stream.render(finding, buf));
        }
        drop(slot);
        report.findings.extend(correlated);
        let (out, wrote) = Arc::into_inner(out)
            .context("output still in use after the scan")?
            .finish()?;
        stream.close(out, wrote, &report)?;
        Ok(report)
    }

    /// Scans, then prints the table or the summary.
    fn write_table(self) -> anyhow::Result<Report> {
        let summary_only = self.args.summary;
        let view = Arc::new(Mutex::new(FindingsView::new(!summary_only)));
        let only = Arc::clone(&self.only);
        let (mut report, correlated) = self.run(view_output(Arc::clone(&view), only));
        let mut view = Arc::into_inner(view)
            .context("output still in use after the scan")?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        for finding in &correlated {
            view.add(finding);
        }
        report.findings.extend(correlated);
        let text = if summary_only {
            summary(&report, &view)
        } else {
            table(&report, &mut view)
        };
        let mut out = std::io::stdout().lock();
        out.write_all(text.as_bytes())?;
        out.flush()?;
        Ok(report)
    }
}

/// Says on stderr what went wrong or was left out, and the exit status.
fn conclude(args: &ScanArgs, report: &Report) -> Outcome {
    print_errors(&report.errors);
    if let Some(hint) = account_hint(&args.filter.accounts, report) {
        eprintln!("trailguard: {hint}");
    }
    let rejected = report.rejected_records();
    if rejected > 0 {
        eprintln!(
            "trailguard: {rejected} record(s) rejected (not CloudTrail records, or unreadable); \
             `--format json` lists them per file"
        );
    }
    // A rejected record is input that was not checked: an error, as an
    // unreadable file is, so a file of nothing but rejects never passes.
    if report.errors.is_empty() && rejected == 0 {
        Outcome::found_if(report.finding_count() > 0)
    } else {
        Outcome::Failed
    }
}

/// Why `--account` selected nothing, when the files are named for one of
/// its accounts: a trail delivers under its own account's key (an
/// organization or central trail), while records carry the account they
/// happened in, which is what `--account` selects.
fn account_hint(accounts: &[String], report: &Report) -> Option<String> {
    if accounts.is_empty() {
        return None;
    }
    let read: Vec<&Scanned> = report
        .run
        .files
        .iter()
        .filter(|f| f.result.is_ok())
        .collect();
    let selected: u64 = read
        .iter()
        .filter_map(|f| f.result.as_ref().ok())
        .map(|r| r.findings.records - r.findings.rejected - r.findings.filtered)
        .sum();
    if read.is_empty() || selected > 0 {
        return None;
    }
    let named = accounts.iter().find(|account| {
        read.iter()
            .any(|f| named_account(&f.source.name()).as_deref() == Some(account.as_str()))
    })?;
    Some(format!(
        "no record belongs to account {named}, though the file names do: `--account` \
         selects records by recipientAccountId (else userIdentity.accountId), and a trail \
         delivering for several accounts names its files after its own account"
    ))
}

/// The account a log file's key or name is filed under: `AWSLogs/<account>/`
/// in a key, or `<account>_CloudTrail_` at the start of a file name.
fn named_account(name: &str) -> Option<String> {
    let key = name
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .map_or(name, |(_, key)| key);
    if let Some(account) = keys::classify(key).account {
        return Some(account);
    }
    let file = name.rsplit(['/', '\\']).next()?;
    keys::log_file_account(file).map(str::to_owned)
}

/// One file's findings of `--only`, gathered for the table.
struct ViewFile {
    view: FindingsView,
    shared: Arc<Mutex<FindingsView>>,
    only: Arc<Vec<String>>,
    written: usize,
}

impl FileOutput for ViewFile {
    fn finding(&mut self, finding: Finding) -> Option<Finding> {
        if Ruleset::wanted(&self.only, &finding.rule.id) {
            self.view.add(&finding);
            self.written += 1;
        }
        None
    }

    fn close(self: Box<Self>, result: &mut Result<FileResult, String>) {
        // A file that could not be read adds nothing, as in the JSON output.
        if let Ok(file) = result {
            file.written = self.written;
            let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
            shared.merge(self.view);
        }
    }
}

fn view_output(view: Arc<Mutex<FindingsView>>, only: Arc<Vec<String>>) -> Output {
    let listing = view.lock().map(|v| v.listing_kept()).unwrap_or(true);
    Arc::new(move |_| {
        Box::new(ViewFile {
            view: FindingsView::new(listing),
            shared: Arc::clone(&view),
            only: Arc::clone(&only),
            written: 0,
        })
    })
}

/// The table output: findings, metric counts, summary, totals.
fn table(report: &Report, view: &mut FindingsView) -> String {
    let width = format::output_width();
    let mut text = view.listing(width);
    if !text.is_empty() {
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
        text.push_str(&metrics.fitted(width).to_string());
        text.push('\n');
    }
    text.push_str(&summary(report, view));
    text
}

/// Findings per rule and severity, then the run's totals.
fn summary(report: &Report, view: &FindingsView) -> String {
    let mut text = view.summary(format::output_width());
    let read: Vec<_> = report
        .run
        .files
        .iter()
        .filter_map(|f| f.result.as_ref().ok())
        .collect();
    let records: u64 = read.iter().map(|r| r.findings.records).sum();
    let held_back: u64 = read.iter().map(|r| r.findings.held_back).sum();
    let suppressed: u64 = read.iter().map(|r| r.findings.suppressed).sum();
    text.push_str(&format!(
        "{} finding(s) in {} file(s), {records} record(s), {} rejected\n\
         {held_back} more held back, {suppressed} suppressed; {} file(s) unreadable\n",
        view.finding_count(),
        read.len(),
        report.rejected_records(),
        report.errors.len(),
    ));
    text
}

#[cfg(test)]
mod tests;
