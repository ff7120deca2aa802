//! The record's modelled top-level members, and its deserializer.
//!
//! Deserialization is written out rather than derived for one reason: it
//! remembers which members were present as `null`. A derived `Option` field
//! is `None` for both `null` and absent, and rules need the difference
//! (`$.errorCode NOT EXISTS` is false for `"errorCode": null`); without it
//! every such question would fall back to searching the record's text.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::raw_json::Text;
use super::{Flag, Record, UserIdentity};

/// A top-level member the typed [`Record`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Member {
    EventTime,
    UserIdentity,
    SourceIpAddress,
    UserAgent,
    TlsDetails,
    SessionCredentialFromConsole,
    EventSource,
    EventName,
    RequestParameters,
    Resources,
    AwsRegion,
    RecipientAccountId,
    VpcEndpointId,
    ErrorCode,
    ErrorMessage,
    ResponseElements,
    EventVersion,
    EventId,
    EventType,
    EventCategory,
    ReadOnly,
    ManagementEvent,
    SharedEventId,
    RequestId,
    AdditionalEventData,
    Addendum,
    ServiceEventDetails,
}

/// Every member's key, in declaration order (for messages; [`Member::of`]
/// matches keys without a table).
const NAMES: [&str; 27] = [
    "eventTime",
    "userIdentity",
    "sourceIPAddress",
    "userAgent",
    "tlsDetails",
    "sessionCredentialFromConsole",
    "eventSource",
    "eventName",
    "requestParameters",
    "resources",
    "awsRegion",
    "recipientAccountId",
    "vpcEndpointId",
    "errorCode",
    "errorMessage",
    "responseElements",
    "eventVersion",
    "eventID",
    "eventType",
    "eventCategory",
    "readOnly",
    "managementEvent",
    "sharedEventID",
    "requestID",
    "additionalEventData",
    "addendum",
    "serviceEventDetails",
];

impl Member {
    /// The member named `key` (as written in CloudTrail, case-sensitive).
    pub(crate) fn of(key: &str) -> Option<Member> {
        Some(match key {
            "eventTime" => Member::EventTime,
            "userIdentity" => Member::UserIdentity,
            "sourceIPAddress" => Member::SourceIpAddress,
            "userAgent" => Member::UserAgent,
            "tlsDetails" => Member::TlsDetails,
            "sessionCredentialFromConsole" => Member::SessionCredentialFromConsole,
            "eventSource" => Member::EventSource,
            "eventName" => Member::EventName,
            "requestParameters" => Member::RequestParameters,
            "resources" => Member::Resources,
            "awsRegion" => Member::AwsRegion,
            "recipientAccountId" => Member::RecipientAccountId,
            "vpcEndpointId" => Member::VpcEndpointId,
            "errorCode" => Member::ErrorCode,
            "errorMessage" => Member::ErrorMessage,
            "responseElements" => Member::ResponseElements,
            "eventVersion" => Member::EventVersion,
            "eventID" => Member::EventId,
            "eventType" => Member::EventType,
            "eventCategory" => Member::EventCategory,
            "readOnly" => Member::ReadOnly,
            "managementEvent" => Member::ManagementEvent,
            "sharedEventID" => Member::SharedEventId,
            "requestID" => Member::RequestId,
            "additionalEventData" => Member::AdditionalEventData,
            "addendum" => Member::Addendum,
            "serviceEventDetails" => Member::ServiceEventDetails,
            _ => return None,
        })
    }

