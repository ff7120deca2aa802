//! The set of rules a process runs: built-in rules plus user rule files,
//! compiled once at start-up and indexed so that each record is checked only
//! against the rules that could match it.
//!
//! Loading is all-or-nothing: a rule file that does not parse, or one rule in
//! it that does not compile, fails the load with an error naming the origin,
//! the rule and the reason. A smaller rule set than configured is never run.

use std::collections::HashMap;

use foldhash::fast::RandomState;

use thiserror::Error;

use super::guard::Guard;
use super::nesting;
use super::rule::{Rule, RuleFile};
use crate::document::{Document, Path, Scalar, Segment};
use crate::findings::{Suppression, Suppressions};
use crate::record::{KeyField, Record};

/// Where the built-in CIS controls come from.
const CIS_ORIGIN: &str = "built-in:cis.yaml";

/// The built-in rule files: the CIS AWS Foundations monitoring controls and
/// trailguard's curated detections.
const BUILTIN: [(&str, &str); 2] = [
    (CIS_ORIGIN, include_str!("../../rules/cis.yaml")),
    (
        "built-in:detections.yaml",
        include_str!("../../rules/detections.yaml"),
    ),
];

/// Why a catalogue could not be loaded.
#[derive(Debug, Error)]
pub enum CatalogueError {
    /// The file is not valid YAML or does not have the rule-file shape.
    #[error("rule file {origin}: {reason}")]
    File {
        /// File path, `s3://` URL or SSM parameter the text came from.
        origin: String,
        /// What is wrong, with line and column where known.
        reason: String,
    },
    /// One rule in an otherwise readable file is invalid.
    #[error("rule file {origin}: rule {rule:?}: {reason}")]
    Rule {
        /// Where the rule came from.
        origin: String,
        /// The rule's id (or `#index` when it has none).
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Compiled, indexed rules.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    rules: Vec<Rule>,
    suppressions: Vec<Suppression>,
    /// Rules that can only match a record with one of these `eventName`s.
    by_event_name: HashMap<String, Vec<usize>, RandomState>,
    /// Rules that must be tried on every record.
    always: Vec<usize>,
    /// Per rule, a cheap check a typed record must pass first.
    guards: Vec<Option<Guard>>,
    /// `$.eventName`, built once: it is looked up for every record.
    event_name: Path,
}

/// Rule-file text and where it came from, for [`Catalogue::load`].
#[derive(Debug, Clone)]
pub struct RuleText {
    /// Names the source in errors: a path, `s3://bucket/key` or `ssm:/name`.
    pub origin: String,
    /// The YAML text.
    pub text: String,
}

impl Catalogue {
    /// The built-in rules only.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::load(true, &[])
    }

