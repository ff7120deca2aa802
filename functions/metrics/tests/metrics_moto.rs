//! The metrics function end to end against moto: real sample log files in a
//! bucket, the real handler fed real delivery envelopes, metrics read back
//! through the CloudWatch API and compared with an independent computation
//! (`tools/cis_expectations.py`, plain Python predicates per CIS control).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use testkit::{Moto, metric_minutes, metric_names, repo_root, sample_files};
use trailguard_delivery::{MetricsConfig, MetricsService};

const BUCKET: &str = "trailguard-demo-trail";
const PREFIX: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/";
const TABLE: &str = "trailguard-idempotency";

/// Per metric, per minute (epoch seconds): count.
type Counts = BTreeMap<String, BTreeMap<i64, f64>>;

fn independent_expectations(files: &[PathBuf]) -> Counts {
    let out = Command::new("python3")
        .arg(repo_root().join("tools/cis_expectations.py"))
        .args(files)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: BTreeMap<String, BTreeMap<String, f64>> = serde_json::from_slice(&out.stdout).unwrap();
    raw.into_iter()
        .map(|(m, per)| {
            (
                m,
                per.into_iter()
                    .map(|(t, n)| (t.parse().unwrap(), n))
                    .collect(),
            )
        })
        .collect()
}

/// An S3 event notification for `keys`, shaped like `events/s3-object-created.json`.
fn s3_event(keys: &[String]) -> Value {
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/s3-object-created.json")).unwrap(),
    )
    .unwrap();
    let record = template["Records"][0].clone();
    let records: Vec<Value> = keys
        .iter()
        .map(|k| {
            let mut r = record.clone();
            r["s3"]["bucket"]["name"] = json!(BUCKET);
            r["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{BUCKET}"));
            r["s3"]["object"]["key"] = json!(k);
            r
        })
        .collect();
    json!({ "Records": records })
}

/// An SQS batch, one message per key, each body an S3 notification (raw
/// SNS delivery, as the stack wires it), shaped like `events/sqs-s3.json`.
fn sqs_event(keys: &[String]) -> Value {
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/sqs-s3.json")).unwrap(),
    )
    .unwrap();
    let message = template["Records"][0].clone();
    let records: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut m = message.clone();
            m["messageId"] = json!(format!("msg-{i}"));
            m["body"] = json!(s3_event(std::slice::from_ref(k)).to_string());
            m
        })
        .collect();
    json!({ "Records": records })
}

async fn setup(moto: &Moto, files: &[PathBuf]) -> Vec<String> {
    let keys = moto.upload(BUCKET, PREFIX, files).await;
    moto.create_table(TABLE, "pk").await;
    keys
}

async fn service(moto: &Moto) -> MetricsService {
    let env = |name: &str| {
        match name {
            "TRAILGUARD_IDEMPOTENCY_TABLE" => Some(TABLE),
            // The samples are from 2023; moto, unlike CloudWatch, keeps old points.
            "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS" => Some("0"),
            _ => None,
        }
        .map(str::to_owned)
    };
    let config = MetricsConfig::from_env(&env).unwrap();
    MetricsService::new(config, &moto.sdk_config().await)
        .await
        .unwrap()
}

async fn invoke(service: &MetricsService, payload: Value) -> Result<Value, String> {
    metrics::handler(service, LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
}

/// Reads every CIS metric back from CloudWatch, per minute.
async fn read_back(moto: &Moto) -> Counts {
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config().await);
    let mut counts = Counts::new();
    for name in metric_names(&cw, "CloudTrailMetrics").await {
        // Whole minutes, so each 60 s period is one minute of eventTime.
        let minutes = metric_minutes(
            &cw,
            "CloudTrailMetrics",
            &name,
            1_688_979_960,
            1_689_000_000,
        )
        .await;
        let per_minute = counts.entry(name).or_default();
        for (t, v) in minutes {
            *per_minute.entry(t).or_default() += v;
        }
    }
    counts
}

#[tokio::test]
async fn cis_metrics_match_an_independent_count_and_redelivery_does_not_double_count() {
    let moto = Moto::start();
    let files = sample_files();
    let keys = setup(&moto, &files).await;
    let service = service(&moto).await;

    let first = invoke(&service, s3_event(&keys)).await.unwrap();
    assert_eq!(first["filesProcessed"], 12, "{first}");
    assert_eq!(first["records"], 758, "{first}");

    let expected = independent_expectations(&files);
    assert!(!expected.is_empty());
    assert_eq!(read_back(&moto).await, expected);

    // The same files again, now through SQS: nothing new is counted.
    let again = invoke(&service, sqs_event(&keys)).await.unwrap();
    assert_eq!(again, json!({"batchItemFailures": []}));
    assert_eq!(read_back(&moto).await, expected);
}

#[tokio::test]
async fn a_corrupt_file_fails_alone_in_an_sqs_batch() {
    let moto = Moto::start();
    let files = sample_files();
    let mut keys = setup(&moto, &files[..2]).await;
    let corrupt_key =
        format!("{PREFIX}218007301253_CloudTrail_us-east-1_20230710T1210Z_corrupt.json.gz");
    let good = std::fs::read(&files[2]).unwrap();
    moto.s3()
        .await
        .put_object()
        .bucket(BUCKET)
        .key(&corrupt_key)
        .body(good[..good.len() / 2].to_vec().into())
        .send()
        .await
        .unwrap();
    keys.insert(1, corrupt_key);
    let service = service(&moto).await;

    let response = invoke(&service, sqs_event(&keys)).await.unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "msg-1"}]})
    );

    let expected = independent_expectations(&files[..2]);
    assert_eq!(read_back(&moto).await, expected);
}

