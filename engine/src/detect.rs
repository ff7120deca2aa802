//! The detector: every rule engine over one log file, into findings.
//!
//! One typed parse per record is read in place by the trailguard rules and
//! the Sigma rules; matches pass the precision rules, the minimum severity
//! and the suppressions, fold into repeats and are capped per rule at the
//! flood gate. The notifier and `trailguard scan` run the same detector.

use std::sync::Arc;

use crate::envelope::ObjectRef;
use crate::findings::finding::{EventFacts, LogFile};
use crate::findings::flood;
use crate::findings::repeat::{Fold, RepeatFold};
use crate::findings::{Finding, FloodGate, RuleInfo, Subject, Suppressions};
use crate::metrics::Aggregator;
use crate::reader::{ReadError, ReadLimits};
use crate::record::{KeyField, KeyMemo, Record};
use crate::rules::precision::attempt_severity;
use crate::rules::{Catalogue, CatalogueError, Precision, Rule, Severity, Verdict};
use crate::scan::{RecordFilter, scan_records_partial};
use crate::sigma::SigmaRules;
use crate::sigma::correlation::{CorrelationInput, RuleMatches};

mod deferred;

/// The rules one pass runs: trailguard rules, suppressions, Sigma rules.
pub struct Detector {
    catalogue: Catalogue,
    suppressions: Suppressions,
    sigma: Option<SigmaRules>,
    min_severity: Severity,
    flood_cap: usize,
    filter: RecordFilter,
    /// What findings say about each rule, built once, in the order of
    /// the catalogue's rules and then the Sigma rules: a rule's place here
    /// is also its number at the flood gate.
    infos: Vec<Arc<RuleInfo>>,
    /// Per rule, in the same order: how a match becomes a finding, and
    /// what an attempt's finding says about the rule.
    precision: Vec<(Precision, Arc<RuleInfo>)>,
    /// Every match reported as it is (`search`), without the precision rules.
    every_match: bool,
    /// Repeats of a rule by one principal within this many seconds fold
    /// into one finding (`findings::repeat`); 0 folds nothing.
    repeat_window: u64,
    /// The fields that decide which rules of both engines are viable.
    key_fields: Vec<KeyField>,
    /// Per rule, in the same order: whether it feeds a correlation (its
    /// matches kept as [`FileFindings::correlation_inputs`]); all
    /// [`Feeds::Nothing`] unless [`Detector::with_correlation_inputs`].
    feeds: Vec<Feeds>,
}

/// The rules of each engine worth evaluating on a record, by index: the
/// catalogue's, then Sigma's, in one allocation (this is read for every
/// record).
#[derive(Debug, Clone, Default)]
struct Viable {
    indexes: Box<[usize]>,
    rules: usize,
    /// Where the Sigma rules left for later begin.
    deferred: usize,
}

impl Viable {
    fn rules(&self) -> &[usize] {
        self.indexes.get(..self.rules).unwrap_or_default()
    }

    fn sigma(&self) -> &[usize] {
        self.indexes
            .get(self.rules..self.deferred)
            .unwrap_or_default()
    }

    /// The Sigma rules left for later ([`Detector::deferring_correlation_only`]).
    fn deferred(&self) -> &[usize] {
        self.indexes.get(self.deferred..).unwrap_or_default()
    }
}

/// Whether a rule's matches are correlation inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feeds {
    /// Not an input.
    Nothing,
    /// An input, and a finding of its own too.
    Also,
    /// Only an input: every correlation using it has `generate: false`.
    Only,
    /// [`Feeds::Only`], matched where the inputs are built rather than
    /// while reading ([`Detector::deferring_correlation_only`]).
    Later,
}

/// What scanning one file produced.
#[derive(Debug, Default)]
pub struct FileFindings {
    /// Findings to publish (suppressed and capped ones removed, summaries added).
    pub findings: Vec<Finding>,
    /// Matches dropped by a suppression.
    pub suppressed: u64,
    /// Matches held back by the flood cap (counted in summaries).
    pub held_back: u64,
    /// Records read.
    pub records: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Matches counted into an earlier finding as repeats.
    pub folded: u64,
    /// Records left out by the detector's record filter.
    pub filtered: u64,
    /// With [`Detector::with_correlation_inputs`]: what every match of a
    /// rule feeding a correlation gives it, for matches that passed the
    /// precision rules and the suppressions, whatever their severity,
    /// before repeats fold and the flood cap applies (so counts are exact).
    pub correlation_inputs: Vec<CorrelationInput>,
}

