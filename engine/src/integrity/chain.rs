//! Walking one trail's digest chain for one region, newest first, and
//! judging every digest and log file on the way.
//!
//! This follows `aws cloudtrail validate-logs`: start at the newest listed
//! digest; verify it (location, public key, signature); hash each log file
//! it lists; then follow `previousDigestS3Object` until a digest starts
//! before the window. When a digest is missing or invalid, or a chain
//! starts afresh, the walk resumes at the next older *listed* digest. On
//! top of that, each digest reached through a link must hash to the
//! `previousDigestHashValue`, and carry the `previousDigestSignature`, that
//! the newer digest recorded.
//!
//! The caller lists the digest keys (see [`super::layout::DigestLayout`]);
//! that list is also what lets the walk step past a deleted digest. It
//! covers the starting bucket only: should a chain lead into another
//! bucket, a failure there ends the walk.

use std::collections::{HashMap, HashSet};
use std::io;

use time::OffsetDateTime;

use super::digest::{Digest, DigestError, DigestFile, LogFileEntry, parse_digest};
use super::hashing::{is_format_error, sha256_hex_of_gzip};
use super::layout::{ListedDigest, digest_key_time};
use super::public_keys::{PublicKey, PublicKeyError, PublicKeySource};
use super::report::{DigestStatus, Finding, LinkField, LogStatus, Report, TimeRange};
use super::signing::{
    SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA, SignatureError,
    string_to_sign, verify,
};
use super::store::{ObjectRef, ObjectStore, StoreError};
use super::timestamps::{format_display, parse_rfc3339};

/// What to validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationRequest {
    /// Bucket the digests were listed in.
    pub bucket: String,
    /// Region the digests come from; its public keys verify them.
    pub region: String,
    /// The digests listed in the window, from
    /// [`super::layout::DigestLayout::select`]; any order.
    pub digests: Vec<ListedDigest>,
    /// Start of the window (inclusive).
    pub since: OffsetDateTime,
    /// End of the window (inclusive).
    pub until: OffsetDateTime,
}

