//! Sigma detection rules over CloudTrail records, evaluated with rsigma.
//!
//! [`SigmaRules`] holds the compiled rules: the SigmaHQ AWS CloudTrail rules
//! embedded in the binary ([`SigmaRules::builtin`], files listed in
//! [`BUILTIN_FILES`]) and any the caller loads ([`SigmaRules::load`]). Every
//! document either loads or comes back as a [`SkippedRule`] with a
//! [`SkipReason`]; [`SigmaRules::summary`] says it in one line for the
//! cold-start log. Each loaded [`SigmaRule`] carries what a finding reports:
//! id, title, description, [`Severity`], `scheme:id` references, origin,
//! author and false positives.
//!
//! # Evaluation
//!
//! Parsing and matching are rsigma's (`rsigma-parser` / `rsigma-eval`):
//! `parse_sigma_yaml` gives the rule AST, `compile_rule` a `CompiledRule`,
//! and `eval_condition` evaluates its conditions against an `Event` (the
//! verdict `evaluate_rule` gives, without building its detailed result).
//! Records are read in place, from the typed record
//! ([`SigmaRules::matching_record`]) or from a `serde_json::Value`
//! ([`SigmaRules::matching`]), through a view that differs from rsigma's
//! `JsonEvent` in one way, described next.
//!
//! # Whole objects as text
//!
//! Three SigmaHQ rules apply a string modifier to a whole object:
//! `aws_disable_bucket_versioning.yml` (`requestParameters|contains:
//! 'Suspended'`), `aws_ec2_vm_export_failure.yml` (`responseElements|contains:
//! 'Failure'`, in a filter) and
//! `aws_iam_s3browser_templated_s3_bucket_policy_creation.yml`
//! (`requestParameters|contains|all` on quoted policy strings). rsigma matches
//! strings only, so as written they could never match. The record view gives
//! any field a rule names that holds an object as the object's compact JSON
//! text, with JSON documents held in strings (IAM policy documents) expanded
//! in place, which is what these rules are written against. The view lives in
//! the private `event` module; it changes nothing for fields holding strings,
//! numbers or arrays of them.
//!
//! # Rules that do not do what they say
//!
//! The copies in `engine/rules/sigma/` are byte-identical to SigmaHQ's, and
//! are loaded as written. Three of them cannot behave as their text suggests;
//! the integration tests pin the behaviour described here:
//!
//! - `aws_update_login_profile.yml`: the filter `userIdentity.arn|fieldref:
//!   requestParameters.userName` compares an ARN with a bare user name, which
//!   are never equal, so the filter never applies and every
//!   `UpdateLoginProfile` matches. (Users changing their own password call
//!   `ChangePassword`, so the filter would rarely have applied anyway.)
//! - `aws_iam_backdoor_users_keys.yml`: the filter `userIdentity.arn|contains:
//!   responseElements.accessKey.userName` looks for that literal text (there
//!   is no `fieldref`), so it never applies and every `CreateAccessKey`
//!   matches, including users creating their own keys.
//! - `aws_delete_saml_provider.yml`: its selection requires `status:
//!   success`, a field CloudTrail records do not have, so the rule never
//!   matches.
//!
//! The first two err towards more findings; the third is a gap to cover with a
//! trailguard rule rather than by quietly editing a third-party rule.
//!
//! # Tuning
//!
//! How the bundled rules run by default is set apart from their text, in
//! `rules/sigma-tuning.yaml` ([`TUNING_FILE`], the private `tuning`
//! module): per rule id, with a reason, a level override, off by default
//! (reported as [`SkipReason::Off`]) and the precision settings of
//! [`crate::rules::precision`]. It applies to a rule loaded from its bundled
//! text only (the name and text of a [`BUILTIN_FILES`] entry), so a user's
//! own copy of a rule runs as written.
//!
//! # Indexing
//!
//! Most records can match no rule. [`SigmaRules::could_match`] says so from
//! whatever [`Document`] a caller has (a cheap check of the fields the rules
//! require); [`SigmaRules::matching_record`] makes the same check on the
//! typed record and evaluates only the rules that pass it,
//! [`SigmaRules::matching_in_pass`] does the same while remembering, over one
//! file, which rules records with the same deciding field values could
//! match ([`PassMemo`]), and [`SigmaRules::matching`] evaluates the rules a
//! record's `eventName` / `eventSource` can select. How the index is
//! derived from each rule's condition is described in the private `index`
//! module; it never leaves out a rule that would match. The notifier keeps
//! one such memory for both engines, keyed on the fields either one's
//! choice of rules depends on.

mod builtin;
pub mod correlation;
mod event;
mod index;
mod load;
mod rule;
mod tuning;

