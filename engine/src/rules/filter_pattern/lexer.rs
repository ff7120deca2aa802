//! Splitting a filter pattern into tokens, each with its byte span.
//!
//! Selectors are read whole here (`$.a[0].b` is one token) so that a bad
//! selector is reported at the exact character that breaks it. Everything
//! else that is not punctuation is a bare word; the parser decides whether a
//! word is a keyword, a number or an unquoted string.

use super::error::{FilterPatternError, Found, column};
use crate::document::{Path, Segment};

/// What a token is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TokenKind<'a> {
    /// `{`
    OpenBrace,
    /// `}`
    CloseBrace,
    /// `(`
    OpenParen,
    /// `)`
    CloseParen,
    /// `&&`
    And,
    /// `||`
    Or,
    /// A run of `=`, `!`, `<`, `>`, valid or not, so that an error can quote
    /// a mistyped operator such as `==` whole.
    Operator(&'a str),
    /// A selector such as `$.a[0].b`.
    Selector(Path),
    /// The text between double quotes, escapes still in place.
    Quoted(&'a str),
    /// Bare text: an unquoted value or a keyword.
    Word(&'a str),
    /// A lone `&` or `|`.
    Stray(char),
}

/// A token and where it sits in the pattern.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind<'a>,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past its last character.
    pub end: usize,
}

/// Characters allowed in an unquoted property name, as the AWS guide lists
/// them (alphanumerics, `-` and `_`).
pub(crate) fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Characters that end a bare word or a selector.
fn ends_word(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '{' | '}' | '"' | '&' | '|' | '=' | '!' | '<' | '>'
        )
}

fn is_operator_char(c: char) -> bool {
    matches!(c, '=' | '!' | '<' | '>')
}

const QUOTE_NAME_HINT: &str = "quote property names holding other characters: `$.['name']`";

