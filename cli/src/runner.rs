//! Reading many log files through one [`Detector`], in parallel.
//!
//! Local files are spread over `jobs` threads pulling from a shared queue;
//! S3 objects are streamed `4 × jobs` at a time (reading is mostly waiting
//! on the network), each parsed on a blocking thread. Every file is read
//! once, producing findings and, when asked, metric datapoints in the same
//! pass, exactly as the notifier and metrics functions do. A file that
//! cannot be read is reported with its reason; the others go on. A file
//! that fails part way (truncated, corrupt, trailing data after the
//! document) keeps the findings of the records read before the failure and
//! is reported as partial; the functions instead retry the whole file. An
//! optional [`Output`] takes each file's findings on its worker as they are
//! found (the commands render and write them there, so a file's findings
//! need not be held), then its outcome.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use futures::StreamExt;
use indicatif::ProgressBar;
use trailguard_aws::open_object;
use trailguard_engine::ObjectRef;
use trailguard_engine::detect::{Detector, FileFindings};
use trailguard_engine::findings::Finding;
use trailguard_engine::metrics::{Aggregator, AggregatorConfig};
use trailguard_engine::sigma::correlation::RuleMatches;

use crate::aws::Aws;
use crate::sources::Source;

/// S3 objects in flight per job.
const S3_PER_JOB: usize = 4;

/// What one file gave.
#[derive(Debug)]
pub struct FileResult {
    /// Findings and counts.
    pub findings: FileFindings,
    /// The file's datapoints, when metrics were asked for.
    pub metrics: Option<Aggregator>,
    /// Findings the [`Output`] wrote out or dropped (not in `findings`).
    pub written: usize,
    /// Why reading stopped before the end, when it did: the findings are
    /// those of the records read before.
    pub partial: Option<String>,
}

/// Opens the [`FileOutput`] of the file at a position among the sources.
/// Per-finding work is then spread over the workers, and output need not
/// wait for (or hold) the whole run, nor a whole file.
pub type Output = Arc<dyn Fn(usize) -> Box<dyn FileOutput> + Send + Sync>;

/// Where one file's findings go, on its worker.
pub trait FileOutput: Send {
    /// Takes one finding as it is found: written or dropped (`None`), or
    /// given back to be kept in the file's `findings`.
    fn finding(&mut self, finding: Finding) -> Option<Finding>;
    /// Takes one record's matches of rules feeding correlations as they
    /// are found (see `correlate`); dropped unless correlating.
    fn input(&mut self, _matches: &RuleMatches<'_, '_>) {}
    /// The file is done: its counts, or why it could not be read.
    fn close(self: Box<Self>, result: &mut Result<FileResult, String>);
}

/// One file and how reading it went.
#[derive(Debug)]
pub struct Scanned {
    /// The file.
    pub source: Source,
    /// Its results, or why it could not be read.
    pub result: Result<FileResult, String>,
}

/// Every file's outcome, in source order, and the merged datapoints.
#[derive(Debug)]
pub struct RunResult {
    /// Per file.
    pub files: Vec<Scanned>,
    /// All files' datapoints, merged.
    pub metrics: Aggregator,
}

/// How to run.
pub struct Runner<'a> {
    /// The rules.
    pub detector: Arc<Detector>,
    /// Worker threads for local files.
    pub jobs: usize,
    /// Whether to count metric datapoints.
    pub metrics: bool,
    /// The AWS connection, when some source is in S3.
    pub aws: Option<&'a Aws>,
    /// Advanced once per file.
    pub progress: ProgressBar,
    /// Takes each file's findings.
    pub output: Option<Output>,
}

