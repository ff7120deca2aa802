//! Findings for people: the `--format table` listing and the summary.
//!
//! The listing puts the most urgent first (severity by rank, critical
//! first, then event time), names rules by title (ids are in the JSON
//! output), and fits the terminal: long cells are cut with `…` (the full
//! values are in the JSON output). The summary counts findings per rule and
//! severity, with what the flood cap held back. Findings are kept as short
//! rows, not whole findings with their raw events.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use serde_json::Value;
use trailguard::findings::Finding;
use trailguard::findings::flood::FLOOD_SUMMARY_EVENT;
use trailguard::rules::Severity;

use crate::format::{self, Table};

/// One line of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    severity: Severity,
    time: String,
    title: String,
    who: String,
    what: String,
    place: String,
}

/// Findings of one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Tally {
    title: String,
    findings: u64,
    held_back: u64,
}

/// What the table output gathers (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct FindingsView {
    /// Rows of the listing; not kept when only the summary is printed.
    rows: Option<Vec<Row>>,
    /// By severity (most urgent first), then rule id.
    rules: BTreeMap<(Reverse<Severity>, String), Tally>,
}

/// How many matches a flood summary stands for (`heldBack` of its event).
fn held_back(finding: &Finding) -> Option<u64> {
    if finding.event.what.event_name.as_deref() != Some(FLOOD_SUMMARY_EVENT) {
        return None;
    }
    let event: Value = serde_json::from_str(finding.event.raw_event()).ok()?;
    event.pointer("/additionalEventData/heldBack")?.as_u64()
}

impl FindingsView {
    /// An empty view; `listing`: whether rows are kept for the listing.
    pub fn new(listing: bool) -> FindingsView {
        FindingsView {
            rows: listing.then(Vec::new),
            rules: BTreeMap::new(),
        }
    }

    /// Whether rows are kept for the listing.
    pub fn listing_kept(&self) -> bool {
        self.rows.is_some()
    }

    /// Adds a finding.
    pub fn add(&mut self, finding: &Finding) {
        let rule = &finding.rule;
        let tally = self
            .rules
            .entry((Reverse(rule.severity), rule.id.clone()))
            .or_default();
        match held_back(finding) {
            Some(n) => {
                tally.held_back += n;
                if tally.title.is_empty() {
                    tally.title.clone_from(&rule.title);
                }
            }
            None => {
                tally.findings += 1;
                // A summary's title says what was held back; the rule's own wins.
                tally.title.clone_from(&rule.title);
            }
        }
        if let Some(rows) = &mut self.rows {
            rows.push(Row {
                severity: rule.severity,
                time: finding.event.time.clone().unwrap_or_else(|| "-".to_owned()),
                title: rule.title.clone(),
                who: format::who(finding),
                what: format::what(finding),
                place: format::place(finding),
            });
        }
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, other: FindingsView) {
        if let (Some(rows), Some(more)) = (&mut self.rows, other.rows) {
            rows.extend(more);
        }
        for (key, tally) in other.rules {
            let mine = self.rules.entry(key).or_default();
            mine.findings += tally.findings;
            mine.held_back += tally.held_back;
            if mine.title.is_empty() || tally.findings > 0 {
                mine.title = tally.title;
            }
        }
    }

    /// The listing, most urgent first, fitted to `width` (empty without rows).
    pub fn listing(&mut self, width: usize) -> String {
        let Some(rows) = &mut self.rows else {
            return String::new();
        };
        if rows.is_empty() {
            return String::new();
        }
        rows.sort_by(|a, b| {
            (Reverse(a.severity), &a.time, &a.title).cmp(&(Reverse(b.severity), &b.time, &b.title))
        });
        let mut table = Table::new(&["SEVERITY", "WHEN", "RULE", "WHO", "WHAT", "WHERE"]);
        for row in rows.iter() {
            table.row(vec![
                row.severity.as_str().to_owned(),
                row.time.clone(),
                row.title.clone(),
                row.who.clone(),
                row.what.clone(),
                row.place.clone(),
            ]);
        }
        table.fitted(width).to_string()
    }

