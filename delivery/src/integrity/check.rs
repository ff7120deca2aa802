//! Checking one delivered digest file: its location, public key and
//! signature and every log file it lists (through the chain walk,
//! [`trailguard_engine::integrity::validate`], limited to this one digest), then its
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

use trailguard_engine::integrity::digest::{
    DigestError, DigestFile, MAX_DIGEST_BYTES, parse_digest,
};
use trailguard_engine::integrity::layout::digest_key_time;
use trailguard_engine::integrity::report::{DigestStatus, Finding, LinkField, Report, TimeRange};
use trailguard_engine::integrity::signing::SIGNATURE_METADATA;
use trailguard_engine::integrity::store::{MemoryStore, ObjectData, StoreError, StoredObject};
use trailguard_engine::integrity::{
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
            range: TimeRange {
                start: None,
                end: Some(key_time),
            },
            status: DigestStatus::Missing,
        });
        return Ok(DigestCheck {
            report,
            authentic: None,
        });
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
    // A window of one instant: the walk judges this digest and its logs,
    // then stops before following the link, which is checked below.
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
    match validate(&overlay, keys, &request) {
        Ok(walked) => report.findings = walked.findings,
        // No key at all for the digest's time: the same verdict as a key
        // that is not among those listed.
        Err(ChainError::NoPublicKeys { .. }) => report.push(Finding::Digest {
            object: object.clone(),
            range: TimeRange {
                start: parsed.as_ref().map(|p| p.start),
                end: Some(key_time),
            },
            status: DigestStatus::PublicKeyNotFound {
                region: region.to_owned(),
                fingerprint: parsed
                    .as_ref()
                    .map(|p| p.digest.digest_public_key_fingerprint.clone())
                    .unwrap_or_default(),
            },
        }),
        Err(error) => return Err(CheckError::Chain(error)),
    }
    let digest_valid = report.findings.iter().any(|f| {
        matches!(f, Finding::Digest { object: o, status: DigestStatus::Valid, .. } if o == object)
    });
    let Some(file) = parsed.filter(|_| digest_valid) else {
        return Ok(DigestCheck {
            report,
            authentic: None,
        });
    };
    match check_link(store, object, &file)? {
        Some(broken) => {
            report.push(broken);
            Ok(DigestCheck {
                report,
                authentic: None,
            })
        }
        None => Ok(DigestCheck {
            report,
            authentic: Some(file),
        }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;
    use testkit::cloudtrail::{FakeCloudTrail, Signer};
    use time::Duration;
    use time::macros::datetime;
    use trailguard_engine::integrity::report::LogStatus;
    use trailguard_engine::integrity::{PublicKey, StaticKeys};

    const FIRST: OffsetDateTime = datetime!(2023-07-10 11:01:31 UTC);
    const SECOND: OffsetDateTime = datetime!(2023-07-10 12:01:31 UTC);

    fn signer() -> Signer {
        static SIGNER: OnceLock<Signer> = OnceLock::new();
        SIGNER.get_or_init(|| Signer::generate().unwrap()).clone()
    }

    fn keys() -> StaticKeys {
        StaticKeys(vec![signer().public_key()])
    }

    /// Two chained digests, each listing one log file.
    struct Chain {
        store: MemoryStore,
        first: ObjectRef,
        second: ObjectRef,
        first_log: ObjectRef,
        second_log: ObjectRef,
    }

    fn chain() -> Chain {
        let mut store = MemoryStore::new();
        let mut trail = FakeCloudTrail::simple("b", "main", signer());
        let first_log = trail
            .deliver_log(FIRST - Duration::minutes(20), b"{\"Records\":[1]}")
            .unwrap()
            .store_in(&mut store);
        let first = trail.deliver_digest(FIRST).unwrap().store_in(&mut store);
        let second_log = trail
            .deliver_log(SECOND - Duration::minutes(20), b"{\"Records\":[2]}")
            .unwrap()
            .store_in(&mut store);
        let second = trail.deliver_digest(SECOND).unwrap().store_in(&mut store);
        Chain {
            store,
            first,
            second,
            first_log,
            second_log,
        }
    }

    fn check(store: &MemoryStore, keys: &StaticKeys, object: &ObjectRef) -> DigestCheck {
        let at = digest_key_time(&object.key).unwrap();
        check_digest(store, keys, object, "us-east-1", at).unwrap()
    }

    fn statuses(check: &DigestCheck) -> Vec<String> {
        check
            .report
            .findings
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_valid_digest_checks_its_own_logs_and_its_link_only() {
        let chain = chain();
        let checked = check(&chain.store, &keys(), &chain.second);
        assert!(checked.report.is_valid(), "{:?}", statuses(&checked));
        assert_eq!(checked.report.digests().valid, 1);
        assert_eq!(checked.report.logs().valid, 1);
        assert!(
            checked
                .report
                .findings
                .iter()
                .all(|f| !f.to_string().contains(&chain.first_log.key))
        );
        assert_eq!(checked.authentic.map(|f| f.end), Some(SECOND));
        // The chain's first digest has no previous digest, and that is fine.
        let first = check(&chain.store, &keys(), &chain.first);
        assert!(first.report.is_valid() && first.authentic.is_some());
    }

    #[test]
    fn a_deleted_previous_digest_is_missing() {
        let mut chain = chain();
        chain.store.remove(&chain.first);
        let checked = check(&chain.store, &keys(), &chain.second);
        assert!(checked.authentic.is_none());
        assert_eq!(
            checked.report.findings.last(),
            Some(&Finding::Digest {
                object: chain.first.clone(),
                range: TimeRange {
                    start: None,
                    end: Some(FIRST)
                },
                status: DigestStatus::Missing,
            })
        );
    }

    #[test]
    fn a_replaced_previous_digest_breaks_the_chain() {
        let mut chain = chain();
        let mut forger = FakeCloudTrail::simple("b", "main", signer());
        let other = forger.deliver_digest(FIRST).unwrap();
        chain.store.put(chain.first.clone(), other.data);
        let checked = check(&chain.store, &keys(), &chain.second);
        assert!(matches!(
            checked.report.findings.last(),
            Some(Finding::Digest {
                status: DigestStatus::ChainBroken {
                    field: LinkField::HashValue,
                    ..
                },
                ..
            })
        ));
    }

    #[test]
    fn a_tampered_log_is_modified_and_a_missing_one_missing() {
        let mut chain = chain();
        if let Some(data) = chain.store.data_mut(&chain.second_log) {
            data.body = testkit::cloudtrail::gzip(b"{\"Records\":[3]}").unwrap();
        }
        let checked = check(&chain.store, &keys(), &chain.second);
        assert!(checked.report.findings.iter().any(|f| matches!(
            f,
            Finding::Log { status: LogStatus::Modified, object, .. } if *object == chain.second_log
        )));
        // The digest itself is authentic: its delivery counts.
        assert!(checked.authentic.is_some());
        chain.store.remove(&chain.second_log);
        let checked = check(&chain.store, &keys(), &chain.second);
        assert!(checked.report.findings.iter().any(|f| matches!(
            f,
            Finding::Log {
                status: LogStatus::Missing,
                ..
            }
        )));
    }

    #[test]
    fn unknown_keys_and_missing_digests_are_findings() {
        let chain = chain();
        let stranger = Signer::generate().unwrap();
        let checked = check(
            &chain.store,
            &StaticKeys(vec![stranger.public_key()]),
            &chain.second,
        );
        assert!(matches!(
            checked.report.findings.first(),
            Some(Finding::Digest { status: DigestStatus::PublicKeyNotFound { fingerprint, .. }, .. })
                if fingerprint == signer().fingerprint()
        ));
        // No key at all valid then: the same verdict, not an error.
        let expired = PublicKey {
            valid_to: Some(FIRST - Duration::days(30)),
            ..signer().public_key()
        };
        let checked = check(&chain.store, &StaticKeys(vec![expired]), &chain.second);
        assert!(matches!(
            checked.report.findings.first(),
            Some(Finding::Digest {
                status: DigestStatus::PublicKeyNotFound { .. },
                ..
            })
        ));
        let gone = ObjectRef::new("b", chain.second.key.replace("T120131Z", "T130131Z"));
        let checked = check(&chain.store, &keys(), &gone);
        assert_eq!(
            statuses(&checked),
            [format!("Digest file\t{gone}\tINVALID: not found")]
        );
    }

    #[test]
    fn a_store_failure_is_an_error() {
        struct Denied;
        impl ObjectStore for Denied {
            fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
                Err(StoreError {
                    object: object.clone(),
                    source: "NoSuchBucket".into(),
                })
            }
        }
        let chain = chain();
        let err = check_digest(&Denied, &keys(), &chain.second, "us-east-1", SECOND).unwrap_err();
        assert!(err.to_string().contains("NoSuchBucket"), "{err}");
    }
}
