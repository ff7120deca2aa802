//! What a rule needs of every record it matches: derived from its compiled
//! detection (see the parent module), and checked against a record's key
//! fields without rsigma's evaluation.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

use foldhash::fast::RandomState;

use memchr::memmem::Finder;
use regex_syntax::hir::{HirKind, Literal};
use rsigma_eval::event::{EventValue, JsonEvent};
use rsigma_eval::matcher::GroupMode;
use rsigma_eval::{CompiledDetection, CompiledDetectionItem, CompiledMatcher, CompiledRule};
use rsigma_parser::{ConditionExpr, Quantifier};
use serde_json::Value;

use super::with_lowercase;
use crate::document::{Document, Scalar, Segment};
use crate::record::{KeyField, Probe, Record};

/// A condition every record a rule matches must meet.
#[derive(Debug, Clone)]
pub(super) enum Need {
    /// Nothing is known.
    Nothing,
    /// One detection item on a [`KEY_FIELDS`] field.
    Item {
        path: Vec<Segment>,
        /// The same field, read straight from a typed record.
        key: KeyField,
        item: Box<CompiledDetectionItem>,
        /// How a string value is checked.
        check: Check,
    },
    /// Every one of these.
    All(Vec<Need>),
    /// At least one of these; none means the rule can never match.
    Any(Vec<Need>),
}

impl Need {
    fn all(needs: impl IntoIterator<Item = Need>) -> Need {
        let needs: Vec<Need> = needs
            .into_iter()
            .filter(|n| !matches!(n, Need::Nothing))
            .collect();
        if needs.is_empty() {
            Need::Nothing
        } else {
            Need::All(needs)
        }
    }

    fn any(needs: impl IntoIterator<Item = Need>) -> Need {
        let needs: Vec<Need> = needs.into_iter().collect();
        if needs.iter().any(|n| matches!(n, Need::Nothing)) {
            Need::Nothing
        } else {
            Need::Any(needs)
        }
    }

    /// The needs of a whole rule: it matches when any condition does.
    pub(super) fn of_rule(rule: &CompiledRule) -> Need {
        Need::any(
            rule.conditions
                .iter()
                .map(|c| Need::of_condition(c, &rule.detections)),
        )
    }

    fn of_condition(expr: &ConditionExpr, detections: &HashMap<String, CompiledDetection>) -> Need {
        match expr {
            // rsigma treats a condition naming an undefined detection as false.
            ConditionExpr::Identifier(name) => detections
                .get(name)
                .map_or(Need::Any(Vec::new()), Need::of_detection),
            ConditionExpr::And(exprs) => {
                Need::all(exprs.iter().map(|e| Need::of_condition(e, detections)))
            }
            ConditionExpr::Or(exprs) => {
                Need::any(exprs.iter().map(|e| Need::of_condition(e, detections)))
            }
            ConditionExpr::Not(_) => Need::Nothing,
            ConditionExpr::Selector {
                quantifier,
                pattern,
            } => {
                let named = detections
                    .iter()
                    .filter(|(name, _)| pattern.matches_detection_name(name))
                    .map(|(_, d)| Need::of_detection(d));
                match quantifier {
                    Quantifier::All => Need::all(named),
                    Quantifier::Count(0) => Need::Nothing,
                    // "n of" needs at least one of them.
                    Quantifier::Any | Quantifier::Count(_) => Need::any(named),
                }
            }
        }
    }

    fn of_detection(detection: &CompiledDetection) -> Need {
        match detection {
            CompiledDetection::AllOf(items) => Need::all(items.iter().map(Need::of_item)),
            CompiledDetection::AnyOf(detections) => {
                Need::any(detections.iter().map(Need::of_detection))
            }
            CompiledDetection::And(detections) => {
                Need::all(detections.iter().map(Need::of_detection))
            }
            CompiledDetection::Keywords(_)
            | CompiledDetection::ArrayMatch { .. }
            | CompiledDetection::Conditional { .. } => Need::Nothing,
        }
    }

    fn of_item(item: &CompiledDetectionItem) -> Need {
        let key = item.field.as_deref().and_then(KeyField::of_dotted);
        match key {
            Some(key) if self_contained(&item.matcher) => Need::Item {
                path: key.path().0,
                key,
                item: Box::new(item.clone()),
                check: Check::of(item),
            },
            _ => Need::Nothing,
        }
    }

