//! Numbers as CloudWatch writes them in patterns, and the text form of
//! numbers found in events (for wildcard and string comparisons).

use std::fmt::{self, Write as _};

/// Parses `text` if it is a number in the form the AWS guide allows: an
/// optional `+`/`-`, digits, an optional `.` and digits, and an optional
/// `e`/`E` exponent with optional sign. Anything else (`1.`, `.5`, `inf`,
/// `10.0.1.0`) is not a number.
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (mantissa, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if digits(whole) && fraction.is_none_or(digits) && exponent_ok {
        text.parse().ok()
    } else {
        None
    }
}

/// Longest text `f64`'s `Display` writes (about 330 characters for the
/// smallest subnormal), with room to spare.
const NUMBER_TEXT_CAPACITY: usize = 400;

/// A fixed buffer that `write!` can fill without allocating.
struct StackText {
    buf: [u8; NUMBER_TEXT_CAPACITY],
    len: usize,
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Calls `with` on the shortest decimal text of `n` (`50`, `0.001`, `-2.5`),
/// without allocating.
pub(crate) fn with_number_text<R>(n: f64, with: impl FnOnce(&str) -> R) -> R {
    let mut text = StackText {
        buf: [0; NUMBER_TEXT_CAPACITY],
        len: 0,
    };
    let written = write!(text, "{n}").ok().and_then(|()| {
        let bytes = text.buf.get(..text.len)?;
        std::str::from_utf8(bytes).ok()
    });
    match written {
        Some(s) => with(s),
        // Not reached with the capacity above; kept so no input can panic.
        None => with(&n.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_the_aws_guide_lists() {
        assert_eq!(parse_number("400"), Some(400.0));
        assert_eq!(parse_number("+1000"), Some(1000.0));
        assert_eq!(parse_number("-5"), Some(-5.0));
        assert_eq!(parse_number("55.5"), Some(55.5));
        assert_eq!(parse_number("1e-3"), Some(0.001));
        assert_eq!(parse_number("10e3"), Some(10_000.0));
        assert_eq!(parse_number("1e+3"), Some(1000.0));
        assert_eq!(parse_number("-2.5E2"), Some(-250.0));
    }

    #[test]
    fn rejects_everything_else() {
        for text in [
            "",
            "+",
            "1.",
            ".5",
            "1e",
            "1e+",
            "inf",
            "NaN",
            "10.0.1.0",
            "123.123.*",
            "1_000",
            "0x10",
            "--1",
            "1 ",
        ] {
            assert_eq!(parse_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn number_text_is_the_shortest_decimal_form() {
        assert_eq!(with_number_text(50.0, str::to_owned), "50");
        assert_eq!(with_number_text(0.001, str::to_owned), "0.001");
        assert_eq!(with_number_text(-2.5, str::to_owned), "-2.5");
        let tiny = with_number_text(f64::from_bits(1), |s| s.len());
        assert!(tiny > 300 && tiny < NUMBER_TEXT_CAPACITY, "{tiny}");
        let huge = with_number_text(f64::MAX, |s| s.len());
        assert_eq!(huge, 309);
    }
}
