//! Walking a digest chain (`integrity::validate`) over a fake CloudTrail's
//! signed digests and log files: what breaks validation and what is reported.

use std::collections::HashMap;
use std::io;

use std::io::Read;
use std::sync::OnceLock;
use testkit::cloudtrail::{FakeCloudTrail, Signer};
use time::Duration;
use time::OffsetDateTime;
use time::macros::datetime;
use trailguard_engine::integrity::chain::{ChainError, ValidationRequest, validate};
use trailguard_engine::integrity::layout::ListedDigest;
use trailguard_engine::integrity::public_keys::StaticKeys;
use trailguard_engine::integrity::public_keys::{PublicKey, PublicKeyError, PublicKeySource};
use trailguard_engine::integrity::report::{DigestStatus, Finding, TimeRange};
use trailguard_engine::integrity::signing::SIGNATURE_ALGORITHM_METADATA;
use trailguard_engine::integrity::store::{MemoryStore, StoredObject};
use trailguard_engine::integrity::store::{ObjectRef, ObjectStore, StoreError};

const SINCE: OffsetDateTime = datetime!(2023-07-10 10:30 UTC);
const UNTIL: OffsetDateTime = datetime!(2023-07-10 13:00 UTC);
const END: OffsetDateTime = datetime!(2023-07-10 12:01:31 UTC);

fn signer() -> Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| Signer::generate().unwrap()).clone()
}

fn listed(end: OffsetDateTime) -> ListedDigest {
    ListedDigest {
        key: format!("k{}", end.hour()),
        end,
    }
}

fn request(digests: Vec<ListedDigest>) -> ValidationRequest {
    ValidationRequest {
        bucket: "b".into(),
        region: "us-east-1".into(),
        digests,
        since: SINCE,
        until: UNTIL,
    }
}

/// One digest listing one log, stored; returns the request and the log.
fn one_digest(store: &mut MemoryStore) -> (ValidationRequest, ObjectRef) {
    let mut trail = FakeCloudTrail::simple("b", "t", signer());
    let log = trail
        .deliver_log(END - Duration::minutes(10), b"{\"Records\":[]}")
        .unwrap()
        .store_in(store);
    let digest = trail.deliver_digest(END).unwrap().store_in(store);
    let listing = vec![ListedDigest {
        key: digest.key,
        end: END,
    }];
    (request(listing), log)
}

struct NoKeys;
impl PublicKeySource for NoKeys {
    fn public_keys(
        &self,
        _: OffsetDateTime,
        _: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError> {
        Err(PublicKeyError::Source("unreachable".into()))
    }
}

#[test]
fn an_inverted_window_is_refused() {
    let mut bad = request(vec![]);
    std::mem::swap(&mut bad.since, &mut bad.until);
    let err = validate(&MemoryStore::new(), &NoKeys, &bad).unwrap_err();
    assert!(matches!(err, ChainError::InvalidRange { .. }), "{err}");
}

#[test]
fn nothing_listed_needs_no_keys() {
    let report = validate(&MemoryStore::new(), &NoKeys, &request(vec![])).unwrap();
    assert!(report.findings.is_empty());
}

#[test]
fn key_source_failures_stop_validation() {
    let err = validate(&MemoryStore::new(), &NoKeys, &request(vec![listed(END)])).unwrap_err();
    assert!(matches!(err, ChainError::Keys(_)), "{err}");
}

#[test]
fn a_store_failure_stops_validation() {
    struct Denied;
    impl ObjectStore for Denied {
        fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
            Err(StoreError {
                object: object.clone(),
                source: "AccessDenied".into(),
            })
        }
    }
    let keys = StaticKeys(vec![signer().public_key()]);
    let err = validate(&Denied, &keys, &request(vec![listed(END)])).unwrap_err();
    assert!(err.to_string().contains("AccessDenied"), "{err}");
}

#[test]
fn a_log_read_failure_stops_validation() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
        }
    }
    struct Flaky<'a> {
        inner: &'a MemoryStore,
        log: ObjectRef,
    }
    impl ObjectStore for Flaky<'_> {
        fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
            if *object == self.log {
                return Ok(Some(StoredObject {
                    body: Box::new(Failing),
                    metadata: HashMap::new(),
                }));
            }
            self.inner.get(object)
        }
    }
    let mut store = MemoryStore::new();
    let (request, log) = one_digest(&mut store);
    let keys = StaticKeys(vec![signer().public_key()]);
    let flaky = Flaky {
        inner: &store,
        log: log.clone(),
    };
    let err = validate(&flaky, &keys, &request).unwrap_err();
    assert!(
        matches!(&err, ChainError::Read { object, .. } if *object == log),
        "{err}"
    );
    let report = validate(&store, &keys, &request).unwrap();
    assert!(report.is_valid(), "{report}");
}

#[test]
fn an_unsupported_algorithm_is_reported() {
    let mut store = MemoryStore::new();
    let (request, _) = one_digest(&mut store);
    let digest = ObjectRef::new("b", &request.digests[0].key);
    if let Some(data) = store.data_mut(&digest) {
        data.metadata
            .insert(SIGNATURE_ALGORITHM_METADATA.into(), "SHA1withRSA".into());
    }
    let keys = StaticKeys(vec![signer().public_key()]);
    let report = validate(&store, &keys, &request).unwrap();
    assert_eq!(
        report.findings.first(),
        Some(&Finding::Digest {
            object: digest,
            range: TimeRange {
                start: Some(END - Duration::hours(1)),
                end: Some(END)
            },
            status: DigestStatus::UnsupportedAlgorithm {
                algorithm: "SHA1withRSA".into()
            },
        })
    );
}
