//! The notifier's correlation hits in DynamoDB: one item per hit, shared by
//! every invocation and Lambda instance.
//!
//! Table layout (`TRAILGUARD_CORRELATION_TABLE`):
//!
//! - `pk` (string, partition key): a hash of the correlation rule's id and
//!   the group's values, so one group's hits are one partition however long
//!   its values are;
//! - `sk` (string, sort key): the event time (12-digit epoch seconds), the
//!   `eventID` and the referenced rule's position. Derived from the event
//!   alone, so a redelivered file overwrites its items instead of adding,
//!   and a time range is a key condition;
//! - `v` (the counted value, `value_count` only), `e` (the record,
//!   deflated, for the finding's facets), `b` and `k` (its log file's
//!   bucket and key), `expiresAt` (the TTL: see [`expires_at`]).
//!
//! Names are short and the record compressed because a write costs one
//! unit per KB: most hits fit in one (docs/correlations.md).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use serde_json::Value;
use thiserror::Error;
use tracing::warn;

use trailguard_engine::findings::finding::{LogFile, finding_id};
use trailguard_engine::sigma::correlation::{Evidence, Hit};

/// How late a log file may arrive after its events and still count: items
/// outlive the windows they can take part in by this much.
pub const LATENESS_SECS: i64 = 3_600;

/// Added to every item's TTL on top of the lateness allowance: CloudTrail's
/// own delivery delay, and slack for retries.
const MARGIN_SECS: i64 = 3_600;

/// Items per `BatchWriteItem` call (DynamoDB's limit).
const BATCH: usize = 25;

/// Rounds of `BatchWriteItem` retrying unprocessed items before the
/// message fails (and is retried whole).
const WRITE_ROUNDS: u32 = 8;

/// Records longer than this are stored without their bulky members, so an
/// item stays far below DynamoDB's 400 KB.
const MAX_RAW: usize = 16 * 1024;

/// Hits read back per group at most; past it the newest are left out and
/// a warning logged, so a flood cannot exhaust the function's memory.
pub const MAX_READ: usize = 5_000;

/// The correlation table could not be used.
#[derive(Debug, Error)]
#[error("correlation table {table}: {operation} failed: {reason}")]
pub struct StoreError {
    /// Table name.
    pub table: String,
    /// The DynamoDB operation.
    pub operation: &'static str,
    /// The service's or the transport's message.
    pub reason: String,
}

/// One hit to store, in its group's partition.
#[derive(Debug, Clone)]
pub struct StoredHit<'h> {
    /// The group's partition key ([`partition`]).
    pub partition: &'h str,
    /// The correlation's timespan, seconds (for the TTL).
    pub timespan: i64,
    /// The hit.
    pub hit: &'h Hit<Evidence>,
}

/// The partition key of a correlation's group.
pub fn partition(rule_id: &str, group: &[String]) -> String {
    finding_id(
        &format!("{rule_id}#correlation-group"),
        &group.join("\u{1f}"),
    )
}

/// The sort key of a hit: time first, so a time range is a key condition.
fn sort_key(hit: &Hit<Evidence>) -> String {
    format!("{}#{}#{}", time_prefix(hit.time), hit.event_id, hit.rule)
}

fn time_prefix(time: i64) -> String {
    format!("{:012}", time.clamp(0, 999_999_999_999))
}

/// When a hit may go: after every window it can be part of (a read for a
/// new hit reaches back two timespans, see `correlation_state`) and the
/// lateness allowance have passed.
pub fn expires_at(time: i64, timespan: i64) -> i64 {
    time.saturating_add(timespan.saturating_mul(2))
        .saturating_add(LATENESS_SECS + MARGIN_SECS)
}

/// The correlation table.
#[derive(Debug, Clone)]
pub struct HitStore {
    client: Client,
    table: String,
}

