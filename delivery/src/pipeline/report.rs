//! What one invocation did, and the Lambda response that says so.

use serde_json::{Value, json};

use super::{Failure, FailureKind, HandlerError};

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
        if self.from_sqs {
            return Ok(self.sqs_response());
        }
        self.log_failures();
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

    /// The answer to an SQS batch, `{"batchItemFailures": [...]}` naming
    /// only the failed messages, which alone are retried.
    pub fn sqs_response(&self) -> Value {
        self.log_failures();
        let failures: Vec<Value> = self
            .failures
            .iter()
            .filter_map(|f| f.message_id.as_ref())
            .map(|id| json!({ "itemIdentifier": id }))
            .collect();
        json!({ "batchItemFailures": failures })
    }

    fn log_failures(&self) {
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
    }
}
