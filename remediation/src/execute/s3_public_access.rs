//! Executor for [`trailguard_engine::remediation::actions::s3_public_access`]: the
//! bucket's public access block (`GetPublicAccessBlock`, none on
//! `NoSuchPublicAccessBlockConfiguration`), its policy (`GetBucketPolicy`,
//! none on `NoSuchBucketPolicy`) and ACL (`GetBucketAcl`), its tags
//! (`GetBucketTagging`, none on `NoSuchTagSet`), and `PutPublicAccessBlock`
//! with every flag on.
//!
//! Every call names the request's account as `ExpectedBucketOwner`: bucket
//! names are global, so a bucket deleted and re-created in another account
//! under the same name is refused by S3 rather than read or changed.

use aws_config::SdkConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use serde_json::Value;

use super::{ExecuteError, Executor, Tags, call_error, has_code, regional, wrong_resource};
use trailguard_engine::remediation::actions::Decision;
use trailguard_engine::remediation::actions::s3_public_access::{
    self as action, PublicAccessBlock,
};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// S3's error code for a bucket that does not exist.
const NOT_FOUND: &[&str] = &["NoSuchBucket"];

/// Reads and blocks one bucket.
pub struct BucketExecutor {
    s3: Client,
    bucket: String,
    /// The account the bucket must belong to (`ExpectedBucketOwner`).
    owner: String,
    resource: String,
}

impl BucketExecutor {
    /// The executor for `req`'s bucket, in `req`'s region (the bucket's:
    /// S3 records bucket calls in the bucket's region).
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::Bucket { name } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            s3: s3_client(&regional(sdk, &req.region)),
            bucket: name.clone(),
            owner: req.account.clone(),
            resource: req.resource.to_string(),
        })
    }

    async fn public_access_block(&self) -> Result<Option<PublicAccessBlock>, ExecuteError> {
        let out = match self
            .s3
            .get_public_access_block()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.owner)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if has_code(&e, &["NoSuchPublicAccessBlockConfiguration"]) => return Ok(None),
            Err(e) => {
                return Err(call_error(
                    "GetPublicAccessBlock",
                    &self.resource,
                    NOT_FOUND,
                    e,
                ));
            }
        };
        // An absent flag is off, as S3 treats it.
        Ok(out
            .public_access_block_configuration
            .map(|c| PublicAccessBlock {
                block_public_acls: c.block_public_acls.unwrap_or(false),
                ignore_public_acls: c.ignore_public_acls.unwrap_or(false),
                block_public_policy: c.block_public_policy.unwrap_or(false),
                restrict_public_buckets: c.restrict_public_buckets.unwrap_or(false),
            }))
    }

    async fn policy_public(&self) -> Result<bool, ExecuteError> {
        let out = match self
            .s3
            .get_bucket_policy()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.owner)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if has_code(&e, &["NoSuchBucketPolicy"]) => return Ok(false),
            Err(e) => return Err(call_error("GetBucketPolicy", &self.resource, NOT_FOUND, e)),
        };
        let Some(text) = out.policy else {
            return Ok(false);
        };
        let policy: Value =
            serde_json::from_str(&text).map_err(|source| ExecuteError::PolicyNotJson {
                bucket: self.bucket.clone(),
                source,
            })?;
        Ok(action::policy_allows_public(&policy))
    }

    async fn acl_public(&self) -> Result<bool, ExecuteError> {
        let out = self
            .s3
            .get_bucket_acl()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.owner)
            .send()
            .await
            .map_err(|e| call_error("GetBucketAcl", &self.resource, NOT_FOUND, e))?;
        Ok(out
            .grants()
            .iter()
            .filter_map(|g| g.grantee()?.uri())
            .any(action::is_public_grantee))
    }
}

/// An S3 client for `sdk`. With an endpoint override (a VPC endpoint URL,
/// a local stand-in) it uses path-style addressing, which such endpoints
/// need and real S3 accepts.
pub fn s3_client(sdk: &SdkConfig) -> Client {
    let builder = aws_sdk_s3::config::Builder::from(sdk);
    let builder = if sdk.endpoint_url().is_some() {
        builder.force_path_style(true)
    } else {
        builder
    };
    Client::from_conf(builder.build())
}

impl Executor for BucketExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        Ok(action::LiveState {
            bucket: self.bucket.clone(),
            public_access_block: self.public_access_block().await?,
            policy_public: self.policy_public().await?,
            acl_public: self.acl_public().await?,
        })
    }

    async fn tags(&self, _live: &action::LiveState) -> Result<Tags, ExecuteError> {
        match self
            .s3
            .get_bucket_tagging()
            .bucket(&self.bucket)
            .expected_bucket_owner(&self.owner)
            .send()
            .await
        {
            Ok(out) => Ok(out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e) if has_code(&e, &["NoSuchTagSet"]) => Ok(Tags::new()),
            Err(e) => Err(call_error("GetBucketTagging", &self.resource, NOT_FOUND, e)),
        }
    }

    fn decide(
        &self,
        req: &RemediationRequest,
        live: &action::LiveState,
        _cfg: &GuardConfig,
    ) -> Decision<action::Plan> {
        action::decide(req, live)
    }

    async fn apply(&self, plan: &action::Plan) -> Result<(), ExecuteError> {
        let block = PublicAccessBlockConfiguration::builder()
            .block_public_acls(plan.apply.block_public_acls)
            .ignore_public_acls(plan.apply.ignore_public_acls)
            .block_public_policy(plan.apply.block_public_policy)
            .restrict_public_buckets(plan.apply.restrict_public_buckets)
            .build();
        self.s3
            .put_public_access_block()
            .bucket(&plan.bucket)
            .expected_bucket_owner(&self.owner)
            .public_access_block_configuration(block)
            .send()
            .await
            .map_err(|e| call_error("PutPublicAccessBlock", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}
