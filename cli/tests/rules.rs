//! `trailguard rules list`, `rules test` and `explain` through the binary.

mod common;
#[path = "../../engine/tests/expected/samples.rs"]
mod expected;

use common::{sample_files, scratch, trailguard};
use serde_json::Value;

const DETECTIONS: &str = "engine/rules/detections.yaml";
const CASES: &str = "engine/rules/tests/detections.yaml";

#[test]
fn the_detection_test_cases_pass() {
    let cases: Value =
        yaml_serde::from_str(&std::fs::read_to_string(testkit::repo_root().join(CASES)).unwrap())
            .unwrap();
    let total = cases["tests"].as_array().unwrap().len();
    let run = trailguard(&["rules", "test", DETECTIONS, "--events", CASES], None);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.starts_with("PASS "))
            .count(),
        total
    );
    assert!(
        run.stdout
            .ends_with(&format!("\n{total} passed, 0 failed, {total} cases\n")),
        "{}",
        run.stdout
    );
}

#[test]
fn a_failing_case_shows_the_condition_tree_and_exits_1() {
    let dir = scratch("rules-test");
    let cases = dir.join("cases.yaml");
    std::fs::write(
        &cases,
        r#"version: 1
tests:
  - rule: cloudtrail-logging-stopped
    name: a read-only call
    expect: match
    event:
      eventSource: cloudtrail.amazonaws.com
      eventName: DescribeTrails
  - rule: cloudtrail-logging-stopped
    name: stop
    expect: no-match
    event:
      eventSource: cloudtrail.amazonaws.com
      eventName: GetTrailStatus
"#,
    )
    .unwrap();
    let cases_arg = cases.display().to_string();
    let run = trailguard(&["rules", "test", DETECTIONS, "--events", &cases_arg], None);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("FAIL cloudtrail-logging-stopped: a read-only call")
    );
    assert_eq!(lines.next(), Some("       expected match, got no match"));
    assert!(
        lines
            .next()
            .is_some_and(|l| l.trim_start().starts_with("failed ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("PASS cloudtrail-logging-stopped: stop\n")
    );
    assert!(
        run.stdout.ends_with("\n1 passed, 1 failed, 2 cases\n"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rules_list_names_both_engines() {
    let run = trailguard(&["rules", "list", "--format", "json"], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rows = run.json();
    let rows = rows.as_array().unwrap();
    let root = rows
        .iter()
        .find(|r| r["id"] == "cis-root-account-usage")
        .unwrap();
    assert_eq!(root["engine"], "trailguard");
    assert_eq!(root["origin"], "built-in:cis.yaml");
    assert!(root["references"].as_array().is_some_and(|r| !r.is_empty()));
    assert!(rows.iter().any(|r| r["engine"] == "sigma"));

    let table = trailguard(
        &[
            "rules",
            "list",
            "--no-sigma",
            "--rules",
            DETECTIONS,
            "--format",
            "table",
        ],
        None,
    );
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("ID "), "{}", table.stdout);
    assert!(!table.stdout.contains(" sigma "));
    assert!(
        table.stdout.contains(DETECTIONS),
        "user files override built-ins by id"
    );
}

#[test]
fn explain_prints_which_conditions_held() {
    let dir = scratch("explain");
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        r#"{"eventID":"e-1","eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","userIdentity":{"type":"IAMUser"}}"#,
    )
    .unwrap();
    let event_arg = event.display().to_string();
    let run = trailguard(
        &[
            "explain",
            "cloudtrail-logging-stopped",
            "--event",
            &event_arg,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let mut lines = run.stdout.lines();
    assert_eq!(
        lines.next(),
        Some("cloudtrail-logging-stopped: event e-1: matched")
    );
    assert!(
        lines.next().is_some_and(|l| l.starts_with("held ")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("StopLogging"), "{}", run.stdout);

    std::fs::write(
        &event,
        r#"{"Records":[{"eventID":"e-2","eventSource":"s3.amazonaws.com","eventName":"GetObject"}]}"#,
    )
    .unwrap();
    let miss = trailguard(
        &[
            "explain",
            "cloudtrail-logging-stopped",
            "--event",
            &event_arg,
        ],
        None,
    );
    assert_eq!(miss.code, 1);
    assert!(
        miss.stdout
            .starts_with("cloudtrail-logging-stopped: event e-2: not matched\nfailed "),
        "{}",
        miss.stdout
    );

    let unknown = trailguard(&["explain", "no-such-rule", "--event", &event_arg], None);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no rule `no-such-rule` is loaded"),
        "{}",
        unknown.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn explain_reads_delivered_gzip_log_files_like_scan() {
    let mut matched = Vec::new();
    for file in sample_files() {
        let file = file.display().to_string();
        let run = trailguard(
            &["explain", "cloudtrail-logging-stopped", "--event", &file],
            None,
        );
        assert!(run.code < 2, "{file}: {}", run.stderr);
        matched.extend(run.stdout.lines().filter_map(|l| {
            let id = l.strip_prefix("cloudtrail-logging-stopped: event ")?;
            Some(id.strip_suffix(": matched")?.to_owned())
        }));
    }
    matched.sort();
    let expected = expected::DETECTIONS_ON_SAMPLES
        .iter()
        .find(|(rule, _)| *rule == "cloudtrail-logging-stopped")
        .map(|(_, ids)| ids.to_vec())
        .unwrap();
    assert_eq!(matched, expected);
}
