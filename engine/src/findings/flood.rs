//! Flood control: a cap on findings per rule per log file.
//!
//! A misconfigured role can produce 10,000 `AccessDenied` events in one file;
//! 10,000 messages help nobody. Past the cap, matches are counted and one
//! summary finding per rule and file says how many were held back, with a
//! few sample event ids. The cap is per file because a file is the unit of
//! retry: the summary's id (rule + file) stays the same on redelivery, so
//! dedup works for summaries too.

use serde_json::json;

use super::finding::{Finding, RuleInfo, finding_id};
use crate::envelope::ObjectRef;

/// The `eventName` of a summary finding's synthetic event (its
/// `additionalEventData` holds `heldBack` and `sampleEventIds`).
pub const FLOOD_SUMMARY_EVENT: &str = "trailguard:FloodSummary";

/// Event ids kept per rule as samples in a summary.
pub const SAMPLES: usize = 10;

/// Counts findings per rule for one file and decides which are published.
///
/// Rules are known by number: the caller's dense numbering of the rules it
/// runs (e.g. a rule's place in its rule set), so counting a match is an
/// index, not a look-up by id, on a path taken for every match.
#[derive(Debug, Clone)]
pub struct FloodGate {
    cap: usize,
    per_rule: Vec<Tally>,
}

#[derive(Debug, Clone, Default)]
struct Tally {
    matches: usize,
    samples: Vec<String>,
}

/// Findings held back for one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// The rule's number, as given to [`FloodGate::admit`].
    pub rule: usize,
    /// How many matches were not published individually.
    pub held_back: usize,
    /// The first few held-back event ids.
    pub sample_event_ids: Vec<String>,
}

impl FloodGate {
    /// A gate letting `cap` findings per rule through.
    pub fn new(cap: usize) -> FloodGate {
        FloodGate {
            cap,
            per_rule: Vec::new(),
        }
    }

    /// Whether a finding of rule number `rule` for `event_id` is published.
    pub fn admit(&mut self, rule: usize, event_id: Option<&str>) -> bool {
        if rule >= self.per_rule.len() {
            self.per_rule.resize_with(rule + 1, Tally::default);
        }
        let Some(tally) = self.per_rule.get_mut(rule) else {
            return true;
        };
        tally.matches += 1;
        if tally.matches <= self.cap {
            return true;
        }
        if tally.samples.len() < SAMPLES
            && let Some(id) = event_id
        {
            tally.samples.push(id.to_owned());
        }
        false
    }

    /// The rules that went over the cap, by number.
    pub fn overflows(&self) -> Vec<Overflow> {
        self.per_rule
            .iter()
            .enumerate()
            .filter(|(_, tally)| tally.matches > self.cap)
            .map(|(rule, tally)| Overflow {
                rule,
                held_back: tally.matches - self.cap,
                sample_event_ids: tally.samples.clone(),
            })
            .collect()
    }
}

/// The finding that stands for the matches of `rule` held back in
/// `object`: its id is the rule's and the file's, so a redelivered file
/// sums up under the same id.
pub fn summary_finding(rule: RuleInfo, overflow: &Overflow, object: &ObjectRef) -> Finding {
    let event = json!({
        "eventID": format!("flood:{}", object.identity()),
        "eventName": FLOOD_SUMMARY_EVENT,
        "additionalEventData": {
            "heldBack": overflow.held_back,
            "sampleEventIds": overflow.sample_event_ids,
        },
    });
    let title = format!(
        "{} ({} more matches in this file held back)",
        rule.title, overflow.held_back
    );
    let mut finding = Finding::new(RuleInfo { title, ..rule }, &event, Some(object));
    finding.id = finding_id(&format!("{}#flood", finding.rule.id), &object.identity());
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_the_cap_through_and_summarises_the_rest() {
        let mut gate = FloodGate::new(2);
        let admitted: Vec<bool> = (0..5)
            .map(|i| gate.admit(3, Some(&format!("e{i}"))))
            .collect();
        assert_eq!(admitted, vec![true, true, false, false, false]);
        assert!(gate.admit(0, Some("x")));
        assert!(gate.admit(0, None));
        assert_eq!(
            gate.overflows(),
            vec![Overflow {
                rule: 3,
                held_back: 3,
                sample_event_ids: vec!["e2".into(), "e3".into(), "e4".into()],
            }]
        );
    }
}
