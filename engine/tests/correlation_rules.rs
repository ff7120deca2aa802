//! Sigma correlation rules: the evaluation semantics, and every built-in
//! correlation on its attack and its near-misses.

use serde_json::{Value, json};
use trailguard_engine::ObjectRef;
use trailguard_engine::detect::Detector;
use trailguard_engine::findings::Finding;
use trailguard_engine::rules::{Catalogue, Severity};
use trailguard_engine::sigma::SigmaRules;
use trailguard_engine::sigma::correlation::{Collector, DEFAULT_CAP};

/// A CloudTrail record at `minute:second` past 10:00 on 2024-03-01.
fn event(id: &str, at: (u32, u32), name: &str, source: &str, arn: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "eventTime": format!("2024-03-01T10:{:02}:{:02}Z", at.0, at.1),
        "eventID": id,
        "eventType": "AwsApiCall",
        "eventName": name,
        "eventSource": source,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "recipientAccountId": "111122223333",
        "userIdentity": {"type": "IAMUser", "arn": arn, "accountId": "111122223333",
                          "userName": arn.rsplit('/').next().unwrap_or("x")},
    })
}

fn with(mut event: Value, key: &str, value: Value) -> Value {
    if let Some(map) = event.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
    event
}

/// Findings of a scan of `events` (in any number of files) with `sigma`:
/// the detector's findings, then the correlation findings.
fn scan(sigma: &SigmaRules, files: &[Vec<Value>]) -> (Vec<Finding>, Vec<Finding>) {
    let catalogue = Catalogue::load(false, &[]).expect("empty catalogue");
    let detector = Detector::new(
        catalogue,
        Some(sigma.clone()),
        Severity::Informational,
        usize::MAX,
    )
    .expect("detector")
    .with_correlation_inputs();
    let mut collector = Collector::new(sigma.correlations().clone(), DEFAULT_CAP);
    let mut plain = Vec::new();
    for (i, records) in files.iter().enumerate() {
        let text = json!({"Records": records}).to_string();
        let object = ObjectRef::new("bucket", format!("file-{i}.json"));
        let found = detector.scan(text.as_bytes(), &object, None).expect("scan");
        found
            .correlation_inputs
            .into_iter()
            .for_each(|input| collector.offer(input));
        plain.extend(found.findings);
    }
    (plain, collector.finish().findings)
}

fn builtin() -> SigmaRules {
    let (rules, skipped) = SigmaRules::builtin_with_correlations();
    let correlation_skips: Vec<_> = skipped
        .iter()
        .filter(|s| s.origin.contains("correlation") || s.file_name().starts_with("trailguard_"))
        .collect();
    assert!(correlation_skips.is_empty(), "{correlation_skips:?}");
    rules
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.id.as_str()).collect()
}

const BY_IP: &str = "99a4dd5d-638e-476f-a070-ac80086f0ff3";
const BY_USER: &str = "9a94b22a-761a-4367-809e-e22618c7e85e";
const DENIED: &str = "e50c12e7-a31d-40fd-a561-089630a22e8f";
const SECRETS: &str = "d01328d9-2f6c-4759-8162-d35c3339036c";
const BACKDOOR: &str = "c8950918-e236-4fe5-83d0-3c7bb18f13fd";
const DISCOVERY: &str = "028cf9a5-0e2c-42ff-8a73-30fd57039dd2";

/// A console sign-in by `user`.
fn sign_in(id: &str, at: (u32, u32), user: &str) -> Value {
    let e = event(
        id,
        at,
        "ConsoleLogin",
        "signin.amazonaws.com",
        &format!("arn:aws:iam::111122223333:user/{user}"),
    );
    with(e, "eventType", json!("AwsConsoleSignIn"))
}

fn failed_login(id: &str, at: (u32, u32), user: &str, ip: &str) -> Value {
    let e = with(
        sign_in(id, at, user),
        "errorMessage",
        json!("Failed authentication"),
    );
    with(e, "sourceIPAddress", json!(ip))
}

