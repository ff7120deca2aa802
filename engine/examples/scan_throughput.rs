//! Whole-process throughput of one pass over a log file, in these modes:
//!
//! - `parse`: the reader alone (typed records);
//! - `pass`: the shared per-file pass (`scan_file`) with no rules;
//! - `cis`: the metrics function's work: the CIS rules and aggregation;
//! - `rules`: every built-in rule (CIS and detections), matches counted;
//! - `sigma`: every SigmaHQ rule on each typed record, as the notifier runs
//!   them (remembering viable rules over the file), matches counted;
//! - `notifier`: the notifier's pass as deployed: every built-in and SigmaHQ
//!   rule in one pass, findings built for what its default flood cap (100
//!   per rule per file) lets through, the rest summarised;
//! - `all`: the same pass with no cap: a finding built for every match.
//!
//! Usage: `scan_throughput FILE [MODE]...` (default: parse, cis, notifier,
//! all). Prints MB/s of uncompressed JSON (by wall clock, and by this
//! thread's CPU time, which other load on a shared machine inflates much
//! less) and records/s, best of three runs, and each mode's wall-clock
//! throughput relative to `parse`.

use std::fs::File;
use std::io::BufReader;
use std::time::Instant;

use trailguard_engine::detect::Detector;
use trailguard_engine::metrics::{Aggregator, AggregatorConfig};
use trailguard_engine::rules::{Catalogue, Severity};
use trailguard_engine::scan::{RecordFilter, scan_file};
use trailguard_engine::sigma::SigmaRules;
use trailguard_engine::{ObjectRef, RecordReader};

/// CPU time this thread has run, in seconds (0 where unavailable).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |nanos| nanos as f64 / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: scan_throughput FILE [parse|pass|cis|rules|sigma|notifier|all]...")?;
    let mut modes: Vec<String> = args.collect();
    if modes.is_empty() {
        modes = ["parse", "cis", "notifier", "all"]
            .map(String::from)
            .to_vec();
    }
    let open = || File::open(&path).map(BufReader::new);
    let object = ObjectRef::new("local", path.clone());

    let cis = Catalogue::builtin()?.retain(|r| r.spec().metric.is_some());
    let (sigma, _) = SigmaRules::builtin();
    let detector = Detector::new(
        Catalogue::builtin()?,
        Some(sigma),
        Severity::Informational,
        usize::MAX,
    )?;

    // The notifier as deployed: its default flood cap (100 findings per
    // rule per file, the rest summarised), every rule's findings kept.
    let (sigma, _) = SigmaRules::builtin();
    let notifier = Detector::new(
        Catalogue::builtin()?,
        Some(sigma),
        Severity::Informational,
        100,
    )?;

    let mut parse_rate = None;
    for mode in &modes {
        let mut best = f64::MAX;
        let mut best_cpu = f64::MAX;
        let (mut bytes, mut records, mut matches) = (0u64, 0u64, 0u64);
        for _ in 0..3 {
            let start = Instant::now();
            let cpu_start = cpu_seconds();
            match mode.as_str() {
                "parse" => {
                    let mut reader = RecordReader::new(open()?, &path)?;
                    let mut n = 0;
                    while let Some(r) = reader.next_record() {
                        r?;
                        n += 1;
                    }
                    records = n;
                    bytes = reader.stats().uncompressed_bytes;
                }
                "cis" => {
                    let mut agg = Aggregator::new(AggregatorConfig::default());
                    let summary =
                        scan_file(open()?, &path, &cis, &RecordFilter::default(), |r, m| {
                            agg.count_record(r, m, 0)
                        })?;
                    records = summary.records;
                    matches = summary.matches;
                    std::hint::black_box(agg.datums());
                }
                "pass" => {
                    let summary = scan_file(
                        open()?,
                        &path,
                        &Catalogue::default(),
                        &RecordFilter::default(),
                        |_, _| {},
                    )?;
                    records = summary.records;
                }
                "rules" => {
                    let summary = scan_file(
                        open()?,
                        &path,
                        detector.catalogue(),
                        &RecordFilter::default(),
                        |_, _| {},
                    )?;
                    records = summary.records;
                    matches = summary.matches;
                }
                "sigma" => {
                    let sigma = detector.sigma().ok_or("no sigma")?;
                    let mut reader = RecordReader::new(open()?, &path)?;
                    let (mut n, mut m) = (0, 0);
                    let mut pass = sigma.pass_memo();
                    while let Some(r) = reader.next_record() {
                        let r = r?;
                        m += sigma.matching_in_pass(&r, &mut pass).count() as u64;
                        n += 1;
                    }
                    records = n;
                    matches = m;
                }
                "notifier" => {
                    let found = notifier.scan(open()?, &object, None)?;
                    records = found.records;
                    matches = found.findings.len() as u64;
                }
                "all" => {
                    let found = detector.scan(open()?, &object, None)?;
                    records = found.records;
                    matches = found.findings.len() as u64;
                }
                other => return Err(format!("unknown mode {other}").into()),
            }
            best = best.min(start.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(cpu_seconds() - cpu_start);
        }
        if bytes == 0 {
            // Same file: the parse pass measured it; count again if it ran alone.
            let mut reader = RecordReader::new(open()?, &path)?;
            while reader.next_record().is_some() {}
            bytes = reader.stats().uncompressed_bytes;
        }
        let rate = bytes as f64 / best / 1e6;
        if mode == "parse" {
            parse_rate = Some(rate);
        }
        let relative = parse_rate.map_or(String::new(), |p| {
            format!(", {:.0}% of parse", rate / p * 100.0)
        });
        let cpu_rate = if best_cpu > 0.0 {
            format!(" (CPU time: {:.0} MB/s)", bytes as f64 / best_cpu / 1e6)
        } else {
            String::new()
        };
        println!(
            "{mode:>8}: {rate:.0} MB/s{cpu_rate}, {:.0} records/s, {records} records, {matches} matches/findings{relative}",
            records as f64 / best
        );
    }
    Ok(())
}
