//! In-memory aggregation: one counter per (namespace, metric, dimensions,
//! minute), so a file of any size becomes a handful of datapoints.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::errors::ErrorClass;
use crate::record::Record;
use crate::rules::Rule;

/// The facts about one record that metrics need.
#[derive(Debug, Clone, Copy, Default)]
pub struct EventFacts<'a> {
    /// `eventTime` in epoch seconds, if the record has a valid one.
    pub event_time: Option<i64>,
    /// `recipientAccountId` (falling back to `userIdentity.accountId`).
    pub account: Option<&'a str>,
    /// `awsRegion`.
    pub region: Option<&'a str>,
    /// `eventSource`, e.g. `s3.amazonaws.com`.
    pub event_source: Option<&'a str>,
    /// `errorCode`, set when the call failed.
    pub error_code: Option<&'a str>,
}

impl<'r> EventFacts<'r> {
    /// The facts of a record. The account comes from the record
    /// (`recipientAccountId`, then `userIdentity.accountId`), never the S3 key.
    pub fn of(record: &'r Record<'_>) -> EventFacts<'r> {
        EventFacts {
            event_time: record.event_time_epoch(),
            account: record.account(),
            region: record.aws_region.as_deref(),
            event_source: record.event_source.as_deref(),
            error_code: record.error_code.as_deref(),
        }
    }
}

/// Settings for an [`Aggregator`].
#[derive(Debug, Clone)]
pub struct AggregatorConfig {
    /// Namespace for rule metrics that do not name one.
    pub namespace: String,
    /// Namespace for trailguard's operational and troubleshooting metrics.
    pub ops_namespace: String,
    /// Whether to count API errors per service (`ApiErrors`).
    pub api_errors: bool,
    /// Distinct services counted separately per aggregator; further ones are
    /// counted as `other`, which keeps metric cardinality (and cost) bounded.
    pub api_error_services_cap: usize,
}

impl Default for AggregatorConfig {
    fn default() -> Self {
        AggregatorConfig {
            namespace: "CloudTrailMetrics".to_owned(),
            ops_namespace: "Trailguard".to_owned(),
            api_errors: true,
            api_error_services_cap: 50,
        }
    }
}

/// One datapoint, exactly as it is published.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Datum {
    /// The rule that produced it; `None` for operational metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The rule's `scheme:id` references.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// CloudWatch namespace.
    pub namespace: String,
    /// CloudWatch metric name.
    pub metric_name: String,
    /// Dimension name/value pairs, sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Epoch seconds: a whole minute of `eventTime` for event metrics.
    pub timestamp: i64,
    /// Sum of the values.
    pub value: f64,
    /// CloudWatch unit.
    pub unit: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    namespace: String,
    metric_name: String,
    dimensions: Vec<(String, String)>,
    timestamp: i64,
}

#[derive(Debug, Clone)]
struct Slot {
    value: f64,
    unit: String,
    rule_id: Option<String>,
    references: Vec<String>,
}

/// Sums datapoints before they are sent.
#[derive(Debug, Clone)]
pub struct Aggregator {
    config: AggregatorConfig,
    slots: BTreeMap<Key, Slot>,
    error_services: BTreeSet<String>,
}

/// Name of the API-error troubleshooting metric.
pub use super::names::API_ERRORS;
/// Service dimension value that absorbs services past the cap.
pub const OTHER_SERVICES: &str = "other";

impl Aggregator {
    /// An empty aggregator.
    pub fn new(config: AggregatorConfig) -> Aggregator {
        Aggregator {
            config,
            slots: BTreeMap::new(),
            error_services: BTreeSet::new(),
        }
    }

    /// The settings in use.
    pub fn config(&self) -> &AggregatorConfig {
        &self.config
    }

