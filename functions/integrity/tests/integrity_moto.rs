//! The integrity function end to end against moto: a fake CloudTrail (with
//! its own signing key) writes signed digests and log files into moto S3
//! exactly as CloudTrail lays them out, the real handler is fed deliveries
//! shaped like `events/integrity/`, and the findings are read back from an
//! SQS queue subscribed to the findings topic and the metrics from
//! CloudWatch. moto does not serve `ListPublicKeys`, so the service is given
//! the fake's public key.

use std::collections::BTreeMap;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

use testkit::cloudtrail::{Delivered, FakeCloudTrail, Signer};
use testkit::{Moto, assert_schema_valid, metric_minutes, repo_root, sqs_delivery};
use time::{Duration, OffsetDateTime};
use trailguard_delivery::integrity::{IntegrityConfig, IntegrityService};
use trailguard_engine::integrity::StaticKeys;
use trailguard_engine::integrity::layout::DigestLayout;

const BUCKET: &str = "trailguard-demo-trail";
const ACCOUNT: &str = "218007301253";
const TRAIL: &str = "trailguard";
const STATE: &str = "trailguard-integrity-state";
const LEDGER: &str = "trailguard-ledger";
const NAMESPACE: &str = "CloudTrailMetrics";
/// The schema every finding is checked against.
const FINDING_SCHEMA: &str = "schemas/finding.v1.schema.json";
/// The digest `events/integrity/sqs-digest-delivery.json` announces ends here.
const SAMPLE_END: OffsetDateTime = time::macros::datetime!(2023-07-10 12:01:31 UTC);

struct Stack {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    topic: String,
    queue: String,
}

async fn stack() -> Stack {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let s3 = moto.s3().await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    moto.create_table(STATE, "pk").await;
    moto.create_table(LEDGER, "pk").await;
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
    // Not raw: the SNS envelope carries the message attributes to check.
    let queue = moto.queue_on_topic(&topic, "findings-inbox", false).await;
    Stack {
        moto,
        s3,
        topic,
        queue,
    }
}

async fn service(stack: &Stack, keys: &[&Signer], trail_arn: Option<&str>) -> IntegrityService {
    let mut vars = BTreeMap::from([
        ("TRAILGUARD_FINDINGS_TOPIC_ARN", stack.topic.clone()),
        ("TRAILGUARD_INTEGRITY_STATE_TABLE", STATE.to_owned()),
        ("TRAILGUARD_DEDUP_TABLE", LEDGER.to_owned()),
        ("TRAILGUARD_NAMESPACE", NAMESPACE.to_owned()),
    ]);
    if let Some(arn) = trail_arn {
        vars.insert("TRAILGUARD_TRAIL_ARN", arn.to_owned());
    }
    let config = IntegrityConfig::from_env(&|name: &str| vars.get(name).cloned()).unwrap();
    let keys = StaticKeys(keys.iter().map(|s| s.public_key()).collect());
    IntegrityService::with_public_keys(config, &stack.moto.sdk_config().await, keys)
}

fn trail(region: &str, signer: &Signer) -> FakeCloudTrail {
    let layout = DigestLayout {
        prefix: None,
        organization_id: None,
        account_id: ACCOUNT.into(),
        region: region.into(),
        trail_name: TRAIL.into(),
        home_region: "us-east-1".into(),
    };
    FakeCloudTrail::new(BUCKET, layout, signer.clone())
}

async fn put(stack: &Stack, delivered: &Delivered) {
    stack
        .s3
        .put_object()
        .bucket(&delivered.object.bucket)
        .key(&delivered.object.key)
        .set_metadata(Some(delivered.data.metadata.clone()))
        .body(delivered.data.body.clone().into())
        .send()
        .await
        .unwrap();
}

async fn delete(stack: &Stack, key: &str) {
    stack
        .s3
        .delete_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
}

