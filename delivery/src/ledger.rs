//! Exactly-once bookkeeping on DynamoDB: which objects (or findings) a
//! consumer has already handled.
//!
//! A redelivered file must not be counted twice, and a file whose processing
//! failed must be processed again. So a claim has two phases:
//! [`Ledger::claim`] takes a lease with a conditional write, and
//! [`Ledger::complete`] marks the work done only after its effects were
//! published; [`Ledger::release`] gives the lease back on failure. A worker
//! that dies mid-way leaves a lease that expires, after which the object is
//! claimable again. Items carry a TTL attribute (`expiresAt`) so the table
//! does not grow forever.
//!
//! Table layout: partition key `pk` (string); attributes `status`
//! (`processing` | `done`), `leaseUntil`, `expiresAt` (epoch seconds).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use thiserror::Error;

const PROCESSING: &str = "processing";
const DONE: &str = "done";

/// The ledger table could not be used.
#[derive(Debug, Error)]
#[error("idempotency table {table}: {operation} for {id} failed: {reason}")]
pub struct LedgerError {
    /// Table name.
    pub table: String,
    /// The DynamoDB operation.
    pub operation: &'static str,
    /// The item id.
    pub id: String,
    /// The service's or the transport's message.
    pub reason: String,
}

/// The result of [`Ledger::claim`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This caller holds the lease and must complete or release it.
    Acquired,
    /// The work was done before: skip it.
    AlreadyDone,
    /// Another worker holds a live lease: try again later.
    InProgress,
}

/// A consumer's view of the idempotency table.
#[derive(Debug, Clone)]
pub struct Ledger {
    client: Client,
    table: String,
    consumer: String,
    lease_secs: i64,
    ttl_secs: i64,
}

impl Ledger {
    /// A ledger for `consumer` (e.g. `metrics`), whose ids are namespaced so
    /// several consumers can share one table.
    pub fn new(client: Client, table: impl Into<String>, consumer: impl Into<String>) -> Ledger {
        Ledger {
            client,
            table: table.into(),
            consumer: consumer.into(),
            // Longer than the Lambda timeout, so a live worker keeps its lease.
            lease_secs: 15 * 60,
            ttl_secs: 90 * 24 * 3600,
        }
    }

    /// Sets how long a lease lasts before another worker may take over.
    pub fn with_lease_secs(mut self, secs: i64) -> Ledger {
        self.lease_secs = secs;
        self
    }

    fn pk(&self, id: &str) -> String {
        format!("{}#{}", self.consumer, id)
    }

    fn error(&self, operation: &'static str, id: &str, reason: String) -> LedgerError {
        LedgerError {
            table: self.table.clone(),
            operation,
            id: id.to_owned(),
            reason,
        }
    }

    /// Tries to take the lease on `id` at time `now` (epoch seconds).
    pub async fn claim(&self, id: &str, now: i64) -> Result<Claim, LedgerError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(self.pk(id)))
            .item("status", AttributeValue::S(PROCESSING.to_owned()))
            .item("leaseUntil", number(now + self.lease_secs))
            .item("expiresAt", number(now + self.ttl_secs))
            .condition_expression(
                "attribute_not_exists(pk) OR (#s = :processing AND leaseUntil < :now)",
            )
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":processing", AttributeValue::S(PROCESSING.to_owned()))
            .expression_attribute_values(":now", number(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                self.current(id).await
            }
            Err(e) => Err(self.error("PutItem", id, DisplayErrorContext(e).to_string())),
        }
    }

    async fn current(&self, id: &str) -> Result<Claim, LedgerError> {
        let item = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(self.pk(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error("GetItem", id, DisplayErrorContext(e).to_string()))?;
        let status = item
            .item()
            .and_then(|i| i.get("status"))
            .and_then(|s| s.as_s().ok());
        Ok(match status.map(String::as_str) {
            Some(DONE) => Claim::AlreadyDone,
            _ => Claim::InProgress,
        })
    }

    /// Marks `id` done: later claims answer [`Claim::AlreadyDone`].
    pub async fn complete(&self, id: &str, now: i64) -> Result<(), LedgerError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(self.pk(id)))
            .item("status", AttributeValue::S(DONE.to_owned()))
            .item("doneAt", number(now))
            .item("expiresAt", number(now + self.ttl_secs))
            .send()
            .await
            .map_err(|e| self.error("PutItem", id, DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// Gives the lease on `id` back after a failure, so a retry can claim it
    /// at once. A `done` item is never removed.
    pub async fn release(&self, id: &str) -> Result<(), LedgerError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(self.pk(id)))
            .condition_expression("#s = :processing")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":processing", AttributeValue::S(PROCESSING.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(())
            }
            Err(e) => Err(self.error("DeleteItem", id, DisplayErrorContext(e).to_string())),
        }
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}
