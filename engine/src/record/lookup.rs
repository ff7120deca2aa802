//! A record's [`Document`] view: typed fields first, the JSON text for the rest.
//!
//! Most rules ask for `eventName`, `eventSource`, `errorCode` or
//! `userIdentity.type`, which the typed fields answer without parsing.
//! Paths into raw members (`requestParameters.*`) parse only the levels
//! they pass through. The record remembers which of its own members were
//! `null`, so `$.errorCode NOT EXISTS` needs no text either. A nested typed
//! field that is `None` (`userIdentity.invokedBy`) cannot tell "absent"
//! from `null`, and unmodelled members are not in the typed fields at all:
//! those paths go to the record's text, after a substring check has ruled
//! out the common case of a key that does not occur.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::{
    Flag, IdentityMember, Member, Record, SessionAttributes, SessionContext, SessionIssuer,
    UserIdentity, raw_json,
};
use crate::document::{Document, Scalar, Segment};

impl Document for Record<'_> {
    fn any_at(&self, path: &[Segment], visit: &mut dyn FnMut(&Scalar<'_>) -> bool) -> bool {
        match typed_any_at(self, path, visit) {
            Some(found) => found,
            None => {
                raw_json::may_hold_path(self.raw, path) && raw_json::any_at(self.raw, path, visit)
            }
        }
    }
}

