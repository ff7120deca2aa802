//! Who made a call: CloudTrail's `userIdentity` element.
//!
//! Its shape depends on the caller: a role session carries a
//! `sessionContext`, an AWS service call carries only `invokedBy` and
//! `accountId`, and Insights events have no identity at all. Every field
//! is therefore optional; members not modelled here stay reachable through
//! the record's [`Document`](crate::Document) view.

use std::borrow::Cow;

use serde::Deserialize;

use super::{Flag, text};

/// `userIdentity`: the principal that made the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserIdentity<'a> {
    /// `type`: `Root`, `IAMUser`, `AssumedRole`, `FederatedUser`, `AWSAccount`, `AWSService`, ...
    #[serde(rename = "type", default, borrow, deserialize_with = "text")]
    pub identity_type: Option<Cow<'a, str>>,
    /// `principalId`: the unique id of the caller (user id, or role id and session name).
    #[serde(default, borrow, deserialize_with = "text")]
    pub principal_id: Option<Cow<'a, str>>,
    /// `arn`: the caller's ARN.
    #[serde(default, borrow, deserialize_with = "text")]
    pub arn: Option<Cow<'a, str>>,
    /// `accountId`: the account that owns the caller's credentials, which
    /// differs from the record's `recipientAccountId` for cross-account calls.
    #[serde(default, borrow, deserialize_with = "text")]
    pub account_id: Option<Cow<'a, str>>,
    /// `userName`: the IAM user or role name, where CloudTrail gives one.
    #[serde(default, borrow, deserialize_with = "text")]
    pub user_name: Option<Cow<'a, str>>,
    /// `invokedBy`: the AWS service that called on the principal's behalf.
    #[serde(default, borrow, deserialize_with = "text")]
    pub invoked_by: Option<Cow<'a, str>>,
    /// `accessKeyId`: the access key used to sign the request.
    #[serde(default, borrow, deserialize_with = "text")]
    pub access_key_id: Option<Cow<'a, str>>,
    /// `sessionContext`: present for temporary credentials.
    #[serde(borrow)]
    pub session_context: Option<SessionContext<'a>>,
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
