use std::time::{Duration, Instant};

use serde_json::json;
use trailguard_engine::envelope::EnvelopeError;
use trailguard_engine::reader::ReadError;

use super::*;

/// Digests and Insights files share the bucket and the notifications;
/// they must never reach the log parsers.
#[tokio::test]
async fn only_log_files_are_admitted() {
    let at = |key: &str| ObjectRef::new("trail-bucket", key);
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20230710T120131Z.json.gz";
    let insight = "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2023/07/10/111122223333_CloudTrail-Insight_us-east-1_20230710T1200Z_abc.json.gz";
    let log = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1200Z_abc.json.gz";
    for key in [
        digest,
        insight,
        "AWSLogs/111122223333/CloudTrail/us-east-1/notes.txt",
    ] {
        assert!(
            matches!(
                admit(&at(key), KeyKind::Log, None, 0).await,
                Ok(Admission::OtherKind)
            ),
            "{key}"
        );
    }
    assert!(matches!(
        admit(&at(log), KeyKind::Log, None, 0).await,
        Ok(Admission::Process { claim: None })
    ));
}

#[tokio::test]
async fn objects_are_tried_in_order_up_to_the_first_failure() {
    let objects: Vec<ObjectRef> = ["a", "b", "c"]
        .iter()
        .map(|k| ObjectRef::new("bucket", *k))
        .collect();
    let mut tried = Vec::new();
    let failure = first_failure(Ok(objects.clone()), async |object: &ObjectRef| {
        tried.push(object.key.clone());
        if object.key == "b" {
            Err(format!("{object}: truncated gzip"))
        } else {
            Ok(())
        }
    })
    .await;
    assert_eq!(failure.as_deref(), Some("s3://bucket/b: truncated gzip"));
    assert_eq!(tried, ["a", "b"]);
    let all = first_failure::<String>(Ok(objects), async |_: &ObjectRef| Ok(())).await;
    assert_eq!(all, None);
    let bad = EnvelopeError::Unrecognised {
        at: "SQS message m-1".to_owned(),
        what: "{}".to_owned(),
        expected: "an S3 event notification",
    };
    let unwrapped =
        first_failure::<String>(Err(bad), async |_: &ObjectRef| panic!("no object to try")).await;
    assert!(unwrapped.is_some_and(|r| r.starts_with("SQS message m-1")));
}

#[test]
fn a_failed_message_adds_only_what_it_skipped() {
    let message = DeliveryReport {
        files_processed: 2,
        files_skipped: 1,
        files_duplicate: 3,
        notifications_ignored: 4,
        records: 10,
        records_rejected: 1,
        ..DeliveryReport::default()
    };
    let mut total = DeliveryReport::default();
    total.add_message(&message, false);
    assert_eq!(
        (
            total.files_processed,
            total.files_skipped,
            total.files_duplicate
        ),
        (0, 1, 3)
    );
    assert_eq!((total.notifications_ignored, total.records), (4, 0));
    total.add_message(&message, true);
    assert_eq!(
        (total.files_processed, total.files_skipped, total.records),
        (2, 2, 10)
    );
    assert_eq!(total.records_rejected, 1);
}

fn failure(id: Option<&str>) -> Failure {
    Failure {
        object: None,
        message_id: id.map(str::to_owned),
        reason: "s3://b/k: truncated gzip".to_owned(),
        kind: FailureKind::Poison,
    }
}

#[test]
fn caps_are_poison_and_the_deadline_is_retryable() {
    let object: std::sync::Arc<str> = "s3://b/k".into();
    let over = ObjectFailure::from(ReadError::TooManyBytes {
        object: object.clone(),
        limit: 10,
    });
    assert_eq!(over.kind, FailureKind::Poison);
    let late = ObjectFailure::from(ReadError::Deadline {
        object,
        records: 3,
        uncompressed_bytes: 9,
    });
    assert_eq!(late.kind, FailureKind::Retryable);
    assert!(late.reason.contains("deadline"), "{}", late.reason);
    assert_eq!(
        ObjectFailure::from("s3://b/k: throttled".to_owned()).kind,
        FailureKind::Retryable
    );
}