    /// The lowercased values `field` must take, when the needs pin it to a set.
    pub(super) fn exact_values(&self, field: &str) -> Option<BTreeSet<String>> {
        match self {
            Need::Nothing => None,
            Need::Item { item, .. } => {
                if item.field.as_deref() == Some(field) && item.exists.is_none() {
                    exact_values(&item.matcher)
                } else {
                    None
                }
            }
            // Each is required, so any one of them bounds the field.
            Need::All(needs) => needs
                .iter()
                .filter_map(|n| n.exact_values(field))
                .min_by_key(BTreeSet::len),
            Need::Any(needs) => {
                let mut union = BTreeSet::new();
                for need in needs {
                    union.append(&mut need.exact_values(field)?);
                }
                Some(union)
            }
        }
    }

    /// Whether `record` meets the need. Values a [`Document`] reports in a
    /// form rsigma would see differently (numbers, containers) count as met.
    pub(super) fn holds<D: Document + ?Sized>(&self, record: &D) -> bool {
        match self {
            Need::Nothing => true,
            Need::All(needs) => needs.iter().all(|n| n.holds(record)),
            Need::Any(needs) => needs.iter().any(|n| n.holds(record)),
            Need::Item {
                path, item, check, ..
            } => {
                let mut seen = false;
                let hit = record.any_at(path, &mut |v| {
                    seen = true;
                    check.holds(item, v)
                });
                // rsigma: an absent field meets only `null` and `|exists: false`.
                hit || (!seen && absent_holds(item))
            }
        }
    }

    /// [`Need::holds`] on a typed record, reading its fields directly.
    pub(super) fn holds_in(&self, record: &Record<'_>) -> bool {
        match self {
            Need::Nothing => true,
            Need::All(needs) => needs.iter().all(|n| n.holds_in(record)),
            Need::Any(needs) => needs.iter().any(|n| n.holds_in(record)),
            Need::Item {
                key, item, check, ..
            } => match key.probe(record) {
                Probe::Absent => absent_holds(item),
                Probe::Value(v) => check.holds(item, &v),
            },
        }
    }
}

/// How a need checks a string value: a shortcut that gives rsigma's answer
/// (or, for a regex, rules out values rsigma would refuse) without the
/// lowercased copy of the value rsigma makes, or rsigma's matcher itself.
#[derive(Debug, Clone)]
pub(super) enum Check {
    /// Equality with one of a few lowercased values.
    OneOf(Vec<String>),
    /// Equality with one of many lowercased values.
    Set(HashSet<String, RandomState>),
    /// Case-insensitive containment of this lowercased ASCII text.
    Contains(Vec<u8>),
    /// A regex whose every match contains this text.
    Regex(Box<Finder<'static>>),
    /// Only the matcher can tell.
    Matcher,
}

impl Check {
    fn of(item: &CompiledDetectionItem) -> Check {
        if item.exists.is_some() {
            return Check::Matcher;
        }
        if let Some(values) = exact_values(&item.matcher) {
            return if values.len() <= 8 {
                Check::OneOf(values.into_iter().collect())
            } else {
                Check::Set(values.into_iter().collect())
            };
        }
        match &item.matcher {
            CompiledMatcher::Contains {
                value,
                case_insensitive: true,
            } if value.is_ascii() && !value.is_empty() => {
                Check::Contains(value.to_ascii_lowercase().into_bytes())
            }
            CompiledMatcher::Regex(re) => required_literal(re.as_str())
                .map_or(Check::Matcher, |l| {
                    Check::Regex(Box::new(Finder::new(&l).into_owned()))
                }),
            _ => Check::Matcher,
        }
    }

    /// Whether `value`, found at the item's field, meets the item.
    pub(super) fn holds(&self, item: &CompiledDetectionItem, value: &Scalar<'_>) -> bool {
        let Scalar::String(s) = value else {
            return item_holds(item, value);
        };
        match self {
            // For ASCII text, rsigma's lowercase equality is ASCII
            // case-insensitive equality.
            Check::OneOf(values) if s.is_ascii() => {
                values.iter().any(|v| s.eq_ignore_ascii_case(v))
            }
            Check::OneOf(values) => with_lowercase(s, |lower| values.iter().any(|v| v == lower)),
            Check::Set(set) => with_lowercase(s, |lower| set.contains(lower)),
            Check::Contains(needle) if s.is_ascii() => {
                contains_ignore_ascii_case(s.as_bytes(), needle)
            }
            Check::Regex(literal) if literal.find(s.as_bytes()).is_none() => false,
            Check::Contains(_) | Check::Regex(_) | Check::Matcher => item_holds(item, value),
        }
    }
}

/// Whether `haystack` contains `needle` (lowercase ASCII), ignoring ASCII case.
fn contains_ignore_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let mut from = 0;
    while let Some(at) = haystack
        .get(from..)
        .and_then(|tail| memchr::memchr2(first, first.to_ascii_uppercase(), tail))
    {
        let start = from + at + 1;
        if haystack
            .get(start..start + rest.len())
            .is_some_and(|candidate| candidate.eq_ignore_ascii_case(rest))
        {
            return true;
        }
        from = start;
    }
    false
}

