//! One CloudTrail event, parsed in place.
//!
//! A [`Record`] borrows from the text it was parsed from (the reader's
//! window): strings are borrowed unless they contain escapes, and nested
//! JSON (`requestParameters`, `responseElements`, ...) stays raw text until
//! something asks for a member of it. The fields cover the facets rules and
//! findings look at:
//!
//! | facet   | fields |
//! |---------|--------|
//! | who     | [`user_identity`](Record::user_identity) |
//! | when    | [`event_time`](Record::event_time), [`Record::event_time_epoch`] |
//! | from    | [`source_ip_address`](Record::source_ip_address) (an IP, a service name or `AWS Internal`) |
//! | how     | [`user_agent`](Record::user_agent), [`tls_details`](Record::tls_details), [`session_credential_from_console`](Record::session_credential_from_console) |
//! | what    | [`event_source`](Record::event_source), [`event_name`](Record::event_name), [`request_parameters`](Record::request_parameters), [`resources`](Record::resources) |
//! | where   | [`aws_region`](Record::aws_region), [`recipient_account_id`](Record::recipient_account_id), [`vpc_endpoint_id`](Record::vpc_endpoint_id) |
//! | outcome | [`error_code`](Record::error_code), [`error_message`](Record::error_message), [`response_elements`](Record::response_elements) |
//!
//! Every field may be missing or `null`: service events carry an identity
//! of `accountId` and `invokedBy` only, Insights events have no
//! `eventName`, identity or source IP. Members not modelled here are kept
//! in [`Record::raw`] and answered by the [`Document`](crate::Document) view.
//!
//! # Accounts
//!
//! The account a record belongs to is the record's own
//! [`recipient_account_id`](Record::recipient_account_id) (and the
//! caller's is [`UserIdentity::account_id`]), exposed as written. The
//! account in an S3 key is only where the file was delivered, which
//! organization trails and copied buckets make unreliable: the record is
//! the source of truth.

mod flag;
mod identity;
mod key_field;
mod key_memo;
mod lookup;
mod member;
pub(crate) mod raw_json;
mod timestamp;

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

