//! The AWS side of integrity validation: an S3-backed
//! [`ObjectStore`], a CloudTrail-backed [`PublicKeySource`], and keys read
//! from a file for when `ListPublicKeys` is not available.
//!
//! Validation itself is synchronous and runs inside `spawn_blocking`; these
//! answer each call with `Handle::block_on`, and hand object bodies over
//! through `SyncIoBridge`, so a log file is hashed as it streams.

use std::path::Path;

use aws_sdk_s3::error::DisplayErrorContext;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;
use trailguard::integrity::public_keys::{PublicKeyError, parse_list_public_keys};
use trailguard::integrity::store::{ObjectRef, ObjectStore, StoreError, StoredObject};
use trailguard::integrity::{PublicKey, PublicKeySource, StaticKeys};

/// A `--public-key` file could not be used.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// The file cannot be read.
    #[error("cannot read public key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is not `list-public-keys` output.
    #[error("public key file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        source: PublicKeyError,
    },
}

/// An error message as an error value, for [`StoreError::source`].
#[derive(Debug, Error)]
#[error("{0}")]
struct Message(String);

/// Objects read from S3.
pub struct S3Store {
    client: aws_sdk_s3::Client,
    handle: Handle,
}

impl S3Store {
    /// A store over `client`, making its calls on `handle`'s runtime.
    pub fn new(client: aws_sdk_s3::Client, handle: Handle) -> S3Store {
        S3Store { client, handle }
    }
}

impl ObjectStore for S3Store {
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send();
        match self.handle.block_on(request) {
            Ok(output) => {
                let metadata = output.metadata().cloned().unwrap_or_default();
                let body = SyncIoBridge::new_with_handle(
                    output.body.into_async_read(),
                    self.handle.clone(),
                );
                Ok(Some(StoredObject {
                    body: Box::new(body),
                    metadata,
                }))
            }
            Err(error) => {
                let absent = error.as_service_error().is_some_and(|e| e.is_no_such_key())
                    || error
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 404);
                if absent {
                    return Ok(None);
                }
                Err(StoreError {
                    object: object.clone(),
                    source: Box::new(Message(DisplayErrorContext(error).to_string())),
                })
            }
        }
    }
}

/// CloudTrail's `ListPublicKeys` in one region.
pub struct CloudTrailKeys {
    client: aws_sdk_cloudtrail::Client,
    handle: Handle,
}

impl CloudTrailKeys {
    /// A key source for `region` (keys are regional), from the SDK configuration.
    pub fn new(sdk: &aws_config::SdkConfig, region: &str, handle: Handle) -> CloudTrailKeys {
        let config = aws_sdk_cloudtrail::config::Builder::from(sdk)
            .region(aws_sdk_cloudtrail::config::Region::new(region.to_owned()))
            .build();
        CloudTrailKeys {
            client: aws_sdk_cloudtrail::Client::from_conf(config),
            handle,
        }
    }
}

fn sdk_time(at: OffsetDateTime) -> aws_sdk_cloudtrail::primitives::DateTime {
    aws_sdk_cloudtrail::primitives::DateTime::from_secs(at.unix_timestamp())
}

fn offset_time(at: Option<&aws_sdk_cloudtrail::primitives::DateTime>) -> Option<OffsetDateTime> {
    at.and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
}

impl PublicKeySource for CloudTrailKeys {
    fn public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError> {
        self.handle.block_on(async {
            let mut keys = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_public_keys()
                    .start_time(sdk_time(start))
                    .end_time(sdk_time(end))
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| {
                        PublicKeyError::Source(Box::new(Message(
                            aws_sdk_cloudtrail::error::DisplayErrorContext(e).to_string(),
                        )))
                    })?;
                for key in page.public_key_list() {
                    let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) else {
                        continue;
                    };
                    keys.push(PublicKey {
                        fingerprint: fingerprint.to_owned(),
                        der: value.as_ref().to_vec(),
                        valid_from: offset_time(key.validity_start_time()),
                        valid_to: offset_time(key.validity_end_time()),
                    });
                }
                token = page
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
                if token.is_none() {
                    return Ok(keys);
                }
            }
        })
    }
}

/// Keys from a file: the JSON output of `aws cloudtrail list-public-keys`,
/// or one DER key given as `FINGERPRINT=PATH` or as a file named
/// `<fingerprint>.der`.
pub fn keys_from_file(spec: &str) -> Result<StaticKeys, KeyFileError> {
    let (fingerprint, path) = match spec.split_once('=') {
        Some((fingerprint, path)) if is_fingerprint(fingerprint) => (Some(fingerprint), path),
        _ => (None, spec),
    };
    let bytes = std::fs::read(path).map_err(|source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.trim_ascii_start().starts_with(b"{") {
        let page = parse_list_public_keys(&bytes).map_err(|source| KeyFileError::Parse {
            path: path.to_owned(),
            source,
        })?;
        return Ok(StaticKeys(page.keys));
    }
    let fingerprint = fingerprint
        .map(str::to_owned)
        .or_else(|| {
            Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    Ok(StaticKeys(vec![PublicKey {
        fingerprint,
        der: bytes,
        valid_from: None,
        valid_to: None,
    }]))
}

fn is_fingerprint(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("trailguard-keys-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_cli_output_and_der_files() {
        let json = temp(
            "keys.json",
            br#"{"PublicKeyList":[{"Value":"AAEC","ValidityStartTime":"2023-07-01T00:00:00Z","ValidityEndTime":"2023-08-01T00:00:00Z","Fingerprint":"abc123"}]}"#,
        );
        let keys = keys_from_file(&json.display().to_string()).unwrap();
        assert_eq!(keys.0.len(), 1);
        assert_eq!(keys.0[0].fingerprint, "abc123");
        assert_eq!(keys.0[0].der, [0, 1, 2]);

        let der = temp("0123abcd.der", &[0x30, 0x82]);
        let by_name = keys_from_file(&der.display().to_string()).unwrap();
        let stem = der.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(by_name.0[0].fingerprint, stem);
        let explicit = keys_from_file(&format!("ffee={}", der.display())).unwrap();
        assert_eq!(explicit.0[0].fingerprint, "ffee");
        assert_eq!(explicit.0[0].der, [0x30, 0x82]);

        let missing = keys_from_file("/nonexistent/key.der").unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read public key file")
        );
        std::fs::remove_file(json).unwrap();
        std::fs::remove_file(der).unwrap();
    }
}
