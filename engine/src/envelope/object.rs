//! A reference to one S3 object announced by a delivery.

use std::fmt;

/// The version id S3 reports for objects written while versioning was
/// suspended; it names no particular version, so it cannot tell writes apart.
const NULL_VERSION: &str = "null";

/// One S3 object to read, as announced by a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The key, decoded (exactly as S3's API expects it).
    pub key: String,
    /// The object size in bytes, when the delivery states it.
    pub size: Option<u64>,
    /// The version id, when the bucket is versioned and the delivery states it.
    pub version_id: Option<String>,
    /// The ETag, when the delivery states it.
    pub etag: Option<String>,
    /// S3's per-key event ordering token, when the delivery states it.
    pub sequencer: Option<String>,
}

impl ObjectRef {
    /// A reference with only a bucket and key known (e.g. from a CloudTrail
    /// notice, or given on the command line).
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            size: None,
            version_id: None,
            etag: None,
            sequencer: None,
        }
    }

    /// A stable identity of this object's content for idempotency records:
    /// bucket, then the version id (or, without a usable one, the ETag), then
    /// the key.
    ///
    /// The form is `bucket|v:<version>|key`, `bucket|e:<etag>|key` or
    /// `bucket||key`. Bucket names cannot contain `|` and version ids and
    /// ETags are URL-safe, so the key goes last and may contain anything.
    /// A delivery that states neither (a CloudTrail notice) identifies by
    /// bucket and key alone, which suffices for CloudTrail's never-rewritten
    /// file names.
    pub fn identity(&self) -> String {
        let version = self
            .version_id
            .as_deref()
            .filter(|v| !v.is_empty() && *v != NULL_VERSION);
        let etag = self.etag.as_deref().filter(|e| !e.is_empty());
        match (version, etag) {
            (Some(version), _) => format!("{}|v:{version}|{}", self.bucket, self.key),
            (None, Some(etag)) => format!("{}|e:{etag}|{}", self.bucket, self.key),
            (None, None) => format!("{}||{}", self.bucket, self.key),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(version_id: Option<&str>, etag: Option<&str>) -> ObjectRef {
        ObjectRef {
            version_id: version_id.map(str::to_owned),
            etag: etag.map(str::to_owned),
            ..ObjectRef::new("trail-bucket", "AWSLogs/a b|c.json.gz")
        }
    }

    #[test]
    fn displays_as_an_s3_url() {
        assert_eq!(
            object(None, None).to_string(),
            "s3://trail-bucket/AWSLogs/a b|c.json.gz"
        );
    }

    #[test]
    fn identity_prefers_version_then_etag() {
        let cases = [
            (
                Some("3HL4kqtJlcpXroDTDmJ"),
                Some("e1"),
                "trail-bucket|v:3HL4kqtJlcpXroDTDmJ|AWSLogs/a b|c.json.gz",
            ),
            (None, Some("e1"), "trail-bucket|e:e1|AWSLogs/a b|c.json.gz"),
            (
                Some("null"),
                Some("e1"),
                "trail-bucket|e:e1|AWSLogs/a b|c.json.gz",
            ),
            (Some(""), None, "trail-bucket||AWSLogs/a b|c.json.gz"),
            (None, Some(""), "trail-bucket||AWSLogs/a b|c.json.gz"),
        ];
        for (version, etag, want) in cases {
            assert_eq!(
                object(version, etag).identity(),
                want,
                "{version:?} {etag:?}"
            );
        }
    }

    #[test]
    fn identity_tells_versions_apart() {
        assert_ne!(
            object(Some("v1"), Some("e")).identity(),
            object(Some("v2"), Some("e")).identity()
        );
        assert_ne!(
            object(None, Some("e1")).identity(),
            object(None, Some("e2")).identity()
        );
    }
}
