//! A correlation document made ready to evaluate: its references resolved
//! to loaded rules, its fields resolved through its aliases.

use std::collections::HashMap;

use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationType, Quantifier,
    SelectorPattern, WindowMode,
};

use crate::sigma::Severity;
use crate::sigma::rule::{SigmaRule, reference_for_tag, severity_of_level};

/// The correlation types trailguard evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationKind {
    /// Matching events per group within the timespan.
    EventCount,
    /// Distinct values of a field per group within the timespan.
    ValueCount,
    /// Every referenced rule (or the condition's set) matched within the timespan.
    Temporal,
    /// Every referenced rule matched within the timespan, in the listed order.
    TemporalOrdered,
    /// The sum of a numeric field per group within the timespan.
    ValueSum,
    /// The mean of a numeric field per group within the timespan.
    ValueAvg,
    /// A percentile of a numeric field (`condition.percentile`, 50 by
    /// default) per group within the timespan.
    ValuePercentile,
    /// The median of a numeric field per group within the timespan.
    ValueMedian,
}

impl CorrelationKind {
    /// The Sigma name, e.g. `event_count`.
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
            CorrelationKind::ValueSum => "value_sum",
            CorrelationKind::ValueAvg => "value_avg",
            CorrelationKind::ValuePercentile => "value_percentile",
            CorrelationKind::ValueMedian => "value_median",
        }
    }

    /// Whether the rule measures a field's values (distinct, or numeric).
    pub fn reads_values(self) -> bool {
        self != CorrelationKind::EventCount && !self.is_temporal()
    }

    /// Whether the rule aggregates a numeric field.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            CorrelationKind::ValueSum
                | CorrelationKind::ValueAvg
                | CorrelationKind::ValuePercentile
                | CorrelationKind::ValueMedian
        )
    }

    /// `temporal` or `temporal_ordered`.
    pub fn is_temporal(self) -> bool {
        matches!(
            self,
            CorrelationKind::Temporal | CorrelationKind::TemporalOrdered
        )
    }
}

/// A comparison of a threshold condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `eq`
    Eq,
    /// `neq`
    Neq,
}

/// When a window satisfies the rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every predicate holds for the window's measure (a count, distinct
    /// values, or for `temporal` the number of referenced rules seen).
    Threshold(Vec<(Op, u64)>),
    /// Every referenced rule was seen (`temporal` without a condition).
    AllRules,
    /// A boolean expression over the referenced rules' names (`temporal`).
    Expression(ConditionExpr),
}

impl Condition {
    /// Whether `measure` (a count) satisfies every predicate.
    pub fn holds(&self, measure: u64) -> bool {
        self.all(|op, n| op.compares(measure, n))
    }

    /// Whether a numeric `measure` (a sum, mean or percentile) satisfies
    /// every predicate.
    pub fn holds_value(&self, measure: f64) -> bool {
        // Thresholds are whole numbers in Sigma; exact as f64 up to 2^53.
        self.all(|op, n| op.compares(measure, n as f64))
    }

    fn all(&self, holds: impl Fn(Op, u64) -> bool) -> bool {
        match self {
            Condition::Threshold(predicates) => predicates.iter().all(|&(op, n)| holds(op, n)),
            Condition::AllRules | Condition::Expression(_) => false,
        }
    }
}

impl Op {
    /// `measure <op> threshold`.
    fn compares<T: PartialOrd>(self, measure: T, threshold: T) -> bool {
        match self {
            Op::Lt => measure < threshold,
            Op::Lte => measure <= threshold,
            Op::Gt => measure > threshold,
            Op::Gte => measure >= threshold,
            Op::Eq => measure == threshold,
            Op::Neq => measure != threshold,
        }
    }
}

/// A field a correlation reads, per referenced rule (aliases may name a
/// different field in each rule's events).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationField {
    /// The name as the correlation writes it (an alias, or a field path).
    pub name: String,
    /// The dotted field path for each referenced rule, in reference order.
    pub paths: Vec<String>,
}

impl CorrelationField {
    /// The path to read in events of referenced rule `rule`.
    pub fn path(&self, rule: usize) -> &str {
        self.paths
            .get(rule)
            .map_or(self.name.as_str(), String::as_str)
    }
}

