//! Checking one delivered digest (`integrity::digest_check`) against a fake
//! CloudTrail's signed chain: valid, tampered, missing, relinked.

use std::sync::OnceLock;
use testkit::cloudtrail::{FakeCloudTrail, Signer};
use time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;
use trailguard_engine::integrity::digest_check::*;
use trailguard_engine::integrity::layout::digest_key_time;
use trailguard_engine::integrity::report::LogStatus;
use trailguard_engine::integrity::report::{DigestStatus, Finding, LinkField, TimeRange};
use trailguard_engine::integrity::store::{
    MemoryStore, ObjectRef, ObjectStore, StoreError, StoredObject,
};
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
