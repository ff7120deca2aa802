//! The string members rule pre-checks read on every record, resolved once
//! from their path so a record answers with a field access instead of a
//! walk through [`Document::any_at`](crate::Document::any_at).

use std::borrow::Cow;

use super::{IdentityMember, Member, Record};
use crate::document::{Path, Scalar, Segment};

/// A string member of a record, or of its `userIdentity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyField {
    EventSource,
    EventName,
    EventType,
    EventCategory,
    UserAgent,
    SourceIpAddress,
    ErrorCode,
    ErrorMessage,
    AwsRegion,
    RecipientAccountId,
    IdentityType,
    IdentityArn,
    IdentityAccountId,
    IdentityInvokedBy,
}

/// What a record holds at a [`KeyField`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Probe<'r> {
    /// Nothing: [`Document::any_at`](crate::Document::any_at) would visit
    /// no value.
    Absent,
    /// The one value it would visit: a string, or `null`.
    Value(Scalar<'r>),
}

/// Every key field and its dotted path (the Sigma pre-check's
/// [`KEY_FIELDS`](crate::sigma::KEY_FIELDS) are these paths).
pub(crate) const PATHS: [(KeyField, &str); 14] = [
    (KeyField::EventSource, "eventSource"),
    (KeyField::EventName, "eventName"),
    (KeyField::EventType, "eventType"),
    (KeyField::EventCategory, "eventCategory"),
    (KeyField::UserAgent, "userAgent"),
    (KeyField::SourceIpAddress, "sourceIPAddress"),
    (KeyField::ErrorCode, "errorCode"),
    (KeyField::ErrorMessage, "errorMessage"),
    (KeyField::AwsRegion, "awsRegion"),
    (KeyField::RecipientAccountId, "recipientAccountId"),
    (KeyField::IdentityType, "userIdentity.type"),
    (KeyField::IdentityArn, "userIdentity.arn"),
    (KeyField::IdentityAccountId, "userIdentity.accountId"),
    (KeyField::IdentityInvokedBy, "userIdentity.invokedBy"),
];

impl KeyField {
    /// The field a dotted path names, if it is one of these.
    pub(crate) fn of_dotted(dotted: &str) -> Option<KeyField> {
        PATHS
            .iter()
            .find(|(_, path)| *path == dotted)
            .map(|(field, _)| *field)
    }

    /// The field a path of plain keys names, if it is one of these.
    pub(crate) fn of_path(path: &[Segment]) -> Option<KeyField> {
        PATHS
            .iter()
            .find(|(_, dotted)| {
                dotted.split('.').count() == path.len()
                    && dotted
                        .split('.')
                        .zip(path)
                        .all(|(key, segment)| matches!(segment, Segment::Key(k) if k == key))
            })
            .map(|(field, _)| *field)
    }

    /// The field's path.
    pub(crate) fn path(self) -> Path {
        let dotted = PATHS
            .iter()
            .find(|(field, _)| *field == self)
            .map_or("", |(_, dotted)| dotted);
        Path(
            dotted
                .split('.')
                .map(|key| Segment::Key(key.to_owned()))
                .collect(),
        )
    }

    /// What `record` holds here, as its [`Document`](crate::Document) view
    /// would report it.
    pub(crate) fn probe<'r>(self, record: &'r Record<'_>) -> Probe<'r> {
        let (member, value) = match self {
            KeyField::EventSource => (Member::EventSource, &record.event_source),
            KeyField::EventName => (Member::EventName, &record.event_name),
            KeyField::EventType => (Member::EventType, &record.event_type),
            KeyField::EventCategory => (Member::EventCategory, &record.event_category),
            KeyField::UserAgent => (Member::UserAgent, &record.user_agent),
            KeyField::SourceIpAddress => (Member::SourceIpAddress, &record.source_ip_address),
            KeyField::ErrorCode => (Member::ErrorCode, &record.error_code),
            KeyField::ErrorMessage => (Member::ErrorMessage, &record.error_message),
            KeyField::AwsRegion => (Member::AwsRegion, &record.aws_region),
            KeyField::RecipientAccountId => {
                (Member::RecipientAccountId, &record.recipient_account_id)
            }
            KeyField::IdentityType
            | KeyField::IdentityArn
            | KeyField::IdentityAccountId
            | KeyField::IdentityInvokedBy => return self.probe_identity(record),
        };
        match value {
            Some(text) => Probe::Value(Scalar::String(Cow::Borrowed(text))),
            None if record.is_null(member) => Probe::Value(Scalar::Null),
            None => Probe::Absent,
        }
    }

