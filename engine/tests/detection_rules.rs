//! trailguard's curated detection rules (`rules/detections.yaml`), checked
//! three ways:
//!
//! - the rule file is well formed: unique ids, one-line titles, a known
//!   severity, `scheme:id` references including a MITRE ATT&CK technique, a
//!   pattern that parses, and no unknown keys;
//! - every case of `rules/tests/detections.yaml` gives its expected result,
//!   and every rule has at least one matching and one near-miss case;
//! - over the CloudTrail records of the Stratus Red Team detonations in
//!   `tests/data/invictus-stratus/`, the rules raise exactly the findings
//!   listed in [`EXPECTED_ON_SAMPLES`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::Value;
use trailguard_engine::rules::filter_pattern::FilterPattern;

#[path = "expected/samples.rs"]
mod expected;
use expected::DETECTIONS_ON_SAMPLES as EXPECTED_ON_SAMPLES;

/// `rules/detections.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    version: u32,
    rules: Vec<Rule>,
}

/// One rule, mirroring the rule-file format field for field; unknown keys are
/// errors there, so they are here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    title: String,
    description: String,
    severity: String,
    references: Vec<String>,
    pattern: FilterPattern,
    #[serde(default = "default_finding")]
    finding: bool,
    metric: Option<Value>,
    /// `attempt` or `signal` (checked by the catalogue's own loader).
    #[serde(default)]
    failures: Option<String>,
    /// `principals` or `any`.
    #[serde(default)]
    callers: Option<String>,
}

fn default_finding() -> bool {
    true
}

/// `rules/tests/detections.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    version: u32,
    tests: Vec<Case>,
}

/// One test case: an event and whether the named rule must match it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    name: String,
    expect: Expect,
    event: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Expect {
    Match,
    NoMatch,
}