impl Runner<'_> {
    /// Reads every source.
    pub fn run(&self, sources: Vec<Source>) -> RunResult {
        let mut results: Vec<Option<Result<FileResult, String>>> =
            sources.iter().map(|_| None).collect();
        let local: Vec<(usize, &Path)> = sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Source::Local(path) => Some((i, path.as_path())),
                Source::S3(_) => None,
            })
            .collect();
        for (i, result) in self.run_local(&local) {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
        }
        let remote: Vec<(usize, ObjectRef)> = sources
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Source::S3(object) => Some((i, object.clone())),
                Source::Local(_) => None,
            })
            .collect();
        for (i, result) in self.run_s3(remote) {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(result);
            }
        }
        self.progress.finish_and_clear();
        let mut metrics = Aggregator::new(AggregatorConfig::default());
        let files = sources
            .into_iter()
            .zip(results)
            .map(|(source, result)| {
                let mut result =
                    result.unwrap_or_else(|| Err("not read: no worker picked it up".to_owned()));
                if let Ok(file) = &mut result
                    && let Some(agg) = file.metrics.take()
                {
                    metrics.merge(agg);
                }
                Scanned { source, result }
            })
            .collect();
        RunResult { files, metrics }
    }

    fn run_local(&self, files: &[(usize, &Path)]) -> Vec<(usize, Result<FileResult, String>)> {
        if files.is_empty() {
            return Vec::new();
        }
        let next = AtomicUsize::new(0);
        let done = Mutex::new(Vec::with_capacity(files.len()));
        let workers = self.jobs.clamp(1, files.len());
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while let Some(&(i, path)) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let result = with_output(self.output.as_ref(), i, |out| {
                            scan_local(&self.detector, path, self.metrics, out)
                        });
                        self.progress.inc(1);
                        if let Ok(mut done) = done.lock() {
                            done.push((i, result));
                        }
                    }
                });
            }
        });
        done.into_inner().unwrap_or_default()
    }

    fn run_s3(&self, objects: Vec<(usize, ObjectRef)>) -> Vec<(usize, Result<FileResult, String>)> {
        let Some(aws) = self.aws else {
            return objects
                .into_iter()
                .map(|(i, _)| (i, Err("no AWS connection".to_owned())))
                .collect();
        };
        let concurrency = self.jobs.max(1) * S3_PER_JOB;
        aws.runtime.block_on(
            futures::stream::iter(objects)
                .map(|(i, object)| {
                    let detector = Arc::clone(&self.detector);
                    let s3 = aws.s3.clone();
                    let metrics = self.metrics;
                    let output = self.output.clone();
                    async move {
                        let result = scan_s3(detector, s3, object, metrics, (i, output)).await;
                        (i, result)
                    }
                })
                .buffer_unordered(concurrency)
                .inspect(|_| self.progress.inc(1))
                .collect(),
        )
    }
}

/// Runs `scan` with the output of the file at `position`, then closes it.
fn with_output(
    output: Option<&Output>,
    position: usize,
    scan: impl FnOnce(Option<&mut dyn FileOutput>) -> Result<FileResult, String>,
) -> Result<FileResult, String> {
    let mut file = output.map(|open| open(position));
    let mut result = scan(file.as_deref_mut().map(|f| f as &mut dyn FileOutput));
    if let Some(file) = file {
        file.close(&mut result);
    }
    result
}

/// How a local file is named to the engine: no bucket, the path as key.
pub fn local_object(path: &Path) -> ObjectRef {
    ObjectRef::new("", path.display().to_string())
}

fn scan_local(
    detector: &Detector,
    path: &Path,
    metrics: bool,
    output: Option<&mut dyn FileOutput>,
) -> Result<FileResult, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    // Records without eventTime are counted at the file's modification
    // time, as the metrics function counts them at the object's.
    let fallback = file
        .metadata()
        .and_then(|m| m.modified())
        .map(epoch)
        .unwrap_or_else(|_| epoch(SystemTime::now()));
    scan_reader(
        detector,
        file,
        &local_object(path),
        (fallback, metrics),
        output,
    )
}

async fn scan_s3(
    detector: Arc<Detector>,
    s3: aws_sdk_s3::Client,
    object: ObjectRef,
    metrics: bool,
    (position, output): (usize, Option<Output>),
) -> Result<FileResult, String> {
    let (body, meta) = match open_object(&s3, &object).await {
        Ok(opened) => opened,
        Err(e) => {
            let error = without_name(&object, e.to_string());
            return with_output(output.as_ref(), position, |_| Err(error));
        }
    };
    let fallback = meta
        .last_modified
        .unwrap_or_else(|| epoch(SystemTime::now()));
    // The output may wait its turn (back-pressure): a blocking thread's job.
    tokio::task::spawn_blocking(move || {
        with_output(output.as_ref(), position, |out| {
            scan_reader(&detector, body, &object, (fallback, metrics), out)
        })
    })
    .await
    .map_err(|e| format!("reading task failed: {e}"))?
}

fn scan_reader(
    detector: &Detector,
    input: impl std::io::Read,
    object: &ObjectRef,
    (fallback, metrics): (i64, bool),
    output: Option<&mut dyn FileOutput>,
) -> Result<FileResult, String> {
    let mut agg = metrics.then(|| Aggregator::new(AggregatorConfig::default()));
    let mut kept = Vec::new();
    // Both closures hand over to the one output, one at a time.
    let output = std::cell::RefCell::new(output);
    let (mut findings, error) = detector.scan_streaming(
        input,
        object,
        agg.as_mut().map(|a| (a, fallback)),
        &trailguard_engine::ReadLimits::default(),
        |f| {
            let f = match output.borrow_mut().as_deref_mut() {
                Some(output) => output.finding(f),
                None => Some(f),
            };
            kept.extend(f);
        },
        |m| {
            if let Some(output) = output.borrow_mut().as_deref_mut() {
                output.input(m);
            }
        },
    );
    let partial = error.map(|e| without_name(object, e.to_string()));
    // Nothing read at all: the file is unreadable, not partial.
    if let Some(reason) = &partial
        && findings.records == 0
    {
        return Err(reason.clone());
    }
    findings.findings = kept;
    Ok(FileResult {
        findings,
        metrics: agg,
        written: 0,
        partial,
    })
}

