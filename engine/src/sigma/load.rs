//! Turning Sigma YAML files into rules, and saying why a rule was not loaded.
//!
//! A Sigma file may hold several documents. Every document ends up either as
//! a loaded rule or as a [`SkippedRule`] naming its file, its title or id when
//! known, and a [`SkipReason`]. One bad rule never stops the others loading.

use std::fmt;

use rsigma_parser::{Detection, Modifier, SigmaCollection, Status};
use serde::Deserialize;
use thiserror::Error;

use super::correlation::Pending;
use super::rule::{SigmaRule, file_name};
use crate::rules::nesting::check_nesting;

/// Why a Sigma document was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SkipReason {
    /// The YAML, or the rule structure in it, does not parse.
    #[error("does not parse: {0}")]
    Parse(String),
    /// The detection parsed but does not compile (bad modifier combination, regex, ...).
    #[error("detection does not compile: {0}")]
    Compile(String),
    /// SigmaHQ marks the rule `status: unsupported`: it needs features a
    /// one-record-at-a-time engine lacks (aggregation, correlation).
    #[error("status is `unsupported`: the rule needs aggregation or correlation across records")]
    Unsupported,
    /// The rule uses `|expand` placeholders, which need deployment-specific values.
    #[error(
        "uses `|expand` placeholders ({0}) that need deployment-specific values; \
         write a copy of the rule with the values filled in"
    )]
    Placeholder(String),
    /// The rule has no `id`. Findings are keyed by rule id, so one is required.
    #[error("has no `id`; add one (a UUID), since findings are keyed by rule id")]
    MissingId,
    /// A Sigma correlation document that cannot run, for this reason.
    #[error("correlation rule cannot run: {0}")]
    Correlation(String),
    /// A Sigma filter document. Filters amend other rules; they are not applied.
    #[error("is a filter document, which is not applied; amend the rule itself instead")]
    Filter,
    /// The bundled tuning (`sigma-tuning.yaml`) turns the rule off by
    /// default, for this reason.
    #[error("off by default (sigma-tuning.yaml): {0}")]
    Off(String),
    /// A later rule with the same id replaced this one.
    #[error("replaced by the rule with the same id from {0}")]
    Replaced(String),
}

/// A Sigma document that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedRule {
    /// The file the document came from, as given to the loader.
    pub origin: String,
    /// The document's `title`, when it could be read.
    pub title: Option<String>,
    /// The document's `id`, when it could be read.
    pub id: Option<String>,
    /// Why it was not loaded.
    pub reason: SkipReason,
}

impl SkippedRule {
    /// The last component of the origin, e.g. `aws_enum_listing.yml`.
    pub fn file_name(&self) -> &str {
        file_name(&self.origin)
    }
}

impl fmt::Display for SkippedRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(name) = self.title.as_ref().or(self.id.as_ref()) {
            write!(f, " ({name:?})")?;
        }
        write!(f, " {}", self.reason)
    }
}

/// Every detection document of one file, loaded or skipped, in file
/// order; its correlation documents go to `correlations`, to be resolved
/// once every file is loaded (they may refer to rules of other files).
pub(super) fn load_file(
    origin: &str,
    yaml: &str,
    correlations: &mut Vec<Pending>,
) -> Vec<Result<SigmaRule, SkippedRule>> {
    let skipped = |title: Option<String>, id: Option<String>, reason| SkippedRule {
        origin: origin.to_owned(),
        title,
        id,
        reason,
    };
    // Before any YAML parse (naming the rule would be one): deep nesting
    // is slow to parse, not merely wrong.
    if let Err(reason) = check_nesting(yaml) {
        return vec![Err(skipped(None, None, SkipReason::Parse(reason)))];
    }
    let collection = match rsigma_parser::parse_sigma_yaml(yaml) {
        Ok(collection) => collection,
        Err(e) => {
            let (title, id) = sole_document_names(yaml);
            return vec![Err(skipped(title, id, SkipReason::Parse(one_line(&e))))];
        }
    };
    let SigmaCollection {
        rules,
        correlations: correlations_found,
        filters,
        errors,
    } = collection;
    let mut out = Vec::new();
    if !errors.is_empty() {
        // rsigma does not say which document an error belongs to; in the
        // usual one-document file it can only be that one.
        let (title, id) = sole_document_names(yaml);
        for error in &errors {
            out.push(Err(skipped(
                title.clone(),
                id.clone(),
                SkipReason::Parse(one_line(error)),
            )));
        }
    }
    for rule in &rules {
        out.push(
            load_rule(rule, origin)
                .map_err(|reason| skipped(Some(rule.title.clone()), rule.id.clone(), reason)),
        );
    }
    correlations.extend(correlations_found.into_iter().map(|parsed| Pending {
        origin: origin.to_owned(),
        parsed,
    }));
    for filter in filters {
        out.push(Err(skipped(
            Some(filter.title),
            filter.id,
            SkipReason::Filter,
        )));
    }
    out
}

