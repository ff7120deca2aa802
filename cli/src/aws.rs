//! AWS access for the commands that need it: one Tokio runtime, the SDK
//! configuration loaded the AWS way (environment, profile, SSO, roles;
//! `AWS_ENDPOINT_URL` honoured), and S3 listing.

use std::sync::OnceLock;

use aws_config::BehaviorVersion;
use aws_sdk_s3::error::DisplayErrorContext;
use thiserror::Error;
use tokio::runtime::Runtime;
use trailguard_aws::{load_sdk_config, s3_client};

/// `--profile`, when given: set once at start-up, before any connection.
static PROFILE: OnceLock<String> = OnceLock::new();

/// Uses the named profile of the shared config and credentials files
/// instead of `AWS_PROFILE` / `default`.
pub fn use_profile(name: String) {
    // Only main calls this, once, before any command runs.
    let _ = PROFILE.set(name);
}

/// An S3 listing failed, or the runtime could not start.
#[derive(Debug, Error)]
pub enum AwsError {
    /// The Tokio runtime could not be built.
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// `ListObjectsV2` failed.
    #[error(
        "cannot list s3://{bucket}/{prefix}: {reason}; check the bucket name, region and s3:ListBucket permission"
    )]
    List {
        /// The bucket.
        bucket: String,
        /// The prefix.
        prefix: String,
        /// The service's message.
        reason: String,
    },
}

/// `s3://bucket/prefix`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    /// The bucket.
    pub bucket: String,
    /// The key prefix (possibly empty).
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://bucket[/prefix]`; `None` for anything else.
    pub fn parse(text: &str) -> Option<S3Url> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Url {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// clap's parser for arguments that must be `s3://` URLs.
pub fn s3_url_arg(text: &str) -> Result<S3Url, String> {
    S3Url::parse(text).ok_or_else(|| format!("`{text}` is not an s3://bucket/prefix URL"))
}

/// One listed object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its key.
    pub key: String,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// Its ETag, quotes removed.
    pub etag: Option<String>,
}

/// The runtime and SDK configuration every AWS call of a command shares.
pub struct Aws {
    /// The runtime AWS calls run on.
    pub runtime: Runtime,
    /// The loaded SDK configuration.
    pub sdk: aws_config::SdkConfig,
    /// An S3 client (path-style when an endpoint is overridden).
    pub s3: aws_sdk_s3::Client,
}

impl Aws {
    /// Starts a runtime and loads the configuration.
    pub fn connect() -> Result<Aws, AwsError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(AwsError::Runtime)?;
        let sdk = runtime.block_on(async {
            match PROFILE.get() {
                Some(profile) => {
                    aws_config::defaults(BehaviorVersion::latest())
                        .profile_name(profile)
                        .load()
                        .await
                }
                None => load_sdk_config().await,
            }
        });
        let s3 = s3_client(&sdk);
        Ok(Aws { runtime, sdk, s3 })
    }

    /// Every object under `url`, in key order.
    pub fn list(&self, url: &S3Url) -> Result<Vec<Listed>, AwsError> {
        self.runtime.block_on(async {
            let mut pages = self
                .s3
                .list_objects_v2()
                .bucket(&url.bucket)
                .prefix(&url.prefix)
                .into_paginator()
                .send();
            let mut out = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::List {
                    bucket: url.bucket.clone(),
                    prefix: url.prefix.clone(),
                    reason: DisplayErrorContext(e).to_string(),
                })?;
                out.extend(page.contents().iter().filter_map(|o| {
                    Some(Listed {
                        key: o.key()?.to_owned(),
                        size: o.size().and_then(|s| u64::try_from(s).ok()),
                        etag: o.e_tag().map(|e| e.trim_matches('"').to_owned()),
                    })
                }));
            }
            Ok(out)
        })
    }
}

/// The connection held in `cell`, made on first use: commands over local
/// files never touch AWS.
pub fn lazy(cell: &std::cell::OnceCell<Aws>) -> Result<&Aws, AwsError> {
    if let Some(aws) = cell.get() {
        return Ok(aws);
    }
    let aws = Aws::connect()?;
    Ok(cell.get_or_init(|| aws))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_s3_urls() {
        assert_eq!(
            S3Url::parse("s3://b/AWSLogs/1/"),
            Some(S3Url {
                bucket: "b".to_owned(),
                prefix: "AWSLogs/1/".to_owned()
            })
        );
        assert_eq!(
            S3Url::parse("s3://b").map(|u| u.prefix),
            Some(String::new())
        );
        assert_eq!(S3Url::parse("s3:///key"), None);
        assert_eq!(S3Url::parse("/tmp/logs"), None);
        assert!(s3_url_arg("bucket/key").is_err());
    }
}