/// Two hourly digests, each listing one log file, ending at `end`; returns
/// (older log, older digest, newer log, newer digest), all stored.
async fn two_hours(
    stack: &Stack,
    trail: &mut FakeCloudTrail,
    end: OffsetDateTime,
) -> [Delivered; 4] {
    let first_end = end - Duration::hours(1);
    let out = [
        trail
            .deliver_log(
                first_end - Duration::minutes(20),
                b"{\"Records\":[{\"n\":1}]}",
            )
            .unwrap(),
        trail.deliver_digest(first_end).unwrap(),
        trail
            .deliver_log(end - Duration::minutes(20), b"{\"Records\":[{\"n\":2}]}")
            .unwrap(),
        trail.deliver_digest(end).unwrap(),
    ];
    for delivered in &out {
        put(stack, delivered).await;
    }
    out
}

fn sample(name: &str) -> Value {
    let path = repo_root().join("events/integrity").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The SQS delivery sample, announcing `keys` (one message each).
fn delivery(bucket: &str, keys: &[&str]) -> Value {
    sqs_delivery(&sample("sqs-digest-delivery.json"), bucket, keys)
}

async fn invoke(service: &IntegrityService, payload: Value) -> Value {
    integrity::handler(service, LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
        .unwrap()
}

/// Every finding waiting in the queue, checked against its SNS attributes.
async fn findings(stack: &Stack) -> Vec<Value> {
    let mut out = Vec::new();
    for envelope in stack.moto.drain_queue(&stack.queue).await {
        let finding: Value = serde_json::from_str(envelope["Message"].as_str().unwrap()).unwrap();
        let attributes = &envelope["MessageAttributes"];
        assert_eq!(attributes["severity"]["Value"], "high");
        assert_eq!(attributes["ruleId"]["Value"], finding["rule"]["id"]);
        assert_eq!(attributes["account"]["Value"], finding["where"]["account"]);
        assert_eq!(attributes["region"]["Value"], finding["where"]["region"]);
        out.push(finding);
    }
    assert_schema_valid(FINDING_SCHEMA, &out);
    out
}

fn rule_ids(findings: &[Value]) -> Vec<&str> {
    let mut ids: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"]["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// The sum of every datapoint of `name` sent in the last hour.
async fn metric(stack: &Stack, name: &str) -> f64 {
    let cw = aws_sdk_cloudwatch::Client::new(&stack.moto.sdk_config().await);
    let now = trailguard_engine::clock::now();
    metric_minutes(&cw, NAMESPACE, name, now - 3600, now + 600)
        .await
        .iter()
        .map(|(_, v)| v)
        .sum()
}

fn hour_ago() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(trailguard_engine::clock::now()).unwrap()
        - Duration::hours(1)
}

#[tokio::test]
async fn a_valid_chain_publishes_nothing_and_counts_what_it_checked() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [_, _, newer_log, _] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    let service = service(&stack, &[&signer], None).await;

    // The sample, unchanged, announces the newer digest.
    let response = invoke(&service, sample("sqs-digest-delivery.json")).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    assert!(findings(&stack).await.is_empty());
    assert_eq!(metric(&stack, "DigestFilesValidated").await, 1.0);
    assert_eq!(metric(&stack, "LogFilesValidated").await, 1.0);
    assert_eq!(metric(&stack, "IntegrityFailures").await, 0.0);

    // A log file delivered through the same fan-out is not this function's.
    let direct = delivery(BUCKET, &[&newer_log.object.key]);
    let body: Value = serde_json::from_str(direct["Records"][0]["body"].as_str().unwrap()).unwrap();
    let response = invoke(&service, body).await;
    assert_eq!(response["filesSkipped"], 1);
    assert_eq!(response["filesProcessed"], 0);
    assert_eq!(metric(&stack, "DigestFilesValidated").await, 1.0);
}

#[tokio::test]
async fn a_changed_log_byte_is_a_modified_finding_and_a_redelivery_adds_nothing() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [_, _, mut log, digest] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    let content = b"{\"Records\":[{\"n\":3}]}";
    log.data.body = testkit::cloudtrail::gzip(content).unwrap();
    put(&stack, &log).await;
    let service = service(&stack, &[&signer], None).await;

    let event = delivery(BUCKET, &[&digest.object.key]);
    assert_eq!(
        invoke(&service, event.clone()).await,
        json!({"batchItemFailures": []})
    );
    let found = findings(&stack).await;
    assert_eq!(rule_ids(&found), ["trailguard-integrity-log-file-modified"]);
    assert_eq!(
        found[0]["logFile"],
        json!({"bucket": BUCKET, "key": log.object.key})
    );
    assert_eq!(
        found[0]["where"],
        json!({"account": ACCOUNT, "region": "us-east-1"})
    );
    assert_eq!(found[0]["rule"]["references"][0], "attack:T1565.001");
    assert_eq!(metric(&stack, "LogFilesModified").await, 1.0);
    assert_eq!(metric(&stack, "DigestFilesValidated").await, 1.0);

    // The same delivery again: checked before, so nothing new goes out.
    assert_eq!(
        invoke(&service, event).await,
        json!({"batchItemFailures": []})
    );
    assert!(findings(&stack).await.is_empty());
    assert_eq!(metric(&stack, "LogFilesModified").await, 1.0);
}

