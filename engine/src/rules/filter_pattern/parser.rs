//! Recursive-descent parsing of a filter pattern into an [`Expr`].
//!
//! Grammar (`&&` binds tighter than `||`, as the AWS guide states):
//!
//! ```text
//! pattern    = "{" any "}"
//! any        = all ( "||" all )*
//! all        = primary ( "&&" primary )*
//! primary    = "(" any ")" | condition
//! condition  = selector ( ("=" | "!=") value
//!                       | ("<" | "<=" | ">" | ">=") number
//!                       | "IS" ("NULL" | "TRUE" | "FALSE")
//!                       | "NOT" "EXISTS" )
//! ```

use super::ast::{Condition, Expr, NumberLiteral, NumericOp, Test};
use super::error::{FilterPatternError, Found, column};
use super::lexer::{Lexer, Token, TokenKind};
use super::number::parse_number;
use super::wildcard::TextPattern;
use crate::document::Path;

const COMPARISON: &str = "a comparison operator (=, !=, <, <=, >, >=, IS, NOT EXISTS)";

/// Deepest nesting of parentheses accepted. Parsing recurses once per
/// level (and so would evaluation), so the depth is bounded before it can
/// exhaust the stack; CloudWatch's own 1,024-character limit on a pattern
/// allows far fewer levels than a readable pattern would ever use.
pub(crate) const MAX_NESTING: usize = 64;

/// Parses a whole pattern, braces included.
pub(crate) fn parse(src: &str) -> Result<Expr, FilterPatternError> {
    let mut parser = Parser {
        src,
        lexer: Lexer::new(src),
        peeked: None,
        depth: 0,
    };
    parser.pattern()
}

/// What closes the group being parsed, for error messages.
#[derive(Clone, Copy)]
enum Group {
    /// The outer `{ … }`.
    Braces,
    /// A `( … )` opened at this byte offset.
    Parens(usize),
}

