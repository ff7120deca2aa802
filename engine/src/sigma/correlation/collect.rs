//! Gathering hits during a scan, bounded, and turning them into findings.
//!
//! Files are read in any order and in parallel, so nothing is decided
//! while reading: each match of a rule that feeds a correlation becomes
//! a [`Hit`] in its group (see `input`), and [`Collector::finish`]
//! evaluates every group once the whole input is in. A hit keeps its
//! record's text and nothing else of it; at most `cap` hits are held per
//! correlation rule, and the rest are counted as dropped. The groups of
//! one level of correlations are independent, so a large evaluation is
//! spread over the machine's cores.

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
    groups: Groups,
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
        hold(&mut self.groups, correlation, group, hit);
    }

    /// Evaluates every group: the findings, and what could not count.
    pub fn finish(mut self) -> CollectorReport {
        self.evaluate()
    }

    /// [`Collector::finish`], leaving the hits held: a caller may then free
    /// them where it costs no one a wait (the CLI, after answering).
    pub fn evaluate(&mut self) -> CollectorReport {
        self.evaluate_groups(None)
    }

    /// [`Collector::finish`], with every group's state, by rule then group
    /// (what `explain` shows).
    ///
    /// Correlations are evaluated lower ones first: a match of one that
    /// others chain on becomes a hit of theirs (its completing event), and
    /// one that only they reference (`generate: false` in each) makes no
    /// finding of its own.
    pub fn finish_with_states(mut self) -> (CollectorReport, Vec<GroupState>) {
        let mut states = Vec::new();
        let report = self.evaluate_groups(Some(&mut states));
        states.sort_by(|a, b| (&a.rule, &a.group).cmp(&(&b.rule, &b.group)));
        (report, states)
    }

    /// Evaluates every group, level by level (lower correlations first),
    /// the groups of a level spread over the machine's cores; notes each
    /// group's state in `states` when asked.
    fn evaluate_groups(&mut self, mut states: Option<&mut Vec<GroupState>>) -> CollectorReport {
        let correlations = &self.correlations;
        let with_state = states.is_some();
        let top = (0..correlations.len())
            .map(|c| correlations.level(c))
            .max()
            .unwrap_or(0);
        let mut findings = Vec::new();
        for level in 0..=top {
            let groups: Vec<Group<'_>> = correlations
                .rules()
                .iter()
                .zip(&self.groups)
                .enumerate()
                .filter(|(c, _)| correlations.level(*c) == level)
                .flat_map(|(_, (rule, groups))| {
                    let silenced = correlations.silences(&rule.id);
                    groups.iter().map(move |(values, hits)| Group {
                        rule,
                        silenced,
                        values,
                        hits,
                    })
                })
                .collect();
            let judged = across_cores(
                &groups,
                |g| g.hits.len(),
                |g| g.judge(correlations, with_state),
            );
            let mut chained = Vec::new();
            for group in judged {
                findings.extend(group.findings);
                chained.extend(group.chained);
                if let (Some(states), Some(state)) = (states.as_deref_mut(), group.state) {
                    states.push(state);
                }
            }
            // Chained hits are a handful per match: never dropped at the cap.
            for input in chained {
                match input {
                    CorrelationInput::Hit(GroupHit {
                        correlation,
                        group,
                        hit,
                    }) => hold(&mut self.groups, correlation, group, hit),
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

/// Per correlation (by index), its groups' hits.
type Groups = Vec<HashMap<Vec<String>, Vec<Hit<Evidence>>>>;

/// Keeps `hit` in `group` of `correlation`.
fn hold(groups: &mut Groups, correlation: usize, group: Vec<String>, hit: Hit<Evidence>) {
    if let Some(groups) = groups.get_mut(correlation) {
        groups.entry(group).or_default().push(hit);
    }
}

/// One group of one correlation, to evaluate.
struct Group<'a> {
    rule: &'a CorrelationRule,
    silenced: bool,
    values: &'a [String],
    hits: &'a [Hit<Evidence>],
}

/// What evaluating one group gave.
struct Judged {
    findings: Vec<Finding>,
    /// The inputs its matches give the correlations chained on its rule.
    chained: Vec<CorrelationInput>,
    state: Option<GroupState>,
}

impl Group<'_> {
    fn judge(&self, correlations: &Correlations, with_state: bool) -> Judged {
        let Group {
            rule,
            silenced,
            values,
            hits,
        } = *self;
        let matches = evaluate(rule, hits);
        let mut judged = Judged {
            findings: Vec::new(),
            chained: Vec::new(),
            state: with_state.then(|| GroupState {
                rule: rule.id.clone(),
                group: named(rule, values),
                hits: hits.len(),
                matches: matches.len(),
            }),
        };
        for matched in &matches {
            if !silenced {
                judged
                    .findings
                    .extend(correlation_finding(rule, values, matched, hits));
            }
            if let Some(completing) = hits.get(matched.completing) {
                correlations.chained(&rule.id, &completing.payload, &mut |i| {
                    judged.chained.push(i);
                });
            }
        }
        judged
    }
}

/// Hits below which a level is evaluated on the calling thread alone.
const PARALLEL_HITS: usize = 20_000;

/// `f` of each of `items`, in order, the items split over the machine's
/// cores by `weight` when there is enough work to be worth a thread.
fn across_cores<T: Sync, R: Send>(
    items: &[T],
    weight: impl Fn(&T) -> usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let total: usize = items.iter().map(&weight).sum();
    if cores < 2 || total < PARALLEL_HITS {
        return items.iter().map(&f).collect();
    }
    let share = total.div_ceil(cores);
    let mut chunks = Vec::with_capacity(cores);
    let (mut start, mut taken) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        taken += weight(item);
        if taken >= share {
            chunks.push(items.get(start..=i).unwrap_or_default());
            (start, taken) = (i + 1, 0);
        }
    }
    chunks.push(items.get(start..).unwrap_or_default());
    let f = &f;
    std::thread::scope(|scope| {
        // The first chunk is the calling thread's own.
        let others: Vec<_> = chunks
            .iter()
            .skip(1)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = chunks
            .first()
            .into_iter()
            .flat_map(|c| c.iter().map(f))
            .collect();
        for other in others {
            match other.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

/// The group's values by field name.
pub(super) fn named(rule: &CorrelationRule, values: &[String]) -> BTreeMap<String, String> {
    rule.group_by
        .iter()
        .zip(values)
        .map(|(field, value)| (field.name.clone(), value.clone()))
        .collect()
}
