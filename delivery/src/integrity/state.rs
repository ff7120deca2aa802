//! The delivery state the gap check reads: per (account, region, trail),
//! the end time of the newest authentic digest, kept in a DynamoDB table.
//!
//! Table layout: partition key `pk` (string, `account|region|trail`);
//! attributes `account`, `region`, `trail`, `newestDigestEnd` (epoch
//! seconds), `digest` (`s3://` URL of that digest) and `updatedAt`. A
//! conditional write only ever moves `newestDigestEnd` forward, so a late
//! or redelivered older digest cannot make a silent region look fresh.
//!
//! The table holds one row per trail and region, so the check reads it
//! whole with `Scan`.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use thiserror::Error;
use time::{Duration, OffsetDateTime};

use trailguard_engine::integrity::gaps::{DeliveryGap, delivery_gaps};

/// The state table could not be used.
#[derive(Debug, Error)]
#[error(
    "integrity state table {table}: {operation} failed: {reason}; check that the table exists with partition key `pk` and the function may use it"
)]
pub struct StateError {
    /// Table name.
    pub table: String,
    /// The DynamoDB operation.
    pub operation: &'static str,
    /// The service's or the transport's message.
    pub reason: String,
}

/// The newest authentic digest of one trail in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    /// The account the digest was filed under.
    pub account: String,
    /// The region it came from.
    pub region: String,
    /// The trail.
    pub trail: String,
    /// Its end time.
    pub end: OffsetDateTime,
    /// `s3://` URL of the digest.
    pub digest: String,
}

impl Newest {
    fn pk(&self) -> String {
        format!("{}|{}|{}", self.account, self.region, self.trail)
    }
}

/// The table of newest digests.
#[derive(Debug, Clone)]
pub struct DeliveryState {
    client: Client,
    table: String,
}

impl DeliveryState {
    /// The state kept in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DeliveryState {
        DeliveryState {
            client,
            table: table.into(),
        }
    }

    fn error(&self, operation: &'static str, reason: String) -> StateError {
        StateError {
            table: self.table.clone(),
            operation,
            reason,
        }
    }

    /// Records `newest` at time `now` (epoch seconds) unless a digest ending
    /// later is already recorded; returns whether it was recorded.
    pub async fn record(&self, newest: &Newest, now: i64) -> Result<bool, StateError> {
        let end = newest.end.unix_timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(newest.pk()))
            .item("account", AttributeValue::S(newest.account.clone()))
            .item("region", AttributeValue::S(newest.region.clone()))
            .item("trail", AttributeValue::S(newest.trail.clone()))
            .item("newestDigestEnd", number(end))
            .item("digest", AttributeValue::S(newest.digest.clone()))
            .item("updatedAt", number(now))
            .condition_expression("attribute_not_exists(pk) OR newestDigestEnd < :end")
            .expression_attribute_values(":end", number(end))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.error("PutItem", DisplayErrorContext(e).to_string())),
        }
    }

    /// Every recorded trail and region. Rows that do not have the layout
    /// (written by something else) are skipped.
    pub async fn all(&self) -> Result<Vec<Newest>, StateError> {
        let mut rows = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.error("Scan", DisplayErrorContext(e).to_string()))?;
            rows.extend(page.items().iter().filter_map(row));
            match page.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(rows),
            }
        }
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn row(item: &HashMap<String, AttributeValue>) -> Option<Newest> {
    let text = |name: &str| item.get(name)?.as_s().ok().cloned();
    let end = item.get("newestDigestEnd")?.as_n().ok()?.parse().ok()?;
    Some(Newest {
        account: text("account")?,
        region: text("region")?,
        trail: text("trail")?,
        end: OffsetDateTime::from_unix_timestamp(end).ok()?,
        digest: text("digest").unwrap_or_default(),
    })
}

/// A delivery gap of one trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailGap {
    /// The account.
    pub account: String,
    /// The trail.
    pub trail: String,
    /// The region and how long it has been silent.
    pub gap: DeliveryGap,
    /// The newest digest of that region, when one was recorded.
    pub newest_digest: Option<String>,
}