/// Checks and compiles one parsed detection rule.
fn load_rule(rule: &rsigma_parser::SigmaRule, origin: &str) -> Result<SigmaRule, SkipReason> {
    if rule.status == Some(Status::Unsupported) {
        return Err(SkipReason::Unsupported);
    }
    let mut placeholders = Vec::new();
    for detection in rule.detection.named.values() {
        collect_placeholders(detection, &mut placeholders);
    }
    if !placeholders.is_empty() {
        placeholders.sort();
        placeholders.dedup();
        return Err(SkipReason::Placeholder(placeholders.join(", ")));
    }
    let Some(id) = rule.id.clone().filter(|id| !id.trim().is_empty()) else {
        return Err(SkipReason::MissingId);
    };
    let compiled =
        rsigma_eval::compile_rule(rule).map_err(|e| SkipReason::Compile(one_line(&e)))?;
    Ok(SigmaRule::new(rule, id, compiled, origin))
}

/// The values of `|expand` items, e.g. `%Legitimate_Countries%`.
fn collect_placeholders(detection: &Detection, out: &mut Vec<String>) {
    match detection {
        Detection::AllOf(items) => {
            for item in items {
                if item.field.has_modifier(Modifier::Expand) {
                    out.extend(item.values.iter().map(|v| v.to_string()));
                }
            }
        }
        Detection::AnyOf(detections) | Detection::And(detections) => {
            for d in detections {
                collect_placeholders(d, out);
            }
        }
        Detection::ArrayMatch { body, .. } => collect_placeholders(body, out),
        Detection::Conditional { named, .. } => {
            for d in named.values() {
                collect_placeholders(d, out);
            }
        }
        Detection::Keywords(_) => {}
    }
}

/// `title` and `id` of a file's only document, read leniently so that a rule
/// rsigma rejects can still be named.
fn sole_document_names(yaml: &str) -> (Option<String>, Option<String>) {
    #[derive(Deserialize)]
    struct Names {
        title: Option<String>,
        id: Option<String>,
    }
    let mut documents = yaml_serde::Deserializer::from_str(yaml);
    let first = documents.next().and_then(|d| Names::deserialize(d).ok());
    // A second document makes the attribution ambiguous. Reading stops at
    // the second document: the stream is not guaranteed to end after a
    // malformed one.
    match (first, documents.next()) {
        (Some(names), None) => (names.title, names.id),
        _ => (None, None),
    }
}

