//! Failure semantics shared by the functions fed with log-file deliveries.
//!
//! A file that cannot be processed is never dropped: from SQS its message is
//! listed in `batchItemFailures`, so only it is retried (and, after the
//! queue's `maxReceiveCount`, moved to the dead-letter queue); from a direct
//! S3/SNS/EventBridge invocation the invocation fails, so Lambda retries and
//! then hands the event to the on-failure destination / DLQ.
//!
//! Each failure is [`FailureKind::Retryable`] or [`FailureKind::Poison`].
//! Both are retried the same way (nothing is dropped, and the DLQ keeps the
//! poison for inspection); the kind tells the logs and the operator whether
//! waiting can help. A file past a [`ReadLimits`] cap is poison: it is
//! the same file next time. A file stopped by the deadline is retryable:
//! the next invocation may share its time with fewer files.
//!
//! # Deadline
//!
//! A Lambda function killed at its timeout fails every message of its
//! batch, even those it finished. So reading stops [`DeliveryLimits::margin`]
//! before the deadline (leaving time to publish, settle the ledger and
//! answer), and only the messages still reading fail.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thiserror::Error;

use crate::ledger::{Claim, Ledger};
use trailguard_engine::config::{self, ConfigError, Lookup};
use trailguard_engine::envelope::{EnvelopeError, ObjectRef};
use trailguard_engine::keys::{self, KeyKind};
use trailguard_engine::reader::{ReadError, ReadLimits};

/// Whether a failed message may succeed when it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A passing condition: an AWS call failed, another invocation holds
    /// the file, the deadline came first.
    Retryable,
    /// The object itself is at fault (corrupt, over a cap): every retry
    /// fails alike until the message reaches the dead-letter queue.
    Poison,
}

/// Why one object (or its message) could not be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// The reason, naming the object.
    pub reason: String,
    /// Whether a retry may help.
    pub kind: FailureKind,
}

/// AWS calls, the ledger and unwrapping fail in ways a retry may mend.
impl From<String> for ObjectFailure {
    fn from(reason: String) -> Self {
        ObjectFailure {
            reason,
            kind: FailureKind::Retryable,
        }
    }
}

impl From<ReadError> for ObjectFailure {
    fn from(error: ReadError) -> Self {
        let kind = if error.is_retryable() {
            FailureKind::Retryable
        } else {
            FailureKind::Poison
        };
        ObjectFailure {
            reason: error.to_string(),
            kind,
        }
    }
}

/// One message (or direct invocation) that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// SQS message id; `None` for direct invocations.
    pub message_id: Option<String>,
    /// The reason, naming the object.
    pub reason: String,
    /// Whether a retry may help.
    pub kind: FailureKind,
}

impl Failure {
    /// Message `message_id` failed with `failure`.
    pub fn of(message_id: Option<String>, failure: ObjectFailure) -> Failure {
        Failure {
            message_id,
            reason: failure.reason,
            kind: failure.kind,
        }
    }
}

/// What one delivered object may cost a function (`TRAILGUARD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLimits {
    /// The reader's caps: `TRAILGUARD_MAX_OBJECT_BYTES` (uncompressed,
    /// default 4 GiB), `TRAILGUARD_MAX_OBJECT_RECORDS` (default 10 million),
    /// `TRAILGUARD_MAX_RECORD_BYTES` (default 16 MiB). No deadline here.
    pub read: ReadLimits,
    /// `TRAILGUARD_DEADLINE_MARGIN_SECS` (default 15): reading stops this
    /// long before the Lambda deadline.
    pub margin: Duration,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        DeliveryLimits {
            read: ReadLimits::default(),
            margin: Duration::from_secs(15),
        }
    }
}

impl DeliveryLimits {
    /// Reads the limits through `env`; unset variables keep the defaults.
    pub fn from_env(env: Lookup<'_>) -> Result<DeliveryLimits, ConfigError> {
        let defaults = DeliveryLimits::default();
        let record_bytes = config::integer(
            env,
            "TRAILGUARD_MAX_RECORD_BYTES",
            defaults.read.max_record_bytes as u64,
        )?;
        Ok(DeliveryLimits {
            read: ReadLimits {
                max_record_bytes: usize::try_from(record_bytes).unwrap_or(usize::MAX),
                max_uncompressed_bytes: config::integer(
                    env,
                    "TRAILGUARD_MAX_OBJECT_BYTES",
                    defaults.read.max_uncompressed_bytes,
                )?,
                max_records: config::integer(
                    env,
                    "TRAILGUARD_MAX_OBJECT_RECORDS",
                    defaults.read.max_records,
                )?,
                deadline: None,
            },
            margin: Duration::from_secs(config::integer(
                env,
                "TRAILGUARD_DEADLINE_MARGIN_SECS",
                defaults.margin.as_secs(),
            )?),
        })
    }

    /// The reader's limits for an invocation that must end by `deadline`.
    pub fn within(&self, deadline: Option<Instant>) -> ReadLimits {
        let stop = deadline.map(|d| d.checked_sub(self.margin).unwrap_or(d));
        self.read.until(stop)
    }
}

/// The failure of an object not started because `limits`' deadline passed.
pub fn past_deadline(object: &ObjectRef, limits: &ReadLimits) -> Option<ObjectFailure> {
    limits
        .deadline
        .is_some_and(|stop| Instant::now() >= stop)
        .then(|| ObjectFailure {
            reason: format!(
                "{object}: not started, to finish before the function's deadline; \
                 the file will be retried"
            ),
            kind: FailureKind::Retryable,
        })
}

