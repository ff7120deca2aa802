//! CloudWatch Logs JSON filter patterns (`{ $.eventName = "ConsoleLogin" }`),
//! parsed once and matched against any [`Document`].
//!
//! These are the patterns of CloudWatch metric filters, such as the CIS AWS
//! Foundations monitoring filters; trailguard evaluates them itself so the
//! same pattern works in a Lambda function, in the CLI and in tests.
//!
//! ```
//! use trailguard_engine::rules::filter_pattern::FilterPattern;
//! use serde_json::json;
//!
//! let pattern = FilterPattern::parse(
//!     r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
//! )?;
//! assert!(pattern.matches(&json!({"errorCode": "AccessDenied"})));
//! assert!(!pattern.matches(&json!({"eventName": "GetObject"})));
//! assert_eq!(
//!     pattern.to_string(),
//!     r#"{ $.errorCode = "*UnauthorizedOperation" || $.errorCode = "AccessDenied*" }"#
//! );
//!
//! let err = FilterPattern::parse(r#"{ $.eventName == "x" }"#).err();
//! assert_eq!(err.map(|e| e.column), Some(15));
//! # Ok::<(), trailguard_engine::rules::filter_pattern::FilterPatternError>(())
//! ```
//!
//! # API
//!
//! - [`FilterPattern::parse`] reads a pattern or returns a
//!   [`FilterPatternError`] naming the column, what was expected and what
//!   was found.
//! - [`FilterPattern::matches`] evaluates it; [`FilterPattern::explain`]
//!   reports the result of every condition as an [`Explanation`] tree.
//! - [`FilterPattern::required_values`] and [`FilterPattern::paths`] describe
//!   the pattern for rule indexing.
//! - `Display` writes a canonical form that parses back to the same pattern;
//!   [`FilterPattern::source`] keeps the text as written.
//!
//! # Syntax and semantics
//!
//! Sources, cited below by tag:
//!
//! - \[syntax\]: "Filter pattern syntax for metric filters, subscription
//!   filters, filter log events, and Live Tail",
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
//! - \[json\]: "Using filter patterns to match terms in JSON log events",
//!   <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html>
//! - \[earlier\]: the earlier "Filter and Pattern Syntax" page, kept in
//!   <https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide>
//!   (`doc_source/FilterAndPatternSyntax.md`), which spells out several
//!   rules the current pages leave implicit.
//! - \[azul\]: a pattern tested in the CloudWatch console,
//!   <https://github.com/DataBiosphere/azul/issues/5884>
//!
//! | Topic | Behaviour |
//! |---|---|
//! | Shape | The whole pattern is enclosed in `{ }` \[syntax\]. Term and space-delimited patterns are rejected. |
//! | Selectors | `$.a.b`, `$.a[0].b`, names of letters, digits, `-` and `_` \[syntax\]; `$.['dotted.name']` for other names \[syntax\]. |
//! | `[*]` | Any element of an array; the condition holds when it holds for one element (also for `!=`). CloudWatch documents this wildcard selector but allows one per selector and three per pattern \[syntax\]; trailguard allows any number (`$.items[*].ipRanges.items[*].cidrIp`). `$.*` (any object member) is not supported. |
//! | Precedence | Parentheses, then `&&`, then `\|\|` \[syntax\]: `a \|\| b && c` is `a \|\| (b && c)`. |
//! | Value nodes | `=`, `!=`, `<`, `<=`, `>`, `>=` compare only strings and numbers. If the selector reaches an array or object, both `=` and `!=` fail \[earlier\]: "both {$.users = 1} and {$.users != 1} will fail to match". trailguard applies the same to `null`, booleans and missing fields: `$.x != "a"` does not match an event without `x`, as the CloudWatch console does \[azul\]. Write `$.x != "a" \|\| $.x NOT EXISTS` to include such events. |
//! | Strings | Quoted, or bare when not a number (`kms.amazonaws.com`, `123.123.*`) \[syntax\]. `=` / `!=` only. `*` stands for any text, anywhere and any number of times. An earlier revision said a `*` inside a word (`Ev*ent`) is literal \[earlier\]; the current pages set no such limit, and trailguard treats every unescaped `*` as a wildcard. In quoted strings `\"`, `\\` and `\*` (a literal asterisk, a trailguard extension) are escapes. A number in the event is compared through its shortest decimal text, so `{ $.latency = * }` matches `"latency": 50` \[earlier\] and `4*` matches `404` ("use the asterisk as a wild card to match numbers" \[syntax\]). |
//! | Numbers | Bare tokens of the form \[earlier\] gives: optional sign, digits, optional decimals, optional `e` exponent (`-5`, `+1000`, `55.5`, `1e-3`). Compared numerically with numbers and with strings whose whole text is such a number (CloudTrail writes account ids and `eventVersion` as strings). A quoted number is a string. `<`, `<=`, `>`, `>=` need a number. |
//! | `IS NULL` | Holds only for a JSON `null`, not for a missing field \[earlier\]. |
//! | `IS TRUE` / `IS FALSE` | Hold only for JSON booleans \[earlier\]; the string `"true"` is a string. |
//! | `NOT EXISTS` | Holds when nothing, not even `null`, is at the selector \[earlier\]. |
//! | `EXISTS`, `IS NOT` | Rejected: "The variables IS NOT and EXISTS currently aren't supported" \[json\]. |
//! | Keywords | `IS`, `NOT`, `NULL`, `TRUE`, `FALSE`, `EXISTS` in any letter case. |
//! | Not supported | Regular-expression values (`%…%`) \[syntax\]. |

