//! The pure evaluation of one correlation rule over the hits of one group.
//!
//! Hits may come in any order and more than once (files delivered out of
//! order or twice): [`evaluate`] sorts them by event time and `eventID`
//! and counts each event once, so the answer depends only on the set of
//! events. Windows slide: the first window of `timespan` seconds that
//! satisfies the rule fires, and counting starts afresh after the event
//! that completed it, so one burst gives one match.

use std::collections::HashMap;

use super::rule::{Condition, CorrelationKind, CorrelationRule, expression_holds};

/// One event a referenced rule matched, as a correlation counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit<P = ()> {
    /// `eventTime`, epoch seconds.
    pub time: i64,
    /// `eventID`.
    pub event_id: String,
    /// Which referenced rule matched: its position in [`CorrelationRule::rules`].
    pub rule: usize,
    /// The value of the counted field (`value_count`), when present.
    pub value: Option<String>,
    /// Whatever the caller keeps with the hit (the event's facets, or nothing).
    pub payload: P,
}

/// A window that satisfied the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationMatch {
    /// Event time of the first contributing hit (epoch seconds).
    pub start: i64,
    /// Event time of the completing hit.
    pub end: i64,
    /// The contributing hits, as indexes into the slice given to
    /// [`evaluate`], in event-time order, one per event.
    pub hits: Vec<usize>,
    /// The hit that completed the window (also the last of `hits`).
    pub completing: usize,
    /// `value_count`: the distinct values, in order of appearance.
    pub values: Vec<String>,
    /// The numeric aggregations: the window's sum, mean or percentile.
    pub aggregate: Option<f64>,
}

/// The matches of `rule` over `hits`, all of one group, in time order.
pub fn evaluate<P>(rule: &CorrelationRule, hits: &[Hit<P>]) -> Vec<CorrelationMatch> {
    let order = sorted_unique(hits, rule.kind);
    let span = i64::try_from(rule.timespan).unwrap_or(i64::MAX);
    match rule.kind {
        CorrelationKind::EventCount | CorrelationKind::ValueCount => {
            counting(rule, hits, &order, span)
        }
        CorrelationKind::Temporal => temporal(rule, hits, &order, span),
        CorrelationKind::TemporalOrdered => ordered(rule, hits, &order, span),
        CorrelationKind::ValueSum
        | CorrelationKind::ValueAvg
        | CorrelationKind::ValuePercentile
        | CorrelationKind::ValueMedian => aggregating(rule, hits, &order, span),
    }
}

/// A hit's counted value as a number (the numeric aggregations skip hits
/// whose value is not one).
fn number<P>(hit: &Hit<P>) -> Option<f64> {
    hit.value
        .as_deref()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
}

/// Indexes of `hits` by (time, eventID, rule), each event once (once per
/// rule for the temporal types), leaving out hits without a value (or a
/// numeric one) when `kind` reads values.
fn sorted_unique<P>(hits: &[Hit<P>], kind: CorrelationKind) -> Vec<usize> {
    let per_rule = kind.is_temporal();
    let usable = |h: &Hit<P>| {
        if kind.is_numeric() {
            number(h).is_some()
        } else if kind.reads_values() {
            h.value.is_some()
        } else {
            true
        }
    };
    // Sorted by time alone first (integers, cheap), then each run of equal
    // times by eventID and rule; the position breaks the last ties, so the
    // order is the one a stable sort by (time, eventID, rule) gives.
    let mut timed: Vec<(i64, usize)> = hits
        .iter()
        .enumerate()
        .filter(|(_, h)| usable(h))
        .map(|(i, h)| (h.time, i))
        .collect();
    timed.sort_unstable();
    let key = |i: usize| hits.get(i).map(|h| (h.event_id.as_str(), h.rule, i));
    for same_time in timed.chunk_by_mut(|a, b| a.0 == b.0) {
        if same_time.len() > 1 {
            same_time.sort_unstable_by(|a, b| key(a.1).cmp(&key(b.1)));
        }
    }
    let mut order: Vec<usize> = timed.into_iter().map(|(_, i)| i).collect();
    order.dedup_by(
        |later, earlier| match (hits.get(*later), hits.get(*earlier)) {
            (Some(l), Some(e)) => l.event_id == e.event_id && (!per_rule || l.rule == e.rule),
            _ => false,
        },
    );
    order
}

fn time_of<P>(hits: &[Hit<P>], i: usize) -> i64 {
    hits.get(i).map_or(i64::MIN, |h| h.time)
}