/// A correlation rule ready to evaluate.
#[derive(Debug, Clone)]
pub struct CorrelationRule {
    /// The rule's `id`.
    pub id: String,
    /// The rule's `name`, if any.
    pub name: Option<String>,
    /// One-line title.
    pub title: String,
    /// What it detects.
    pub description: String,
    /// From the rule's `level`.
    pub severity: Severity,
    /// Tags as `scheme:id` references.
    pub references: Vec<String>,
    /// Where it was loaded from.
    pub origin: String,
    /// The rule's `author`.
    pub author: Option<String>,
    /// The type.
    pub kind: CorrelationKind,
    /// The references as written (ids or names), in order.
    pub refs: Vec<String>,
    /// The ids of the referenced rules, in the same order.
    pub rules: Vec<String>,
    /// `group-by`, in order.
    pub group_by: Vec<CorrelationField>,
    /// `timespan`, in seconds.
    pub timespan: u64,
    /// When a window fires.
    pub condition: Condition,
    /// `condition.field` of a `value_count` rule or a numeric aggregation.
    pub value_field: Option<CorrelationField>,
    /// `condition.percentile` of a `value_percentile` rule (0-100, 50 when
    /// not given).
    pub percentile: u64,
    /// `generate`: whether the referenced rules also report their own matches.
    pub generate: bool,
}

/// Compiles a parsed correlation against the loaded rules, or says why it
/// cannot run.
pub(super) fn compile(
    parsed: &rsigma_parser::CorrelationRule,
    origin: &str,
    rules: &[SigmaRule],
    correlations: &[CorrelationRule],
) -> Result<CorrelationRule, String> {
    let id = parsed
        .id
        .clone()
        .filter(|id| !id.trim().is_empty())
        .ok_or("has no `id`; add one (a UUID), since findings are keyed by rule id")?;
    let kind = kind_of(parsed.correlation_type);
    if parsed.window != WindowMode::Sliding {
        return Err(format!(
            "window `{}` is not supported (sliding windows only)",
            parsed.window.as_str()
        ));
    }
    if parsed.timespan.seconds == 0 {
        return Err("timespan must be at least one second".to_owned());
    }
    if parsed.rules.is_empty() {
        return Err("references no rule".to_owned());
    }
    let ids = parsed
        .rules
        .iter()
        .map(|reference| resolve(reference, rules, correlations))
        .collect::<Result<Vec<_>, _>>()?;
    let field = |name: &str| field_of(name, parsed);
    let (condition, value_field) = condition_of(&parsed.condition, kind, &parsed.rules)?;
    let percentile = match &parsed.condition {
        CorrelationCondition::Threshold {
            percentile: Some(p),
            ..
        } if *p > 100 => return Err(format!("percentile {p} is not within 0-100")),
        CorrelationCondition::Threshold {
            percentile: Some(p),
            ..
        } => *p,
        _ => 50,
    };
    let mut references = Vec::new();
    for reference in parsed.tags.iter().map(|t| reference_for_tag(t)) {
        if !references.contains(&reference) {
            references.push(reference);
        }
    }
    Ok(CorrelationRule {
        id,
        name: parsed.name.clone(),
        title: parsed.title.clone(),
        description: parsed.description.clone().unwrap_or_default(),
        severity: severity_of_level(parsed.level),
        references,
        origin: origin.to_owned(),
        author: parsed.author.clone(),
        kind,
        refs: parsed.rules.clone(),
        rules: ids,
        group_by: parsed.group_by.iter().map(|g| field(g)).collect(),
        timespan: parsed.timespan.seconds,
        condition,
        value_field: value_field.map(|f| field(&f)),
        percentile,
        generate: parsed.generate,
    })
}

fn kind_of(kind: CorrelationType) -> CorrelationKind {
    match kind {
        CorrelationType::EventCount => CorrelationKind::EventCount,
        CorrelationType::ValueCount => CorrelationKind::ValueCount,
        CorrelationType::Temporal => CorrelationKind::Temporal,
        CorrelationType::TemporalOrdered => CorrelationKind::TemporalOrdered,
        CorrelationType::ValueSum => CorrelationKind::ValueSum,
        CorrelationType::ValueAvg => CorrelationKind::ValueAvg,
        CorrelationType::ValuePercentile => CorrelationKind::ValuePercentile,
        CorrelationType::ValueMedian => CorrelationKind::ValueMedian,
    }
}

/// The id of the rule `reference` names: a detection rule, or a
/// correlation loaded before (chaining), by id or by name.
fn resolve(
    reference: &str,
    rules: &[SigmaRule],
    correlations: &[CorrelationRule],
) -> Result<String, String> {
    detection_rule(reference, rules)
        .map(|r| r.id().to_owned())
        .or_else(|| named(reference, correlations).map(|c| c.id.clone()))
        .ok_or_else(|| {
            format!(
                "references `{reference}`, which no loaded rule or correlation has as id or name"
            )
        })
}

/// The detection rule among `rules` that `reference` names: by id first,
/// else by name.
fn detection_rule<'r>(reference: &str, rules: &'r [SigmaRule]) -> Option<&'r SigmaRule> {
    rules
        .iter()
        .find(|r| r.id() == reference)
        .or_else(|| rules.iter().find(|r| r.name() == Some(reference)))
}

/// The correlation among `correlations` that `reference` names, by id or
/// by name.
pub(super) fn named<'c>(
    reference: &str,
    correlations: &'c [CorrelationRule],
) -> Option<&'c CorrelationRule> {
    correlations
        .iter()
        .find(|c| c.id == reference || c.name.as_deref() == Some(reference))
}