#[tokio::test]
async fn a_deleted_log_is_missing_and_a_deleted_previous_digest_too() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [_, older, log, digest] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    delete(&stack, &log.object.key).await;
    delete(&stack, &older.object.key).await;
    let service = service(&stack, &[&signer], None).await;

    let response = invoke(&service, delivery(BUCKET, &[&digest.object.key])).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    let found = findings(&stack).await;
    assert_eq!(
        rule_ids(&found),
        [
            "trailguard-integrity-digest-missing",
            "trailguard-integrity-log-file-missing"
        ]
    );
    let missing_digest = found
        .iter()
        .find(|f| f["rule"]["id"] == "trailguard-integrity-digest-missing")
        .unwrap();
    assert_eq!(missing_digest["logFile"]["key"], json!(older.object.key));
    assert_eq!(metric(&stack, "LogFilesMissing").await, 1.0);
    assert_eq!(metric(&stack, "DigestFilesMissing").await, 1.0);
    assert_eq!(metric(&stack, "IntegrityFailures").await, 2.0);
}

#[tokio::test]
async fn a_replaced_previous_digest_breaks_the_chain() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [_, older, _, digest] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    // Validly signed, at the same key, but not the digest the chain recorded.
    let mut other = self::trail("us-east-1", &signer);
    let replacement = other
        .deliver_digest(SAMPLE_END - Duration::hours(1))
        .unwrap();
    assert_eq!(replacement.object, older.object);
    put(&stack, &replacement).await;
    let service = service(&stack, &[&signer], None).await;

    invoke(&service, delivery(BUCKET, &[&digest.object.key])).await;
    let found = findings(&stack).await;
    assert_eq!(rule_ids(&found), ["trailguard-integrity-chain-broken"]);
    assert!(
        found[0]["rawEvent"]["additionalEventData"]["result"]
            .as_str()
            .unwrap()
            .contains("hash value doesn't match the previous digest")
    );
    assert_eq!(metric(&stack, "DigestChainsBroken").await, 1.0);
}

#[tokio::test]
async fn a_wrong_key_is_an_invalid_signature_or_an_unknown_key() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let stranger = Signer::generate().unwrap();
    let mut forged = trail("us-east-1", &signer);
    forged.forge_with(stranger.clone());
    let [.., forged_digest] = two_hours(&stack, &mut forged, SAMPLE_END).await;
    let mut unknown = trail("eu-west-1", &signer);
    unknown.rotate_signer(stranger);
    let [.., unknown_digest] = two_hours(&stack, &mut unknown, SAMPLE_END).await;
    let service = service(&stack, &[&signer], None).await;

    let keys = [
        forged_digest.object.key.as_str(),
        unknown_digest.object.key.as_str(),
    ];
    let response = invoke(&service, delivery(BUCKET, &keys)).await;
    assert_eq!(response, json!({"batchItemFailures": []}));
    let found = findings(&stack).await;
    assert_eq!(
        rule_ids(&found),
        [
            "trailguard-integrity-public-key-unknown",
            "trailguard-integrity-signature-invalid"
        ]
    );
    assert_eq!(metric(&stack, "DigestSignaturesInvalid").await, 1.0);
    assert_eq!(metric(&stack, "DigestPublicKeysUnknown").await, 1.0);
    // Neither digest is trusted, so neither log file was judged.
    assert_eq!(metric(&stack, "LogFilesValidated").await, 0.0);
}