/// Moves `start` past the hits of `order` more than `span` seconds older
/// than the one at `end`, handing each to `leave`: the sliding window of
/// every type.
fn slide<P>(
    hits: &[Hit<P>],
    order: &[usize],
    start: &mut usize,
    end: usize,
    span: i64,
    mut leave: impl FnMut(usize),
) {
    let now = order.get(end).map_or(i64::MIN, |&i| time_of(hits, i));
    while *start < end
        && order
            .get(*start)
            .is_some_and(|&i| time_of(hits, i) < now - span)
    {
        leave(*start);
        *start += 1;
    }
}

fn matched<P>(hits: &[Hit<P>], window: &[usize], values: Vec<String>) -> Option<CorrelationMatch> {
    let (&first, &last) = (window.first()?, window.last()?);
    Some(CorrelationMatch {
        start: time_of(hits, first),
        end: time_of(hits, last),
        hits: window.to_vec(),
        completing: last,
        values,
        aggregate: None,
    })
}

/// `value_sum`, `value_avg`, `value_percentile` and `value_median`: a
/// sliding window of events, measured by their field's numbers.
fn aggregating<P>(
    rule: &CorrelationRule,
    hits: &[Hit<P>],
    order: &[usize],
    span: i64,
) -> Vec<CorrelationMatch> {
    let value = |pos: usize| {
        order
            .get(pos)
            .and_then(|&i| number(hits.get(i)?))
            .unwrap_or(0.0)
    };
    let ranked = matches!(
        rule.kind,
        CorrelationKind::ValuePercentile | CorrelationKind::ValueMedian
    );
    let mut out = Vec::new();
    let mut sum = 0.0;
    // The window's numbers in ascending order, kept only for percentiles:
    // one insertion and removal per step, never a sort.
    let mut sorted: Vec<f64> = Vec::new();
    let mut start = 0;
    for end in 0..order.len() {
        slide(hits, order, &mut start, end, span, |left| {
            let gone = value(left);
            sum -= gone;
            if ranked {
                let at = sorted.partition_point(|x| x.total_cmp(&gone).is_lt());
                if at < sorted.len() {
                    sorted.remove(at);
                }
            }
        });
        let new = value(end);
        sum += new;
        if ranked {
            let at = sorted.partition_point(|x| x.total_cmp(&new).is_lt());
            sorted.insert(at, new);
        }
        let window = order.get(start..=end).unwrap_or_default();
        let measure = match rule.kind {
            CorrelationKind::ValueSum => sum,
            CorrelationKind::ValueAvg => sum / window.len().max(1) as f64,
            CorrelationKind::ValuePercentile => percentile(&sorted, rule.percentile),
            _ => percentile(&sorted, 50),
        };
        if rule.condition.holds_value(measure) {
            out.extend(matched(hits, window, Vec::new()).map(|m| CorrelationMatch {
                aggregate: Some(measure),
                ..m
            }));
            sum = 0.0;
            sorted.clear();
            start = end + 1;
        }
    }
    out
}

/// The `rank`th percentile (0-100) of `sorted` (ascending), interpolated
/// linearly between the two nearest (as rsigma and most SIEMs compute it).
fn percentile(sorted: &[f64], rank: u64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let at = rank.min(100) as f64 / 100.0 * last as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    let (Some(&a), Some(&b)) = (sorted.get(low), sorted.get(high)) else {
        return 0.0;
    };
    a + (b - a) * (at - low as f64)
}

/// `event_count` and `value_count`: a sliding window of events.
fn counting<P>(
    rule: &CorrelationRule,
    hits: &[Hit<P>],
    order: &[usize],
    span: i64,
) -> Vec<CorrelationMatch> {
    let distinct = rule.kind == CorrelationKind::ValueCount;
    let mut out = Vec::new();
    let mut values: HashMap<&str, usize> = HashMap::new();
    let mut start = 0;
    for end in 0..order.len() {
        slide(hits, order, &mut start, end, span, |left| {
            if let Some(value) = order.get(left).and_then(|&i| hits.get(i)?.value.as_deref())
                && let Some(n) = values.get_mut(value)
            {
                *n -= 1;
                if *n == 0 {
                    values.remove(value);
                }
            }
        });
        if let Some(value) = order.get(end).and_then(|&i| hits.get(i)?.value.as_deref()) {
            *values.entry(value).or_default() += 1;
        }
        let window = order.get(start..=end).unwrap_or_default();
        let measure = if distinct { values.len() } else { window.len() } as u64;
        if rule.condition.holds(measure) {
            let seen = if distinct {
                first_seen(hits, window)
            } else {
                Vec::new()
            };
            out.extend(matched(hits, window, seen));
            values.clear();
            start = end + 1;
        }
    }
    out
}

