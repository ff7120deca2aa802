//! The audit trail: claims and final records in the audit table, under
//! the first-write condition (see the service's module docs), and each
//! final record published on the audit topic.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sns::types::MessageAttributeValue;
use trailguard_engine::clock::rfc3339_utc;
use trailguard_engine::remediation::actions::ActionKind;
use trailguard_engine::remediation::audit::AuditRecord;
use trailguard_engine::remediation::request::RemediationRequest;

use super::{RemediatorError, RemediatorService};

/// How long a claim holds an audit id against a concurrent delivery of the
/// same trigger. Longer than one request's work; shorter than Lambda's
/// first retry of a failed asynchronous invocation (one minute after the
/// failure), so the retry of an invocation that died mid-request can take
/// the claim over.
pub const CLAIM_LEASE_SECS: u64 = 60;

/// The `outcome` of a claim, before the final record replaces it.
pub const CLAIM_OUTCOME: &str = "inProgress";

/// The stored `outcome` of [`Outcome::Failed`], a record a redelivery may
/// take over.
pub(super) const FAILED_OUTCOME: &str = "failed";

/// The stored `outcome` of [`Outcome::Deferred`], a record the deferred
/// request takes over when it comes back.
pub(super) const DEFERRED_OUTCOME: &str = "deferred";

/// The condition of every first write of an audit id (see the module docs).
pub(super) const FIRST_WRITE_CONDITION: &str = "attribute_not_exists(id) OR outcome IN (:failed, :deferred) \
     OR (outcome = :inProgress AND leaseExpiresAt < :now)";

impl RemediatorService {
    /// Claims `id` for this invocation; `false` when it is taken. The claim
    /// names the request so a stuck one can be told apart in the table.
    pub(super) async fn claim(
        &self,
        id: &str,
        req: &RemediationRequest,
        now: u64,
    ) -> Result<bool, RemediatorError> {
        let lease_expires_at = now.saturating_add(CLAIM_LEASE_SECS);
        let item = HashMap::from([
            ("id".to_owned(), AttributeValue::S(id.to_owned())),
            ("timestamp".to_owned(), AttributeValue::S(rfc3339_utc(now))),
            (
                "outcome".to_owned(),
                AttributeValue::S(CLAIM_OUTCOME.to_owned()),
            ),
            (
                "leaseExpiresAt".to_owned(),
                AttributeValue::N(lease_expires_at.to_string()),
            ),
            (
                "action".to_owned(),
                AttributeValue::S(req.action.name().to_owned()),
            ),
            (
                "resource".to_owned(),
                AttributeValue::S(req.resource.to_string()),
            ),
            (
                "triggerEventId".to_owned(),
                AttributeValue::S(req.trigger_event_id.clone()),
            ),
        ]);
        self.put(id, item, Some(now)).await
    }

    /// Writes `record`; with `first_write_at`, only under the first-write
    /// condition, returning `false` when the id is taken.
    pub(super) async fn write(
        &self,
        record: &AuditRecord,
        first_write_at: Option<u64>,
    ) -> Result<bool, RemediatorError> {
        let item = record
            .to_dynamodb_item()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v)))
            .collect();
        self.put(&record.id, item, first_write_at).await
    }

    pub(super) async fn put(
        &self,
        id: &str,
        item: HashMap<String, AttributeValue>,
        first_write_at: Option<u64>,
    ) -> Result<bool, RemediatorError> {
        let mut call = self
            .dynamodb
            .put_item()
            .table_name(&self.config.audit_table)
            .set_item(Some(item));
        if let Some(now) = first_write_at {
            call = call
                .condition_expression(FIRST_WRITE_CONDITION)
                .expression_attribute_values(
                    ":failed",
                    AttributeValue::S(FAILED_OUTCOME.to_owned()),
                )
                .expression_attribute_values(
                    ":deferred",
                    AttributeValue::S(DEFERRED_OUTCOME.to_owned()),
                )
                .expression_attribute_values(
                    ":inProgress",
                    AttributeValue::S(CLAIM_OUTCOME.to_owned()),
                )
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        }
        match call.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(RemediatorError::AuditWrite {
                id: id.to_owned(),
                table: self.config.audit_table.clone(),
                message: DisplayErrorContext(&e).to_string(),
            }),
        }
    }

    /// Publishes `record` as JSON, with `outcome`, `action` and `dryRun`
    /// message attributes for subscription filter policies.
    pub(super) async fn publish(&self, record: &AuditRecord) -> Result<(), RemediatorError> {
        let publish_error = |message: String| RemediatorError::AuditPublish {
            id: record.id.clone(),
            topic: self.config.audit_topic_arn.clone(),
            message,
        };
        let message = record.to_json().map_err(|e| publish_error(e.to_string()))?;
        let mut call = self
            .sns
            .publish()
            .topic_arn(&self.config.audit_topic_arn)
            .subject(subject(record))
            .message(message);
        let mut attributes = vec![
            ("outcome", record.outcome.kind().to_owned()),
            ("dryRun", record.dry_run.to_string()),
        ];
        if let Some(action) = record.action {
            attributes.push(("action", action.name().to_owned()));
        }
        for (name, value) in attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| publish_error(e.to_string()))?;
            call = call.message_attributes(name, attribute);
        }
        call.send()
            .await
            .map_err(|e| publish_error(DisplayErrorContext(&e).to_string()))?;
        tracing::info!(
            id = %record.id,
            outcome = record.outcome.kind(),
            resource = record.resource.as_deref().unwrap_or(""),
            detail = record.outcome.detail().unwrap_or_default(),
            "audited"
        );
        Ok(())
    }
}

/// The SNS subject of a record: ASCII, one line, under SNS's 100 characters.
pub(super) fn subject(record: &AuditRecord) -> String {
    let action = record.action.map_or("trigger", ActionKind::name);
    let mut text = format!("trailguard remediation {}: {action}", record.outcome.kind());
    text.truncate(99);
    text
}