#[test]
fn builtin_correlations_load_and_their_inputs_are_silent() {
    let rules = builtin();
    let (rules_loaded, skipped) = SigmaRules::builtin_with_correlations();
    assert!(
        rules.correlations().len() >= 14,
        "{}",
        rules.correlations().len()
    );
    let summary = rules_loaded.summary(&skipped);
    assert!(!summary.contains("correlation rule"), "{summary}");
    assert!(
        rules
            .correlations()
            .silences("ce3c3ea4-e222-4e27-9e73-b37c40333c79")
    );
    // SigmaHQ's own failed-login rule is not an input: it still reports.
    assert!(
        !rules
            .correlations()
            .silences("6393e346-1977-46ef-8987-ad414a145fad")
    );
}

#[test]
fn console_brute_force_fires_once_per_source_and_user() {
    let rules = builtin();
    let attack: Vec<Value> = (0..12)
        .map(|i| failed_login(&format!("e{i:02}"), (i, 0), "alice", "198.51.100.9"))
        .collect();
    let (_, mut found) = scan(&rules, std::slice::from_ref(&attack));
    found.sort_by_key(|f| f.rule.id == BY_USER);
    assert_eq!(ids(&found), [BY_IP, BY_USER], "{found:?}");
    let facts = found[0].correlation.as_ref().expect("correlation member");
    assert_eq!(facts.event_total, 10);
    assert_eq!(
        facts.group_by.get("sourceIPAddress").map(String::as_str),
        Some("198.51.100.9")
    );
    assert_eq!(found[0].event.event_id.as_deref(), Some("e09"));
    // Split over files, reversed, one file given twice: the same findings.
    let (first, second) = attack.split_at(5);
    let (_, again) = scan(&rules, &[second.to_vec(), first.to_vec(), second.to_vec()]);
    let mut want: Vec<&String> = found.iter().map(|f| &f.id).collect();
    let mut got: Vec<&String> = again.iter().map(|f| &f.id).collect();
    want.sort();
    got.sort();
    assert_eq!(want, got);
}

#[test]
fn console_brute_force_near_misses_do_not_fire() {
    let rules = builtin();
    // Ten failures from one address for ten users, one every four
    // minutes: never ten within 10 minutes.
    let slow: Vec<Value> = (0..10)
        .map(|i| {
            failed_login(
                &format!("s{i}"),
                (i * 4 % 60, 0),
                &format!("u{i}"),
                "198.51.100.9",
            )
        })
        .collect();
    let (_, found) = scan(&rules, &[slow]);
    assert!(found.is_empty(), "{found:?}");
    // Ten failures in a minute, from ten addresses and for ten users.
    let spread: Vec<Value> = (0..10)
        .map(|i| {
            failed_login(
                &format!("d{i}"),
                (0, i * 5),
                &format!("u{i}"),
                &format!("198.51.100.{i}"),
            )
        })
        .collect();
    let (_, found) = scan(&rules, &[spread]);
    assert!(found.is_empty(), "{found:?}");
}

fn denied(id: &str, at: (u32, u32), name: &str, arn: &str) -> Value {
    with(
        event(id, at, name, "ec2.amazonaws.com", arn),
        "errorCode",
        json!("Client.UnauthorizedOperation"),
    )
}

#[test]
fn access_denied_reconnaissance_counts_distinct_calls() {
    let rules = builtin();
    let arn = "arn:aws:iam::111122223333:user/stolen";
    let probe: Vec<Value> = (0..10)
        .map(|i| denied(&format!("p{i}"), (0, i * 3), &format!("Describe{i}"), arn))
        .collect();
    let (_, found) = scan(&rules, &[probe]);
    assert_eq!(ids(&found), [DENIED]);
    let facts = found[0].correlation.as_ref().expect("correlation");
    assert_eq!(facts.distinct_values, Some(10));
    assert_eq!(facts.field.as_deref(), Some("eventName"));
    // The same call denied fifty times is a misconfiguration, not a probe.
    let retry: Vec<Value> = (0..50)
        .map(|i| denied(&format!("r{i}"), (0, i), "DescribeInstances", arn))
        .collect();
    // Ten distinct calls by ten principals.
    let spread: Vec<Value> = (0..10)
        .map(|i| {
            denied(
                &format!("s{i}"),
                (0, i),
                &format!("Describe{i}"),
                &format!("{arn}{i}"),
            )
        })
        .collect();
    // Ten distinct calls by an AWS service.
    let service: Vec<Value> = (0..10)
        .map(|i| {
            let e = denied(&format!("a{i}"), (0, i), &format!("Describe{i}"), arn);
            with(
                e,
                "userIdentity",
                json!({"type": "AWSService", "invokedBy": "config.amazonaws.com"}),
            )
        })
        .collect();
    let (_, found) = scan(&rules, &[retry, spread, service]);
    assert!(found.is_empty(), "{found:?}");
}

