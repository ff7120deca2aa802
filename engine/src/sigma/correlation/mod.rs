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
//! - [`Correlations::inputs`]: a rule's match on a record as a [`Hit`] in its
//!   group for each correlation the rule feeds, keeping the record's text
//!   as its [`Evidence`].
//! - [`Collector`]: gathers hits during a scan, bounded per rule, and turns
//!   the matches into findings ([`correlation_finding`]).

mod builtin;
mod collect;
mod fields;
mod finding;
mod input;
mod replay;
mod rule;
mod window;

use std::collections::HashMap;

pub use builtin::CORRELATION_FILES;
pub use collect::{Collector, CollectorReport, DEFAULT_CAP, GroupState};
pub use finding::{correlation_finding, correlation_finding_id};
pub use input::{CorrelationInput, Evidence, GroupHit, MatchedRecord, hit_of};
pub use replay::{Replay, replay};
pub use rule::{Condition, CorrelationField, CorrelationKind, CorrelationRule, Op};
pub use window::{CorrelationMatch, Hit, evaluate};

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
}

impl Correlations {
    /// Compiles `pending` against the loaded `rules`; a document that
    /// cannot run is skipped with its reason. A later rule with an id
    /// already loaded replaces the earlier one.
    pub(crate) fn resolve(
        pending: Vec<Pending>,
        rules: &[SigmaRule],
    ) -> (Correlations, Vec<SkippedRule>) {
        let mut loaded: Vec<CorrelationRule> = Vec::new();
        let mut skipped = Vec::new();
        for Pending { origin, parsed } in pending {
            match rule::compile(&parsed, &origin, rules) {
                Ok(rule) => {
                    if let Some(at) = loaded.iter().position(|r| r.id == rule.id) {
                        let earlier = loaded.remove(at);
                        skipped.push(SkippedRule {
                            reason: SkipReason::Replaced(origin.clone()),
                            origin: earlier.origin,
                            title: Some(earlier.title),
                            id: Some(earlier.id),
                        });
                    }
                    loaded.push(rule);
                }
                Err(reason) => skipped.push(SkippedRule {
                    origin,
                    title: Some(parsed.title),
                    id: parsed.id,
                    reason: SkipReason::Correlation(reason),
                }),
            }
        }
        (Correlations::of(loaded), skipped)
    }

    /// Only the correlation `id` of `self` (none when it has no such rule).
    pub fn only(&self, id: &str) -> Correlations {
        Correlations::of(self.get(id).cloned().into_iter().collect())
    }

    fn of(rules: Vec<CorrelationRule>) -> Correlations {
        let mut feeds: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        for (c, rule) in rules.iter().enumerate() {
            for (r, id) in rule.rules.iter().enumerate() {
                feeds.entry(id.clone()).or_default().push((c, r));
            }
        }
        Correlations { rules, feeds }
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
