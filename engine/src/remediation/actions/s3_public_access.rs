//! Putting back a full S3 public access block on a bucket.
//!
//! The executor reads the bucket's block with `GetPublicAccessBlock`
//! (`NoSuchPublicAccessBlockConfiguration` means none), its policy with
//! `GetBucketPolicy` (judged by [`policy_allows_public`]) and its ACL with
//! `GetBucketAcl` (each grantee URI judged by [`is_public_grantee`]), then
//! calls `PutPublicAccessBlock` with all four flags on.
//!
//! When to act:
//!
//! - all four flags already on: compliant, whatever the policy and ACL say,
//!   because the block neutralises both;
//! - otherwise, if the policy or the ACL makes the bucket public: act;
//! - otherwise, if the triggering event changed the block itself
//!   (`PutBucketPublicAccessBlock`, `DeleteBucketPublicAccessBlock`,
//!   `DeletePublicAccessBlock`) and left it incomplete: act, completing the
//!   guard rail that was just lowered;
//! - otherwise (a policy or ACL change that left the bucket private):
//!   compliant, and the bucket is not touched.
//!
//! The account-level block is not read: a bucket is judged on its own
//! settings. The plan keeps the previous block so an undo can restore it
//! (`PutPublicAccessBlock` with it, or `DeletePublicAccessBlock` if there
//! was none).

use crate::remediation::request::{RequestError, required_str};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Decision, live_mismatch, wrong_resource};
use crate::remediation::request::{RemediationRequest, ResourceRef};

/// The action's name.
pub const NAME: &str = "s3-public-access";

/// IAM actions the executor needs (`GetPublicAccessBlock` and
/// `PutPublicAccessBlock` are authorised by the `s3:*BucketPublicAccessBlock` actions).
pub const PERMISSIONS: &[&str] = &[
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketPolicy",
    "s3:GetBucketAcl",
    "s3:GetBucketTagging",
    "s3:PutBucketPublicAccessBlock",
];

/// The service whose CloudTrail calls trigger the action.
pub const EVENT_SOURCE: &str = "s3.amazonaws.com";

/// The calls (`eventName`) that trigger the action.
pub const EVENT_NAMES: &[&str] = &[
    "PutBucketPolicy",
    "PutBucketAcl",
    "DeletePublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutBucketPublicAccessBlock",
];

/// The bucket a call changed.
pub fn resource(event: &Value, _failed: bool) -> Result<Option<ResourceRef>, RequestError> {
    let name = required_str(event, &["requestParameters", "bucketName"])?.to_owned();
    Ok(Some(ResourceRef::Bucket { name }))
}

/// The ACL grantee URI for everyone on the internet.
pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

/// The ACL grantee URI for anyone with any AWS credentials.
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";

/// A bucket's public access block settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicAccessBlock {
    /// Reject new public ACLs.
    pub block_public_acls: bool,
    /// Ignore existing public ACLs.
    pub ignore_public_acls: bool,
    /// Reject new public bucket policies.
    pub block_public_policy: bool,
    /// Restrict access granted by a public policy to the owner account and services.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    /// Every flag on.
    pub const FULL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    /// Whether every flag is on.
    pub fn is_full(&self) -> bool {
        *self == Self::FULL
    }
}

/// The bucket as the executor read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveState {
    /// The bucket read.
    pub bucket: String,
    /// Its public access block; `None` when it has none.
    pub public_access_block: Option<PublicAccessBlock>,
    /// Whether its policy has an unconditional `Allow` for `*` ([`policy_allows_public`]).
    pub policy_public: bool,
    /// Whether its ACL grants `AllUsers` or `AuthenticatedUsers` ([`is_public_grantee`]).
    pub acl_public: bool,
}

/// Call `PutPublicAccessBlock` on this bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The bucket to change.
    pub bucket: String,
    /// The block it had, for undo; `None` when it had none.
    pub previous: Option<PublicAccessBlock>,
    /// The block to put: always [`PublicAccessBlock::FULL`].
    pub apply: PublicAccessBlock,
}

/// Decides whether the bucket needs a full public access block.
pub fn decide(req: &RemediationRequest, live: &LiveState) -> Decision<Plan> {
    let ResourceRef::Bucket { name } = &req.resource else {
        return wrong_resource(NAME, req);
    };
    if live.bucket != *name {
        return live_mismatch(name, &live.bucket);
    }
    if live.public_access_block.is_some_and(|b| b.is_full()) {
        return Decision::AlreadyCompliant {
            reason: format!("{name} has a full public access block"),
        };
    }
    let exposed = live.policy_public || live.acl_public;
    if !exposed && !changes_block(&req.event_name) {
        return Decision::AlreadyCompliant {
            reason: format!(
                "{name} is public by neither policy nor ACL, and {} did not change its block",
                req.event_name
            ),
        };
    }
    Decision::Act(Plan {
        bucket: name.clone(),
        previous: live.public_access_block,
        apply: PublicAccessBlock::FULL,
    })
}

/// Whether the event changed the bucket's public access block itself.
fn changes_block(event_name: &str) -> bool {
    matches!(
        event_name,
        "PutBucketPublicAccessBlock" | "DeleteBucketPublicAccessBlock" | "DeletePublicAccessBlock"
    )
}

