//! A match of a rule feeding correlations, as hits: what the scan's
//! collector and the notifier's table both take.
//!
//! A hit is built straight from the record while the detector holds it:
//! its time, `eventID`, the referenced rule and the counted value, in its
//! group. The evidence it keeps for a finding is the record's text alone
//! (one allocation, shared by every correlation the record feeds); the
//! facets are worked out again only for the event that completes a window
//! ([`Evidence::facts`]), which is one in many.

use std::sync::Arc;

use super::Correlations;
use super::fields::{Parsed, field_value};
use super::rule::CorrelationRule;
use super::window::Hit;
use crate::findings::finding::{EventFacts, LogFile};
use crate::record::Record;

/// What a hit keeps to describe its event in a finding.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The record's JSON text, as delivered (or trimmed, when a store
    /// could not keep all of it).
    pub raw: Arc<str>,
    /// The log file it came from.
    pub log_file: Option<Arc<LogFile>>,
}

impl Evidence {
    /// The event's facets, worked out from its text.
    pub fn facts(&self) -> EventFacts {
        EventFacts::parse(self.raw.to_string())
    }
}

/// A hit in its correlation and group.
#[derive(Debug, Clone)]
pub struct GroupHit {
    /// The correlation: its index in [`Correlations::rules`].
    pub correlation: usize,
    /// The group's values, in the order of the rule's `group-by` fields.
    pub group: Vec<String>,
    /// The hit, with its evidence.
    pub hit: Hit<Evidence>,
}

/// What one match gives one correlation it feeds.
#[derive(Debug, Clone)]
pub enum CorrelationInput {
    /// A hit to count.
    Hit(GroupHit),
    /// A match that cannot count: no usable `eventTime` or `eventID`, or a
    /// group-by or counted field missing.
    Unusable,
}

/// A record and the rules feeding correlations that it matched: what a
/// scan hands its caller, once per record.
#[derive(Debug, Clone, Copy)]
pub struct RuleMatches<'a, 'r> {
    /// The record.
    pub record: &'a Record<'r>,
    /// The log file it was read from, when known.
    pub log_file: Option<&'a Arc<LogFile>>,
    /// The ids of the matched rules that feed correlations.
    pub rules: &'a [&'a str],
    /// Rules (by index among the loaded Sigma rules) that only feed
    /// correlations and may match the record, left unmatched by a reader
    /// deferring them (`Detector::deferring_correlation_only`): an
    /// [`InputBatch`](super::InputBatch) or [`Correlations::inputs_matching`]
    /// matches them; [`Correlations::inputs`] reads `rules` alone.
    pub deferred: &'a [usize],
}

/// A record's evidence, made on first use and shared by all of its hits.
pub(super) struct SharedEvidence<'a> {
    text: &'a str,
    log_file: Option<&'a Arc<LogFile>>,
    made: Option<Evidence>,
}

impl<'a> SharedEvidence<'a> {
    /// For the record whose JSON text is `text`, read from `log_file`.
    pub(super) fn new(text: &'a str, log_file: Option<&'a Arc<LogFile>>) -> Self {
        SharedEvidence {
            text,
            log_file,
            made: None,
        }
    }

    /// For a record whose evidence is kept already.
    fn made(evidence: Evidence) -> SharedEvidence<'static> {
        SharedEvidence {
            text: "",
            log_file: None,
            made: Some(evidence),
        }
    }

    fn get(&mut self) -> Evidence {
        self.made
            .get_or_insert_with(|| Evidence {
                raw: Arc::from(self.text),
                log_file: self.log_file.cloned(),
            })
            .clone()
    }
}

/// Matches the rules a reader left for later ([`RuleMatches::deferred`]):
/// the detector that left them.
pub trait DeferredMatcher {
    /// Hands `each` the id of every rule among `rules` (by index among the
    /// loaded Sigma rules) that `record` matches, as the reader would have.
    fn feeding_matches(&self, record: &Record<'_>, rules: &[usize], each: &mut dyn FnMut(&str));
}

impl Correlations {
    /// Hands `each` one input per correlation that each of `matches`'
    /// rules feeds (its rules left for later are not matched).
    pub fn inputs(&self, matches: &RuleMatches<'_, '_>, each: &mut impl FnMut(CorrelationInput)) {
        self.inputs_with(matches, None, each);
    }

