//! The tuning of the bundled SigmaHQ rules (`rules/sigma-tuning.yaml`).
//!
//! The bundled rule files stay byte-identical to SigmaHQ's; what they do by
//! default in trailguard is set here instead, one entry per rule id, each
//! with the reason: a `level` override, `enabled: false` (off by default),
//! and the precision settings of [`crate::rules::precision`]. The tuning
//! applies only to the bundled text of a rule: a user who loads their own
//! copy of a rule (same id) gets it as written.

use std::collections::HashMap;

use serde::Deserialize;

use super::rule::SigmaRule;
use crate::rules::{Callers, Failures, Severity};

/// The tuning file, embedded.
pub const TUNING_FILE: (&str, &str) = (
    "sigma-tuning.yaml",
    include_str!("../../rules/sigma-tuning.yaml"),
);

/// `rules/sigma-tuning.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TuningFile {
    version: u32,
    rules: Vec<Tuning>,
}

/// The tuning of one bundled rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// The rule's Sigma id.
    pub id: String,
    /// The bundled file that holds it (checked by the tests).
    pub file: String,
    /// Why the rule is tuned; required.
    pub reason: String,
    /// `false`: the rule is off by default.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// A Sigma level replacing the rule's own.
    #[serde(default)]
    pub level: Option<String>,
    /// How failed calls are reported.
    #[serde(default)]
    pub failures: Option<Failures>,
    /// Whose calls count.
    #[serde(default)]
    pub callers: Option<Callers>,
}

fn yes() -> bool {
    true
}

impl Tuning {
    /// The severity `level` names, if any.
    pub fn severity(&self) -> Result<Option<Severity>, String> {
        let Some(level) = &self.level else {
            return Ok(None);
        };
        // Sigma's levels have the names of trailguard's severities.
        yaml_serde::from_str::<Severity>(level)
            .map(Some)
            .map_err(|_| format!("rule {}: level {level:?} is not a Sigma level", self.id))
    }

    /// Applies the level and precision settings to `rule`.
    pub(super) fn apply(&self, rule: &mut SigmaRule) {
        if let Ok(Some(severity)) = self.severity() {
            rule.severity = severity;
        }
        if let Some(failures) = self.failures {
            rule.precision.failures = failures;
        }
        if let Some(callers) = self.callers {
            rule.precision.callers = callers;
        }
    }
}

/// The tuning entries by rule id, or why the file does not load.
pub fn builtin_tuning() -> Result<HashMap<String, Tuning>, String> {
    parse(TUNING_FILE.1)
}

fn parse(text: &str) -> Result<HashMap<String, Tuning>, String> {
    let file: TuningFile = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    if file.version != 1 {
        return Err(format!(
            "version {} is not supported (expected 1)",
            file.version
        ));
    }
    let mut by_id = HashMap::new();
    for entry in file.rules {
        if entry.reason.trim().is_empty() {
            return Err(format!("rule {}: reason is empty", entry.id));
        }
        entry.severity()?;
        if let Some(earlier) = by_id.insert(entry.id.clone(), entry) {
            return Err(format!("rule {}: tuned twice", earlier.id));
        }
    }
    Ok(by_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_tuning_loads() {
        let tuning = builtin_tuning().expect("sigma-tuning.yaml loads");
        assert!(!tuning.is_empty());
    }

    #[test]
    fn entries_need_a_reason_a_level_and_one_place() {
        let bad = [
            "version: 1\nrules:\n  - {id: a, file: a.yml, reason: ' ', enabled: false}\n",
            "version: 1\nrules:\n  - {id: a, file: a.yml, reason: r, level: loud}\n",
            "version: 1\nrules:\n  - {id: a, file: a.yml, reason: r}\n  - {id: a, file: a.yml, reason: r}\n",
            "version: 2\nrules: []\n",
            "version: 1\nrules:\n  - {id: a, file: a.yml, reason: r, severity: low}\n",
        ];
        for text in bad {
            assert!(parse(text).is_err(), "{text}");
        }
        let good = parse(
            "version: 1\nrules:\n  - {id: a, file: a.yml, reason: r, level: informational, failures: signal}\n",
        )
        .expect("parses");
        let entry = good.get("a").expect("entry a");
        assert_eq!(entry.severity(), Ok(Some(Severity::Informational)));
        assert_eq!(entry.failures, Some(Failures::Signal));
    }
}
