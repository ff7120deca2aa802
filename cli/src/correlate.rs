//! Correlation rules over a whole scan.
//!
//! Files are read in parallel and in any order, so correlations are not
//! decided while reading. The detector turns every match of a rule feeding
//! a correlation into a hit ([`Detector::with_correlation_inputs`]):
//! whatever its severity, before repeats fold and the flood cap applies,
//! so that `--min-severity`, `--repeat-window` and `--flood-cap` change
//! what is reported, never what is counted. [`Correlating`] keeps each hit
//! as it is found (bounded per rule, see `sigma::correlation`). Once every
//! file is read, [`Correlating::finish`] evaluates each group over all of
//! its hits in event time, whatever the order of files, regions and
//! accounts.
//!
//! [`Detector::with_correlation_inputs`]: trailguard_engine::detect::Detector::with_correlation_inputs

use std::sync::{Arc, Mutex};

use trailguard_engine::findings::Finding;
use trailguard_engine::rules::Severity;
use trailguard_engine::sigma::correlation::{Collector, CollectorReport, CorrelationInput};
use trailguard_engine::sigma::{Correlations, SigmaRules};

use crate::runner::{FileOutput, FileResult, Output};

/// The correlation state of one scan.
pub struct Correlating {
    collector: Mutex<Collector>,
    min_severity: Severity,
}

impl Correlating {
    /// For the correlations of `sigma`, or `None` when there are none.
    pub fn new(
        sigma: Option<&SigmaRules>,
        cap: usize,
        min_severity: Severity,
    ) -> Option<Arc<Self>> {
        let correlations: &Correlations = sigma?.correlations();
        (!correlations.is_empty()).then(|| {
            Arc::new(Correlating {
                collector: Mutex::new(Collector::new(correlations.clone(), cap)),
                min_severity,
            })
        })
    }

    /// Takes a correlation input (the collector's cap bounds what is held).
    fn take(&self, input: CorrelationInput) {
        let mut collector = self.collector.lock().unwrap_or_else(|e| e.into_inner());
        collector.offer(input);
    }

    /// Evaluates every group: the correlation findings at or above the
    /// severity threshold, and what could not count.
    pub fn finish(self: Arc<Self>) -> CollectorReport {
        let Ok(this) = Arc::try_unwrap(self) else {
            return CollectorReport::default();
        };
        let mut report = this
            .collector
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .finish();
        report
            .findings
            .retain(|f| f.rule.severity >= this.min_severity);
        report
    }
}

/// `output` with every finding first passing through `correlating`.
pub fn wrap(output: Output, correlating: Arc<Correlating>) -> Output {
    Arc::new(move |position| {
        Box::new(Through {
            inner: output(position),
            correlating: Arc::clone(&correlating),
        })
    })
}

struct Through {
    inner: Box<dyn FileOutput>,
    correlating: Arc<Correlating>,
}

impl FileOutput for Through {
    fn finding(&mut self, finding: Finding) -> Option<Finding> {
        self.inner.finding(finding)
    }

    // Offered as found: a file that fails part way (reported as partial)
    // counts as far as it was read, and one that cannot be read at all
    // gave none.
    fn input(&mut self, input: CorrelationInput) {
        self.correlating.take(input);
    }

    fn close(self: Box<Self>, result: &mut Result<FileResult, String>) {
        self.inner.close(result);
    }
}

/// One line for stderr when hits were dropped or could not count.
pub fn notes(report: &CollectorReport, cap: usize) -> Option<String> {
    let mut notes = Vec::new();
    if report.dropped > 0 {
        notes.push(format!(
            "{} match(es) dropped past --correlation-cap {cap} per correlation rule \
             (those rules saw part of the input)",
            report.dropped
        ));
    }
    if report.unusable > 0 {
        notes.push(format!(
            "{} match(es) not counted: no eventTime or eventID, or a group-by or counted field missing",
            report.unusable
        ));
    }
    (!notes.is_empty()).then(|| format!("correlations: {}", notes.join("; ")))
}
