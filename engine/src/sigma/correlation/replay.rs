//! One correlation over a handful of events: what `rules test` and
//! `explain` show. The referenced rules are evaluated as written (without
//! the precision rules a scan applies, such as leaving out AWS services).

use serde_json::Value;

use super::collect::{Collector, GroupState};
use super::input::{CorrelationInput, RuleMatches};
use crate::findings::Finding;
use crate::record::Record;
use crate::sigma::SigmaRules;

/// What replaying events through one correlation gave.
#[derive(Debug)]
pub struct Replay {
    /// Each group's state after every event.
    pub groups: Vec<GroupState>,
    /// The correlation's findings.
    pub findings: Vec<Finding>,
    /// How many events each referenced rule matched, in reference order.
    pub matched: Vec<usize>,
}

/// Replays `events` (in any order) through the correlation `id` of
/// `sigma` and the correlations it chains on; `None` when `sigma` has no
/// correlation with that id.
pub fn replay(sigma: &SigmaRules, id: &str, events: &[Value]) -> Option<Replay> {
    let rule = sigma.correlations().get(id)?;
    let only = super::Correlations::only(sigma.correlations(), id);
    let mut collector = Collector::new(only.clone(), usize::MAX);
    let mut matched = vec![0; rule.rules.len()];
    for event in events {
        let text = event.to_string();
        let record = Record::from_json(&text).ok();
        let mut feeding = Vec::new();
        for base in sigma.matching(event) {
            if let Some(position) = rule.rules.iter().position(|r| r == base.id())
                && let Some(n) = matched.get_mut(position)
            {
                *n += 1;
            }
            // A base rule of a correlation this one chains on counts too.
            if !only.fed_by(base.id()).is_empty() {
                feeding.push(base.id());
            }
        }
        if feeding.is_empty() {
            continue;
        }
        match &record {
            Some(record) => {
                let matches = RuleMatches {
                    record,
                    log_file: None,
                    rules: &feeding,
                    deferred: &[],
                };
                only.inputs(&matches, &mut |i| collector.offer(i));
            }
            None => feeding
                .iter()
                .for_each(|_| collector.offer(CorrelationInput::Unusable)),
        }
    }
    let (report, groups) = collector.finish_with_states();
    Some(Replay {
        groups,
        findings: report.findings,
        matched,
    })
}