    /// Findings per rule and severity, most urgent first, then a line of
    /// totals per severity; fitted to `width`.
    pub fn summary(&self, width: usize) -> String {
        let mut text = String::new();
        if !self.rules.is_empty() {
            let mut table = Table::new(&["SEVERITY", "FINDINGS", "HELD BACK", "RULE"]);
            let mut tallies: Vec<_> = self.rules.iter().collect();
            // Within a severity, the rules with most findings first.
            tallies
                .sort_by_key(|((severity, id), t)| (*severity, Reverse(t.findings), id.as_str()));
            for ((Reverse(severity), _), tally) in tallies {
                table.row(vec![
                    severity.as_str().to_owned(),
                    tally.findings.to_string(),
                    tally.held_back.to_string(),
                    tally.title.clone(),
                ]);
            }
            text.push_str(&table.fitted(width).to_string());
        }
        let mut per_severity: BTreeMap<Reverse<Severity>, u64> = BTreeMap::new();
        for ((severity, _), tally) in &self.rules {
            *per_severity.entry(*severity).or_default() += tally.findings;
        }
        let parts: Vec<String> = per_severity
            .iter()
            .map(|(Reverse(severity), n)| format!("{n} {severity}"))
            .collect();
        let rules = self.rules.len();
        if parts.is_empty() {
            text.push_str("no findings\n");
        } else {
            text.push_str(&format!(
                "by severity: {} ({rules} rule(s))\n",
                parts.join(", ")
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailguard::findings::RuleInfo;

    fn finding(id: &str, title: &str, severity: Severity, time: &str, user: &str) -> Finding {
        let rule = RuleInfo {
            id: id.to_owned(),
            title: title.to_owned(),
            description: String::new(),
            severity,
            references: vec![],
            engine: "sigma",
        };
        let event = json!({
            "eventID": format!("{id}-{time}"), "eventTime": time,
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
            "userIdentity": {"type": "IAMUser", "userName": user},
            "recipientAccountId": "111122223333", "awsRegion": "us-east-1"
        });
        Finding::new(rule, &event, None)
    }

    fn flood(id: &str, title: &str, severity: Severity, held: u64) -> Finding {
        let rule = RuleInfo {
            id: id.to_owned(),
            title: format!("{title} ({held} more matches in this file held back)"),
            description: String::new(),
            severity,
            references: vec![],
            engine: "trailguard",
        };
        let event = json!({"eventID": "flood:x", "eventName": FLOOD_SUMMARY_EVENT,
            "additionalEventData": {"heldBack": held, "sampleEventIds": ["a"]}});
        Finding::new(rule, &event, None)
    }

    fn view() -> FindingsView {
        let mut first = FindingsView::new(true);
        let mut second = FindingsView::new(true);
        first.add(&finding(
            "m",
            "Medium rule",
            Severity::Medium,
            "2023-07-10T10:00:00Z",
            "a",
        ));
        first.add(&finding(
            "c",
            "Critical rule",
            Severity::Critical,
            "2023-07-10T12:00:00Z",
            "b",
        ));
        second.add(&finding(
            "l",
            "Low rule",
            Severity::Low,
            "2023-07-10T09:00:00Z",
            "c",
        ));
        second.add(&finding(
            "c",
            "Critical rule",
            Severity::Critical,
            "2023-07-10T11:00:00Z",
            "d",
        ));
        second.add(&flood("c", "Critical rule", Severity::Critical, 56));
        second.add(&finding(
            "h",
            "High rule",
            Severity::High,
            "2023-07-10T08:00:00Z",
            "e",
        ));
        first.merge(second);
        first
    }

    #[test]
    fn the_listing_is_sorted_by_severity_rank_then_time() {
        let text = view().listing(100);
        let severities: Vec<&str> = text
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(
            severities,
            ["critical", "critical", "critical", "high", "medium", "low"],
            "{text}"
        );
        let critical: Vec<&str> = text.lines().skip(1).take(3).collect();
        assert!(
            critical[0].contains("-  "),
            "the summary has no time: {text}"
        );
        assert!(critical[1].contains("11:00:00Z") && critical[2].contains("12:00:00Z"));
        assert!(text.contains("Critical rule"), "titles, not ids: {text}");
    }

    #[test]
    fn the_listing_fits_the_width() {
        let mut view = FindingsView::new(true);
        let long = "A rule whose title goes on and on ".repeat(5);
        view.add(&finding(
            "x",
            &long,
            Severity::High,
            "2023-07-10T10:00:00Z",
            &"u".repeat(90),
        ));
        for width in [80, 120] {
            let text = view.listing(width);
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line}");
            }
            assert!(text.contains('…'), "{text}");
        }
    }

    #[test]
    fn the_summary_counts_per_rule_and_severity_with_what_was_held_back() {
        let view = view();
        let text = view.summary(100);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0].split_whitespace().collect::<Vec<_>>(),
            ["SEVERITY", "FINDINGS", "HELD", "BACK", "RULE"]
        );
        let cells = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
        assert_eq!(cells(1), ["critical", "2", "56", "Critical", "rule"]);
        assert_eq!(cells(2), ["high", "1", "0", "High", "rule"]);
        assert_eq!(cells(3), ["medium", "1", "0", "Medium", "rule"]);
        assert_eq!(cells(4), ["low", "1", "0", "Low", "rule"]);
        assert_eq!(
            lines[5],
            "by severity: 2 critical, 1 high, 1 medium, 1 low (4 rule(s))"
        );
        let quiet = FindingsView::new(false);
        assert_eq!(quiet.summary(80), "no findings\n");
    }
}