    /// [`Correlations::inputs`], with the rules `matches` left for later
    /// matched by `matcher`.
    pub fn inputs_matching(
        &self,
        matches: &RuleMatches<'_, '_>,
        matcher: &dyn DeferredMatcher,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        self.inputs_with(matches, Some(matcher), each);
    }

    fn inputs_with(
        &self,
        matches: &RuleMatches<'_, '_>,
        matcher: Option<&dyn DeferredMatcher>,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        let mut evidence = SharedEvidence::new(matches.record.raw(), matches.log_file);
        for rule_id in matches.rules {
            self.feed(self.fed_by(rule_id), matches.record, &mut evidence, each);
        }
        if let Some(matcher) = matcher {
            self.feed_deferred(
                matcher,
                matches.record,
                matches.deferred,
                &mut evidence,
                each,
            );
        }
    }

    /// Hands `each` the inputs of the rules among `deferred` that `matcher`
    /// finds `record` matches.
    pub(super) fn feed_deferred(
        &self,
        matcher: &dyn DeferredMatcher,
        record: &Record<'_>,
        deferred: &[usize],
        evidence: &mut SharedEvidence<'_>,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        if deferred.is_empty() {
            return;
        }
        matcher.feeding_matches(record, deferred, &mut |rule_id| {
            self.feed(self.fed_by(rule_id), record, evidence, each);
        });
    }

    /// Hands `each` the input of `record` for each (correlation, position)
    /// of `feeds`.
    pub(super) fn feed(
        &self,
        feeds: &[(usize, usize)],
        record: &Record<'_>,
        evidence: &mut SharedEvidence<'_>,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        for &(correlation, position) in feeds {
            let Some(rule) = self.rules().get(correlation) else {
                continue;
            };
            let Some((group, hit)) = hit_of(rule, position, record) else {
                each(CorrelationInput::Unusable);
                continue;
            };
            let hit = Hit {
                time: hit.time,
                event_id: hit.event_id,
                rule: hit.rule,
                value: hit.value,
                payload: evidence.get(),
            };
            each(CorrelationInput::Hit(GroupHit {
                correlation,
                group,
                hit,
            }));
        }
    }
}

impl Correlations {
    /// Hands `each` one input per correlation chained on correlation
    /// `rule_id` (referencing it as one of its rules), for a match of it
    /// completed by the event `completing` keeps: that event, at its time,
    /// in the chained correlation's group, keeping the same evidence.
    pub fn chained(
        &self,
        rule_id: &str,
        completing: &Evidence,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        let feeds = self.fed_by(rule_id);
        if feeds.is_empty() {
            return;
        }
        match Record::from_json(&completing.raw) {
            Ok(record) => {
                let mut evidence = SharedEvidence::made(completing.clone());
                self.feed(feeds, &record, &mut evidence, each);
            }
            Err(_) => feeds.iter().for_each(|_| each(CorrelationInput::Unusable)),
        }
    }
}

