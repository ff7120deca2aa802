//! The remediator's finding samples (`events/remediator/sns-finding-*.json`)
//! are the notifier's real output, never written by hand.
//!
//! The CloudTrail records of the EventBridge samples (the shapes AWS
//! delivers for each call an action answers) are written into one log file,
//! the real notifier publishes its findings to a topic in moto, and a queue
//! subscribed with the remediator's filter policy receives them as SNS
//! delivers them. Each sample is the Lambda SNS event of the first finding
//! (by rule id) on its event, with only SNS's random parts (message id,
//! timestamp, signature) fixed. The test fails when a sample differs from
//! what the notifier publishes today; `TRAILGUARD_WRITE_SAMPLES=1` rewrites
//! them, and `events/generated.txt` lists every generated file so
//! `tools/check_events_used.py` can refuse hand-made ones.

use std::collections::BTreeMap;
use std::io::Write;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use testkit::{Moto, repo_root, sns_lambda_event, sqs_delivery};
use trailguard_delivery::notifier::{NotifierConfig, NotifierService};

const BUCKET: &str = "trailguard-trail";
const KEY: &str = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/25/\
                   123456789012_CloudTrail_us-east-1_20261125T0915Z_remediatorSamples.json.gz";
const TABLE: &str = "trailguard-ledger";
const SUBSCRIPTION: &str =
    "arn:aws:sns:us-east-1:123456789012:trailguard-findings:5b3f4a2e-9c1d-4e8f-a7b6-2d0c9e8f1a34";
/// The filter policy of the remediator's subscription in `template.yaml`.
const REMEDIATOR_FILTER: &str = r#"{"remediation": [{"exists": true}]}"#;

/// `(sample suffix, CloudTrail record)` of every EventBridge sample the
/// remediator maps to an action.
fn records() -> Vec<(String, Value)> {
    let dir = repo_root().join("events/remediator");
    let mut records: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .expect("events/remediator")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let suffix = name.strip_prefix("eventbridge-")?.strip_suffix(".json")?;
            (!suffix.starts_with("malformed")).then(|| suffix.to_owned())
        })
        .map(|suffix| {
            let path = dir.join(format!("eventbridge-{suffix}.json"));
            let event: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("sample"))
                    .expect("JSON");
            (suffix, event["detail"].clone())
        })
        .collect();
    records.sort_by(|a, b| a.0.cmp(&b.0));
    records
}

fn gzip(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(text.as_bytes()).expect("gzip");
    encoder.finish().expect("gzip")
}