impl HitStore {
    /// The table `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> HitStore {
        HitStore {
            client,
            table: table.into(),
        }
    }

    fn error(&self, operation: &'static str, reason: String) -> StoreError {
        StoreError {
            table: self.table.clone(),
            operation,
            reason,
        }
    }

    /// Writes `hits` (an item per hit; the same hit twice is written once),
    /// retrying what DynamoDB leaves unprocessed; an error means some hit
    /// may be missing, so the message must be retried.
    pub async fn put(&self, hits: &[StoredHit<'_>]) -> Result<(), StoreError> {
        let mut requests: Vec<(String, WriteRequest)> = Vec::with_capacity(hits.len());
        for stored in hits {
            let id = format!("{}|{}", stored.partition, sort_key(stored.hit));
            if requests.iter().any(|(seen, _)| *seen == id) {
                continue;
            }
            requests.push((id, self.request(stored)?));
        }
        for chunk in requests.chunks(BATCH) {
            let batch: Vec<WriteRequest> = chunk.iter().map(|(_, r)| r.clone()).collect();
            self.write_batch(batch).await?;
        }
        Ok(())
    }

    fn request(&self, stored: &StoredHit<'_>) -> Result<WriteRequest, StoreError> {
        let hit = stored.hit;
        let mut put = PutRequest::builder()
            .item("pk", AttributeValue::S(stored.partition.to_owned()))
            .item("sk", AttributeValue::S(sort_key(hit)))
            .item("e", AttributeValue::B(Blob::new(pack(&hit.payload.raw))))
            .item("expiresAt", number(expires_at(hit.time, stored.timespan)));
        if let Some(value) = &hit.value {
            put = put.item("v", AttributeValue::S(value.clone()));
        }
        if let Some(file) = &hit.payload.log_file {
            put = put
                .item("b", AttributeValue::S(file.bucket.clone()))
                .item("k", AttributeValue::S(file.key.clone()));
        }
        let put = put
            .build()
            .map_err(|e| self.error("BatchWriteItem", e.to_string()))?;
        Ok(WriteRequest::builder().put_request(put).build())
    }

    async fn write_batch(&self, mut batch: Vec<WriteRequest>) -> Result<(), StoreError> {
        for round in 0..WRITE_ROUNDS {
            if round > 0 {
                // Unprocessed items mean throttling: back off before retrying.
                tokio::time::sleep(Duration::from_millis(25 << round.min(6))).await;
            }
            let out = self
                .client
                .batch_write_item()
                .request_items(self.table.clone(), batch)
                .send()
                .await
                .map_err(|e| self.error("BatchWriteItem", DisplayErrorContext(e).to_string()))?;
            batch = out
                .unprocessed_items
                .and_then(|mut items| items.remove(&self.table))
                .unwrap_or_default();
            if batch.is_empty() {
                return Ok(());
            }
        }
        Err(self.error(
            "BatchWriteItem",
            format!(
                "{} item(s) still unprocessed after {WRITE_ROUNDS} rounds",
                batch.len()
            ),
        ))
    }

    /// The hits of partition `partition` with event times in `from..=to`,
    /// read consistently (so every write finished before is seen), at most
    /// [`MAX_READ`].
    pub async fn query(
        &self,
        partition: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<Hit<Evidence>>, StoreError> {
        let mut hits = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", AttributeValue::S(partition.to_owned()))
                .expression_attribute_values(":from", AttributeValue::S(time_prefix(from)))
                // '$' sorts after '#': every key of second `to` is included.
                .expression_attribute_values(
                    ":to",
                    AttributeValue::S(format!("{}$", time_prefix(to))),
                )
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error("Query", DisplayErrorContext(e).to_string()))?;
            hits.extend(page.items().iter().filter_map(hit_of_item));
            start = page.last_evaluated_key().cloned();
            if hits.len() >= MAX_READ {
                warn!(
                    partition,
                    read = hits.len(),
                    "correlation group read capped"
                );
                hits.truncate(MAX_READ);
                return Ok(hits);
            }
            if start.is_none() {
                return Ok(hits);
            }
        }
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

type Item = std::collections::HashMap<String, AttributeValue>;

/// A stored hit back; an item not written by [`HitStore::put`] is skipped.
fn hit_of_item(item: &Item) -> Option<Hit<Evidence>> {
    let sk = item.get("sk")?.as_s().ok()?;
    let (time, rest) = sk.split_once('#')?;
    let (event_id, rule) = rest.rsplit_once('#')?;
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let raw = unpack(item.get("e")?.as_b().ok()?.as_ref())?;
    let log_file = match (text("b"), text("k")) {
        (Some(bucket), Some(key)) => Some(Arc::new(LogFile { bucket, key })),
        _ => None,
    };
    Some(Hit {
        time: time.parse().ok()?,
        event_id: event_id.to_owned(),
        rule: rule.parse().ok()?,
        value: text("v"),
        payload: Evidence {
            raw: Arc::from(raw),
            log_file,
        },
    })
}

/// The record's text, deflated; a long one loses its bulky members first
/// (the finding's facets keep who, what, where and the outcome).
fn pack(raw: &str) -> Vec<u8> {
    let text = if raw.len() <= MAX_RAW {
        raw.to_owned()
    } else {
        trimmed(raw)
    };
    let mut deflate = DeflateEncoder::new(Vec::new(), Compression::best());
    // Writing to a Vec cannot fail.
    let _ = deflate.write_all(text.as_bytes());
    deflate.finish().unwrap_or_default()
}

/// `raw` without the members that make records long.
fn trimmed(raw: &str) -> String {
    let Ok(Value::Object(mut record)) = serde_json::from_str::<Value>(raw) else {
        return "{}".to_owned();
    };
    for bulky in [
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "serviceEventDetails",
        "resources",
    ] {
        record.remove(bulky);
    }
    let text = Value::Object(record).to_string();
    if text.len() <= MAX_RAW {
        text
    } else {
        "{}".to_owned()
    }
}

fn unpack(bytes: &[u8]) -> Option<String> {
    let mut text = String::new();
    DeflateDecoder::new(bytes).read_to_string(&mut text).ok()?;
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hit(event: &Value) -> Hit<Evidence> {
        Hit {
            time: 1_709_287_200,
            event_id: "e#1".to_owned(),
            rule: 2,
            value: Some("GetSecretValue".to_owned()),
            payload: Evidence {
                raw: Arc::from(event.to_string()),
                log_file: Some(Arc::new(LogFile {
                    bucket: "b".into(),
                    key: "k.json.gz".into(),
                })),
            },
        }
    }

    fn item_of(hit: &Hit<Evidence>) -> Item {
        let store = HitStore::new(
            Client::from_conf(
                aws_sdk_dynamodb::Config::builder()
                    .behavior_version_latest()
                    .build(),
            ),
            "t",
        );
        let request = store
            .request(&StoredHit {
                partition: "p",
                timespan: 600,
                hit,
            })
            .unwrap();
        request.put_request.unwrap().item
    }

    #[test]
    fn a_hit_survives_the_table() {
        let event = json!({"eventID": "e#1", "eventTime": "2024-03-01T10:00:00Z",
            "eventName": "GetSecretValue", "eventSource": "secretsmanager.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/u"}});
        let original = hit(&event);
        let item = item_of(&original);
        assert_eq!(item["sk"].as_s().unwrap(), "001709287200#e#1#2");
        assert_eq!(
            item["expiresAt"].as_n().unwrap(),
            &(1_709_287_200 + 1200 + 7200).to_string()
        );
        let back = hit_of_item(&item).unwrap();
        assert_eq!(
            (back.time, &back.event_id, back.rule, &back.value),
            (original.time, &original.event_id, 2, &original.value)
        );
        assert_eq!(back.payload.raw, original.payload.raw);
        assert_eq!(back.payload.log_file, original.payload.log_file);
    }

    #[test]
    fn a_long_record_is_stored_without_its_bulky_members() {
        let event = json!({"eventID": "e#1", "eventName": "PutRolePolicy",
            "requestParameters": {"policyDocument": "x".repeat(40_000)}});
        let item = item_of(&hit(&event));
        let back = hit_of_item(&item).unwrap();
        assert!(back.payload.raw.len() < 100);
        assert_eq!(back.payload.facts().event_id.as_deref(), Some("e#1"));
    }

    #[test]
    fn partitions_differ_by_rule_and_group() {
        let a = partition("r", &["x".into(), "y".into()]);
        assert_eq!(a, partition("r", &["x".into(), "y".into()]));
        assert_ne!(a, partition("r", &["x".into(), "z".into()]));
        assert_ne!(a, partition("s", &["x".into(), "y".into()]));
        assert_eq!(a.len(), 32);
    }
}
