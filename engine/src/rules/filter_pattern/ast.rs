//! The parsed form of a filter pattern, and its canonical text.

use std::fmt;

use super::lexer::is_key_char;
use super::wildcard::TextPattern;
use crate::document::{Path, Segment};
use crate::record::KeyField;

/// A boolean expression over conditions. `All` and `Any` never directly hold
/// another node of their own kind (the parser flattens them), which keeps
/// the canonical text stable.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// `a && b && …`: every branch holds.
    All(Vec<Expr>),
    /// `a || b || …`: some branch holds.
    Any(Vec<Expr>),
    /// One test on one selector.
    Condition(Condition),
}

/// A test on the value(s) a selector reaches.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Condition {
    /// Where to look.
    pub selector: Path,
    /// What must hold there.
    pub test: Test,
    /// The selector, when a typed record holds it as a field.
    pub key: Option<KeyField>,
}

impl Condition {
    /// The condition `test` on `selector`.
    pub(crate) fn new(selector: Path, test: Test) -> Condition {
        Condition {
            key: KeyField::of_path(selector.segments()),
            selector,
            test,
        }
    }
}

/// What a condition checks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// `= text` or `!= text` (quoted, or a bare word that is not a number).
    Text {
        /// `!=` rather than `=`.
        negated: bool,
        /// The value, with its wildcards.
        pattern: TextPattern,
    },
    /// A comparison with a bare number.
    Number {
        /// The comparison.
        op: NumericOp,
        /// The number.
        literal: NumberLiteral,
    },
    /// `IS NULL`
    IsNull,
    /// `IS TRUE` / `IS FALSE`
    IsBool(bool),
    /// `NOT EXISTS`
    NotExists,
}

/// The comparison of a numeric condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumericOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl NumericOp {
    /// The operator written as `text`, if it is one.
    pub(crate) fn from_symbol(text: &str) -> Option<Self> {
        Some(match text {
            "=" => NumericOp::Eq,
            "!=" => NumericOp::Ne,
            "<" => NumericOp::Lt,
            "<=" => NumericOp::Le,
            ">" => NumericOp::Gt,
            ">=" => NumericOp::Ge,
            _ => return None,
        })
    }

    /// How the operator is written.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            NumericOp::Eq => "=",
            NumericOp::Ne => "!=",
            NumericOp::Lt => "<",
            NumericOp::Le => "<=",
            NumericOp::Gt => ">",
            NumericOp::Ge => ">=",
        }
    }

    /// Whether `value op operand` holds.
    pub(crate) fn holds(self, value: f64, operand: f64) -> bool {
        match self {
            NumericOp::Eq => value == operand,
            NumericOp::Ne => value != operand,
            NumericOp::Lt => value < operand,
            NumericOp::Le => value <= operand,
            NumericOp::Gt => value > operand,
            NumericOp::Ge => value >= operand,
        }
    }
}

/// A number of a pattern, parsed once, with its text as written (so the
/// canonical form shows `1e-3`, not `0.001`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NumberLiteral {
    /// The parsed value.
    pub value: f64,
    /// The text as written in the pattern.
    pub text: String,
}

/// Writes a selector; names that are not plain (`-`, `_`, alphanumerics) use
/// the bracket form `.['name']`.
pub(crate) fn write_selector(f: &mut impl fmt::Write, path: &Path) -> fmt::Result {
    f.write_str("$")?;
    for segment in path.segments() {
        match segment {
            Segment::Key(key) if !key.is_empty() && key.chars().all(is_key_char) => {
                write!(f, ".{key}")?;
            }
            Segment::Key(key) => {
                f.write_str(".['")?;
                for c in key.chars() {
                    if matches!(c, '\'' | '\\') {
                        f.write_str("\\")?;
                    }
                    f.write_char(c)?;
                }
                f.write_str("']")?;
            }
            Segment::Index(i) => write!(f, "[{i}]")?,
            Segment::AnyIndex => f.write_str("[*]")?,
        }
    }
    Ok(())
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_selector(f, &self.selector)?;
        match &self.test {
            Test::Text { negated, pattern } => {
                let op = if *negated { "!=" } else { "=" };
                write!(f, " {op} {pattern}")
            }
            Test::Number { op, literal } => write!(f, " {} {}", op.symbol(), literal.text),
            Test::IsNull => f.write_str(" IS NULL"),
            Test::IsBool(true) => f.write_str(" IS TRUE"),
            Test::IsBool(false) => f.write_str(" IS FALSE"),
            Test::NotExists => f.write_str(" NOT EXISTS"),
        }
    }
}

impl Expr {
    /// Writes the expression, parenthesising an `||` that sits inside `&&`
    /// (the only place precedence needs it).
    fn write(&self, f: &mut fmt::Formatter<'_>, inside_all: bool) -> fmt::Result {
        match self {
            Expr::Condition(condition) => write!(f, "{condition}"),
            Expr::All(branches) => write_joined(f, branches, " && ", true),
            Expr::Any(branches) if inside_all => {
                f.write_str("(")?;
                write_joined(f, branches, " || ", false)?;
                f.write_str(")")
            }
            Expr::Any(branches) => write_joined(f, branches, " || ", false),
        }
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    branches: &[Expr],
    separator: &str,
    inside_all: bool,
) -> fmt::Result {
    for (i, branch) in branches.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        branch.write(f, inside_all)?;
    }
    Ok(())
}

/// The canonical text of the expression, without the outer braces.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(key: &str, test: Test) -> Expr {
        Expr::Condition(Condition::new(
            Path(vec![Segment::Key(key.to_owned())]),
            test,
        ))
    }

    #[test]
    fn or_inside_and_is_parenthesised_and_and_inside_or_is_not() {
        let a = condition("a", Test::IsNull);
        let b = condition("b", Test::IsBool(true));
        let c = condition("c", Test::NotExists);
        let and_of_or = Expr::All(vec![a.clone(), Expr::Any(vec![b.clone(), c.clone()])]);
        assert_eq!(
            and_of_or.to_string(),
            "$.a IS NULL && ($.b IS TRUE || $.c NOT EXISTS)"
        );
        let or_of_and = Expr::Any(vec![Expr::All(vec![a, b]), c]);
        assert_eq!(
            or_of_and.to_string(),
            "$.a IS NULL && $.b IS TRUE || $.c NOT EXISTS"
        );
    }

    #[test]
    fn selectors_use_brackets_only_for_names_that_need_them() {
        let path = Path(vec![
            Segment::Key("plain-name_1".to_owned()),
            Segment::Key("cluster.name".to_owned()),
            Segment::Key("it's".to_owned()),
            Segment::Key(String::new()),
            Segment::Index(2),
            Segment::AnyIndex,
        ]);
        let mut text = String::new();
        assert!(write_selector(&mut text, &path).is_ok());
        assert_eq!(
            text,
            r"$.plain-name_1.['cluster.name'].['it\'s'].[''][2][*]"
        );
    }

    #[test]
    fn numeric_operators_round_trip_and_compare() {
        for op in [
            NumericOp::Eq,
            NumericOp::Ne,
            NumericOp::Lt,
            NumericOp::Le,
            NumericOp::Gt,
            NumericOp::Ge,
        ] {
            assert_eq!(NumericOp::from_symbol(op.symbol()), Some(op));
        }
        assert!(NumericOp::Le.holds(1.0, 1.0));
        assert!(!NumericOp::Lt.holds(1.0, 1.0));
        assert!(NumericOp::Ne.holds(1.0, 2.0));
        assert_eq!(NumericOp::from_symbol("=="), None);
    }
}
