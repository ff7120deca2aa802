//! A check on one string member that every record a rule matches passes,
//! derived from the rule's pattern. Rules that no `eventName` indexes
//! (root activity, unauthorised calls) would otherwise be evaluated on
//! every record; the guard lets a typed record skip them with one field
//! access.

use crate::document::Scalar;
use crate::record::{KeyField, Probe, Record};
use crate::rules::FilterPattern;

/// Fields a guard may test, most selective in CloudTrail first.
const FIELDS: &[KeyField] = &[
    KeyField::IdentityType,
    KeyField::EventSource,
    KeyField::ErrorCode,
    KeyField::EventType,
    KeyField::UserAgent,
    KeyField::IdentityInvokedBy,
    KeyField::ErrorMessage,
];

/// What a record must hold for the rule to be worth evaluating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Guard {
    /// The field equals one of these texts (the pattern compares exactly).
    OneOf(KeyField, Vec<String>),
    /// The field is there.
    Present(KeyField),
}

impl Guard {
    /// The most selective guard `pattern` implies, if any.
    pub(crate) fn of(pattern: &FilterPattern) -> Option<Guard> {
        FIELDS
            .iter()
            .find_map(|field| {
                let values = pattern.required_values(&field.path())?;
                Some(Guard::OneOf(*field, values.into_iter().collect()))
            })
            .or_else(|| {
                FIELDS
                    .iter()
                    .find(|field| pattern.requires_present(&field.path()))
                    .map(|field| Guard::Present(*field))
            })
    }

    /// The field the guard reads.
    pub(crate) fn field(&self) -> KeyField {
        match self {
            Guard::OneOf(field, _) | Guard::Present(field) => *field,
        }
    }

    /// Whether `record` may match: `false` only when the pattern cannot.
    pub(crate) fn admits(&self, record: &Record<'_>) -> bool {
        match self {
            Guard::OneOf(field, values) => match field.probe(record) {
                Probe::Absent => false,
                Probe::Value(Scalar::String(text)) => values.iter().any(|v| *v == *text),
                // `null`: let the pattern decide.
                Probe::Value(_) => true,
            },
            Guard::Present(field) => !matches!(field.probe(record), Probe::Absent),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> FilterPattern {
        FilterPattern::parse(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn guards_come_from_what_the_pattern_requires() {
        assert_eq!(
            Guard::of(&pattern(
                r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS}"#
            )),
            Some(Guard::OneOf(
                KeyField::IdentityType,
                vec!["Root".to_owned()]
            ))
        );
        assert_eq!(
            Guard::of(&pattern(
                r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#
            )),
            Some(Guard::Present(KeyField::ErrorCode))
        );
        assert_eq!(
            Guard::of(&pattern(
                r#"{ $.eventSource = "bedrock.amazonaws.com" || $.eventSource = "x" }"#
            )),
            Some(Guard::OneOf(
                KeyField::EventSource,
                vec!["bedrock.amazonaws.com".to_owned(), "x".to_owned()]
            ))
        );
        assert_eq!(Guard::of(&pattern("{ $.errorCode NOT EXISTS }")), None);
        assert_eq!(
            Guard::of(&pattern(
                r#"{ $.userIdentity.type = "Root" || $.eventName = X }"#
            )),
            None
        );
    }

    #[test]
    fn a_guard_never_turns_away_a_record_its_pattern_matches() {
        let patterns = [
            r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
            r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#,
            r#"{ $.errorCode IS NULL }"#,
            r#"{ $.userIdentity.type IS NULL }"#,
            r#"{ $.userAgent = "*TruffleHog*" }"#,
        ];
        let records = [
            r#"{"userIdentity":{"type":"Root"},"eventType":"AwsApiCall"}"#,
            r#"{"userIdentity":{"type":"IAMUser"},"errorCode":"AccessDenied"}"#,
            r#"{"userIdentity":{"type":null},"errorCode":null}"#,
            r#"{"userIdentity":{"type":"Ro\u006ft"},"errorCode":"Client.UnauthorizedOperation"}"#,
            r#"{"userIdentity":null,"userAgent":"TruffleHog/3"}"#,
            r#"{"eventName":"X"}"#,
        ];
        for text in records {
            let record = Record::from_json(text).unwrap_or_else(|err| panic!("{text}: {err}"));
            for p in patterns {
                let pattern = pattern(p);
                let guard = Guard::of(&pattern).expect("each pattern has a guard");
                if pattern.matches(&record) {
                    assert!(guard.admits(&record), "{guard:?} refused {text} for {p}");
                }
            }
        }
        // And it does turn records away.
        let guard = Guard::of(&pattern(patterns[0])).expect("a guard");
        let user = Record::from_json(r#"{"userIdentity":{"type":"IAMUser"}}"#).expect("parses");
        assert!(!guard.admits(&user));
        let nobody = Record::from_json("{}").expect("parses");
        assert!(!guard.admits(&nobody));
    }
}
