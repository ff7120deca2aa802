//! Publishing datapoints with batched `PutMetricData` calls.
//!
//! One call per namespace and chunk of [`MAX_DATUMS_PER_CALL`] datapoints,
//! never one per record. CloudWatch rejects datapoints older than two weeks,
//! and one rejected datapoint fails the whole call, so old ones (a replay of
//! history) are dropped before sending and counted instead.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use thiserror::Error;

use trailguard_engine::metrics::Datum;

/// Datapoints per call: the API allows 1,000 and 1 MB; 500 keeps a request
/// with 30 dimensions per datapoint well under the size limit.
pub const MAX_DATUMS_PER_CALL: usize = 500;

/// A `PutMetricData` call failed.
#[derive(Debug, Error)]
#[error("PutMetricData to namespace {namespace} ({datums} datapoints) failed: {reason}")]
pub struct PublishError {
    /// The namespace of the failed call.
    pub namespace: String,
    /// How many datapoints it carried.
    pub datums: usize,
    /// The service's or the transport's message.
    pub reason: String,
}

/// What a publish did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishReport {
    /// `PutMetricData` calls made.
    pub calls: usize,
    /// Datapoints sent.
    pub sent: usize,
    /// Datapoints older than the age limit, not sent.
    pub too_old: usize,
}

/// Splits datapoints into calls: per namespace, at most
/// [`MAX_DATUMS_PER_CALL`] each, dropping those with `timestamp < oldest`.
pub fn plan_calls(datums: &[Datum], oldest: Option<i64>) -> (Vec<(&str, Vec<&Datum>)>, usize) {
    let mut by_namespace: BTreeMap<&str, Vec<&Datum>> = BTreeMap::new();
    let mut too_old = 0;
    for d in datums {
        if oldest.is_some_and(|o| d.timestamp < o) {
            too_old += 1;
            continue;
        }
        by_namespace.entry(&d.namespace).or_default().push(d);
    }
    let mut calls = Vec::new();
    for (namespace, list) in by_namespace {
        for chunk in list.chunks(MAX_DATUMS_PER_CALL) {
            calls.push((namespace, chunk.to_vec()));
        }
    }
    (calls, too_old)
}

/// Sends the datapoints. `oldest` (epoch seconds) drops older datapoints.
pub async fn publish(
    client: &Client,
    datums: &[Datum],
    oldest: Option<i64>,
) -> Result<PublishReport, PublishError> {
    let (calls, too_old) = plan_calls(datums, oldest);
    let mut report = PublishReport {
        too_old,
        ..PublishReport::default()
    };
    for (namespace, chunk) in calls {
        let data: Vec<MetricDatum> = chunk.iter().map(|d| to_metric_datum(d)).collect();
        client
            .put_metric_data()
            .namespace(namespace)
            .set_metric_data(Some(data))
            .send()
            .await
            .map_err(|e| PublishError {
                namespace: namespace.to_owned(),
                datums: chunk.len(),
                reason: aws_sdk_cloudwatch::error::DisplayErrorContext(e).to_string(),
            })?;
        report.calls += 1;
        report.sent += chunk.len();
    }
    Ok(report)
}

fn to_metric_datum(d: &Datum) -> MetricDatum {
    let dimensions = d
        .dimensions
        .iter()
        .map(|(name, value)| Dimension::builder().name(name).value(value).build())
        .collect();
    MetricDatum::builder()
        .metric_name(&d.metric_name)
        .set_dimensions(Some(dimensions))
        .timestamp(DateTime::from_secs(d.timestamp))
        .value(d.value)
        .unit(StandardUnit::from(d.unit.as_str()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(namespace: &str, ts: i64) -> Datum {
        Datum {
            rule_id: None,
            references: vec![],
            namespace: namespace.into(),
            metric_name: "M".into(),
            dimensions: vec![],
            timestamp: ts,
            value: 1.0,
            unit: "Count".into(),
        }
    }

    #[test]
    fn chunks_per_namespace_and_drops_old_points() {
        let mut datums: Vec<Datum> = (0..1_201).map(|i| datum("A", 1_000 + i)).collect();
        datums.push(datum("B", 5_000));
        datums.push(datum("B", 10));
        let (calls, too_old) = plan_calls(&datums, Some(100));
        assert_eq!(too_old, 1);
        let sizes: Vec<(&str, usize)> = calls.iter().map(|(ns, c)| (*ns, c.len())).collect();
        assert_eq!(sizes, vec![("A", 500), ("A", 500), ("A", 201), ("B", 1)]);
    }

    #[test]
    fn no_limit_keeps_everything() {
        let datums = vec![datum("A", 0), datum("A", 1)];
        let (calls, too_old) = plan_calls(&datums, None);
        assert_eq!((calls.len(), too_old), (1, 0));
    }
}