struct Parser<'a> {
    src: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    /// Parentheses open around the current position.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Option<Token<'a>>, FilterPatternError> {
        match self.peeked.take() {
            Some(token) => Ok(Some(token)),
            None => self.lexer.next_token(),
        }
    }

    fn peek(&mut self) -> Result<Option<&Token<'a>>, FilterPatternError> {
        if self.peeked.is_none() {
            self.peeked = self.lexer.next_token()?;
        }
        Ok(self.peeked.as_ref())
    }

    fn peek_kind(&mut self) -> Result<Option<&TokenKind<'a>>, FilterPatternError> {
        Ok(self.peek()?.map(|token| &token.kind))
    }

    /// An error pointing at `token` (or at the end of the pattern).
    fn error(&self, token: Option<&Token<'a>>, expected: impl Into<String>) -> FilterPatternError {
        match token {
            Some(token) => FilterPatternError::at(
                self.src,
                token.start,
                expected,
                Found::text(self.src.get(token.start..token.end).unwrap_or_default()),
            ),
            None => FilterPatternError::at(self.src, self.src.len(), expected, Found::End),
        }
    }

    fn pattern(&mut self) -> Result<Expr, FilterPatternError> {
        let open = self.next()?;
        if !matches!(
            open,
            Some(Token {
                kind: TokenKind::OpenBrace,
                ..
            })
        ) {
            return Err(self
                .error(open.as_ref(), "`{` to open a JSON filter pattern")
                .with_hint(
                    "only JSON filter patterns such as `{ $.eventName = \"ConsoleLogin\" }` \
                     are supported, not term or space-delimited patterns",
                ));
        }
        let expr = self.any(Group::Braces)?;
        self.close(Group::Braces)?;
        match self.next()? {
            None => Ok(expr),
            Some(token) => Err(self.error(Some(&token), "the end of the pattern after `}`")),
        }
    }

    /// Consumes the token that closes `group`, or explains what is wrong.
    fn close(&mut self, group: Group) -> Result<(), FilterPatternError> {
        let token = self.next()?;
        let kind = token.as_ref().map(|token| &token.kind);
        match (group, kind) {
            (Group::Braces, Some(TokenKind::CloseBrace))
            | (Group::Parens(_), Some(TokenKind::CloseParen)) => Ok(()),
            (Group::Braces, Some(TokenKind::CloseParen)) => Err(self
                .error(token.as_ref(), "`&&`, `||` or `}`")
                .with_hint("this `)` has no matching `(`")),
            (Group::Braces, None) => {
                Err(self.error(None, "`&&`, `||` or `}` to close the pattern"))
            }
            (Group::Braces, Some(_)) => Err(self.error(token.as_ref(), "`&&`, `||` or `}`")),
            (Group::Parens(open), _) => Err(self.error(
                token.as_ref(),
                format!(
                    "`&&`, `||` or `)` to close the `(` at column {}",
                    column(self.src, open)
                ),
            )),
        }
    }

    fn any(&mut self, group: Group) -> Result<Expr, FilterPatternError> {
        let mut branches = Vec::new();
        loop {
            match self.all(group)? {
                Expr::Any(inner) => branches.extend(inner),
                other => branches.push(other),
            }
            if self.peek_kind()? != Some(&TokenKind::Or) {
                break;
            }
            self.next()?;
        }
        Ok(single_or(branches, Expr::Any))
    }

    fn all(&mut self, group: Group) -> Result<Expr, FilterPatternError> {
        let mut branches = Vec::new();
        loop {
            match self.primary(group)? {
                Expr::All(inner) => branches.extend(inner),
                other => branches.push(other),
            }
            if self.peek_kind()? != Some(&TokenKind::And) {
                break;
            }
            self.next()?;
        }
        Ok(single_or(branches, Expr::All))
    }

    fn primary(&mut self, group: Group) -> Result<Expr, FilterPatternError> {
        let token = self.next()?;
        match token {
            Some(Token {
                kind: TokenKind::OpenParen,
                start,
                ..
            }) => {
                if self.depth >= MAX_NESTING {
                    return Err(self
                        .error(
                            token.as_ref(),
                            format!("a condition: parentheses nest at most {MAX_NESTING} deep"),
                        )
                        .with_hint("remove redundant parentheses"));
                }
                self.depth += 1;
                let inner = Group::Parens(start);
                let expr = self.any(inner)?;
                self.close(inner)?;
                self.depth -= 1;
                Ok(expr)
            }
            Some(Token {
                kind: TokenKind::Selector(selector),
                ..
            }) => self.condition(selector),
            Some(Token {
                kind: TokenKind::Word(_),
                ..
            }) => Err(self
                .error(
                    token.as_ref(),
                    "a condition starting with a selector such as `$.name`",
                )
                .with_hint("selectors start with `$.`, as in `$.eventName`")),
            Some(Token {
                kind: TokenKind::CloseBrace,
                ..
            }) if matches!(group, Group::Braces) => Err(self.error(
                token.as_ref(),
                "a condition such as `$.eventName = \"ConsoleLogin\"`",
            )),
            _ => Err(self.error(
                token.as_ref(),
                "a condition starting with a selector such as `$.name`, or `(`",
            )),
        }
    }

    fn condition(&mut self, selector: Path) -> Result<Expr, FilterPatternError> {
        let token = self.next()?;
        let test = match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Operator(symbol)) => match NumericOp::from_symbol(symbol) {
                Some(NumericOp::Eq) => self.value(false, "`=`")?,
                Some(NumericOp::Ne) => self.value(true, "`!=`")?,
                Some(op) => Test::Number {
                    op,
                    literal: self.number(op)?,
                },
                None => {
                    let err = self.error(token.as_ref(), COMPARISON);
                    return Err(match *symbol {
                        "==" => err.with_hint("equality is a single `=`"),
                        "<>" | "=!" => err.with_hint("inequality is `!=`"),
                        _ => err,
                    });
                }
            },
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("IS") => self.is_keyword()?,
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("NOT") => self.not_exists()?,
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("EXISTS") => {
                return Err(self.error(token.as_ref(), COMPARISON).with_hint(
                    "CloudWatch does not support a bare EXISTS; match any string or number \
                     with `= *`, or absence with `NOT EXISTS`",
                ));
            }
            _ => return Err(self.error(token.as_ref(), COMPARISON)),
        };
        Ok(Expr::Condition(Condition::new(selector, test)))
    }

    /// The value after `=` / `!=`: a number, a quoted string or a bare word.
    fn value(&mut self, negated: bool, after: &str) -> Result<Test, FilterPatternError> {
        let token = self.next()?;
        let expected = || format!("a value after {after}");
        match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Quoted(raw)) => Ok(Test::Text {
                negated,
                pattern: TextPattern::from_quoted(raw),
            }),
            Some(TokenKind::Word(word)) if word.starts_with('%') => Err(self
                .error(token.as_ref(), expected())
                .with_hint("regular-expression values (`%…%`) are not supported")),
            Some(TokenKind::Word(word)) => Ok(match parse_number(word) {
                Some(value) => Test::Number {
                    op: if negated {
                        NumericOp::Ne
                    } else {
                        NumericOp::Eq
                    },
                    literal: NumberLiteral {
                        value,
                        text: (*word).to_owned(),
                    },
                },
                None => Test::Text {
                    negated,
                    pattern: TextPattern::from_bare(word),
                },
            }),
            Some(TokenKind::Selector(_)) => Err(self
                .error(token.as_ref(), expected())
                .with_hint("a value cannot name another field; quote text that starts with `$`")),
            _ => Err(self.error(token.as_ref(), expected())),
        }
    }

    /// The number after `<`, `<=`, `>` or `>=`.
    fn number(&mut self, op: NumericOp) -> Result<NumberLiteral, FilterPatternError> {
        let token = self.next()?;
        if let Some(TokenKind::Word(word)) = token.as_ref().map(|token| &token.kind)
            && let Some(value) = parse_number(word)
        {
            return Ok(NumberLiteral {
                value,
                text: (*word).to_owned(),
            });
        }
        Err(self
            .error(token.as_ref(), format!("a number after `{}`", op.symbol()))
            .with_hint("numbers are unquoted, as in `10`, `-2.5` or `1e3`"))
    }

    fn is_keyword(&mut self) -> Result<Test, FilterPatternError> {
        let token = self.next()?;
        let test = match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("NULL") => Some(Test::IsNull),
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("TRUE") => {
                Some(Test::IsBool(true))
            }
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("FALSE") => {
                Some(Test::IsBool(false))
            }
            _ => None,
        };
        test.ok_or_else(|| {
            let err = self.error(token.as_ref(), "NULL, TRUE or FALSE after IS");
            match token.as_ref().map(|token| &token.kind) {
                Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("NOT") => {
                    err.with_hint("CloudWatch does not support IS NOT")
                }
                _ => err,
            }
        })
    }

    fn not_exists(&mut self) -> Result<Test, FilterPatternError> {
        let token = self.next()?;
        match token.as_ref().map(|token| &token.kind) {
            Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("EXISTS") => {
                Ok(Test::NotExists)
            }
            _ => Err(self.error(token.as_ref(), "EXISTS after NOT")),
        }
    }
}