#[tokio::test]
async fn a_digest_moved_to_another_key_is_reported() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [.., mut digest] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    digest.object.key = digest.object.key.replace("T120131Z", "T130131Z");
    put(&stack, &digest).await;
    let service = service(&stack, &[&signer], None).await;

    invoke(&service, delivery(BUCKET, &[&digest.object.key])).await;
    let found = findings(&stack).await;
    assert_eq!(rule_ids(&found), ["trailguard-integrity-digest-moved"]);
    assert_eq!(found[0]["logFile"]["key"], json!(digest.object.key));
    assert_eq!(metric(&stack, "DigestFilesMoved").await, 1.0);
}

#[tokio::test]
async fn an_unreadable_bucket_fails_only_its_message() {
    let stack = stack().await;
    let signer = Signer::generate().unwrap();
    let mut trail = trail("us-east-1", &signer);
    let [.., digest] = two_hours(&stack, &mut trail, SAMPLE_END).await;
    let service = service(&stack, &[&signer], None).await;

    let mut event = delivery(BUCKET, &[&digest.object.key]);
    let elsewhere = delivery("no-such-bucket", &[&digest.object.key]);
    let mut failing = elsewhere["Records"][0].clone();
    failing["messageId"] = json!("msg-gone");
    event["Records"].as_array_mut().unwrap().push(failing);
    let response = invoke(&service, event).await;
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "msg-gone"}]})
    );
    assert!(findings(&stack).await.is_empty());
    assert_eq!(metric(&stack, "DigestFilesValidated").await, 1.0);
}

#[tokio::test]
async fn the_schedule_reports_a_stale_region_of_a_logging_trail_once() {
    let stack = stack().await;
    let sdk = stack.moto.sdk_config().await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&sdk);
    let arn = cloudtrail
        .create_trail()
        .name(TRAIL)
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .send()
        .await
        .unwrap()
        .trail_arn()
        .unwrap()
        .to_owned();
    cloudtrail.start_logging().name(&arn).send().await.unwrap();

    let signer = Signer::generate().unwrap();
    let mut fresh = trail("us-east-1", &signer);
    let [.., fresh_digest] = two_hours(&stack, &mut fresh, hour_ago()).await;
    let mut stale = trail("eu-west-1", &signer);
    let [.., stale_digest] = two_hours(&stack, &mut stale, hour_ago() - Duration::hours(4)).await;
    let service = service(&stack, &[&signer], Some(&arn)).await;
    let keys = [
        fresh_digest.object.key.as_str(),
        stale_digest.object.key.as_str(),
    ];
    invoke(&service, delivery(BUCKET, &keys)).await;
    assert!(findings(&stack).await.is_empty());

    let response = invoke(&service, sample("scheduled-event.json")).await;
    assert_eq!(response["gaps"], 1);
    assert_eq!(response["trailLogging"], true);
    let found = findings(&stack).await;
    assert_eq!(rule_ids(&found), ["trailguard-integrity-delivery-gap"]);
    assert_eq!(found[0]["where"]["region"], "eu-west-1");
    assert_eq!(
        found[0]["rawEvent"]["additionalEventData"]["newestDigestFile"],
        json!(format!("s3://{BUCKET}/{}", stale_digest.object.key))
    );
    assert_eq!(metric(&stack, "DigestDeliveryGaps").await, 1.0);

    // The next hour: the same gap, already reported.
    let response = invoke(&service, sample("scheduled-event.json")).await;
    assert_eq!(
        (
            response["gaps"].as_u64(),
            response["findingsPublished"].as_u64()
        ),
        (Some(1), Some(0))
    );
    assert!(findings(&stack).await.is_empty());

    // A stopped trail delivers nothing by design: no gap then.
    cloudtrail.stop_logging().name(&arn).send().await.unwrap();
    let response = invoke(&service, sample("scheduled-event.json")).await;
    assert_eq!(response["gaps"], 0);
    assert_eq!(response["trailLogging"], false);
}