fn secret(id: &str, at: (u32, u32), secret: &str, arn: &str) -> Value {
    let e = event(
        id,
        at,
        "GetSecretValue",
        "secretsmanager.amazonaws.com",
        arn,
    );
    with(e, "requestParameters", json!({"secretId": secret}))
}

fn parameter(id: &str, at: (u32, u32), name: &str, arn: &str) -> Value {
    let e = event(id, at, "GetParameter", "ssm.amazonaws.com", arn);
    with(
        e,
        "requestParameters",
        json!({"name": name, "withDecryption": true}),
    )
}

#[test]
fn mass_secret_retrieval_counts_secrets_and_parameters_together() {
    let rules = builtin();
    let arn = "arn:aws:sts::111122223333:assumed-role/app/i-1";
    let mut harvest: Vec<Value> = (0..10)
        .map(|i| secret(&format!("s{i}"), (1, i), &format!("prod/db{i}"), arn))
        .collect();
    harvest.extend(
        (0..10).map(|i| parameter(&format!("p{i}"), (2, i), &format!("/prod/key{i}"), arn)),
    );
    let (_, found) = scan(&rules, &[harvest]);
    assert_eq!(ids(&found), [SECRETS]);
    assert_eq!(
        found[0]
            .correlation
            .as_ref()
            .and_then(|c| c.distinct_values),
        Some(20)
    );
    // An application reading its three secrets a hundred times.
    let app: Vec<Value> = (0..100)
        .map(|i| {
            secret(
                &format!("a{i}"),
                (i / 10, i % 60),
                &format!("prod/db{}", i % 3),
                arn,
            )
        })
        .collect();
    // Twenty secrets, but over an hour (one every three minutes).
    let slow: Vec<Value> = (0..20)
        .map(|i| {
            secret(
                &format!("w{i}"),
                (i * 3, 0),
                &format!("prod/x{i}"),
                "arn:aws:iam::111122223333:user/slow",
            )
        })
        .collect();
    let (_, found) = scan(&rules, &[app, slow]);
    assert!(found.is_empty(), "{found:?}");
}

fn iam(id: &str, at: (u32, u32), name: &str, params: Value) -> Value {
    let e = event(
        id,
        at,
        name,
        "iam.amazonaws.com",
        "arn:aws:iam::111122223333:user/intruder",
    );
    with(e, "requestParameters", params)
}