impl Detector {
    /// Assembles a detector; suppressions come from the catalogue's files.
    pub fn new(
        catalogue: Catalogue,
        sigma: Option<SigmaRules>,
        min_severity: Severity,
        flood_cap: usize,
    ) -> Result<Detector, CatalogueError> {
        let suppressions =
            Suppressions::new(catalogue.suppressions()).map_err(|reason| CatalogueError::File {
                origin: "suppressions".to_owned(),
                reason,
            })?;
        let infos: Vec<Arc<RuleInfo>> = catalogue
            .rules()
            .iter()
            .map(RuleInfo::of_rule)
            .chain(
                sigma
                    .iter()
                    .flat_map(SigmaRules::rules)
                    .map(RuleInfo::of_sigma),
            )
            .map(Arc::new)
            .collect();
        let precision = catalogue
            .rules()
            .iter()
            .map(|r| r.precision())
            .chain(
                sigma
                    .iter()
                    .flat_map(SigmaRules::rules)
                    .map(|r| r.precision()),
            )
            .zip(&infos)
            .map(|(precision, info)| {
                let attempt = RuleInfo {
                    severity: attempt_severity(info.severity),
                    ..RuleInfo::clone(info)
                };
                (precision, Arc::new(attempt))
            })
            .collect();
        let mut key_fields = catalogue.key_fields();
        for &field in sigma.iter().flat_map(SigmaRules::key_fields) {
            if !key_fields.contains(&field) {
                key_fields.push(field);
            }
        }
        let feeds = vec![Feeds::Nothing; infos.len()];
        Ok(Detector {
            catalogue,
            suppressions,
            sigma,
            infos,
            precision,
            every_match: false,
            repeat_window: 0,
            feeds,
            key_fields,
            min_severity,
            flood_cap,
            filter: RecordFilter::default(),
        })
    }

    /// Folds repeats of a rule by one principal within `secs` of event time
    /// into one finding; 0 reports every match on its own.
    pub fn with_repeat_window(mut self, secs: u64) -> Detector {
        self.repeat_window = secs;
        self
    }

    /// Keeps the matches of rules feeding the Sigma rules' correlations in
    /// [`FileFindings::correlation_inputs`], for a caller evaluating the
    /// correlations itself (the notifier, whose state is in a table); the
    /// rules that report only through correlations
    /// ([`Correlations::silences`](crate::sigma::Correlations::silences))
    /// then make no findings of their own.
    pub fn with_correlation_inputs(mut self) -> Detector {
        let first_sigma = self.catalogue.rules().len();
        if let Some(sigma) = &self.sigma {
            let correlations = sigma.correlations();
            for (i, rule) in sigma.rules().iter().enumerate() {
                if let Some(feeds) = self.feeds.get_mut(first_sigma + i) {
                    *feeds = if correlations.silences(rule.id()) {
                        Feeds::Only
                    } else if correlations.fed_by(rule.id()).is_empty() {
                        Feeds::Nothing
                    } else {
                        Feeds::Also
                    };
                }
            }
        }
        self
    }

    /// Restricts which records are scanned (the CLI's filters).
    pub fn with_filter(mut self, filter: RecordFilter) -> Detector {
        self.filter = filter;
        self
    }

    /// Reports every match as it is: no attempts, AWS services' calls
    /// included (`search`, which shows what a pattern matches).
    pub fn every_match(mut self) -> Detector {
        self.every_match = true;
        self.repeat_window = 0;
        self
    }

    /// The trailguard rules.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The Sigma rules, when enabled.
    pub fn sigma(&self) -> Option<&SigmaRules> {
        self.sigma.as_ref()
    }

    /// Scans one file (named `object` in findings and errors) into findings,
    /// and, when `metrics` is given, counts the same pass into it
    /// (`fallback_time` for records without `eventTime`).
    pub fn scan(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
    ) -> Result<FileFindings, ReadError> {
        self.scan_within(input, object, metrics, &ReadLimits::default())
    }

    /// [`Detector::scan`] within `limits` (caps and a deadline).
    pub fn scan_within(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
    ) -> Result<FileFindings, ReadError> {
        let mut findings = Vec::new();
        let mut out = self.scan_each(input, object, metrics, limits, |f| findings.push(f))?;
        out.findings = findings;
        Ok(out)
    }

