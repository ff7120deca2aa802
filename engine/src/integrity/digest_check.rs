//! Checking one delivered digest file: its location, public key and
//! signature and every log file it lists (through the chain walk,
//! [`crate::integrity::validate`], limited to this one digest), then its
//! link to the previous digest: that digest must exist where recorded and
//! hash, and carry the signature, as recorded. A chain's first digest
//! (no previous digest) is fine.
//!
//! The previous digest's own log files are not hashed again: they were
//! checked when that digest was delivered.
//!
//! Synchronous, like the walk it builds on; run it inside `spawn_blocking`.

use std::io::{self, Read};

use thiserror::Error;
use time::OffsetDateTime;

use crate::integrity::digest::{DigestError, DigestFile, MAX_DIGEST_BYTES, parse_digest};
use crate::integrity::layout::digest_key_time;
use crate::integrity::report::{DigestStatus, Finding, LinkField, Report, TimeRange};
use crate::integrity::signing::SIGNATURE_METADATA;
use crate::integrity::store::{MemoryStore, ObjectData, StoreError, StoredObject};
use crate::integrity::{
    ChainError, ListedDigest, ObjectRef, ObjectStore, PublicKeySource, ValidationRequest, validate,
};

/// A digest could not be checked (as opposed to being found invalid): the
/// message is retried.
#[derive(Debug, Error)]
pub enum CheckError {
    /// An object could not be opened (a missing bucket, a denied read).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The delivered digest's body could not be read to the end.
    #[error("reading {object} failed part-way: {source}")]
    Read {
        /// The digest.
        object: ObjectRef,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
    /// The previous digest's body could not be read to the end.
    #[error(transparent)]
    Digest(DigestError),
    /// The walk stopped (public keys unavailable, a log file unreadable).
    #[error(transparent)]
    Chain(ChainError),
}

/// What checking one digest found.
#[derive(Debug)]
pub struct DigestCheck {
    /// The results: the digest, its log files, and a failed link, if any.
    pub report: Report,
    /// The digest, when it proved authentic (signed, in place, linked).
    pub authentic: Option<DigestFile>,
}

impl DigestCheck {
    /// A check whose digest did not prove authentic.
    fn unauthentic(report: Report) -> DigestCheck {
        DigestCheck {
            report,
            authentic: None,
        }
    }
}

/// Reads through a [`MemoryStore`] first, then `store`: lets the walk read
/// the delivered digest from the bytes already fetched.
struct Overlay<'a, S: ?Sized> {
    memory: &'a MemoryStore,
    store: &'a S,
}

impl<S: ObjectStore + ?Sized> ObjectStore for Overlay<'_, S> {
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
        match self.memory.get(object)? {
            Some(found) => Ok(Some(found)),
            None => self.store.get(object),
        }
    }
}

/// Checks the digest at `object`, filed under `region`, whose key names
/// `key_time` as its end.
pub fn check_digest<S, K>(
    store: &S,
    keys: &K,
    object: &ObjectRef,
    region: &str,
    key_time: OffsetDateTime,
) -> Result<DigestCheck, CheckError>
where
    S: ObjectStore + ?Sized,
    K: PublicKeySource + ?Sized,
{
    let mut report = Report::new(key_time, key_time);
    let Some(stored) = store.get(object)? else {
        report.push(Finding::Digest {
            object: object.clone(),
            range: TimeRange::ending(key_time),
            status: DigestStatus::Missing,
        });
        return Ok(DigestCheck::unauthentic(report));
    };
    // Fetched once: the walk verifies these bytes, and the link check reads
    // the previous digest's location from the same bytes. The cap bounds
    // memory; a longer body cannot be a digest and fails to parse.
    let mut body = Vec::new();
    stored
        .body
        .take(MAX_DIGEST_BYTES)
        .read_to_end(&mut body)
        .map_err(|source| CheckError::Read {
            object: object.clone(),
            source,
        })?;
    let parsed = parse_digest(object, body.as_slice()).ok();
    let mut memory = MemoryStore::new();
    memory.put(
        object.clone(),
        ObjectData {
            body,
            metadata: stored.metadata.clone(),
        },
    );
    let overlay = Overlay {
        memory: &memory,
        store,
    };
    report.findings = walk_one(&overlay, keys, object, region, key_time, parsed.as_ref())?;
    let digest_valid = report.findings.iter().any(|f| {
        matches!(f, Finding::Digest { object: o, status: DigestStatus::Valid, .. } if o == object)
    });
    let Some(file) = parsed.filter(|_| digest_valid) else {
        return Ok(DigestCheck::unauthentic(report));
    };
    let broken = check_link(store, object, &file)?;
    let authentic = match broken {
        Some(broken) => {
            report.push(broken);
            None
        }
        None => Some(file),
    };
    Ok(DigestCheck { report, authentic })
}