    /// Counts a rule match. Rules without a metric are ignored; a record
    /// without `eventTime` is counted at `fallback_time` (the caller decides
    /// what that is and counts it).
    pub fn rule_matched(&mut self, rule: &Rule, facts: &EventFacts<'_>, fallback_time: i64) {
        let Some(metric) = &rule.spec().metric else {
            return;
        };
        let dimensions = metric
            .dimensions
            .iter()
            .map(|d| {
                let value = match d {
                    crate::rules::Dimension::Account => facts.account,
                    crate::rules::Dimension::Region => facts.region,
                };
                (d.name().to_owned(), value.unwrap_or("unknown").to_owned())
            })
            .collect();
        let key = Key {
            namespace: metric
                .namespace
                .clone()
                .unwrap_or_else(|| self.config.namespace.clone()),
            metric_name: metric.name.clone(),
            dimensions,
            timestamp: minute(facts.event_time.unwrap_or(fallback_time)),
        };
        let slot = self.slots.entry(key).or_insert_with(|| Slot {
            value: 0.0,
            unit: metric.unit.clone(),
            rule_id: Some(rule.id().to_owned()),
            references: rule.spec().references.clone(),
        });
        slot.value += metric.value;
    }

    /// Counts one record: every matched rule's metric and, when it failed,
    /// the API-error metric. The one place both the `metrics` function and
    /// the CLI count, so their datapoints cannot differ.
    pub fn count_record(&mut self, record: &Record<'_>, matched: &[&Rule], fallback_time: i64) {
        let facts = EventFacts::of(record);
        for rule in matched {
            self.rule_matched(rule, &facts, fallback_time);
        }
        self.api_error(&facts, fallback_time);
    }

    /// Counts a failed API call (a record with `errorCode`) per service and
    /// error class, when troubleshooting metrics are on.
    pub fn api_error(&mut self, facts: &EventFacts<'_>, fallback_time: i64) {
        if !self.config.api_errors {
            return;
        }
        let Some(code) = facts.error_code else {
            return;
        };
        let service = facts.event_source.unwrap_or("unknown");
        let service = if self.error_services.contains(service) {
            service
        } else if self.error_services.len() < self.config.api_error_services_cap {
            self.error_services.insert(service.to_owned());
            service
        } else {
            OTHER_SERVICES
        };
        let dimensions = vec![
            (
                "ErrorClass".to_owned(),
                ErrorClass::of(code).as_str().to_owned(),
            ),
            ("EventSource".to_owned(), service.to_owned()),
        ];
        let namespace = self.config.ops_namespace.clone();
        self.add(
            namespace,
            API_ERRORS,
            dimensions,
            minute(facts.event_time.unwrap_or(fallback_time)),
            1.0,
            "Count",
        );
    }

    /// Adds an operational datapoint (no dimensions) in the ops namespace.
    pub fn operational(&mut self, metric_name: &str, timestamp: i64, value: f64, unit: &str) {
        let namespace = self.config.ops_namespace.clone();
        self.add(
            namespace,
            metric_name,
            Vec::new(),
            minute(timestamp),
            value,
            unit,
        );
    }

    fn add(
        &mut self,
        namespace: String,
        metric_name: &str,
        dimensions: Vec<(String, String)>,
        timestamp: i64,
        value: f64,
        unit: &str,
    ) {
        let key = Key {
            namespace,
            metric_name: metric_name.to_owned(),
            dimensions,
            timestamp,
        };
        let slot = self.slots.entry(key).or_insert_with(|| Slot {
            value: 0.0,
            unit: unit.to_owned(),
            rule_id: None,
            references: Vec::new(),
        });
        slot.value += value;
    }