    /// [`Detector::scan_within`], handing each finding to `each` as soon as
    /// it is made instead of collecting them (flood summaries come last), so
    /// a caller writing findings out holds none of them; the counts come
    /// back with `findings` empty.
    pub fn scan_each(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
        each: impl FnMut(Finding),
    ) -> Result<FileFindings, ReadError> {
        match self.scan_each_partial(input, object, metrics, limits, each) {
            (found, None) => Ok(found),
            (_, Some(error)) => Err(error),
        }
    }

    /// [`Detector::scan_each`] that keeps going to the end of the pass when
    /// the file fails part way: the findings of the records read before the
    /// failure (handed to `each`, folded repeats and flood summaries
    /// included) and their counts, with the error that ended the read. The
    /// CLI reports such a file as partial; the functions retry the whole
    /// file instead ([`Detector::scan_each`]).
    pub fn scan_each_partial(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
        each: impl FnMut(Finding),
    ) -> (FileFindings, Option<ReadError>) {
        let mut inputs = Vec::new();
        let (mut found, error) = self.scan_streaming(input, object, metrics, limits, each, |m| {
            if let Some(sigma) = &self.sigma {
                // Rules left for later have no one else to match them here.
                sigma
                    .correlations()
                    .inputs_matching(m, self, &mut |i| inputs.push(i));
            }
        });
        found.correlation_inputs = inputs;
        (found, error)
    }

    /// [`Detector::scan_each_partial`] handing each record's matches of
    /// rules feeding correlations ([`Detector::with_correlation_inputs`])
    /// to `inputs` as they are found, instead of keeping a file's
    /// correlation inputs until the file ends: a caller holding them within
    /// a bound of its own (the CLI's collector) then holds no more than
    /// that, whatever the size of the file, and may build the inputs
    /// elsewhere ([`crate::sigma::correlation::InputBatch`]).
    pub fn scan_streaming(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        mut metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
        mut each: impl FnMut(Finding),
        mut inputs: impl FnMut(&RuleMatches<'_, '_>),
    ) -> (FileFindings, Option<ReadError>) {
        let source = object.to_string();
        let mut pass = Pass::new(self, object);
        // Which rules are viable is decided by a few fields whose values
        // repeat within a file: worked out once per combination.
        let mut memo = KeyMemo::new(self.key_fields.clone());
        let (summary, error) =
            scan_records_partial(input, &source, &self.filter, limits, |record| {
                let viable = memo.recall(record, || self.viable(record));
                pass.match_rules(record, &viable, &mut metrics);
                pass.report(record, viable.deferred(), &mut each, &mut inputs);
            });
        pass.out.records = summary.records;
        pass.out.rejected = summary.rejected;
        pass.out.filtered = summary.filtered;
        (pass.finish(object, &mut each), error)
    }
}

/// One file going through a [`Detector`]: what it has found so far, and
/// the flood gate and repeat fold that span its records.
struct Pass<'d> {
    detector: &'d Detector,
    out: FileFindings,
    gate: FloodGate,
    fold: RepeatFold,
    log_file: Arc<LogFile>,
    /// The catalogue rules matching the current record (for metrics).
    matched: Vec<&'d Rule>,
    /// The rules of both engines matching it that make findings, by number.
    numbers: Vec<usize>,
    /// The ids of the rules matching it that feed correlations.
    feeding: Vec<&'d str>,
}

