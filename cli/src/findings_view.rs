//! Findings for people: the `--format table` listing and the summary.
//!
//! The listing puts the most urgent first (severity by rank, critical
//! first, then event time), names rules by title (ids are in the JSON
//! output), and fits the terminal: long cells are cut with `…` (the full
//! values are in the JSON output). The summary counts findings per rule and
//! severity, with what the flood cap held back. Findings are kept as short
//! rows, not whole findings with their raw events.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use trailguard_engine::findings::Finding;
use trailguard_engine::findings::flood::FLOOD_SUMMARY_EVENT;
use trailguard_engine::rules::Severity;

use crate::format::{self, Table};

/// One line of the listing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    /// Events the finding stands for (more than one when repeats folded).
    events: u64,
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
    /// Matching events the findings stand for (repeats included).
    events: u64,
    held_back: u64,
}

/// What the table output gathers (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct FindingsView {
    /// Rows of the listing; not kept when only the summary is printed.
    rows: Option<Vec<Row>>,
    /// By severity (most urgent first), then rule id.
    rules: BTreeMap<(Reverse<Severity>, String), Tally>,
    /// Folded findings seen, by id: the same burst read from two files is
    /// one finding (as the notifier's dedup makes it), its counts summed.
    /// Holds the finding's tally key and its row, when rows are kept.
    folded: HashMap<String, Folded>,
    /// Findings added, flood summaries included, a folded finding once.
    count: u64,
}

/// A folded finding in the view.
#[derive(Debug, Clone)]
struct Folded {
    key: TallyKey,
    row: Option<usize>,
    events: u64,
}