/// Where a path of object keys leads in a record, as far as the typed
/// fields can tell. For engines with path rules of their own (Sigma's keys
/// reach into every member of an array), which continue in the raw JSON.
pub(crate) enum Reach<'r, 'k> {
    /// A typed string or flag, where the path ends.
    Scalar(Scalar<'r>),
    /// A raw member, with the keys still to follow inside it.
    Raw(&'r RawValue, &'k [&'k str]),
    /// Certainly not there.
    Absent,
    /// Only the record's text can tell (unmodelled members, `null`-or-absent
    /// ones below `userIdentity`, or a whole typed object): follow the keys
    /// from its root.
    Text,
}

impl Record<'_> {
    /// How far the typed fields answer `keys` (see [`Reach`]).
    pub(crate) fn reach<'r, 'k>(&'r self, keys: &'k [&'k str]) -> Reach<'r, 'k> {
        typed_reach(self, keys)
    }
}

fn typed_reach<'r, 'k>(object: &'r dyn Typed, keys: &'k [&'k str]) -> Reach<'r, 'k> {
    let Some((key, rest)) = keys.split_first() else {
        return Reach::Text;
    };
    match object.field(key) {
        // A scalar has no members: a longer path finds nothing.
        Field::Text(Some(text)) if rest.is_empty() => {
            Reach::Scalar(Scalar::String(Cow::Borrowed(text)))
        }
        Field::Flag(Some(flag)) if rest.is_empty() => Reach::Scalar(flag.scalar()),
        Field::Null if rest.is_empty() => Reach::Scalar(Scalar::Null),
        Field::Text(Some(_))
        | Field::Flag(Some(_))
        | Field::Raw(None)
        | Field::Null
        | Field::Missing => Reach::Absent,
        Field::Raw(Some(raw)) => Reach::Raw(raw, rest),
        Field::Object(Some(inner)) => typed_reach(inner, rest),
        Field::Text(None) | Field::Flag(None) | Field::Object(None) | Field::Unmodelled => {
            Reach::Text
        }
    }
}

/// What a typed struct holds under one key.
enum Field<'r> {
    Text(Option<&'r str>),
    Flag(Option<Flag>),
    /// Raw members are `None` only when absent (a `null` is kept as text).
    Raw(Option<&'r RawValue>),
    Object(Option<&'r dyn Typed>),
    /// Present as `null`.
    Null,
    /// Certainly not present.
    Missing,
    /// A key the struct does not model.
    Unmodelled,
}

impl Field<'_> {
    /// Settles a `None` text, flag or object field of a struct that knows
    /// which of its members were `null` (`is_null`): `null` or missing,
    /// without the text.
    fn settled(self, is_null: impl FnOnce() -> bool) -> Self {
        match self {
            Field::Text(None) | Field::Flag(None) | Field::Object(None) => {
                if is_null() {
                    Field::Null
                } else {
                    Field::Missing
                }
            }
            known => known,
        }
    }
}

/// A struct whose JSON members can be looked up by name.
trait Typed {
    fn field(&self, key: &str) -> Field<'_>;
}

/// The answer from typed fields alone, or `None` when only the text can tell.
fn typed_any_at(
    object: &dyn Typed,
    path: &[Segment],
    visit: &mut dyn FnMut(&Scalar<'_>) -> bool,
) -> Option<bool> {
    let Some((first, rest)) = path.split_first() else {
        return Some(visit(&Scalar::Object));
    };
    // An index into an object finds nothing, as in a `Value`.
    let Segment::Key(key) = first else {
        return Some(false);
    };
    match object.field(key) {
        Field::Text(Some(text)) => {
            Some(rest.is_empty() && visit(&Scalar::String(Cow::Borrowed(text))))
        }
        Field::Flag(Some(flag)) => Some(rest.is_empty() && visit(&flag.scalar())),
        Field::Raw(Some(raw)) => Some(raw_json::any_at(raw.get(), rest, visit)),
        Field::Raw(None) | Field::Missing => Some(false),
        Field::Null => Some(rest.is_empty() && visit(&Scalar::Null)),
        Field::Object(Some(inner)) => typed_any_at(inner, rest, visit),
        Field::Text(None) | Field::Flag(None) | Field::Object(None) | Field::Unmodelled => None,
    }
}

fn text<'r>(value: &'r Option<Cow<'_, str>>) -> Field<'r> {
    Field::Text(value.as_deref())
}

fn object<'r, T: Typed>(value: &'r Option<T>) -> Field<'r> {
    Field::Object(value.as_ref().map(|inner| inner as &dyn Typed))
}

impl Typed for Record<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        let Some(member) = Member::of(key) else {
            return Field::Unmodelled;
        };
        let field = match member {
            Member::EventName => text(&self.event_name),
            Member::EventSource => text(&self.event_source),
            Member::ErrorCode => text(&self.error_code),
            Member::UserIdentity => object(&self.user_identity),
            Member::EventTime => text(&self.event_time),
            Member::SourceIpAddress => text(&self.source_ip_address),
            Member::UserAgent => text(&self.user_agent),
            Member::TlsDetails => Field::Raw(self.tls_details),
            Member::SessionCredentialFromConsole => {
                Field::Flag(self.session_credential_from_console)
            }
            Member::RequestParameters => Field::Raw(self.request_parameters),
            Member::Resources => Field::Raw(self.resources),
            Member::AwsRegion => text(&self.aws_region),
            Member::RecipientAccountId => text(&self.recipient_account_id),
            Member::VpcEndpointId => text(&self.vpc_endpoint_id),
            Member::ErrorMessage => text(&self.error_message),
            Member::ResponseElements => Field::Raw(self.response_elements),
            Member::EventVersion => text(&self.event_version),
            Member::EventId => text(&self.event_id),
            Member::EventType => text(&self.event_type),
            Member::EventCategory => text(&self.event_category),
            Member::ReadOnly => Field::Flag(self.read_only),
            Member::ManagementEvent => Field::Flag(self.management_event),
            Member::SharedEventId => text(&self.shared_event_id),
            Member::RequestId => text(&self.request_id),
            Member::AdditionalEventData => Field::Raw(self.additional_event_data),
            Member::Addendum => Field::Raw(self.addendum),
            Member::ServiceEventDetails => Field::Raw(self.service_event_details),
        };
        field.settled(|| self.is_null(member))
    }
}

impl Typed for UserIdentity<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        let Some(member) = IdentityMember::of(key) else {
            return Field::Unmodelled;
        };
        let field = match member {
            IdentityMember::Type => text(&self.identity_type),
            IdentityMember::PrincipalId => text(&self.principal_id),
            IdentityMember::Arn => text(&self.arn),
            IdentityMember::AccountId => text(&self.account_id),
            IdentityMember::UserName => text(&self.user_name),
            IdentityMember::InvokedBy => text(&self.invoked_by),
            IdentityMember::AccessKeyId => text(&self.access_key_id),
            IdentityMember::SessionContext => object(&self.session_context),
        };
        field.settled(|| self.is_null(member))
    }
}

