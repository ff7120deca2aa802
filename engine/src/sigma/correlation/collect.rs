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
    /// Per correlation (by index), its groups' hits.
    groups: Vec<HashMap<Vec<String>, Vec<Hit<Evidence>>>>,
    held: Vec<usize>,
    dropped: u64,
    unusable: u64,
}

impl Collector {
    /// Collects for `correlations`, holding at most `cap` hits per rule.
    pub fn new(correlations: Correlations, cap: usize) -> Collector {
        Collector {
            held: vec![0; correlations.len()],
            groups: vec![HashMap::new(); correlations.len()],
            correlations,
            cap,
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
        if let Some(groups) = self.groups.get_mut(correlation) {
            groups.entry(group).or_default().push(hit);
        }
    }

    /// Evaluates every group: the findings, and what could not count.
    pub fn finish(self) -> CollectorReport {
        self.evaluate(None)
    }

    /// [`Collector::finish`], with every group's state, by rule then group
    /// (what `explain` shows).
    ///
    /// Correlations are evaluated lower ones first: a match of one that
    /// others chain on becomes a hit of theirs (its completing event), and
    /// one that only they reference (`generate: false` in each) makes no
    /// finding of its own.
    pub fn finish_with_states(self) -> (CollectorReport, Vec<GroupState>) {
        let mut states = Vec::new();
        let report = self.evaluate(Some(&mut states));
        states.sort_by(|a, b| (&a.rule, &a.group).cmp(&(&b.rule, &b.group)));
        (report, states)
    }

    /// Evaluates every group, lower correlations first, noting each
    /// group's state in `states` when asked.
    fn evaluate(mut self, mut states: Option<&mut Vec<GroupState>>) -> CollectorReport {
        let mut findings = Vec::new();
        let correlations = &self.correlations;
        for (c, rule) in correlations.rules().iter().enumerate() {
            let Some(groups) = self.groups.get_mut(c).map(std::mem::take) else {
                continue;
            };
            let silenced = correlations.silences(&rule.id);
            let mut chained = Vec::new();
            for (values, hits) in &groups {
                let matches = evaluate(rule, hits);
                if let Some(states) = states.as_deref_mut() {
                    states.push(GroupState {
                        rule: rule.id.clone(),
                        group: named(rule, values),
                        hits: hits.len(),
                        matches: matches.len(),
                    });
                }
                for matched in &matches {
                    if !silenced {
                        findings.extend(correlation_finding(rule, values, matched, hits));
                    }
                    if let Some(completing) = hits.get(matched.completing) {
                        correlations.chained(&rule.id, &completing.payload, &mut |i| {
                            chained.push(i);
                        });
                    }
                }
            }
            // Chained hits are a handful per match: never dropped at the cap.
            for input in chained {
                match input {
                    CorrelationInput::Hit(GroupHit {
                        correlation,
                        group,
                        hit,
                    }) => {
                        if let Some(groups) = self.groups.get_mut(correlation) {
                            groups.entry(group).or_default().push(hit);
                        }
                    }
                    CorrelationInput::Unusable => self.unusable += 1,
                }
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
