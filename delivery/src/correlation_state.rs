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
    ///
    /// Correlations are evaluated level by level ([`Correlations::level`]):
    /// a fresh match of one others chain on is an input of theirs (its
    /// completing event), evaluated with their other inputs at their
    /// level. A correlation only they reference (`generate: false` in
    /// each) publishes nothing of its own.
    pub async fn correlate(&self, inputs: &[CorrelationInput]) -> Result<Vec<Finding>, StoreError> {
        let mut findings = Vec::new();
        // An unusable input (no time, id or group-by value) cannot count.
        let mut pending: Vec<CorrelationInput> = inputs
            .iter()
            .filter(|i| matches!(i, CorrelationInput::Hit(_)))
            .cloned()
            .collect();
        let level_of = |input: &CorrelationInput| match input {
            CorrelationInput::Hit(hit) => self.correlations.level(hit.correlation),
            CorrelationInput::Unusable => 0,
        };
        let mut level = 0;
        while !pending.is_empty() {
            let (now, later): (Vec<_>, Vec<_>) =
                pending.into_iter().partition(|i| level_of(i) <= level);
            pending = later;
            for fired in self.fired(&now).await? {
                let rule_id = &fired.finding.rule.id;
                self.correlations
                    .chained(rule_id, &fired.completing, &mut |i| pending.push(i));
                if !self.correlations.silences(rule_id) {
                    findings.push(fired.finding);
                }
            }
            level += 1;
        }
        Ok(findings)
    }

    /// The windows `inputs` complete, with the hits kept before.
    async fn fired(&self, inputs: &[CorrelationInput]) -> Result<Vec<Fired>, StoreError> {
        let groups = self.groups(inputs);
        let Some(store) = &self.store else {
            return Ok(groups.iter().flat_map(|g| fresh(g, &g.hits)).collect());
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
        let found: Vec<Vec<Fired>> = futures::stream::iter(groups.iter().zip(&partitions))
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

/// A window that fired: its finding, and the event that completed it.
struct Fired {
    finding: Finding,
    completing: Evidence,
}

/// Reads `group`'s kept hits around its new ones and evaluates them.
async fn read_and_evaluate(
    store: &HitStore,
    group: &Group<'_>,
    partition: &str,
) -> Result<Vec<Fired>, StoreError> {
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
    Ok(fresh(group, &hits))
}

/// The windows over `hits` that hold a hit of `group`.
fn fresh(group: &Group<'_>, hits: &[Hit<Evidence>]) -> Vec<Fired> {
    let new: HashSet<&str> = group.hits.iter().map(|h| h.event_id.as_str()).collect();
    evaluate(group.rule, hits)
        .into_iter()
        .filter(|m| {
            m.hits.iter().any(|&i| {
                hits.get(i)
                    .is_some_and(|h| new.contains(h.event_id.as_str()))
            })
        })
        .filter_map(|m| {
            Some(Fired {
                finding: correlation_finding(group.rule, &group.values, &m, hits)?,
                completing: hits.get(m.completing)?.payload.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailguard_engine::ObjectRef;
    use trailguard_engine::detect::Detector;
    use trailguard_engine::rules::{Catalogue, Severity};
    use trailguard_engine::sigma::SigmaRules;

    const CHAINED: &str = include_str!("../../engine/tests/data/correlations/chained_sign_in.yml");

    fn sign_in(id: &str, minute: u32, failed: bool) -> serde_json::Value {
        let mut event = json!({
            "eventVersion": "1.08", "eventID": id, "eventType": "AwsConsoleSignIn",
            "eventTime": format!("2024-03-01T10:{minute:02}:00Z"),
            "eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com",
            "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "accountId": "111122223333",
                             "arn": "arn:aws:iam::111122223333:user/alice"},
        });
        if let Some(map) = event.as_object_mut() {
            if failed {
                map.insert("errorMessage".into(), json!("Failed authentication"));
            } else {
                map.insert(
                    "responseElements".into(),
                    json!({"ConsoleLogin": "Success"}),
                );
            }
        }
        event
    }

    #[tokio::test]
    async fn a_chained_correlation_fires_in_the_message_its_lower_match_fires_in() {
        let (sigma, skipped) = SigmaRules::load(&[("chained.yml", CHAINED)]);
        assert!(skipped.is_empty(), "{skipped:?}");
        let catalogue = Catalogue::load(false, &[]).expect("empty catalogue");
        let detector = Detector::new(catalogue, Some(sigma.clone()), Severity::Low, 100)
            .expect("detector")
            .with_correlation_inputs();
        let mut records: Vec<_> = (0..5).map(|i| sign_in(&format!("f{i}"), i, true)).collect();
        records.push(sign_in("s1", 20, false));
        let text = json!({ "Records": records }).to_string();
        let object = ObjectRef::new("bucket", "file.json");
        let scanned = detector.scan(text.as_bytes(), &object, None).expect("scan");
        assert!(
            scanned.findings.is_empty(),
            "inputs report only through correlations"
        );
        let state = CorrelationState::new(sigma.correlations().clone(), None);
        let found = state
            .correlate(&scanned.correlation_inputs)
            .await
            .expect("no table");
        let rules: Vec<&str> = found.iter().map(|f| f.rule.id.as_str()).collect();
        assert_eq!(
            rules,
            ["0c6d1a52-7d63-4f39-9c0b-6a3f1f3c2e01"],
            "only the chaining one"
        );
        assert_eq!(found[0].event.event_id.as_deref(), Some("s1"));
        // Without the success, the lower correlation fires and stays silent.
        let lower_only = &scanned.correlation_inputs[..5];
        assert!(
            state
                .correlate(lower_only)
                .await
                .expect("no table")
                .is_empty()
        );
    }
}
