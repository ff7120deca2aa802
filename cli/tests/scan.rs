//! `trailguard scan` and `trailguard search` through the real binary, over
//! the Stratus Red Team samples, locally and from S3 (moto).
//!
//! What the CLI prints is compared with the expectations the functions'
//! tests use: the findings written down in `engine/tests/expected/samples.rs`
//! (the CIS controls feed metrics and raise no finding by default), the
//! per-minute counts of the independent Python predicates
//! (`tools/cis_expectations.py`), and every datapoint with the metrics
//! function's own pass (`scan_file` + `Aggregator::count_record`).

mod common;
#[path = "../../engine/tests/expected/samples.rs"]
mod expected;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::{SAMPLES, runtime, sample_files, scratch, trailguard, trailguard_with};
use serde_json::Value;
use testkit::{Moto, repo_root};
use trailguard_engine::metrics::{Aggregator, AggregatorConfig};
use trailguard_engine::rules::Catalogue;
use trailguard_engine::scan::{RecordFilter, scan_file};
use trailguard_engine::sigma::SigmaRules;

const BUCKET: &str = "trailguard-cli-scan";
const PREFIX: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/";

/// `(rule id, eventID)` of every finding, sorted.
type Findings = Vec<(String, String)>;

/// Each line of `text` as JSON.
fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn finding_keys(findings: &[Value]) -> Findings {
    let mut keys: Findings = findings
        .iter()
        .map(|f| {
            (
                f["rule"]["id"].as_str().unwrap_or_default().to_owned(),
                f["eventId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn mtime(path: &Path) -> i64 {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    modified
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The datapoints the metrics function's pass gives for `files`.
fn metrics_function_datapoints(files: &[std::path::PathBuf]) -> Value {
    let catalogue = Catalogue::builtin().unwrap();
    let mut metrics = Aggregator::new(AggregatorConfig::default());
    for file in files {
        let mut per_file = Aggregator::new(AggregatorConfig::default());
        let fallback = mtime(file);
        scan_file(
            File::open(file).unwrap(),
            &file.display().to_string(),
            &catalogue,
            &RecordFilter::default(),
            |record, matched| per_file.count_record(record, matched, fallback),
        )
        .unwrap();
        metrics.merge(per_file);
    }
    serde_json::to_value(metrics.datums()).unwrap()
}

/// Every `(rule id, eventID)` expected on the samples with the default
/// rules: detections and Sigma matches as written down (the CIS controls
/// raise no finding unless a rule file turns theirs on).
fn expected_findings() -> BTreeSet<(String, String)> {
    let (sigma, _) = SigmaRules::builtin();
    let mut set = BTreeSet::new();
    for (rule, ids) in expected::DETECTIONS_ON_SAMPLES {
        set.extend(ids.iter().map(|id| ((*rule).to_owned(), (*id).to_owned())));
    }
    for (file, id) in expected::SIGMA_ON_SAMPLES {
        let rule = sigma
            .rules()
            .iter()
            .find(|r| r.file_name() == *file)
            .unwrap();
        set.insert((rule.id().to_owned(), (*id).to_owned()));
    }
    set.extend(
        expected::CORRELATIONS_ON_SAMPLES
            .iter()
            .map(|&(rule, id)| (rule.to_owned(), id.to_owned())),
    );
    set
}

fn finding_set(findings: &Value) -> BTreeSet<(String, String)> {
    finding_keys(findings.as_array().unwrap())
        .into_iter()
        .collect()
}

/// `{"MetricName": {"epochMinute": n}}` from `tools/cis_expectations.py`.
fn python_cis_counts(files: &[std::path::PathBuf]) -> BTreeMap<String, BTreeMap<String, f64>> {
    let out = Command::new("python3")
        .arg(repo_root().join("tools/cis_expectations.py"))
        .args(files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The CLI's CloudTrailMetrics datapoints in the same shape.
fn cis_counts(metrics: &Value) -> BTreeMap<String, BTreeMap<String, f64>> {
    let mut counts: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for datum in metrics.as_array().unwrap() {
        if datum["namespace"] != "CloudTrailMetrics" {
            continue;
        }
        let name = datum["metricName"].as_str().unwrap().to_owned();
        let minute = datum["timestamp"].as_i64().unwrap().to_string();
        *counts.entry(name).or_default().entry(minute).or_default() +=
            datum["value"].as_f64().unwrap();
    }
    counts
}

fn schema(name: &str) -> Value {
    let path = repo_root().join("schemas").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks the object shape `schema` describes: required keys present, no
/// keys it does not list (the schemas forbid additional properties).
fn assert_shape(value: &Value, schema: &Value, what: &str) {
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object"));
    let properties = schema["properties"].as_object().unwrap();
    for required in schema["required"].as_array().unwrap() {
        let key = required.as_str().unwrap();
        assert!(
            object.contains_key(key),
            "{what}: `{key}` missing in {value}"
        );
    }
    for key in object.keys() {
        assert!(
            properties.contains_key(key),
            "{what}: `{key}` not in the schema"
        );
    }
}

/// Checks a `scan --format json` document against both schemas' shapes.
fn assert_scan_output(doc: &Value) {
    let output = schema("scan-output.v1.schema.json");
    let finding = schema("finding.v1.schema.json");
    assert_shape(doc, &output, "document");
    assert_eq!(
        doc["schemaVersion"],
        output["properties"]["schemaVersion"]["const"]
    );
    for (list, item) in [
        ("files", &output["properties"]["files"]["items"]),
        ("metrics", &output["properties"]["metrics"]["items"]),
        ("errors", &output["properties"]["errors"]["items"]),
        ("findings", &finding),
    ] {
        for entry in doc[list].as_array().unwrap() {
            assert_shape(entry, item, list);
        }
    }
}

#[test]
fn local_scan_matches_the_functions_and_the_independent_cis_counts() {
    let files = sample_files();
    // Every match on its own, to compare with the functions' matches.
    let run = trailguard(
        &["scan", SAMPLES, "--format", "json", "--repeat-window", "0"],
        None,
    );
    assert_eq!(run.code, 1, "findings mean exit code 1\n{}", run.stderr);
    let doc = run.json();
    assert_scan_output(&doc);
    assert_eq!(doc["errors"], serde_json::json!([]));
    assert_eq!(doc["files"].as_array().unwrap().len(), 12);
    let records: u64 = doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["records"].as_u64().unwrap())
        .sum();
    assert_eq!(records, 758);

    let findings = finding_keys(doc["findings"].as_array().unwrap());
    assert_eq!(finding_set(&doc["findings"]), expected_findings());
    assert_eq!(doc["metrics"], metrics_function_datapoints(&files));
    let cis = cis_counts(&doc["metrics"]);
    assert!(!cis.is_empty());
    assert_eq!(cis, python_cis_counts(&files));

    // The same findings one per line; the default reports every match on
    // its own too.
    let jsonl = trailguard(&["scan", SAMPLES, "--format", "jsonl", "--jobs", "1"], None);
    assert_eq!(jsonl.code, 1);
    let lines = json_lines(&jsonl.stdout);
    assert_eq!(finding_keys(&lines), findings);
    // Two workers write lines as their files finish, still in file order.
    let parallel = trailguard(
        &[
            "scan",
            SAMPLES,
            "--format",
            "jsonl",
            "--jobs",
            "2",
            "--repeat-window",
            "0",
        ],
        None,
    );
    assert_eq!(parallel.code, 1);
    assert_eq!(parallel.stdout, jsonl.stdout);
    // `--only` applies to lines as to the document.
    let only = trailguard(
        &[
            "scan",
            SAMPLES,
            "--format",
            "jsonl",
            "--only",
            "ec2-password-data-retrieved",
            "--repeat-window",
            "0",
        ],
        None,
    );
    assert_eq!(only.code, 1);
    let only = json_lines(&only.stdout);
    let unauthorized: Vec<&Value> = lines
        .iter()
        .filter(|f| f["rule"]["id"] == "ec2-password-data-retrieved")
        .collect();
    assert!(!unauthorized.is_empty());
    assert_eq!(only.iter().collect::<Vec<_>>(), unauthorized);
}

/// A rule file repeating the CIS control with its finding on (the
/// built-in control raises none by default).
fn cis_unauthorized_with_findings() -> std::path::PathBuf {
    let path = scratch("cis-findings").join("cis-findings.yaml");
    std::fs::write(
        &path,
        r#"version: 1
rules:
  - id: cis-unauthorized-api-calls
    title: Unauthorized API calls
    severity: medium
    failures: signal
    callers: any
    pattern: '{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}'
"#,
    )
    .unwrap();
    path
}

#[test]
fn filters_and_rule_selection_narrow_the_scan() {
    let since = "2023-07-10T12:00:00Z";
    let rules = cis_unauthorized_with_findings();
    let run = trailguard(
        &[
            "scan",
            SAMPLES,
            "--rules",
            rules.to_str().unwrap(),
            "--since",
            since,
            "--only",
            "cis-unauthorized-api-calls",
            "--format",
            "json",
            "--repeat-window",
            "0",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["rule"]["id"], "cis-unauthorized-api-calls");
        assert!(f["time"].as_str().unwrap() >= since, "{f}");
    }
    let python = python_cis_counts(&sample_files());
    let later: f64 = python["UnauthorizedAPICalls"]
        .iter()
        .filter(|(minute, _)| minute.parse::<i64>().unwrap() >= 1_688_990_400)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(findings.len() as f64, later);

    let none = trailguard(
        &["scan", SAMPLES, "--region", "eu-west-3", "--format", "json"],
        None,
    );
    assert_eq!(
        none.code, 0,
        "no findings mean exit code 0\n{}",
        none.stderr
    );
    assert_eq!(none.json()["findings"], serde_json::json!([]));
}

#[test]
fn a_corrupt_file_is_reported_and_the_rest_still_scanned() {
    let dir = scratch("corrupt");
    for file in sample_files() {
        std::fs::copy(&file, dir.join(file.file_name().unwrap())).unwrap();
    }
    let gz = std::fs::read(sample_files()[1].clone()).unwrap();
    let broken = dir.join("broken.json.gz");
    File::create(&broken)
        .unwrap()
        .write_all(&gz[..gz.len() / 2])
        .unwrap();
    let not_json = dir.join("notes.json");
    std::fs::write(&not_json, "hello").unwrap();

    let dir_arg = dir.display().to_string();
    let run = trailguard(
        &["scan", &dir_arg, "--format", "json", "--repeat-window", "0"],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc = run.json();
    assert_scan_output(&doc);
    let errors = doc["errors"].as_array().unwrap();
    let paths: Vec<&str> = errors.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [broken.display().to_string(), not_json.display().to_string()]
    );
    assert!(
        errors[0]["error"].as_str().unwrap().contains("gzip"),
        "{}",
        errors[0]
    );
    assert!(run.stderr.contains("could not be read"), "{}", run.stderr);
    assert!(run.stderr.contains(&broken.display().to_string()));

    assert_eq!(finding_set(&doc["findings"]), expected_findings());

    // Lines too: every good file's findings, and exit code 2.
    let lines = trailguard(
        &[
            "scan",
            &dir_arg,
            "--format",
            "jsonl",
            "--repeat-window",
            "0",
        ],
        None,
    );
    assert_eq!(lines.code, 2, "{}", lines.stderr);
    let lines = json_lines(&lines.stdout);
    assert_eq!(finding_set(&Value::Array(lines)), expected_findings());

    let table = trailguard(&["scan", &dir_arg, "--format", "table"], None);
    assert_eq!(table.code, 2);
    assert!(table.stdout.starts_with("SEVERITY"), "{}", table.stdout);
    assert!(
        table.stdout.contains("2 file(s) unreadable"),
        "{}",
        table.stdout
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn an_s3_prefix_scans_like_the_same_files_on_disk() {
    let moto = Moto::start();
    let rt = runtime();
    rt.block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        for file in sample_files() {
            let key = format!("{PREFIX}{}", file.file_name().unwrap().to_string_lossy());
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(std::fs::read(&file).unwrap().into())
                .send()
                .await
                .unwrap();
        }
        // Not log files: skipped, not errors.
        for key in [
            "AWSLogs/218007301253/CloudTrail/ConfigWritabilityCheckFile",
            "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/218007301253_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T120000Z.json.gz",
        ] {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(b"x".to_vec().into())
                .send()
                .await
                .unwrap();
        }
    });
    let url = format!("s3://{BUCKET}/AWSLogs/");
    let remote = trailguard(&["scan", &url, "--format", "json"], Some(&moto));
    assert_eq!(remote.code, 1, "{}", remote.stderr);
    let local = trailguard(&["scan", SAMPLES, "--format", "json"], None);
    let (remote, local) = (remote.json(), local.json());

    let files = |doc: &Value| -> Vec<(String, Value, Value)> {
        doc["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                let name = path.rsplit('/').next().unwrap().to_owned();
                (name, f["records"].clone(), f["findings"].clone())
            })
            .collect()
    };
    assert_eq!(files(&remote), files(&local));
    let first = remote["files"][0]["path"].as_str().unwrap();
    assert!(
        first.starts_with(&format!("s3://{BUCKET}/{PREFIX}")),
        "{first}"
    );
    assert_eq!(remote["metrics"], local["metrics"]);
    assert_eq!(remote["errors"], serde_json::json!([]));
    let without_file = |doc: &Value| -> Vec<Value> {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let mut f = f.clone();
                f.as_object_mut().unwrap().remove("logFile");
                f
            })
            .collect()
    };
    assert_eq!(without_file(&remote), without_file(&local));
    let log_file = &remote["findings"][0]["logFile"];
    assert_eq!(log_file["bucket"], BUCKET);
    assert!(log_file["key"].as_str().unwrap().starts_with(PREFIX));
}

#[test]
fn search_prints_the_matching_records() {
    let pattern = r#"{ $.eventName = "StopLogging" }"#;
    let run = trailguard(&["search", pattern, SAMPLES, "--format", "jsonl"], None);
    assert_eq!(run.code, 0, "a match means exit code 0\n{}", run.stderr);
    let mut ids: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).unwrap();
            assert_eq!(record["eventName"], "StopLogging");
            record["eventID"].as_str().unwrap().to_owned()
        })
        .collect();
    ids.sort();
    // The three StopLogging attempts of the cloudtrail-stop detonation.
    assert_eq!(
        ids,
        [
            "9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
            "b4610d54-efe9-40b0-b9f9-71156081d520",
            "f6e10706-705c-47f2-94d4-112a9527ab8b",
        ]
    );

    let sigma = "engine/rules/sigma/aws_cloudtrail_disable_logging.yml";
    let table = trailguard(&["search", sigma, SAMPLES, "--format", "table"], None);
    assert_eq!(table.code, 0, "{}", table.stderr);
    assert!(table.stdout.starts_with("WHEN"), "{}", table.stdout);
    assert!(
        table.stdout.contains("cloudtrail:StopLogging"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.ends_with("3 matching record(s)\n"),
        "{}",
        table.stdout
    );

    let nothing = trailguard(
        &["search", r#"{ $.eventName = "NoSuchCall" }"#, SAMPLES],
        None,
    );
    assert_eq!(nothing.code, 1);
    assert_eq!(nothing.stdout, "");
}

/// The severities in rank order, most urgent first.
const RANKS: [&str; 5] = ["critical", "high", "medium", "low", "informational"];

#[test]
fn an_account_named_only_by_the_file_names_is_explained() {
    // The samples are filed under the trail's account, 218007301253; their
    // records happened in 123837392027.
    let keyed = trailguard(
        &[
            "scan",
            SAMPLES,
            "--account",
            "218007301253",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(keyed.code, 0, "{}", keyed.stderr);
    assert_eq!(keyed.json()["findings"], serde_json::json!([]));
    assert!(
        keyed
            .stderr
            .contains("no record belongs to account 218007301253, though the file names do"),
        "{}",
        keyed.stderr
    );
    let records = trailguard(
        &[
            "scan",
            SAMPLES,
            "--account",
            "123837392027",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(records.code, 1, "{}", records.stderr);
    assert!(
        !records.stderr.contains("no record belongs"),
        "{}",
        records.stderr
    );
    let other = trailguard(
        &[
            "scan",
            SAMPLES,
            "--account",
            "999999999999",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(other.code, 0, "{}", other.stderr);
    assert!(
        !other.stderr.contains("no record belongs"),
        "{}",
        other.stderr
    );
}

#[test]
fn the_table_is_sorted_by_severity_then_time_fitted_and_summarised() {
    // Bursts folded as the notifier folds them.
    let json = trailguard(
        &[
            "scan",
            SAMPLES,
            "--format",
            "json",
            "--repeat-window",
            "3600",
        ],
        None,
    )
    .json();
    let findings = json["findings"].as_array().unwrap();
    for width in ["80", "120"] {
        let run = trailguard_with(
            &[
                "scan",
                SAMPLES,
                "--format",
                "table",
                "--repeat-window",
                "3600",
            ],
            None,
            &[("COLUMNS", width)],
        );
        assert_eq!(run.code, 1, "{}", run.stderr);
        let limit: usize = width.parse().unwrap();
        for line in run.stdout.lines() {
            assert!(line.chars().count() <= limit, "wider than {width}: {line}");
        }
        // The listing: header, then one row per finding, most urgent first.
        let rows: Vec<&str> = run
            .stdout
            .lines()
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        // A burst folded in two files is one row.
        let distinct: BTreeSet<&str> = findings.iter().map(|f| f["id"].as_str().unwrap()).collect();
        assert!(
            distinct.len() < findings.len(),
            "the samples hold a burst over two files"
        );
        assert_eq!(rows.len(), distinct.len());
        assert!(run.stdout.contains("(29x) EC2"), "{}", run.stdout);
        let keys: Vec<(usize, &str)> = rows
            .iter()
            .map(|row| {
                let mut cells = row.split_whitespace();
                let severity = cells.next().unwrap();
                let rank = RANKS.iter().position(|r| *r == severity).unwrap();
                (rank, cells.next().unwrap())
            })
            .collect();
        assert!(
            keys.is_sorted(),
            "not by severity then time:\n{}",
            run.stdout
        );
        // Rules by title: no Sigma id (a UUID) is shown.
        for f in findings.iter().filter(|f| f["rule"]["engine"] == "sigma") {
            let id = f["rule"]["id"].as_str().unwrap();
            assert!(!run.stdout.contains(id), "{id} shown instead of its title");
        }
        // The summary: one row per rule, then the totals.
        let summary = run
            .stdout
            .split_once("\nSEVERITY ")
            .and_then(|(_, rest)| rest.split_once('\n'))
            .filter(|(header, _)| {
                header
                    .split_whitespace()
                    .eq(["FINDINGS", "EVENTS", "HELD", "BACK", "RULE"])
            })
            .map(|(_, rows)| rows);
        let summary = summary.unwrap_or_else(|| panic!("no summary:\n{}", run.stdout));
        let rules: BTreeSet<&str> = findings
            .iter()
            .map(|f| f["rule"]["id"].as_str().unwrap())
            .collect();
        let summary_rows = summary
            .lines()
            .take_while(|l| !l.starts_with("by severity"))
            .count();
        assert_eq!(summary_rows, rules.len(), "{summary}");
        let total = format!("{} finding(s) in ", distinct.len());
        assert!(
            run.stdout.lines().rev().nth(1).unwrap().starts_with(&total),
            "{}",
            run.stdout
        );
    }
    let summary = trailguard(&["scan", SAMPLES, "--summary"], None);
    assert_eq!(summary.code, 1, "{}", summary.stderr);
    assert!(
        summary.stdout.lines().next().is_some_and(|header| header
            .split_whitespace()
            .eq(["SEVERITY", "FINDINGS", "EVENTS", "HELD", "BACK", "RULE"])),
        "{}",
        summary.stdout
    );
    assert!(
        !summary.stdout.contains("WHEN"),
        "only the summary: {}",
        summary.stdout
    );
}
