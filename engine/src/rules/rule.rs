//! One rule: the documented rule-file format and its compiled form.
//!
//! Rule files are YAML (`version: 1`, then `rules:`), the same format for the
//! built-in catalogue and for user files. Unknown keys are errors, so a typo
//! never turns into a silently ignored setting.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::filter_pattern::FilterPattern;
use super::precision::{Callers, Failures, Precision};

/// How urgent a rule's matches are. Ordered: `Informational < ... < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Context, not a problem.
    Informational,
    /// Worth a look.
    Low,
    /// Needs attention.
    Medium,
    /// Likely a security problem.
    High,
    /// Act now.
    Critical,
}

impl Severity {
    /// The lowercase name used in files, findings and SNS attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A per-record property a metric can be split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// `recipientAccountId` (the account the event belongs to), as `Account`.
    Account,
    /// `awsRegion`, as `Region`.
    Region,
}

impl Dimension {
    /// The CloudWatch dimension name.
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Account => "Account",
            Dimension::Region => "Region",
        }
    }
}

/// What a rule counts, when it feeds a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Metric name, e.g. `RootAccountUsage`.
    pub name: String,
    /// Namespace; the deployment's default (`TRAILGUARD_NAMESPACE`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Amount added per matching record (CloudWatch's `metricValue`), default 1.
    #[serde(default = "one")]
    pub value: f64,
    /// CloudWatch unit, default `Count`.
    #[serde(default = "count")]
    pub unit: String,
    /// Dimensions to split by; none by default, which is what CIS alarms expect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
}

fn one() -> f64 {
    1.0
}

fn count() -> String {
    "Count".to_owned()
}

fn yes() -> bool {
    true
}

/// A rule as written in a rule file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable identifier: lowercase letters, digits, `-`, `_`, `.`.
    pub id: String,
    /// One-line summary, used in finding subjects.
    pub title: String,
    /// What the rule detects and why it matters.
    #[serde(default)]
    pub description: String,
    /// Severity of a match.
    pub severity: Severity,
    /// `scheme:id` references, e.g. `securityhub:CloudWatch.1`, `attack:T1078.004`.
    #[serde(default)]
    pub references: Vec<String>,
    /// Where the rule text comes from (attribution), if copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A CloudWatch Logs JSON filter pattern (plus `[*]` for any array element).
    pub pattern: String,
    /// The metric this rule feeds, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<MetricSpec>,
    /// Whether a match is published as a finding.
    #[serde(default = "yes")]
    pub finding: bool,
    /// `false` removes a rule of the same id loaded earlier (e.g. a built-in one).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How a failed call is reported: `attempt` (default) or `signal`
    /// (see [`super::precision`]).
    #[serde(default, skip_serializing_if = "is_default")]
    pub failures: Failures,
    /// Whose calls count: `principals` (default; AWS services left out) or
    /// `any`.
    #[serde(default, skip_serializing_if = "is_default")]
    pub callers: Callers,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// A rule file: `version: 1` and its rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Format version; only 1 exists.
    pub version: u32,
    /// The rules, in order.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Accepted activity that must not notify (see [`crate::findings::suppress`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressions: Vec<crate::findings::Suppression>,
}

/// A rule ready to evaluate: its spec and its compiled pattern.
#[derive(Debug, Clone)]
pub struct Rule {
    spec: RuleSpec,
    pattern: FilterPattern,
    origin: String,
}

impl Rule {
    /// Compiles a spec, checking everything that can be checked without data.
    /// `origin` names the file or object the rule came from.
    pub fn compile(spec: RuleSpec, origin: &str) -> Result<Rule, String> {
        validate_id(&spec.id)?;
        if spec.title.trim().is_empty() {
            return Err("title is empty".to_owned());
        }
        for reference in &spec.references {
            validate_reference(reference)?;
        }
        if let Some(metric) = &spec.metric {
            validate_metric(metric)?;
        }
        let pattern = FilterPattern::parse(&spec.pattern).map_err(|e| format!("pattern: {e}"))?;
        Ok(Rule {
            spec,
            pattern,
            origin: origin.to_owned(),
        })
    }