/// The group and hit for a match of reference `position` of `rule` on
/// `record`, or `None` when the record has no usable time or id, lacks a
/// group-by field, or (`value_count`) lacks the counted field.
pub fn hit_of(
    rule: &CorrelationRule,
    position: usize,
    record: &Record<'_>,
) -> Option<(Vec<String>, Hit)> {
    let time = record.event_time_epoch()?;
    let event_id = record.event_id.as_deref()?.to_owned();
    let mut parsed = Parsed::default();
    let group = rule
        .group_by
        .iter()
        .map(|field| field_value(record, field.path(position), &mut parsed))
        .collect::<Option<Vec<String>>>()?;
    let value = match &rule.value_field {
        Some(field) => Some(field_value(record, field.path(position), &mut parsed)?),
        None => None,
    };
    let hit = Hit {
        time,
        event_id,
        rule: position,
        value,
        payload: (),
    };
    Some((group, hit))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::sigma::SigmaRules;

    /// A base rule feeding two correlations, and nothing else (`generate:
    /// false`).
    pub(crate) const RULES: &str = r#"
title: Secret read
id: 5f0b3c1e-0000-4000-8000-000000000001
name: secret_read
logsource: {product: aws, service: cloudtrail}
detection:
    selection: {eventName: GetSecretValue}
    condition: selection
---
title: Secrets by one principal
id: 5f0b3c1e-0000-4000-8000-000000000002
correlation:
    type: value_count
    rules: [secret_read]
    group-by: [userIdentity.arn]
    timespan: 10m
    condition: {gte: 3, field: requestParameters.secretId}
    generate: false
---
title: Secret reads from one address
id: 5f0b3c1e-0000-4000-8000-000000000003
correlation:
    type: event_count
    rules: [secret_read]
    group-by: [sourceIPAddress]
    timespan: 10m
    condition: {gte: 5}
    generate: false
"#;

    fn inputs(text: &str) -> Vec<CorrelationInput> {
        let (sigma, skipped) = SigmaRules::load(&[("secrets.yml", RULES)]);
        assert!(skipped.is_empty(), "{skipped:?}");
        let record = Record::from_json(text).unwrap();
        let log_file = Arc::new(LogFile {
            bucket: "b".to_owned(),
            key: "k.json.gz".to_owned(),
        });
        let mut out = Vec::new();
        let rule = sigma.correlations().rules()[0].rules[0].clone();
        let matches = RuleMatches {
            record: &record,
            log_file: Some(&log_file),
            rules: &[&rule],
            deferred: &[],
        };
        sigma.correlations().inputs(&matches, &mut |i| out.push(i));
        out
    }

    fn hit(input: &CorrelationInput) -> &GroupHit {
        match input {
            CorrelationInput::Hit(hit) => hit,
            CorrelationInput::Unusable => panic!("unusable"),
        }
    }

    #[test]
    fn a_match_is_a_hit_per_correlation_sharing_the_record_text() {
        let text = r#"{"eventTime":"2024-03-01T10:00:00Z","eventID":"e1","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7","userIdentity":{"arn":"arn:aws:iam::1:user/u"},"requestParameters":{"secretId":"db"}}"#;
        let found = inputs(text);
        assert_eq!(found.len(), 2);
        let (by_user, by_ip) = (hit(&found[0]), hit(&found[1]));
        assert_eq!(by_user.group, ["arn:aws:iam::1:user/u"]);
        assert_eq!(by_user.hit.value.as_deref(), Some("db"));
        assert_eq!(by_ip.group, ["203.0.113.7"]);
        assert_eq!(by_ip.hit.value, None);
        assert_eq!(
            (by_ip.hit.time, by_ip.hit.event_id.as_str()),
            (1_709_287_200, "e1")
        );
        assert!(Arc::ptr_eq(
            &by_user.hit.payload.raw,
            &by_ip.hit.payload.raw
        ));
        assert_eq!(&*by_ip.hit.payload.raw, text);
        let facts = by_ip.hit.payload.facts();
        assert_eq!(facts.event_id.as_deref(), Some("e1"));
        assert_eq!(facts.raw_event(), text);
    }

    #[test]
    fn a_match_missing_what_a_correlation_counts_is_unusable_there_only() {
        // No secretId: the value_count cannot count it; the event_count can.
        let text = r#"{"eventTime":"2024-03-01T10:00:00Z","eventID":"e1","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7","userIdentity":{"arn":"arn:aws:iam::1:user/u"}}"#;
        let found = inputs(text);
        assert!(matches!(found[0], CorrelationInput::Unusable));
        assert_eq!(hit(&found[1]).group, ["203.0.113.7"]);
        // No eventTime: neither can.
        let text =
            r#"{"eventID":"e1","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7"}"#;
        let found = inputs(text);
        assert!(
            found
                .iter()
                .all(|i| matches!(i, CorrelationInput::Unusable))
        );
        assert_eq!(found.len(), 2);
    }
}
