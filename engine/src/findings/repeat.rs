//! Repeats: one finding per rule, principal and time window, not one per
//! event.
//!
//! An intruder's script calls `GetPasswordData` on thirty instances in a
//! minute; a pipeline's role is denied the same read every run. Thirty
//! findings say less than one that says "thirty times": the repeats are
//! folded into the first event's finding, which counts them and keeps a few
//! of their event ids.
//!
//! The folded finding's id is the rule's, the principal's and the window's
//! (fixed windows of event time), so the same burst seen in a second file,
//! or a file delivered twice, is the same finding and dedup drops it.
//!
//! Findings the remediator may act on are never folded: it acts per
//! resource, so each change needs its own trigger.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::finding::{Finding, finding_id};
use crate::clock::rfc3339_utc;
use crate::record::Record;

/// Event ids kept per folded finding, after the first event's own.
pub const SAMPLES: usize = 10;

/// Folded findings held per file at most; past it, findings pass unfolded
/// so memory stays bounded whatever a file holds.
pub const MAX_HELD: usize = 4_096;

/// The default window: repeats within the same hour of event time fold.
pub const DEFAULT_WINDOW_SECS: u64 = 3_600;

/// What a folded finding says about the events it stands for (Finding
/// schema 1.2, member `repeats`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repeats {
    /// Matching events folded in this file, the finding's own included.
    pub count: u64,
    /// Start of the event-time window (UTC).
    pub window_start: String,
    /// Length of the window in seconds.
    pub window_seconds: u64,
    /// `eventTime` of the last folded event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<String>,
    /// The first [`SAMPLES`] event ids folded in, after the finding's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<String>,
}

/// What decides whether two matches fold: the rule (by number, as at the
/// flood gate), the principal and the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key<'r> {
    rule: usize,
    principal: &'r str,
    window: i64,
}

/// Folds the findings of one file.
#[derive(Debug)]
pub struct RepeatFold {
    window_secs: u64,
    held: Vec<Finding>,
    /// Per principal (looked up by `&str`, so counting a repeat allocates
    /// nothing): the rules and windows held, and where.
    index: HashMap<String, Vec<(usize, i64, usize)>>,
}

/// Where a match goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// Not foldable: report it now.
    Report,
    /// Counted into a held finding: build nothing.
    Counted,
    /// The first of its kind: build its finding and [`RepeatFold::hold`] it.
    Hold,
}

impl RepeatFold {
    /// Folds repeats within windows of `window_secs`; 0 folds nothing.
    pub fn new(window_secs: u64) -> RepeatFold {
        RepeatFold {
            window_secs,
            held: Vec::new(),
            index: HashMap::new(),
        }
    }

    /// Where rule number `rule`'s match on `record` goes. A match folds
    /// when it names a principal and a time and the remediator would not
    /// act on it (a failed call, or an event no action handles).
    pub fn offer(&mut self, rule: usize, record: &Record<'_>) -> Fold {
        let Some(key) = self.key(rule, record) else {
            return Fold::Report;
        };
        let Some(at) = self.index.get(key.principal).and_then(|held| {
            held.iter()
                .find(|(r, w, _)| *r == key.rule && *w == key.window)
                .map(|(_, _, at)| *at)
        }) else {
            return if self.held.len() < MAX_HELD {
                Fold::Hold
            } else {
                Fold::Report
            };
        };
        if let Some(repeats) = self
            .held
            .get_mut(at)
            .and_then(|finding| finding.repeats.as_mut())
        {
            repeats.count += 1;
            if let Some(time) = record.event_time.as_deref() {
                repeats.last_time = Some(time.to_owned());
            }
            if repeats.event_ids.len() < SAMPLES
                && let Some(id) = record.event_id.as_deref()
            {
                repeats.event_ids.push(id.to_owned());
            }
        }
        Fold::Counted
    }

    /// Holds `finding`, the first match of its kind ([`Fold::Hold`]),
    /// giving it the folded finding's id.
    pub fn hold(&mut self, rule: usize, record: &Record<'_>, mut finding: Finding) {
        let Some(key) = self.key(rule, record) else {
            return;
        };
        let start = u64::try_from(key.window).unwrap_or(0) * self.window_secs;
        let window_start = rfc3339_utc(start);
        finding.id = finding_id(
            &format!("{}#repeat", finding.rule.id),
            &format!("{}@{window_start}", key.principal),
        );
        finding.repeats = Some(Box::new(Repeats {
            count: 1,
            window_start,
            window_seconds: self.window_secs,
            last_time: record.event_time.as_deref().map(str::to_owned),
            event_ids: Vec::new(),
        }));
        self.index
            .entry(key.principal.to_owned())
            .or_default()
            .push((key.rule, key.window, self.held.len()));
        self.held.push(finding);
    }

    /// The held findings, in the order their first matches came.
    pub fn finish(self) -> Vec<Finding> {
        self.held
    }