/// The only branch itself, or the branches combined with `combine`.
fn single_or(mut branches: Vec<Expr>, combine: fn(Vec<Expr>) -> Expr) -> Expr {
    match (branches.pop(), branches.is_empty()) {
        (Some(only), true) => only,
        (Some(last), false) => {
            branches.push(last);
            combine(branches)
        }
        // Not reached: the loops above always parse at least one branch.
        (None, _) => combine(branches),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Segment;

    fn parsed(src: &str) -> Expr {
        match parse(src) {
            Ok(expr) => expr,
            Err(err) => panic!("{src:?}: {err}"),
        }
    }

    fn failed(src: &str) -> FilterPatternError {
        match parse(src) {
            Err(err) => err,
            Ok(expr) => panic!("{src:?} parsed as {expr}"),
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let expr = parsed("{ $.a = 1 || $.b = 2 && $.c = 3 }");
        let Expr::Any(branches) = &expr else {
            panic!("expected ||, got {expr:?}");
        };
        assert_eq!(branches.len(), 2);
        assert!(matches!(branches.get(1), Some(Expr::All(all)) if all.len() == 2));
        assert_eq!(expr.to_string(), "$.a = 1 || $.b = 2 && $.c = 3");
    }

    #[test]
    fn parentheses_override_precedence_and_nested_groups_flatten() {
        let expr = parsed("{ (($.a = 1 || $.b = 2)) && ($.c = 3 && ($.d = 4)) }");
        let Expr::All(branches) = &expr else {
            panic!("expected &&, got {expr:?}");
        };
        assert_eq!(branches.len(), 3);
        assert!(matches!(branches.first(), Some(Expr::Any(any)) if any.len() == 2));
        assert_eq!(
            expr.to_string(),
            "($.a = 1 || $.b = 2) && $.c = 3 && $.d = 4"
        );
    }

    #[test]
    fn values_are_numbers_only_when_bare_and_well_formed() {
        let condition = |src: &str| match parsed(src) {
            Expr::Condition(condition) => condition.test,
            other => panic!("{other:?}"),
        };
        assert!(matches!(
            condition("{$.a=+1000}"),
            Test::Number { op: NumericOp::Eq, literal } if literal.value == 1000.0 && literal.text == "+1000"
        ));
        assert!(matches!(
            condition("{$.a!=10.0.1.0}"),
            Test::Text { negated: true, pattern: TextPattern::Exact(text) } if text == "10.0.1.0"
        ));
        assert!(matches!(
            condition(r#"{$.a="400"}"#),
            Test::Text { negated: false, pattern: TextPattern::Exact(text) } if text == "400"
        ));
        assert!(matches!(
            condition("{$.a <= -2.5e-1}"),
            Test::Number { op: NumericOp::Le, literal } if literal.value == -0.25
        ));
    }

    #[test]
    fn keywords_ignore_case() {
        let expr = parsed("{ $.a is null || $.b Is True || $.c IS FALSE || $.d not exists }");
        assert_eq!(
            expr.to_string(),
            "$.a IS NULL || $.b IS TRUE || $.c IS FALSE || $.d NOT EXISTS"
        );
    }

    #[test]
    fn selectors_keep_their_steps() {
        let Expr::Condition(condition) = parsed("{ $.a[0].b[*].['c.d'] = x }") else {
            panic!("condition expected");
        };
        assert_eq!(
            condition.selector,
            Path(vec![
                Segment::Key("a".to_owned()),
                Segment::Index(0),
                Segment::Key("b".to_owned()),
                Segment::AnyIndex,
                Segment::Key("c.d".to_owned()),
            ])
        );
    }

    #[test]
    fn wrong_operator_is_reported_at_its_column() {
        let err = failed("{ $.eventName == \"x\" }");
        assert_eq!(err.column, 15);
        assert_eq!(err.found, Found::text("=="));
        assert_eq!(
            err.to_string(),
            "column 15: expected a comparison operator (=, !=, <, <=, >, >=, IS, NOT EXISTS), \
             found \"==\" (equality is a single `=`)"
        );
    }

    #[test]
    fn missing_pieces_are_named() {
        let err = failed("");
        assert_eq!((err.column, err.found), (1, Found::End));

        let err = failed("ERROR");
        assert!(err.expected.contains("`{`"), "{err}");
        assert!(err.hint.is_some());

        let err = failed("{ }");
        assert_eq!((err.column, err.found), (3, Found::text("}")));

        let err = failed("{ $.a = 1");
        assert_eq!((err.column, &err.found), (10, &Found::End));
        assert!(err.expected.contains("to close the pattern"), "{err}");

        let err = failed("{ $.a = }");
        assert_eq!(err.column, 9);
        assert_eq!(err.expected, "a value after `=`");

        let err = failed("{ $.a != && $.b = 1 }");
        assert_eq!(err.column, 10);
        assert_eq!(err.expected, "a value after `!=`");

        let err = failed("{ $.a }");
        assert_eq!((err.column, err.expected.as_str()), (7, COMPARISON));
    }

    #[test]
    fn deep_nesting_is_a_clean_error() {
        let deep = |n: usize| {
            format!(
                "{{ {}$.eventName = \"A\"{} }}",
                "(".repeat(n),
                ")".repeat(n)
            )
        };
        assert!(matches!(parsed(&deep(MAX_NESTING)), Expr::Condition(_)));
        let err = failed(&deep(MAX_NESTING + 1));
        assert_eq!(err.column, MAX_NESTING + 3);
        assert!(err.expected.contains("nest at most 64 deep"), "{err}");
        // Far past any stack: refused at the same depth, unbalanced or not.
        let err = failed(&format!("{{ {} }}", "(".repeat(10_000)));
        assert_eq!(err.column, MAX_NESTING + 3, "{err}");
        let err = failed(&deep(10_000));
        assert!(
            err.to_string().contains("remove redundant parentheses"),
            "{err}"
        );
    }

    #[test]
    fn unbalanced_parentheses_are_reported() {
        let err = failed("{ ($.a = 1 }");
        assert_eq!(err.column, 12);
        assert!(err.expected.contains("`(` at column 3"), "{err}");

        let err = failed("{ $.a = 1) }");
        assert_eq!(err.column, 10);
        assert_eq!(err.hint, Some("this `)` has no matching `(`"));

        let err = failed("{ (($.a = 1) }");
        assert!(err.expected.contains("column 3"), "{err}");
    }

    #[test]
    fn trailing_input_and_stray_tokens_are_rejected() {
        let err = failed("{ $.a = 1 } x");
        assert_eq!((err.column, err.found), (13, Found::text("x")));

        let err = failed("{ $.a = 1 & $.b = 2 }");
        assert_eq!((err.column, err.found), (11, Found::text("&")));

        let err = failed("{ $.a = \"x\"y }");
        assert_eq!((err.column, err.found), (12, Found::text("y")));
    }

    #[test]
    fn unsupported_forms_explain_themselves() {
        let err = failed("{ $.a EXISTS }");
        assert_eq!(err.column, 7);
        assert!(err.to_string().contains("bare EXISTS"), "{err}");

        let err = failed("{ $.a IS NOT NULL }");
        assert_eq!(err.column, 10);
        assert!(err.to_string().contains("IS NOT"), "{err}");

        let err = failed("{ $.a NOT NULL }");
        assert_eq!(
            (err.column, err.expected.as_str()),
            (11, "EXISTS after NOT")
        );

        let err = failed("{ $.eventType = %Trail% }");
        assert_eq!(err.column, 17);
        assert!(err.to_string().contains("regular-expression"), "{err}");

        let err = failed("{ $.a > \"5\" }");
        assert_eq!(
            (err.column, err.expected.as_str()),
            (9, "a number after `>`")
        );

        let err = failed("{ $.a < 4* }");
        assert_eq!(err.column, 9);

        let err = failed("{ eventName = x }");
        assert_eq!(err.column, 3);
        assert!(err.to_string().contains("`$.`"), "{err}");

        let err = failed("{ $.a = $.b }");
        assert_eq!(err.column, 9);
    }
}
