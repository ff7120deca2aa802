//! `trailguard scan` with correlation rules: an attack split across log
//! files of two regions gives one correlation finding whatever the order
//! the files are handed in, and a file given twice changes nothing.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{scratch, trailguard};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// The built-in "Backdoor IAM user created, made administrator and given an
/// access key" correlation.
const BACKDOOR: &str = "c8950918-e236-4fe5-83d0-3c7bb18f13fd";

fn iam(id: &str, minute: u32, region: &str, name: &str, params: Value) -> Value {
    let time = format!("2024-03-01T10:{minute:02}:00Z");
    testkit::intruder_iam_call(id, &time, region, name, params)
}

/// A gzipped CloudTrail log file under `dir`, named as CloudTrail names them.
fn log_file(dir: &Path, region: &str, stamp: &str, records: &[Value]) -> PathBuf {
    let path = dir.join(format!(
        "111122223333_CloudTrail_{region}_{stamp}_{:04}.json.gz",
        records.len()
    ));
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(json!({"Records": records}).to_string().as_bytes())
        .unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    path
}

/// The three files of the attack: the user created in us-east-1, the
/// policy attached (and unrelated noise) in eu-west-1, the key in us-east-1.
fn attack_files(dir: &Path, key_user: &str) -> Vec<PathBuf> {
    let create = iam(
        "c1",
        0,
        "us-east-1",
        "CreateUser",
        json!({"userName": "backup"}),
    );
    let attach = iam(
        "a1",
        6,
        "eu-west-1",
        "AttachUserPolicy",
        json!({"userName": "backup", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    );
    let noise = iam("n1", 7, "eu-west-1", "ListUsers", json!({}));
    let key = iam(
        "k1",
        12,
        "us-east-1",
        "CreateAccessKey",
        json!({"userName": key_user}),
    );
    vec![
        log_file(dir, "us-east-1", "20240301T1000Z", &[create]),
        log_file(dir, "eu-west-1", "20240301T1005Z", &[attach, noise]),
        log_file(dir, "us-east-1", "20240301T1010Z", &[key]),
    ]
}

/// The correlation findings of `trailguard scan --format jsonl files...`.
fn correlation_findings(files: &[PathBuf]) -> Vec<Value> {
    let mut args = vec!["scan", "--format", "jsonl", "--jobs", "2"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let run = trailguard(&args, None);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|f| f.get("correlation").is_some())
        .collect()
}

#[test]
fn an_attack_across_files_and_regions_gives_one_finding_in_any_order() {
    let dir = scratch("correlate-attack");
    let files = attack_files(&dir, "backup");
    let found = correlation_findings(&files);
    assert_eq!(found.len(), 1, "{found:#?}");
    let finding = &found[0];
    assert_eq!(finding["rule"]["id"], BACKDOOR);
    assert_eq!(finding["schemaVersion"], "1.4");
    assert_eq!(finding["eventId"], "k1");
    assert_eq!(finding["correlation"]["type"], "temporal_ordered");
    assert_eq!(
        finding["correlation"]["eventIds"],
        json!(["c1", "a1", "k1"])
    );
    assert_eq!(
        finding["correlation"]["groupBy"]["requestParameters.userName"],
        "backup"
    );
    assert_eq!(
        finding["correlation"]["windowStart"],
        "2024-03-01T10:00:00Z"
    );
    assert_eq!(finding["correlation"]["windowEnd"], "2024-03-01T10:12:00Z");

    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(correlation_findings(&reversed), found);
    let mut twice = reversed.clone();
    twice.push(files[1].clone());
    assert_eq!(correlation_findings(&twice), found);

    // The inputs report only through the correlation.
    let run = trailguard(
        &["scan", "--format", "jsonl", &files[0].display().to_string()],
        None,
    );
    assert!(
        !run.stdout.contains("d502903f-aa9e-4f25-a42d-786644c00206"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_near_miss_gives_no_correlation_finding() {
    let dir = scratch("correlate-miss");
    let files = attack_files(&dir, "someone-else");
    assert_eq!(correlation_findings(&files), Vec::<Value>::new());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_table_shows_the_correlation() {
    let dir = scratch("correlate-table");
    let files = attack_files(&dir, "backup");
    let mut args = vec!["scan".to_owned(), "--format".to_owned(), "table".to_owned()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = trailguard(&args, None);
    assert!(
        run.stdout.contains("Backdoor IAM user created"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rules_test_and_explain_take_correlation_cases() {
    let dir = scratch("correlate-rules");
    let rule = dir.join("pair.yml");
    std::fs::write(
        &rule,
        "title: Stop\nid: stop-1\nname: stop\nlogsource: {product: aws}\ndetection:\n  sel: {eventName: StopLogging}\n  condition: sel\n---\n\
         title: Delete\nid: delete-1\nname: delete\nlogsource: {product: aws}\ndetection:\n  sel: {eventName: DeleteTrail}\n  condition: sel\n---\n\
         title: Stop then delete\nid: pair-1\ncorrelation:\n  type: temporal_ordered\n  rules: [stop, delete-1]\n  group-by: [userIdentity.arn]\n  timespan: 5m\nlevel: high\n",
    )
    .unwrap();
    let at = |id: &str, minute: u32, name: &str| {
        json!({"eventTime": format!("2024-03-01T10:{minute:02}:00Z"), "eventID": id, "eventName": name,
               "eventSource": "cloudtrail.amazonaws.com", "userIdentity": {"arn": "arn:aws:iam::1:user/x"}})
    };
    let cases = json!({"version": 1, "tests": [
        {"rule": "pair-1", "name": "in order", "expect": "match",
         "events": [at("b", 3, "DeleteTrail"), at("a", 1, "StopLogging")]},
        {"rule": "pair-1", "name": "wrong order", "expect": "no-match",
         "events": [at("a", 3, "StopLogging"), at("b", 1, "DeleteTrail")]},
        {"rule": "pair-1", "name": "too slow", "expect": "no-match",
         "events": [at("a", 1, "StopLogging"), at("b", 9, "DeleteTrail")]},
    ]});
    let cases_path = dir.join("cases.json");
    std::fs::write(&cases_path, cases.to_string()).unwrap();
    let rule_arg = rule.display().to_string();
    let run = trailguard(
        &[
            "rules",
            "test",
            &rule_arg,
            "--events",
            &cases_path.display().to_string(),
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("3 passed, 0 failed"), "{}", run.stdout);

    let events = dir.join("events.json");
    std::fs::write(
        &events,
        json!([at("b", 3, "DeleteTrail"), at("a", 1, "StopLogging")]).to_string(),
    )
    .unwrap();
    let run = trailguard(
        &[
            "explain",
            "pair-1",
            "--event",
            &events.display().to_string(),
            "--rules",
            &rule_arg,
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("pair-1 (correlation): fired"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("userIdentity.arn=arn:aws:iam::1:user/x: 2 hit(s), 1 window(s) fired"),
        "{}",
        run.stdout
    );
    std::fs::remove_dir_all(dir).unwrap();
}