    /// Adds everything `other` counted (e.g. another file's aggregator).
    pub fn merge(&mut self, other: Aggregator) {
        for (key, slot) in other.slots {
            match self.slots.get_mut(&key) {
                Some(mine) => mine.value += slot.value,
                None => {
                    self.slots.insert(key, slot);
                }
            }
        }
        self.error_services.extend(other.error_services);
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The datapoints, sorted by namespace, metric, dimensions and time.
    pub fn datums(&self) -> Vec<Datum> {
        self.slots
            .iter()
            .map(|(key, slot)| Datum {
                rule_id: slot.rule_id.clone(),
                references: slot.references.clone(),
                namespace: key.namespace.clone(),
                metric_name: key.metric_name.clone(),
                dimensions: key.dimensions.clone(),
                timestamp: key.timestamp,
                value: slot.value,
                unit: slot.unit.clone(),
            })
            .collect()
    }
}

/// Floors epoch seconds to the minute.
pub fn minute(epoch_seconds: i64) -> i64 {
    epoch_seconds.div_euclid(60) * 60
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Catalogue;

    fn facts(time: i64) -> EventFacts<'static> {
        EventFacts {
            event_time: Some(time),
            account: Some("111122223333"),
            region: Some("eu-west-1"),
            event_source: Some("s3.amazonaws.com"),
            error_code: Some("AccessDenied"),
        }
    }

    #[test]
    fn counts_rule_matches_per_minute_of_event_time() {
        let cat = Catalogue::builtin().unwrap();
        let rule = cat.get("cis-unauthorized-api-calls").unwrap();
        let mut agg = Aggregator::new(AggregatorConfig::default());
        agg.rule_matched(rule, &facts(1_688_990_000), 0); // 12:33:20
        agg.rule_matched(rule, &facts(1_688_990_039), 0); // 12:33:59
        agg.rule_matched(rule, &facts(1_688_990_040), 0); // 12:34:00
        let datums = agg.datums();
        assert_eq!(datums.len(), 2);
        assert_eq!((datums[0].timestamp, datums[0].value), (1_688_989_980, 2.0));
        assert_eq!((datums[1].timestamp, datums[1].value), (1_688_990_040, 1.0));
        assert_eq!(datums[0].metric_name, "UnauthorizedAPICalls");
        assert_eq!(datums[0].namespace, "CloudTrailMetrics");
        assert!(datums[0].dimensions.is_empty());
        assert_eq!(
            datums[0].rule_id.as_deref(),
            Some("cis-unauthorized-api-calls")
        );
        assert!(
            datums[0]
                .references
                .contains(&"securityhub:CloudWatch.2".to_owned())
        );
    }

    #[test]
    fn a_record_without_event_time_uses_the_fallback() {
        let cat = Catalogue::builtin().unwrap();
        let rule = cat.get("cis-unauthorized-api-calls").unwrap();
        let mut agg = Aggregator::new(AggregatorConfig::default());
        let no_time = EventFacts {
            event_time: None,
            ..facts(0)
        };
        agg.rule_matched(rule, &no_time, 125);
        assert_eq!(agg.datums()[0].timestamp, 120);
    }

    #[test]
    fn api_error_services_are_capped() {
        let mut agg = Aggregator::new(AggregatorConfig {
            api_error_services_cap: 2,
            ..AggregatorConfig::default()
        });
        for source in ["a", "b", "c", "d", "a"] {
            let f = EventFacts {
                event_source: Some(source),
                ..facts(60)
            };
            agg.api_error(&f, 0);
        }
        let by_service: Vec<(String, f64)> = agg
            .datums()
            .into_iter()
            .map(|d| (d.dimensions[1].1.clone(), d.value))
            .collect();
        assert_eq!(
            by_service,
            vec![("a".into(), 2.0), ("b".into(), 1.0), ("other".into(), 2.0)]
        );
    }

    #[test]
    fn api_errors_can_be_turned_off_and_merge_sums() {
        let mut off = Aggregator::new(AggregatorConfig {
            api_errors: false,
            ..AggregatorConfig::default()
        });
        off.api_error(&facts(60), 0);
        assert!(off.is_empty());

        let mut a = Aggregator::new(AggregatorConfig::default());
        let mut b = Aggregator::new(AggregatorConfig::default());
        a.operational("FilesProcessed", 61, 1.0, "Count");
        b.operational("FilesProcessed", 119, 2.0, "Count");
        a.merge(b);
        let d = a.datums();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].timestamp, d[0].value), (60, 3.0));
        assert_eq!(d[0].namespace, "Trailguard");
    }
}
