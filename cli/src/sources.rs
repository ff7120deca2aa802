//! Turning command-line targets (files, folders, `s3://bucket/prefix`) into
//! the list of log files to read.
//!
//! A file named on the command line is always read. Inside folders and S3
//! prefixes, a file is read when CloudTrail's key layout says it is a log
//! file, or, for files outside that layout, when its name ends in `.json`,
//! `.json.gz`, `.jsonl`, `.jsonl.gz`, `.ndjson` or `.ndjson.gz`. Digest and
//! Insights files and other objects under `AWSLogs/` are skipped, as are
//! files whose key date is more than a day outside `--since/--until`.

use std::path::{Path, PathBuf};

use trailguard_engine::ObjectRef;
use trailguard_engine::keys::{self, KeyKind, OtherReason};

use crate::aws::{Aws, AwsError, S3Url};
use crate::filters::Window;

/// Name endings read outside CloudTrail's key layout.
const LOG_SUFFIXES: [&str; 6] = [
    ".json",
    ".json.gz",
    ".jsonl",
    ".jsonl.gz",
    ".ndjson",
    ".ndjson.gz",
];

/// One log file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A local file.
    Local(PathBuf),
    /// An S3 object.
    S3(ObjectRef),
}

impl Source {
    /// How the file is named in output: the path, or `s3://bucket/key`.
    pub fn name(&self) -> String {
        match self {
            Source::Local(path) => path.display().to_string(),
            Source::S3(object) => object.to_string(),
        }
    }
}

/// A target that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError {
    /// The target as given.
    pub target: String,
    /// Why.
    pub error: String,
}

/// The files to read, and the targets that could not be listed.
#[derive(Debug, Default)]
pub struct Plan {
    /// Files to read, in target order (folders and prefixes sorted).
    pub sources: Vec<Source>,
    /// Targets that could not be read or listed.
    pub errors: Vec<TargetError>,
    /// Files skipped (not log files, or outside the time window).
    pub skipped: usize,
}

/// Whether a file found inside a folder or prefix is read.
pub fn is_log_candidate(key: &str) -> bool {
    let info = keys::classify(key);
    match info.kind {
        KeyKind::Log => true,
        KeyKind::Digest | KeyKind::Insight => false,
        KeyKind::Other => {
            info.other_reason == Some(OtherReason::NotUnderAwsLogs)
                && LOG_SUFFIXES.iter().any(|s| key.ends_with(s))
        }
    }
}

/// Resolves `targets`; `aws` is connected on first need through `connect`.
pub fn plan<'a>(
    targets: &[String],
    window: &Window,
    mut connect: impl FnMut() -> Result<&'a Aws, AwsError>,
) -> Plan {
    let mut plan = Plan::default();
    for target in targets {
        let failed = |error: String| TargetError {
            target: target.clone(),
            error,
        };
        match S3Url::parse(target) {
            Some(url) => match connect().and_then(|aws| aws.list(&url)) {
                Ok(listed) => {
                    for object in listed {
                        if is_log_candidate(&object.key) && window.may_hold(&object.key) {
                            plan.sources.push(Source::S3(ObjectRef {
                                size: object.size,
                                etag: object.etag,
                                ..ObjectRef::new(&url.bucket, object.key)
                            }));
                        } else {
                            plan.skipped += 1;
                        }
                    }
                }
                Err(e) => plan.errors.push(failed(e.to_string())),
            },
            None if target.starts_with("s3://") => {
                plan.errors
                    .push(failed("not an s3://bucket/prefix URL".to_owned()));
            }
            None => {
                if let Err(e) = walk(Path::new(target), true, window, &mut plan) {
                    plan.errors.push(failed(e.to_string()));
                }
            }
        }
    }
    plan
}

fn walk(path: &Path, explicit: bool, window: &Window, plan: &mut Plan) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_dir() {
        let name = path.to_string_lossy();
        // Local copies keep CloudTrail's folder layout more often than not,
        // so the whole path is classified like a key.
        if explicit || (is_log_candidate(&name) && window.may_hold(&name)) {
            plan.sources.push(Source::Local(path.to_owned()));
        } else {
            plan.skipped += 1;
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            walk(&entry, false, window, plan)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filters::TimeArg;

    const LOG: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1145Z_abc.json.gz";
    const DIGEST: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T114500Z.json.gz";

    fn no_aws<'a>() -> Result<&'a Aws, AwsError> {
        Err(AwsError::Runtime(std::io::Error::other("offline")))
    }

    #[test]
    fn only_log_files_are_candidates() {
        assert!(is_log_candidate(LOG));
        assert!(!is_log_candidate(DIGEST));
        assert!(!is_log_candidate(
            "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile"
        ));
        assert!(is_log_candidate("exports/day1.json.gz"));
        assert!(is_log_candidate("exports/day1.jsonl"));
        assert!(!is_log_candidate("exports/README.md"));
    }

    #[test]
    fn folders_are_walked_sorted_and_filtered() {
        let dir = std::env::temp_dir().join(format!("trailguard-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let day = dir.join("AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10");
        std::fs::create_dir_all(&day).unwrap();
        let log = day.join("111122223333_CloudTrail_us-east-1_20230710T1145Z_abc.json.gz");
        std::fs::write(&log, b"").unwrap();
        std::fs::write(dir.join("b.json"), b"").unwrap();
        std::fs::write(dir.join("a.jsonl"), b"").unwrap();
        std::fs::write(dir.join("notes.txt"), b"").unwrap();
        std::fs::write(dir.join(".hidden.json"), b"").unwrap();
        let names = |window: Window| {
            let plan = plan(&[dir.display().to_string()], &window, no_aws);
            assert!(plan.errors.is_empty());
            plan.sources
                .iter()
                .map(|s| {
                    s.name()
                        .trim_start_matches(&dir.display().to_string())
                        .to_owned()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Window::default()),
            [
                format!("/{}", log.strip_prefix(&dir).unwrap().display()),
                "/a.jsonl".to_owned(),
                "/b.json".to_owned()
            ]
        );
        let later = Window::of(TimeArg::parse("2023-08-01").ok(), None);
        assert_eq!(names(later), ["/a.jsonl", "/b.json"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn unreadable_targets_are_reported_not_fatal() {
        let plan = plan(
            &["/nonexistent/trailguard".to_owned(), "s3://".to_owned()],
            &Window::default(),
            no_aws,
        );
        assert!(plan.sources.is_empty());
        assert_eq!(plan.errors.len(), 2);
        assert_eq!(plan.errors[1].error, "not an s3://bucket/prefix URL");
    }
}
