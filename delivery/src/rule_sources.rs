//! Where user rule files come from: a file bundled with the deployment, an
//! S3 object or an SSM parameter, named in configuration as a list like
//! `rules/extra.yaml,s3://bucket/rules.yaml,ssm:/trailguard/rules`.

use std::path::PathBuf;
use std::str::FromStr;

use aws_sdk_s3::error::DisplayErrorContext;
use thiserror::Error;

use trailguard_engine::rules::RuleText;

/// One configured rule source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSource {
    /// A local file (bundled in the deployment package, or on the CLI's disk).
    File(PathBuf),
    /// `s3://bucket/key`.
    S3 {
        /// Bucket name.
        bucket: String,
        /// Object key.
        key: String,
    },
    /// `ssm:/parameter/name` (a String or SecureString parameter).
    Ssm(String),
}

/// A rule source could not be named or read.
#[derive(Debug, Error)]
pub enum RuleSourceError {
    /// The configured text is not a source.
    #[error("rule source {0:?} is not a path, s3://bucket/key or ssm:/name")]
    Invalid(String),
    /// The source exists in configuration but could not be read.
    #[error("rule source {source_name}: {reason}")]
    Unreadable {
        /// The source as configured.
        source_name: String,
        /// Why it could not be read.
        reason: String,
    },
}

impl FromStr for RuleSource {
    type Err = RuleSourceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Some(rest) = s.strip_prefix("s3://") {
            return match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(RuleSource::S3 {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                    })
                }
                _ => Err(RuleSourceError::Invalid(s.to_owned())),
            };
        }
        if let Some(name) = s.strip_prefix("ssm:") {
            return if name.is_empty() {
                Err(RuleSourceError::Invalid(s.to_owned()))
            } else {
                Ok(RuleSource::Ssm(name.to_owned()))
            };
        }
        if s.is_empty() {
            return Err(RuleSourceError::Invalid(s.to_owned()));
        }
        Ok(RuleSource::File(PathBuf::from(s)))
    }
}

impl std::fmt::Display for RuleSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleSource::File(p) => write!(f, "{}", p.display()),
            RuleSource::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            RuleSource::Ssm(name) => write!(f, "ssm:{name}"),
        }
    }
}

/// Parses a comma-separated list of sources; an empty list is fine.
pub fn parse_list(list: &str) -> Result<Vec<RuleSource>, RuleSourceError> {
    list.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(RuleSource::from_str)
        .collect()
}

/// Reads every source, in order.
pub async fn fetch_all(
    sources: &[RuleSource],
    s3: &aws_sdk_s3::Client,
    ssm: &aws_sdk_ssm::Client,
) -> Result<Vec<RuleText>, RuleSourceError> {
    let mut out = Vec::with_capacity(sources.len());
    for source in sources {
        let unreadable = |reason: String| RuleSourceError::Unreadable {
            source_name: source.to_string(),
            reason,
        };
        let text = match source {
            RuleSource::File(path) => {
                std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?
            }
            RuleSource::S3 { bucket, key } => {
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .map_err(|e| unreadable(DisplayErrorContext(e).to_string()))?;
                let bytes = object
                    .body
                    .collect()
                    .await
                    .map_err(|e| unreadable(e.to_string()))?
                    .into_bytes();
                String::from_utf8(bytes.to_vec()).map_err(|e| unreadable(e.to_string()))?
            }
            RuleSource::Ssm(name) => ssm
                .get_parameter()
                .name(name)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| unreadable(DisplayErrorContext(e).to_string()))?
                .parameter()
                .and_then(|p| p.value())
                .map(str::to_owned)
                .ok_or_else(|| unreadable("parameter has no value".to_owned()))?,
        };
        out.push(RuleText {
            origin: source.to_string(),
            text,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_kind_of_source() {
        let list = parse_list("rules/a.yaml, s3://b/k/r.yaml,ssm:/tg/rules,").unwrap();
        assert_eq!(
            list,
            vec![
                RuleSource::File("rules/a.yaml".into()),
                RuleSource::S3 {
                    bucket: "b".into(),
                    key: "k/r.yaml".into()
                },
                RuleSource::Ssm("/tg/rules".into()),
            ]
        );
        assert_eq!(list[1].to_string(), "s3://b/k/r.yaml");
        assert!(parse_list("s3://bucket-only").is_err());
        assert!(parse_list("ssm:").is_err());
        assert!(parse_list("").unwrap().is_empty());
    }
}
