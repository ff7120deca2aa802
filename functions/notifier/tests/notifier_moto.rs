//! The notifier end to end against moto: the findings topic has an SQS
//! subscription, real sample files are uploaded, the real handler is fed a
//! real delivery envelope, and the messages received from SQS are checked
//! against the written-down expectations for the Stratus Red Team samples.

#[path = "../../../shared/tests/expected/samples.rs"]
mod expected;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use testkit::{Moto, repo_root, sample_files};
use trailguard::rules::Catalogue;
use trailguard::service::notifier::{NotifierConfig, NotifierService};
use trailguard::sigma::SigmaRules;

const BUCKET: &str = "trailguard-demo-trail";
const PREFIX: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/";
const TABLE: &str = "trailguard-ledger";

/// Every (rule id, eventID) the notifier must report on the samples: the
/// CIS controls (computed by the independent Python predicates), the
/// curated detections and the SigmaHQ rules (written down in
/// `shared/tests/expected/samples.rs`).
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

struct Stack {
    moto: Moto,
    topic: String,
    queue: String,
    keys: Vec<String>,
}

async fn stack(files: &[PathBuf]) -> Stack {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let keys = moto.upload(BUCKET, PREFIX, files).await;
    moto.create_table(TABLE, "pk").await;
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("findings")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_owned();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name("findings-inbox")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone();
    // Not raw: the SNS envelope carries the message attributes to check.
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(arn)
        .send()
        .await
        .unwrap();
    Stack {
        moto,
        topic,
        queue,
        keys,
    }
}

async fn service(stack: &Stack) -> NotifierService {
    let topic = stack.topic.clone();
    let env = move |name: &str| match name {
        "TRAILGUARD_FINDINGS_TOPIC_ARN" => Some(topic.clone()),
        "TRAILGUARD_DEDUP_TABLE" => Some(TABLE.to_owned()),
        "TRAILGUARD_MIN_SEVERITY" => Some("informational".to_owned()),
        _ => None,
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
    let records: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut message = template["Records"][0].clone();
            let mut body: Value = serde_json::from_str(message["body"].as_str().unwrap()).unwrap();
            body["Records"][0]["s3"]["bucket"]["name"] = json!(BUCKET);
            body["Records"][0]["s3"]["object"]["key"] = json!(key);
            message["messageId"] = json!(format!("msg-{i}"));
            message["body"] = json!(body.to_string());
            message
        })
        .collect();
    json!({ "Records": records })
}

async fn invoke(service: &NotifierService, payload: Value) -> Value {
    notifier::handler(service, LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
        .unwrap()
}

/// Every SNS envelope waiting in the queue.
async fn receive_all(stack: &Stack) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(&stack.moto.sdk_config().await);
    let mut out = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(&stack.queue)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            return out;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(&stack.queue)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

/// Validates findings against the shipped JSON Schema with the `jsonschema`
/// package of the test venv (an implementation independent of ours).
fn assert_schema_valid(findings: &[Value]) {
    let file = std::env::temp_dir().join(format!(
        "trailguard-notifier-findings-{}.json",
        std::process::id()
    ));
    std::fs::write(&file, serde_json::to_vec(findings).unwrap()).unwrap();
    let script = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        v=jsonschema.Draft202012Validator(schema)\n\
        bad=[(i,e.message) for i,f in enumerate(json.load(open(sys.argv[2]))) for e in v.iter_errors(f)]\n\
        print(bad[:5]); sys.exit(1 if bad else 0)";
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(repo_root().join("schemas/finding.v1.schema.json"))
        .arg(&file)
        .output()
        .expect("venv python");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "schema violations: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn publishes_exactly_the_expected_findings_once() {
    let files = sample_files();
    let stack = stack(&files).await;
    let service = service(&stack).await;

    let response = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));

    let envelopes = receive_all(&stack).await;
    let mut findings = Vec::new();
    let mut actual = BTreeSet::new();
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
        assert!(actual.insert(pair.clone()), "published twice: {pair:?}");
        findings.push(finding);
    }
    let expected = expected_findings(&files);
    let missing: Vec<_> = expected.difference(&actual).collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "missing: {missing:#?}\nunexpected: {unexpected:#?}"
    );
    assert_schema_valid(&findings);

    // The same files delivered again: nothing new is published.
    let again = invoke(&service, sqs_event(&stack.keys)).await;
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert!(receive_all(&stack).await.is_empty());
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
