//! Evaluating a parsed pattern against a [`Document`], and explaining the
//! result condition by condition.
//!
//! Matching borrows every value it looks at (`Scalar::String` holds a
//! `Cow<str>`) and compares against text and numbers prepared at parse time,
//! so the hot path does not allocate.

use std::fmt;

use super::ast::{Condition, Expr, NumberLiteral, NumericOp, Test};
use super::number::{parse_number, with_number_text};
use super::wildcard::TextPattern;
use crate::document::{Document, Scalar};
use crate::record::{Probe, Record};

// Matching goes through the pattern's `Plan`; evaluating the expression
// as written is the reference the plan is tested against.
#[cfg(test)]
impl Expr {
    /// Whether the event matches, stopping at the first deciding branch.
    pub(crate) fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        match self {
            Expr::All(branches) => branches.iter().all(|branch| branch.matches(doc)),
            Expr::Any(branches) => branches.iter().any(|branch| branch.matches(doc)),
            Expr::Condition(condition) => condition.holds(doc),
        }
    }

    /// [`Expr::matches`] on a typed record: key fields are read directly.
    pub(crate) fn matches_record(&self, record: &Record<'_>) -> bool {
        match self {
            Expr::All(branches) => branches.iter().all(|branch| branch.matches_record(record)),
            Expr::Any(branches) => branches.iter().any(|branch| branch.matches_record(record)),
            Expr::Condition(condition) => condition.holds_in(record),
        }
    }
}

impl Expr {
    /// Evaluates every branch (no short cut) so each condition's result is
    /// reported.
    pub(crate) fn explain<D: Document + ?Sized>(&self, doc: &D) -> Explanation {
        let (held, children) = match self {
            Expr::Condition(condition) => (condition.holds(doc), Vec::new()),
            Expr::All(branches) => {
                let children: Vec<_> = branches.iter().map(|b| b.explain(doc)).collect();
                (children.iter().all(|c| c.held), children)
            }
            Expr::Any(branches) => {
                let children: Vec<_> = branches.iter().map(|b| b.explain(doc)).collect();
                (children.iter().any(|c| c.held), children)
            }
        };
        Explanation {
            condition: self.to_string(),
            held,
            children,
        }
    }
}

impl Condition {
    /// Whether the condition holds; through `[*]`, whether it holds for at
    /// least one element.
    pub(super) fn holds<D: Document + ?Sized>(&self, doc: &D) -> bool {
        let path = self.selector.segments();
        match &self.test {
            Test::NotExists => !doc.exists(path),
            _ => doc.any_at(path, &mut |value| self.accepts(value)),
        }
    }

    /// [`Condition::holds`] on a typed record, reading a key field directly.
    pub(super) fn holds_in(&self, record: &Record<'_>) -> bool {
        match self.key.map(|key| key.probe(record)) {
            None => self.holds(record),
            Some(Probe::Absent) => matches!(self.test, Test::NotExists),
            Some(Probe::Value(value)) => {
                !matches!(self.test, Test::NotExists) && self.accepts(&value)
            }
        }
    }

    /// Whether one value found at the selector passes the test (every test
    /// but `NOT EXISTS`, which is about there being none).
    pub(super) fn accepts(&self, value: &Scalar<'_>) -> bool {
        match &self.test {
            Test::NotExists => false,
            Test::IsNull => matches!(value, Scalar::Null),
            Test::IsBool(want) => matches!(value, Scalar::Bool(b) if b == want),
            Test::Text { negated, pattern } => text_holds(pattern, *negated, value),
            Test::Number { op, literal } => number_holds(*op, literal, value),
        }
    }
}

/// `= text` / `!= text` on one value. Only strings and numbers are compared
/// (a number through its shortest decimal text); null, booleans, arrays and
/// objects make both `=` and `!=` false.
fn text_holds(pattern: &TextPattern, negated: bool, value: &Scalar<'_>) -> bool {
    match value {
        Scalar::String(text) => pattern.matches(text) != negated,
        Scalar::Number(n) if n.is_finite() => {
            with_number_text(*n, |text| pattern.matches(text) != negated)
        }
        _ => false,
    }
}

/// A numeric comparison on one value: a number, or a string whose whole
/// text is a number. Anything else makes every operator false.
fn number_holds(op: NumericOp, literal: &NumberLiteral, value: &Scalar<'_>) -> bool {
    let n = match value {
        Scalar::Number(n) => *n,
        Scalar::String(text) => match parse_number(text) {
            Some(n) => n,
            None => return false,
        },
        _ => return false,
    };
    !n.is_nan() && op.holds(n, literal.value)
}

/// Why a pattern did or did not match one event: a tree that follows the
/// pattern's `&&` / `||` structure, with the result of every condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The canonical text of this part of the pattern.
    pub condition: String,
    /// Whether this part held for the event.
    pub held: bool,
    /// For `&&` / `||`, the parts combined; empty for a single condition.
    pub children: Vec<Explanation>,
}

