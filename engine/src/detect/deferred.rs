//! Rules that only feed correlations, matched where their inputs are built.
//!
//! Most of what correlations cost a reader is matching the rules that only
//! feed them (a third of a trail can be enumeration or denied calls). A
//! caller that builds the inputs on another thread (the CLI's scan) can
//! leave that matching to it: the reader then hands over each record such a
//! rule may match ([`RuleMatches::deferred`], from the rule index, which the
//! reader consults anyway), and [`InputBatch::inputs`] matches them there
//! through the detector ([`DeferredMatcher`]), with the same precision
//! rules a match on the reader would meet. A rule that a suppression names
//! is never left for later: its suppressed matches are counted per file.
//!
//! [`RuleMatches::deferred`]: crate::sigma::correlation::RuleMatches::deferred
//! [`InputBatch::inputs`]: crate::sigma::correlation::InputBatch::inputs

use super::{Detector, Feeds};
use crate::record::Record;
use crate::sigma::correlation::DeferredMatcher;

impl Detector {
    /// Leaves the rules that only feed correlations (and that no
    /// suppression names) unmatched while reading (see the module doc).
    /// Worth it for a caller building the inputs on another thread through
    /// [`crate::sigma::correlation::InputBatch`]; `scan_each_partial`
    /// matches them on the spot.
    pub fn deferring_correlation_only(mut self) -> Detector {
        let first_sigma = self.catalogue.rules().len();
        if let Some(sigma) = &self.sigma {
            for (i, rule) in sigma.rules().iter().enumerate() {
                if let Some(feeds) = self.feeds.get_mut(first_sigma + i)
                    && *feeds == Feeds::Only
                    && !self.suppressions.may_suppress(rule.id())
                {
                    *feeds = Feeds::Later;
                }
            }
        }
        self
    }
}

impl DeferredMatcher for Detector {
    fn feeding_matches(&self, record: &Record<'_>, rules: &[usize], each: &mut dyn FnMut(&str)) {
        let Some(sigma) = &self.sigma else {
            return;
        };
        let first_sigma = self.catalogue.rules().len();
        for (i, _) in sigma.matching_among(record, rules) {
            // As on the reader: the precision rules may leave a match out.
            if let Some((info, _)) = self.judged(first_sigma + i, record) {
                each(&info.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::{Detector, Feeds};
    use crate::envelope::ObjectRef;
    use crate::reader::ReadLimits;
    use crate::rules::{Catalogue, Severity};
    use crate::sigma::SigmaRules;
    use crate::sigma::correlation::InputBatch;
    use crate::sigma::correlation::TEST_RULES as RULES;

    fn detector(deferring: bool) -> Detector {
        let (sigma, skipped) = SigmaRules::load(&[("secrets.yml", RULES)]);
        assert!(skipped.is_empty(), "{skipped:?}");
        let detector = Detector::new(Catalogue::default(), Some(sigma), Severity::Low, usize::MAX)
            .unwrap()
            .with_correlation_inputs();
        if deferring {
            detector.deferring_correlation_only()
        } else {
            detector
        }
    }

    /// The inputs of a file's scan, built through a batch, as comparable text.
    fn inputs(detector: &Detector, text: &str) -> Vec<String> {
        let sigma = detector.sigma.as_ref().unwrap();
        let mut batch = InputBatch::default();
        let object = ObjectRef::new("b", "k.json");
        let limits = ReadLimits::default();
        let _ = detector.scan_streaming(
            text.as_bytes(),
            &object,
            None,
            &limits,
            |_| {},
            |m| batch.push(sigma.correlations(), m),
        );
        let mut out = Vec::new();
        batch.inputs(sigma.correlations(), detector, &mut |i| {
            out.push(format!("{i:?}"))
        });
        out
    }

    #[test]
    fn deferred_matching_gives_the_inputs_the_reader_gives() {
        let records = r#"{"Records": [
            {"eventTime":"2024-03-01T10:00:00Z","eventID":"e1","eventName":"GetSecretValue","eventSource":"secretsmanager.amazonaws.com","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"},"requestParameters":{"secretId":"db"}},
            {"eventTime":"2024-03-01T10:01:00Z","eventID":"e2","eventName":"GetSecretValue","eventSource":"secretsmanager.amazonaws.com","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}},
            {"eventTime":"2024-03-01T10:02:00Z","eventID":"e3","eventName":"ListSecrets","eventSource":"secretsmanager.amazonaws.com","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}
        ]}"#;
        let now = inputs(&detector(false), records);
        let later = inputs(&detector(true), records);
        // The secret read feeds two correlations; without a secret id it
        // counts for one and is unusable for the other; ListSecrets feeds none.
        assert_eq!(now.len(), 4, "{now:?}");
        assert_eq!(later, now);
        let deferring = detector(true);
        assert!(
            deferring.feeds.contains(&Feeds::Later),
            "nothing was deferred"
        );
        // A caller building its inputs where it reads gets them all too.
        let object = ObjectRef::new("b", "k.json");
        let found = |d: &Detector| -> Vec<String> {
            let limits = ReadLimits::default();
            let (found, _) =
                d.scan_each_partial(records.as_bytes(), &object, None, &limits, |_| {});
            let inputs = found.correlation_inputs.iter();
            inputs.map(|i| format!("{i:?}")).collect()
        };
        assert_eq!(found(&deferring), found(&detector(false)));
        assert_eq!(found(&deferring).len(), 4);
    }
}