impl<'d> Pass<'d> {
    fn new(detector: &'d Detector, object: &ObjectRef) -> Pass<'d> {
        Pass {
            detector,
            out: FileFindings::default(),
            gate: FloodGate::new(detector.flood_cap),
            fold: RepeatFold::new(detector.repeat_window),
            log_file: Arc::new(LogFile::of(object)),
            matched: Vec::new(),
            numbers: Vec::new(),
            feeding: Vec::new(),
        }
    }

    /// Finds the rules among `viable` that `record` matches, numbered by
    /// place (the catalogue's rules, then Sigma's), and counts the
    /// catalogue's matches into `metrics`.
    fn match_rules(
        &mut self,
        record: &Record<'_>,
        viable: &Viable,
        metrics: &mut Option<(&mut Aggregator, i64)>,
    ) {
        let detector = self.detector;
        self.matched.clear();
        self.numbers.clear();
        let (matched, numbers) = (&mut self.matched, &mut self.numbers);
        detector
            .catalogue
            .matching_among(record, viable.rules(), |i, rule| {
                matched.push(rule);
                if rule.spec().finding {
                    numbers.push(i);
                }
            });
        if let Some((agg, fallback)) = metrics.as_mut() {
            agg.count_record(record, &self.matched, *fallback);
        }
        if let Some(sigma) = &detector.sigma {
            let first_sigma = detector.catalogue.rules().len();
            self.numbers.extend(
                sigma
                    .matching_among(record, viable.sigma())
                    .map(|(i, _)| first_sigma + i),
            );
        }
    }

    /// Turns the matched rules into findings for `each`.
    fn report(
        &mut self,
        record: &Record<'_>,
        deferred: &[usize],
        each: &mut impl FnMut(Finding),
        inputs: &mut impl FnMut(&RuleMatches<'_, '_>),
    ) {
        let detector = self.detector;
        // Suppressions and the flood cap read the record itself, so a
        // suppressed or held-back match builds nothing; the facts are built
        // on the first finding and shared by the others.
        let mut subject = None;
        let mut event: Option<Arc<EventFacts>> = None;
        // The rules feeding correlations are handed over together, after
        // the loop: the record's text is then copied at most once.
        let mut feeding = std::mem::take(&mut self.feeding);
        feeding.clear();
        let numbers = std::mem::take(&mut self.numbers);
        for &number in &numbers {
            let Some((info, attempt)) = detector.judged(number, record) else {
                continue;
            };
            let feeds = detector
                .feeds
                .get(number)
                .copied()
                .unwrap_or(Feeds::Nothing);
            let reported = info.severity >= detector.min_severity
                && !matches!(feeds, Feeds::Only | Feeds::Later);
            if !reported && feeds == Feeds::Nothing {
                continue;
            }
            let subject = *subject.get_or_insert_with(|| Subject::of_record(record));
            if detector
                .suppressions
                .suppressing(&info.id, subject)
                .is_some()
            {
                self.out.suppressed += 1;
                continue;
            }
            if feeds != Feeds::Nothing {
                feeding.push(info.id.as_str());
            }
            if reported {
                self.emit(number, (info, attempt), record, &mut event, each);
            }
        }
        self.numbers = numbers;
        if !feeding.is_empty() || !deferred.is_empty() {
            inputs(&RuleMatches {
                record,
                log_file: Some(&self.log_file),
                rules: &feeding,
                deferred,
            });
        }
        self.feeding = feeding;
    }

    /// Builds rule `number`'s finding on `record` for `each`, unless it is
    /// a repeat folded into an earlier one or the flood cap holds it back.
    fn emit(
        &mut self,
        number: usize,
        (info, attempt): (&Arc<RuleInfo>, bool),
        record: &Record<'_>,
        event: &mut Option<Arc<EventFacts>>,
        each: &mut impl FnMut(Finding),
    ) {
        // A repeat is counted into its first finding, which the flood
        // cap already let through: it builds nothing.
        let fold_to = self.fold.offer(number, record);
        if fold_to == Fold::Counted || !self.gate.admit(number, record.event_id.as_deref()) {
            return;
        }
        let event = event.get_or_insert_with(|| Arc::new(EventFacts::of(record)));
        let mut finding = Finding::on(
            Arc::clone(info),
            Arc::clone(event),
            Some(Arc::clone(&self.log_file)),
        );
        finding.attempt = attempt;
        if fold_to == Fold::Hold {
            self.fold.hold(number, record, finding);
        } else {
            each(finding);
        }
    }

    /// Hands out the folded findings and the flood summaries, and the counts.
    fn finish(mut self, object: &ObjectRef, each: &mut impl FnMut(Finding)) -> FileFindings {
        for finding in self.fold.finish() {
            self.out.folded += finding.repeats.as_ref().map_or(0, |r| r.count - 1);
            each(finding);
        }
        for overflow in self.gate.overflows() {
            self.out.held_back += overflow.held_back as u64;
            if let Some(rule) = self.detector.infos.get(overflow.rule) {
                each(flood::summary_finding(
                    RuleInfo::clone(rule),
                    &overflow,
                    object,
                ));
            }
        }
        self.out
    }
}

impl Detector {
    /// What rule `number`'s match on `record` is reported as (the rule, or
    /// its attempt variant, and whether it is an attempt); `None` when a
    /// precision rule skips it.
    fn judged(&self, number: usize, record: &Record<'_>) -> Option<(&Arc<RuleInfo>, bool)> {
        let info = self.infos.get(number)?;
        let (info, attempt) = match self.verdict(number, record) {
            Verdict::Skip => return None,
            Verdict::Report => (info, false),
            Verdict::Attempt => match self.precision.get(number) {
                Some((_, attempt)) => (attempt, true),
                None => (info, false),
            },
        };
        Some((info, attempt))
    }