/// The gaps at `now`: per (account, trail) seen in `rows` or named in
/// `also`, each region whose newest digest ended more than `threshold`
/// ago, and each of `expected_regions` without any recorded digest.
pub fn find_gaps(
    rows: &[Newest],
    also: &[(String, String)],
    expected_regions: &[String],
    now: OffsetDateTime,
    threshold: Duration,
) -> Vec<TrailGap> {
    type Regions<'a> = BTreeMap<&'a str, (Option<OffsetDateTime>, Option<&'a str>)>;
    let mut trails: BTreeMap<(&str, &str), Regions<'_>> = BTreeMap::new();
    for (account, trail) in also {
        trails
            .entry((account.as_str(), trail.as_str()))
            .or_default();
    }
    for row in rows {
        trails
            .entry((row.account.as_str(), row.trail.as_str()))
            .or_default()
            .insert(
                row.region.as_str(),
                (Some(row.end), Some(row.digest.as_str())),
            );
    }
    let mut out = Vec::new();
    for ((account, trail), mut regions) in trails {
        for region in expected_regions {
            regions.entry(region.as_str()).or_insert((None, None));
        }
        let ends = regions.iter().map(|(region, (end, _))| (*region, *end));
        for gap in delivery_gaps(ends, now, threshold) {
            let newest_digest = regions
                .get(gap.region.as_str())
                .and_then(|(_, digest)| *digest)
                .filter(|d| !d.is_empty())
                .map(str::to_owned);
            out.push(TrailGap {
                account: account.to_owned(),
                trail: trail.to_owned(),
                gap,
                newest_digest,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2023-07-10 13:00 UTC);

    fn newest(account: &str, region: &str, trail: &str, end: OffsetDateTime) -> Newest {
        Newest {
            account: account.into(),
            region: region.into(),
            trail: trail.into(),
            end,
            digest: format!("s3://b/{region}"),
        }
    }

    #[test]
    fn stale_regions_are_gaps_per_trail() {
        let rows = [
            newest(
                "111122223333",
                "us-east-1",
                "main",
                NOW - Duration::hours(1),
            ),
            newest(
                "111122223333",
                "eu-west-1",
                "main",
                NOW - Duration::hours(5),
            ),
            newest(
                "111122223333",
                "eu-west-1",
                "other",
                NOW - Duration::hours(1),
            ),
        ];
        let gaps = find_gaps(&rows, &[], &[], NOW, Duration::hours(3));
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].trail, "main");
        assert_eq!(gaps[0].gap.region, "eu-west-1");
        assert_eq!(gaps[0].newest_digest.as_deref(), Some("s3://b/eu-west-1"));
    }

    #[test]
    fn expected_regions_without_digests_are_gaps() {
        let rows = [newest("111122223333", "us-east-1", "main", NOW)];
        let expected = ["us-east-1".to_owned(), "ap-south-1".to_owned()];
        let also = [("444455556666".to_owned(), "org".to_owned())];
        let gaps = find_gaps(&rows, &also, &expected, NOW, Duration::hours(3));
        let seen: Vec<(&str, &str, Option<OffsetDateTime>)> = gaps
            .iter()
            .map(|g| {
                (
                    g.account.as_str(),
                    g.gap.region.as_str(),
                    g.gap.newest_digest_end,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("111122223333", "ap-south-1", None),
                ("444455556666", "ap-south-1", None),
                ("444455556666", "us-east-1", None),
            ]
        );
    }

    #[test]
    fn rows_are_read_back_and_foreign_ones_skipped() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("a|r|t".into())),
            ("account".to_owned(), AttributeValue::S("a".into())),
            ("region".to_owned(), AttributeValue::S("r".into())),
            ("trail".to_owned(), AttributeValue::S("t".into())),
            ("newestDigestEnd".to_owned(), number(1_688_994_000)),
        ]);
        assert_eq!(
            row(&item).map(|r| (r.pk(), r.end)),
            Some(("a|r|t".to_owned(), datetime!(2023-07-10 13:00 UTC)))
        );
        let mut foreign = item.clone();
        foreign.remove("newestDigestEnd");
        assert_eq!(row(&foreign), None);
    }
}
