//! `trailguard rules list` and `trailguard rules test`.
//!
//! `rules test` reads test cases in the format of
//! `engine/rules/tests/detections.yaml` (`version: 1`, then `tests:`, each
//! with `rule`, `name`, `expect: match|no-match` and one CloudTrail
//! `event`) and runs each against the named rule of the given rule files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use trailguard_engine::rules::{Catalogue, Severity};
use trailguard_engine::sigma::SigmaRules;
use trailguard_engine::sigma::correlation::{Replay, replay};

use crate::format::{Format, Table};
use crate::outcome::Outcome;
use crate::ruleset::{RuleArgs, RuleFiles};

/// `trailguard rules ...`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the rules: id, engine, severity, references, title, origin.
    List(ListArgs),
    /// Run test cases against rules; exit code 1 when a case fails.
    Test(TestArgs),
}

/// `trailguard rules list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Output format: table or json [default: table on a terminal, json otherwise].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
}

/// `trailguard rules test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Rule files or folders (trailguard and Sigma) holding the rules under test.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// The test cases (YAML, as engine/rules/tests/detections.yaml).
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
}

/// One row of `rules list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    /// Rule id.
    pub id: String,
    /// `trailguard` or `sigma`.
    pub engine: &'static str,
    /// Severity.
    pub severity: Severity,
    /// `scheme:id` references.
    pub references: Vec<String>,
    /// Title.
    pub title: String,
    /// Where it was loaded from.
    pub origin: String,
}

/// Rows for every rule of both engines, trailguard rules first.
pub fn rows(catalogue: &Catalogue, sigma: Option<&SigmaRules>) -> Vec<RuleRow> {
    let mut rows: Vec<RuleRow> = catalogue
        .rules()
        .iter()
        .map(|r| RuleRow {
            id: r.id().to_owned(),
            engine: "trailguard",
            severity: r.spec().severity,
            references: r.spec().references.clone(),
            title: r.spec().title.clone(),
            origin: r.origin().to_owned(),
        })
        .collect();
    rows.extend(sigma.iter().flat_map(|s| s.rules()).map(|r| RuleRow {
        id: r.id().to_owned(),
        engine: "sigma",
        severity: r.severity(),
        references: r.references().to_vec(),
        title: r.title().to_owned(),
        origin: r.origin().to_owned(),
    }));
    let correlations = sigma.iter().flat_map(|s| s.correlations().rules());
    rows.extend(correlations.map(|r| RuleRow {
        id: r.id.clone(),
        engine: "sigma",
        severity: r.severity,
        references: r.references.clone(),
        title: r.title.clone(),
        origin: r.origin.clone(),
    }));
    rows
}

/// The test-case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    version: u32,
    tests: Vec<Case>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    name: String,
    expect: Expect,
    /// One event, for a detection rule.
    #[serde(default)]
    event: Value,
    /// Several events, in any order, for a correlation rule.
    #[serde(default)]
    events: Vec<Value>,
    /// For a correlation rule: how many findings `match` means (default 1).
    #[serde(default)]
    findings: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Expect {
    Match,
    NoMatch,
}

/// How one case went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// `rule: name`.
    pub label: String,
    /// Whether it passed.
    pub passed: bool,
    /// For failures: what happened, and the condition tree where there is one.
    pub detail: String,
}