    /// The member's JSON key.
    pub(crate) fn name(self) -> &'static str {
        NAMES.get(self as usize).copied().unwrap_or_default()
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of [`Member`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Members(u32);

impl Members {
    pub(crate) fn contains(self, member: Member) -> bool {
        self.0 & member.bit() != 0
    }

    /// Adds `member`; false if it was already there.
    fn insert(&mut self, member: Member) -> bool {
        let new = !self.contains(member);
        self.0 |= member.bit();
        new
    }
}

/// A member key as read: one the record models, or another (and whether
/// that other holds a `.`).
struct Key(Option<Member>, bool);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        let member = Member::of(key);
        Ok(Key(member, member.is_none() && key.contains('.')))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Record<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail record (a JSON object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record<'de>, A::Error> {
        let mut record = Record::default();
        let mut seen = Members::default();
        while let Some(Key(member, dotted)) = map.next_key()? {
            let Some(member) = member else {
                record.dotted_member |= dotted;
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if !seen.insert(member) {
                return Err(de::Error::custom(format_args!(
                    "duplicate field `{}`",
                    member.name()
                )));
            }
            // `None` from a text, flag or object member means `null` here:
            // the key was read.
            let is_null = match member {
                Member::EventTime => text(&mut map, &mut record.event_time)?,
                Member::SourceIpAddress => text(&mut map, &mut record.source_ip_address)?,
                Member::UserAgent => text(&mut map, &mut record.user_agent)?,
                Member::EventSource => text(&mut map, &mut record.event_source)?,
                Member::EventName => text(&mut map, &mut record.event_name)?,
                Member::AwsRegion => text(&mut map, &mut record.aws_region)?,
                Member::RecipientAccountId => text(&mut map, &mut record.recipient_account_id)?,
                Member::VpcEndpointId => text(&mut map, &mut record.vpc_endpoint_id)?,
                Member::ErrorCode => text(&mut map, &mut record.error_code)?,
                Member::ErrorMessage => text(&mut map, &mut record.error_message)?,
                Member::EventVersion => text(&mut map, &mut record.event_version)?,
                Member::EventId => text(&mut map, &mut record.event_id)?,
                Member::EventType => text(&mut map, &mut record.event_type)?,
                Member::EventCategory => text(&mut map, &mut record.event_category)?,
                Member::SharedEventId => text(&mut map, &mut record.shared_event_id)?,
                Member::RequestId => text(&mut map, &mut record.request_id)?,
                Member::UserIdentity => {
                    record.user_identity = map.next_value::<Option<UserIdentity<'de>>>()?;
                    record.user_identity.is_none()
                }
                Member::SessionCredentialFromConsole => {
                    flag(&mut map, &mut record.session_credential_from_console)?
                }
                Member::ReadOnly => flag(&mut map, &mut record.read_only)?,
                Member::ManagementEvent => flag(&mut map, &mut record.management_event)?,
                // Raw members keep a `null` as its text.
                Member::TlsDetails => raw(&mut map, &mut record.tls_details)?,
                Member::RequestParameters => raw(&mut map, &mut record.request_parameters)?,
                Member::Resources => raw(&mut map, &mut record.resources)?,
                Member::ResponseElements => raw(&mut map, &mut record.response_elements)?,
                Member::AdditionalEventData => raw(&mut map, &mut record.additional_event_data)?,
                Member::Addendum => raw(&mut map, &mut record.addendum)?,
                Member::ServiceEventDetails => raw(&mut map, &mut record.service_event_details)?,
            };
            if is_null {
                record.nulls.insert(member);
            }
        }
        Ok(record)
    }
}

/// Reads a string member (borrowed unless escaped); true if it was `null`.
pub(super) fn text<'de, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<std::borrow::Cow<'de, str>>,
) -> Result<bool, A::Error> {
    *slot = map.next_value::<Option<Text<'de>>>()?.map(|text| text.0);
    Ok(slot.is_none())
}

fn flag<'de, A: MapAccess<'de>>(map: &mut A, slot: &mut Option<Flag>) -> Result<bool, A::Error> {
    *slot = map.next_value()?;
    Ok(slot.is_none())
}

fn raw<'de, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<&'de RawValue>,
) -> Result<bool, A::Error> {
    *slot = Some(map.next_value()?);
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_its_member() {
        for name in NAMES {
            let member = Member::of(name).unwrap();
            assert_eq!(member.name(), name);
        }
        assert_eq!(Member::of("eventid"), None);
        assert_eq!(Member::of("apiVersion"), None);
    }

    #[test]
    fn nulls_are_told_from_absent_members() {
        let record = Record::from_json(
            r#"{"errorCode":null,"userIdentity":null,"readOnly":null,"eventName":"A","responseElements":null}"#,
        )
        .unwrap();
        for member in [Member::ErrorCode, Member::UserIdentity, Member::ReadOnly] {
            assert!(record.is_null(member), "{member:?}");
        }
        // Present values and raw members (which keep `null` as text) are not.
        for member in [
            Member::EventName,
            Member::ResponseElements,
            Member::ErrorMessage,
            Member::EventSource,
        ] {
            assert!(!record.is_null(member), "{member:?}");
        }
        assert_eq!(record.response_elements.map(RawValue::get), Some("null"));
    }

    #[test]
    fn escaped_keys_and_unknown_members_are_read_as_by_name() {
        let record =
            Record::from_json(r#"{"event\u004eame":"A","apiVersion":{"x":[1]},"errorCode":"E"}"#)
                .unwrap();
        assert_eq!(record.event_name.as_deref(), Some("A"));
        assert_eq!(record.error_code.as_deref(), Some("E"));
    }

    #[test]
    fn a_repeated_member_is_an_error() {
        let err = Record::from_json(r#"{"eventName":"A","eventName":"B"}"#).unwrap_err();
        assert!(
            err.to_string().contains("duplicate field `eventName`"),
            "{err}"
        );
    }
}