/// The distinct values of `window`, in order of appearance.
fn first_seen<P>(hits: &[Hit<P>], window: &[usize]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for value in window.iter().filter_map(|&i| hits.get(i)?.value.as_ref()) {
        if !seen.contains(value) {
            seen.push(value.clone());
        }
    }
    seen
}

/// `temporal`: the referenced rules seen within a sliding window.
fn temporal<P>(
    rule: &CorrelationRule,
    hits: &[Hit<P>],
    order: &[usize],
    span: i64,
) -> Vec<CorrelationMatch> {
    let mut out = Vec::new();
    let mut counts = vec![0usize; rule.rules.len()];
    let rule_of = |pos: usize| order.get(pos).and_then(|&i| hits.get(i)).map(|h| h.rule);
    let mut start = 0;
    for end in 0..order.len() {
        slide(hits, order, &mut start, end, span, |left| {
            if let Some(n) = rule_of(left).and_then(|r| counts.get_mut(r)) {
                *n = n.saturating_sub(1);
            }
        });
        if let Some(n) = rule_of(end).and_then(|r| counts.get_mut(r)) {
            *n += 1;
        }
        let seen: Vec<bool> = counts.iter().map(|&n| n > 0).collect();
        let fires = match &rule.condition {
            Condition::AllRules => seen.iter().all(|s| *s),
            Condition::Expression(expr) => expression_holds(expr, &rule.refs, &seen),
            threshold => threshold.holds(seen.iter().filter(|s| **s).count() as u64),
        };
        if fires {
            let window = order.get(start..=end).unwrap_or_default();
            out.extend(matched(hits, window, Vec::new()));
            counts.iter_mut().for_each(|n| *n = 0);
            start = end + 1;
        }
    }
    out
}

/// `temporal_ordered`: every referenced rule, in the listed order, within
/// the timespan. For each hit of the last rule, the chain is built
/// backwards taking the latest earlier hit of each rule before it, which
/// finds a chain whenever one exists.
fn ordered<P>(
    rule: &CorrelationRule,
    hits: &[Hit<P>],
    order: &[usize],
    span: i64,
) -> Vec<CorrelationMatch> {
    let Some(last_rule) = rule.rules.len().checked_sub(1) else {
        return Vec::new();
    };
    // Each referenced rule's positions in `order`: ascending, so in event
    // time, which lets a chain step be a binary search.
    let mut by_rule: Vec<Vec<usize>> = vec![Vec::new(); rule.rules.len()];
    for (pos, &i) in order.iter().enumerate() {
        if let Some(positions) = hits.get(i).and_then(|h| by_rule.get_mut(h.rule)) {
            positions.push(pos);
        }
    }
    let mut out = Vec::new();
    // Positions at or before this one belong to an earlier match.
    let mut floor = 0;
    for &end in by_rule.get(last_rule).map_or(&[][..], Vec::as_slice) {
        let Some(last) = order.get(end).and_then(|&i| hits.get(i)) else {
            continue;
        };
        if end < floor {
            continue;
        }
        let earliest = last.time - span;
        if let Some(chain) = chain_before(hits, order, &by_rule, (floor, end), earliest) {
            out.extend(matched(hits, &chain, Vec::new()));
            floor = end + 1;
        }
    }
    out
}

/// The hits of a chain of rules `0..=last` ending at position `end` (a hit
/// of the last rule), each at or before the next in event time (events of
/// the same second may be in either order: CloudTrail times have
/// one-second resolution), none before `earliest` or at a position before
/// `floor`.
fn chain_before<P>(
    hits: &[Hit<P>],
    order: &[usize],
    by_rule: &[Vec<usize>],
    (floor, end): (usize, usize),
    earliest: i64,
) -> Option<Vec<usize>> {
    let time = |pos: usize| order.get(pos).and_then(|&i| hits.get(i)).map(|h| h.time);
    let mut chain = vec![end];
    let mut now = time(end)?;
    for positions in by_rule.iter().rev().skip(1) {
        // The latest hit of this rule at or before `now`; an earlier one
        // would be further from the floor and the window, never nearer.
        let upto = positions.partition_point(|&p| time(p).is_some_and(|t| t <= now));
        let found = *positions.get(upto.checked_sub(1)?)?;
        let at = time(found)?;
        if found < floor || at < earliest {
            return None;
        }
        now = at;
        chain.push(found);
    }
    chain.reverse();
    chain.iter().map(|&pos| order.get(pos).copied()).collect()
}