    /// The rule's id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }

    /// The rule as written.
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    /// The compiled filter pattern.
    pub fn pattern(&self) -> &FilterPattern {
        &self.pattern
    }

    /// The file or object this rule was loaded from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// How the rule's matches become findings.
    pub fn precision(&self) -> Precision {
        Precision {
            failures: self.spec.failures,
            callers: self.spec.callers,
        }
    }

    /// Sets whether a match is published as a finding.
    pub(crate) fn set_finding(&mut self, finding: bool) {
        self.spec.finding = finding;
    }
}

fn validate_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "id {id:?} must be non-empty lowercase letters, digits, '-', '_' or '.'"
        ))
    }
}

fn validate_reference(reference: &str) -> Result<(), String> {
    match reference.split_once(':') {
        Some((scheme, id))
            if !scheme.is_empty()
                && !id.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.')) =>
        {
            Ok(())
        }
        _ => Err(format!(
            "reference {reference:?} is not `scheme:id` (e.g. securityhub:CloudWatch.1)"
        )),
    }
}

fn validate_metric(metric: &MetricSpec) -> Result<(), String> {
    // CloudWatch limits: names up to 255 characters, finite values.
    if metric.name.is_empty() || metric.name.len() > 255 {
        return Err(format!(
            "metric name {:?} must be 1-255 characters",
            metric.name
        ));
    }
    if let Some(ns) = &metric.namespace
        && (ns.is_empty() || ns.len() > 255 || ns.starts_with("AWS/"))
    {
        return Err(format!(
            "metric namespace {ns:?} must be 1-255 characters and not start with AWS/"
        ));
    }
    if !metric.value.is_finite() {
        return Err("metric value must be a finite number".to_owned());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: &str, pattern: &str) -> RuleSpec {
        RuleSpec {
            id: id.to_owned(),
            title: "t".to_owned(),
            description: String::new(),
            severity: Severity::Low,
            references: vec!["attack:T1078.004".to_owned()],
            source: None,
            pattern: pattern.to_owned(),
            metric: None,
            finding: true,
            enabled: true,
            failures: Failures::Attempt,
            callers: Callers::Principals,
        }
    }

    #[test]
    fn compiles_a_valid_rule() {
        let rule = Rule::compile(spec("x-1", r#"{ $.eventName = "A" }"#), "f.yaml").unwrap();
        assert_eq!(rule.id(), "x-1");
        assert_eq!(rule.origin(), "f.yaml");
    }

    #[test]
    fn rejects_bad_ids_references_patterns_and_metrics() {
        assert!(
            Rule::compile(spec("Upper", "{ $.a = 1 }"), "f")
                .unwrap_err()
                .contains("id")
        );
        let mut bad_ref = spec("x", "{ $.a = 1 }");
        bad_ref.references = vec!["T1078".to_owned()];
        assert!(
            Rule::compile(bad_ref, "f")
                .unwrap_err()
                .contains("scheme:id")
        );
        let err = Rule::compile(spec("x", "{ $.a == 1 }"), "f").unwrap_err();
        assert!(err.starts_with("pattern: "), "{err}");
        let mut bad_ns = spec("x", "{ $.a = 1 }");
        bad_ns.metric = Some(MetricSpec {
            name: "M".to_owned(),
            namespace: Some("AWS/EC2".to_owned()),
            value: 1.0,
            unit: count(),
            dimensions: vec![],
        });
        assert!(
            Rule::compile(bad_ns, "f")
                .unwrap_err()
                .contains("namespace")
        );
    }

    #[test]
    fn severity_orders_by_urgency() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Informational);
        assert_eq!(Severity::Medium.to_string(), "medium");
    }
}