#[test]
fn backdoor_user_sequence_needs_the_order_and_the_same_user() {
    let rules = builtin();
    let create = iam("c1", (0, 0), "CreateUser", json!({"userName": "backup"}));
    let attach = iam(
        "a1",
        (5, 0),
        "AttachUserPolicy",
        json!({"userName": "backup", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
    );
    let key = iam(
        "k1",
        (9, 0),
        "CreateAccessKey",
        json!({"userName": "backup"}),
    );
    let (_, found) = scan(
        &rules,
        &[
            vec![key.clone()],
            vec![create.clone()],
            vec![attach.clone()],
        ],
    );
    assert_eq!(ids(&found), [BACKDOOR]);
    let facts = found[0].correlation.as_ref().expect("correlation");
    assert_eq!(facts.event_ids, ["c1", "a1", "k1"]);
    assert_eq!(
        facts
            .group_by
            .get("requestParameters.userName")
            .map(String::as_str),
        Some("backup")
    );
    // Wrong order: the key before the policy.
    let early_key = iam(
        "k0",
        (2, 0),
        "CreateAccessKey",
        json!({"userName": "backup"}),
    );
    let (_, found) = scan(&rules, &[vec![create.clone(), early_key, attach.clone()]]);
    assert!(found.is_empty(), "{found:?}");
    // Right calls, different users.
    let other = iam(
        "k2",
        (9, 0),
        "CreateAccessKey",
        json!({"userName": "someone-else"}),
    );
    let (_, found) = scan(&rules, &[vec![create.clone(), attach.clone(), other]]);
    assert!(found.is_empty(), "{found:?}");
    // Right order, too slow (the key two hours later).
    let late = with(key, "eventTime", json!("2024-03-01T12:30:00Z"));
    let (_, found) = scan(&rules, &[vec![create, attach, late]]);
    assert!(found.is_empty(), "{found:?}");
}

/// Enumeration calls the discovery burst counts, one per service area.
const ENUMERATION: [&str; 24] = [
    "ListUsers",
    "ListRoles",
    "GetAccountAuthorizationDetails",
    "ListAttachedUserPolicies",
    "ListAccessKeys",
    "GetCallerIdentity",
    "DescribeInstances",
    "DescribeSecurityGroups",
    "DescribeVpcs",
    "DescribeSnapshots",
    "DescribeImages",
    "ListBuckets",
    "GetBucketAcl",
    "GetBucketPolicy",
    "ListFunctions20150331",
    "DescribeDBInstances",
    "ListSecrets",
    "DescribeParameters",
    "ListKeys",
    "DescribeTrails",
    "ListDetectors",
    "ListAccounts",
    "ListTables",
    "DescribeStacks",
];

/// `distinct` different enumeration calls by `arn`, the i-th at `at(i)`,
/// each made three times.
fn enumeration(
    prefix: &str,
    distinct: usize,
    arn: &str,
    at: impl Fn(usize) -> (u32, u32),
) -> Vec<Value> {
    (0..distinct * 3)
        .map(|i| {
            let name = ENUMERATION[i % distinct];
            event(
                &format!("{prefix}{i:02}"),
                at(i),
                name,
                "iam.amazonaws.com",
                arn,
            )
        })
        .collect()
}

#[test]
fn discovery_burst_needs_many_distinct_calls_quickly() {
    let rules = builtin();
    let arn = "arn:aws:iam::111122223333:user/enum";
    // 20 different calls, 60 in all, within six minutes.
    let quick = |i: usize| ((i / 10) as u32, (i % 60) as u32);
    let (plain, found) = scan(&rules, &[enumeration("d", 20, arn, quick)]);
    assert!(ids(&found).contains(&DISCOVERY), "{:?}", ids(&found));
    assert!(!ids(&plain).contains(&"021686cc-fcd7-46f3-b605-5d75680bbac4"));
    // Near misses: 19 different calls; 20 spread over an hour; from the
    // console; by an infrastructure-as-code tool; other read calls.
    let below = enumeration("b", 19, arn, quick);
    let slow = enumeration("s", 20, arn, |i| ((i % 60) as u32, 0));
    let console: Vec<Value> = enumeration("c", 20, "arn:aws:iam::111122223333:user/human", quick)
        .into_iter()
        .map(|e| with(e, "sessionCredentialFromConsole", json!("true")))
        .collect();
    let terraform: Vec<Value> = enumeration("t", 20, "arn:aws:iam::111122223333:user/ci", quick)
        .into_iter()
        .map(|e| {
            with(
                e,
                "userAgent",
                json!("APN/1.0 HashiCorp/1.0 Terraform/1.9.0 terraform-provider-aws/5.70.0"),
            )
        })
        .collect();
    let other: Vec<Value> = (0..60)
        .map(|i| {
            let name = format!("Describe{i}");
            event(
                &format!("o{i:02}"),
                quick(i),
                &name,
                "ec2.amazonaws.com",
                arn,
            )
        })
        .collect();
    for near_miss in [below, slow, console, terraform, other] {
        let (_, found) = scan(&rules, &[near_miss]);
        assert!(!ids(&found).contains(&DISCOVERY), "{:?}", ids(&found));
    }
}

/// Correlation chaining, the Sigma specification's example: many failed
/// console sign-ins by one user (a correlation of its own, `generate:
/// false`), then a successful one, in that order within the hour. The
/// upper correlation is written first, so loading must wait for the lower.
/// (The notifier's test of chaining reads the same file.)
const CHAINED: &str = include_str!("data/correlations/chained_sign_in.yml");

const GUESSED: &str = "0c6d1a52-7d63-4f39-9c0b-6a3f1f3c2e01";

fn sign_in_succeeded(id: &str, at: (u32, u32), user: &str) -> Value {
    let e = sign_in(id, at, user);
    with(e, "responseElements", json!({"ConsoleLogin": "Success"}))
}

#[test]
fn a_correlation_chained_on_another_fires_on_its_match_and_the_next_event() {
    let (rules, skipped) = SigmaRules::load(&[("chained.yml", CHAINED)]);
    assert!(skipped.is_empty(), "{skipped:?}");
    let failures: Vec<Value> = (0..5)
        .map(|i| failed_login(&format!("f{i}"), (i, 0), "alice", "198.51.100.9"))
        .collect();
    let success = sign_in_succeeded("s1", (20, 0), "alice");
    let mut attack = failures.clone();
    attack.push(success.clone());
    let (plain, found) = scan(&rules, &[attack.clone()]);
    // Only the upper correlation reports: the lower one and the detection
    // rules are referenced with `generate: false`.
    assert!(plain.is_empty(), "{:?}", ids(&plain));
    assert_eq!(ids(&found), [GUESSED], "{found:?}");
    let facts = found[0].correlation.as_ref().expect("correlation member");
    assert_eq!(facts.event_total, 2, "the lower match and the success");
    assert_eq!(found[0].event.event_id.as_deref(), Some("s1"));
    // The success delivered in a file before the failures: the same finding.
    let (_, again) = scan(&rules, &[vec![success.clone()], failures.clone()]);
    assert_eq!(
        again.iter().map(|f| &f.id).collect::<Vec<_>>(),
        found.iter().map(|f| &f.id).collect::<Vec<_>>()
    );
    // Near misses: too few failures; the success first; another user's success.
    let too_few = [&failures[..4], std::slice::from_ref(&success)].concat();
    let success_first = [
        vec![sign_in_succeeded("s0", (0, 0), "alice")],
        failures
            .iter()
            .map(|f| with(f.clone(), "eventTime", json!("2024-03-01T10:30:00Z")))
            .collect(),
    ]
    .concat();
    let other_user = [
        failures.clone(),
        vec![sign_in_succeeded("s2", (20, 0), "bob")],
    ]
    .concat();
    for near_miss in [too_few, success_first, other_user] {
        let (_, found) = scan(&rules, &[near_miss]);
        assert!(found.is_empty(), "{:?}", ids(&found));
    }
}

#[test]
fn a_chain_on_a_missing_or_circular_correlation_is_skipped_with_its_reason() {
    let circular = r#"
title: A
id: 0c6d1a52-7d63-4f39-9c0b-6a3f1f3c2e11
name: a
correlation: {type: event_count, rules: [b], timespan: 1h, condition: {gte: 2}}
---
title: B
id: 0c6d1a52-7d63-4f39-9c0b-6a3f1f3c2e12
name: b
correlation: {type: event_count, rules: [a], timespan: 1h, condition: {gte: 2}}
---
title: C
id: 0c6d1a52-7d63-4f39-9c0b-6a3f1f3c2e13
correlation: {type: event_count, rules: [nowhere], timespan: 1h, condition: {gte: 2}}
"#;
    let (rules, skipped) = SigmaRules::load(&[("circular.yml", circular)]);
    assert!(rules.correlations().is_empty());
    let reasons: Vec<String> = skipped.iter().map(|s| s.reason.to_string()).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    for (reason, name) in reasons.iter().zip(["b", "a", "nowhere"]) {
        assert!(
            reason.contains(&format!(
                "references `{name}`, which no loaded rule or correlation"
            )),
            "{reason}"
        );
    }
}

/// The numeric aggregations over S3 data events: bytes read out per user.
fn aggregation(kind: &str, condition: &str) -> SigmaRules {
    let text = format!(
        r#"
title: Object read
id: 6f1e9a10-2b1c-4d3e-8f00-000000000001
name: object_read
logsource: {{product: aws, service: cloudtrail}}
detection:
    selection: {{eventSource: s3.amazonaws.com, eventName: GetObject}}
    condition: selection
---
title: Bytes out by one user
id: 6f1e9a10-2b1c-4d3e-8f00-000000000002
correlation:
    type: {kind}
    rules: [object_read]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {{{condition}, field: additionalEventData.bytesTransferredOut}}
level: high
"#
    );
    let (rules, skipped) = SigmaRules::load(&[("bytes.yml", text.as_str())]);
    assert!(skipped.is_empty(), "{skipped:?}");
    rules
}

fn object_read(id: &str, minute: u32, bytes: Value) -> Value {
    let e = event(
        id,
        (minute, 0),
        "GetObject",
        "s3.amazonaws.com",
        "arn:aws:iam::111122223333:user/alice",
    );
    with(
        e,
        "additionalEventData",
        json!({"bytesTransferredOut": bytes}),
    )
}

fn aggregate_of(finding: &Finding) -> Option<f64> {
    let facts = finding.correlation.as_ref()?;
    facts.aggregate.as_ref()?.as_f64()
}

#[test]
fn numeric_aggregations_measure_the_window_and_skip_what_is_not_a_number() {
    // 100, 200, ..., 1000 bytes, one a minute; one read with no number.
    let mut reads: Vec<Value> = (1..=10u32)
        .map(|i| object_read(&format!("r{i:02}"), i, json!(i * 100)))
        .collect();
    reads.push(object_read("text", 5, json!("lots")));
    // (type, condition, windows fired, the first one's measure and last
    // event). A window restarts after the event that fired it, as for the
    // counting types: 100..500 sum to 1500, then 600..800, then 900..1000.
    let cases = [
        ("value_sum", "gte: 1500", 3, Some(1500.0), "r05"),
        ("value_avg", "gt: 449", 3, Some(450.0), "r08"),
        ("value_median", "gte: 300", 6, Some(300.0), "r05"),
        (
            "value_percentile",
            "gte: 900, percentile: 90",
            1,
            Some(910.0),
            "r10",
        ),
    ];
    for (kind, condition, windows, aggregate, completing) in cases {
        let (_, found) = scan(&aggregation(kind, condition), &[reads.clone()]);
        assert_eq!(found.len(), windows, "{kind}: {:?}", ids(&found));
        assert_eq!(aggregate_of(&found[0]), aggregate, "{kind}");
        assert_eq!(
            found[0].event.event_id.as_deref(),
            Some(completing),
            "{kind}"
        );
        let facts = found[0].correlation.as_ref().expect("correlation member");
        assert_eq!(facts.kind, kind);
        assert_eq!(
            facts.field.as_deref(),
            Some("additionalEventData.bytesTransferredOut")
        );
    }
    // Below every threshold: nothing.
    for (kind, condition) in [
        ("value_sum", "gt: 5500"),
        ("value_avg", "gt: 1000"),
        ("value_median", "gt: 1000"),
        ("value_percentile", "gt: 1000, percentile: 99"),
    ] {
        let (_, found) = scan(&aggregation(kind, condition), &[reads.clone()]);
        assert!(found.is_empty(), "{kind}: {:?}", ids(&found));
    }
}

#[test]
fn a_numeric_aggregation_without_a_field_or_with_a_bad_percentile_is_skipped() {
    for (condition, reason) in [
        ("{gte: 10}", "value_sum needs `condition.field`"),
        (
            "{gte: 10, field: x, percentile: 101}",
            "percentile 101 is not within 0-100",
        ),
    ] {
        let text = format!(
            "title: R\nid: 6f1e9a10-2b1c-4d3e-8f00-000000000009\nname: r\nlogsource: {{product: aws, service: cloudtrail}}\ndetection: {{selection: {{eventName: GetObject}}, condition: selection}}\n---\ntitle: C\nid: 6f1e9a10-2b1c-4d3e-8f00-00000000000a\ncorrelation: {{type: value_sum, rules: [r], timespan: 1h, condition: {condition}}}\n"
        );
        let (rules, skipped) = SigmaRules::load(&[("bad.yml", text.as_str())]);
        assert!(rules.correlations().is_empty());
        let reasons: Vec<String> = skipped.iter().map(|s| s.reason.to_string()).collect();
        assert!(reasons.iter().any(|r| r.contains(reason)), "{reasons:?}");
    }
}
