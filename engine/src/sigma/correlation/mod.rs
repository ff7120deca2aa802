//! Sigma v2 correlation rules: detections across events.
//!
//! A correlation document (`correlation:`) counts the matches of other Sigma
//! rules per group (`group-by` fields) within a `timespan`: `event_count`,
//! `value_count` (distinct values of `condition.field`), `temporal` (every
//! referenced rule seen) and `temporal_ordered` (seen in the listed order).
//! rsigma parses the documents; evaluation is trailguard's own, for the
//! reasons in `docs/correlations.md` (in short: CloudTrail arrives out of
//! order and sometimes twice, across files, regions and accounts, and the
//! notifier needs the state outside the process).
//!
//! The parts:
//!
//! - [`CorrelationRule`]: a document with its references resolved to loaded
//!   rules (by `id` or `name`) and its fields resolved through its `aliases`;
//!   [`Correlations`] holds them and says which rules feed which.
//! - [`evaluate`]: the pure evaluation of one rule over the [`Hit`]s of one
//!   group, in any order and with repeats, giving [`CorrelationMatch`]es. A
//!   store elsewhere (a table keyed by rule and group) can keep hits and
//!   call the same function.
//! - [`Correlations::inputs`]: a record's matches ([`RuleMatches`]) as a
//!   [`Hit`] in its group for each correlation the rules feed, keeping the
//!   record's text as its [`Evidence`]; [`InputBatch`] defers that work to
//!   another thread.
//! - [`Collector`]: gathers hits during a scan, bounded per rule, and turns
//!   the matches into findings ([`correlation_finding`]).

mod batch;
mod builtin;
mod collect;
mod fields;
mod finding;
mod input;
mod replay;
mod rule;
mod window;

use std::collections::HashMap;

pub use batch::InputBatch;
pub use builtin::CORRELATION_FILES;
pub use collect::{Collector, CollectorReport, DEFAULT_CAP, GroupState};
pub use finding::{correlation_finding, correlation_finding_id};
pub use input::{CorrelationInput, DeferredMatcher, Evidence, GroupHit, RuleMatches, hit_of};
pub use replay::{Replay, replay};
pub use rule::{Condition, CorrelationField, CorrelationKind, CorrelationRule, Op};
pub use window::{CorrelationMatch, Hit, evaluate};

#[cfg(test)]
pub(crate) use input::tests::RULES as TEST_RULES;

use super::load::{SkipReason, SkippedRule};
use super::rule::SigmaRule;

/// A parsed correlation document waiting for every rule file to load.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub(crate) origin: String,
    pub(crate) parsed: rsigma_parser::CorrelationRule,
}

/// The loaded correlation rules, and which Sigma rules feed them.
#[derive(Debug, Clone, Default)]
pub struct Correlations {
    rules: Vec<CorrelationRule>,
    /// Per base rule id: (correlation, position among its references).
    feeds: HashMap<String, Vec<(usize, usize)>>,
    /// Per correlation, how far up a chain it sits ([`Correlations::level`]).
    levels: Vec<usize>,
}

impl Correlations {
    /// Compiles `pending` against the loaded `rules`; a document that
    /// cannot run is skipped with its reason. A later rule with an id
    /// already loaded replaces the earlier one. A correlation referencing
    /// other correlations (chaining) compiles after them, so the loaded
    /// rules come lower first: the order they are evaluated in.
    pub(crate) fn resolve(
        pending: Vec<Pending>,
        rules: &[SigmaRule],
    ) -> (Correlations, Vec<SkippedRule>) {
        let mut loaded: Vec<CorrelationRule> = Vec::new();
        let mut skipped = Vec::new();
        let mut waiting = pending;
        loop {
            let (ready, later): (Vec<Pending>, Vec<Pending>) = waiting.into_iter().partition(|p| {
                rule::chained_references(&p.parsed, rules)
                    .all(|reference| rule::named(reference, &loaded).is_some())
            });
            waiting = later;
            if ready.is_empty() {
                break;
            }
            for pending in ready {
                load(pending, rules, &mut loaded, &mut skipped);
            }
        }
        // What is left chains on a correlation that is missing, was skipped,
        // or is part of a cycle: compiling says which reference.
        for pending in waiting {
            load(pending, rules, &mut loaded, &mut skipped);
        }
        (Correlations::of(loaded), skipped)
    }