/// An error message on one line, for one-line summaries and log fields.
fn one_line(message: &impl fmt::Display) -> String {
    message
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(origin: &str, yaml: &str) -> Vec<Result<String, SkipReason>> {
        load_file(origin, yaml, &mut Vec::new())
            .into_iter()
            .map(|r| r.map(|rule| rule.id().to_owned()).map_err(|s| s.reason))
            .collect()
    }

    const GOOD: &str = "title: Good\nid: 11111111-1111-1111-1111-111111111111\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  selection: {eventName: StopLogging}\n  condition: selection\nlevel: high\n";

    #[test]
    fn a_valid_rule_loads_with_its_id() {
        assert_eq!(
            reasons("good.yml", GOOD),
            vec![Ok("11111111-1111-1111-1111-111111111111".to_owned())]
        );
    }

    #[test]
    fn aggregation_conditions_are_parse_errors_naming_the_rule() {
        let yaml = "title: Many lists\nid: x-1\nstatus: unsupported\nlogsource: {product: aws}\ndetection:\n  selection: {eventName: 'list*'}\n  timeframe: 10m\n  condition: selection | count() > 50\n";
        let out = load_file("dir/enum.yml", yaml, &mut Vec::new());
        assert_eq!(out.len(), 1);
        let Some(Err(skipped)) = out.into_iter().next() else {
            panic!("expected a skipped rule");
        };
        assert!(matches!(skipped.reason, SkipReason::Parse(ref m) if !m.contains('\n')));
        assert_eq!(skipped.title.as_deref(), Some("Many lists"));
        assert_eq!(skipped.id.as_deref(), Some("x-1"));
        assert_eq!(skipped.file_name(), "enum.yml");
    }

    #[test]
    fn unsupported_placeholder_and_idless_rules_are_skipped() {
        let unsupported = GOOD.replace("level: high", "status: unsupported");
        assert_eq!(
            reasons("u.yml", &unsupported),
            vec![Err(SkipReason::Unsupported)]
        );
        let placeholder = GOOD.replace(
            "selection: {eventName: StopLogging}",
            "selection: {eventName: StopLogging}\n  filter: {src_ip|expand: '%Allowed_IPs%'}",
        );
        assert_eq!(
            reasons("p.yml", &placeholder),
            vec![Err(SkipReason::Placeholder("%Allowed_IPs%".to_owned()))]
        );
        let idless = GOOD.replace("id: 11111111-1111-1111-1111-111111111111\n", "");
        assert_eq!(reasons("n.yml", &idless), vec![Err(SkipReason::MissingId)]);
    }

    #[test]
    fn bad_yaml_and_bad_detections_are_skipped_with_reasons() {
        assert!(matches!(
            reasons("bad.yml", "title: [unclosed").as_slice(),
            [Err(SkipReason::Parse(_))]
        ));
        let bad_regex = GOOD.replace("eventName: StopLogging", "eventName|re: '('");
        assert!(matches!(
            reasons("re.yml", &bad_regex).as_slice(),
            [Err(SkipReason::Compile(_))]
        ));
    }

    #[test]
    fn correlation_documents_are_set_aside_and_their_rules_kept() {
        let yaml = format!(
            "{GOOD}---\ntitle: Many\nid: corr-1\ncorrelation:\n  type: event_count\n  rules: [11111111-1111-1111-1111-111111111111]\n  group-by: [userIdentity.arn]\n  timespan: 1h\n  condition: {{gte: 10}}\n"
        );
        let mut pending = Vec::new();
        let loaded = load_file("c.yml", &yaml, &mut pending);
        assert_eq!(loaded.len(), 1);
        assert!(loaded.iter().all(Result::is_ok));
        assert_eq!(pending.len(), 1);
        assert_eq!(
            pending.first().map(|p| p.parsed.title.as_str()),
            Some("Many")
        );
    }

    #[test]
    fn deeply_nested_yaml_is_skipped_before_parsing() {
        let deep = format!("title: Deep\nid: x\ndetection: {}", "{a: [".repeat(50_000));
        let reasons = reasons("deep.yml", &deep);
        assert!(
            matches!(reasons.as_slice(), [Err(SkipReason::Parse(m))] if m.contains("nest more than 128")),
            "{reasons:?}"
        );
    }

    #[test]
    fn skipped_rules_display_origin_name_and_reason() {
        let s = SkippedRule {
            origin: "rules/a.yml".to_owned(),
            title: Some("A".to_owned()),
            id: None,
            reason: SkipReason::MissingId,
        };
        assert_eq!(
            s.to_string(),
            "rules/a.yml (\"A\") has no `id`; add one (a UUID), since findings are keyed by rule id"
        );
    }
}