pub use flag::Flag;
pub(crate) use identity::IdentityMember;
pub use identity::{SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
pub(crate) use key_field::{KeyField, PATHS as KEY_FIELD_PATHS, Probe};
pub(crate) use key_memo::KeyMemo;
pub(crate) use lookup::Reach;
pub(crate) use member::Member;

use member::Members;

use raw_json::Text;

/// One CloudTrail event, borrowing from the JSON text it was read from.
///
/// Strings are `None` when the key is absent or `null`. Nested JSON
/// fields (`Option<&RawValue>`) are `None` only when the key is absent: a
/// `null` is kept as the raw text `null`.
///
/// Build one with [`Record::from_json`], or stream them with
/// [`RecordReader`](crate::RecordReader). Deserializing a `Record` with
/// serde directly does not capture its text: [`Record::raw`] is then
/// empty and members outside the typed fields cannot be found.
#[derive(Debug, Clone, Default)]
pub struct Record<'a> {
    raw: &'a str,
    /// Modelled members present as `null` (their fields are `None`).
    nulls: Members,
    /// Whether a member's name holds a `.` (a flat key that dotted paths
    /// must be checked against before they are followed as nested keys).
    dotted_member: bool,

    /// `eventTime`: when the request was completed, as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub event_time: Option<Cow<'a, str>>,

    /// `userIdentity`: who made the request.
    pub user_identity: Option<UserIdentity<'a>>,

    /// `sourceIPAddress`: the caller's IP address, or the calling service's
    /// name (`ec2.amazonaws.com`), or `AWS Internal`.
    pub source_ip_address: Option<Cow<'a, str>>,
    /// `userAgent`: the client (console, SDK, CLI, service) that made the request.
    pub user_agent: Option<Cow<'a, str>>,
    /// `tlsDetails`: TLS version, cipher suite and client-provided host header, raw.
    pub tls_details: Option<&'a RawValue>,
    /// `sessionCredentialFromConsole`: whether the call used console session credentials.
    pub session_credential_from_console: Option<Flag>,

    /// `eventSource`: the service, as `iam.amazonaws.com`.
    pub event_source: Option<Cow<'a, str>>,
    /// `eventName`: the API action, as `CreateUser`.
    pub event_name: Option<Cow<'a, str>>,
    /// `requestParameters`: the request's parameters, raw.
    pub request_parameters: Option<&'a RawValue>,
    /// `resources`: the resources accessed, raw.
    pub resources: Option<&'a RawValue>,

    /// `awsRegion`: the region the request was made to.
    pub aws_region: Option<Cow<'a, str>>,
    /// `recipientAccountId`: the account that received the event.
    pub recipient_account_id: Option<Cow<'a, str>>,
    /// `vpcEndpointId`: the VPC endpoint the request went through.
    pub vpc_endpoint_id: Option<Cow<'a, str>>,

    /// `errorCode`: the AWS error, when the request failed.
    pub error_code: Option<Cow<'a, str>>,
    /// `errorMessage`: the error's description, when the request failed.
    pub error_message: Option<Cow<'a, str>>,
    /// `responseElements`: the response, raw.
    pub response_elements: Option<&'a RawValue>,

    /// `eventVersion`: the record format version, as `1.08`.
    pub event_version: Option<Cow<'a, str>>,
    /// `eventID`: CloudTrail's unique id for this event.
    pub event_id: Option<Cow<'a, str>>,
    /// `eventType`: `AwsApiCall`, `AwsServiceEvent`, `AwsConsoleSignIn`, `AwsCloudTrailInsight`, ...
    pub event_type: Option<Cow<'a, str>>,
    /// `eventCategory`: `Management`, `Data`, `NetworkActivity` or `Insight`.
    pub event_category: Option<Cow<'a, str>>,
    /// `readOnly`: whether the operation only reads.
    pub read_only: Option<Flag>,
    /// `managementEvent`: whether this is a management event.
    pub management_event: Option<Flag>,
    /// `sharedEventID`: links the copies of a cross-account event.
    pub shared_event_id: Option<Cow<'a, str>>,
    /// `requestID`: the service's id for the request.
    pub request_id: Option<Cow<'a, str>>,
    /// `additionalEventData`: service-specific extra data, raw.
    pub additional_event_data: Option<&'a RawValue>,
    /// `addendum`: why and how a delayed or updated event was redelivered, raw.
    pub addendum: Option<&'a RawValue>,
    /// `serviceEventDetails`: what happened, for service events, raw.
    pub service_event_details: Option<&'a RawValue>,
}

/// Borrows strings without escapes: serde's own `Option<Cow<str>>` always copies.
fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    Option::<Text<'de>>::deserialize(deserializer).map(|text| text.map(|text| text.0))
}

impl<'a> Record<'a> {
    /// Parses one event from its JSON text (an object).
    pub fn from_json(json: &'a str) -> Result<Self, serde_json::Error> {
        let mut record: Record<'a> = serde_json::from_str(json)?;
        record.raw = json;
        Ok(record)
    }

    /// Attaches the record's original text after a typed parse of it.
    pub(crate) fn set_raw(&mut self, raw: &'a str) {
        self.raw = raw;
    }

    /// Whether some member's name holds a `.` (no modelled one does).
    pub(crate) fn has_dotted_member(&self) -> bool {
        self.dotted_member
    }

    /// Whether `member` was written as `null` (its field is then `None`,
    /// as for an absent member).
    pub(crate) fn is_null(&self, member: Member) -> bool {
        self.nulls.contains(member)
    }

    /// The account the event belongs to: `recipientAccountId`, else the
    /// caller's `userIdentity.accountId` (see "Accounts" above).
    pub fn account(&self) -> Option<&str> {
        self.recipient_account_id.as_deref().or_else(|| {
            self.user_identity
                .as_ref()
                .and_then(|identity| identity.account_id.as_deref())
        })
    }

    /// The record's exact original JSON text, unknown members included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// `eventTime` as seconds since the Unix epoch (UTC), or `None` when it
    /// is absent or not an RFC 3339 timestamp.
    pub fn event_time_epoch(&self) -> Option<i64> {
        timestamp::epoch_seconds(self.event_time.as_deref()?)
    }

