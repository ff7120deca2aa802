//! The notifier end to end against moto: the findings topic has an SQS
//! subscription, real sample files are uploaded, the real handler is fed a
//! real delivery envelope, and the messages received from SQS are checked
//! against the written-down expectations for the Stratus Red Team samples.
//! With Security Hub import on, the findings read back from moto's Security
//! Hub are checked against the ones SNS delivered.

#[path = "../../../engine/tests/expected/samples.rs"]
mod expected;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use aws_sdk_securityhub::types::AwsSecurityFinding;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use testkit::{Moto, REGION, assert_schema_valid, repo_root, sample_files, sqs_delivery};
use trailguard_delivery::notifier::{NotifierConfig, NotifierService};
use trailguard_engine::rules::Catalogue;
use trailguard_engine::sigma::SigmaRules;

const BUCKET: &str = "trailguard-demo-trail";
const PREFIX: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/";
const TABLE: &str = "trailguard-ledger";
const CORRELATION_TABLE: &str = "trailguard-correlations";
/// The account moto answers `sts:GetCallerIdentity` with.
const MOTO_ACCOUNT: &str = "123456789012";

/// Every (rule id, eventID) the notifier must report on the samples: the
/// CIS controls (computed by the independent Python predicates), the
/// curated detections and the SigmaHQ rules (written down in
/// `engine/tests/expected/samples.rs`). Correlation findings are compared
/// apart ([`correlations_per_rule`]).
fn expected_findings(files: &[PathBuf]) -> BTreeSet<(String, String)> {
    let out = Command::new("python3")
        .arg(repo_root().join("tools/cis_expectations.py"))
        .arg("--events")
        .args(files)
        .output()
        .expect("python3");
    assert!(out.status.success());
    let cis: BTreeMap<String, Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    // Rule ids by metric name and by Sigma file: names, not matching.
    let catalogue = Catalogue::builtin().unwrap();
    let rule_of_metric = |metric: &str| {
        catalogue
            .rules()
            .iter()
            .find(|r| r.spec().metric.as_ref().is_some_and(|m| m.name == metric))
            .map(|r| r.id().to_owned())
            .unwrap()
    };
    let (sigma, _) = SigmaRules::builtin();
    let rule_of_file = |file: &str| {
        sigma
            .rules()
            .iter()
            .find(|r| r.file_name() == file)
            .map(|r| r.id().to_owned())
            .unwrap()
    };
    let mut set = BTreeSet::new();
    for (metric, ids) in cis {
        for id in ids {
            set.insert((rule_of_metric(&metric), id));
        }
    }
    for (rule, ids) in expected::DETECTIONS_ON_SAMPLES {
        for id in *ids {
            set.insert((rule.to_string(), id.to_string()));
        }
    }
    for (file, id) in expected::SIGMA_ON_SAMPLES {
        set.insert((rule_of_file(file), id.to_string()));
    }
    set
}

/// How many correlation findings each built-in correlation raises on the
/// samples. A scan sees every file before deciding; the notifier decides
/// as files arrive, so a burst spread over several files may complete a
/// window at another event than in a scan: the windows per rule agree,
/// the completing events may not (docs/correlations.md, "In the notifier").
fn correlations_per_rule() -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (rule, _) in expected::CORRELATIONS_ON_SAMPLES {
        *counts.entry((*rule).to_owned()).or_default() += 1;
    }
    counts
}

struct Stack {
    moto: Moto,
    topic: String,
    queue: String,
    keys: Vec<String>,
}

async fn stack(files: &[PathBuf]) -> Stack {
    let moto = Moto::start();
    let keys = moto.upload(BUCKET, PREFIX, files).await;
    moto.create_table(TABLE, "pk").await;
    moto.create_table_sorted(CORRELATION_TABLE, "pk", Some("sk"))
        .await;
    let topic = moto.create_topic("findings").await;
    // Not raw: the SNS envelope carries the message attributes to check.
    let queue = moto.queue_on_topic(&topic, "findings-inbox", false).await;
    Stack {
        moto,
        topic,
        queue,
        keys,
    }
}

async fn service(stack: &Stack) -> NotifierService {
    service_with(stack, &[]).await
}

/// The service with `extra` variables set on top of the usual ones.
async fn service_with(stack: &Stack, extra: &[(&str, &str)]) -> NotifierService {
    let topic = stack.topic.clone();
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let env = move |name: &str| match name {
        "TRAILGUARD_FINDINGS_TOPIC_ARN" => Some(topic.clone()),
        "TRAILGUARD_DEDUP_TABLE" => Some(TABLE.to_owned()),
        "TRAILGUARD_CORRELATION_TABLE" => Some(CORRELATION_TABLE.to_owned()),
        "TRAILGUARD_MIN_SEVERITY" => Some("informational".to_owned()),
        // The CIS controls' findings are off by default; on here, so the
        // findings are checked against the independent CIS predicates too.
        "TRAILGUARD_CIS_FINDINGS" => Some("true".to_owned()),
        _ => extra
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone()),
    };
    let config = NotifierConfig::from_env(&env).unwrap();
    NotifierService::new(config, &stack.moto.sdk_config().await)
        .await
        .unwrap()
}