/// Runs `trailguard rules ...`.
pub fn run(command: RulesCommand) -> anyhow::Result<Outcome> {
    match command {
        RulesCommand::List(args) => list(args),
        RulesCommand::Test(args) => test(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<Outcome> {
    let ruleset = args.rules.load().context("loading rules")?;
    if let Some(sigma) = &ruleset.sigma
        && !ruleset.skipped.is_empty()
    {
        // Which SigmaHQ rules are not run, and why, belongs next to the list.
        eprintln!("{}", sigma.summary(&ruleset.skipped));
    }
    let rows = rows(&ruleset.catalogue, ruleset.sigma.as_ref());
    let mut out = std::io::stdout().lock();
    match Format::resolve(args.format, Format::Json) {
        Format::Table => {
            let mut table =
                Table::new(&["ID", "ENGINE", "SEVERITY", "REFERENCES", "TITLE", "ORIGIN"]);
            for r in &rows {
                table.row(vec![
                    r.id.clone(),
                    r.engine.to_owned(),
                    r.severity.as_str().to_owned(),
                    crate::format::clip(&r.references.join(","), 60),
                    r.title.clone(),
                    r.origin.clone(),
                ]);
            }
            write!(out, "{table}")?;
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Jsonl => {
            for r in &rows {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
        }
    }
    Ok(Outcome::Clean)
}

fn test(args: TestArgs) -> anyhow::Result<Outcome> {
    let files = RuleFiles::read(&args.rules)?;
    let catalogue = Catalogue::load(false, &files.trailguard)?;
    let (sigma, skipped) = SigmaRules::load(&files.sigma);
    for skip in &skipped {
        eprintln!("trailguard: warning: {skip}");
    }
    let text = std::fs::read_to_string(&args.events)
        .with_context(|| format!("cannot read {}", args.events.display()))?;
    let cases: CaseFile = yaml_serde::from_str(&text)
        .with_context(|| format!("{}: not a test-case file", args.events.display()))?;
    if cases.version != 1 {
        bail!(
            "{}: version {} is not supported (expected 1)",
            args.events.display(),
            cases.version
        );
    }
    let results: Vec<CaseResult> = cases
        .tests
        .iter()
        .map(|case| run_case(&catalogue, &sigma, case))
        .collect();
    let mut out = std::io::stdout().lock();
    for r in &results {
        writeln!(
            out,
            "{} {}",
            if r.passed { "PASS" } else { "FAIL" },
            r.label
        )?;
        for line in r.detail.lines() {
            writeln!(out, "       {line}")?;
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    writeln!(
        out,
        "\n{} passed, {failed} failed, {} cases",
        results.len() - failed,
        results.len()
    )?;
    Ok(Outcome::found_if(failed > 0))
}

fn run_case(catalogue: &Catalogue, sigma: &SigmaRules, case: &Case) -> CaseResult {
    let label = format!("{}: {}", case.rule, case.name);
    let expected = case.expect == Expect::Match;
    let (matched, tree) = if let Some(replay) = replay(sigma, &case.rule, &case.events) {
        let found = replay.findings.len();
        let matched = match case.findings {
            Some(n) => found == n,
            None => found == 1,
        };
        (matched, Some(correlation_state(&replay)))
    } else if let Some(rule) = catalogue.get(&case.rule) {
        let explanation = rule.pattern().explain(&case.event);
        (explanation.held, Some(explanation.to_string()))
    } else if let Some(rule) = sigma.rules().iter().find(|r| r.id() == case.rule) {
        (rule.matches(&case.event), None)
    } else {
        return CaseResult {
            label,
            passed: false,
            detail: format!("no rule `{}` in the given rule files", case.rule),
        };
    };
    let word = |m: bool| if m { "match" } else { "no match" };
    let passed = matched == expected;
    let detail = if passed {
        String::new()
    } else {
        let mut detail = format!("expected {}, got {}", word(expected), word(matched));
        if let Some(tree) = tree {
            detail.push('\n');
            detail.push_str(&tree);
        }
        detail
    };
    CaseResult {
        label,
        passed,
        detail,
    }
}

/// A correlation's state after a replay: each referenced rule's matches,
/// each group's hits and windows fired, and the findings.
pub fn correlation_state(replay: &Replay) -> String {
    let mut text = format!("referenced rules matched: {:?}\n", replay.matched);
    for group in &replay.groups {
        let values: Vec<String> = group
            .group
            .iter()
            .map(|(f, v)| format!("{f}={v}"))
            .collect();
        text.push_str(&format!(
            "group {}: {} hit(s), {} window(s) fired\n",
            values.join(", "),
            group.hits,
            group.matches
        ));
    }
    for finding in &replay.findings {
        if let Some(c) = &finding.correlation {
            text.push_str(&format!(
                "finding {}: {} to {}, {}; events {}\n",
                finding.id,
                c.window_start,
                c.window_end,
                c.measure_text(),
                c.event_ids.join(", ")
            ));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailguard_engine::rules::RuleText;

    const RULES: &str = "version: 1\nrules:\n  - id: root\n    title: Root\n    severity: high\n    pattern: '{ $.userIdentity.type = \"Root\" && $.eventType != \"AwsServiceEvent\" }'\n";

    fn case(expect: Expect, kind: &str) -> Case {
        Case {
            rule: "root".to_owned(),
            name: "n".to_owned(),
            expect,
            event: serde_json::json!({"userIdentity": {"type": kind}, "eventType": "AwsApiCall"}),
            events: Vec::new(),
            findings: None,
        }
    }

    #[test]
    fn cases_pass_or_fail_with_the_condition_tree() {
        let catalogue = Catalogue::load(
            false,
            &[RuleText {
                origin: "r.yaml".to_owned(),
                text: RULES.to_owned(),
            }],
        )
        .unwrap();
        let sigma = SigmaRules::default();
        assert!(run_case(&catalogue, &sigma, &case(Expect::Match, "Root")).passed);
        let failed = run_case(&catalogue, &sigma, &case(Expect::Match, "IAMUser"));
        assert!(!failed.passed);
        assert!(
            failed.detail.starts_with("expected match, got no match\n"),
            "{}",
            failed.detail
        );
        assert!(
            failed
                .detail
                .contains("failed $.userIdentity.type = \"Root\""),
            "{}",
            failed.detail
        );
        let mut unknown = case(Expect::Match, "Root");
        unknown.rule = "nope".to_owned();
        assert_eq!(
            run_case(&catalogue, &sigma, &unknown).detail,
            "no rule `nope` in the given rule files"
        );
    }

    #[test]
    fn list_rows_cover_both_engines() {
        let catalogue = Catalogue::builtin().unwrap();
        let (sigma, _) = SigmaRules::builtin();
        let rows = rows(&catalogue, Some(&sigma));
        assert_eq!(rows.len(), catalogue.rules().len() + sigma.len());
        assert_eq!(rows[0].engine, "trailguard");
        assert_eq!(rows.last().map(|r| r.engine), Some("sigma"));
    }
}
