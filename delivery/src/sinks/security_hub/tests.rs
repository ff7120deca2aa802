use std::sync::Arc;

use serde_json::{Value, json};

use super::*;
use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::findings::finding::EventFacts;

fn product() -> Product {
    Product {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "999988887777".into(),
    }
}

fn rule() -> RuleInfo {
    RuleInfo {
        id: "cloudtrail-logging-stopped".into(),
        title: "CloudTrail logging stopped".into(),
        description: "Someone stopped a trail.".into(),
        severity: rules::Severity::High,
        references: vec![
            "attack:T1562.008".into(),
            "stratus:aws.defense-evasion.cloudtrail-stop".into(),
        ],
        engine: "trailguard",
    }
}

fn event() -> Value {
    json!({
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                         "userName": "alice", "accountId": "111122223333"},
        "eventTime": "2023-07-10T12:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "eventID": "ev-1",
        "recipientAccountId": "111122223333"
    })
}

fn finding(rule: RuleInfo, event: &Value) -> Finding {
    let object = ObjectRef::new("trail-bucket", "AWSLogs/111122223333/f.json.gz");
    Finding::new(rule, event, Some(&object))
}

fn resource_pairs(asff: &AwsSecurityFinding) -> Vec<(String, String)> {
    asff.resources()
        .iter()
        .map(|r| {
            (
                r.r#type().unwrap_or_default().to_owned(),
                r.id().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn maps_every_field() {
    let f = finding(rule(), &event());
    let asff = to_asff(&f, &product(), 0);
    assert_eq!(asff.schema_version(), Some("2018-10-08"));
    assert_eq!(asff.id(), Some(f.id.as_str()));
    assert_eq!(
        asff.product_arn(),
        Some("arn:aws:securityhub:eu-west-1:999988887777:product/999988887777/default")
    );
    assert_eq!(asff.product_name(), Some("trailguard"));
    assert_eq!(asff.generator_id(), Some("cloudtrail-logging-stopped"));
    assert_eq!(asff.aws_account_id(), Some("999988887777"));
    assert_eq!(asff.region(), Some("eu-west-1"));
    assert_eq!(asff.types(), ["TTPs/Defense Evasion"]);
    for time in [
        asff.created_at(),
        asff.updated_at(),
        asff.first_observed_at(),
        asff.last_observed_at(),
    ] {
        assert_eq!(time, Some("2023-07-10T12:00:00Z"));
    }
    let severity = asff.severity().unwrap();
    assert_eq!(severity.label(), Some(&SeverityLabel::High));
    assert_eq!(severity.original(), Some("high"));
    assert_eq!(asff.title(), Some("CloudTrail logging stopped"));
    assert_eq!(
        asff.description(),
        Some(
            "Someone stopped a trail.\n\nWho: arn:aws:iam::111122223333:user/alice (IAMUser). \
             What: cloudtrail.amazonaws.com StopLogging, succeeded. \
             Where: account 111122223333, region us-east-1, from 203.0.113.9."
        )
    );
    assert_eq!(
        resource_pairs(&asff),
        [
            (
                "AwsIamUser".to_owned(),
                "arn:aws:iam::111122223333:user/alice".to_owned()
            ),
            (
                "AwsAccount".to_owned(),
                "AWS::::Account:111122223333".to_owned()
            ),
        ]
    );
    assert!(
        asff.resources()
            .iter()
            .all(|r| r.region() == Some("us-east-1"))
    );
    let fields = asff.product_fields().unwrap();
    let expected = [
        ("ruleId", "cloudtrail-logging-stopped"),
        ("engine", "trailguard"),
        (
            "references",
            "attack:T1562.008 stratus:aws.defense-evasion.cloudtrail-stop",
        ),
        ("eventID", "ev-1"),
        ("eventName", "StopLogging"),
        ("eventSource", "cloudtrail.amazonaws.com"),
        ("sourceIp", "203.0.113.9"),
        ("eventAccount", "111122223333"),
        ("eventRegion", "us-east-1"),
        (
            "logFile",
            "s3://trail-bucket/AWSLogs/111122223333/f.json.gz",
        ),
    ];
    assert_eq!(fields.len(), expected.len());
    for (key, value) in expected {
        assert_eq!(
            fields.get(&format!("trailguard/{key}")).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
}

#[test]
fn every_severity_has_its_label() {
    let cases = [
        (rules::Severity::Informational, SeverityLabel::Informational),
        (rules::Severity::Low, SeverityLabel::Low),
        (rules::Severity::Medium, SeverityLabel::Medium),
        (rules::Severity::High, SeverityLabel::High),
        (rules::Severity::Critical, SeverityLabel::Critical),
    ];
    for (severity, label) in cases {
        let f = finding(RuleInfo { severity, ..rule() }, &event());
        let asff = to_asff(&f, &product(), 0);
        assert_eq!(asff.severity().and_then(|s| s.label()), Some(&label));
        assert_eq!(
            asff.severity().and_then(|s| s.original()),
            Some(severity.as_str())
        );
    }
}

#[test]
fn long_texts_are_cut_to_the_limits() {
    let long = RuleInfo {
        id: "r".repeat(600),
        title: "T".repeat(300),
        description: "d".repeat(2000),
        ..rule()
    };
    let mut e = event();
    e["eventName"] = json!("N".repeat(3000));
    let asff = to_asff(&finding(long, &e), &product(), 0);
    let title = asff.title().unwrap();
    assert_eq!(title.chars().count(), MAX_TITLE_CHARS);
    assert!(title.ends_with('…'));
    let generator = asff.generator_id().unwrap();
    assert_eq!(generator.chars().count(), MAX_GENERATOR_ID_CHARS);
    // The event name alone exceeds the description: the facts are cut.
    let description = asff.description().unwrap();
    assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
    assert!(description.starts_with("Who: arn:aws:iam::111122223333:user/alice"));
    let fields = asff.product_fields().unwrap();
    assert_eq!(
        fields["trailguard/eventName"].chars().count(),
        MAX_PRODUCT_FIELD_CHARS
    );
    assert_eq!(fields["trailguard/ruleId"].chars().count(), 600);
}

#[test]
fn a_long_rule_description_gives_way_to_the_event_facts() {
    let verbose = RuleInfo {
        description: "é".repeat(2000),
        ..rule()
    };
    let asff = to_asff(&finding(verbose, &event()), &product(), 0);
    let description = asff.description().unwrap();
    assert_eq!(description.chars().count(), MAX_DESCRIPTION_CHARS);
    assert!(description.starts_with("éé"));
    assert!(description.contains("…\n\nWho: "));
    assert!(description.ends_with("from 203.0.113.9."));
}

#[test]
fn missing_facets_give_placeholders_and_the_importing_account() {
    let bare = json!({"eventID": "ev-2"});
    let f = Finding::on(
        Arc::new(RuleInfo {
            title: " ".into(),
            description: String::new(),
            references: vec![],
            ..rule()
        }),
        Arc::new(EventFacts::from_value(&bare)),
        None,
    );
    // 2023-11-14T22:13:20Z
    let asff = to_asff(&f, &product(), 1_700_000_000);
    assert_eq!(asff.created_at(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(asff.updated_at(), Some("2023-11-14T22:13:20Z"));
    assert_eq!(asff.title(), Some("cloudtrail-logging-stopped"));
    assert_eq!(asff.types(), [UNCLASSIFIED_TYPE]);
    assert_eq!(
        asff.description(),
        Some(
            "Who: unknown principal (unknown type). \
             What: unknown service unknown action, succeeded. \
             Where: account unknown, region unknown, from unknown address."
        )
    );
    assert_eq!(
        resource_pairs(&asff),
        [(
            "AwsAccount".to_owned(),
            "AWS::::Account:999988887777".to_owned()
        )]
    );
    assert_eq!(asff.resources()[0].region(), Some("eu-west-1"));
    let fields = asff.product_fields().unwrap();
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "trailguard/engine",
            "trailguard/eventID",
            "trailguard/ruleId"
        ]
    );
}

#[test]
fn malformed_event_times_fall_back_to_now() {
    let mut e = event();
    e["eventTime"] = json!("yesterday");
    let asff = to_asff(&finding(rule(), &e), &product(), 0);
    assert_eq!(asff.created_at(), Some("1970-01-01T00:00:00Z"));
}

#[test]
fn principals_become_typed_resources() {
    let cases = [
        (
            json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/ops/s",
                   "accountId": "1",
                   "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/ops"}}}),
            vec![("AwsIamRole", "arn:aws:iam::1:role/ops")],
        ),
        (
            json!({"type": "AssumedRole", "arn": "arn:aws:sts::1:assumed-role/ops/s",
                   "accountId": "1"}),
            vec![("Other", "arn:aws:sts::1:assumed-role/ops/s")],
        ),
        (
            json!({"type": "Root", "arn": "arn:aws:iam::1:root", "accountId": "1"}),
            vec![],
        ),
        (
            json!({"type": "FederatedUser", "arn": "arn:aws:sts::1:federated-user/bob",
                   "accountId": "1"}),
            vec![("Other", "arn:aws:sts::1:federated-user/bob")],
        ),
        (
            json!({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"}),
            vec![],
        ),
    ];
    for (identity, principal) in cases {
        let e = json!({"eventID": "e", "userIdentity": identity, "recipientAccountId": "1"});
        let asff = to_asff(&finding(rule(), &e), &product(), 0);
        let mut expected: Vec<(String, String)> = principal
            .iter()
            .map(|(t, i)| ((*t).to_owned(), (*i).to_owned()))
            .collect();
        expected.push(("AwsAccount".to_owned(), "AWS::::Account:1".to_owned()));
        assert_eq!(resource_pairs(&asff), expected, "{identity}");
    }
}

#[test]
fn types_follow_tactics_procedures_and_benchmarks() {
    let types = |references: &[&str]| {
        finding_types(&RuleInfo {
            references: references.iter().map(|r| (*r).to_owned()).collect(),
            ..rule()
        })
    };
    assert_eq!(
        types(&[
            "attack:T1078",
            "attack-tactic:privilege-escalation",
            "attack-tactic:command-and-control",
            "stratus:aws.privilege-escalation.x",
        ]),
        ["TTPs/Privilege Escalation", "TTPs/Command and Control"]
    );
    assert_eq!(types(&["attack:T1530", "attack:T1537"]), ["TTPs"]);
    assert_eq!(
        types(&["securityhub:CloudWatch.1", "cis-aws-foundations-1.2.0:3.3"]),
        [CIS_TYPE]
    );
    assert_eq!(
        types(&["cis-aws-foundations:4.3", "attack-tactic:stealth"]),
        [CIS_TYPE, "TTPs/Stealth"]
    );
    assert_eq!(
        types(&[
            "sigma-tag:cve.2021-44228",
            "attack-tactic:Bad Tactic",
            "stratus:x"
        ]),
        [UNCLASSIFIED_TYPE]
    );
    let many: Vec<String> = (0..60)
        .map(|i| format!("attack-tactic:t{}", "a".repeat(i + 1)))
        .collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(types(&refs).len(), MAX_TYPES);
}

#[test]
fn product_arns_name_the_default_product() {
    let gov = Product {
        partition: "aws-us-gov".into(),
        region: "us-gov-west-1".into(),
        account: "1".into(),
    };
    assert_eq!(
        gov.arn(),
        "arn:aws-us-gov:securityhub:us-gov-west-1:1:product/1/default"
    );
}
