//! A bound on how deeply a YAML text nests flow collections, checked
//! before the text reaches a YAML parser.
//!
//! Rule files come from S3 and SSM, written by whoever may write there.
//! The YAML scanner's work grows with the square of the nesting of flow
//! collections (`[[[...`): 100,000 levels take tens of seconds before the
//! deserializer's own recursion limit (128) is ever consulted. Counting
//! brackets first is linear and refuses such a text at once.

/// Deepest nesting of `[`/`{` accepted: the deserializer refuses more
/// anyway, so no text that would load is turned away.
pub(crate) const MAX_YAML_NESTING: usize = 128;

/// Checks that `[` and `{` nest at most [`MAX_YAML_NESTING`] deep in `text`;
/// the error names the line where the limit is passed.
///
/// Brackets are counted wherever they are, quoted or not: a string can
/// only make the count higher than the real nesting by its own unclosed
/// brackets, which no real rule has a hundred of.
pub(crate) fn check_nesting(text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut line = 1usize;
    for byte in text.bytes() {
        match byte {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_YAML_NESTING {
                    return Err(format!(
                        "line {line}: brackets (`[` or `{{`) nest more than \
                         {MAX_YAML_NESTING} deep; no rule file needs that many"
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_are_refused_with_their_line() {
        let ok = format!("a: {}1{}\n", "[".repeat(128), "]".repeat(128));
        assert_eq!(check_nesting(&ok), Ok(()));
        let deep = format!("a: 1\nb: {}", "[{".repeat(50_000));
        let err = check_nesting(&deep).unwrap_err();
        assert!(err.starts_with("line 2: brackets"), "{err}");
        // Closed brackets do not add up.
        let flat = "x: [1]\n".repeat(10_000);
        assert_eq!(check_nesting(&flat), Ok(()));
    }
}