/// A failure that stops validation (as opposed to a finding about a file).
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// `since` is after `until`.
    #[error("invalid time range {since} to {until}: the start must not be after the end")]
    InvalidRange {
        /// The requested start.
        since: String,
        /// The requested end.
        until: String,
    },
    /// No public key at all for the window, so nothing could be verified.
    #[error(
        "No public keys found between {start} and {end}; check the region, and that log file validation was enabled then"
    )]
    NoPublicKeys {
        /// Start of the key search.
        start: String,
        /// End of the key search.
        end: String,
    },
    /// The public key source failed.
    #[error(transparent)]
    Keys(#[from] PublicKeyError),
    /// An object could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A digest's body could not be read to the end.
    #[error(transparent)]
    Digest(DigestError),
    /// A log file's body could not be read to the end.
    #[error("reading {object} failed part-way: {source}")]
    Read {
        /// The log file.
        object: ObjectRef,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
}

/// What a newer digest recorded about the one it chains to.
struct Link {
    referrer: ObjectRef,
    hash_value: Option<String>,
    signature: Option<String>,
}

/// The next digest to examine, and how the walk reached it.
struct Step {
    object: ObjectRef,
    link: Option<Link>,
}

/// The verdict on one digest.
enum Verdict {
    Valid(Box<DigestFile>),
    Invalid(DigestStatus, TimeRange),
}

/// Where the walk is: the bucket the chain is in, the listed digests not
/// yet reached, and the start of the oldest digest judged valid.
struct Walk {
    bucket: String,
    listed: Vec<ListedDigest>,
    last_start: OffsetDateTime,
}

impl Walk {
    /// A step to a listed digest, reached without a link.
    fn listed_step(&self, digest: ListedDigest) -> Step {
        Step {
            object: ObjectRef::new(&self.bucket, digest.key),
            link: None,
        }
    }

    /// The step after the valid digest `file` at `step`: its previous
    /// digest, or, at the start of a chain, the next older listed digest,
    /// with the gap between them reported.
    fn after_valid(
        &mut self,
        step: Step,
        file: &DigestFile,
        key_time: Option<OffsetDateTime>,
        report: &mut Report,
    ) -> Option<Step> {
        if let Some(previous) = file.digest.previous() {
            // A chain that moves bucket leaves the listing behind.
            if previous.bucket != self.bucket {
                self.bucket.clone_from(&previous.bucket);
                self.listed.clear();
            }
            return Some(Step {
                object: previous,
                link: Some(Link {
                    referrer: step.object,
                    hash_value: file.digest.previous_digest_hash_value.clone(),
                    signature: file.digest.previous_digest_signature.clone(),
                }),
            });
        }
        let older = pop_older(&mut self.listed, key_time.unwrap_or(file.end))?;
        report.push(Finding::Gap {
            from: older.end,
            to: self.last_start,
        });
        Some(self.listed_step(older))
    }
}

/// Validates the digests of `request` and the log files they list.
/// The walk from the newest digest back is one loop, its stopping rules
/// next to the step they stop.
pub fn validate<S, K>(
    store: &S,
    keys: &K,
    request: &ValidationRequest,
) -> Result<Report, ChainError>
where
    S: ObjectStore + ?Sized,
    K: PublicKeySource + ?Sized,
{
    let (since, until) = (request.since, request.until);
    if since > until {
        return Err(ChainError::InvalidRange {
            since: format_display(since),
            until: format_display(until),
        });
    }
    let mut report = Report::new(since, until);
    let mut listed = request.digests.clone();
    listed.sort_by(|a, b| a.end.cmp(&b.end).then_with(|| a.key.cmp(&b.key)));
    let Some(newest) = listed.pop() else {
        return Ok(report);
    };
    // The newest listed digest may be signed up to an hour after `until`.
    let ring = load_keys(keys, since, until.max(newest.end))?;

    let mut walk = Walk {
        bucket: request.bucket.clone(),
        listed,
        last_start: newest.end,
    };
    let mut visited = HashSet::new();
    let mut next = Some(walk.listed_step(newest));
    while let Some(step) = next.take() {
        // Stop once a digest starting before the window has been seen, and
        // never loop on a chain that points back at itself.
        if walk.last_start < since || !visited.insert(step.object.clone()) {
            break;
        }
        let key_time = digest_key_time(&step.object.key);
        next = match examine(store, &ring, &request.region, &step)? {
            Verdict::Valid(file) => {
                walk.last_start = file.start;
                report.push(Finding::Digest {
                    object: step.object.clone(),
                    range: TimeRange {
                        start: Some(file.start),
                        end: Some(file.end),
                    },
                    status: DigestStatus::Valid,
                });
                check_logs(store, file.digest.log_files(), &mut report)?;
                walk.after_valid(step, &file, key_time, &mut report)
            }
            Verdict::Invalid(status, range) => {
                report.push(Finding::Digest {
                    object: step.object,
                    range,
                    status,
                });
                let before = key_time.unwrap_or(walk.last_start);
                pop_older(&mut walk.listed, before).map(|d| walk.listed_step(d))
            }
        };
    }
    Ok(report)
}

fn load_keys<K: PublicKeySource + ?Sized>(
    keys: &K,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<HashMap<String, PublicKey>, ChainError> {
    let found = keys.public_keys(start, end)?;
    if found.is_empty() {
        return Err(ChainError::NoPublicKeys {
            start: format_display(start),
            end: format_display(end),
        });
    }
    Ok(found
        .into_iter()
        .map(|key| (key.fingerprint.clone(), key))
        .collect())
}

/// The newest listed digest ending before `before`, dropping newer ones.
fn pop_older(listed: &mut Vec<ListedDigest>, before: OffsetDateTime) -> Option<ListedDigest> {
    while let Some(digest) = listed.pop() {
        if digest.end < before {
            return Some(digest);
        }
    }
    None
}

/// Judges one digest, in the order `validate-logs` checks things.
fn examine<S: ObjectStore + ?Sized>(
    store: &S,
    ring: &HashMap<String, PublicKey>,
    region: &str,
    step: &Step,
) -> Result<Verdict, ChainError> {
    let key_range = TimeRange {
        start: None,
        end: digest_key_time(&step.object.key),
    };
    let Some(stored) = store.get(&step.object)? else {
        return Ok(Verdict::Invalid(DigestStatus::Missing, key_range));
    };
    let file = match parse_digest(&step.object, stored.body) {
        Ok(file) => file,
        Err(e) if e.is_format_error() => {
            let status = DigestStatus::InvalidFormat {
                detail: e.to_string(),
            };
            return Ok(Verdict::Invalid(status, key_range));
        }
        Err(e) => return Err(ChainError::Digest(e)),
    };
    let range = TimeRange {
        start: Some(file.start),
        end: Some(file.end),
    };
    let (Some(signature), Some(algorithm)) = (
        stored.metadata.get(SIGNATURE_METADATA),
        stored.metadata.get(SIGNATURE_ALGORITHM_METADATA),
    ) else {
        return Ok(Verdict::Invalid(DigestStatus::SignatureInvalid, range));
    };
    let hash = file.sha256_hex();
    let signed = Signed {
        hash: &hash,
        signature,
        algorithm,
    };
    let status =
        signature_status(&file.digest, &signed, ring, region, &step.object).or_else(|| {
            step.link
                .as_ref()
                .and_then(|link| link_status(link, &signed))
        });
    Ok(match status {
        Some(status) => Verdict::Invalid(status, range),
        None => Verdict::Valid(Box::new(file)),
    })
}

/// What a digest object carries to be verified: its content's hash and
/// the signature and algorithm in its metadata.
struct Signed<'a> {
    hash: &'a str,
    signature: &'a str,
    algorithm: &'a str,
}

/// Why `digest`, stored at `object`, is not authentic: recorded elsewhere,
/// signed with a key not in `ring`, an unknown algorithm or a bad
/// signature; `None` when it is.
fn signature_status(
    digest: &Digest,
    signed: &Signed<'_>,
    ring: &HashMap<String, PublicKey>,
    region: &str,
    object: &ObjectRef,
) -> Option<DigestStatus> {
    if digest.digest_s3_bucket != object.bucket || digest.digest_s3_object != object.key {
        return Some(DigestStatus::Moved {
            recorded: ObjectRef::new(&digest.digest_s3_bucket, &digest.digest_s3_object),
        });
    }
    let fingerprint = &digest.digest_public_key_fingerprint;
    let Some(public_key) = ring.get(fingerprint) else {
        return Some(DigestStatus::PublicKeyNotFound {
            region: region.to_owned(),
            fingerprint: fingerprint.clone(),
        });
    };
    if !signed.algorithm.eq_ignore_ascii_case(SIGNATURE_ALGORITHM) {
        return Some(DigestStatus::UnsupportedAlgorithm {
            algorithm: signed.algorithm.to_owned(),
        });
    }
    let message = string_to_sign(digest, signed.hash);
    match verify(&public_key.der, message.as_bytes(), signed.signature) {
        Ok(()) => None,
        Err(SignatureError::UnusableKey) => Some(DigestStatus::UnusableKey {
            fingerprint: fingerprint.clone(),
        }),
        Err(SignatureError::NotHex | SignatureError::Mismatch) => {
            Some(DigestStatus::SignatureInvalid)
        }
    }
}

/// Whether the newer digest that led here recorded another hash or
/// signature for this one: the chain is broken there.
fn link_status(link: &Link, signed: &Signed<'_>) -> Option<DigestStatus> {
    let differs = |recorded: &Option<String>, actual: &str| {
        recorded
            .as_deref()
            .is_some_and(|r| !r.trim().eq_ignore_ascii_case(actual.trim()))
    };
    let field = if differs(&link.hash_value, signed.hash) {
        LinkField::HashValue
    } else if differs(&link.signature, signed.signature) {
        LinkField::Signature
    } else {
        return None;
    };
    Some(DigestStatus::ChainBroken {
        referenced_by: link.referrer.clone(),
        field,
    })
}

/// Hashes each listed log file and records its verdict.
fn check_logs<S: ObjectStore + ?Sized>(
    store: &S,
    entries: &[LogFileEntry],
    report: &mut Report,
) -> Result<(), ChainError> {
    for entry in entries {
        let object = entry.location();
        let time = |value: &Option<String>| value.as_deref().and_then(|v| parse_rfc3339(v).ok());
        let range = TimeRange {
            start: time(&entry.oldest_event_time),
            end: time(&entry.newest_event_time),
        };
        let status = match store.get(&object)? {
            None => LogStatus::Missing,
            Some(stored) => match sha256_hex_of_gzip(stored.body) {
                Ok(hash) if hash.eq_ignore_ascii_case(entry.hash_value.trim()) => LogStatus::Valid,
                Ok(_) => LogStatus::Modified,
                Err(e) if is_format_error(&e) => LogStatus::InvalidFormat,
                Err(source) => return Err(ChainError::Read { object, source }),
            },
        };
        report.push(Finding::Log {
            object,
            range,
            status,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const END: OffsetDateTime = datetime!(2023-07-10 12:01:31 UTC);

    fn listed(end: OffsetDateTime) -> ListedDigest {
        ListedDigest {
            key: format!("k{}", end.hour()),
            end,
        }
    }

    #[test]
    fn pop_older_skips_digests_at_or_after_the_bound() {
        let hours = |h: i64| END + Duration::hours(h);
        let mut list = vec![listed(hours(-2)), listed(hours(-1)), listed(hours(0))];
        assert_eq!(pop_older(&mut list, hours(-1)), Some(listed(hours(-2))));
        assert!(list.is_empty());
        assert_eq!(pop_older(&mut list, hours(5)), None);
    }
}