/// The references of `parsed` that name none of `rules`: correlations it
/// chains on, which must be compiled first.
pub(super) fn chained_references<'p>(
    parsed: &'p rsigma_parser::CorrelationRule,
    rules: &[SigmaRule],
) -> impl Iterator<Item = &'p str> {
    parsed
        .rules
        .iter()
        .map(String::as_str)
        .filter(|reference| detection_rule(reference, rules).is_none())
}

/// A field name resolved through the rule's aliases, per reference.
fn field_of(name: &str, parsed: &rsigma_parser::CorrelationRule) -> CorrelationField {
    let alias: Option<&HashMap<String, String>> = parsed
        .aliases
        .iter()
        .find(|a| a.alias == name)
        .map(|a| &a.mapping);
    let paths = parsed
        .rules
        .iter()
        .map(|reference| {
            alias
                .and_then(|m| m.get(reference))
                .cloned()
                .unwrap_or_else(|| name.to_owned())
        })
        .collect();
    CorrelationField {
        name: name.to_owned(),
        paths,
    }
}

/// The condition, and the field a `value_count` rule counts.
fn condition_of(
    condition: &CorrelationCondition,
    kind: CorrelationKind,
    refs: &[String],
) -> Result<(Condition, Option<String>), String> {
    let threshold = match condition {
        CorrelationCondition::Extended(expr) => {
            if kind != CorrelationKind::Temporal {
                return Err("a condition expression is only valid for `temporal`".to_owned());
            }
            check_expression(expr, refs)?;
            return Ok((Condition::Expression(expr.clone()), None));
        }
        CorrelationCondition::Threshold {
            predicates, field, ..
        } => (predicates, field),
    };
    let (predicates, field) = threshold;
    let ops: Vec<(Op, u64)> = predicates.iter().map(|&(op, n)| (op_of(op), n)).collect();
    let field = field.as_ref().and_then(|f| f.first().cloned());
    match kind {
        kind if kind.reads_values() && field.is_none() => {
            Err(format!("{} needs `condition.field`", kind.as_str()))
        }
        // The parser gives a temporal rule without a condition `gte: 1`;
        // the Sigma specification means "every referenced rule".
        CorrelationKind::Temporal | CorrelationKind::TemporalOrdered if ops == [(Op::Gte, 1)] => {
            Ok((Condition::AllRules, None))
        }
        CorrelationKind::TemporalOrdered => Ok((Condition::AllRules, None)),
        _ => Ok((Condition::Threshold(ops), field)),
    }
}

fn op_of(op: ConditionOperator) -> Op {
    match op {
        ConditionOperator::Lt => Op::Lt,
        ConditionOperator::Lte => Op::Lte,
        ConditionOperator::Gt => Op::Gt,
        ConditionOperator::Gte => Op::Gte,
        ConditionOperator::Eq => Op::Eq,
        ConditionOperator::Neq => Op::Neq,
    }
}

/// Expressions may name the referenced rules, and `... of them`.
fn check_expression(expr: &ConditionExpr, refs: &[String]) -> Result<(), String> {
    match expr {
        ConditionExpr::And(parts) | ConditionExpr::Or(parts) => parts
            .iter()
            .try_for_each(|part| check_expression(part, refs)),
        ConditionExpr::Not(inner) => check_expression(inner, refs),
        ConditionExpr::Identifier(name) if refs.contains(name) => Ok(()),
        ConditionExpr::Identifier(name) => Err(format!(
            "the condition names `{name}`, which is not among the referenced rules"
        )),
        ConditionExpr::Selector {
            pattern: SelectorPattern::Them,
            ..
        } => Ok(()),
        ConditionExpr::Selector { .. } => {
            Err("only `... of them` selectors are supported in a condition".to_owned())
        }
    }
}

/// Evaluates a checked expression over which referenced rules were seen.
pub(super) fn expression_holds(expr: &ConditionExpr, refs: &[String], seen: &[bool]) -> bool {
    let seen_ref = |name: &str| {
        refs.iter()
            .position(|r| r == name)
            .and_then(|i| seen.get(i).copied())
            .unwrap_or(false)
    };
    match expr {
        ConditionExpr::And(parts) => parts.iter().all(|p| expression_holds(p, refs, seen)),
        ConditionExpr::Or(parts) => parts.iter().any(|p| expression_holds(p, refs, seen)),
        ConditionExpr::Not(inner) => !expression_holds(inner, refs, seen),
        ConditionExpr::Identifier(name) => seen_ref(name),
        ConditionExpr::Selector { quantifier, .. } => {
            let count = seen.iter().filter(|s| **s).count() as u64;
            match quantifier {
                Quantifier::Any => count >= 1,
                Quantifier::All => count == seen.len() as u64,
                Quantifier::Count(n) => count >= *n,
            }
        }
    }
}
