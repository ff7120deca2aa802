//! Gathering hits during a scan, bounded, and turning them into findings.
//!
//! Files are read in any order and in parallel, so nothing is decided
//! while reading: each finding of a rule that feeds a correlation becomes
//! a [`Hit`] in its group, and [`Collector::finish`] evaluates every group
//! once the whole input is in. A hit keeps the event's facets (shared with
//! the finding the event produced anyway), never the record; at most `cap`
//! hits are held per correlation rule, and the rest are counted as dropped.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Correlations;
use super::fields::{Parsed, field_value};
use super::finding::correlation_finding;
use super::rule::CorrelationRule;
use super::window::{Hit, evaluate};
use crate::findings::Finding;
use crate::findings::finding::{EventFacts, LogFile};

/// Hits held per correlation rule by default.
pub const DEFAULT_CAP: usize = 100_000;

/// What a hit keeps to describe its event in a finding.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The event's facets.
    pub facts: Arc<EventFacts>,
    /// The log file it came from.
    pub log_file: Option<Arc<LogFile>>,
}

/// The group and hit for a match of reference `position` of `rule` on
/// `facts`, or `None` when the event has no usable time or id, lacks a
/// group-by field, or (`value_count`) lacks the counted field.
pub fn hit_of(
    rule: &CorrelationRule,
    position: usize,
    facts: &EventFacts,
) -> Option<(Vec<String>, Hit)> {
    let time = OffsetDateTime::parse(facts.time.as_deref()?, &Rfc3339)
        .ok()?
        .unix_timestamp();
    let event_id = facts.event_id.clone()?;
    let mut parsed = Parsed::default();
    let group = rule
        .group_by
        .iter()
        .map(|field| field_value(facts, field.path(position), &mut parsed))
        .collect::<Option<Vec<String>>>()?;
    let value = match &rule.value_field {
        Some(field) => Some(field_value(facts, field.path(position), &mut parsed)?),
        None => None,
    };
    let hit = Hit {
        time,
        event_id,
        rule: position,
        value,
        payload: (),
    };
    Some((group, hit))
}

/// [`hit_of`] for `finding`, keeping its event and log file as the hit's
/// evidence: what a scan's collector and the notifier's table both hold.
pub fn evidence_hit(
    rule: &CorrelationRule,
    position: usize,
    finding: &Finding,
) -> Option<(Vec<String>, Hit<Evidence>)> {
    let (group, hit) = hit_of(rule, position, &finding.event)?;
    let hit = Hit {
        time: hit.time,
        event_id: hit.event_id,
        rule: hit.rule,
        value: hit.value,
        payload: Evidence {
            facts: Arc::clone(&finding.event),
            log_file: finding.log_file.clone(),
        },
    };
    Some((group, hit))
}

/// One group's state, for `explain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupState {
    /// The correlation rule's id.
    pub rule: String,
    /// Each group-by field and its value.
    pub group: BTreeMap<String, String>,
    /// Hits held (events may repeat).
    pub hits: usize,
    /// Windows that fired.
    pub matches: usize,
}

/// What a finished collection gave.
#[derive(Debug, Default)]
pub struct CollectorReport {
    /// One finding per rule, group and window, in event-time order.
    pub findings: Vec<Finding>,
    /// Hits dropped because their rule held `cap` already.
    pub dropped: u64,
    /// Matches that could not count: no time or id, or a missing field.
    pub unusable: u64,
}

/// Gathers the hits of a scan (see the module doc).
#[derive(Debug)]
pub struct Collector {
    correlations: Correlations,
    cap: usize,
    groups: HashMap<(usize, Vec<String>), Vec<Hit<Evidence>>>,
    held: Vec<usize>,
    dropped: u64,
    unusable: u64,
}

impl Collector {
    /// Collects for `correlations`, holding at most `cap` hits per rule.
    pub fn new(correlations: Correlations, cap: usize) -> Collector {
        Collector {
            held: vec![0; correlations.len()],
            correlations,
            cap,
            groups: HashMap::new(),
            dropped: 0,
            unusable: 0,
        }
    }

    /// The correlations collected for.
    pub fn correlations(&self) -> &Correlations {
        &self.correlations
    }

    /// Takes a finding: a hit for each correlation its rule feeds.
    pub fn offer(&mut self, finding: &Finding) {
        let fed = self.correlations.fed_by(&finding.rule.id).to_vec();
        for (c, position) in fed {
            let Some(rule) = self.correlations.rules.get(c) else {
                continue;
            };
            let Some((group, hit)) = evidence_hit(rule, position, finding) else {
                self.unusable += 1;
                continue;
            };
            let Some(held) = self.held.get_mut(c).filter(|n| **n < self.cap) else {
                self.dropped += 1;
                continue;
            };
            *held += 1;
            self.groups.entry((c, group)).or_default().push(hit);
        }
    }

    /// Every group's state so far, by rule then group.
    pub fn groups(&self) -> Vec<GroupState> {
        let mut states: Vec<GroupState> = self
            .groups
            .iter()
            .filter_map(|((c, values), hits)| {
                let rule = self.correlations.rules.get(*c)?;
                Some(GroupState {
                    rule: rule.id.clone(),
                    group: named(rule, values),
                    hits: hits.len(),
                    matches: evaluate(rule, hits).len(),
                })
            })
            .collect();
        states.sort_by(|a, b| (&a.rule, &a.group).cmp(&(&b.rule, &b.group)));
        states
    }

    /// Evaluates every group: the findings, and what could not count.
    pub fn finish(self) -> CollectorReport {
        let mut findings = Vec::new();
        for ((c, values), hits) in &self.groups {
            let Some(rule) = self.correlations.rules.get(*c) else {
                continue;
            };
            for matched in evaluate(rule, hits) {
                findings.extend(correlation_finding(rule, values, &matched, hits));
            }
        }
        findings.sort_by(|a, b| (&a.event.time, &a.id).cmp(&(&b.event.time, &b.id)));
        CollectorReport {
            findings,
            dropped: self.dropped,
            unusable: self.unusable,
        }
    }
}

/// The group's values by field name.
pub(super) fn named(rule: &CorrelationRule, values: &[String]) -> BTreeMap<String, String> {
    rule.group_by
        .iter()
        .zip(values)
        .map(|(field, value)| (field.name.clone(), value.clone()))
        .collect()
}
