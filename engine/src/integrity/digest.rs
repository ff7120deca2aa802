//! Parsing a CloudTrail digest file: gzip bytes in, the uncompressed bytes
//! (kept, because the signature and the next digest's chain link are over
//! them) and a typed view of the JSON out.
//!
//! Field names follow the "CloudTrail digest file structure" page of the
//! CloudTrail User Guide.

use std::io::{self, Read};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::hashing::{is_format_error, sha256_hex};
use super::store::ObjectRef;
use super::timestamps::{TimestampError, parse_rfc3339};

/// Largest uncompressed digest accepted. Real digests list one hour of log
/// files and stay far below this; the cap stops a hostile gzip bomb.
pub const MAX_DIGEST_BYTES: u64 = 64 * 1024 * 1024;

/// The JSON body of a digest file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// Account the digest was delivered for.
    #[serde(default)]
    pub aws_account_id: Option<String>,
    /// Start of the delivery window covered, as written (RFC 3339).
    pub digest_start_time: String,
    /// End of the delivery window covered, as written; part of the signed string.
    pub digest_end_time: String,
    /// Bucket CloudTrail delivered this digest to.
    pub digest_s3_bucket: String,
    /// Key CloudTrail delivered this digest to.
    pub digest_s3_object: String,
    /// Hex fingerprint of the public key that verifies this digest.
    pub digest_public_key_fingerprint: String,
    /// Signing algorithm, `SHA256withRSA`.
    #[serde(default)]
    pub digest_signature_algorithm: Option<String>,
    /// Newest event time over the listed log files (`null` when none).
    #[serde(default)]
    pub newest_event_time: Option<String>,
    /// Oldest event time over the listed log files (`null` when none).
    #[serde(default)]
    pub oldest_event_time: Option<String>,
    /// Bucket of the previous digest; `null` in a chain's first digest.
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    /// Key of the previous digest; `null` in a chain's first digest.
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's uncompressed bytes.
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    /// Hash algorithm of `previousDigestHashValue`, `SHA-256`.
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    /// Hex signature of the previous digest; part of the signed string.
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// Log files delivered in the window (`[]` for an hour without activity).
    #[serde(default)]
    pub log_files: Option<Vec<LogFileEntry>>,
}

impl Digest {
    /// The listed log files (empty when the field is absent or `null`).
    pub fn log_files(&self) -> &[LogFileEntry] {
        self.log_files.as_deref().unwrap_or_default()
    }

    /// The previous digest's location, when this digest continues a chain.
    pub fn previous(&self) -> Option<ObjectRef> {
        match (
            &self.previous_digest_s3_bucket,
            &self.previous_digest_s3_object,
        ) {
            (Some(bucket), Some(key)) => Some(ObjectRef::new(bucket, key)),
            _ => None,
        }
    }
}

/// One log file listed in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFileEntry {
    /// Bucket of the log file.
    pub s3_bucket: String,
    /// Key of the log file.
    pub s3_object: String,
    /// Hex SHA-256 of the uncompressed log file.
    pub hash_value: String,
    /// Hash algorithm, `SHA-256`.
    #[serde(default)]
    pub hash_algorithm: Option<String>,
    /// Newest event time in the file.
    #[serde(default)]
    pub newest_event_time: Option<String>,
    /// Oldest event time in the file.
    #[serde(default)]
    pub oldest_event_time: Option<String>,
}

impl LogFileEntry {
    /// Where the log file lives.
    pub fn location(&self) -> ObjectRef {
        ObjectRef::new(&self.s3_bucket, &self.s3_object)
    }
}

/// A digest file read from a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestFile {
    /// The parsed JSON.
    pub digest: Digest,
    /// `digestStartTime`, parsed.
    pub start: OffsetDateTime,
    /// `digestEndTime`, parsed.
    pub end: OffsetDateTime,
    uncompressed: Vec<u8>,
}

