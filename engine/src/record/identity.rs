//! Who made a call: CloudTrail's `userIdentity` element.
//!
//! Its shape depends on the caller: a role session carries a
//! `sessionContext`, an AWS service call carries only `invokedBy` and
//! `accountId`, and Insights events have no identity at all. Every field
//! is therefore optional; members not modelled here stay reachable through
//! the record's [`Document`](crate::Document) view.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Flag, member, text};

/// `userIdentity`: the principal that made the request.
///
/// Deserialized by hand, like the record, to remember which members were
/// `null`: rules ask `$.userIdentity.invokedBy NOT EXISTS` of nearly every
/// record, and a `None` that could be either would send each such question
/// to the record's text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserIdentity<'a> {
    /// `type`: `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSAccount`, `AWSService`, ...
    pub identity_type: Option<Cow<'a, str>>,
    /// `principalId`: the unique id of the caller (user id, or role id and session name).
    pub principal_id: Option<Cow<'a, str>>,
    /// `arn`: the caller's ARN.
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`: the account that owns the caller's credentials, which
    /// differs from the record's `recipientAccountId` for cross-account calls.
    pub account_id: Option<Cow<'a, str>>,
    /// `userName`: the IAM user or role name, where CloudTrail gives one.
    pub user_name: Option<Cow<'a, str>>,
    /// `invokedBy`: the AWS service that called on the principal's behalf.
    pub invoked_by: Option<Cow<'a, str>>,
    /// `accessKeyId`: the access key used to sign the request.
    pub access_key_id: Option<Cow<'a, str>>,
    /// `sessionContext`: present for temporary credentials.
    pub session_context: Option<SessionContext<'a>>,
    /// The members written as `null`.
    nulls: u8,
}

/// A member of `userIdentity` that [`UserIdentity`] models.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdentityMember {
    Type,
    PrincipalId,
    Arn,
    AccountId,
    UserName,
    InvokedBy,
    AccessKeyId,
    SessionContext,
}

impl IdentityMember {
    /// The member with this JSON key.
    pub(crate) fn of(key: &str) -> Option<IdentityMember> {
        Some(match key {
            "type" => IdentityMember::Type,
            "principalId" => IdentityMember::PrincipalId,
            "arn" => IdentityMember::Arn,
            "accountId" => IdentityMember::AccountId,
            "userName" => IdentityMember::UserName,
            "invokedBy" => IdentityMember::InvokedBy,
            "accessKeyId" => IdentityMember::AccessKeyId,
            "sessionContext" => IdentityMember::SessionContext,
            _ => return None,
        })
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
    /// The member's JSON key.
    fn name(self) -> &'static str {
        match self {
            IdentityMember::Type => "type",
            IdentityMember::PrincipalId => "principalId",
            IdentityMember::Arn => "arn",
            IdentityMember::AccountId => "accountId",
            IdentityMember::UserName => "userName",
            IdentityMember::InvokedBy => "invokedBy",
            IdentityMember::AccessKeyId => "accessKeyId",
            IdentityMember::SessionContext => "sessionContext",
        }
    }
}

impl UserIdentity<'_> {
    /// Whether `member` was written as `null` (its field is then `None`,
    /// as for an absent member).
    pub(crate) fn is_null(&self, member: IdentityMember) -> bool {
        self.nulls & member.bit() != 0
    }
}

/// An identity key as read: a modelled member or another.
struct IdentityKey(Option<IdentityMember>);

impl<'de> Deserialize<'de> for IdentityKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(IdentityKeyVisitor)
    }
}

struct IdentityKeyVisitor;

impl Visitor<'_> for IdentityKeyVisitor {
    type Value = IdentityKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a userIdentity member name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<IdentityKey, E> {
        Ok(IdentityKey(IdentityMember::of(key)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for UserIdentity<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(IdentityVisitor)
    }
}

struct IdentityVisitor;

impl<'de> Visitor<'de> for IdentityVisitor {
    type Value = UserIdentity<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a userIdentity object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UserIdentity<'de>, A::Error> {
        let mut identity = UserIdentity::default();
        let mut seen = 0u8;
        while let Some(IdentityKey(member)) = map.next_key()? {
            let Some(member) = member else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen & member.bit() != 0 {
                return Err(de::Error::custom(format_args!(
                    "duplicate field `{}` in userIdentity",
                    member.name()
                )));
            }
            seen |= member.bit();
            let is_null = match member {
                IdentityMember::Type => member::text(&mut map, &mut identity.identity_type)?,
                IdentityMember::PrincipalId => member::text(&mut map, &mut identity.principal_id)?,
                IdentityMember::Arn => member::text(&mut map, &mut identity.arn)?,
                IdentityMember::AccountId => member::text(&mut map, &mut identity.account_id)?,
                IdentityMember::UserName => member::text(&mut map, &mut identity.user_name)?,
                IdentityMember::InvokedBy => member::text(&mut map, &mut identity.invoked_by)?,
                IdentityMember::AccessKeyId => member::text(&mut map, &mut identity.access_key_id)?,
                IdentityMember::SessionContext => {
                    identity.session_context = map.next_value()?;
                    identity.session_context.is_none()
                }
            };
            if is_null {
                identity.nulls |= member.bit();
            }
        }
        Ok(identity)
    }
}

/// `userIdentity.sessionContext`: how temporary credentials were obtained.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionContext<'a> {
    /// `sessionIssuer`: the role or user the session was issued from.
    #[serde(borrow)]
    pub session_issuer: Option<SessionIssuer<'a>>,
    /// `attributes`: when the session was created and whether MFA was used.
    #[serde(borrow)]
    pub attributes: Option<SessionAttributes<'a>>,
}

/// `userIdentity.sessionContext.sessionIssuer`: the source of a session's credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionIssuer<'a> {
    /// `type`: `Role`, `IAMUser` or `Root`.
    #[serde(rename = "type", default, borrow, deserialize_with = "text")]
    pub issuer_type: Option<Cow<'a, str>>,
    /// `principalId`: the internal id of the issuer.
    #[serde(default, borrow, deserialize_with = "text")]
    pub principal_id: Option<Cow<'a, str>>,
    /// `arn`: the issuer's ARN (the role, for an assumed role).
    #[serde(default, borrow, deserialize_with = "text")]
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`: the account that owns the issuer.
    #[serde(default, borrow, deserialize_with = "text")]
    pub account_id: Option<Cow<'a, str>>,
    /// `userName`: the issuer's friendly name.
    #[serde(default, borrow, deserialize_with = "text")]
    pub user_name: Option<Cow<'a, str>>,
}

