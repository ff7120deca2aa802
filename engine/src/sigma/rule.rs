//! One loaded Sigma rule: what a finding needs to say about it, and its
//! compiled detection.
//!
//! Sigma's `level` becomes a [`Severity`] and its `tags` become `scheme:id`
//! references, the same vocabulary trailguard's own rules use:
//!
//! | Sigma tag                | reference                      |
//! |--------------------------|--------------------------------|
//! | `attack.t1562.008`       | `attack:T1562.008`             |
//! | `attack.defense-evasion` | `attack-tactic:defense-evasion`|
//! | anything else, e.g. `attack.g0016`, `cve.2021-44228` | `sigma-tag:<tag>` |

use rsigma_eval::CompiledRule;
use rsigma_eval::event::Event;
use rsigma_parser::Level;
use serde_json::Value;

use super::event::RecordEvent;
use crate::rules::Precision;
pub use crate::rules::Severity;

/// The severity of a Sigma `level`. Sigma makes `level` optional; a rule
/// without one is reported as medium, the middle of the scale, so that it is
/// neither dropped by a severity threshold nor paged on.
pub fn severity_of_level(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Informational,
        Some(Level::Low) => Severity::Low,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// The `scheme:id` reference for one Sigma tag (see the module table).
pub fn reference_for_tag(tag: &str) -> String {
    if let Some(rest) = tag.strip_prefix("attack.") {
        if is_technique(rest) {
            return format!("attack:{}", rest.to_ascii_uppercase());
        }
        if is_tactic(rest) {
            return format!("attack-tactic:{rest}");
        }
    }
    format!("sigma-tag:{tag}")
}

/// `t1562` or `t1562.008`: an ATT&CK technique or sub-technique id.
fn is_technique(s: &str) -> bool {
    let Some(digits) = s.strip_prefix(['t', 'T']) else {
        return false;
    };
    let (technique, sub) = match digits.split_once('.') {
        Some((technique, sub)) => (technique, Some(sub)),
        None => (digits, None),
    };
    let all_digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    all_digits(technique, 4) && sub.is_none_or(|sub| all_digits(sub, 3))
}

/// `defense-evasion`, `stealth`: a tactic short name. Groups (`g0016`),
/// software (`s0002`) and anything with digits are not tactics.
fn is_tactic(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// A Sigma detection rule ready to evaluate, with the metadata a finding
/// reports.
#[derive(Debug, Clone)]
pub struct SigmaRule {
    pub(super) id: String,
    pub(super) name: Option<String>,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) severity: Severity,
    pub(super) references: Vec<String>,
    pub(super) origin: String,
    pub(super) author: Option<String>,
    pub(super) falsepositives: Vec<String>,
    pub(super) precision: Precision,
    pub(super) compiled: CompiledRule,
}

impl SigmaRule {
    /// Builds the metadata view of a compiled rule that has an `id`.
    pub(super) fn new(
        parsed: &rsigma_parser::SigmaRule,
        id: String,
        compiled: CompiledRule,
        origin: &str,
    ) -> SigmaRule {
        let mut references: Vec<String> = Vec::with_capacity(parsed.tags.len());
        for reference in parsed.tags.iter().map(|t| reference_for_tag(t)) {
            if !references.contains(&reference) {
                references.push(reference);
            }
        }
        SigmaRule {
            id,
            name: parsed.name.clone(),
            title: parsed.title.clone(),
            description: parsed.description.clone().unwrap_or_default(),
            severity: severity_of_level(parsed.level),
            references,
            origin: origin.to_owned(),
            author: parsed.author.clone(),
            falsepositives: parsed.falsepositives.clone(),
            precision: Precision::default(),
            compiled,
        }
    }

    /// The rule's Sigma `id` (a UUID in SigmaHQ rules).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The rule's Sigma `name`, by which correlation rules may refer to it.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The rule's one-line title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What the rule detects; empty when the rule has no `description`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The severity of a match, from the rule's `level`.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The rule's tags as `scheme:id` references, in tag order, without repeats.
    pub fn references(&self) -> &[String] {
        &self.references
    }

    /// Where the rule was loaded from: the file name for built-in rules, or
    /// whatever origin the caller gave [`super::SigmaRules::load`].
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The last component of [`SigmaRule::origin`], e.g. `aws_root_account_usage.yml`.
    pub fn file_name(&self) -> &str {
        file_name(&self.origin)
    }

    /// The rule's `author` (kept for attribution, as the rule licence asks).
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    /// How the rule's matches become findings (defaults, or the bundled
    /// tuning's settings).
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Situations the rule's authors know to match harmlessly.
    pub fn falsepositives(&self) -> &[String] {
        &self.falsepositives
    }

    /// Whether this rule matches `record` (one CloudTrail record), evaluated
    /// on its own, without the index.
    pub fn matches(&self, record: &Value) -> bool {
        self.matches_event(&RecordEvent::new(record))
    }

    pub(super) fn matches_event(&self, event: &impl Event) -> bool {
        // `evaluate_rule` gives the same verdict, but on a match also builds a
        // detailed result (a second pass, header clones) that is not used.
        let mut selections = Vec::new();
        self.compiled.conditions.iter().any(|condition| {
            rsigma_eval::compiler::eval_condition(
                condition,
                &self.compiled.detections,
                event,
                &mut selections,
            )
        })
    }
}

/// The last `/`-separated component of an origin (a path or `s3://` URL).
pub(super) fn file_name(origin: &str) -> &str {
    origin.rsplit('/').next().unwrap_or(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_one_to_one_and_missing_is_medium() {
        let cases = [
            (Some(Level::Informational), Severity::Informational),
            (Some(Level::Low), Severity::Low),
            (Some(Level::Medium), Severity::Medium),
            (Some(Level::High), Severity::High),
            (Some(Level::Critical), Severity::Critical),
            (None, Severity::Medium),
        ];
        for (level, severity) in cases {
            assert_eq!(severity_of_level(level), severity, "{level:?}");
        }
        assert!(Severity::Critical > Severity::High);
        assert_eq!(Severity::High.to_string(), "high");
    }

    #[test]
    fn techniques_and_tactics_become_attack_references() {
        let cases = [
            ("attack.t1562.008", "attack:T1562.008"),
            ("attack.t1078", "attack:T1078"),
            ("attack.defense-evasion", "attack-tactic:defense-evasion"),
            ("attack.stealth", "attack-tactic:stealth"),
            ("attack.g0016", "sigma-tag:attack.g0016"),
            ("attack.s0002", "sigma-tag:attack.s0002"),
            ("attack.t15620", "sigma-tag:attack.t15620"),
            ("attack.t1562.08", "sigma-tag:attack.t1562.08"),
            ("attack.", "sigma-tag:attack."),
            ("cve.2021-44228", "sigma-tag:cve.2021-44228"),
            (
                "detection.threat-hunting",
                "sigma-tag:detection.threat-hunting",
            ),
        ];
        for (tag, reference) in cases {
            assert_eq!(reference_for_tag(tag), reference, "{tag}");
        }
    }

    #[test]
    fn file_name_is_the_last_component() {
        assert_eq!(file_name("s3://b/rules/x.yml"), "x.yml");
        assert_eq!(file_name("x.yml"), "x.yml");
    }
}