/// Everything one invocation did, for the response and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Whether the input was an SQS batch (partial failures are reported).
    pub from_sqs: bool,
    /// Log files fully processed.
    pub files_processed: u64,
    /// Objects that are not log files (digests, insights, others).
    pub files_skipped: u64,
    /// Log files already processed by an earlier delivery.
    pub files_duplicate: u64,
    /// Notifications deliberately ignored (test events, deletions).
    pub notifications_ignored: u64,
    /// Records read.
    pub records: u64,
    /// Records rejected.
    pub records_rejected: u64,
    /// Failed messages.
    pub failures: Vec<Failure>,
}

/// Why an invocation failed as a whole.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The input is no delivery trailguard knows.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A direct invocation had files that failed; Lambda should retry it.
    #[error("{} of the delivered files failed: {}", .0.len(), join(.0))]
    Files(Vec<Failure>),
}

impl HandlerError {
    /// A stable error type for Lambda's error report.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Envelope(_) => "UnrecognisedDelivery",
            HandlerError::Files(_) => "FileProcessingFailed",
        }
    }
}

/// Whether a delivered object is to be processed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Process it; `claim` is the ledger id to complete or release
    /// afterwards (`None` without a ledger).
    Process {
        /// The ledger id held for this object.
        claim: Option<String>,
    },
    /// Not a CloudTrail log file (digest, Insights, other): counted, skipped.
    NotALogFile,
    /// Processed by an earlier delivery: counted, skipped.
    AlreadyDone,
}

/// The step every delivery consumer takes before reading an object: only
/// log files go on, and only when the ledger (if any) grants the claim. An
/// object another invocation is working on is an error, so its message is
/// retried later.
pub async fn admit(
    object: &ObjectRef,
    ledger: Option<&Ledger>,
    now: i64,
) -> Result<Admission, String> {
    let kind = keys::classify(&object.key).kind;
    if kind != KeyKind::Log {
        tracing::info!(object = %object, ?kind, "not a CloudTrail log file; skipped");
        return Ok(Admission::NotALogFile);
    }
    let Some(ledger) = ledger else {
        return Ok(Admission::Process { claim: None });
    };
    let id = object.identity();
    match ledger.claim(&id, now).await.map_err(|e| e.to_string())? {
        Claim::Acquired => Ok(Admission::Process { claim: Some(id) }),
        Claim::AlreadyDone => {
            tracing::info!(object = %object, "already processed; skipped");
            Ok(Admission::AlreadyDone)
        }
        Claim::InProgress => Err(format!("{object}: being processed by another invocation")),
    }
}

/// Runs `each` on a message's objects in order and returns the message's
/// failure: the unwrapping error, or the first object's that fails. The
/// objects after a failure are not tried: the message is retried whole.
pub async fn first_failure<E: From<String>>(
    objects: Result<Vec<ObjectRef>, EnvelopeError>,
    mut each: impl AsyncFnMut(&ObjectRef) -> Result<(), E>,
) -> Option<E> {
    let objects = match objects {
        Ok(objects) => objects,
        Err(e) => return Some(E::from(e.to_string())),
    };
    for object in &objects {
        if let Err(reason) = each(object).await {
            return Some(reason);
        }
    }
    None
}

fn join(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(|f| f.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

impl DeliveryReport {
    /// Adds one message's counts: what it skipped whatever happened, what it
    /// processed only if it succeeded (a failed message is retried whole).
    pub fn add_message(&mut self, message: &DeliveryReport, succeeded: bool) {
        self.files_skipped += message.files_skipped;
        self.files_duplicate += message.files_duplicate;
        self.notifications_ignored += message.notifications_ignored;
        if succeeded {
            self.files_processed += message.files_processed;
            self.records += message.records;
            self.records_rejected += message.records_rejected;
        }
    }

    /// The Lambda response: for SQS, `{"batchItemFailures": [...]}` naming
    /// only failed messages; otherwise a summary, or an error when anything
    /// failed.
    pub fn into_response(self) -> Result<Value, HandlerError> {
        for f in &self.failures {
            let message_id = f.message_id.as_deref().unwrap_or("-");
            match f.kind {
                FailureKind::Retryable => tracing::warn!(
                    message_id,
                    reason = %f.reason,
                    "delivery failed; it will be retried"
                ),
                FailureKind::Poison => tracing::error!(
                    message_id,
                    reason = %f.reason,
                    "delivery failed and will fail again: poison, bound for the dead-letter queue"
                ),
            }
        }
        if self.from_sqs {
            let failures: Vec<Value> = self
                .failures
                .iter()
                .filter_map(|f| f.message_id.as_ref())
                .map(|id| json!({ "itemIdentifier": id }))
                .collect();
            return Ok(json!({ "batchItemFailures": failures }));
        }
        if !self.failures.is_empty() {
            return Err(HandlerError::Files(self.failures));
        }
        Ok(json!({
            "filesProcessed": self.files_processed,
            "filesSkipped": self.files_skipped,
            "filesDuplicate": self.files_duplicate,
            "notificationsIgnored": self.notifications_ignored,
            "records": self.records,
            "recordsRejected": self.records_rejected,
        }))
    }
}

#[cfg(test)]
mod tests {
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
                matches!(admit(&at(key), None, 0).await, Ok(Admission::NotALogFile)),
                "{key}"
            );
        }
        assert!(matches!(
            admit(&at(log), None, 0).await,
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
        };
        let unwrapped =
            first_failure::<String>(Err(bad), async |_: &ObjectRef| panic!("no object to try"))
                .await;
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
}