impl Explanation {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let verdict = if self.held { "held  " } else { "failed" };
        writeln!(
            f,
            "{:indent$}{verdict} {}",
            "",
            self.condition,
            indent = depth * 2
        )?;
        self.children
            .iter()
            .try_for_each(|child| child.write(f, depth + 1))
    }
}

/// One line per part, children indented under their `&&` / `||`.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use serde_json::{Value, json};

    fn matches(pattern: &str, doc: &Value) -> bool {
        match parse(pattern) {
            Ok(expr) => expr.matches(doc),
            Err(err) => panic!("{pattern:?}: {err}"),
        }
    }

    #[test]
    fn typed_records_give_the_document_answer() {
        let patterns = [
            r#"{ $.errorCode = "AccessDenied*" }"#,
            r#"{ $.errorCode != "x" }"#,
            "{ $.errorCode NOT EXISTS }",
            "{ $.errorCode IS NULL }",
            "{ $.errorCode = * }",
            "{ $.errorCode = 403 }",
            r#"{ $.userIdentity.type = "Root" }"#,
            "{ $.userIdentity.type NOT EXISTS }",
            "{ $.userIdentity.type IS NULL }",
            r#"{ $.userIdentity.invokedBy != "x" }"#,
            "{ $.readOnly IS TRUE }",
            r#"{ $.eventName = "Get*" && $.userIdentity.arn = "*:root" }"#,
        ];
        let records = [
            r#"{"errorCode":"AccessDenied","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventName":"GetX","readOnly":true}"#,
            r#"{"errorCode":null,"userIdentity":{"type":null,"invokedBy":null}}"#,
            r#"{"errorCode":"403","userIdentity":null}"#,
            r#"{"userIdentity":{}}"#,
            r#"{"errorCode":"x","userIdentity":{"type":"R\u006fot"}}"#,
            "{}",
        ];
        for text in records {
            let record = crate::Record::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for p in patterns {
                let expr = parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
                assert_eq!(
                    expr.matches_record(&record),
                    expr.matches(&record),
                    "{p} on {text}"
                );
            }
        }
    }

    #[test]
    fn missing_fields_fail_every_comparison_but_not_exists() {
        let doc = json!({"present": "a"});
        for pattern in [
            r#"{ $.missing = "a" }"#,
            r#"{ $.missing != "a" }"#,
            "{ $.missing = * }",
            "{ $.missing > 0 }",
            "{ $.missing != 0 }",
            "{ $.missing IS NULL }",
            "{ $.missing IS FALSE }",
            r#"{ $.present.deeper != "a" }"#,
        ] {
            assert!(!matches(pattern, &doc), "{pattern}");
        }
        assert!(matches("{ $.missing NOT EXISTS }", &doc));
        assert!(matches("{ $.present.deeper NOT EXISTS }", &doc));
        assert!(!matches("{ $.present NOT EXISTS }", &doc));
    }

    #[test]
    fn null_booleans_and_containers_are_not_value_nodes() {
        let doc = json!({"n": null, "t": true, "f": false, "arr": [1, 2], "obj": {"k": 1}});
        for field in ["n", "t", "arr", "obj"] {
            for op in ["=", "!="] {
                for value in ["1", "\"true\"", "*", "null"] {
                    let pattern = format!("{{ $.{field} {op} {value} }}");
                    assert!(!matches(&pattern, &doc), "{pattern}");
                }
            }
        }
        assert!(matches("{ $.n IS NULL }", &doc));
        assert!(!matches("{ $.n NOT EXISTS }", &doc));
        assert!(matches("{ $.t IS TRUE }", &doc));
        assert!(!matches("{ $.t IS FALSE }", &doc));
        assert!(matches("{ $.f IS FALSE }", &doc));
        assert!(!matches("{ $.obj IS NULL }", &doc));
    }

    #[test]
    fn booleans_written_as_strings_are_strings() {
        let doc = json!({"flag": "true"});
        assert!(!matches("{ $.flag IS TRUE }", &doc));
        assert!(matches("{ $.flag = true }", &doc));
    }

    #[test]
    fn strings_match_exactly_or_by_wildcard() {
        let doc = json!({"eventName": "GetObject", "code": "AccessDeniedException"});
        assert!(matches(r#"{ $.eventName = "GetObject" }"#, &doc));
        assert!(!matches(r#"{ $.eventName = "getobject" }"#, &doc));
        assert!(matches(r#"{ $.eventName = "Get*" }"#, &doc));
        assert!(matches("{ $.eventName = *Obj* }", &doc));
        assert!(matches("{ $.eventName = G*t*ect }", &doc));
        assert!(!matches(r#"{ $.eventName != "Get*" }"#, &doc));
        assert!(matches(r#"{ $.code != "*Unauthorized*" }"#, &doc));
        assert!(matches(r#"{ $.eventName = "GetObject*" }"#, &doc));
    }

    #[test]
    fn escaped_asterisk_is_literal() {
        let doc = json!({"a": "5*3", "b": "5x3"});
        assert!(matches(r#"{ $.a = "5\*3" }"#, &doc));
        assert!(!matches(r#"{ $.b = "5\*3" }"#, &doc));
        assert!(matches(r#"{ $.b = "5*3" }"#, &doc));
    }

    #[test]
    fn numbers_compare_numerically_with_numbers_and_numeric_strings() {
        let doc = json!({"latency": 1500, "ratio": 0.001, "account": "123456789012", "version": "1.08", "name": "abc"});
        assert!(matches("{ $.latency > 1000 }", &doc));
        assert!(matches("{ $.latency >= 1.5e3 }", &doc));
        assert!(!matches("{ $.latency < 1500 }", &doc));
        assert!(matches("{ $.latency <= +1500 }", &doc));
        assert!(matches("{ $.latency != 1501 }", &doc));
        assert!(matches("{ $.ratio = 1e-3 }", &doc));
        assert!(matches("{ $.ratio > -1 }", &doc));
        assert!(matches("{ $.account = 123456789012 }", &doc));
        assert!(matches("{ $.version = 1.08 }", &doc));
        assert!(!matches("{ $.version > 2 }", &doc));
        // A string that is not a number is not compared at all.
        assert!(!matches("{ $.name != 5 }", &doc));
        assert!(!matches("{ $.name < 5 }", &doc));
    }

    #[test]
    fn text_values_see_numbers_through_their_decimal_text() {
        let doc = json!({"status": 404, "ratio": 0.5, "big": 1e21});
        assert!(matches("{ $.status = * }", &doc));
        assert!(matches("{ $.status = 4* }", &doc));
        assert!(matches(r#"{ $.status = "404" }"#, &doc));
        assert!(!matches("{ $.status = 5* }", &doc));
        assert!(matches("{ $.status != 5* }", &doc));
        assert!(matches(r#"{ $.ratio = "0.5" }"#, &doc));
        assert!(matches("{ $.big = 1000000000000000000000 }", &doc));
    }

    #[test]
    fn any_index_holds_when_one_element_does() {
        let doc = json!({"requestParameters": {"ipPermissions": {"items": [
            {"ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}},
            {"ipRanges": {"items": [{"cidrIp": "172.16.0.0/12"}, {"cidrIp": "0.0.0.0/0"}]}}
        ]}}});
        let open = "{ $.requestParameters.ipPermissions.items[*].ipRanges.items[*].cidrIp = \"0.0.0.0/0\" }";
        assert!(matches(open, &doc));
        let first_only = "{ $.requestParameters.ipPermissions.items[0].ipRanges.items[*].cidrIp = \"0.0.0.0/0\" }";
        assert!(!matches(first_only, &doc));
        // `!=` through `[*]` asks whether some element differs.
        let some_other = "{ $.requestParameters.ipPermissions.items[*].ipRanges.items[*].cidrIp != \"0.0.0.0/0\" }";
        assert!(matches(some_other, &doc));
        // NOT EXISTS through `[*]`: no element has the field.
        assert!(matches(
            "{ $.requestParameters.ipPermissions.items[*].fromPort NOT EXISTS }",
            &doc
        ));
        assert!(!matches(
            "{ $.requestParameters.ipPermissions.items[*].ipRanges NOT EXISTS }",
            &doc
        ));
        assert!(matches("{ $.requestParameters.none[*] NOT EXISTS }", &doc));
    }

    #[test]
    fn explanation_reports_every_condition() {
        let doc = json!({"a": "x", "b": 2});
        let expr = parse(r#"{ $.a = "x" && ($.b = 1 || $.c NOT EXISTS) && $.b > 5 }"#);
        let Ok(expr) = expr else {
            panic!("{expr:?}");
        };
        let explanation = expr.explain(&doc);
        assert!(!explanation.held);
        assert_eq!(explanation.held, expr.matches(&doc));
        let results: Vec<_> = explanation
            .children
            .iter()
            .map(|c| (c.condition.as_str(), c.held))
            .collect();
        assert_eq!(
            results,
            vec![
                (r#"$.a = "x""#, true),
                ("$.b = 1 || $.c NOT EXISTS", true),
                ("$.b > 5", false),
            ]
        );
        let nested = explanation.children.get(1).map(|c| c.children.len());
        assert_eq!(nested, Some(2));
        assert_eq!(
            explanation.to_string(),
            "failed $.a = \"x\" && ($.b = 1 || $.c NOT EXISTS) && $.b > 5\n\
             \x20 held   $.a = \"x\"\n\
             \x20 held   $.b = 1 || $.c NOT EXISTS\n\
             \x20   failed $.b = 1\n\
             \x20   held   $.c NOT EXISTS\n\
             \x20 failed $.b > 5\n"
        );
    }
}