fn sqs_event(keys: &[String]) -> Value {
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/sqs-s3.json")).unwrap(),
    )
    .unwrap();
    sqs_delivery(&template, BUCKET, keys)
}

async fn invoke(service: &NotifierService, payload: Value) -> Value {
    notifier::handler(service, LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
        .unwrap()
}

/// Every SNS envelope waiting in the queue.
async fn receive_all(stack: &Stack) -> Vec<Value> {
    stack.moto.drain_queue(&stack.queue).await
}

#[tokio::test]
async fn publishes_exactly_the_expected_findings_once() {
    let files = sample_files();
    let stack = stack(&files).await;
    // Every match on its own, to compare with the independent predicates.
    let service = service_with(&stack, &[("TRAILGUARD_REPEAT_WINDOW_SECS", "0")]).await;

    let response = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));

    let envelopes = receive_all(&stack).await;
    let mut findings = Vec::new();
    let mut actual = BTreeSet::new();
    let mut correlations: BTreeMap<String, usize> = BTreeMap::new();
    for envelope in &envelopes {
        let finding: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        let attributes = &envelope["MessageAttributes"];
        assert_eq!(attributes["severity"]["Value"], finding["rule"]["severity"]);
        assert_eq!(attributes["ruleId"]["Value"], finding["rule"]["id"]);
        assert_eq!(attributes["account"]["Value"], finding["where"]["account"]);
        assert_eq!(attributes["region"]["Value"], finding["where"]["region"]);
        let subject = envelope["Subject"].as_str().unwrap();
        assert!(
            subject.starts_with('[') && subject.len() <= 100,
            "{subject}"
        );
        let pair = (
            finding["rule"]["id"].as_str().unwrap().to_owned(),
            finding["eventId"].as_str().unwrap().to_owned(),
        );
        if finding.get("correlation").is_some() {
            *correlations.entry(pair.0.clone()).or_default() += 1;
        } else {
            assert!(actual.insert(pair.clone()), "published twice: {pair:?}");
        }
        findings.push(finding);
    }
    let expected = expected_findings(&files);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
    assert_eq!(correlations, correlations_per_rule());
    assert_schema_valid("schemas/finding.v1.schema.json", &findings);

    // The same files delivered again: nothing new is published.
    let again = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert!(receive_all(&stack).await.is_empty());
}

#[tokio::test]
async fn a_burst_over_two_files_is_published_once_with_its_count() {
    // The 24 + 5 denied GetPasswordData calls of one Stratus detonation,
    // in two files of the same hour.
    let files: Vec<_> = sample_files()
        .into_iter()
        .filter(|f| {
            let name = f.to_string_lossy();
            name.contains("iLj9fb7yyUG9X4Bf") || name.contains("x9kHmzMa7cx6l9wM")
        })
        .collect();
    assert_eq!(files.len(), 2);
    let stack = stack(&files).await;
    let service = service(&stack).await;
    let response = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    let bursts: Vec<Value> = receive_all(&stack)
        .await
        .iter()
        .map(|e| serde_json::from_str::<Value>(e["Message"].as_str().unwrap()).unwrap())
        .filter(|f| f["rule"]["id"] == "ec2-password-data-retrieved")
        .collect();
    assert_eq!(bursts.len(), 1, "{bursts:#?}");
    let count = bursts[0]["repeats"]["count"].as_u64().unwrap();
    // Whichever file was read first: its own count.
    assert!(count == 24 || count == 5, "{count}");
    assert_eq!(bursts[0]["repeats"]["windowStart"], "2023-07-10T11:00:00Z");
    assert_schema_valid("schemas/finding.v1.schema.json", &bursts);
}

#[tokio::test]
async fn a_corrupt_file_fails_only_its_message() {
    let files = sample_files();
    // The largest sample: it has findings of its own.
    let stack = stack(&files[3..4]).await;
    let corrupt = format!("{PREFIX}218007301253_CloudTrail_us-east-1_20230710T1210Z_bad.json.gz");
    stack
        .moto
        .s3()
        .await
        .put_object()
        .bucket(BUCKET)
        .key(&corrupt)
        .body(b"\x1f\x8b\x08\x00garbage".to_vec().into())
        .send()
        .await
        .unwrap();
    let service = service(&stack).await;
    let keys = vec![corrupt, stack.keys[0].clone()];
    let response = invoke(&service, sqs_event(&keys)).await;
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "msg-0"}]})
    );
    assert!(!receive_all(&stack).await.is_empty());
}