use std::collections::HashMap;

use rsigma_eval::event::{Event, EventValue};
use serde_json::Value;

use crate::document::Document;
use crate::record::{KeyField, KeyMemo, Record};

pub use builtin::BUILTIN_FILES;
pub use correlation::{CORRELATION_FILES, Correlations};
pub use index::KEY_FIELDS;
pub use load::{SkipReason, SkippedRule};
pub use rule::{Severity, SigmaRule, reference_for_tag, severity_of_level};
pub use tuning::{TUNING_FILE, Tuning, builtin_tuning};

use event::{RecordEvent, RecordView};
use index::{Index, Key};

/// Whether `text` is a Sigma file: a document with a top-level
/// `detection:` (a rule) or `correlation:` (a correlation rule) key. Tells
/// Sigma files from trailguard rule files wherever both are accepted.
pub fn is_sigma_text(text: &str) -> bool {
    text.lines().any(|line| {
        ["detection", "correlation"].iter().any(|key| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
    })
}

/// What [`SigmaRules::matching_in_pass`] remembers during one pass over a
/// file (bounded: a few thousand combinations of field values). Start a
/// new one ([`SigmaRules::pass_memo`]) for each file.
#[derive(Debug)]
pub struct PassMemo(KeyMemo<Box<[usize]>>);

/// Compiled, indexed Sigma rules.
#[derive(Debug, Clone, Default)]
pub struct SigmaRules {
    rules: Vec<SigmaRule>,
    index: Index,
    correlations: Correlations,
}

impl SigmaRules {
    /// The built-in SigmaHQ rules ([`BUILTIN_FILES`]).
    pub fn builtin() -> (SigmaRules, Vec<SkippedRule>) {
        SigmaRules::load(BUILTIN_FILES)
    }

    /// The built-in SigmaHQ rules and the built-in correlations with their
    /// inputs ([`CORRELATION_FILES`]). Separate from
    /// [`SigmaRules::builtin`]: a caller running these must keep the inputs'
    /// own matches out of its findings ([`Correlations::silences`]).
    pub fn builtin_with_correlations() -> (SigmaRules, Vec<SkippedRule>) {
        let files: Vec<(&str, &str)> = BUILTIN_FILES
            .iter()
            .chain(CORRELATION_FILES)
            .copied()
            .collect();
        SigmaRules::load(&files)
    }

    /// Loads `(origin, YAML text)` files in order. Every document either
    /// loads or is returned as skipped with its reason. A rule whose id was
    /// already loaded replaces the earlier one, which is reported as
    /// [`SkipReason::Replaced`]; so a user file can override a built-in rule.
    pub fn load<O: AsRef<str>, Y: AsRef<str>>(files: &[(O, Y)]) -> (SigmaRules, Vec<SkippedRule>) {
        let mut rules: Vec<SigmaRule> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        let mut skipped = Vec::new();
        let mut pending = Vec::new();
        let tuning = builtin_tuning().unwrap_or_else(|reason| {
            skipped.push(SkippedRule {
                origin: TUNING_FILE.0.to_owned(),
                title: None,
                id: None,
                reason: SkipReason::Parse(reason),
            });
            HashMap::new()
        });
        for (origin, yaml) in files {
            let bundled = is_bundled(origin.as_ref(), yaml.as_ref());
            for loaded in load::load_file(origin.as_ref(), yaml.as_ref(), &mut pending) {
                let loaded = match loaded {
                    Ok(rule) if bundled => tune(rule, &tuning),
                    other => other,
                };
                match loaded {
                    Ok(rule) => match by_id.get(rule.id()).and_then(|&i| rules.get_mut(i)) {
                        Some(earlier) => {
                            let earlier = std::mem::replace(earlier, rule);
                            skipped.push(SkippedRule {
                                reason: SkipReason::Replaced(origin.as_ref().to_owned()),
                                origin: earlier.origin,
                                title: Some(earlier.title),
                                id: Some(earlier.id),
                            });
                        }
                        None => {
                            by_id.insert(rule.id().to_owned(), rules.len());
                            rules.push(rule);
                        }
                    },
                    Err(skip) => skipped.push(skip),
                }
            }
        }
        let index = Index::build(rules.iter().map(|r| &r.compiled));
        let (correlations, unresolved) = Correlations::resolve(pending, &rules);
        skipped.extend(unresolved);
        let rules = SigmaRules {
            rules,
            index,
            correlations,
        };
        (rules, skipped)
    }

    /// The loaded rules, in load order.
    pub fn rules(&self) -> &[SigmaRule] {
        &self.rules
    }

    /// The loaded correlation rules.
    pub fn correlations(&self) -> &Correlations {
        &self.correlations
    }

    /// How many rules are loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// One line for the cold-start log, e.g. `sigma: 56 of 58 rules loaded,
    /// 7 correlations; skipped: a.yml (reason), b.yml (reason)`.
    pub fn summary(&self, skipped: &[SkippedRule]) -> String {
        let loaded = self.rules.len() + self.correlations.len();
        let total = loaded + skipped.len();
        let mut line = format!("sigma: {loaded} of {total} rules loaded");
        if !self.correlations.is_empty() {
            line.push_str(&format!(", {} correlations", self.correlations.len()));
        }
        for (i, skip) in skipped.iter().enumerate() {
            line.push_str(if i == 0 { "; skipped: " } else { ", " });
            line.push_str(skip.file_name());
            line.push_str(" (");
            line.push_str(&skip.reason.to_string());
            line.push(')');
        }
        line
    }

    /// Whether any rule could match `record`, read through the caller's
    /// [`Document`] (typically the typed record). `false` means no rule
    /// matches it, so [`SigmaRules::matching_record`] need not run. The
    /// index reads only [`KEY_FIELDS`], which CloudTrail never places under
    /// an array.
    pub fn could_match<D: Document + ?Sized>(&self, record: &D) -> bool {
        self.index.could_match(record)
    }

    /// The rules `record` (one CloudTrail record) matches, in load order.
    pub fn matching<'s>(&'s self, record: &Value) -> impl Iterator<Item = &'s SigmaRule> {
        self.matching_event(RecordEvent::new(record))
    }

    /// The rules a typed record matches, in load order: the same answer as
    /// [`SigmaRules::matching`] on its `Value`, read in place instead.
    ///
    /// Only rules whose needs the record meets are evaluated (the check
    /// [`SigmaRules::could_match`] makes), so most records cost a few field
    /// look-ups and no allocation.
    pub fn matching_record<'s>(
        &'s self,
        record: &Record<'_>,
    ) -> impl Iterator<Item = &'s SigmaRule> {
        let viable = self.index.viable_sorted(record);
        self.matching_among(record, &viable)
            .map(|(_, rule)| rule)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// A memo for one pass over a file with these rules.
    pub fn pass_memo(&self) -> PassMemo {
        PassMemo(KeyMemo::new(self.key_fields().to_vec()))
    }

    /// [`SigmaRules::matching_record`] for one record of a pass over a file:
    /// `pass` remembers which rules records with the same values in the
    /// fields the rules are indexed and pre-checked by could match, so a
    /// repeat costs one look-up. Same answer, in load order.
    pub fn matching_in_pass<'s>(
        &'s self,
        record: &Record<'_>,
        pass: &mut PassMemo,
    ) -> impl Iterator<Item = &'s SigmaRule> + use<'s> {
        let viable = pass.0.recall(record, || self.viable(record));
        self.matching_among(record, &viable)
            .map(|(_, rule)| rule)
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The fields whose values alone decide which rules are viable for a
    /// typed record ([`SigmaRules::viable`] reads nothing else).
    pub(crate) fn key_fields(&self) -> &[KeyField] {
        self.index.decisive()
    }

    /// The rules worth evaluating on `record`, by index, ascending: every
    /// rule it can match.
    pub(crate) fn viable(&self, record: &Record<'_>) -> Box<[usize]> {
        self.index.viable_sorted(record)
    }

    /// The rules of `viable` (ascending indexes, from
    /// [`SigmaRules::viable`]) that `record` matches, with their indexes.
    pub(crate) fn matching_among<'s, 'v, 'r, 'a>(
        &'s self,
        record: &'r Record<'a>,
        viable: &'v [usize],
    ) -> impl Iterator<Item = (usize, &'s SigmaRule)> + use<'s, 'v, 'r, 'a> {
        let view = (!viable.is_empty()).then(|| RecordView::new(record));
        viable
            .iter()
            .filter_map(move |&i| Some((i, self.rules.get(i)?)))
            .filter(move |(_, rule)| view.as_ref().is_some_and(|v| rule.matches_event(v)))
    }

    fn matching_event<E: Event>(&self, event: E) -> impl Iterator<Item = &SigmaRule> {
        let mut candidates: Vec<usize> = {
            let name = event.get_field("eventName");
            let source = event.get_field("eventSource");
            self.index
                .candidates(key_of(name.as_ref()), key_of(source.as_ref()))
                .collect()
        };
        candidates.sort_unstable();
        candidates
            .into_iter()
            .filter_map(move |i| self.rules.get(i))
            .filter(move |rule| rule.matches_event(&event))
    }
}