impl Typed for SessionContext<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        match key {
            "sessionIssuer" => object(&self.session_issuer),
            "attributes" => object(&self.attributes),
            _ => Field::Unmodelled,
        }
    }
}

impl Typed for SessionIssuer<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        match key {
            "type" => text(&self.issuer_type),
            "principalId" => text(&self.principal_id),
            "arn" => text(&self.arn),
            "accountId" => text(&self.account_id),
            "userName" => text(&self.user_name),
            _ => Field::Unmodelled,
        }
    }
}

impl Typed for SessionAttributes<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        match key {
            "mfaAuthenticated" => Field::Flag(self.mfa_authenticated),
            "creationDate" => text(&self.creation_date),
            _ => Field::Unmodelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    fn path(dotted: &str) -> Vec<Segment> {
        dotted
            .split('.')
            .map(|part| match part {
                "*" => Segment::AnyIndex,
                _ => part.parse().map_or_else(|_| key(part), Segment::Index),
            })
            .collect()
    }

    fn found(doc: &dyn Document, at: &[Segment]) -> Vec<String> {
        let mut seen = Vec::new();
        doc.any_at(at, &mut |s| {
            seen.push(format!("{s:?}"));
            false
        });
        seen
    }

    const ODD: &str = r#"{"eventName":null,"errorCode":"AccessDenied","readOnly":"true",
        "userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false"},
        "webIdFederationData":{"federatedProvider":"x"},"sessionIssuer":null},"userName":null},
        "requestParameters":{"items":[{"cidr":"0.0.0.0/0"},{"cidr":"10.0.0.0/8","n":1.5}],"x":{}},
        "responseElements":null,"apiVersion":"2016-11-15","insightDetails":{"state":"Start"},
        "event\u0043ategory":"Management"}"#;

    #[test]
    fn typed_and_raw_answers_match_value() {
        let record = Record::from_json(ODD).unwrap();
        let value: serde_json::Value = serde_json::from_str(ODD).unwrap();
        let paths = [
            "",
            "eventName",
            "errorCode",
            "errorCode.x",
            "readOnly",
            "managementEvent",
            "userIdentity",
            "userIdentity.type",
            "userIdentity.userName",
            "userIdentity.arn",
            "userIdentity.sessionContext.attributes.mfaAuthenticated",
            "userIdentity.sessionContext.webIdFederationData.federatedProvider",
            "userIdentity.sessionContext.sessionIssuer",
            "userIdentity.sessionContext.sessionIssuer.arn",
            "userIdentity.0",
            "requestParameters.items.*.cidr",
            "requestParameters.items.1.n",
            "requestParameters.items.2",
            "requestParameters.x",
            "responseElements",
            "responseElements.a",
            "resources",
            "apiVersion",
            "insightDetails.state",
            "eventCategory",
            "vpcEndpointId",
        ];
        for dotted in paths {
            let at = if dotted.is_empty() {
                Vec::new()
            } else {
                path(dotted)
            };
            assert_eq!(found(&record, &at), found(&value, &at), "path {dotted}");
        }
    }

    #[test]
    fn null_typed_field_exists_but_absent_does_not() {
        let record = Record::from_json(ODD).unwrap();
        assert!(record.exists(&path("eventName")));
        assert!(record.exists(&path("userIdentity.userName")));
        assert!(!record.exists(&path("eventSource")));
        assert!(!record.exists(&path("userIdentity.invokedBy")));
    }
}
