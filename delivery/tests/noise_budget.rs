//! The noise budget (docs/detections.md, "Noise budget"), measured:
//!
//! - over the benign corpus `tests/data/benign/routine-activity.json.gz`
//!   (routine work in documented event shapes, written by
//!   `tools/benign_corpus.py`), the default catalogue raises no finding at
//!   medium or above, and the notifier's default settings publish at most
//!   [`PER_THOUSAND`] findings per thousand records;
//! - over the Stratus Red Team samples as the demo delivers them (one file
//!   at a time, notifier defaults), no AWS service-linked role is the actor
//!   of a finding and the rules that flooded the old demo are quiet;
//! - precision by design: on the samples, failed calls of change rules are
//!   attempts, and calls by AWS services raise nothing.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use trailguard_delivery::notifier::{NotifierConfig, detector};
use trailguard_engine::ObjectRef;
use trailguard_engine::config::Lookup;
use trailguard_engine::detect::Detector;
use trailguard_engine::findings::Finding;
use trailguard_engine::rules::{Catalogue, Severity};
use trailguard_engine::sigma::SigmaRules;

/// Findings the notifier may publish per thousand routine records.
const PER_THOUSAND: usize = 3;

fn data(relative: &str) -> PathBuf {
    testkit::repo_root()
        .join("engine/tests/data")
        .join(relative)
}

/// The notifier's detector with nothing configured but the topic.
fn notifier_defaults() -> Detector {
    let env: Lookup<'_> = &|name: &str| {
        (name == "TRAILGUARD_FINDINGS_TOPIC_ARN")
            .then(|| "arn:aws:sns:us-east-1:111122223333:findings".to_owned())
    };
    let config = NotifierConfig::from_env(env).expect("defaults parse");
    detector(&config, &[]).expect("default rules load")
}

/// `trailguard scan`'s detector: built-in rules and SigmaHQ rules, every
/// severity, no flood cap.
fn scan_defaults() -> Detector {
    let catalogue = Catalogue::builtin().expect("built-in rules load");
    let (sigma, _) = SigmaRules::builtin();
    Detector::new(catalogue, Some(sigma), Severity::Informational, usize::MAX)
        .expect("detector builds")
}

fn scan(detector: &Detector, path: &Path) -> (Vec<Finding>, u64) {
    let file = File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("log");
    let object = ObjectRef::new("bucket", format!("AWSLogs/{name}"));
    let found = detector
        .scan(file, &object, None)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    assert_eq!(found.rejected, 0, "{}", path.display());
    (found.findings, found.records)
}

fn by_rule(findings: &[Finding]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts
            .entry(format!("{} [{}]", f.rule.title, f.rule.severity))
            .or_default() += 1;
    }
    counts
}

fn corpus() -> PathBuf {
    data("benign/routine-activity.json.gz")
}

#[test]
fn the_benign_corpus_raises_nothing_at_medium_or_above() {
    let (findings, records) = scan(&scan_defaults(), &corpus());
    eprintln!(
        "scan defaults: {} findings over {records} routine records: {:?}",
        findings.len(),
        by_rule(&findings)
    );
    assert!(records >= 1000, "{records} records");
    let loud: Vec<String> = findings
        .iter()
        .filter(|f| f.rule.severity >= Severity::Medium)
        .map(|f| format!("{}: {}", f.rule.title, f.subject()))
        .collect();
    assert!(loud.is_empty(), "{loud:#?}");
    // The corpus does exercise the rules: informational context remains.
    assert!(
        !findings.is_empty(),
        "no finding at all: the corpus tests nothing"
    );
}

#[test]
fn default_notifier_settings_stay_within_the_budget_on_routine_work() {
    let (findings, records) = scan(&notifier_defaults(), &corpus());
    eprintln!(
        "notifier defaults: {} findings over {records} routine records: {:?}",
        findings.len(),
        by_rule(&findings)
    );
    let allowed = records as usize * PER_THOUSAND / 1000;
    assert!(
        findings.len() <= allowed,
        "{} findings over {records} records (budget {allowed}): {:#?}",
        findings.len(),
        by_rule(&findings)
    );
}

fn sample_files() -> Vec<PathBuf> {
    let dir = data("invictus-stratus");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 12);
    paths
}

/// The findings of the samples, delivered file by file as the demo does.
fn sample_findings(detector: &Detector) -> Vec<Finding> {
    sample_files()
        .iter()
        .flat_map(|path| scan(detector, path).0)
        .collect()
}

/// What the notifier publishes of `findings`: its dedup table drops a
/// finding whose id it has published (a folded burst seen in a second file).
fn published(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter(|f| seen.insert(f.id.clone()))
        .collect()
}

fn service_linked(finding: &Finding) -> bool {
    let who = &finding.event.who;
    [who.arn.as_deref(), who.session_issuer.as_deref()]
        .into_iter()
        .flatten()
        .any(|arn| arn.contains("AWSServiceRoleFor") || arn.contains(":role/aws-service-role/"))
}

#[test]
fn in_the_demo_no_service_acts_and_routine_rules_are_quiet() {
    let findings = published(sample_findings(&notifier_defaults()));
    let counts = by_rule(&findings);
    let total = findings.len();
    eprintln!("demo (notifier defaults): {total} findings: {counts:#?}");
    assert!(total >= 10, "{total} findings: {counts:#?}");
    // No rule makes more than a tenth of what a person reads: bursts are
    // one finding with a count.
    for (rule, n) in &counts {
        assert!(n * 10 <= total, "{rule}: {n} of {total}: {counts:#?}");
    }
    let password = findings
        .iter()
        .find(|f| f.rule.id == "ec2-password-data-retrieved")
        .and_then(|f| f.repeats.as_deref())
        .map(|r| r.count);
    assert_eq!(
        password,
        Some(24),
        "the first file's burst of GetPasswordData calls"
    );
    // The rules that made most of the old demo's findings make none.
    for quiet in [
        "AWS STS AssumeRole Misuse",
        "Route table changed",
        "New Network Route Added",
    ] {
        assert!(
            !counts.keys().any(|rule| rule.starts_with(quiet)),
            "{quiet}: {counts:#?}"
        );
    }
    let by_services: Vec<String> = findings
        .iter()
        .filter(|f| service_linked(f))
        .map(Finding::subject)
        .collect();
    assert!(by_services.is_empty(), "{by_services:#?}");
}

#[test]
fn failed_changes_are_attempts_and_failed_probes_are_not() {
    let findings = sample_findings(&scan_defaults());
    // The three StopLogging calls of the samples failed (TrailNotFound):
    // attempts, reported at medium instead of critical.
    let stops: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule.id == "cloudtrail-logging-stopped")
        .collect();
    assert_eq!(stops.len(), 3);
    for stop in &stops {
        assert!(stop.attempt && !stop.event.outcome.success);
        assert_eq!(stop.rule.severity, Severity::Medium);
        assert!(stop.subject().contains("Attempt: "), "{}", stop.subject());
        let wire = serde_json::to_value(stop).expect("serialises");
        assert_eq!(wire["attempt"], true);
    }
    // The 29 denied GetPasswordData calls are the signal: full severity.
    let probes: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule.id == "ec2-password-data-retrieved")
        .collect();
    assert_eq!(probes.len(), 29);
    assert!(
        probes
            .iter()
            .all(|f| !f.attempt && f.rule.severity == Severity::Medium)
    );
    // Successful changes are never attempts, and nothing is by a service.
    assert!(
        findings
            .iter()
            .filter(|f| f.event.outcome.success)
            .all(|f| !f.attempt)
    );
    assert!(!findings.iter().any(service_linked));
}