    /// Only the correlation `id` of `self` and the correlations it chains
    /// on (none when it has no such rule).
    pub fn only(&self, id: &str) -> Correlations {
        let mut wanted: Vec<&str> = vec![id];
        let mut at = 0;
        while let Some(&next) = wanted.get(at) {
            if let Some(rule) = self.get(next) {
                for lower in &rule.rules {
                    if self.get(lower).is_some() && !wanted.contains(&lower.as_str()) {
                        wanted.push(lower.as_str());
                    }
                }
            }
            at += 1;
        }
        Correlations::of(
            self.rules
                .iter()
                .filter(|r| wanted.contains(&r.id.as_str()))
                .cloned()
                .collect(),
        )
    }

    fn of(rules: Vec<CorrelationRule>) -> Correlations {
        let mut feeds: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut levels: Vec<usize> = Vec::with_capacity(rules.len());
        for (c, rule) in rules.iter().enumerate() {
            for (r, id) in rule.rules.iter().enumerate() {
                feeds.entry(id.clone()).or_default().push((c, r));
            }
            // Rules come lower first, so the levels below are known.
            let level = rule
                .rules
                .iter()
                .filter_map(|id| rules.iter().position(|r| r.id == *id))
                .filter_map(|lower| levels.get(lower).map(|l| l + 1))
                .max()
                .unwrap_or(0);
            levels.push(level);
        }
        Correlations {
            rules,
            feeds,
            levels,
        }
    }

    /// The rules, in load order.
    pub fn rules(&self) -> &[CorrelationRule] {
        &self.rules
    }

    /// How many rules are loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether none is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The correlation rule with this id.
    pub fn get(&self, id: &str) -> Option<&CorrelationRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// The correlations Sigma rule `rule_id` feeds, as (correlation index,
    /// position among its references).
    pub fn fed_by(&self, rule_id: &str) -> &[(usize, usize)] {
        self.feeds.get(rule_id).map_or(&[], Vec::as_slice)
    }

    /// How far up a chain correlation `c` sits: 0 when it references only
    /// detection rules, else one more than the highest correlation it
    /// references. Evaluating level by level gives every chained
    /// correlation the matches of those below it.
    pub fn level(&self, c: usize) -> usize {
        self.levels.get(c).copied().unwrap_or(0)
    }

    /// Whether the Sigma rule `rule_id` reports only through correlations:
    /// every correlation referencing it has `generate: false` (the Sigma
    /// default), so its own matches are not findings.
    pub fn silences(&self, rule_id: &str) -> bool {
        let fed = self.fed_by(rule_id);
        !fed.is_empty()
            && fed
                .iter()
                .all(|&(c, _)| self.rules.get(c).is_some_and(|r| !r.generate))
    }
}

/// Compiles one pending document into `loaded` (replacing a rule with the
/// same id in place), or records why it is skipped.
fn load(
    Pending { origin, parsed }: Pending,
    rules: &[SigmaRule],
    loaded: &mut Vec<CorrelationRule>,
    skipped: &mut Vec<SkippedRule>,
) {
    match rule::compile(&parsed, &origin, rules, loaded) {
        Ok(rule) => match loaded.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => {
                let earlier = std::mem::replace(slot, rule);
                skipped.push(SkippedRule {
                    reason: SkipReason::Replaced(origin),
                    origin: earlier.origin,
                    title: Some(earlier.title),
                    id: Some(earlier.id),
                });
            }
            None => loaded.push(rule),
        },
        Err(reason) => skipped.push(SkippedRule {
            origin,
            title: Some(parsed.title),
            id: parsed.id,
            reason: SkipReason::Correlation(reason),
        }),
    }
}