/// Reads tokens from a pattern one at a time.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The next token, or `None` at the end of the pattern.
    pub(crate) fn next_token(&mut self) -> Result<Option<Token<'a>>, FilterPatternError> {
        self.take_while(char::is_whitespace);
        let start = self.pos;
        let Some(c) = self.peek() else {
            return Ok(None);
        };
        let kind = match c {
            '{' => self.single(TokenKind::OpenBrace),
            '}' => self.single(TokenKind::CloseBrace),
            '(' => self.single(TokenKind::OpenParen),
            ')' => self.single(TokenKind::CloseParen),
            '&' | '|' => self.logical(c),
            '"' => TokenKind::Quoted(self.quoted()?),
            '$' => TokenKind::Selector(self.selector()?),
            c if is_operator_char(c) => TokenKind::Operator(self.take_while(is_operator_char)),
            _ => TokenKind::Word(self.take_while(|c| !ends_word(c))),
        };
        Ok(Some(Token {
            kind,
            start,
            end: self.pos,
        }))
    }

    fn peek(&self) -> Option<char> {
        self.src.get(self.pos..)?.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if !keep(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.src.get(start..self.pos).unwrap_or_default()
    }

    fn single(&mut self, kind: TokenKind<'a>) -> TokenKind<'a> {
        self.bump();
        kind
    }

    fn logical(&mut self, c: char) -> TokenKind<'a> {
        self.bump();
        match (c, self.peek()) {
            ('&', Some('&')) => self.single(TokenKind::And),
            ('|', Some('|')) => self.single(TokenKind::Or),
            _ => TokenKind::Stray(c),
        }
    }

    /// What sits at the current position, for an error message: the bare
    /// word there, or the single character that stops a word.
    fn excerpt(&self) -> Found {
        let rest = self.src.get(self.pos..).unwrap_or_default();
        let word_len = rest.find(ends_word).unwrap_or(rest.len());
        let len = match rest.chars().next() {
            None => return Found::End,
            Some(c) if word_len == 0 => c.len_utf8(),
            Some(_) => word_len,
        };
        Found::text(rest.get(..len).unwrap_or(rest))
    }

    fn error(
        &self,
        offset: usize,
        expected: impl Into<String>,
        found: Found,
    ) -> FilterPatternError {
        FilterPatternError::at(self.src, offset, expected, found)
    }

    /// A double-quoted string; returns the text between the quotes.
    fn quoted(&mut self) -> Result<&'a str, FilterPatternError> {
        let open = self.pos;
        self.bump();
        let body = self.pos;
        loop {
            match self.bump() {
                None => {
                    return Err(self.error(
                        open,
                        "a closing `\"` for the string that starts here",
                        Found::End,
                    ));
                }
                // The escaped character never closes the string.
                Some('\\') => {
                    self.bump();
                }
                Some('"') => {
                    let close = self.pos - 1;
                    return Ok(self.src.get(body..close).unwrap_or_default());
                }
                Some(_) => {}
            }
        }
    }

    /// A selector: `$` followed by `.name`, `.['name']`, `[n]` or `[*]` steps.
    fn selector(&mut self) -> Result<Path, FilterPatternError> {
        self.bump();
        let mut segments = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.bump();
                    segments.push(self.member()?);
                }
                Some('[') => segments.push(self.bracket()?),
                _ => break,
            }
        }
        if segments.is_empty() {
            return Err(self.error(
                self.pos,
                "`.` and a property name after `$`",
                self.excerpt(),
            ));
        }
        match self.peek() {
            Some(c) if !ends_word(c) => Err(self
                .error(
                    self.pos,
                    "`.`, `[`, an operator or a space after the selector",
                    self.excerpt(),
                )
                .with_hint(QUOTE_NAME_HINT)),
            _ => Ok(Path(segments)),
        }
    }

    /// The step after a `.`: a plain name or a bracketed one.
    fn member(&mut self) -> Result<Segment, FilterPatternError> {
        match self.peek() {
            Some('[') => self.bracket(),
            Some(c) if is_key_char(c) => Ok(Segment::Key(self.take_while(is_key_char).to_owned())),
            Some('*') => Err(self
                .error(self.pos, "a property name after `.`", self.excerpt())
                .with_hint("`$.*` (any field of an object) is not supported; `[*]` selects any array element")),
            _ => Err(self
                .error(self.pos, "a property name after `.`", self.excerpt())
                .with_hint(QUOTE_NAME_HINT)),
        }
    }

    /// A bracketed step: `[3]`, `[*]`, `['name']` or `["name"]`.
    fn bracket(&mut self) -> Result<Segment, FilterPatternError> {
        let open = self.pos;
        self.bump();
        let segment = match self.peek() {
            Some('*') => {
                self.bump();
                Segment::AnyIndex
            }
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                let digits = self.take_while(|c| c.is_ascii_digit());
                let index = digits.parse().map_err(|_| {
                    self.error(start, "an array index", Found::text(digits))
                        .with_hint("the index is too large")
                })?;
                Segment::Index(index)
            }
            Some(quote @ ('\'' | '"')) => Segment::Key(self.bracket_name(quote)?),
            _ => {
                return Err(self.error(
                    self.pos,
                    "an array index, `*` or a quoted property name after `[`",
                    self.excerpt(),
                ));
            }
        };
        if self.peek() == Some(']') {
            self.bump();
            Ok(segment)
        } else {
            Err(self.error(
                self.pos,
                format!("`]` to close the `[` at column {}", column(self.src, open)),
                self.excerpt(),
            ))
        }
    }

    /// A quoted property name inside brackets; `\` takes the next character
    /// literally.
    fn bracket_name(&mut self, quote: char) -> Result<String, FilterPatternError> {
        let open = self.pos;
        self.bump();
        let mut name = String::new();
        loop {
            match self.bump() {
                Some('\\') => match self.bump() {
                    Some(c) => name.push(c),
                    None => break,
                },
                Some(c) if c == quote => return Ok(name),
                Some(c) => name.push(c),
                None => break,
            }
        }
        Err(self.error(
            open,
            format!("a closing `{quote}` for the property name that starts here"),
            Found::End,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Result<Vec<TokenKind<'_>>, FilterPatternError> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        while let Some(token) = lexer.next_token()? {
            out.push(token.kind);
        }
        Ok(out)
    }

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn splits_punctuation_operators_and_words() {
        let got = kinds(r#"{($.a="x\"y")&&$.b!=kms.amazonaws.com||$.c>=-1e3}"#);
        let want = vec![
            TokenKind::OpenBrace,
            TokenKind::OpenParen,
            TokenKind::Selector(Path(vec![key("a")])),
            TokenKind::Operator("="),
            TokenKind::Quoted(r#"x\"y"#),
            TokenKind::CloseParen,
            TokenKind::And,
            TokenKind::Selector(Path(vec![key("b")])),
            TokenKind::Operator("!="),
            TokenKind::Word("kms.amazonaws.com"),
            TokenKind::Or,
            TokenKind::Selector(Path(vec![key("c")])),
            TokenKind::Operator(">="),
            TokenKind::Word("-1e3"),
            TokenKind::CloseBrace,
        ];
        assert_eq!(got, Ok(want));
    }

    #[test]
    fn mistyped_operators_and_lone_ampersands_stay_whole() {
        assert_eq!(
            kinds("== & |"),
            Ok(vec![
                TokenKind::Operator("=="),
                TokenKind::Stray('&'),
                TokenKind::Stray('|'),
            ])
        );
    }

    #[test]
    fn selectors_read_every_step_form() {
        let got = kinds(r#"$.a-b_1[0].c[*]['d.e'].["f\"g"]"#);
        let want = Path(vec![
            key("a-b_1"),
            Segment::Index(0),
            key("c"),
            Segment::AnyIndex,
            key("d.e"),
            key("f\"g"),
        ]);
        assert_eq!(got, Ok(vec![TokenKind::Selector(want)]));
    }

    #[test]
    fn token_spans_are_byte_offsets() {
        let mut lexer = Lexer::new("  $.a  =");
        let first = lexer.next_token();
        assert!(matches!(
            first,
            Ok(Some(Token {
                start: 2,
                end: 5,
                ..
            }))
        ));
        let second = lexer.next_token();
        assert!(matches!(
            second,
            Ok(Some(Token {
                start: 7,
                end: 8,
                ..
            }))
        ));
        assert!(matches!(lexer.next_token(), Ok(None)));
    }

    fn error_of(src: &str) -> FilterPatternError {
        match kinds(src) {
            Err(err) => err,
            Ok(tokens) => panic!("{src:?} lexed as {tokens:?}"),
        }
    }

    #[test]
    fn bad_selectors_point_at_the_offending_character() {
        let err = error_of("$a");
        assert_eq!(err.column, 2);
        assert_eq!(err.found, Found::text("a"));

        let err = error_of("$.a.");
        assert_eq!((err.column, err.found), (5, Found::End));

        let err = error_of("$.a@b");
        assert_eq!(err.column, 4);
        assert_eq!(err.hint, Some(QUOTE_NAME_HINT));

        let err = error_of("$.*");
        assert_eq!(err.column, 3);
        assert!(err.to_string().contains("`[*]` selects any array element"));

        let err = error_of("$.a[x]");
        assert_eq!((err.column, err.found), (5, Found::text("x]")));

        let err = error_of("$.a[0 ");
        assert_eq!(err.column, 6);
        assert!(err.expected.contains("column 4"), "{err}");

        let err = error_of("$.a[99999999999999999999999]");
        assert_eq!(err.column, 5);

        let err = error_of("$.['a");
        assert_eq!((err.column, err.found), (4, Found::End));
    }

    #[test]
    fn unterminated_string_points_at_its_opening_quote() {
        let err = error_of(r#"{ $.a = "abc\" }"#);
        assert_eq!(err.column, 9);
        assert_eq!(err.found, Found::End);
    }
}