    /// Loads the built-in rules (when `builtin`) and then each file in order.
    /// A later rule with an id already loaded replaces it; `enabled: false`
    /// removes it.
    pub fn load(builtin: bool, files: &[RuleText]) -> Result<Catalogue, CatalogueError> {
        let builtin_texts: Vec<RuleText> = if builtin {
            BUILTIN
                .iter()
                .map(|(origin, text)| RuleText {
                    origin: (*origin).to_owned(),
                    text: (*text).to_owned(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let sources = builtin_texts.iter().chain(files);
        let mut rules: Vec<Rule> = Vec::new();
        let mut suppressions: Vec<Suppression> = Vec::new();
        for source in sources {
            nesting::check_nesting(&source.text).map_err(|reason| CatalogueError::File {
                origin: source.origin.clone(),
                reason,
            })?;
            let file: RuleFile =
                yaml_serde::from_str(&source.text).map_err(|e| CatalogueError::File {
                    origin: source.origin.clone(),
                    reason: e.to_string(),
                })?;
            if file.version != 1 {
                return Err(CatalogueError::File {
                    origin: source.origin.clone(),
                    reason: format!("version {} is not supported (expected 1)", file.version),
                });
            }
            for (index, spec) in file.rules.into_iter().enumerate() {
                let name = if spec.id.is_empty() {
                    format!("#{index}")
                } else {
                    spec.id.clone()
                };
                let enabled = spec.enabled;
                let rule =
                    Rule::compile(spec, &source.origin).map_err(|reason| CatalogueError::Rule {
                        origin: source.origin.clone(),
                        rule: name.clone(),
                        reason,
                    })?;
                rules.retain(|r| r.id() != rule.id());
                if enabled {
                    rules.push(rule);
                }
            }
            Suppressions::new(&file.suppressions).map_err(|reason| CatalogueError::File {
                origin: source.origin.clone(),
                reason,
            })?;
            suppressions.extend(file.suppressions);
        }
        let mut catalogue = Catalogue::from_rules(rules);
        catalogue.suppressions = suppressions;
        Ok(catalogue)
    }

    /// Indexes already compiled rules.
    pub fn from_rules(rules: Vec<Rule>) -> Catalogue {
        let event_name = Path(vec![Segment::Key("eventName".to_owned())]);
        let mut by_event_name: HashMap<String, Vec<usize>, RandomState> = HashMap::default();
        let mut always = Vec::new();
        let mut guards = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            match rule.pattern().required_values(&event_name) {
                Some(names) => {
                    for name in names {
                        by_event_name.entry(name).or_default().push(i);
                    }
                    guards.push(None);
                }
                None => {
                    always.push(i);
                    guards.push(Guard::of(rule.pattern()));
                }
            }
        }
        Catalogue {
            rules,
            suppressions: Vec::new(),
            by_event_name,
            always,
            guards,
            event_name,
        }
    }

    /// Sets whether the built-in CIS controls publish a finding per match.
    /// They always feed their metrics (the CIS alarms); their findings are
    /// off in `cis.yaml`, because each control's high-signal cases are
    /// curated detections already and the rest is routine change (see
    /// docs/detections.md). A user file overriding a control by id keeps
    /// what it says.
    pub fn with_cis_findings(mut self, on: bool) -> Catalogue {
        for rule in &mut self.rules {
            if rule.origin() == CIS_ORIGIN {
                rule.set_finding(on);
            }
        }
        self
    }

    /// The suppressions of every loaded file, in load order.
    pub fn suppressions(&self) -> &[Suppression] {
        &self.suppressions
    }

    /// All rules, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id() == id)
    }

    /// Keeps only the rules `keep` accepts (e.g. the CLI's `--only`).
    pub fn retain(self, keep: impl Fn(&Rule) -> bool) -> Catalogue {
        let mut kept = Catalogue::from_rules(self.rules.into_iter().filter(|r| keep(r)).collect());
        kept.suppressions = self.suppressions;
        kept
    }

    /// Calls `on_match` with every rule that matches `doc`, in load order.
    pub fn for_each_match<'c>(&'c self, doc: &dyn Document, mut on_match: impl FnMut(&'c Rule)) {
        let mut indexed: &[usize] = &[];
        doc.any_at(self.event_name.segments(), &mut |v| {
            if let Scalar::String(name) = v {
                indexed = self.indexed(name);
            }
            true
        });
        self.each_candidate(indexed, |_, rule| {
            if rule.pattern().matches(doc) {
                on_match(rule);
            }
        });
    }

    /// [`Catalogue::for_each_match`] on a typed record: the same rules, with
    /// `eventName` and each unindexed rule's one-field guard read straight
    /// from its fields.
    pub fn for_each_match_record<'c>(
        &'c self,
        record: &Record<'_>,
        mut on_match: impl FnMut(&'c Rule),
    ) {
        self.each_admitted(record, |_, rule| {
            if rule.pattern().matches_record(record) {
                on_match(rule);
            }
        });
    }

    /// The fields whose values alone decide a typed record's
    /// [`Catalogue::candidates`]: `eventName` and the guards' fields.
    pub(crate) fn key_fields(&self) -> Vec<KeyField> {
        let mut fields = vec![KeyField::EventName];
        for field in self.guards.iter().flatten().map(Guard::field) {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        fields
    }

    /// The rules worth evaluating on a typed record, by index, in load
    /// order: every rule it can match ([`Catalogue::for_each_match_record`]
    /// evaluates exactly these).
    pub(crate) fn candidates(&self, record: &Record<'_>) -> Box<[usize]> {
        let mut out = Vec::new();
        self.each_admitted(record, |i, _| out.push(i));
        out.into()
    }

    /// Calls `on_match` with each rule of `candidates` (from
    /// [`Catalogue::candidates`]) that `record` matches, and its index.
    pub(crate) fn matching_among<'c>(
        &'c self,
        record: &Record<'_>,
        candidates: &[usize],
        mut on_match: impl FnMut(usize, &'c Rule),
    ) {
        for &i in candidates {
            if let Some(rule) = self.rules.get(i)
                && rule.pattern().matches_record(record)
            {
                on_match(i, rule);
            }
        }
    }

    /// The rules filed under `record`'s `eventName` and those tried on
    /// every record whose guard admits it, in load order.
    fn each_admitted<'c>(&'c self, record: &Record<'_>, mut f: impl FnMut(usize, &'c Rule)) {
        let indexed = record
            .event_name
            .as_deref()
            .map_or(&[][..], |n| self.indexed(n));
        self.each_candidate(indexed, |i, rule| {
            let guarded = self.guards.get(i).and_then(Option::as_ref);
            if guarded.is_none_or(|g| g.admits(record)) {
                f(i, rule);
            }
        });
    }

    fn indexed(&self, event_name: &str) -> &[usize] {
        self.by_event_name
            .get(event_name)
            .map_or(&[][..], Vec::as_slice)
    }

    /// Calls `f` with the rules filed under a record's `eventName`
    /// (`indexed`) and those tried on every record, in load order.
    fn each_candidate<'c>(&'c self, indexed: &[usize], mut f: impl FnMut(usize, &'c Rule)) {
        // Both lists are ascending and disjoint: merging them keeps load
        // order without allocating on this per-record path.
        let (mut always, mut indexed) = (self.always.iter().peekable(), indexed.iter().peekable());
        loop {
            let next = match (always.peek(), indexed.peek()) {
                (Some(a), Some(b)) if a < b => always.next(),
                (Some(_), Some(_)) | (None, Some(_)) => indexed.next(),
                (Some(_), None) => always.next(),
                (None, None) => break,
            };
            if let Some(&i) = next
                && let Some(rule) = self.rules.get(i)
            {
                f(i, rule);
            }
        }
    }

    /// The rules that match `doc`, in load order.
    pub fn matches(&self, doc: &dyn Document) -> Vec<&Rule> {
        let mut out = Vec::new();
        self.for_each_match(doc, |r| out.push(r));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(origin: &str, text: &str) -> RuleText {
        RuleText {
            origin: origin.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn builtin_has_the_fifteen_cis_rules_with_metrics() {
        let cat = Catalogue::builtin().unwrap();
        let with_metric = cat.rules().iter().filter(|r| r.spec().metric.is_some());
        assert_eq!(with_metric.count(), 15);
        let detections = cat
            .rules()
            .iter()
            .filter(|r| r.origin() == "built-in:detections.yaml");
        assert!(detections.clone().count() >= 30);
        assert!(detections.clone().all(|r| r.spec().metric.is_none()));
        let refs: Vec<&str> = cat
            .rules()
            .iter()
            .flat_map(|r| r.spec().references.iter().map(String::as_str))
            .collect();
        for n in 1..=14 {
            assert!(refs.contains(&format!("securityhub:CloudWatch.{n}").as_str()));
        }
        assert!(refs.contains(&"cis-aws-foundations:4.15"));
    }

    #[test]
    fn index_finds_the_same_rules_as_trying_every_rule() {
        let cat = Catalogue::builtin().unwrap();
        let events = [
            json!({"eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com"}),
            json!({"eventName": "ConsoleLogin", "errorMessage": "Failed authentication"}),
            json!({"eventName": "GetObject", "errorCode": "AccessDenied"}),
            json!({"eventName": "ListBuckets", "userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}),
            json!({"eventName": "DisableKey", "eventSource": "kms.amazonaws.com"}),
        ];
        for event in &events {
            let indexed: Vec<&str> = cat.matches(event).iter().map(|r| r.id()).collect();
            let brute: Vec<&str> = cat
                .rules()
                .iter()
                .filter(|r| r.pattern().matches(event))
                .map(|r| r.id())
                .collect();
            assert_eq!(indexed, brute, "{event}");
            assert!(!indexed.is_empty(), "{event} should match a CIS rule");
        }
        // CloudWatch's `!=` does not match a missing field, so root activity
        // without `eventType` is not CIS 1.7 (AwsServiceEvent cannot be ruled out).
        let no_type = json!({"userIdentity": {"type": "Root"}});
        assert!(
            cat.matches(&no_type)
                .iter()
                .all(|r| r.id() != "cis-root-account-usage")
        );
    }

    #[test]
    fn user_files_override_and_disable_by_id() {
        let user = text(
            "user.yaml",
            r#"
version: 1
rules:
  - id: cis-vpc-changes
    enabled: false
    title: off
    severity: low
    pattern: '{ $.eventName = "x" }'
  - id: cis-root-account-usage
    title: Root, any event
    severity: critical
    pattern: '{ $.userIdentity.type = "Root" }'
"#,
        );
        let all = Catalogue::builtin().unwrap().rules().len();
        let cat = Catalogue::load(true, &[user]).unwrap();
        assert_eq!(cat.rules().len(), all - 1);
        assert!(cat.get("cis-vpc-changes").is_none());
        let root = cat.get("cis-root-account-usage").unwrap();
        assert_eq!(root.origin(), "user.yaml");
        assert_eq!(root.spec().title, "Root, any event");
    }

    #[test]
    fn a_bad_rule_fails_the_whole_load_naming_origin_and_rule() {
        let bad = text(
            "s3://b/rules.yaml",
            "version: 1\nrules:\n  - id: broken\n    title: t\n    severity: low\n    pattern: '{ $.a = }'\n",
        );
        let err = Catalogue::load(true, &[bad]).unwrap_err().to_string();
        assert!(
            err.starts_with("rule file s3://b/rules.yaml: rule \"broken\": pattern:"),
            "{err}"
        );

        let typo = text("t.yaml", "version: 1\nrules:\n  - id: a\n    titel: t\n");
        let err = Catalogue::load(false, &[typo]).unwrap_err().to_string();
        assert!(err.contains("t.yaml") && err.contains("titel"), "{err}");

        let deep = format!("version: 1\nrules: {}", "[".repeat(100_000));
        let err = Catalogue::load(false, &[text("s3://b/deep.yaml", &deep)])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("rule file s3://b/deep.yaml: line 2: brackets"),
            "{err}"
        );

        let version = text("v.yaml", "version: 2\nrules: []\n");
        assert!(
            Catalogue::load(false, &[version])
                .unwrap_err()
                .to_string()
                .contains("version 2")
        );
    }
}
