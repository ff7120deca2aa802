//! What a correlation finding says about the events behind it (Finding
//! schema 1.3, member `correlation`; 1.4 adds the numeric aggregations).
//!
//! A correlation rule fires on a group of events (same principal, same
//! source address, ...) within a window of event time. The finding's usual
//! event facets describe the event that completed the window; this member
//! says which rule type fired, for which group, over which window, and
//! which events counted.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Contributing event ids listed at most; [`CorrelationFacts::event_total`]
/// counts them all.
pub const EVENT_IDS: usize = 20;

/// Distinct values listed at most for a `value_count` rule.
pub const VALUES: usize = 20;

/// The `correlation` member of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorrelationFacts {
    /// `event_count`, `value_count`, `temporal`, `temporal_ordered`,
    /// `value_sum`, `value_avg`, `value_percentile` or `value_median`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ids of the rules the correlation counts, in its order.
    pub rules: Vec<String>,
    /// The rule's `timespan`, in seconds.
    pub timespan_seconds: u64,
    /// The group: each `group-by` field and its value.
    pub group_by: BTreeMap<String, String>,
    /// `eventTime` of the first contributing event (UTC).
    pub window_start: String,
    /// `eventTime` of the event that completed the window (UTC).
    pub window_end: String,
    /// Contributing events (distinct `eventID`s).
    pub event_total: u64,
    /// The first [`EVENT_IDS`] contributing event ids, in event-time order.
    pub event_ids: Vec<String>,
    /// For `value_count` and the numeric aggregations: the field read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `value_count`: how many distinct values the window held.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_values: Option<u64>,
    /// For `value_count`: the first [`VALUES`] of them, in order of appearance.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// For the numeric aggregations: the window's sum, mean, percentile or
    /// median of the field (schema 1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregate: Option<serde_json::Number>,
    /// For `value_percentile`: which percentile (schema 1.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentile: Option<u64>,
}

impl CorrelationFacts {
    /// `field=value` pairs of the group, joined for one-line renderings.
    pub fn group_text(&self) -> String {
        self.group_by
            .iter()
            .map(|(field, value)| format!("{field}={value}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// One line: what was counted, e.g. `12 events in 4m10s`.
    pub fn measure_text(&self) -> String {
        let field = self.field.as_deref().unwrap_or("values");
        match (self.distinct_values, &self.aggregate) {
            (Some(distinct), _) => format!(
                "{distinct} distinct {field} over {} events",
                self.event_total
            ),
            (None, Some(aggregate)) => format!(
                "{} of {field} {aggregate} over {} events",
                self.kind.trim_start_matches("value_"),
                self.event_total
            ),
            (None, None) => format!("{} events", self.event_total),
        }
    }
}