/// The longest literal text (3 bytes or more) every match of `pattern`
/// contains: a literal among the parts of its top-level sequence. Case
/// insensitive text parses to classes, not literals, so it yields none.
pub(super) fn required_literal(pattern: &str) -> Option<Vec<u8>> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let parts = match hir.kind() {
        HirKind::Concat(parts) => parts.as_slice(),
        _ => std::slice::from_ref(&hir),
    };
    parts
        .iter()
        .filter_map(|part| match part.kind() {
            HirKind::Literal(Literal(bytes)) => Some(bytes.to_vec()),
            _ => None,
        })
        .max_by_key(Vec::len)
        .filter(|l| l.len() >= 3)
}

/// `eventName`, `eventSource` and every field a need reads: their values
/// alone decide which rules are viable (needs are self-contained, see
/// [`self_contained`]).
pub(super) fn decisive_fields(needs: &[Need]) -> Vec<KeyField> {
    fn collect(need: &Need, out: &mut Vec<KeyField>) {
        match need {
            Need::Nothing => {}
            Need::All(needs) | Need::Any(needs) => needs.iter().for_each(|n| collect(n, out)),
            Need::Item { key, .. } => {
                if !out.contains(key) {
                    out.push(*key);
                }
            }
        }
    }
    let mut fields = vec![KeyField::EventName, KeyField::EventSource];
    needs.iter().for_each(|need| collect(need, &mut fields));
    fields
}

/// Whether a matcher decides on the field's value alone (field references
/// and placeholders read other fields).
fn self_contained(matcher: &CompiledMatcher) -> bool {
    match matcher {
        CompiledMatcher::FieldRef { .. } | CompiledMatcher::Expand { .. } => false,
        CompiledMatcher::Not(inner) | CompiledMatcher::TimestampPart { inner, .. } => {
            self_contained(inner)
        }
        CompiledMatcher::AnyOf(children)
        | CompiledMatcher::AllOf(children)
        | CompiledMatcher::CaseInsensitiveGroup { children, .. } => {
            children.iter().all(self_contained)
        }
        _ => true,
    }
}

/// The lowercased strings a matcher accepts, when it accepts a finite set by
/// equality.
fn exact_values(matcher: &CompiledMatcher) -> Option<BTreeSet<String>> {
    match matcher {
        CompiledMatcher::Exact { value, .. } => Some(BTreeSet::from([value.to_lowercase()])),
        CompiledMatcher::AnyOf(children)
        | CompiledMatcher::CaseInsensitiveGroup {
            children,
            mode: GroupMode::Any,
        } => {
            let mut union = BTreeSet::new();
            for child in children {
                union.append(&mut exact_values(child)?);
            }
            Some(union)
        }
        _ => None,
    }
}

/// An empty event for matchers, which only read it for field references
/// (excluded from needs by [`self_contained`]).
static NO_EVENT: Value = Value::Null;

pub(super) fn item_holds(item: &CompiledDetectionItem, value: &Scalar<'_>) -> bool {
    if let Some(expect) = item.exists {
        return (*value != Scalar::Null) == expect;
    }
    let value = match value {
        Scalar::String(s) => EventValue::Str(Cow::Borrowed(s.as_ref())),
        Scalar::Bool(b) => EventValue::Bool(*b),
        Scalar::Null => EventValue::Null,
        // rsigma would see an integer or a float, or an array / map: not
        // worth reproducing for a pre-check, so assume the item may match.
        Scalar::Number(_) | Scalar::Array | Scalar::Object => return true,
    };
    item.matcher.matches(&value, &JsonEvent::borrow(&NO_EVENT))
}

fn absent_holds(item: &CompiledDetectionItem) -> bool {
    match item.exists {
        Some(expect) => !expect,
        None => matches!(item.matcher, CompiledMatcher::Null),
    }
}
