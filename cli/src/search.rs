//! `trailguard search`: the records that match one CloudWatch filter
//! pattern or one Sigma rule file, with the same targets, filters,
//! parallelism and error handling as `scan`.
//!
//! The pattern runs as a one-rule catalogue through the same engine, so a
//! search and a rule with that pattern can never disagree.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use trailguard_engine::detect::Detector;
use trailguard_engine::rules::{Catalogue, Rule, RuleSpec, Severity};
use trailguard_engine::sigma::SigmaRules;

use crate::filters::FilterArgs;
use crate::format::{self, Format, Table};
use crate::outcome::Outcome;
use crate::scan::{default_jobs, gather, print_errors};

/// `trailguard search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// A filter pattern (`{ $.userIdentity.type = "Root" }`) or the path of a Sigma rule file.
    pub pattern: String,
    /// Log files, folders (searched recursively) or s3://bucket/prefix URLs.
    #[arg(required = true, value_name = "PATH|S3_URL")]
    pub targets: Vec<String>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Output format: table (the seven facets) or jsonl (raw records)
    /// [default: table on a terminal, jsonl otherwise].
    #[arg(long, value_enum)]
    pub format: Option<RecordFormat>,
    /// Files read at once [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
}

/// `search --format`: records are a stream, so there is no single-document form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RecordFormat {
    /// The seven facets of each record, in columns.
    Table,
    /// Each record as it is in the log file, one per line.
    Jsonl,
}

/// The id findings of a filter-pattern search carry.
const SEARCH_ID: &str = "search";

fn detector(pattern: &str) -> anyhow::Result<Detector> {
    let (catalogue, sigma) = if pattern.trim_start().starts_with('{') {
        let spec = RuleSpec {
            id: SEARCH_ID.to_owned(),
            title: "search".to_owned(),
            description: String::new(),
            severity: Severity::Informational,
            references: Vec::new(),
            source: None,
            pattern: pattern.to_owned(),
            metric: None,
            finding: true,
            enabled: true,
            failures: Default::default(),
            callers: Default::default(),
        };
        let rule = Rule::compile(spec, "command line")
            .map_err(anyhow::Error::msg)
            .context("the search pattern")?;
        (Catalogue::from_rules(vec![rule]), None)
    } else {
        let text = std::fs::read_to_string(pattern).with_context(|| {
            format!("`{pattern}` is neither a filter pattern (starting with `{{`) nor a readable Sigma rule file")
        })?;
        let (rules, skipped) = SigmaRules::load(&[(pattern, text.as_str())]);
        if rules.is_empty() {
            let reasons: Vec<String> = skipped.iter().map(ToString::to_string).collect();
            bail!("{pattern}: no Sigma rule loaded: {}", reasons.join("; "));
        }
        (Catalogue::default(), Some(rules))
    };
    Ok(Detector::new(catalogue, sigma, Severity::Informational, usize::MAX)?.every_match())
}

/// Runs `trailguard search`.
pub fn run(args: SearchArgs) -> anyhow::Result<Outcome> {
    let detector = detector(&args.pattern)?.with_filter(args.filter.record_filter());
    let report = gather(
        &args.targets,
        &args.filter,
        Arc::new(detector),
        args.jobs.unwrap_or_else(default_jobs),
        false,
        None,
    );
    // A record matching several rules of a Sigma file is printed once.
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let records: Vec<_> = report
        .findings
        .iter()
        .filter(|f| match (&f.event.event_id, &f.log_file) {
            (Some(id), file) => seen.insert((
                id.clone(),
                file.as_ref().map(ToString::to_string).unwrap_or_default(),
            )),
            (None, _) => true,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let asked = args.format.map(|f| match f {
        RecordFormat::Table => Format::Table,
        RecordFormat::Jsonl => Format::Jsonl,
    });
    match Format::resolve(asked, Format::Jsonl) {
        Format::Table => {
            let mut table = Table::new(&["WHEN", "WHO", "FROM", "HOW", "WHAT", "WHERE", "OUTCOME"]);
            for f in &records {
                table.row(vec![
                    f.event.time.clone().unwrap_or_else(|| "-".to_owned()),
                    format::clip(&format::who(f), 48),
                    f.event.source_ip.clone().unwrap_or_else(|| "-".to_owned()),
                    format::clip(f.event.user_agent.as_deref().unwrap_or("-"), 32),
                    format::what(f),
                    format::place(f),
                    format::outcome(f),
                ]);
            }
            write!(out, "{table}")?;
            writeln!(out, "{} matching record(s)", records.len())?;
        }
        Format::Json | Format::Jsonl => {
            for f in &records {
                writeln!(out, "{}", f.event.raw_event())?;
            }
        }
    }
    out.flush()?;
    print_errors(&report.errors);
    Ok(if !report.errors.is_empty() {
        Outcome::Failed
    } else if records.is_empty() {
        // grep's convention: 1 when nothing matched.
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brace_means_a_filter_pattern() {
        let d = detector(r#"{ $.eventName = "ConsoleLogin" }"#).unwrap();
        assert_eq!(d.catalogue().rules().len(), 1);
        assert!(d.sigma().is_none());
    }

    #[test]
    fn a_bad_pattern_or_missing_file_is_an_error() {
        let err = detector("{ $.eventName == 1 }").err().unwrap();
        assert!(format!("{err:#}").contains("pattern"), "{err:#}");
        let err = detector("/nonexistent/rule.yml").err().unwrap();
        assert!(
            err.to_string().contains("neither a filter pattern"),
            "{err}"
        );
    }
}