/// Whether `(origin, yaml)` is a bundled rule file as embedded, the only
/// text the tuning applies to.
fn is_bundled(origin: &str, yaml: &str) -> bool {
    BUILTIN_FILES
        .iter()
        .any(|(name, text)| *name == origin && *text == yaml)
}

/// A bundled rule with its tuning applied, or skipped when the tuning
/// turns it off.
fn tune(mut rule: SigmaRule, tuning: &HashMap<String, Tuning>) -> Result<SigmaRule, SkippedRule> {
    match tuning.get(rule.id()) {
        None => Ok(rule),
        Some(entry) if !entry.enabled => Err(SkippedRule {
            reason: SkipReason::Off(entry.reason.trim().to_owned()),
            origin: rule.origin,
            title: Some(rule.title),
            id: Some(rule.id),
        }),
        Some(entry) => {
            entry.apply(&mut rule);
            Ok(rule)
        }
    }
}

/// How the index sees a value rsigma read.
fn key_of<'a>(value: Option<&'a EventValue<'_>>) -> Key<'a> {
    match value {
        None => Key::Absent,
        Some(EventValue::Str(s)) => Key::Str(s),
        Some(_) => Key::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const STOP_LOGGING: &str = "title: Stop\nid: stop-1\nlogsource: {product: aws}\ndetection:\n  sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}\n  condition: sel\nlevel: high\ntags: [attack.t1562.008, attack.defense-impairment]\n";

    #[test]
    fn later_rules_replace_earlier_ones_with_the_same_id() {
        let tuned = STOP_LOGGING.replace("level: high", "level: low");
        let (rules, skipped) = SigmaRules::load(&[
            ("builtin/stop.yml", STOP_LOGGING),
            ("s3://b/stop.yml", &tuned),
        ]);
        assert_eq!(rules.len(), 1);
        assert_eq!(
            rules.rules().first().map(SigmaRule::severity),
            Some(Severity::Low)
        );
        assert_eq!(
            skipped,
            vec![SkippedRule {
                origin: "builtin/stop.yml".to_owned(),
                title: Some("Stop".to_owned()),
                id: Some("stop-1".to_owned()),
                reason: SkipReason::Replaced("s3://b/stop.yml".to_owned()),
            }]
        );
        assert_eq!(
            rules.summary(&skipped),
            "sigma: 1 of 2 rules loaded; skipped: stop.yml (replaced by the rule with the same id from s3://b/stop.yml)"
        );
    }

    #[test]
    fn metadata_comes_from_the_rule() {
        let (rules, skipped) = SigmaRules::load(&[("dir/stop.yml", STOP_LOGGING)]);
        assert!(skipped.is_empty());
        assert_eq!(rules.summary(&skipped), "sigma: 1 of 1 rules loaded");
        let rule = rules.rules().first().expect("one rule");
        assert_eq!(rule.id(), "stop-1");
        assert_eq!(rule.title(), "Stop");
        assert_eq!(rule.severity(), Severity::High);
        assert_eq!(
            rule.references(),
            ["attack:T1562.008", "attack-tactic:defense-impairment"]
        );
        assert_eq!(rule.file_name(), "stop.yml");
        assert_eq!(rule.origin(), "dir/stop.yml");
        assert_eq!(rule.author(), None);
    }

    #[test]
    fn matching_evaluates_selected_rules() {
        let (rules, _) = SigmaRules::load(&[("stop.yml", STOP_LOGGING)]);
        let stop = json!({"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"});
        let ids: Vec<&str> = rules.matching(&stop).map(SigmaRule::id).collect();
        assert_eq!(ids, ["stop-1"]);
        assert!(rules.could_match(&stop));
        let other = json!({"eventSource": "s3.amazonaws.com", "eventName": "StopLogging"});
        assert_eq!(rules.matching(&other).count(), 0);
        assert!(!rules.could_match(&other));
    }

    #[test]
    fn builtin_rules_are_indexed_by_event_except_three() {
        // The fourth, aws_sts_assumerole_misuse.yml, is off by default.
        let (rules, _) = SigmaRules::builtin();
        assert_eq!(rules.index.shape(), (52, 1, 3));
        let residual: Vec<&str> = rules
            .index
            .residual()
            .iter()
            .filter_map(|&i| rules.rules.get(i))
            .map(SigmaRule::file_name)
            .collect();
        assert_eq!(
            residual,
            [
                "aws_cloudtrail_imds_malicious_usage.yml",
                "aws_cloudtrail_pua_trufflehog.yml",
                "aws_root_account_usage.yml",
            ]
        );
    }

    #[test]
    fn rules_can_be_shared_across_threads() {
        fn shared<T: Send + Sync>(_: &T) {}
        shared(&SigmaRules::default());
    }
}