/// SNS's random parts, fixed so the sample is stable: derived from the
/// finding id, which is itself deterministic.
fn normalise(event: &mut Value, finding_id: &str) {
    let sns = &mut event["Records"][0]["Sns"];
    let id = finding_id;
    sns["MessageId"] = json!(format!(
        "{}-{}-{}-{}-{}",
        &id[0..8],
        &id[8..12],
        &id[12..16],
        &id[16..20],
        &id[20..32]
    ));
    sns["Timestamp"] = json!("2026-11-25T09:19:42.118Z");
    sns["SignatureVersion"] = json!("1");
    sns["Signature"] = json!("EXAMPLE");
    sns["SigningCertUrl"] =
        json!("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-EXAMPLE.pem");
    sns["UnsubscribeUrl"] = json!(format!(
        "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={SUBSCRIPTION}"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn remediator_finding_samples_are_what_the_notifier_publishes() {
    let records = records();
    assert!(records.len() >= 9, "{records:?}");
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    moto.create_table(TABLE, "pk").await;
    let s3 = moto.s3().await;
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    // Plus a change no action handles (a CIS control still reports it), so
    // the filter has something to keep out.
    let mut revoke = records
        .iter()
        .find(|(suffix, _)| suffix == "authorize-security-group-ingress")
        .map(|(_, r)| r.clone())
        .expect("the AuthorizeSecurityGroupIngress sample");
    revoke["eventName"] = json!("RevokeSecurityGroupIngress");
    revoke["eventID"] = json!("3c1f0c2e-2b8e-4d0f-a1c3-5e7f9b2d4a61");
    let mut log_records: Vec<Value> = records.iter().map(|(_, r)| r.clone()).collect();
    log_records.push(revoke);
    let log = json!({ "Records": log_records });
    s3.put_object()
        .bucket(BUCKET)
        .key(KEY)
        .body(gzip(&log.to_string()).into())
        .send()
        .await
        .expect("PutObject");
    let sns = aws_sdk_sns::Client::new(&sdk);
    let topic = sns
        .create_topic()
        .name("trailguard-findings")
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("topic ARN");
    let tap = moto
        .queue_on_topic_filtered(&topic, "remediator-tap", REMEDIATOR_FILTER)
        .await;
    let all = moto.queue_on_topic(&topic, "all-findings", false).await;

    let env = {
        let topic = topic.clone();
        move |name: &str| match name {
            "TRAILGUARD_FINDINGS_TOPIC_ARN" => Some(topic.clone()),
            "TRAILGUARD_DEDUP_TABLE" => Some(TABLE.to_owned()),
            "TRAILGUARD_MIN_SEVERITY" => Some("informational".to_owned()),
            _ => None,
        }
    };
    let service = NotifierService::new(NotifierConfig::from_env(&env).expect("config"), &sdk)
        .await
        .expect("service");
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/sqs-s3.json")).expect("sample"),
    )
    .expect("JSON");
    let batch = sqs_delivery(&template, BUCKET, &[KEY]);
    let response = notifier::handler(&service, LambdaEvent::new(batch, Context::default()))
        .await
        .expect("handler");
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");

    // Only remediable findings pass the filter, and every one is marked.
    let delivered = moto.drain_queue(&tap).await;
    let everything = moto.drain_queue(&all).await;
    let marked = everything
        .iter()
        .filter(|n| n["MessageAttributes"].get("remediation").is_some())
        .count();
    assert_eq!(
        delivered.len(),
        marked,
        "the filter passes exactly the marked findings"
    );
    assert!(
        everything.iter().any(|n| n["Message"]
            .as_str()
            .is_some_and(|m| m.contains("\"eventName\":\"RevokeSecurityGroupIngress\""))),
        "the unremediable change has findings"
    );
    assert!(
        everything.len() > delivered.len(),
        "and the filter kept them out"
    );

    let suffix_of: BTreeMap<String, String> = records
        .iter()
        .map(|(suffix, r)| {
            (
                r["eventID"].as_str().unwrap_or_default().to_owned(),
                suffix.clone(),
            )
        })
        .collect();
    let mut first: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for notification in &delivered {
        let finding: Value =
            serde_json::from_str(notification["Message"].as_str().expect("Message")).expect("JSON");
        let attribute = &notification["MessageAttributes"]["remediation"]["Value"];
        assert_eq!(attribute, &finding["remediation"]["action"], "{finding}");
        let event_id = finding["eventId"].as_str().expect("eventId");
        let suffix = suffix_of
            .get(event_id)
            .unwrap_or_else(|| panic!("a remediable finding on {event_id}, not a sample's event"))
            .clone();
        let rule = finding["rule"]["id"].as_str().expect("rule id").to_owned();
        let keep = first.get(&suffix).is_none_or(|(kept, _)| rule < *kept);
        if keep {
            let mut event = sns_lambda_event(notification, SUBSCRIPTION);
            normalise(&mut event, finding["id"].as_str().expect("id"));
            first.insert(suffix, (rule, event));
        }
    }
    let missing: Vec<&String> = suffix_of
        .values()
        .filter(|s| !first.contains_key(*s))
        .collect();
    assert!(missing.is_empty(), "no remediable finding for {missing:?}");

    let write = std::env::var_os("TRAILGUARD_WRITE_SAMPLES").is_some();
    let dir = repo_root().join("events/remediator");
    let mut drifted = Vec::new();
    let mut generated = Vec::new();
    for (suffix, (_, event)) in &first {
        let name = format!("sns-finding-{suffix}.json");
        let path = dir.join(&name);
        generated.push(format!("events/remediator/{name}"));
        let text = serde_json::to_string_pretty(event).expect("JSON") + "\n";
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if write {
            std::fs::write(&path, &text).expect("write sample");
        } else if serde_json::from_str::<Value>(&current).ok().as_ref() != Some(event) {
            drifted.push(name);
        }
    }
    let manifest = repo_root().join("events/generated.txt");
    let listed = std::fs::read_to_string(&manifest).unwrap_or_default();
    let listed: Vec<&str> = listed
        .lines()
        .filter(|l| l.starts_with("events/remediator/sns-finding-"))
        .collect();
    if !write {
        assert!(
            drifted.is_empty(),
            "{drifted:?} differ from what the notifier publishes: \
             run `TRAILGUARD_WRITE_SAMPLES=1 cargo test --workspace --test remediator_samples`"
        );
        assert_eq!(
            listed, generated,
            "events/generated.txt lists the generated samples"
        );
    }
}
