//! Matches gathered on a scan's reading thread and turned into hits on
//! another.
//!
//! Building a hit allocates (its group, its `eventID`, a copy of the
//! record's text) and holding it until the scan ends touches fresh memory:
//! on the thread that reads a file, that is time the file waits for. An
//! [`InputBatch`] instead copies each matched record's text once into a
//! buffer that is reused from batch to batch, with the correlations it
//! feeds; the thread owning the collector reads the records again from
//! that text and builds the hits ([`InputBatch::inputs`]), the same ones
//! [`Correlations::inputs`] builds on the spot.

use std::ops::Range;
use std::sync::Arc;

use super::Correlations;
use super::input::{CorrelationInput, DeferredMatcher, RuleMatches, SharedEvidence};
use crate::findings::finding::LogFile;
use crate::record::Record;

/// Matched records' text and the correlations each feeds (see the module
/// doc).
#[derive(Debug, Default)]
pub struct InputBatch {
    text: String,
    records: Vec<Batched>,
    /// Every record's (correlation, position) pairs, one run per record.
    feeds: Vec<(usize, usize)>,
    /// Every record's rules left for later, one run per record.
    deferred: Vec<usize>,
}

#[derive(Debug)]
struct Batched {
    text: Range<usize>,
    feeds: Range<usize>,
    deferred: Range<usize>,
    log_file: Option<Arc<LogFile>>,
}

impl InputBatch {
    /// Adds `matches`' record, unless none of its rules feeds one of
    /// `correlations` and it has no rule left for later.
    pub fn push(&mut self, correlations: &Correlations, matches: &RuleMatches<'_, '_>) {
        let first = self.feeds.len();
        for rule_id in matches.rules {
            self.feeds.extend_from_slice(correlations.fed_by(rule_id));
        }
        if self.feeds.len() == first && matches.deferred.is_empty() {
            return;
        }
        let first_deferred = self.deferred.len();
        self.deferred.extend_from_slice(matches.deferred);
        let start = self.text.len();
        self.text.push_str(matches.record.raw());
        self.records.push(Batched {
            text: start..self.text.len(),
            feeds: first..self.feeds.len(),
            deferred: first_deferred..self.deferred.len(),
            log_file: matches.log_file.cloned(),
        });
    }

    /// Bytes of record text held.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Hands `each` the inputs of every record held, in order: what
    /// [`Correlations::inputs`] gave for them when they were read, and for
    /// the rules left for later that `matcher` finds they match.
    /// `correlations` must be those the batch was filled for.
    pub fn inputs(
        &self,
        correlations: &Correlations,
        matcher: &dyn DeferredMatcher,
        each: &mut impl FnMut(CorrelationInput),
    ) {
        for batched in &self.records {
            let feeds = self.feeds.get(batched.feeds.clone()).unwrap_or_default();
            let deferred = self
                .deferred
                .get(batched.deferred.clone())
                .unwrap_or_default();
            let text = self.text.get(batched.text.clone()).unwrap_or_default();
            // The text parsed as this record when it was read.
            let Ok(record) = Record::from_json(text) else {
                feeds.iter().for_each(|_| each(CorrelationInput::Unusable));
                continue;
            };
            let mut evidence = SharedEvidence::new(text, batched.log_file.as_ref());
            correlations.feed(feeds, &record, &mut evidence, each);
            correlations.feed_deferred(matcher, &record, deferred, &mut evidence, each);
        }
    }

    /// Empties the batch, keeping its buffers for the next one.
    pub fn clear(&mut self) {
        self.text.clear();
        self.records.clear();
        self.feeds.clear();
        self.deferred.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::SigmaRules;
    use crate::sigma::correlation::GroupHit;
    use crate::sigma::correlation::TEST_RULES as RULES;

    const SECRET: &str = r#"{"eventTime":"2024-03-01T10:00:00Z","eventID":"e1","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7","userIdentity":{"arn":"arn:aws:iam::1:user/u"},"requestParameters":{"secretId":"db"}}"#;
    const NO_SECRET_ID: &str = r#"{"eventTime":"2024-03-01T10:01:00Z","eventID":"e2","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7"}"#;
    const NO_TIME: &str =
        r#"{"eventID":"e3","eventName":"GetSecretValue","sourceIPAddress":"203.0.113.7"}"#;

    /// A batch filled without deferring asks for no matching.
    struct NothingDeferred;

    impl DeferredMatcher for NothingDeferred {
        fn feeding_matches(&self, _: &Record<'_>, rules: &[usize], _: &mut dyn FnMut(&str)) {
            assert!(rules.is_empty(), "{rules:?}");
        }
    }

    /// What an input says, comparable.
    fn summary(input: &CorrelationInput) -> Option<(usize, Vec<String>, i64, String, String)> {
        match input {
            CorrelationInput::Hit(GroupHit {
                correlation,
                group,
                hit,
            }) => Some((
                *correlation,
                group.clone(),
                hit.time,
                hit.event_id.clone(),
                hit.payload.raw.to_string(),
            )),
            CorrelationInput::Unusable => None,
        }
    }

    #[test]
    fn a_batch_gives_the_inputs_built_on_the_spot() {
        let (sigma, skipped) = SigmaRules::load(&[("rules.yml", RULES)]);
        assert!(skipped.is_empty(), "{skipped:?}");
        let correlations = sigma.correlations();
        let secret_read = correlations.rules()[0].rules[0].as_str();
        let log_file = Arc::new(LogFile {
            bucket: "b".to_owned(),
            key: "k.json.gz".to_owned(),
        });
        let cases = [
            (SECRET, secret_read),
            (NO_SECRET_ID, secret_read),
            (NO_TIME, secret_read),
            // A rule feeding nothing adds nothing.
            (SECRET, "unrelated"),
        ];
        let (mut direct, mut batch) = (Vec::new(), InputBatch::default());
        for (text, rule) in cases {
            let record = Record::from_json(text).unwrap();
            let matches = RuleMatches {
                record: &record,
                log_file: Some(&log_file),
                rules: &[rule],
                deferred: &[],
            };
            correlations.inputs(&matches, &mut |i| direct.push(summary(&i)));
            batch.push(correlations, &matches);
        }
        let mut batched = Vec::new();
        batch.inputs(correlations, &NothingDeferred, &mut |i| {
            batched.push(summary(&i))
        });
        // Two hits for the secret read; one hit and one unusable match
        // (nothing to count) without a secret id; two unusable without a time.
        assert_eq!(direct.len(), 6, "{direct:?}");
        assert_eq!(direct.iter().filter(|i| i.is_none()).count(), 3);
        assert_eq!(batched, direct);
        assert_eq!(
            batch.text_len(),
            SECRET.len() + NO_SECRET_ID.len() + NO_TIME.len()
        );

        batch.clear();
        assert!(batch.is_empty());
        let mut after = Vec::new();
        batch.inputs(correlations, &NothingDeferred, &mut |i| {
            after.push(summary(&i))
        });
        assert!(after.is_empty());
    }
}