/// Every finding Security Hub holds. Read on a thread of its own: decoding
/// the SDK's `Resource` (30 KiB, mostly resource details) takes more stack
/// than a test thread has in unoptimised builds.
async fn security_hub_findings(stack: &Stack) -> Vec<AwsSecurityFinding> {
    let hub = aws_sdk_securityhub::Client::new(&stack.moto.sdk_config().await);
    let reader = std::thread::Builder::new()
        .stack_size(32 * 1024 * 1024)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut out = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let page = hub
                        .get_findings()
                        .max_results(100)
                        .set_next_token(token)
                        .send()
                        .await
                        .unwrap();
                    out.extend(page.findings().iter().cloned());
                    token = page
                        .next_token()
                        .filter(|t| !t.is_empty())
                        .map(str::to_owned);
                    if token.is_none() {
                        return out;
                    }
                }
            })
        })
        .unwrap();
    reader.join().unwrap()
}

#[tokio::test]
async fn security_hub_gets_the_findings_sns_got_once() {
    let files = sample_files();
    let stack = stack(&files).await;
    let service = service_with(&stack, &[("TRAILGUARD_SECURITYHUB", "true")]).await;

    let response = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    let published: BTreeMap<String, Value> = receive_all(&stack)
        .await
        .iter()
        .map(|envelope| {
            let f: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
            (f["id"].as_str().unwrap().to_owned(), f)
        })
        .collect();
    assert!(!published.is_empty());

    let imported = security_hub_findings(&stack).await;
    let ids: BTreeSet<String> = imported
        .iter()
        .map(|f| f.id().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), imported.len(), "a finding imported twice");
    assert_eq!(
        ids,
        published.keys().cloned().collect::<BTreeSet<_>>(),
        "Security Hub and SNS disagree"
    );
    for asff in &imported {
        let finding = &published[asff.id().unwrap()];
        let severity = finding["rule"]["severity"].as_str().unwrap();
        assert_eq!(
            asff.severity().and_then(|s| s.label()).map(|l| l.as_str()),
            Some(severity.to_ascii_uppercase().as_str())
        );
        assert_eq!(asff.generator_id(), finding["rule"]["id"].as_str());
        // The importing account (moto's), which the default product requires.
        assert_eq!(asff.aws_account_id(), Some(MOTO_ACCOUNT));
        assert_eq!(
            asff.product_arn().unwrap(),
            format!("arn:aws:securityhub:{REGION}:{MOTO_ACCOUNT}:product/{MOTO_ACCOUNT}/default")
        );
        assert_eq!(asff.schema_version(), Some("2018-10-08"));
        assert_eq!(asff.created_at(), finding["time"].as_str());
        let account = format!(
            "AWS::::Account:{}",
            finding["where"]["account"].as_str().unwrap()
        );
        assert!(
            asff.resources()
                .iter()
                .any(|r| r.r#type() == Some("AwsAccount") && r.id() == Some(account.as_str())),
            "{:?}",
            asff.resources()
        );
        if let Some(user) = finding["who"]["arn"]
            .as_str()
            .filter(|_| finding["who"]["type"] == "IAMUser")
        {
            assert!(
                asff.resources()
                    .iter()
                    .any(|r| r.r#type() == Some("AwsIamUser") && r.id() == Some(user))
            );
        }
        let fields = asff.product_fields().unwrap();
        assert_eq!(
            fields.get("trailguard/eventID").map(String::as_str),
            finding["eventId"].as_str()
        );
    }

    // Mark every imported finding, deliver the same files again: an import
    // would overwrite the mark.
    let hub = aws_sdk_securityhub::Client::new(&stack.moto.sdk_config().await);
    let marked: Vec<AwsSecurityFinding> = imported
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.title = Some("imported before the redelivery".to_owned());
            f
        })
        .collect();
    for batch in marked.chunks(100) {
        let out = hub
            .batch_import_findings()
            .set_findings(Some(batch.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.failed_count(), Some(0));
    }
    let again = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert!(receive_all(&stack).await.is_empty());
    let after = security_hub_findings(&stack).await;
    assert_eq!(after.len(), imported.len());
    assert!(
        after
            .iter()
            .all(|f| f.title() == Some("imported before the redelivery"))
    );
}

#[tokio::test]
async fn security_hub_import_is_off_by_default() {
    let files = sample_files();
    let stack = stack(&files[3..4]).await;
    let service = service(&stack).await;
    let response = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(!receive_all(&stack).await.is_empty());
    assert!(security_hub_findings(&stack).await.is_empty());
}
