//! The rules a command runs: built-in trailguard rules (CIS and detections),
//! built-in SigmaHQ rules, and rule files named with `--rules`, narrowed by
//! `--only`.
//!
//! `--rules` takes files and folders (searched recursively for `.yml` and
//! `.yaml`). Each file is told apart by content: a document with a top-level
//! `detection:` key is a Sigma rule; one with top-level `version:` and
//! `rules:` (or `suppressions:`) keys is a trailguard rule file.

use std::path::{Path, PathBuf};

use clap::Args;
use thiserror::Error;
use trailguard_engine::rules::{Catalogue, CatalogueError, RuleText, Severity};
use trailguard_engine::sigma::{BUILTIN_FILES, CORRELATION_FILES, SigmaRules, SkippedRule};

/// Rule files could not be loaded.
#[derive(Debug, Error)]
pub enum RulesetError {
    /// A file or folder named with `--rules` cannot be read.
    #[error("cannot read rule file {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is neither kind of rule file.
    #[error(
        "{path}: not a rule file: expected a trailguard rule file (top-level `version:` and `rules:`) or a Sigma rule (top-level `detection:`)"
    )]
    Unrecognised {
        /// The path.
        path: PathBuf,
    },
    /// A trailguard rule file does not load.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A Sigma file given explicitly has rules that do not load.
    #[error("{}", skipped_lines(.0))]
    Sigma(Vec<SkippedRule>),
    /// `--only` names a rule no engine has.
    #[error("--only {0}: no rule with this id is loaded (see `trailguard rules list`)")]
    UnknownRule(String),
}

fn skipped_lines(skipped: &[SkippedRule]) -> String {
    skipped
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `--rules`, `--no-builtin`, `--no-sigma`, `--only`.
#[derive(Debug, Clone, Args)]
pub struct RuleArgs {
    /// A trailguard rule file or Sigma rule file, or a folder of them; repeatable.
    #[arg(long = "rules", value_name = "FILE|DIR")]
    pub rules: Vec<PathBuf>,
    /// Leave out the built-in trailguard rules (CIS controls and detections).
    #[arg(long)]
    pub no_builtin: bool,
    /// Leave out the built-in SigmaHQ rules (Sigma files given with --rules still run).
    #[arg(long)]
    pub no_sigma: bool,
    /// Leave out the built-in Sigma correlations (correlations given with --rules still run).
    #[arg(long)]
    pub no_correlations: bool,
    /// Run only the rule with this id (trailguard or Sigma); repeatable.
    #[arg(long = "only", value_name = "RULE_ID")]
    pub only: Vec<String>,
}

/// What kind of rule file a text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `version:` + `rules:`.
    Trailguard,
    /// `detection:`.
    Sigma,
}

/// Tells a trailguard rule file from a Sigma rule by its top-level keys.
pub fn kind_of(text: &str) -> Option<Kind> {
    let top_level = |key: &str| {
        text.lines()
            .any(|line| line.strip_prefix(key).is_some_and(|r| r.starts_with(':')))
    };
    if trailguard_engine::sigma::is_sigma_text(text) {
        Some(Kind::Sigma)
    } else if top_level("version") && (top_level("rules") || top_level("suppressions")) {
        Some(Kind::Trailguard)
    } else {
        None
    }
}

/// Rule files read from disk, sorted by kind.
#[derive(Debug, Default)]
pub struct RuleFiles {
    /// trailguard rule files.
    pub trailguard: Vec<RuleText>,
    /// Sigma files as `(origin, text)`.
    pub sigma: Vec<(String, String)>,
}

impl RuleFiles {
    /// Reads every file under `paths`, in the order given (folders sorted).
    pub fn read(paths: &[PathBuf]) -> Result<RuleFiles, RulesetError> {
        let mut files = RuleFiles::default();
        for path in paths {
            let mut found = Vec::new();
            collect(path, true, &mut found)?;
            for file in found {
                let text = std::fs::read_to_string(&file).map_err(|source| RulesetError::Read {
                    path: file.clone(),
                    source,
                })?;
                let origin = file.display().to_string();
                match kind_of(&text) {
                    Some(Kind::Trailguard) => files.trailguard.push(RuleText { origin, text }),
                    Some(Kind::Sigma) => files.sigma.push((origin, text)),
                    None => return Err(RulesetError::Unrecognised { path: file }),
                }
            }
        }
        Ok(files)
    }
}