type TallyKey = (Reverse<Severity>, String);

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
            folded: HashMap::new(),
            count: 0,
        }
    }

    /// Findings gathered, flood summaries included; a burst folded in
    /// several files counts once.
    pub fn finding_count(&self) -> u64 {
        self.count
    }

    /// Whether rows are kept for the listing.
    pub fn listing_kept(&self) -> bool {
        self.rows.is_some()
    }

    /// Adds a finding.
    pub fn add(&mut self, finding: &Finding) {
        let rule = &finding.rule;
        let key = (Reverse(rule.severity), rule.id.clone());
        let events = match (&finding.repeats, &finding.correlation) {
            (_, Some(c)) => c.event_total,
            (Some(r), None) => r.count,
            (None, None) => 1,
        };
        // A folded burst read from two files, or two windows of one dense
        // burst starting in the same second, is one finding: one row.
        let merges = finding.repeats.is_some() || finding.correlation.is_some();
        if merges && self.count_again(&finding.id, events) {
            return;
        }
        self.count += 1;
        let tally = self.rules.entry(key.clone()).or_default();
        match held_back(finding) {
            Some(n) => {
                tally.held_back += n;
                if tally.title.is_empty() {
                    tally.title.clone_from(&rule.title);
                }
            }
            None => {
                tally.findings += 1;
                tally.events += events;
                // A summary's title says what was held back; the rule's own wins.
                tally.title.clone_from(&rule.title);
            }
        }
        let row = self.rows.as_ref().map(Vec::len);
        if merges {
            self.folded
                .insert(finding.id.clone(), Folded { key, row, events });
        }
        if let Some(rows) = &mut self.rows {
            rows.push(Row {
                events,
                severity: rule.severity,
                time: finding.event.time.clone().unwrap_or_else(|| "-".to_owned()),
                title: rule.title.clone(),
                who: format::who(finding),
                // A correlation's group says what the events had in common.
                what: match &finding.correlation {
                    Some(c) => c.group_text(),
                    None => format::what(finding),
                },
                place: format::place(finding),
            });
        }
    }

    /// Counts `events` more into the folded finding `id` if it was seen:
    /// whether it was.
    fn count_again(&mut self, id: &str, events: u64) -> bool {
        let Some(folded) = self.folded.get_mut(id) else {
            return false;
        };
        folded.events += events;
        if let Some(tally) = self.rules.get_mut(&folded.key) {
            tally.events += events;
        }
        if let (Some(rows), Some(row)) = (&mut self.rows, folded.row)
            && let Some(row) = rows.get_mut(row)
        {
            row.events += events;
        }
        true
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, mut other: FindingsView) {
        // Folded findings this view has already: their events count into
        // the finding here, and the other view's copy goes.
        let mut kept = Vec::new();
        let mut dropped = std::collections::BTreeSet::new();
        self.count += other.count;
        for (id, folded) in std::mem::take(&mut other.folded) {
            if self.count_again(&id, folded.events) {
                self.count -= 1;
                if let Some(tally) = other.rules.get_mut(&folded.key) {
                    tally.findings = tally.findings.saturating_sub(1);
                    tally.events = tally.events.saturating_sub(folded.events);
                }
                dropped.extend(folded.row);
            } else {
                kept.push((id, folded));
            }
        }
        let base = self.rows.as_ref().map_or(0, Vec::len);
        for (id, mut folded) in kept {
            folded.row = folded
                .row
                .filter(|_| self.rows.is_some())
                .map(|row| base + row - dropped.range(..row).count());
            self.folded.insert(id, folded);
        }
        if let (Some(rows), Some(more)) = (&mut self.rows, other.rows) {
            rows.extend(
                more.into_iter()
                    .enumerate()
                    .filter(|(i, _)| !dropped.contains(i))
                    .map(|(_, row)| row),
            );
        }
        for (key, tally) in other.rules {
            let mine = self.rules.entry(key).or_default();
            mine.findings += tally.findings;
            mine.events += tally.events;
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
        // The time is read whole; who, what and where give way to the
        // rule's title first.
        let mut table = Table::new(&["SEVERITY", "WHEN", "RULE", "WHO", "WHAT", "WHERE"])
            .uncut(1)
            .cut_first(&[3, 4, 5], 16);
        for row in rows.iter() {
            table.row(vec![
                row.severity.as_str().to_owned(),
                row.time.clone(),
                // A folded finding says how many events it stands for
                // before its title, where a cut cell still shows it.
                if row.events > 1 {
                    format!("({}x) {}", row.events, row.title)
                } else {
                    row.title.clone()
                },
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
            let mut table = Table::new(&["SEVERITY", "FINDINGS", "EVENTS", "HELD BACK", "RULE"]);
            let mut tallies: Vec<_> = self.rules.iter().collect();
            // Within a severity, the rules with most findings first.
            tallies
                .sort_by_key(|((severity, id), t)| (*severity, Reverse(t.findings), id.as_str()));
            for ((Reverse(severity), _), tally) in tallies {
                table.row(vec![
                    severity.as_str().to_owned(),
                    tally.findings.to_string(),
                    tally.events.to_string(),
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
    use trailguard_engine::findings::RuleInfo;
    use trailguard_engine::findings::repeat::Repeats;

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

    /// A folded finding of `count` events, as the detector makes it.
    fn folded(id: &str, count: u64) -> Finding {
        let mut f = finding(
            id,
            "Password data read",
            Severity::Medium,
            "2023-07-10T12:00:00Z",
            "u",
        );
        f.id = format!("{id}#folded");
        f.repeats = Some(Box::new(Repeats {
            count,
            window_start: "2023-07-10T12:00:00Z".to_owned(),
            window_seconds: 3600,
            last_time: None,
            event_ids: vec![],
        }));
        f
    }

    #[test]
    fn a_folded_finding_read_from_two_files_is_one_row_with_the_events_summed() {
        for listing in [true, false] {
            let mut first = FindingsView::new(listing);
            first.add(&finding(
                "x",
                "Other",
                Severity::High,
                "2023-07-10T12:00:00Z",
                "a",
            ));
            first.add(&folded("p", 24));
            let mut second = FindingsView::new(listing);
            second.add(&finding(
                "y",
                "Another",
                Severity::Low,
                "2023-07-10T12:00:00Z",
                "a",
            ));
            second.add(&folded("p", 5));
            second.add(&folded("q", 2));
            first.merge(second);
            let mut third = FindingsView::new(listing);
            third.add(&folded("q", 1));
            first.merge(third);
            assert_eq!(first.finding_count(), 4);
            let summary = first.summary(100);
            let medium: Vec<Vec<&str>> = summary
                .lines()
                .filter(|l| l.starts_with("medium"))
                .map(|l| l.split_whitespace().collect())
                .collect();
            assert_eq!(
                medium,
                [
                    ["medium", "1", "29", "0", "Password", "data", "read"],
                    ["medium", "1", "3", "0", "Password", "data", "read"]
                ],
                "{summary}"
            );
            if listing {
                let text = first.listing(120);
                assert_eq!(text.lines().count(), 5, "{text}");
                assert!(text.contains("(29x) Password data read"), "{text}");
                assert!(text.contains("(3x) Password data read"), "{text}");
            }
        }
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
            ["SEVERITY", "FINDINGS", "EVENTS", "HELD", "BACK", "RULE"]
        );
        let cells = |i: usize| lines[i].split_whitespace().collect::<Vec<_>>();
        assert_eq!(cells(1), ["critical", "2", "2", "56", "Critical", "rule"]);
        assert_eq!(cells(2), ["high", "1", "1", "0", "High", "rule"]);
        assert_eq!(cells(3), ["medium", "1", "1", "0", "Medium", "rule"]);
        assert_eq!(cells(4), ["low", "1", "1", "0", "Low", "rule"]);
        assert_eq!(
            lines[5],
            "by severity: 2 critical, 1 high, 1 medium, 1 low (4 rule(s))"
        );
        let quiet = FindingsView::new(false);
        assert_eq!(quiet.summary(80), "no findings\n");
    }
}