    /// What rule `number`'s match on `record` becomes.
    fn verdict(&self, number: usize, record: &Record<'_>) -> Verdict {
        match self.precision.get(number) {
            Some((precision, _)) if !self.every_match => precision.judge(record),
            _ => Verdict::Report,
        }
    }

    /// The rules of each engine `record` can match.
    fn viable(&self, record: &Record<'_>) -> Viable {
        let rules = self.catalogue.candidates(record);
        let sigma = self
            .sigma
            .as_ref()
            .map_or_else(Box::default, |sigma| sigma.viable(record));
        let first_sigma = self.catalogue.rules().len();
        let later = |i: &usize| self.feeds.get(first_sigma + i) == Some(&Feeds::Later);
        let (now, deferred): (Vec<usize>, Vec<usize>) = sigma.iter().partition(|i| !later(i));
        Viable {
            rules: rules.len(),
            deferred: rules.len() + now.len(),
            indexes: rules.iter().chain(&now).chain(&deferred).copied().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleText;

    const RULES: &str = r#"
version: 1
rules:
  - id: denied
    title: "Access denied"
    severity: medium
    references: [attack:T1580]
    pattern: '{ $.errorCode = "AccessDenied" }'
suppressions:
  - rules: [denied]
    principals: ["arn:aws:iam::111122223333:user/scanner"]
    reason: the inventory scanner probes everything
"#;

    fn detector(flood_cap: usize) -> Detector {
        let text = RuleText {
            origin: "test.yaml".to_owned(),
            text: RULES.to_owned(),
        };
        let catalogue = Catalogue::load(false, &[text]).unwrap();
        Detector::new(catalogue, None, Severity::Informational, flood_cap).unwrap()
    }

    /// A log file of `n` AccessDenied records by `user`, ids `<user>-<i>`.
    fn log(users: &[(&str, usize)]) -> String {
        let records: Vec<String> = users
            .iter()
            .flat_map(|&(user, n)| {
                (0..n).map(move |i| {
                    format!(
                        r#"{{"eventID":"{user}-{i}","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{{"arn":"arn:aws:iam::111122223333:user/{user}"}}}}"#
                    )
                })
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(","))
    }

    fn ids(found: &FileFindings) -> Vec<String> {
        found
            .findings
            .iter()
            .filter_map(|f| f.event.event_id.clone())
            .collect()
    }

    #[test]
    fn suppressed_matches_are_counted_not_reported() {
        let text = log(&[("scanner", 3), ("alice", 2)]);
        let object = ObjectRef::new("bucket", "key.json");
        let found = detector(100).scan(text.as_bytes(), &object, None).unwrap();
        assert_eq!(found.suppressed, 3);
        assert_eq!(ids(&found), ["alice-0", "alice-1"]);
        assert_eq!(found.records, 5);
    }

    #[test]
    fn a_flood_is_capped_and_summed_up_after_suppressions() {
        let text = log(&[("scanner", 2), ("alice", 5)]);
        let object = ObjectRef::new("bucket", "key.json");
        let found = detector(2).scan(text.as_bytes(), &object, None).unwrap();
        assert_eq!(found.suppressed, 2);
        assert_eq!(found.held_back, 3);
        assert_eq!(found.findings.len(), 3, "two findings and one summary");
        assert_eq!(ids(&found)[..2], ["alice-0", "alice-1"]);
        let summary = &found.findings[2];
        assert_eq!(summary.rule.id, "denied");
        assert!(
            summary.rule.title.contains("3 more matches"),
            "{}",
            summary.rule.title
        );
        let sent = serde_json::to_value(summary).unwrap();
        assert_eq!(
            sent["what"]["eventName"], "trailguard:FloodSummary",
            "{sent}"
        );
        assert_eq!(
            sent["rawEvent"]["additionalEventData"]["sampleEventIds"],
            serde_json::json!(["alice-2", "alice-3", "alice-4"])
        );
    }
}
