//! Gathering hits during a scan, bounded, and turning them into findings.
//!
//! Files are read in any order and in parallel, so nothing is decided
//! while reading: each match of a rule that feeds a correlation becomes
//! a [`Hit`] in its group (see `input`), and [`Collector::finish`]
//! evaluates every group once the whole input is in. A hit keeps its
//! record's text and nothing else of it; at most `cap` hits are held per
//! correlation rule, and the rest are counted as dropped.

use std::collections::{BTreeMap, HashMap};

use super::Correlations;
use super::finding::correlation_finding;
use super::input::{CorrelationInput, Evidence, GroupHit};
use super::rule::CorrelationRule;
use super::window::{Hit, evaluate};
use crate::findings::Finding;

/// Hits held per correlation rule by default.
pub const DEFAULT_CAP: usize = 100_000;

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

    /// Takes one input: holds its hit, unless its rule holds `cap` already.
    pub fn offer(&mut self, input: CorrelationInput) {
        let GroupHit {
            correlation,
            group,
            hit,
        } = match input {
            CorrelationInput::Hit(hit) => hit,
            CorrelationInput::Unusable => {
                self.unusable += 1;
                return;
            }
        };
        let Some(held) = self.held.get_mut(correlation).filter(|n| **n < self.cap) else {
            self.dropped += 1;
            return;
        };
        *held += 1;
        self.groups
            .entry((correlation, group))
            .or_default()
            .push(hit);
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