#[tokio::test]
async fn a_direct_invocation_with_a_missing_object_errors_for_lambda_to_retry() {
    let moto = Moto::start();
    setup(&moto, &[]).await;
    let service = service(&moto).await;
    let missing = format!("{PREFIX}218007301253_CloudTrail_us-east-1_20230710T1210Z_gone.json.gz");
    let err = invoke(&service, s3_event(std::slice::from_ref(&missing)))
        .await
        .unwrap_err();
    assert!(err.starts_with("FileProcessingFailed: "), "{err}");
    assert!(err.contains(&format!("s3://{BUCKET}/{missing}")), "{err}");
}

/// `aws-sdk-cloudwatch` is pinned to 1.99.0, the last release on the
/// awsquery protocol: 1.100+ speaks RPC-v2 CBOR, which moto does not serve.
/// If the pin is lifted, this round trip is what breaks.
#[tokio::test]
async fn the_pinned_cloudwatch_sdk_speaks_a_protocol_moto_serves() {
    let moto = Moto::start();
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config().await);
    cw.put_metric_data()
        .namespace("ProtocolCheck")
        .metric_data(
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name("M")
                .value(1.0)
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData against moto");
    let listed = cw
        .list_metrics()
        .namespace("ProtocolCheck")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.metrics().len(), 1);
}

/// A 2 GiB log file of empty records (`[{},{},...]`) in about 2 MB of
/// gzip: one member of `{},` repeated over 16 MiB, written 128 times (a
/// multi-member gzip reads as one text, as CloudTrail's do).
fn bomb() -> Vec<u8> {
    use testkit::cloudtrail::gzip;
    let chunk = gzip(&b"{},".repeat(16 * 1024 * 1024 / 3)).unwrap();
    let mut out = gzip(b"[").unwrap();
    for _ in 0..128 {
        out.extend_from_slice(&chunk);
    }
    out.extend_from_slice(&gzip(b"{}]").unwrap());
    out
}

/// Puts the bomb in the bucket between two sample files: message 1 of three.
async fn batch_with_a_bomb(moto: &Moto) -> Vec<String> {
    let files = sample_files();
    let mut keys = setup(moto, &files[..2]).await;
    let key = format!("{PREFIX}218007301253_CloudTrail_us-east-1_20230710T1215Z_bomb.json.gz");
    let body = bomb();
    // Small on the wire (what S3 stores and the function downloads), huge
    // once inflated: 2 GiB.
    assert!(body.len() < 16_000_000, "{} bytes", body.len());
    moto.s3()
        .await
        .put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(body.into())
        .send()
        .await
        .unwrap();
    keys.insert(1, key);
    keys
}

async fn limited_service(moto: &Moto, limits: &[(&'static str, &'static str)]) -> MetricsService {
    let env = |name: &str| {
        match name {
            "TRAILGUARD_IDEMPOTENCY_TABLE" => Some(TABLE),
            "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS" => Some("0"),
            _ => limits.iter().find(|(n, _)| *n == name).map(|(_, v)| *v),
        }
        .map(str::to_owned)
    };
    let config = MetricsConfig::from_env(&env).unwrap();
    MetricsService::new(config, &moto.sdk_config().await)
        .await
        .unwrap()
}

/// The batch of [`batch_with_a_bomb`] answered: its bomb (message 1)
/// failed alone, and the two sample files around it were counted.
async fn only_the_bomb_failed(moto: &Moto, response: &Value) {
    assert_eq!(
        *response,
        json!({"batchItemFailures": [{"itemIdentifier": "msg-1"}]})
    );
    assert_eq!(
        read_back(moto).await,
        independent_expectations(&sample_files()[..2]),
        "the other messages were counted"
    );
}

#[tokio::test]
async fn a_file_over_the_record_cap_fails_alone_as_poison() {
    let moto = Moto::start();
    let keys = batch_with_a_bomb(&moto).await;
    let service = limited_service(&moto, &[("TRAILGUARD_MAX_OBJECT_RECORDS", "100000")]).await;

    let response = invoke(&service, sqs_event(&keys)).await.unwrap();
    only_the_bomb_failed(&moto, &response).await;

    let err = invoke(&service, s3_event(&keys[1..2])).await.unwrap_err();
    assert!(err.contains("more than 100000 records"), "{err}");
}

#[tokio::test]
async fn a_file_still_reading_near_the_deadline_fails_alone_in_time() {
    let moto = Moto::start();
    let keys = batch_with_a_bomb(&moto).await;
    // Caps out of the way: only the deadline can stop the 268 million records.
    let service = limited_service(
        &moto,
        &[
            ("TRAILGUARD_MAX_OBJECT_RECORDS", "1000000000"),
            ("TRAILGUARD_DEADLINE_MARGIN_SECS", "4"),
        ],
    )
    .await;
    let lambda_deadline = |seconds: u64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        let deadline = now + std::time::Duration::from_secs(seconds);
        let mut context = Context::default();
        context.deadline = u64::try_from(deadline.as_millis()).unwrap();
        (context, std::time::Instant::now() + (deadline - now))
    };

    let (context, deadline) = lambda_deadline(10);
    let response = metrics::handler(&service, LambdaEvent::new(sqs_event(&keys), context))
        .await
        .unwrap();
    assert!(
        std::time::Instant::now() < deadline,
        "answered before the Lambda deadline"
    );
    only_the_bomb_failed(&moto, &response).await;

    let (context, _) = lambda_deadline(6);
    let err = metrics::handler(&service, LambdaEvent::new(s3_event(&keys[1..2]), context))
        .await
        .unwrap_err();
    assert_eq!(err.error_type, "FileProcessingFailed");
    assert!(
        err.error_message.contains("before the function's deadline"),
        "{}",
        err.error_message
    );
}
