//! Sigma correlation rules in the notifier: hits kept across files,
//! invocations and Lambda instances, in the correlation table.
//!
//! For a message, each correlation input (a match of a rule feeding a
//! correlation, see `Detector::with_correlation_inputs`) is a hit in its
//! (correlation, group). Every hit of the message is written before any
//! group is read back: of two invocations adding to one group at once, the
//! one reading last sees both, and the finding ids being deterministic, the
//! notifier's finding dedup stops the other from publishing it again.
//!
//! A group is read back around the message's hits: from two timespans
//! before the earliest to one after the latest. One timespan each way holds
//! every window a new hit can be part of; the second one before lets the
//! windows restart where a read of the whole history would restart them,
//! so the same burst gets the same window start (and finding id) whichever
//! file completes it. Only windows holding a hit of this message are
//! published: older ones were published by the message that completed them.
//!
//! Without a table the message's own hits are evaluated alone (a burst
//! within one file still fires; one spanning files does not).

use std::collections::{HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use trailguard_engine::findings::Finding;
use trailguard_engine::sigma::Correlations;
use trailguard_engine::sigma::correlation::{
    CorrelationInput, CorrelationRule, Evidence, GroupHit, Hit, correlation_finding, evaluate,
};

use crate::correlation_store::{HitStore, StoreError, StoredHit, partition};

/// Groups read back at once.
const READS_AT_ONCE: usize = 8;

/// The correlations the notifier runs, and where their hits are kept.
#[derive(Debug, Clone)]
pub struct CorrelationState {
    correlations: Correlations,
    store: Option<HitStore>,
}

/// The hits of one (correlation, group) in a message.
struct Group<'c> {
    rule: &'c CorrelationRule,
    values: Vec<String>,
    hits: Vec<Hit<Evidence>>,
}

impl CorrelationState {
    /// `correlations`, with hits kept in `store` (`None`: per message only).
    pub fn new(correlations: Correlations, store: Option<HitStore>) -> CorrelationState {
        CorrelationState {
            correlations,
            store,
        }
    }

    /// The correlations run.
    pub fn correlations(&self) -> &Correlations {
        &self.correlations
    }

    /// The correlation findings `inputs` (one message's correlation inputs)
    /// complete, together with the hits kept before. An error means a hit
    /// may not be stored or a group not read: the message must be retried.
    pub async fn correlate(&self, inputs: &[CorrelationInput]) -> Result<Vec<Finding>, StoreError> {
        let groups = self.groups(inputs);
        let Some(store) = &self.store else {
            return Ok(groups
                .iter()
                .flat_map(|g| fresh_findings(g, &g.hits))
                .collect());
        };
        let partitions: Vec<String> = groups
            .iter()
            .map(|g| partition(&g.rule.id, &g.values))
            .collect();
        let stored: Vec<StoredHit<'_>> = groups
            .iter()
            .zip(&partitions)
            .flat_map(|(g, partition)| {
                g.hits.iter().map(move |hit| StoredHit {
                    partition,
                    timespan: timespan(g.rule),
                    hit,
                })
            })
            .collect();
        // Every write before any read (see the module doc).
        store.put(&stored).await?;
        let found: Vec<Vec<Finding>> = futures::stream::iter(groups.iter().zip(&partitions))
            .map(|(group, partition)| read_and_evaluate(store, group, partition))
            .buffer_unordered(READS_AT_ONCE)
            .try_collect()
            .await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// The message's hits by (correlation, group), in a stable order.
    fn groups(&self, inputs: &[CorrelationInput]) -> Vec<Group<'_>> {
        let mut at: HashMap<(usize, &[String]), usize> = HashMap::new();
        let mut groups: Vec<Group<'_>> = Vec::new();
        // An unusable input (no time, id or group-by value) cannot count,
        // as in a scan.
        let hits = inputs.iter().filter_map(|input| match input {
            CorrelationInput::Hit(hit) => Some(hit),
            CorrelationInput::Unusable => None,
        });
        for GroupHit {
            correlation,
            group,
            hit,
        } in hits
        {
            let Some(rule) = self.correlations.rules().get(*correlation) else {
                continue;
            };
            let next = groups.len();
            let index = *at.entry((*correlation, group.as_slice())).or_insert(next);
            if index == next {
                groups.push(Group {
                    rule,
                    values: group.clone(),
                    hits: Vec::new(),
                });
            }
            if let Some(group) = groups.get_mut(index) {
                group.hits.push(hit.clone());
            }
        }
        groups
    }
}

fn timespan(rule: &CorrelationRule) -> i64 {
    i64::try_from(rule.timespan).unwrap_or(i64::MAX / 4)
}

/// Reads `group`'s kept hits around its new ones and evaluates them.
async fn read_and_evaluate(
    store: &HitStore,
    group: &Group<'_>,
    partition: &str,
) -> Result<Vec<Finding>, StoreError> {
    let span = timespan(group.rule);
    let times = group.hits.iter().map(|h| h.time);
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        return Ok(Vec::new());
    };
    let from = first.saturating_sub(span.saturating_mul(2));
    let mut hits = store
        .query(partition, from, last.saturating_add(span))
        .await?;
    // The new hits were just written; adding them again changes nothing
    // (evaluation counts each event once) and covers a capped read.
    hits.extend(group.hits.iter().cloned());
    Ok(fresh_findings(group, &hits))
}

/// The findings of the windows over `hits` that hold a hit of `group`.
fn fresh_findings(group: &Group<'_>, hits: &[Hit<Evidence>]) -> Vec<Finding> {
    let new: HashSet<&str> = group.hits.iter().map(|h| h.event_id.as_str()).collect();
    evaluate(group.rule, hits)
        .into_iter()
        .filter(|m| {
            m.hits.iter().any(|&i| {
                hits.get(i)
                    .is_some_and(|h| new.contains(h.event_id.as_str()))
            })
        })
        .filter_map(|m| correlation_finding(group.rule, &group.values, &m, hits))
        .collect()
}