const SEVERITIES: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn crate_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_yaml<T: for<'de> Deserialize<'de>>(relative: &str) -> T {
    let path = crate_path(relative);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn rules() -> Vec<Rule> {
    let file: RuleFile = read_yaml("rules/detections.yaml");
    assert_eq!(file.version, 1, "rules/detections.yaml version");
    file.rules
}

fn cases() -> Vec<Case> {
    let file: CaseFile = read_yaml("rules/tests/detections.yaml");
    assert_eq!(file.version, 1, "rules/tests/detections.yaml version");
    file.tests
}

/// `attack:T1234` or `attack:T1234.567`.
fn is_attack_technique(reference: &str) -> bool {
    let Some(id) = reference.strip_prefix("attack:T") else {
        return false;
    };
    let (technique, sub) = match id.split_once('.') {
        Some((technique, sub)) => (technique, Some(sub)),
        None => (id, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(technique, 4) && sub.is_none_or(|sub| digits(sub, 3))
}

/// What is wrong with one rule's metadata, if anything.
fn metadata_problems(rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    let id_ok = !rule.id.is_empty()
        && rule
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !id_ok {
        problems.push("id must be lowercase letters, digits, '-', '_' or '.'".to_owned());
    }
    if rule.title.trim().is_empty() || rule.title.contains('\n') {
        problems.push(format!(
            "title must be one non-empty line: {:?}",
            rule.title
        ));
    }
    if rule.description.trim().is_empty() {
        problems.push("description is empty".to_owned());
    }
    if !SEVERITIES.contains(&rule.severity.as_str()) {
        problems.push(format!(
            "severity {:?} is not one of {SEVERITIES:?}",
            rule.severity
        ));
    }
    for reference in &rule.references {
        let well_formed = reference.split_once(':').is_some_and(|(scheme, id)| {
            !scheme.is_empty()
                && scheme.chars().all(|c| c.is_ascii_lowercase())
                && !id.is_empty()
                && !id.contains(char::is_whitespace)
        });
        if !well_formed {
            problems.push(format!("reference {reference:?} is not `scheme:id`"));
        }
        if reference.starts_with("attack:") && !is_attack_technique(reference) {
            problems.push(format!("{reference:?} is not an ATT&CK technique id"));
        }
    }
    if !rule.references.iter().any(|r| is_attack_technique(r)) {
        problems.push("no attack:Txxxx(.yyy) reference".to_owned());
    }
    if !rule.finding {
        problems.push("a detection rule must raise a finding".to_owned());
    }
    if rule.metric.is_some() {
        problems.push("a detection rule has no metric".to_owned());
    }
    if let Some(failures) = &rule.failures
        && !["attempt", "signal"].contains(&failures.as_str())
    {
        problems.push(format!("failures {failures:?} is not attempt or signal"));
    }
    if let Some(callers) = &rule.callers
        && !["principals", "any"].contains(&callers.as_str())
    {
        problems.push(format!("callers {callers:?} is not principals or any"));
    }
    problems
}

#[test]
fn rule_file_is_well_formed() {
    let rules = rules();
    assert!(!rules.is_empty(), "no rules");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for rule in &rules {
        if !seen.insert(rule.id.as_str()) {
            problems.push(format!("{}: duplicate id", rule.id));
        }
        problems.extend(
            metadata_problems(rule)
                .into_iter()
                .map(|problem| format!("{}: {problem}", rule.id)),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn metadata_checks_catch_bad_rules() {
    let good = Rule {
        id: "x.y_z-1".to_owned(),
        title: "Title".to_owned(),
        description: "Why.".to_owned(),
        severity: "low".to_owned(),
        references: vec!["attack:T1098.001".to_owned(), "stratus:aws.a-b".to_owned()],
        pattern: FilterPattern::parse("{ $.a = 1 }").unwrap_or_else(|err| panic!("pattern: {err}")),
        finding: true,
        metric: None,
        failures: None,
        callers: None,
    };
    assert_eq!(metadata_problems(&good), Vec::<String>::new());

    let bad = Rule {
        id: "Upper Case".to_owned(),
        title: "two\nlines".to_owned(),
        description: " ".to_owned(),
        severity: "severe".to_owned(),
        references: vec!["attack:T15620".to_owned(), "no scheme".to_owned()],
        finding: false,
        metric: Some(Value::Null),
        ..good
    };
    // id, title, description, severity, each bad reference, no technique,
    // finding and metric.
    assert_eq!(
        metadata_problems(&bad).len(),
        9,
        "{:?}",
        metadata_problems(&bad)
    );
}

#[test]
fn attack_technique_ids_are_recognised() {
    for good in ["attack:T1078", "attack:T1562.008"] {
        assert!(is_attack_technique(good), "{good}");
    }
    for bad in [
        "attack:T107",
        "attack:T1562.08",
        "attack:1078",
        "attack:T1078.",
        "mitre:T1078",
        "attack:TA0001",
    ] {
        assert!(!is_attack_technique(bad), "{bad}");
    }
}

#[test]
fn every_rule_has_a_match_and_a_near_miss_case() {
    let rules = rules();
    let cases = cases();
    let mut expectations: BTreeMap<&str, BTreeSet<Expect>> = rules
        .iter()
        .map(|rule| (rule.id.as_str(), BTreeSet::new()))
        .collect();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for case in &cases {
        match expectations.get_mut(case.rule.as_str()) {
            Some(kinds) => {
                kinds.insert(case.expect);
            }
            None => problems.push(format!(
                "case {:?} names unknown rule {}",
                case.name, case.rule
            )),
        }
        if !names.insert((case.rule.as_str(), case.name.as_str())) {
            problems.push(format!(
                "{}: duplicate case name {:?}",
                case.rule, case.name
            ));
        }
    }
    for (rule, kinds) in &expectations {
        for kind in [Expect::Match, Expect::NoMatch] {
            if !kinds.contains(&kind) {
                problems.push(format!("{rule}: no {kind:?} case"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_case_gives_its_expected_result() {
    let rules = rules();
    let by_id: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut failures = Vec::new();
    for case in cases() {
        let Some(rule) = by_id.get(case.rule.as_str()) else {
            failures.push(format!(
                "{}: unknown rule for case {:?}",
                case.rule, case.name
            ));
            continue;
        };
        let matched = rule.pattern.matches(&case.event);
        if matched != (case.expect == Expect::Match) {
            failures.push(format!(
                "{} / {:?}: expected {:?}, got {}\n{}",
                rule.id,
                case.name,
                case.expect,
                if matched { "a match" } else { "no match" },
                rule.pattern.explain(&case.event)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every CloudTrail record of the sample log files.
fn sample_records() -> Vec<Value> {
    let dir = crate_path("tests/data/invictus-stratus");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 12, "sample log files in {}", dir.display());
    paths
        .iter()
        .flat_map(|path| {
            let file = File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let mut log: Value = serde_json::from_reader(GzDecoder::new(file))
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            match log.get_mut("Records").map(Value::take) {
                Some(Value::Array(records)) => records,
                _ => panic!("{}: no Records array", path.display()),
            }
        })
        .collect()
}

#[test]
fn stratus_samples_raise_exactly_the_expected_findings() {
    let rules = rules();
    let records = sample_records();
    let mut actual = BTreeSet::new();
    for record in &records {
        let Some(event_id) = record.get("eventID").and_then(Value::as_str) else {
            panic!("record without eventID: {record}");
        };
        for rule in &rules {
            if rule.pattern.matches(record) {
                actual.insert((rule.id.clone(), event_id.to_owned()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = EXPECTED_ON_SAMPLES
        .iter()
        .flat_map(|(rule, ids)| ids.iter().map(|id| (rule.to_string(), id.to_string())))
        .collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "over {} records:\nunexpected findings: {unexpected:#?}\nmissing findings: {missing:#?}",
        records.len()
    );
}

/// The typed path (an `eventName` look-up and each unindexed rule's
/// one-field guard, read from the record's fields) finds exactly what the
/// document path finds, on every sample record and on records shaped to
/// meet or miss each guard.
#[test]
fn typed_records_match_the_same_rules_as_documents() {
    let catalogue = trailguard_engine::rules::Catalogue::builtin().expect("built-in rules load");
    let crafted = [
        r#"{"userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventType":"AwsApiCall","eventName":"ListBuckets"}"#,
        r#"{"userIdentity":{"type":null},"errorCode":"AccessDenied","eventName":"GetObject"}"#,
        r#"{"userIdentity":null,"errorCode":"Client.UnauthorizedOperation"}"#,
        r#"{"userIdentity":{"type":"Ro\u006ft"},"eventType":"AwsApiCall"}"#,
        r#"{"errorCode":null,"eventSource":"bedrock.amazonaws.com","eventName":"InvokeModel"}"#,
        "{}",
    ];
    let mut records: Vec<Value> = sample_records();
    records.extend(
        crafted
            .iter()
            .map(|t| serde_json::from_str(t).expect("crafted record parses")),
    );
    let mut matched = 0;
    for value in &records {
        let text = value.to_string();
        let record = trailguard_engine::Record::from_json(&text).expect("record parses");
        let by_document: Vec<&str> = catalogue.matches(value).iter().map(|r| r.id()).collect();
        let mut by_record = Vec::new();
        catalogue.for_each_match_record(&record, |r| by_record.push(r.id()));
        assert_eq!(by_record, by_document, "{text}");
        matched += by_record.len();
    }
    // The comparison is only worth something if rules do match.
    assert!(matched > 100, "{matched} matches");
}

/// The notifier's pass remembers, per combination of a few field values,
/// which rules of both engines are worth evaluating. Over a file holding
/// every sample record twice (the second copy answered from that memory)
/// and records shaped to differ from a sample only in such a field, it
/// raises exactly the findings each record's own evaluation gives.
#[test]
fn a_detector_pass_finds_what_each_record_matches_alone() {
    use trailguard_engine::detect::Detector;
    use trailguard_engine::rules::{Catalogue, Precision, Severity, Verdict};
    use trailguard_engine::sigma::SigmaRules;

    let catalogue = Catalogue::builtin().expect("built-in rules load");
    let (sigma, _) = SigmaRules::builtin();
    let samples = sample_records();
    let mut records = samples.clone();
    for (i, sample) in samples.iter().enumerate().step_by(7) {
        let mut variant = sample.clone();
        variant["eventID"] = Value::from(format!("variant-{i}"));
        match i % 4 {
            0 => variant["userIdentity"]["type"] = Value::from("Root"),
            1 => variant["errorCode"] = Value::from("AccessDenied"),
            2 => variant["userAgent"] = Value::from("TruffleHog"),
            _ => variant["userIdentity"]["arn"] = Value::Null,
        }
        records.push(variant);
    }
    records.extend(samples);

    // Each record alone: the rules it matches that raise findings, less
    // those the precision rules skip (calls by AWS services).
    let mut expected: Vec<(String, String)> = Vec::new();
    for value in &records {
        let event_id = value["eventID"].as_str().unwrap_or_default().to_owned();
        let text = value.to_string();
        let record = trailguard_engine::Record::from_json(&text).expect("record parses");
        let kept = |precision: Precision| precision.judge(&record) != Verdict::Skip;
        let ids = catalogue
            .matches(value)
            .into_iter()
            .filter(|rule| rule.spec().finding && kept(rule.precision()))
            .map(|rule| rule.id().to_owned())
            .chain(
                sigma
                    .matching(value)
                    .filter(|rule| kept(rule.precision()))
                    .map(|rule| rule.id().to_owned()),
            );
        expected.extend(ids.map(|id| (id, event_id.clone())));
    }
    expected.sort();

    let log = serde_json::to_vec(&serde_json::json!({ "Records": records })).expect("serialises");
    let detector = Detector::new(catalogue, Some(sigma), Severity::Informational, usize::MAX)
        .expect("detector builds");
    let object = trailguard_engine::ObjectRef::new("bucket", "AWSLogs/samples.json");
    let found = detector.scan(log.as_slice(), &object, None).expect("scans");
    let mut raised: Vec<(String, String)> = found
        .findings
        .iter()
        .map(|f| {
            let event_id = f.event.event_id.clone().unwrap_or_default();
            (f.rule.id.clone(), event_id)
        })
        .collect();
    raised.sort();
    assert_eq!(found.records, records.len() as u64);
    let missing: Vec<_> = expected.iter().filter(|e| !raised.contains(e)).collect();
    let unexpected: Vec<_> = raised.iter().filter(|r| !expected.contains(r)).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:?}\nunexpected: {unexpected:?}"
    );
    assert_eq!(raised, expected);
    assert!(expected.len() > 300, "{} findings", expected.len());
}