/// The engine's messages start with the object's name; output names the
/// file separately, so the prefix is dropped.
fn without_name(object: &ObjectRef, message: String) -> String {
    let prefix = format!("{object}: ");
    match message.strip_prefix(&prefix) {
        Some(rest) => rest.to_owned(),
        None => message,
    }
}

fn epoch(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailguard_engine::rules::{Catalogue, Severity};

    fn detector() -> Arc<Detector> {
        let catalogue = Catalogue::builtin().unwrap();
        Arc::new(Detector::new(catalogue, None, Severity::Informational, usize::MAX).unwrap())
    }

    fn write(dir: &Path, name: &str, text: &str) -> Source {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        Source::Local(path)
    }

    #[test]
    fn reads_local_files_in_parallel_keeping_order_and_errors() {
        let dir = std::env::temp_dir().join(format!("trailguard-runner-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = r#"{"Records":[{"eventVersion":"1.08","eventTime":"2023-07-10T11:45:00Z","eventID":"e1","eventType":"AwsApiCall","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","userIdentity":{"type":"Root","accountId":"111122223333"},"recipientAccountId":"111122223333","awsRegion":"us-east-1"}]}"#;
        let sources = vec![
            write(&dir, "a.json", root),
            write(&dir, "b.json", "{\"Records\":[{\"eventName\":"),
            Source::Local(dir.join("missing.json")),
            write(&dir, "d.json", root),
        ];
        let runner = Runner {
            detector: detector(),
            jobs: 2,
            metrics: true,
            aws: None,
            progress: ProgressBar::hidden(),
            output: None,
        };
        let run = runner.run(sources.clone());
        let names: Vec<Source> = run.files.iter().map(|f| f.source.clone()).collect();
        assert_eq!(names, sources);
        let ok = |i: usize| {
            run.files[i]
                .result
                .as_ref()
                .map(|r| r.findings.findings.len())
        };
        assert!(ok(0).is_ok_and(|n| n > 0));
        assert_eq!(ok(0), ok(3));
        let err = run.files[1].result.as_ref().err().unwrap();
        assert!(
            err.starts_with("invalid JSON") || err.contains("ends"),
            "{err}"
        );
        assert!(!err.contains("s3://"), "{err}");
        assert!(
            run.files[2]
                .result
                .as_ref()
                .err()
                .unwrap()
                .starts_with("cannot open")
        );
        let root_usage: f64 = run
            .metrics
            .datums()
            .iter()
            .filter(|d| d.metric_name == "RootAccountUsage")
            .map(|d| d.value)
            .sum();
        assert_eq!(root_usage, 2.0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_output_sees_every_finding_then_the_file_at_its_position() {
        let dir = std::env::temp_dir().join(format!("trailguard-output-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let record = |id: &str| {
            format!(
                r#"{{"Records":[{{"eventTime":"2023-07-10T11:45:00Z","eventID":"{id}","eventType":"AwsApiCall","eventName":"ListBuckets","eventSource":"s3.amazonaws.com","userIdentity":{{"type":"Root","accountId":"111122223333"}}}}]}}"#
            )
        };
        let sources = vec![
            write(&dir, "a.json", &record("e1")),
            write(&dir, "b.json", "not json"),
            write(&dir, "c.json", &record("e2")),
        ];
        /// What each file's output saw: its position and first event id.
        type Seen = Arc<Mutex<Vec<(usize, Result<String, String>)>>>;
        /// Records the first event id it saw, and drops the findings it "wrote".
        struct Log {
            position: usize,
            first: Option<String>,
            count: usize,
            seen: Seen,
        }
        impl FileOutput for Log {
            fn finding(&mut self, finding: Finding) -> Option<Finding> {
                self.first
                    .get_or_insert_with(|| finding.event.event_id.clone().unwrap_or_default());
                self.count += 1;
                None
            }
            fn close(self: Box<Self>, result: &mut Result<FileResult, String>) {
                let outcome = match result {
                    Ok(file) => {
                        file.written = self.count;
                        Ok(self.first.clone().unwrap_or_default())
                    }
                    Err(e) => Err(e.clone()),
                };
                self.seen.lock().unwrap().push((self.position, outcome));
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let runner = Runner {
            detector: detector(),
            jobs: 2,
            metrics: false,
            aws: None,
            progress: ProgressBar::hidden(),
            output: Some(Arc::new(move |position| {
                Box::new(Log {
                    position,
                    first: None,
                    count: 0,
                    seen: Arc::clone(&log),
                })
            })),
        };
        let run = runner.run(sources);
        let mut seen = seen.lock().unwrap().clone();
        seen.sort_by_key(|(position, _)| *position);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0], (0, Ok("e1".to_owned())));
        assert!(seen[1].1.is_err());
        assert_eq!(seen[2], (2, Ok("e2".to_owned())));
        for i in [0, 2] {
            let file = run.files[i].result.as_ref().unwrap();
            assert!(file.findings.findings.is_empty());
            assert!(file.written > 0);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
