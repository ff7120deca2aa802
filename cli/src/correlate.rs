//! Correlation rules over a whole scan.
//!
//! Files are read in parallel and in any order, so correlations are not
//! decided while reading. The detector hands over every record matched by
//! rules feeding a correlation ([`Detector::with_correlation_inputs`]):
//! whatever their severity, before repeats fold and the flood cap applies,
//! so that `--min-severity`, `--repeat-window` and `--flood-cap` change
//! what is reported, never what is counted. [`Correlating`] keeps each
//! hit as it is found (bounded per rule, see `sigma::correlation`). Once
//! every file is read, [`Correlating::finish`] evaluates each group over
//! all of its hits in event time, whatever the order of files, regions and
//! accounts.
//!
//! The hits are built, held and evaluated on a thread of their own: a
//! file's worker only copies each record that a rule feeding a
//! correlation matched, or that a rule only feeding correlations may match,
//! into a reused batch ([`InputBatch`]). The thread matches the latter
//! rules (`Detector::deferring_correlation_only`), builds the hits, and
//! frees them after the findings are handed back. So a scan of few files,
//! whose workers leave a core idle, waits for little of the correlations'
//! work. The channel is bounded: a collector that falls behind slows the
//! workers instead of growing without limit.
//!
//! [`Detector::with_correlation_inputs`]: trailguard_engine::detect::Detector::with_correlation_inputs

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use trailguard_engine::detect::Detector;
use trailguard_engine::findings::Finding;
use trailguard_engine::rules::Severity;
use trailguard_engine::sigma::correlation::{Collector, CollectorReport, InputBatch, RuleMatches};
use trailguard_engine::sigma::{Correlations, SigmaRules};

use crate::runner::{FileOutput, FileResult, Output};

/// Record text a worker gathers before handing a batch over.
const BATCH_BYTES: usize = 256 * 1024;
/// Batches on their way to the collector; a full channel makes workers wait.
const IN_FLIGHT: usize = 8;
/// Emptied batches kept for reuse.
const SPARE: usize = IN_FLIGHT + 4;

/// The correlation state of one scan.
pub struct Correlating {
    /// The scan's detector, whose Sigma rules hold the correlations.
    detector: Arc<Detector>,
    min_severity: Severity,
    /// To the collecting thread; closed by [`Correlating::finish`].
    to_collector: Mutex<Option<SyncSender<InputBatch>>>,
    /// The collecting thread, and where it answers once the channel closes.
    collecting: Mutex<Option<(JoinHandle<()>, Receiver<CollectorReport>)>>,
    /// Emptied batches, whose buffers are already grown.
    spare: Arc<Mutex<Vec<InputBatch>>>,
}

impl Correlating {
    /// Starts the thread collecting the hits of `detector`'s correlations,
    /// at most `cap` per rule, matching with `detector` the rules it left
    /// for later; `None` when it has no correlations.
    pub fn start(
        detector: Arc<Detector>,
        cap: usize,
        min_severity: Severity,
    ) -> anyhow::Result<Option<Arc<Self>>> {
        if correlations(&detector).is_none_or(Correlations::is_empty) {
            return Ok(None);
        }
        let (sender, batches) = sync_channel::<InputBatch>(IN_FLIGHT);
        let (answer, report) = sync_channel::<CollectorReport>(1);
        let spare = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (detector, spare) = (Arc::clone(&detector), Arc::clone(&spare));
            std::thread::Builder::new()
                .name("correlations".to_owned())
                .spawn(move || {
                    let Some(correlations) = correlations(&detector) else {
                        return;
                    };
                    let mut collector = Collector::new(correlations.clone(), cap);
                    for mut batch in batches {
                        batch.inputs(correlations, &*detector, &mut |i| collector.offer(i));
                        batch.clear();
                        let mut spare = lock(&spare);
                        if spare.len() < SPARE {
                            spare.push(batch);
                        }
                    }
                    let _ = answer.send(collector.evaluate());
                    // The hits are freed here, while the scan's report is written.
                    drop(collector);
                })?
        };
        Ok(Some(Arc::new(Correlating {
            detector,
            min_severity,
            to_collector: Mutex::new(Some(sender)),
            collecting: Mutex::new(Some((thread, report))),
            spare,
        })))
    }

    /// Hands a filled batch to the collector.
    fn send(&self, batch: InputBatch) {
        let sender = lock(&self.to_collector).clone();
        if let Some(sender) = sender {
            // Fails only once the collector is gone, which `finish` reports.
            let _ = sender.send(batch);
        }
    }

    /// An empty batch to fill, reusing an emptied one when there is one.
    fn empty_batch(&self) -> InputBatch {
        lock(&self.spare).pop().unwrap_or_default()
    }

    /// Evaluates every group once every batch is in: the correlation
    /// findings at or above the severity threshold, and what could not
    /// count. Call it after every file's output is closed.
    pub fn finish(self: Arc<Self>) -> CollectorReport {
        drop(lock(&self.to_collector).take());
        let Some((thread, report)) = lock(&self.collecting).take() else {
            return CollectorReport::default();
        };
        let mut report = match report.recv() {
            Ok(report) => report,
            // The thread ended without an answer: it panicked, which is a
            // bug, not bad input; losing the correlations quietly would hide it.
            Err(_) => match thread.join() {
                Err(panic) => std::panic::resume_unwind(panic),
                Ok(()) => CollectorReport::default(),
            },
        };
        report
            .findings
            .retain(|f| f.rule.severity >= self.min_severity);
        report
    }
}

/// The correlations of `detector`'s Sigma rules.
fn correlations(detector: &Detector) -> Option<&Correlations> {
    detector.sigma().map(SigmaRules::correlations)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `output` with every finding first passing through `correlating`.
pub fn wrap(output: Output, correlating: Arc<Correlating>) -> Output {
    Arc::new(move |position| {
        Box::new(Through {
            inner: output(position),
            correlating: Arc::clone(&correlating),
            batch: InputBatch::default(),
        })
    })
}

struct Through {
    inner: Box<dyn FileOutput>,
    correlating: Arc<Correlating>,
    batch: InputBatch,
}

impl FileOutput for Through {
    fn finding(&mut self, finding: Finding) -> Option<Finding> {
        self.inner.finding(finding)
    }

    // Gathered as found: a file that fails part way (reported as partial)
    // counts as far as it was read, and one that cannot be read at all
    // gave none.
    fn input(&mut self, matches: &RuleMatches<'_, '_>) {
        if let Some(correlations) = correlations(&self.correlating.detector) {
            self.batch.push(correlations, matches);
        }
        if self.batch.text_len() >= BATCH_BYTES {
            let full = std::mem::replace(&mut self.batch, self.correlating.empty_batch());
            self.correlating.send(full);
        }
    }

    fn close(mut self: Box<Self>, result: &mut Result<FileResult, String>) {
        if !self.batch.is_empty() {
            self.correlating.send(std::mem::take(&mut self.batch));
        }
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