mod ast;
mod constraints;
mod error;
mod eval;
mod lexer;
mod number;
mod parser;
mod plan;
pub(crate) mod wildcard;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

pub use error::{FilterPatternError, Found};
pub use eval::Explanation;

use crate::document::{Document, Path};

/// A parsed, ready-to-match JSON filter pattern.
#[derive(Debug, Clone)]
pub struct FilterPattern {
    source: String,
    expr: ast::Expr,
    /// How `expr` is matched.
    plan: plan::Plan,
}

impl FilterPattern {
    /// Parses `src`, such as `{ $.eventName = "ConsoleLogin" }`.
    pub fn parse(src: &str) -> Result<Self, FilterPatternError> {
        let expr = parser::parse(src)?;
        Ok(FilterPattern {
            source: src.to_owned(),
            plan: plan::Plan::of(&expr),
            expr,
        })
    }

    /// The pattern as it was written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `doc` matches the pattern.
    pub fn matches<D: Document + ?Sized>(&self, doc: &D) -> bool {
        self.plan.matches(doc)
    }

    /// Whether a typed record matches: the answer [`FilterPattern::matches`]
    /// gives, with the common top-level and `userIdentity` strings read
    /// from the record's fields rather than found by path.
    pub fn matches_record(&self, record: &crate::Record<'_>) -> bool {
        self.plan.matches_record(record)
    }

    /// Evaluates every condition against `doc` and reports each result.
    pub fn explain<D: Document + ?Sized>(&self, doc: &D) -> Explanation {
        self.expr.explain(doc)
    }

    /// The exact (wildcard-free) values one of which the field at `path`
    /// must equal for the pattern to match, or `None` when the pattern does
    /// not constrain it that way (numbers, wildcards, `!=` and the other
    /// tests never do). `||` gives the union when every branch constrains
    /// the field, else `None`; `&&` keeps the values every constraining
    /// side allows (through `[*]`, where each side may be met by a different
    /// element, the smallest side's set).
    pub fn required_values(&self, path: &Path) -> Option<BTreeSet<String>> {
        self.expr.required_values(path)
    }

    /// Whether every event the pattern matches has a value at `path`.
    pub fn requires_present(&self, path: &Path) -> bool {
        self.expr.requires_present(path)
    }

    /// Every selector the pattern reads, in order of first use.
    pub fn paths(&self) -> Vec<&Path> {
        self.expr.paths()
    }
}

/// The canonical form: `{ … }`, strings quoted, parentheses only where
/// precedence needs them.
impl fmt::Display for FilterPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{ {} }}", self.expr)
    }
}

/// Two patterns are equal when they mean the same, however they were written.
impl PartialEq for FilterPattern {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl FromStr for FilterPattern {
    type Err = FilterPatternError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        Self::parse(src)
    }
}

/// Written as its source text, so rule files keep the author's spelling.
impl serde::Serialize for FilterPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

