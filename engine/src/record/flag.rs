//! CloudTrail booleans, which some services write as JSON strings.
//!
//! `readOnly` and `managementEvent` are usually `true`/`false`, but
//! `sessionContext.attributes.mfaAuthenticated` and
//! `sessionCredentialFromConsole` arrive as `"true"`/`"false"`. A [`Flag`]
//! accepts both and remembers which form it was written in, so that path
//! queries report exactly what the log file holds.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::document::Scalar;

/// A boolean written either as JSON `true`/`false` or as the string `"true"`/`"false"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flag {
    value: bool,
    quoted: bool,
}

impl Flag {
    /// A flag written as a JSON boolean.
    pub fn new(value: bool) -> Self {
        Flag {
            value,
            quoted: false,
        }
    }

    /// The boolean, whichever way it was written.
    pub fn get(self) -> bool {
        self.value
    }

    /// Whether the log file wrote it as a string (`"true"`) rather than a boolean.
    pub fn is_quoted(self) -> bool {
        self.quoted
    }

    /// The flag as written: a string for quoted flags, a boolean otherwise.
    pub fn scalar(self) -> Scalar<'static> {
        match (self.quoted, self.value) {
            (false, value) => Scalar::Bool(value),
            (true, true) => Scalar::String(Cow::Borrowed("true")),
            (true, false) => Scalar::String(Cow::Borrowed("false")),
        }
    }
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.value
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FlagVisitor)
    }
}

struct FlagVisitor;

impl Visitor<'_> for FlagVisitor {
    type Value = Flag;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a boolean, or "true" / "false""#)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Flag, E> {
        Ok(Flag::new(value))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Flag, E> {
        // Only the exact spellings AWS uses: anything else is a schema
        // mismatch worth rejecting rather than guessing at.
        let value = match text {
            "true" => true,
            "false" => false,
            _ => return Err(E::invalid_value(de::Unexpected::Str(text), &self)),
        };
        Ok(Flag {
            value,
            quoted: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Flag, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn booleans_and_strings_are_both_accepted() {
        let cases = [
            ("true", true, false),
            ("false", false, false),
            (r#""true""#, true, true),
            (r#""false""#, false, true),
        ];
        for (json, value, quoted) in cases {
            let flag = parse(json).unwrap();
            assert_eq!((flag.get(), flag.is_quoted()), (value, quoted), "{json}");
        }
    }

    #[test]
    fn other_values_are_rejected() {
        for json in [r#""TRUE""#, r#""yes""#, "1", "null", "{}"] {
            assert!(parse(json).is_err(), "{json} should not parse as a flag");
        }
    }

    #[test]
    fn scalar_keeps_the_written_form() {
        assert_eq!(parse("true").unwrap().scalar(), Scalar::Bool(true));
        assert_eq!(
            parse(r#""false""#).unwrap().scalar(),
            Scalar::String("false".into())
        );
    }
}