/// The chain walk over the one digest at `object` (and its logs): a
/// window of one instant, so the walk stops before following the link,
/// which [`check_link`] checks.
fn walk_one<S, K>(
    store: &S,
    keys: &K,
    object: &ObjectRef,
    region: &str,
    key_time: OffsetDateTime,
    parsed: Option<&DigestFile>,
) -> Result<Vec<Finding>, CheckError>
where
    S: ObjectStore + ?Sized,
    K: PublicKeySource + ?Sized,
{
    let request = ValidationRequest {
        bucket: object.bucket.clone(),
        region: region.to_owned(),
        digests: vec![ListedDigest {
            key: object.key.clone(),
            end: key_time,
        }],
        since: key_time,
        until: key_time,
    };
    match validate(store, keys, &request) {
        Ok(walked) => Ok(walked.findings),
        // No key at all for the digest's time: the same verdict as a key
        // that is not among those listed.
        Err(ChainError::NoPublicKeys { .. }) => Ok(vec![Finding::Digest {
            object: object.clone(),
            range: TimeRange {
                start: parsed.map(|p| p.start),
                end: Some(key_time),
            },
            status: DigestStatus::PublicKeyNotFound {
                region: region.to_owned(),
                fingerprint: parsed
                    .map(|p| p.digest.digest_public_key_fingerprint.clone())
                    .unwrap_or_default(),
            },
        }]),
        Err(error) => Err(CheckError::Chain(error)),
    }
}

/// The previous digest as `file` (read from `current`) records it: `None`
/// when it matches or there is none, else the failed result.
fn check_link<S: ObjectStore + ?Sized>(
    store: &S,
    current: &ObjectRef,
    file: &DigestFile,
) -> Result<Option<Finding>, CheckError> {
    let Some(previous) = file.digest.previous() else {
        return Ok(None);
    };
    let failed = |status| {
        Some(Finding::Digest {
            object: previous.clone(),
            range: TimeRange {
                start: None,
                end: digest_key_time(&previous.key),
            },
            status,
        })
    };
    let Some(stored) = store.get(&previous)? else {
        return Ok(failed(DigestStatus::Missing));
    };
    let signature = stored.metadata.get(SIGNATURE_METADATA).cloned();
    let previous_file = match parse_digest(&previous, stored.body) {
        Ok(parsed) => parsed,
        Err(e) if e.is_format_error() => {
            return Ok(failed(DigestStatus::InvalidFormat {
                detail: e.to_string(),
            }));
        }
        Err(e) => return Err(CheckError::Digest(e)),
    };
    let differs = |recorded: &Option<String>, actual: Option<&str>| {
        recorded
            .as_deref()
            .is_some_and(|r| actual.is_none_or(|a| !r.trim().eq_ignore_ascii_case(a.trim())))
    };
    let hash = previous_file.sha256_hex();
    let field = if differs(&file.digest.previous_digest_hash_value, Some(hash.as_str())) {
        Some(LinkField::HashValue)
    } else if differs(&file.digest.previous_digest_signature, signature.as_deref()) {
        Some(LinkField::Signature)
    } else {
        None
    };
    Ok(field.and_then(|field| {
        failed(DigestStatus::ChainBroken {
            referenced_by: current.clone(),
            field,
        })
    }))
}