    fn probe_identity<'r>(self, record: &'r Record<'_>) -> Probe<'r> {
        // A missing or `null` identity has no members.
        let Some(identity) = record.user_identity.as_ref() else {
            return Probe::Absent;
        };
        let (member, value) = match self {
            KeyField::IdentityType => (IdentityMember::Type, &identity.identity_type),
            KeyField::IdentityArn => (IdentityMember::Arn, &identity.arn),
            KeyField::IdentityAccountId => (IdentityMember::AccountId, &identity.account_id),
            _ => (IdentityMember::InvokedBy, &identity.invoked_by),
        };
        match value {
            Some(text) => Probe::Value(Scalar::String(Cow::Borrowed(text))),
            None if identity.is_null(member) => Probe::Value(Scalar::Null),
            None => Probe::Absent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;

    fn path(dotted: &str) -> Vec<Segment> {
        dotted
            .split('.')
            .map(|k| Segment::Key(k.to_owned()))
            .collect()
    }

    #[test]
    fn each_field_has_one_path_both_ways() {
        for (field, dotted) in PATHS {
            assert_eq!(KeyField::of_dotted(dotted), Some(field));
            assert_eq!(KeyField::of_path(&path(dotted)), Some(field));
            assert_eq!(field.path(), Path(path(dotted)));
        }
    }

    fn visited(record: &Record<'_>, path: &[Segment]) -> Vec<String> {
        let mut out = Vec::new();
        record.any_at(path, &mut |v| {
            out.push(format!("{v:?}"));
            false
        });
        out
    }

    #[test]
    fn every_field_reads_as_the_document_view_does() {
        let texts = [
            r#"{"eventSource":"s3.amazonaws.com","eventName":"GetObject","eventType":"AwsApiCall","eventCategory":"Data","userAgent":"aws-cli","sourceIPAddress":"1.2.3.4","errorCode":"AccessDenied","errorMessage":"no","awsRegion":"eu-west-1","recipientAccountId":"111122223333","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333","invokedBy":"x.amazonaws.com"}}"#,
            r#"{"eventSource":null,"eventName":null,"errorCode":null,"userIdentity":null}"#,
            r#"{"userIdentity":{"type":null,"arn":"a\"b"}}"#,
            r#"{"userIdentity":{}}"#,
            r#"{}"#,
        ];
        for text in texts {
            let record = Record::from_json(text).expect("test record parses");
            for (_, dotted) in PATHS {
                let path = path(dotted);
                let field = KeyField::of_path(&path).expect("a key field");
                let expected = visited(&record, &path);
                match field.probe(&record) {
                    Probe::Absent => assert!(expected.is_empty(), "{dotted} in {text}"),
                    Probe::Value(v) => {
                        assert_eq!(expected, vec![format!("{v:?}")], "{dotted} in {text}")
                    }
                }
            }
        }
    }

    #[test]
    fn other_paths_are_not_key_fields() {
        for dotted in [
            "requestParameters.bucketName",
            "userIdentity",
            "userIdentity.sessionContext.sessionIssuer.type",
            "eventName.x",
        ] {
            assert_eq!(KeyField::of_path(&path(dotted)), None, "{dotted}");
        }
        assert_eq!(
            KeyField::of_path(&[Segment::Key("eventName".into()), Segment::AnyIndex]),
            None
        );
    }
}
