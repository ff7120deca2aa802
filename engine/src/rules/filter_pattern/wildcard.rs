//! String values with `*` wildcards, split once at parse time so that
//! matching is a few `str` searches without allocating.

use std::fmt;

/// A string value of a pattern: exact text, or literal pieces separated by
/// `*` wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextPattern {
    /// No wildcard: the value must equal this text.
    Exact(String),
    /// At least one wildcard: `prefix*middle[0]*…*middle[n]*suffix`, where
    /// each `*` stands for any text (empty included).
    Wildcard {
        /// Text the value must start with.
        prefix: String,
        /// Non-empty pieces that must appear in order between prefix and suffix.
        middle: Vec<String>,
        /// Text the value must end with.
        suffix: String,
    },
}

impl TextPattern {
    /// An unquoted value: every `*` is a wildcard and `\` has no meaning.
    pub(crate) fn from_bare(text: &str) -> Self {
        Self::from_pieces(text.split('*').map(str::to_owned).collect())
    }

    /// The text of a double-quoted value, between the quotes: `\"`, `\\` and
    /// `\*` stand for `"`, `\` and a literal `*`; any other `\` is kept as is.
    pub(crate) fn from_quoted(raw: &str) -> Self {
        let mut pieces = vec![String::new()];
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            let literal = match c {
                '*' => {
                    pieces.push(String::new());
                    continue;
                }
                '\\' => match chars.next() {
                    Some(escaped @ ('"' | '\\' | '*')) => escaped.to_string(),
                    Some(other) => format!("\\{other}"),
                    None => "\\".to_owned(),
                },
                other => other.to_string(),
            };
            if let Some(last) = pieces.last_mut() {
                last.push_str(&literal);
            }
        }
        Self::from_pieces(pieces)
    }

    /// Builds the pattern from the literal pieces found between wildcards.
    fn from_pieces(mut pieces: Vec<String>) -> Self {
        if pieces.len() < 2 {
            return TextPattern::Exact(pieces.pop().unwrap_or_default());
        }
        let suffix = pieces.pop().unwrap_or_default();
        let mut rest = pieces.into_iter();
        let prefix = rest.next().unwrap_or_default();
        // `a**b` means the same as `a*b`: empty pieces between wildcards add nothing.
        let middle = rest.filter(|piece| !piece.is_empty()).collect();
        TextPattern::Wildcard {
            prefix,
            middle,
            suffix,
        }
    }

    /// Whether `value` matches.
    pub(crate) fn matches(&self, value: &str) -> bool {
        match self {
            TextPattern::Exact(text) => value == text,
            TextPattern::Wildcard {
                prefix,
                middle,
                suffix,
            } => {
                let Some(rest) = value.strip_prefix(prefix.as_str()) else {
                    return false;
                };
                let Some(mut rest) = rest.strip_suffix(suffix.as_str()) else {
                    return false;
                };
                // Taking each piece at its first occurrence leaves the most
                // room for the ones after it, so this never misses a match.
                for piece in middle {
                    match rest.find(piece.as_str()) {
                        Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
                        None => return false,
                    }
                }
                true
            }
        }
    }

    /// The text a value must equal, when there is no wildcard.
    pub(crate) fn exact(&self) -> Option<&str> {
        match self {
            TextPattern::Exact(text) => Some(text),
            TextPattern::Wildcard { .. } => None,
        }
    }
}

/// Writes `text` for inside double quotes, so a literal `*` stays literal.
fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        match c {
            '"' | '\\' | '*' => write!(f, "\\{c}")?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

/// The canonical, always double-quoted form.
impl fmt::Display for TextPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        match self {
            TextPattern::Exact(text) => write_escaped(f, text)?,
            TextPattern::Wildcard {
                prefix,
                middle,
                suffix,
            } => {
                write_escaped(f, prefix)?;
                f.write_str("*")?;
                for piece in middle {
                    write_escaped(f, piece)?;
                    f.write_str("*")?;
                }
                write_escaped(f, suffix)?;
            }
        }
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_text_matches_only_itself() {
        let p = TextPattern::from_bare("UpdateTrail");
        assert_eq!(p.exact(), Some("UpdateTrail"));
        assert!(p.matches("UpdateTrail"));
        assert!(!p.matches("UpdateTrails"));
        assert!(!p.matches("updatetrail"));
    }

    #[test]
    fn prefix_suffix_and_lone_star() {
        let suffix = TextPattern::from_quoted("*UnauthorizedOperation");
        assert!(suffix.matches("Client.UnauthorizedOperation"));
        assert!(suffix.matches("UnauthorizedOperation"));
        assert!(!suffix.matches("UnauthorizedOperationX"));

        let prefix = TextPattern::from_bare("AccessDenied*");
        assert!(prefix.matches("AccessDeniedException"));
        assert!(!prefix.matches("Client.AccessDenied"));

        let any = TextPattern::from_bare("*");
        assert!(any.matches(""));
        assert!(any.matches("anything"));
        assert_eq!(any.exact(), None);
    }

    #[test]
    fn middle_and_several_wildcards() {
        let p = TextPattern::from_bare("Ev*ent");
        assert!(p.matches("Event"));
        assert!(p.matches("Ev-some-ent"));
        assert!(!p.matches("Evnt"));
        // Prefix and suffix may not share characters.
        assert!(!TextPattern::from_bare("ab*ba").matches("aba"));

        let p = TextPattern::from_bare("*a*b**c*");
        assert!(p.matches("xaybzc"));
        assert!(p.matches("abc"));
        assert!(!p.matches("acb"));
        assert!(TextPattern::from_bare("a*b*b").matches("abbb"));
        assert!(!TextPattern::from_bare("a*bc*bc").matches("abcb"));
    }

    #[test]
    fn quoted_escapes_give_literal_quotes_backslashes_and_stars() {
        let p = TextPattern::from_quoted(r#"say \"hi\" \\ 5\*3 \d"#);
        assert_eq!(p.exact(), Some(r#"say "hi" \ 5*3 \d"#));

        let p = TextPattern::from_quoted(r"a\**");
        assert!(p.matches("a*"));
        assert!(p.matches("a*b"));
        assert!(!p.matches("ab"));
    }

    #[test]
    fn display_quotes_and_reparses_to_the_same_pattern() {
        for raw in [r#"a\"b"#, "*x*y*", r"lit\*star*", r"back\\slash", "", "**"] {
            let p = TextPattern::from_quoted(raw);
            let shown = p.to_string();
            let inner = shown
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or_default();
            assert_eq!(TextPattern::from_quoted(inner), p, "{raw} -> {shown}");
        }
        assert_eq!(TextPattern::from_bare("a**b").to_string(), "\"a*b\"");
    }
}