    /// The whole record as a `serde_json::Value`, for consumers that need a full tree.
    pub fn to_value(&self) -> serde_json::Value {
        // The text already parsed as a record, so it is valid JSON; `Null`
        // is only reachable for a record deserialized without its text.
        serde_json::from_str(self.raw).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const API_CALL: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2023-07-10T11:45:02Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.13.0","errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized","requestParameters":{"groupId":"sg-1"},"responseElements":null,"requestID":"r-1","eventID":"e-1","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management","apiVersion":"2016-11-15"}"#;

    #[test]
    fn typed_fields_borrow_from_the_text() {
        let record = Record::from_json(API_CALL).unwrap();
        assert_eq!(
            record.event_name.as_deref(),
            Some("AuthorizeSecurityGroupIngress")
        );
        assert!(matches!(record.event_name, Some(Cow::Borrowed(_))));
        assert_eq!(
            record.error_code.as_deref(),
            Some("Client.UnauthorizedOperation")
        );
        assert_eq!(record.read_only.map(Flag::get), Some(false));
        assert_eq!(record.management_event.map(Flag::get), Some(true));
        let identity = record.user_identity.as_ref().unwrap();
        assert_eq!(identity.user_name.as_deref(), Some("alice"));
        assert_eq!(
            record.request_parameters.map(RawValue::get),
            Some(r#"{"groupId":"sg-1"}"#)
        );
        assert_eq!(record.raw(), API_CALL);
    }

    #[test]
    fn null_raw_members_are_kept_and_absent_ones_are_none() {
        let record = Record::from_json(API_CALL).unwrap();
        assert_eq!(record.response_elements.map(RawValue::get), Some("null"));
        assert!(record.resources.is_none());
        assert!(record.vpc_endpoint_id.is_none());
    }

    #[test]
    fn escaped_strings_are_owned_and_unescaped() {
        let record =
            Record::from_json(r#"{"errorMessage":"not \"allowed\"\n","eventName":"A"}"#).unwrap();
        assert!(matches!(record.error_message, Some(Cow::Owned(_))));
        assert_eq!(record.error_message.as_deref(), Some("not \"allowed\"\n"));
        assert!(matches!(record.event_name, Some(Cow::Borrowed("A"))));
    }

    #[test]
    fn every_field_may_be_missing_or_null() {
        let record =
            Record::from_json(r#"{"eventName":null,"userIdentity":null,"readOnly":null}"#).unwrap();
        assert!(record.event_name.is_none());
        assert!(record.user_identity.is_none());
        assert!(record.read_only.is_none());
        let empty = Record::from_json("{}").unwrap();
        assert!(empty.event_time.is_none() && empty.event_time_epoch().is_none());
    }

    #[test]
    fn wrong_types_are_errors() {
        for json in [
            r#"{"eventName":3}"#,
            r#"{"userIdentity":"root"}"#,
            r#"{"readOnly":"maybe"}"#,
            "[]",
        ] {
            assert!(Record::from_json(json).is_err(), "{json}");
        }
    }

    #[test]
    fn event_time_is_read_as_utc_epoch_seconds() {
        let record = Record::from_json(API_CALL).unwrap();
        // 2023-07-10T11:45:02Z, computed with `date -u -d 2023-07-10T11:45:02Z +%s`.
        assert_eq!(record.event_time_epoch(), Some(1_688_989_502));
        let bad = Record::from_json(r#"{"eventTime":"10/07/2023 11:45"}"#).unwrap();
        assert_eq!(bad.event_time_epoch(), None);
    }

    #[test]
    fn the_account_is_the_recipients_else_the_callers() {
        let both =
            Record::from_json(r#"{"recipientAccountId":"2","userIdentity":{"accountId":"1"}}"#)
                .unwrap();
        assert_eq!(both.account(), Some("2"));
        let caller = Record::from_json(r#"{"userIdentity":{"accountId":"1"}}"#).unwrap();
        assert_eq!(caller.account(), Some("1"));
        assert_eq!(Record::from_json("{}").unwrap().account(), None);
    }

    #[test]
    fn to_value_keeps_unknown_members() {
        let record = Record::from_json(API_CALL).unwrap();
        let value = record.to_value();
        assert_eq!(value["apiVersion"], json!("2016-11-15"));
        assert_eq!(
            value,
            serde_json::from_str::<serde_json::Value>(API_CALL).unwrap()
        );
    }
}