/// Read from a string and parsed; a bad pattern fails deserialisation with
/// the parse error's message.
impl<'de> serde::Deserialize<'de> for FilterPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let src = String::deserialize(deserializer)?;
        Self::parse(&src).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Segment;
    use proptest::prelude::*;
    use serde_json::json;

    fn pattern(src: &str) -> FilterPattern {
        FilterPattern::parse(src).unwrap_or_else(|err| panic!("{src:?}: {err}"))
    }

    #[test]
    fn keeps_source_and_prints_canonical_form() {
        let src = "{$.userIdentity.type=\"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !=\"AwsServiceEvent\"}";
        let p = pattern(src);
        assert_eq!(p.source(), src);
        let canonical = p.to_string();
        assert_eq!(
            canonical,
            "{ $.userIdentity.type = \"Root\" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != \"AwsServiceEvent\" }"
        );
        assert_eq!(pattern(&canonical), p);
        assert_eq!(pattern(&canonical).to_string(), canonical);
    }

    #[test]
    fn works_through_a_trait_object() {
        let p = pattern("{ $.a = 1 }");
        let doc = json!({"a": 1});
        let dynamic: &dyn Document = &doc;
        assert!(p.matches(dynamic));
        assert!(p.explain(dynamic).held);
    }

    #[test]
    fn pattern_queries_delegate() {
        let p: FilterPattern = match "{ $.eventName = A || $.eventName = B }".parse() {
            Ok(p) => p,
            Err(err) => panic!("{err}"),
        };
        let name = Path(vec![Segment::Key("eventName".to_owned())]);
        assert_eq!(p.paths(), vec![&name]);
        let values = p
            .required_values(&name)
            .map(|s| s.into_iter().collect::<Vec<_>>());
        assert_eq!(values, Some(vec!["A".to_owned(), "B".to_owned()]));
    }

    #[test]
    fn serde_uses_the_source_text_and_reports_parse_errors() {
        let p = pattern("{$.a=1}");
        assert_eq!(
            serde_json::to_string(&p).ok().as_deref(),
            Some("\"{$.a=1}\"")
        );
        let back: Result<FilterPattern, _> = serde_json::from_str("\"{$.a=1}\"");
        assert_eq!(back.ok(), Some(p));
        let bad: Result<FilterPattern, _> = serde_json::from_str("\"{$.a==1}\"");
        let message = bad.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("column 5"), "{message}");
    }

    /// Patterns built from a small grammar, written with varied spacing,
    /// quoting and redundant parentheses.
    fn arb_condition() -> impl Strategy<Value = String> {
        let selector = prop::collection::vec(
            prop_oneof![
                "[a-zA-Z0-9_-]{1,6}".prop_map(|k| format!(".{k}")),
                "[a-z. ']{0,5}".prop_map(|k| format!(".['{}']", k.replace('\'', "\\'"))),
                (0usize..20).prop_map(|i| format!("[{i}]")),
                Just("[*]".to_owned()),
            ],
            1..4,
        )
        .prop_map(|steps| format!("$.x{}", steps.concat()));
        let test = prop_oneof![
            (
                prop_oneof![Just("="), Just("!=")],
                r#"([a-z*]|\\"|\\\\|\\\*| ){0,6}"#
            )
                .prop_map(|(op, v)| format!("{op} \"{v}\"")),
            (
                prop_oneof![Just("="), Just(">="), Just("<")],
                "-?[0-9]{1,4}(\\.[0-9]{1,2})?(e-?[0-9])?"
            )
                .prop_map(|(op, n)| format!("{op}{n}")),
            Just("IS NULL".to_owned()),
            Just("is true".to_owned()),
            Just("NOT EXISTS".to_owned()),
        ];
        (selector, test).prop_map(|(s, t)| format!("{s} {t}"))
    }

    fn arb_expr() -> impl Strategy<Value = String> {
        arb_condition().prop_recursive(3, 16, 3, |inner| {
            (
                prop::collection::vec(inner, 2..4),
                prop_oneof![Just(" && "), Just("||")],
                any::<bool>(),
            )
                .prop_map(|(parts, op, parens)| {
                    let joined = parts
                        .iter()
                        .map(|p| format!("({p})"))
                        .collect::<Vec<_>>()
                        .join(op);
                    if parens {
                        format!("({joined})")
                    } else {
                        joined
                    }
                })
        })
    }

    proptest! {
        #[test]
        fn canonical_form_round_trips(body in arb_expr()) {
            let src = format!("{{{body}}}");
            let parsed = FilterPattern::parse(&src);
            prop_assert!(parsed.is_ok(), "{src}: {parsed:?}");
            if let Ok(parsed) = parsed {
                let canonical = parsed.to_string();
                let reparsed = FilterPattern::parse(&canonical);
                prop_assert_eq!(reparsed.as_ref().ok(), Some(&parsed), "{}", canonical);
                if let Ok(reparsed) = reparsed {
                    prop_assert_eq!(reparsed.to_string(), canonical);
                }
            }
        }
    }
}
