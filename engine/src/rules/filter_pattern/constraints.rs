//! What a pattern says about fields without looking at an event: which
//! selectors it reads, and which exact values a field must take for it to
//! match (used to index rules by, say, `eventName`).

use std::collections::BTreeSet;

use super::ast::{Expr, Test};
use crate::document::{Path, Segment};

impl Expr {
    /// Every selector, in order of first use, without repeats.
    pub(crate) fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a Path>) {
        match self {
            Expr::All(branches) | Expr::Any(branches) => {
                for branch in branches {
                    branch.collect_paths(out);
                }
            }
            Expr::Condition(condition) => {
                if !out.contains(&&condition.selector) {
                    out.push(&condition.selector);
                }
            }
        }
    }

    /// Whether every event the pattern matches has a value at `path`: every
    /// test but `NOT EXISTS` fails on a missing field.
    pub(crate) fn requires_present(&self, path: &Path) -> bool {
        match self {
            Expr::Condition(condition) => {
                condition.selector == *path && !matches!(condition.test, Test::NotExists)
            }
            Expr::All(branches) => branches.iter().any(|b| b.requires_present(path)),
            Expr::Any(branches) => branches.iter().all(|b| b.requires_present(path)),
        }
    }

    /// The exact values one of which the field at `path` must equal for the
    /// pattern to match, or `None` when the pattern does not pin it down
    /// that way. Conservative: `Some` is only returned when no event with
    /// any other value there could match.
    pub(crate) fn required_values(&self, path: &Path) -> Option<BTreeSet<String>> {
        match self {
            Expr::Condition(condition) if condition.selector == *path => match &condition.test {
                Test::Text {
                    negated: false,
                    pattern,
                } => pattern
                    .exact()
                    .map(|value| BTreeSet::from([value.to_owned()])),
                // Numbers match several texts (`1`, `1.0`, `"1"`), wildcards
                // and negations many more: none pins the field to a set.
                _ => None,
            },
            Expr::Condition(_) => None,
            // Every branch must hold, so any one constraint applies; for a
            // plain path all of them apply at once.
            Expr::All(branches) => {
                let mut constraints = branches.iter().filter_map(|b| b.required_values(path));
                let first = constraints.next()?;
                Some(constraints.fold(first, |acc, next| {
                    if through_any_index(path) {
                        // Through `[*]` each branch may be met by a different
                        // element, so the sets cannot be intersected: keep the
                        // narrower one.
                        if next.len() < acc.len() { next } else { acc }
                    } else {
                        acc.intersection(&next).cloned().collect()
                    }
                }))
            }
            // Some branch holds, so the field takes a value allowed by one of
            // them; a branch that allows anything lifts the constraint.
            Expr::Any(branches) => {
                let mut union = BTreeSet::new();
                for branch in branches {
                    union.extend(branch.required_values(path)?);
                }
                Some(union)
            }
        }
    }
}

fn through_any_index(path: &Path) -> bool {
    path.segments().contains(&Segment::AnyIndex)
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn path(keys: &[&str]) -> Path {
        Path(keys.iter().map(|k| Segment::Key((*k).to_owned())).collect())
    }

    fn required(pattern: &str, keys: &[&str]) -> Option<Vec<String>> {
        let expr = parse(pattern).unwrap_or_else(|err| panic!("{pattern:?}: {err}"));
        expr.required_values(&path(keys))
            .map(|set| set.into_iter().collect())
    }

    fn strings(values: &[&str]) -> Option<Vec<String>> {
        Some(values.iter().map(|v| (*v).to_owned()).collect())
    }

    fn present(pattern: &str, keys: &[&str]) -> bool {
        let expr = parse(pattern).unwrap_or_else(|err| panic!("{pattern:?}: {err}"));
        expr.requires_present(&path(keys))
    }

    #[test]
    fn every_test_but_not_exists_needs_the_field() {
        for pattern in [
            r#"{ $.errorCode = "AccessDenied*" }"#,
            r#"{ $.errorCode != "x" }"#,
            "{ $.errorCode IS NULL }",
            "{ $.errorCode > 3 }",
            r#"{ ($.errorCode = "a*") || ($.errorCode = "*b") }"#,
            r#"{ $.eventName = X && $.errorCode = "*" }"#,
        ] {
            assert!(present(pattern, &["errorCode"]), "{pattern}");
        }
        for pattern in [
            "{ $.errorCode NOT EXISTS }",
            r#"{ $.errorCode = "a" || $.eventName = X }"#,
            r#"{ $.errorMessage = "a" }"#,
            r#"{ $.errorCode.inner = "a" }"#,
        ] {
            assert!(!present(pattern, &["errorCode"]), "{pattern}");
        }
    }

    #[test]
    fn equality_pins_a_field_and_other_tests_do_not() {
        assert_eq!(
            required("{ $.eventName = ConsoleLogin }", &["eventName"]),
            strings(&["ConsoleLogin"])
        );
        assert_eq!(required("{ $.eventName = \"Get*\" }", &["eventName"]), None);
        assert_eq!(
            required("{ $.eventName != ConsoleLogin }", &["eventName"]),
            None
        );
        assert_eq!(required("{ $.code = 400 }", &["code"]), None);
        assert_eq!(required("{ $.eventName IS NULL }", &["eventName"]), None);
        assert_eq!(required("{ $.eventSource = x }", &["eventName"]), None);
        assert_eq!(required("{ $.a.b = x }", &["a"]), None);
    }

    #[test]
    fn or_unions_only_when_every_branch_constrains() {
        assert_eq!(
            required(
                "{ $.eventName = A || ($.eventName = B || $.eventName = C) }",
                &["eventName"]
            ),
            strings(&["A", "B", "C"])
        );
        assert_eq!(
            required("{ $.eventName = A || $.eventSource = s }", &["eventName"]),
            None
        );
    }

    #[test]
    fn and_takes_any_constraining_side() {
        let cis = "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }";
        assert_eq!(
            required(cis, &["eventName"]),
            strings(&["DisableKey", "ScheduleKeyDeletion"])
        );
        assert_eq!(
            required(cis, &["eventSource"]),
            strings(&["kms.amazonaws.com"])
        );
        assert_eq!(
            required("{ ($.e = A || $.e = B) && ($.e = B || $.e = C) }", &["e"]),
            strings(&["B"])
        );
        assert_eq!(required("{ $.e = A && $.e = B }", &["e"]), strings(&[]));
    }

    #[test]
    fn any_index_constraints_are_not_intersected() {
        let expr = parse("{ $.items[*].k = A && $.items[*].k = B }");
        let Ok(expr) = expr else {
            panic!("{expr:?}");
        };
        let items = Path(vec![
            Segment::Key("items".to_owned()),
            Segment::AnyIndex,
            Segment::Key("k".to_owned()),
        ]);
        assert_eq!(expr.required_values(&items).map(|s| s.len()), Some(1));
    }

    #[test]
    fn paths_are_listed_once_in_order() {
        let expr = parse("{ $.b = 1 && ($.a[0] = 2 || $.b = 3) && $.c NOT EXISTS }");
        let Ok(expr) = expr else {
            panic!("{expr:?}");
        };
        let shown: Vec<String> = expr.paths().iter().map(|p| p.to_string()).collect();
        assert_eq!(shown, vec!["$.b", "$.a[0]", "$.c"]);
    }
}
