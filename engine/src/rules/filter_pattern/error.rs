//! What went wrong while reading a filter pattern, and where.

use std::fmt;

/// Longest excerpt of the offending text quoted in a message.
const MAX_FOUND_CHARS: usize = 40;

/// A filter pattern that could not be parsed.
///
/// Displays as `column 17: expected a comparison operator (...), found "=="`,
/// followed by a hint when there is a likely fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: expected {expected}, found {found}{}", HintSuffix(*.hint))]
pub struct FilterPatternError {
    /// Where the problem starts: 1-based, counted in characters.
    pub column: usize,
    /// What the parser was looking for at that column.
    pub expected: String,
    /// What it found instead.
    pub found: Found,
    /// How to fix it, when the mistake is a common one.
    pub hint: Option<&'static str>,
}

/// The text a [`FilterPatternError`] points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Some text of the pattern (shortened when long).
    Text(String),
    /// The pattern ended.
    End,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Backticks keep text that itself holds quotes readable.
            Found::Text(text) if text.contains('"') => write!(f, "`{text}`"),
            Found::Text(text) => write!(f, "\"{text}\""),
            Found::End => f.write_str("the end of the pattern"),
        }
    }
}

struct HintSuffix(Option<&'static str>);

impl fmt::Display for HintSuffix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

impl FilterPatternError {
    /// An error at byte `offset` of `src`.
    pub(crate) fn at(src: &str, offset: usize, expected: impl Into<String>, found: Found) -> Self {
        FilterPatternError {
            column: column(src, offset),
            expected: expected.into(),
            found,
            hint: None,
        }
    }

    /// The same error, with advice on how to fix it.
    pub(crate) fn with_hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }
}

/// The 1-based character column of byte `offset` in `src`.
pub(crate) fn column(src: &str, offset: usize) -> usize {
    src.get(..offset)
        .map_or_else(|| src.chars().count(), |before| before.chars().count())
        + 1
}

impl Found {
    /// The text `text`, shortened to a readable excerpt.
    pub(crate) fn text(text: &str) -> Self {
        let mut chars = text.char_indices();
        match chars.nth(MAX_FOUND_CHARS) {
            Some((cut, _)) => Found::Text(format!("{}...", text.get(..cut).unwrap_or(text))),
            None => Found::Text(text.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_counts_characters_not_bytes() {
        let src = "{ $.é = ==";
        let offset = src.find("==").unwrap_or_default();
        let err = FilterPatternError::at(src, offset, "a value", Found::text("=="));
        assert_eq!(err.column, 9);
        assert_eq!(err.to_string(), "column 9: expected a value, found \"==\"");
    }

    #[test]
    fn hint_and_quoted_text_are_shown() {
        let err = FilterPatternError::at("x", 0, "a selector", Found::text("\"a\""))
            .with_hint("selectors start with `$.`");
        assert_eq!(
            err.to_string(),
            "column 1: expected a selector, found `\"a\"` (selectors start with `$.`)"
        );
    }

    #[test]
    fn long_text_is_shortened_and_end_is_named() {
        let long = "x".repeat(100);
        let Found::Text(shown) = Found::text(&long) else {
            panic!("text expected");
        };
        assert_eq!(shown.len(), MAX_FOUND_CHARS + 3);
        assert_eq!(Found::End.to_string(), "the end of the pattern");
    }
}
