//! `trailguard remediate plan` on what the notifier really publishes (the
//! generated `events/remediator/sns-finding-*.json`) and on what
//! `trailguard scan --format jsonl` prints.

mod common;

use common::{SAMPLES, scratch, trailguard};
use serde_json::Value;
use testkit::repo_root;

#[test]
fn published_findings_map_to_their_action_and_resource() {
    let expected = [
        (
            "sns-finding-authorize-security-group-ingress.json",
            "security-group-open-ingress",
        ),
        ("sns-finding-stop-logging.json", "cloudtrail-logging"),
        ("sns-finding-put-bucket-policy.json", "s3-public-access"),
        (
            "sns-finding-delete-bucket-public-access-block.json",
            "s3-public-access",
        ),
        (
            "sns-finding-modify-snapshot-attribute.json",
            "snapshot-public",
        ),
        ("sns-finding-modify-image-attribute.json", "image-public"),
        ("sns-finding-schedule-key-deletion.json", "kms-key-deletion"),
        (
            "sns-finding-stop-configuration-recorder.json",
            "config-recorder",
        ),
        ("sns-finding-create-access-key.json", "iam-access-key"),
    ];
    for (name, action) in expected {
        let path = format!("events/remediator/{name}");
        let run = trailguard(&["remediate", "plan", &path, "--format", "json"], None);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        let rows = run.json();
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{name}: {rows}");
        assert_eq!(rows[0]["action"], action, "{name}");
        // The resource is the one the notifier named in the finding.
        let sample: Value =
            serde_json::from_str(&std::fs::read_to_string(repo_root().join(&path)).unwrap())
                .unwrap();
        let sns_message = sample["Records"][0]["Sns"]["MessageId"].as_str().unwrap();
        assert_eq!(
            rows[0]["trigger"],
            format!("SNS message {sns_message}"),
            "{name}"
        );
        let finding: Value =
            serde_json::from_str(sample["Records"][0]["Sns"]["Message"].as_str().unwrap()).unwrap();
        let resource = &finding["remediation"]["resource"];
        let id = [
            "groupId",
            "name",
            "snapshotId",
            "imageId",
            "keyId",
            "accessKeyId",
        ]
        .iter()
        .find_map(|k| resource[*k].as_str())
        .unwrap_or_else(|| panic!("{name}: {resource}"));
        assert!(
            rows[0]["resource"].as_str().unwrap().contains(id),
            "{name}: {} does not name {id}",
            rows[0]["resource"]
        );
    }
}

#[test]
fn scan_output_is_planned_line_by_line() {
    let scan = trailguard(&["scan", SAMPLES, "--format", "jsonl"], None);
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let findings = scan.stdout.lines().filter(|l| !l.trim().is_empty()).count();
    let path = scratch("remediate-plan").join("findings.jsonl");
    std::fs::write(&path, &scan.stdout).unwrap();

    let plan = trailguard(
        &[
            "remediate",
            "plan",
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
        None,
    );
    // Most findings on the samples are no action's business.
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    let rows = plan.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), findings);
    assert!(
        rows.iter()
            .all(|r| r["trigger"].as_str().unwrap().starts_with("line "))
    );
    assert!(rows.iter().any(|r| {
        r["action"].is_null()
            && r["reason"]
                .as_str()
                .unwrap()
                .starts_with("no remediation action handles")
    }));

    let table = trailguard(&["remediate", "plan", path.to_str().unwrap()], None);
    assert!(table.stdout.starts_with("TRIGGER"), "{}", table.stdout);

    let garbage = scratch("remediate-plan").join("garbage.txt");
    std::fs::write(&garbage, "not json\n").unwrap();
    let bad = trailguard(&["remediate", "plan", garbage.to_str().unwrap()], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}
