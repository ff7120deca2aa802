//! A correlation match as a finding.

use std::sync::Arc;

use super::collect::named;
use super::input::Evidence;
use super::rule::{CorrelationKind, CorrelationRule};
use super::window::{CorrelationMatch, Hit};
use crate::clock::rfc3339_utc;
use crate::findings::correlation::{CorrelationFacts, EVENT_IDS, VALUES};
use crate::findings::finding::finding_id;
use crate::findings::{Finding, RuleInfo};

/// The id of a correlation finding: the rule, the group's values and the
/// window's start, so the same attack seen again (a file delivered twice,
/// a rescan) gives the same id.
pub fn correlation_finding_id(rule_id: &str, group: &[String], start: i64) -> String {
    finding_id(
        &format!("{rule_id}#correlation"),
        &format!("{}@{}", group.join("\u{1f}"), utc(start)),
    )
}

fn utc(epoch: i64) -> String {
    rfc3339_utc(u64::try_from(epoch).unwrap_or(0))
}

/// The finding for `matched` (a match of `rule` over `hits`, the group
/// with values `group`): the completing event's facets, and what counted.
pub fn correlation_finding(
    rule: &CorrelationRule,
    group: &[String],
    matched: &CorrelationMatch,
    hits: &[Hit<Evidence>],
) -> Option<Finding> {
    let completing = hits.get(matched.completing)?;
    let info = RuleInfo {
        id: rule.id.clone(),
        title: rule.title.clone(),
        description: rule.description.clone(),
        severity: rule.severity,
        references: rule.references.clone(),
        engine: "sigma",
    };
    let mut finding = Finding::on(
        Arc::new(info),
        Arc::new(completing.payload.facts()),
        completing.payload.log_file.clone(),
    );
    finding.id = correlation_finding_id(&rule.id, group, matched.start);
    let read = rule.value_field.as_ref();
    finding.correlation = Some(Box::new(CorrelationFacts {
        kind: rule.kind.as_str().to_owned(),
        rules: rule.rules.clone(),
        timespan_seconds: rule.timespan,
        group_by: named(rule, group),
        window_start: utc(matched.start),
        window_end: utc(matched.end),
        event_total: matched.hits.len() as u64,
        event_ids: matched
            .hits
            .iter()
            .filter_map(|&i| Some(hits.get(i)?.event_id.clone()))
            .take(EVENT_IDS)
            .collect(),
        field: read.map(|f| f.name.clone()),
        distinct_values: (rule.kind == CorrelationKind::ValueCount)
            .then_some(matched.values.len() as u64),
        values: matched.values.iter().take(VALUES).cloned().collect(),
        aggregate: matched.aggregate.and_then(serde_json::Number::from_f64),
        percentile: (rule.kind == CorrelationKind::ValuePercentile).then_some(rule.percentile),
    }));
    Some(finding)
}