impl DigestFile {
    /// The uncompressed bytes exactly as delivered.
    pub fn uncompressed(&self) -> &[u8] {
        &self.uncompressed
    }

    /// Hex SHA-256 of the uncompressed bytes: what the signed string and the
    /// next digest's `previousDigestHashValue` hold.
    pub fn sha256_hex(&self) -> String {
        sha256_hex(&self.uncompressed)
    }
}

/// Why a digest file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    /// The bytes are not gzip, or are cut short.
    #[error("{object} is not a gzip-compressed digest file: {source}")]
    Decompress {
        /// The digest read.
        object: ObjectRef,
        /// The decoder's complaint.
        #[source]
        source: io::Error,
    },
    /// The store failed while the body was being read.
    #[error("reading {object} failed part-way: {source}")]
    Read {
        /// The digest read.
        object: ObjectRef,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
    /// The uncompressed digest exceeds [`MAX_DIGEST_BYTES`].
    #[error("{object} inflates to more than {limit} bytes; it is not a CloudTrail digest file")]
    TooLarge {
        /// The digest read.
        object: ObjectRef,
        /// The cap that was hit.
        limit: u64,
    },
    /// The JSON does not have the digest file structure.
    #[error("{object} is not a CloudTrail digest file: {source}")]
    Json {
        /// The digest read.
        object: ObjectRef,
        /// What serde found wrong, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// `digestStartTime` or `digestEndTime` is not a timestamp.
    #[error("{object} has an unreadable `{field}`: {source}")]
    Time {
        /// The digest read.
        object: ObjectRef,
        /// The JSON field name.
        field: &'static str,
        /// The parse failure, naming the text.
        #[source]
        source: TimestampError,
    },
}

impl DigestError {
    /// Whether the error is about the digest's bytes (and so reportable as
    /// "invalid format") rather than about reading them.
    pub fn is_format_error(&self) -> bool {
        !matches!(self, DigestError::Read { .. })
    }
}

/// Reads a gzip-compressed digest file from `body`, naming `object` in errors.
pub fn parse_digest(object: &ObjectRef, body: impl Read) -> Result<DigestFile, DigestError> {
    let mut uncompressed = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(body).take(MAX_DIGEST_BYTES + 1);
    if let Err(source) = decoder.read_to_end(&mut uncompressed) {
        let object = object.clone();
        return Err(if is_format_error(&source) {
            DigestError::Decompress { object, source }
        } else {
            DigestError::Read { object, source }
        });
    }
    if uncompressed.len() as u64 > MAX_DIGEST_BYTES {
        return Err(DigestError::TooLarge {
            object: object.clone(),
            limit: MAX_DIGEST_BYTES,
        });
    }
    let digest: Digest =
        serde_json::from_slice(&uncompressed).map_err(|source| DigestError::Json {
            object: object.clone(),
            source,
        })?;
    let time = |field: &'static str, value: &str| {
        parse_rfc3339(value).map_err(|source| DigestError::Time {
            object: object.clone(),
            field,
            source,
        })
    };
    let start = time("digestStartTime", &digest.digest_start_time)?;
    let end = time("digestEndTime", &digest.digest_end_time)?;
    Ok(DigestFile {
        digest,
        start,
        end,
        uncompressed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    use time::macros::datetime;

    /// The sample from the CloudTrail User Guide, trimmed to one log file.
    const SAMPLE: &str = r#"{
      "awsAccountId": "111122223333",
      "digestStartTime": "2015-08-17T14:01:31Z",
      "digestEndTime": "2015-08-17T15:01:31Z",
      "digestS3Bucket": "S3-bucket-name",
      "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
      "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
      "digestSignatureAlgorithm": "SHA256withRSA",
      "newestEventTime": "2015-08-17T14:52:27Z",
      "oldestEventTime": "2015-08-17T14:42:27Z",
      "previousDigestS3Bucket": "S3-bucket-name",
      "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
      "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
      "previousDigestHashAlgorithm": "SHA-256",
      "previousDigestSignature": "50887ccffad4c002",
      "logFiles": [{
        "s3Bucket": "S3-bucket-name",
        "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
        "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
        "hashAlgorithm": "SHA-256",
        "newestEventTime": "2015-08-17T14:52:27Z",
        "oldestEventTime": "2015-08-17T14:42:27Z"
      }]
    }"#;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn here() -> ObjectRef {
        ObjectRef::new("b", "AWSLogs/d.json.gz")
    }

    #[test]
    fn parses_the_documented_sample() {
        let file = parse_digest(&here(), gzip(SAMPLE.as_bytes()).as_slice()).unwrap();
        let d = &file.digest;
        assert_eq!(file.start, datetime!(2015-08-17 14:01:31 UTC));
        assert_eq!(file.end, datetime!(2015-08-17 15:01:31 UTC));
        assert_eq!(d.digest_s3_bucket, "S3-bucket-name");
        assert_eq!(
            d.digest_public_key_fingerprint,
            "31e8b5433410dfb61a9dc45cc65b22ff"
        );
        assert_eq!(
            d.previous_digest_signature.as_deref(),
            Some("50887ccffad4c002")
        );
        let previous = d.previous().unwrap();
        assert!(previous.key.ends_with("_20150817T140131Z.json.gz"));
        let logs = d.log_files();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].location().bucket, "S3-bucket-name");
        assert_eq!(logs[0].hash_algorithm.as_deref(), Some("SHA-256"));
    }

    #[test]
    fn keeps_the_uncompressed_bytes_for_hashing() {
        let file = parse_digest(&here(), gzip(SAMPLE.as_bytes()).as_slice()).unwrap();
        assert_eq!(file.uncompressed(), SAMPLE.as_bytes());
        assert_eq!(file.sha256_hex(), sha256_hex(SAMPLE.as_bytes()));
    }

    #[test]
    fn a_starting_digest_has_null_previous_fields_and_no_logs() {
        let json = SAMPLE
            .replace(
                r#""previousDigestS3Bucket": "S3-bucket-name""#,
                r#""previousDigestS3Bucket": null"#,
            )
            .replace(
                r#""previousDigestSignature": "50887ccffad4c002""#,
                r#""previousDigestSignature": null"#,
            );
        let json = match json.find(r#""logFiles""#) {
            Some(at) => format!("{}\"logFiles\": null}}", &json[..at]),
            None => panic!("sample lost its logFiles"),
        };
        let file = parse_digest(&here(), gzip(json.as_bytes()).as_slice()).unwrap();
        assert!(file.digest.previous().is_none());
        assert!(file.digest.previous_digest_signature.is_none());
        assert!(file.digest.log_files().is_empty());
    }

    #[test]
    fn errors_name_the_object_and_the_problem() {
        let not_gzip = parse_digest(&here(), SAMPLE.as_bytes()).unwrap_err();
        assert!(matches!(not_gzip, DigestError::Decompress { .. }));
        assert!(not_gzip.to_string().contains("s3://b/AWSLogs/d.json.gz"));

        let not_json = parse_digest(&here(), gzip(b"[1,2]").as_slice()).unwrap_err();
        assert!(matches!(not_json, DigestError::Json { .. }));
        assert!(not_json.is_format_error());

        let bad_time = SAMPLE.replace("2015-08-17T15:01:31Z", "soon");
        let err = parse_digest(&here(), gzip(bad_time.as_bytes()).as_slice()).unwrap_err();
        assert!(
            matches!(
                err,
                DigestError::Time {
                    field: "digestEndTime",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_missing_required_field_is_a_json_error() {
        let json = SAMPLE.replace(r#""digestPublicKeyFingerprint""#, r#""otherField""#);
        let err = parse_digest(&here(), gzip(json.as_bytes()).as_slice()).unwrap_err();
        assert!(
            err.to_string().contains("digestPublicKeyFingerprint"),
            "{err}"
        );
    }
}