#[test]
fn limits_come_from_the_environment_and_stop_before_the_deadline() {
    let env = |n: &str| {
        match n {
            "TRAILGUARD_MAX_OBJECT_BYTES" => Some("1000"),
            "TRAILGUARD_MAX_OBJECT_RECORDS" => Some("7"),
            "TRAILGUARD_DEADLINE_MARGIN_SECS" => Some("5"),
            _ => None,
        }
        .map(str::to_owned)
    };
    let limits = DeliveryLimits::from_env(&env).unwrap();
    assert_eq!(limits.read.max_uncompressed_bytes, 1000);
    assert_eq!(limits.read.max_records, 7);
    assert_eq!(
        limits.read.max_record_bytes,
        ReadLimits::default().max_record_bytes
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    assert_eq!(
        limits.within(Some(deadline)).deadline,
        Some(deadline - Duration::from_secs(5))
    );
    assert_eq!(limits.within(None).deadline, None);
    assert_eq!(
        DeliveryLimits::from_env(&|_| None),
        Ok(DeliveryLimits::default())
    );

    let object = ObjectRef::new("b", "k");
    let passed = limits.within(Some(Instant::now()));
    assert_eq!(
        past_deadline(&object, &passed).map(|f| f.kind),
        Some(FailureKind::Retryable)
    );
    assert_eq!(past_deadline(&object, &limits.within(None)), None);
}

#[test]
fn sqs_batches_list_only_failed_messages() {
    let report = DeliveryReport {
        from_sqs: true,
        failures: vec![failure(Some("m-2"))],
        ..DeliveryReport::default()
    };
    assert_eq!(
        report.into_response().unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
    );
}

#[test]
fn direct_invocations_fail_as_a_whole() {
    let report = DeliveryReport {
        failures: vec![failure(None)],
        ..DeliveryReport::default()
    };
    let err = report.into_response().unwrap_err();
    assert_eq!(err.error_type(), "FileProcessingFailed");
    assert!(err.to_string().contains("s3://b/k: truncated gzip"));

    let ok = DeliveryReport {
        files_processed: 2,
        ..DeliveryReport::default()
    };
    assert_eq!(ok.into_response().unwrap()["filesProcessed"], 2);
}

const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1200Z_";

/// A consumer that reads nothing from AWS: each log file's key suffix says
/// what happens to it.
struct Keys;

impl Consumer for Keys {
    type Output = Vec<String>;

    fn kind(&self) -> KeyKind {
        KeyKind::Log
    }

    fn ledger(&self) -> Option<&Ledger> {
        None
    }

    async fn consume(
        &self,
        object: &ObjectRef,
        _now: i64,
        _limits: &ReadLimits,
        out: &mut Vec<String>,
        report: &mut DeliveryReport,
    ) -> Result<(), ObjectFailure> {
        if object.key.ends_with("corrupt.json.gz") {
            return Err(ReadError::InvalidJson {
                object: object.to_string().into(),
                offset: 7,
                reason: "expected value".to_owned(),
            }
            .into());
        }
        report.files_processed += 1;
        out.push(object.key.clone());
        Ok(())
    }
}

/// An SQS batch, one message per list of keys, each an S3 notification.
fn sqs(messages: &[&[&str]]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, keys)| {
            let s3: Vec<Value> = keys
                .iter()
                .map(|key| {
                    json!({"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                        "s3": {"bucket": {"name": "trail"}, "object": {"key": format!("{LOG}{key}")}}})
                })
                .collect();
            json!({"messageId": format!("m-{i}"), "eventSource": "aws:sqs",
                "body": json!({ "Records": s3 }).to_string()})
        })
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn a_corrupt_file_fails_its_message_alone_naming_the_object() {
    let payload = sqs(&[
        &["a.json.gz", "b.json.gz"],
        &["corrupt.json.gz", "c.json.gz"],
    ]);
    let mut batch = run(&Keys, &payload, 0, &ReadLimits::default(), 2)
        .await
        .unwrap();
    let read: Vec<Vec<String>> = batch.succeeded().map(|keys| keys.clone()).collect();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].len(), 2);
    let report = batch.finish(None, 0).await;
    assert_eq!(report.files_processed, 2);
    let [failure] = report.failures.as_slice() else {
        panic!("{:?}", report.failures);
    };
    assert_eq!(failure.message_id.as_deref(), Some("m-1"));
    assert_eq!(failure.kind, FailureKind::Poison);
    let object = failure.object.as_ref().map(|o| o.key.as_str());
    assert_eq!(object, Some(format!("{LOG}corrupt.json.gz").as_str()));
    let response = report.into_response().unwrap();
    assert_eq!(
        response["batchItemFailures"],
        json!([{"itemIdentifier": "m-1"}])
    );
}

#[tokio::test]
async fn settling_fails_one_message_or_all() {
    let payload = sqs(&[&["a.json.gz"], &["b.json.gz"], &["c.json.gz"]]);
    let mut batch = run(&Keys, &payload, 0, &ReadLimits::default(), 1)
        .await
        .unwrap();
    batch
        .settle_each(async |keys: &Vec<String>| match keys.first() {
            Some(key) if key.ends_with("b.json.gz") => Err("topic refused b".to_owned()),
            _ => Ok(()),
        })
        .await;
    let report = batch.report();
    let failed: Vec<_> = report
        .failures
        .iter()
        .map(|f| f.message_id.clone())
        .collect();
    assert_eq!(failed, [Some("m-1".to_owned())]);
    assert_eq!(report.failures[0].kind, FailureKind::Retryable);
    assert_eq!(report.files_processed, 2);
    batch.fail_succeeded("PutMetricData throttled");
    let report = batch.finish(None, 0).await;
    assert_eq!(report.failures.len(), 3);
    assert_eq!(report.files_processed, 0);
}

#[tokio::test]
async fn other_kinds_are_skipped_and_a_bad_delivery_is_an_error() {
    let digest = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20230710T120131Z.json.gz";
    let payload = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "trail"}, "object": {"key": digest}}}]});
    let batch = run(&Keys, &payload, 0, &ReadLimits::default(), 1)
        .await
        .unwrap();
    let report = batch.finish(None, 0).await;
    assert_eq!((report.files_skipped, report.files_processed), (1, 0));
    let unknown = run(
        &Keys,
        &json!({"hello": "world"}),
        0,
        &ReadLimits::default(),
        1,
    )
    .await;
    assert!(matches!(unknown, Err(HandlerError::Envelope(_))));
}
