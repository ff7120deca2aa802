//! Flood control: a cap on findings per rule per log file.
//!
//! A misconfigured role can produce 10,000 `AccessDenied` events in one file;
//! 10,000 messages help nobody. Past the cap, matches are counted and one
//! summary finding per rule and file says how many were held back, with a
//! few sample event ids. The cap is per file because a file is the unit of
//! retry: the summary's id (rule + file) stays the same on redelivery, so
//! dedup works for summaries too.

use std::collections::BTreeMap;

/// Event ids kept per rule as samples in a summary.
pub const SAMPLES: usize = 10;

/// Counts findings per rule for one file and decides which are published.
#[derive(Debug, Clone)]
pub struct FloodGate {
    cap: usize,
    per_rule: BTreeMap<String, (usize, Vec<String>)>,
}

/// Findings held back for one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overflow {
    /// The rule.
    pub rule_id: String,
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
            per_rule: BTreeMap::new(),
        }
    }

    /// Whether a finding of `rule_id` for `event_id` is published.
    pub fn admit(&mut self, rule_id: &str, event_id: Option<&str>) -> bool {
        // Looked up before inserting: admitting must not allocate per match.
        // One look-up for every match after a rule's first.
        let entry = match self.per_rule.get_mut(rule_id) {
            Some(entry) => entry,
            None => self
                .per_rule
                .entry(rule_id.to_owned())
                .or_insert((0, Vec::new())),
        };
        entry.0 += 1;
        if entry.0 <= self.cap {
            return true;
        }
        if entry.1.len() < SAMPLES
            && let Some(id) = event_id
        {
            entry.1.push(id.to_owned());
        }
        false
    }

    /// The rules that went over the cap.
    pub fn overflows(&self) -> Vec<Overflow> {
        self.per_rule
            .iter()
            .filter(|(_, (n, _))| *n > self.cap)
            .map(|(rule, (n, samples))| Overflow {
                rule_id: rule.clone(),
                held_back: n - self.cap,
                sample_event_ids: samples.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_the_cap_through_and_summarises_the_rest() {
        let mut gate = FloodGate::new(2);
        let admitted: Vec<bool> = (0..5)
            .map(|i| gate.admit("denied", Some(&format!("e{i}"))))
            .collect();
        assert_eq!(admitted, vec![true, true, false, false, false]);
        assert!(gate.admit("other", Some("x")));
        assert_eq!(
            gate.overflows(),
            vec![Overflow {
                rule_id: "denied".into(),
                held_back: 3,
                sample_event_ids: vec!["e2".into(), "e3".into(), "e4".into()],
            }]
        );
    }
}