/// Adds `path` (a file) or the YAML files under it (a folder) to `out`.
fn collect(path: &Path, explicit: bool, out: &mut Vec<PathBuf>) -> Result<(), RulesetError> {
    let read_error = |source| RulesetError::Read {
        path: path.to_owned(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_dir() {
        let yaml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"));
        if explicit || yaml {
            out.push(path.to_owned());
        }
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(read_error)?;
    entries.sort();
    for entry in entries {
        let hidden = entry
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if !hidden {
            collect(&entry, false, out)?;
        }
    }
    Ok(())
}

/// The loaded rules of both engines.
#[derive(Debug)]
pub struct Ruleset {
    /// trailguard rules.
    pub catalogue: Catalogue,
    /// Sigma rules; `None` when none are loaded.
    pub sigma: Option<SigmaRules>,
    /// Built-in Sigma rules that did not load (reported by `rules list`).
    pub skipped: Vec<SkippedRule>,
}

impl RuleArgs {
    /// Loads the rules these arguments name.
    pub fn load(&self) -> Result<Ruleset, RulesetError> {
        let files = RuleFiles::read(&self.rules)?;
        let catalogue = Catalogue::load(!self.no_builtin, &files.trailguard)?;
        let mut sigma_files: Vec<(String, String)> = Vec::new();
        if !self.no_sigma {
            let correlations = if self.no_correlations {
                &[][..]
            } else {
                CORRELATION_FILES
            };
            sigma_files.extend(
                BUILTIN_FILES
                    .iter()
                    .chain(correlations)
                    .map(|(origin, text)| ((*origin).to_owned(), (*text).to_owned())),
            );
        }
        sigma_files.extend(files.sigma.iter().cloned());
        let (sigma, skipped) = SigmaRules::load(&sigma_files);
        // A rule the user asked for that does not load is an error; a built-in
        // one SigmaHQ marks unsupported is expected and only listed.
        let user_skips: Vec<SkippedRule> = skipped
            .iter()
            .filter(|s| files.sigma.iter().any(|(origin, _)| *origin == s.origin))
            .filter(|s| !matches!(s.reason, trailguard_engine::sigma::SkipReason::Replaced(_)))
            .cloned()
            .collect();
        if !user_skips.is_empty() {
            return Err(RulesetError::Sigma(user_skips));
        }
        let mut ruleset = Ruleset {
            catalogue,
            sigma: (!sigma.is_empty()).then_some(sigma),
            skipped,
        };
        if !self.only.is_empty() {
            ruleset = ruleset.only(&self.only, &sigma_files)?;
        }
        Ok(ruleset)
    }
}

/// Whether `sigma` has a rule or correlation with this id.
fn defines(sigma: &SigmaRules, id: &str) -> bool {
    sigma.rules().iter().any(|r| r.id() == id) || sigma.correlations().get(id).is_some()
}

impl Ruleset {
    /// Keeps only the rules named in `only`. Sigma rules are reloaded from
    /// the files that define them, as a loaded set cannot be narrowed.
    fn only(
        self,
        only: &[String],
        sigma_files: &[(String, String)],
    ) -> Result<Ruleset, RulesetError> {
        let wanted = |id: &str| only.iter().any(|o| o == id);
        for id in only {
            let known = self.catalogue.get(id).is_some()
                || self.sigma.as_ref().is_some_and(|s| defines(s, id));
            if !known {
                return Err(RulesetError::UnknownRule(id.clone()));
            }
        }
        let catalogue = self.catalogue.retain(|r| wanted(r.id()));
        let kept: Vec<&(String, String)> = sigma_files
            .iter()
            .filter(|(origin, text)| {
                let (rules, _) = SigmaRules::load(&[(origin, text)]);
                only.iter().any(|id| defines(&rules, id))
            })
            .collect();
        let sigma = (!kept.is_empty())
            .then(|| SigmaRules::load(&kept.iter().map(|(o, t)| (o, t)).collect::<Vec<_>>()).0);
        Ok(Ruleset {
            catalogue,
            sigma,
            skipped: self.skipped,
        })
    }

    /// Whether a finding of `rule_id` is wanted under `only` (a Sigma file
    /// may hold more rules than the one asked for).
    pub fn wanted(only: &[String], rule_id: &str) -> bool {
        only.is_empty() || only.iter().any(|o| o == rule_id)
    }
}

/// clap's parser for `--min-severity`.
pub fn severity_arg(value: &str) -> Result<Severity, String> {
    match value.to_ascii_lowercase().as_str() {
        "informational" | "info" => Ok(Severity::Informational),
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        _ => Err(format!(
            "`{value}` is not a severity: use informational, low, medium, high or critical"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAILGUARD: &str = "version: 1\nrules:\n  - id: root-login\n    title: Root login\n    severity: high\n    pattern: '{ $.userIdentity.type = \"Root\" }'\n";
    const SIGMA: &str = "title: Stop\nid: stop-1\nlogsource: {product: aws}\ndetection:\n  sel: {eventSource: cloudtrail.amazonaws.com, eventName: StopLogging}\n  condition: sel\nlevel: high\n";

    fn args(rules: Vec<PathBuf>, only: &[&str]) -> RuleArgs {
        RuleArgs {
            rules,
            no_builtin: true,
            no_sigma: true,
            no_correlations: false,
            only: only.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("trailguard-ruleset-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("nested")).unwrap();
        dir
    }

    #[test]
    fn tells_rule_files_apart_by_content() {
        assert_eq!(kind_of(TRAILGUARD), Some(Kind::Trailguard));
        assert_eq!(kind_of(SIGMA), Some(Kind::Sigma));
        assert_eq!(
            kind_of("version: 1\nsuppressions: []\n"),
            Some(Kind::Trailguard)
        );
        assert_eq!(kind_of("title: x\n  detection: nested\n"), None);
        assert_eq!(kind_of("versions: 1\nrules: []\n"), None);
    }

    #[test]
    fn loads_both_kinds_from_a_folder_and_narrows_with_only() {
        let dir = temp_dir("both");
        std::fs::write(dir.join("mine.yaml"), TRAILGUARD).unwrap();
        std::fs::write(dir.join("nested/stop.yml"), SIGMA).unwrap();
        std::fs::write(dir.join("notes.txt"), "not yaml").unwrap();
        let all = args(vec![dir.clone()], &[]).load().unwrap();
        assert_eq!(all.catalogue.rules().len(), 1);
        assert_eq!(all.sigma.as_ref().map(SigmaRules::len), Some(1));

        let only = args(vec![dir.clone()], &["stop-1"]).load().unwrap();
        assert!(only.catalogue.rules().is_empty());
        assert_eq!(only.sigma.as_ref().map(SigmaRules::len), Some(1));

        let unknown = args(vec![dir.clone()], &["nope"]).load();
        assert!(matches!(unknown, Err(RulesetError::UnknownRule(id)) if id == "nope"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unrecognised_file_is_an_error_naming_it() {
        let dir = temp_dir("bad");
        let file = dir.join("odd.yaml");
        std::fs::write(&file, "just: text\n").unwrap();
        let err = args(vec![file.clone()], &[]).load().unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}: not a rule file", file.display())),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn builtin_rules_load_unless_disabled() {
        let builtin = |no_correlations| {
            RuleArgs {
                rules: vec![],
                no_builtin: false,
                no_sigma: false,
                no_correlations,
                only: vec![],
            }
            .load()
            .unwrap()
        };
        let all = builtin(false);
        assert!(all.catalogue.get("cis-root-account-usage").is_some());
        let correlations = |r: &Ruleset| r.sigma.as_ref().map_or(0, |s| s.correlations().len());
        assert!(correlations(&all) > 0);
        let uncorrelated = builtin(true);
        assert!(uncorrelated.sigma.is_some());
        assert_eq!(correlations(&uncorrelated), 0);
        let none = args(vec![], &[]).load().unwrap();
        assert!(none.catalogue.rules().is_empty() && none.sigma.is_none());
    }

    #[test]
    fn severities_parse_case_insensitively() {
        assert_eq!(severity_arg("HIGH"), Ok(Severity::High));
        assert_eq!(severity_arg("info"), Ok(Severity::Informational));
        assert!(severity_arg("urgent").is_err());
    }
}