/// Whether a bucket policy document has a statement allowing everyone:
/// `"Effect": "Allow"` with `"Principal": "*"` or `{"AWS": "*"}` (alone or
/// in a list) and no `Condition`.
///
/// A `*` statement with a condition (source VPC, organisation, IP range) is
/// not judged public here: the remediator only acts when it is sure, and
/// `GetBucketPolicyStatus` is the authority for conditional cases.
pub fn policy_allows_public(policy: &Value) -> bool {
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => return false,
    };
    statements.into_iter().any(|statement| {
        let allows = statement.get("Effect").and_then(Value::as_str) == Some("Allow");
        let unconditional = match statement.get("Condition") {
            None | Some(Value::Null) => true,
            Some(Value::Object(conditions)) => conditions.is_empty(),
            Some(_) => false,
        };
        allows && unconditional && statement.get("Principal").is_some_and(is_everyone)
    })
}

/// Whether a policy `Principal` value is everyone.
fn is_everyone(principal: &Value) -> bool {
    let star = |v: &Value| v.as_str() == Some("*");
    match principal {
        Value::String(_) => star(principal),
        Value::Object(map) => match map.get("AWS") {
            Some(Value::Array(items)) => items.iter().any(star),
            Some(single) => star(single),
            None => false,
        },
        _ => false,
    }
}

/// Whether an ACL grantee URI is one of the public groups.
pub fn is_public_grantee(uri: &str) -> bool {
    uri == ALL_USERS_URI || uri == AUTHENTICATED_USERS_URI
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::{ActionKind, test_request};
    use serde_json::json;

    fn request(event_name: &str) -> RemediationRequest {
        test_request(
            ActionKind::S3PublicAccess,
            ResourceRef::Bucket {
                name: "customer-exports".into(),
            },
            event_name,
        )
    }

    fn live(block: Option<PublicAccessBlock>, policy_public: bool, acl_public: bool) -> LiveState {
        LiveState {
            bucket: "customer-exports".into(),
            public_access_block: block,
            policy_public,
            acl_public,
        }
    }

    const NONE_ON: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: false,
        ignore_public_acls: false,
        block_public_policy: false,
        restrict_public_buckets: false,
    };

    #[test]
    fn public_policy_without_block_gets_a_full_block() {
        assert_eq!(
            decide(&request("PutBucketPolicy"), &live(None, true, false)),
            Decision::Act(Plan {
                bucket: "customer-exports".into(),
                previous: None,
                apply: PublicAccessBlock::FULL,
            })
        );
    }

    #[test]
    fn public_acl_under_a_partial_block_remembers_the_old_block() {
        let partial = PublicAccessBlock {
            block_public_policy: true,
            restrict_public_buckets: true,
            ..NONE_ON
        };
        assert_eq!(
            decide(&request("PutBucketAcl"), &live(Some(partial), false, true)),
            Decision::Act(Plan {
                bucket: "customer-exports".into(),
                previous: Some(partial),
                apply: PublicAccessBlock::FULL,
            })
        );
    }

    #[test]
    fn lowered_block_is_completed_even_on_a_private_bucket() {
        for event in ["DeleteBucketPublicAccessBlock", "DeletePublicAccessBlock"] {
            let decision = decide(&request(event), &live(None, false, false));
            assert_eq!(decision.plan().map(|p| p.previous), Some(None), "{event}");
        }
        let decision = decide(
            &request("PutBucketPublicAccessBlock"),
            &live(Some(NONE_ON), false, false),
        );
        assert_eq!(decision.plan().map(|p| p.previous), Some(Some(NONE_ON)));
    }

    #[test]
    fn full_block_is_compliant_even_with_a_public_policy() {
        let decision = decide(
            &request("PutBucketPolicy"),
            &live(Some(PublicAccessBlock::FULL), true, true),
        );
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn private_policy_change_leaves_the_bucket_alone() {
        let decision = decide(&request("PutBucketPolicy"), &live(None, false, false));
        assert!(
            matches!(decision, Decision::AlreadyCompliant { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn another_bucket_is_not_acted_on() {
        let mut state = live(None, true, true);
        state.bucket = "other".into();
        let decision = decide(&request("PutBucketPolicy"), &state);
        assert!(
            matches!(decision, Decision::NotApplicable { .. }),
            "{decision:?}"
        );
    }

    #[test]
    fn policy_judgement() {
        let public = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl"},
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        ]});
        assert!(policy_allows_public(&public));
        let aws_list = json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}}});
        assert!(policy_allows_public(&aws_list));
        let conditional = json!({"Statement": [{"Effect": "Allow", "Principal": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]});
        assert!(!policy_allows_public(&conditional));
        let deny = json!({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert!(!policy_allows_public(&deny));
        let account = json!({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}]});
        assert!(!policy_allows_public(&account));
        assert!(!policy_allows_public(&json!({})));
    }

    #[test]
    fn public_grantees() {
        assert!(is_public_grantee(ALL_USERS_URI));
        assert!(is_public_grantee(AUTHENTICATED_USERS_URI));
        assert!(!is_public_grantee(
            "http://acs.amazonaws.com/groups/s3/LogDelivery"
        ));
    }
}