    fn key<'r>(&self, rule: usize, record: &'r Record<'_>) -> Option<Key<'r>> {
        if self.window_secs == 0 || super::finding::may_remediate(record) {
            return None;
        }
        let principal = record.user_identity.as_ref()?.arn.as_deref()?;
        let window = record
            .event_time_epoch()?
            .div_euclid(i64::try_from(self.window_secs).ok()?);
        if window < 0 {
            return None;
        }
        Some(Key {
            rule,
            principal,
            window,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::findings::RuleInfo;
    use crate::findings::finding::EventFacts;
    use crate::rules::Severity;

    fn event(id: &str, time: &str, arn: &str, name: &str) -> Value {
        json!({
            "eventVersion": "1.08", "eventID": id, "eventTime": time,
            "eventSource": "ec2.amazonaws.com", "eventName": name,
            "userIdentity": {"type": "AssumedRole", "arn": arn},
            "recipientAccountId": "111122223333", "awsRegion": "us-east-1",
        })
    }

    fn rule() -> Arc<RuleInfo> {
        Arc::new(RuleInfo {
            id: "ec2-password-data-retrieved".into(),
            title: "EC2 Windows password data retrieved".into(),
            description: String::new(),
            severity: Severity::Medium,
            references: Vec::new(),
            engine: "trailguard",
        })
    }

    /// Runs `events` through a fold as the detector does.
    fn fold(window: u64, events: &[Value]) -> (Vec<Finding>, Vec<Finding>) {
        let mut fold = RepeatFold::new(window);
        let mut reported = Vec::new();
        for e in events {
            let text = e.to_string();
            let record = Record::from_json(&text).unwrap();
            let finding = || Finding::on(rule(), Arc::new(EventFacts::of(&record)), None);
            match fold.offer(0, &record) {
                Fold::Report => reported.push(finding()),
                Fold::Counted => {}
                Fold::Hold => fold.hold(0, &record, finding()),
            }
        }
        (reported, fold.finish())
    }

    const A: &str = "arn:aws:sts::111122223333:assumed-role/r/a";
    const B: &str = "arn:aws:sts::111122223333:assumed-role/r/b";

    #[test]
    fn repeats_by_one_principal_in_one_window_fold_into_the_first() {
        let events: Vec<Value> = (0..30)
            .map(|i| {
                event(
                    &format!("e{i}"),
                    &format!("2023-07-10T12:{:02}:00Z", i),
                    A,
                    "GetPasswordData",
                )
            })
            .collect();
        let (reported, held) = fold(3600, &events);
        assert!(reported.is_empty());
        assert_eq!(held.len(), 1);
        let f = &held[0];
        assert_eq!(f.event.event_id.as_deref(), Some("e0"));
        let r = f.repeats.as_deref().unwrap();
        assert_eq!(r.count, 30);
        assert_eq!(r.window_start, "2023-07-10T12:00:00Z");
        assert_eq!(r.last_time.as_deref(), Some("2023-07-10T12:29:00Z"));
        assert_eq!(r.event_ids.len(), SAMPLES);
        assert_eq!(r.event_ids[0], "e1");
    }

    #[test]
    fn principals_and_windows_keep_findings_apart() {
        let events = [
            event("1", "2023-07-10T12:00:00Z", A, "GetPasswordData"),
            event("2", "2023-07-10T12:10:00Z", B, "GetPasswordData"),
            event("3", "2023-07-10T13:00:00Z", A, "GetPasswordData"),
        ];
        let (reported, held) = fold(3600, &events);
        assert!(reported.is_empty());
        let ids: Vec<_> = held.iter().map(|f| f.id.clone()).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2]);
    }

    #[test]
    fn the_id_is_the_same_for_the_same_burst_in_another_file() {
        let first = fold(
            3600,
            &[event("1", "2023-07-10T12:00:00Z", A, "GetPasswordData")],
        );
        let second = fold(
            3600,
            &[event("9", "2023-07-10T12:59:59Z", A, "GetPasswordData")],
        );
        assert_eq!(first.1[0].id, second.1[0].id);
        assert_ne!(
            first.1[0].id,
            finding_id("ec2-password-data-retrieved", "1"),
            "a folded finding's id is not an event's"
        );
    }

    #[test]
    fn remediable_changes_missing_facts_and_window_zero_are_not_folded() {
        // AuthorizeSecurityGroupIngress that succeeded: the remediator acts on it.
        let mut open = event(
            "1",
            "2023-07-10T12:00:00Z",
            A,
            "AuthorizeSecurityGroupIngress",
        );
        open["requestParameters"] = json!({"groupId": "sg-1", "ipPermissions": {"items": [
            {"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
             "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
        let mut no_arn = event("2", "2023-07-10T12:00:00Z", A, "GetPasswordData");
        no_arn["userIdentity"] = json!({"type": "Root"});
        let mut no_time = event("3", "2023-07-10T12:00:00Z", A, "GetPasswordData");
        no_time.as_object_mut().unwrap().remove("eventTime");
        let (reported, held) = fold(3600, &[open.clone(), open, no_arn, no_time]);
        assert_eq!(reported.len(), 4);
        assert!(held.is_empty());
        assert!(reported.iter().all(|f| f.repeats.is_none()));

        let plain = event("4", "2023-07-10T12:00:00Z", A, "GetPasswordData");
        let (reported, held) = fold(0, &[plain.clone(), plain]);
        assert_eq!((reported.len(), held.len()), (2, 0));
    }

    #[test]
    fn a_failed_remediable_change_folds() {
        let mut denied = event("1", "2023-07-10T12:00:00Z", A, "StopLogging");
        denied["eventSource"] = json!("cloudtrail.amazonaws.com");
        denied["errorCode"] = json!("TrailNotFoundException");
        let (reported, held) = fold(3600, &[denied.clone(), denied]);
        assert!(reported.is_empty());
        assert_eq!(held[0].repeats.as_deref().map(|r| r.count), Some(2));
    }
}
