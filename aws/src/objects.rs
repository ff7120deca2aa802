//! Opening an S3 object as a blocking byte stream for the record reader.

use std::io::Read;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::DisplayErrorContext;
use thiserror::Error;

use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::reader::blocking_reader;

/// An object could not be opened.
#[derive(Debug, Error)]
#[error("{object}: GetObject failed: {reason}")]
pub struct ObjectError {
    /// `s3://bucket/key`.
    pub object: String,
    /// The service's or the transport's message.
    pub reason: String,
}

/// What S3 says about an object besides its body.
#[derive(Debug, Clone, Default)]
pub struct ObjectMeta {
    /// When it was written (the delivery time of a log file), epoch seconds.
    pub last_modified: Option<i64>,
    /// The object's ETag, quotes removed.
    pub etag: Option<String>,
    /// Its version id, on versioned buckets.
    pub version_id: Option<String>,
    /// Size in bytes.
    pub size: Option<i64>,
    /// User metadata (`x-amz-meta-*`, without the prefix).
    pub metadata: std::collections::HashMap<String, String>,
}

/// Starts a `GetObject` (of the referenced version, if any) and returns its
/// body as a blocking [`Read`], to be consumed inside
/// `tokio::task::spawn_blocking` so the async runtime is never blocked.
pub async fn open_object(
    client: &Client,
    object: &ObjectRef,
) -> Result<(impl Read + Send + 'static, ObjectMeta), ObjectError> {
    let output = client
        .get_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .set_version_id(object.version_id.clone())
        .send()
        .await
        .map_err(|e| ObjectError {
            object: object.to_string(),
            reason: DisplayErrorContext(e).to_string(),
        })?;
    let meta = ObjectMeta {
        last_modified: output.last_modified().map(|t| t.secs()),
        etag: output.e_tag().map(|e| e.trim_matches('"').to_owned()),
        version_id: output.version_id().map(str::to_owned),
        size: output.content_length(),
        metadata: output.metadata().cloned().unwrap_or_default(),
    };
    Ok((blocking_reader(output.body.into_async_read()), meta))
}