/// `userIdentity.sessionContext.attributes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionAttributes<'a> {
    /// `mfaAuthenticated`: whether the session was created with MFA
    /// (CloudTrail writes it as the string `"true"`/`"false"`).
    pub mfa_authenticated: Option<Flag>,
    /// `creationDate`: when the session's credentials were issued.
    #[serde(default, borrow, deserialize_with = "text")]
    pub creation_date: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assumed_role_identity_is_read_in_full() {
        let json = r#"{
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:session",
            "arn": "arn:aws:sts::123456789012:assumed-role/Admin/session",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE",
                    "arn": "arn:aws:iam::123456789012:role/Admin",
                    "accountId": "123456789012", "userName": "Admin"},
                "webIdFederationData": {},
                "attributes": {"creationDate": "2023-07-10T11:40:00Z", "mfaAuthenticated": "false"}
            }
        }"#;
        let identity: UserIdentity<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(identity.identity_type.as_deref(), Some("AssumedRole"));
        let context = identity.session_context.unwrap();
        let issuer = context.session_issuer.unwrap();
        assert_eq!(issuer.issuer_type.as_deref(), Some("Role"));
        assert_eq!(issuer.user_name.as_deref(), Some("Admin"));
        let attributes = context.attributes.unwrap();
        assert_eq!(attributes.mfa_authenticated.map(Flag::get), Some(false));
        assert_eq!(
            attributes.creation_date.as_deref(),
            Some("2023-07-10T11:40:00Z")
        );
    }

    #[test]
    fn nulls_are_told_from_absent_members() {
        let json = r#"{"type": null, "invokedBy": null, "sessionContext": null,
            "arn": "a", "onBehalfOf": {"userId": "u"}, "invoked\u0042y2": 1}"#;
        let identity: UserIdentity<'_> = serde_json::from_str(json).unwrap();
        for member in [
            IdentityMember::Type,
            IdentityMember::InvokedBy,
            IdentityMember::SessionContext,
        ] {
            assert!(identity.is_null(member), "{member:?}");
        }
        for member in [
            IdentityMember::Arn,
            IdentityMember::AccountId,
            IdentityMember::UserName,
        ] {
            assert!(!identity.is_null(member), "{member:?}");
        }
        assert_eq!(identity.arn.as_deref(), Some("a"));
    }

    #[test]
    fn keys_are_read_unescaped_and_repeats_are_errors() {
        let escaped: UserIdentity<'_> =
            serde_json::from_str(r#"{"invoked\u0042y": "s3.amazonaws.com"}"#).unwrap();
        assert_eq!(escaped.invoked_by.as_deref(), Some("s3.amazonaws.com"));
        let repeated = serde_json::from_str::<UserIdentity<'_>>(r#"{"arn": "a", "arn": null}"#);
        let err = repeated.expect_err("a repeated member is an error");
        assert!(err.to_string().contains("duplicate field `arn`"), "{err}");
        for wrong in [r#"{"type": 1}"#, r#"["Root"]"#, r#""Root""#] {
            assert!(
                serde_json::from_str::<UserIdentity<'_>>(wrong).is_err(),
                "{wrong}"
            );
        }
    }

    #[test]
    fn service_identity_has_only_what_it_has() {
        let json = r#"{"accountId": "123456789012", "invokedBy": "cloudtrail.amazonaws.com"}"#;
        let identity: UserIdentity<'_> = serde_json::from_str(json).unwrap();
        assert_eq!(
            identity.invoked_by.as_deref(),
            Some("cloudtrail.amazonaws.com")
        );
        assert_eq!(identity.identity_type, None);
        assert_eq!(identity.session_context, None);
    }
}
