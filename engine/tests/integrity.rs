//! End-to-end validation of digest chains laid out in an in-memory store
//! exactly as CloudTrail delivers them, with every tampering outcome.

use std::io::Read;
use std::sync::OnceLock;

use flate2::read::MultiGzDecoder;
use testkit::cloudtrail::{FakeCloudTrail, Signer, gzip};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use trailguard_engine::integrity::report::{Counts, LinkField};
use trailguard_engine::integrity::{
    ChainError, DigestLayout, DigestStatus, Finding, LogStatus, MemoryStore, ObjectRef, Report,
    StaticKeys, ValidationRequest, validate,
};

const BUCKET: &str = "trail-bucket";
const SINCE: OffsetDateTime = datetime!(2023-07-10 10:30 UTC);
const UNTIL: OffsetDateTime = datetime!(2023-07-10 13:00 UTC);
/// End of the first digest; the next end an hour later each.
const FIRST_END: OffsetDateTime = datetime!(2023-07-10 11:01:31 UTC);

fn signer() -> Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER
        .get_or_init(|| Signer::generate().expect("RSA key generation"))
        .clone()
}

fn other_signer() -> Signer {
    static OTHER: OnceLock<Signer> = OnceLock::new();
    OTHER
        .get_or_init(|| Signer::generate().expect("RSA key generation"))
        .clone()
}

/// A trail's bucket after some hours of delivery.
struct Bucket {
    trail: FakeCloudTrail,
    store: MemoryStore,
    /// Digest locations, oldest first.
    digests: Vec<ObjectRef>,
    /// Log locations per digest, same order.
    logs: Vec<Vec<ObjectRef>>,
}

impl Bucket {
    fn new(trail: FakeCloudTrail) -> Self {
        Self {
            trail,
            store: MemoryStore::new(),
            digests: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// Delivers two log files then the digest for the hour ending at `end`.
    fn deliver_hour(&mut self, end: OffsetDateTime) {
        let mut logs = Vec::new();
        for minutes in [20, 50] {
            let at = end - Duration::hours(1) + Duration::minutes(minutes);
            let content =
                format!(r#"{{"Records":[{{"eventTime":"{at}","eventName":"PutObject"}}]}}"#);
            let log = self.trail.deliver_log(at, content.as_bytes()).unwrap();
            logs.push(log.store_in(&mut self.store));
        }
        let digest = self.trail.deliver_digest(end).unwrap();
        self.digests.push(digest.store_in(&mut self.store));
        self.logs.push(logs);
    }

    /// Lists the digests, as the S3 caller would, and validates them.
    fn validate_with(&self, keys: &StaticKeys) -> Result<Report, ChainError> {
        let layout = &self.trail.layout;
        let listed = self.store.list(BUCKET, &layout.list_prefix());
        let request = ValidationRequest {
            bucket: BUCKET.into(),
            region: layout.region.clone(),
            digests: layout.select(listed.iter().map(String::as_str), SINCE, UNTIL),
            since: SINCE,
            until: UNTIL,
        };
        validate(&self.store, keys, &request)
    }

    fn validate(&self) -> Report {
        self.validate_with(&StaticKeys(vec![signer().public_key()]))
            .unwrap()
    }

    /// Rewrites an object's uncompressed content, keeping it valid gzip.
    fn edit_content(&mut self, object: &ObjectRef, edit: impl FnOnce(&mut Vec<u8>)) {
        let data = self.store.data_mut(object).unwrap();
        let mut content = Vec::new();
        MultiGzDecoder::new(data.body.as_slice())
            .read_to_end(&mut content)
            .unwrap();
        edit(&mut content);
        data.body = gzip(&content).unwrap();
    }
}

fn hour(n: i64) -> OffsetDateTime {
    FIRST_END + Duration::hours(n)
}

/// Three hours of delivery: digests ending 11:01:31, 12:01:31, 13:01:31.
fn three_hours() -> Bucket {
    let mut bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    for n in 0..3 {
        bucket.deliver_hour(hour(n));
    }
    bucket
}

fn digest_status<'a>(report: &'a Report, object: &ObjectRef) -> Option<&'a DigestStatus> {
    report.findings.iter().find_map(|f| match f {
        Finding::Digest {
            object: o, status, ..
        } if o == object => Some(status),
        _ => None,
    })
}

fn log_status(report: &Report, object: &ObjectRef) -> Option<LogStatus> {
    report.findings.iter().find_map(|f| match f {
        Finding::Log {
            object: o, status, ..
        } if o == object => Some(*status),
        _ => None,
    })
}

fn counts(valid: usize, invalid: usize) -> Counts {
    Counts { valid, invalid }
}

#[test]
fn an_untouched_chain_of_three_is_valid() {
    let bucket = three_hours();
    let report = bucket.validate();
    assert!(report.is_valid(), "{}", report.verbose());
    assert_eq!(report.digests(), counts(3, 0));
    assert_eq!(report.logs(), counts(6, 0));
    assert_eq!(
        report.to_string(),
        "Results requested for 2023-07-10T10:30:00Z to 2023-07-10T13:00:00Z\n\
         Results found for 2023-07-10T10:30:00Z to 2023-07-10T13:00:00Z:\n\
         \n\
         3/3 digest files valid\n\
         6/6 log files valid\n"
    );
    // Newest digest first, each followed by its log files.
    let first = &report.findings[0];
    assert!(
        matches!(first, Finding::Digest { object, range, .. }
            if *object == bucket.digests[2]
            && range.start == Some(hour(1))
            && range.end == Some(hour(2))),
        "{first:?}"
    );
    let log = &report.findings[1];
    assert!(
        matches!(log, Finding::Log { object, range, .. }
            if *object == bucket.logs[2][0]
            && range.end == Some(hour(1) + Duration::minutes(20))
            && range.start == Some(hour(1) + Duration::minutes(15))),
        "{log:?}"
    );
}

#[test]
fn an_organization_trail_under_a_prefix_validates() {
    let layout = DigestLayout {
        prefix: Some("audit/ct".into()),
        organization_id: Some("o-abc123def4".into()),
        account_id: "444455556666".into(),
        region: "eu-west-1".into(),
        trail_name: "org_trail".into(),
        home_region: "us-east-1".into(),
    };
    let mut bucket = Bucket::new(FakeCloudTrail::new(BUCKET, layout, signer()));
    for n in 0..2 {
        bucket.deliver_hour(hour(n));
    }
    assert!(bucket.digests[0].key.starts_with(
        "audit/ct/AWSLogs/o-abc123def4/444455556666/CloudTrail-Digest/eu-west-1/2023/07/10/"
    ));
    assert!(bucket.logs[0][0].key.starts_with(
        "audit/ct/AWSLogs/o-abc123def4/444455556666/CloudTrail/eu-west-1/2023/07/10/444455556666_CloudTrail_eu-west-1_"
    ));
    let report = bucket.validate();
    assert_eq!(report.digests(), counts(2, 0));
    assert_eq!(report.logs(), counts(4, 0));
}

#[test]
fn a_changed_log_byte_is_reported_modified() {
    let mut bucket = three_hours();
    let target = bucket.logs[1][1].clone();
    bucket.edit_content(&target, |content| {
        if let Some(byte) = content.iter_mut().find(|b| **b == b'P') {
            *byte = b'D';
        }
    });
    let report = bucket.validate();
    assert_eq!(log_status(&report, &target), Some(LogStatus::Modified));
    assert_eq!(report.digests(), counts(3, 0));
    assert_eq!(report.logs(), counts(5, 1));
    let text = report.to_string();
    assert!(text.starts_with(&format!(
        "Log file\ts3://{BUCKET}/{}\tINVALID: hash value doesn't match\n",
        target.key
    )));
    assert!(
        text.ends_with("\n3/3 digest files valid\n5/6 log files valid, 1/6 log files INVALID\n")
    );
}

#[test]
fn a_log_that_is_no_longer_gzip_is_reported_invalid_format() {
    let mut bucket = three_hours();
    let target = bucket.logs[0][0].clone();
    bucket.store.data_mut(&target).unwrap().body.truncate(12);
    let report = bucket.validate();
    assert_eq!(log_status(&report, &target), Some(LogStatus::InvalidFormat));
    assert!(report.to_string().contains("\tINVALID: invalid format\n"));
}

#[test]
fn a_deleted_log_is_reported_missing() {
    let mut bucket = three_hours();
    let target = bucket.logs[2][0].clone();
    bucket.store.remove(&target);
    let report = bucket.validate();
    assert_eq!(log_status(&report, &target), Some(LogStatus::Missing));
    assert_eq!(report.logs(), counts(5, 1));
    assert!(report.to_string().contains(&format!(
        "Log file\ts3://{BUCKET}/{}\tINVALID: not found\n",
        target.key
    )));
}

#[test]
fn a_deleted_digest_is_missing_and_the_walk_resumes_below_it() {
    let mut bucket = three_hours();
    let target = bucket.digests[1].clone();
    bucket.store.remove(&target);
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &target),
        Some(&DigestStatus::Missing)
    );
    assert_eq!(
        digest_status(&report, &bucket.digests[2]),
        Some(&DigestStatus::Valid)
    );
    assert_eq!(
        digest_status(&report, &bucket.digests[0]),
        Some(&DigestStatus::Valid)
    );
    assert_eq!(report.digests(), counts(2, 1));
    // The deleted digest's log files can no longer be vouched for.
    assert_eq!(report.logs(), counts(4, 0));
    assert!(report.to_string().contains(&format!(
        "Digest file\ts3://{BUCKET}/{}\tINVALID: not found\n",
        target.key
    )));
    let missing = report.findings.iter().find(|f| {
        matches!(
            f,
            Finding::Digest {
                status: DigestStatus::Missing,
                ..
            }
        )
    });
    assert!(
        matches!(missing, Some(Finding::Digest { range, .. }) if range.end == Some(hour(1))),
        "{missing:?}"
    );
}

#[test]
fn a_digest_signed_with_the_wrong_key_fails_verification() {
    let mut bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    bucket.deliver_hour(hour(0));
    bucket.trail.forge_with(other_signer());
    bucket.deliver_hour(hour(1));
    bucket.trail.forge_with(signer());
    bucket.deliver_hour(hour(2));
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &bucket.digests[1]),
        Some(&DigestStatus::SignatureInvalid)
    );
    assert_eq!(report.digests(), counts(2, 1));
    assert!(report.to_string().contains(&format!(
        "Digest file\ts3://{BUCKET}/{}\tINVALID: signature verification failed\n",
        bucket.digests[1].key
    )));
}

#[test]
fn a_digest_edited_to_hide_a_log_fails_verification() {
    let mut bucket = three_hours();
    let digest = bucket.digests[2].clone();
    let hidden = bucket.logs[2][1].key.clone();
    bucket.edit_content(&digest, |content| {
        let mut json: serde_json::Value = serde_json::from_slice(content).unwrap();
        if let Some(logs) = json["logFiles"].as_array_mut() {
            logs.retain(|l| l["s3Object"] != hidden.as_str());
        }
        *content = serde_json::to_vec(&json).unwrap();
    });
    bucket.store.remove(&bucket.logs[2][1].clone());
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &digest),
        Some(&DigestStatus::SignatureInvalid)
    );
}

#[test]
fn a_digest_without_signature_metadata_fails_verification() {
    let mut bucket = three_hours();
    let digest = bucket.digests[0].clone();
    bucket.store.data_mut(&digest).unwrap().metadata.clear();
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &digest),
        Some(&DigestStatus::SignatureInvalid)
    );
}

#[test]
fn a_corrupt_digest_is_reported_invalid_format() {
    let mut bucket = three_hours();
    let digest = bucket.digests[2].clone();
    bucket.store.data_mut(&digest).unwrap().body = b"not gzip".to_vec();
    let report = bucket.validate();
    assert!(matches!(
        digest_status(&report, &digest),
        Some(DigestStatus::InvalidFormat { .. })
    ));
    assert_eq!(report.digests(), counts(2, 1));
    assert!(report.to_string().contains("\tINVALID: invalid format\n"));
}

#[test]
fn a_digest_moved_to_another_key_is_reported_moved() {
    let mut bucket = three_hours();
    let original = bucket.digests[2].clone();
    let data = bucket.store.remove(&original).unwrap();
    let layout = bucket.trail.layout.clone();
    let moved = ObjectRef::new(BUCKET, layout.digest_key(hour(2) + Duration::minutes(30)));
    bucket.store.put(moved.clone(), data);
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &moved),
        Some(&DigestStatus::Moved {
            recorded: original.clone()
        })
    );
    assert_eq!(report.digests(), counts(2, 1));
    assert!(report.to_string().contains(&format!(
        "Digest file\ts3://{BUCKET}/{}\tINVALID: has been moved from its original location\n",
        moved.key
    )));
}

#[test]
fn a_digest_replaced_by_another_is_reported_moved() {
    let mut bucket = three_hours();
    let older = bucket
        .store
        .data_mut(&bucket.digests[0].clone())
        .unwrap()
        .clone();
    let target = bucket.digests[1].clone();
    bucket.store.put(target.clone(), older);
    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &target),
        Some(&DigestStatus::Moved {
            recorded: bucket.digests[0].clone()
        })
    );
}

#[test]
fn an_unknown_fingerprint_is_reported_public_key_not_found() {
    let mut bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    bucket.deliver_hour(hour(0));
    bucket.deliver_hour(hour(1));
    bucket.trail.rotate_signer(other_signer());
    bucket.deliver_hour(hour(2));
    let report = bucket.validate();
    let fingerprint = other_signer().fingerprint().to_owned();
    assert_eq!(
        digest_status(&report, &bucket.digests[2]),
        Some(&DigestStatus::PublicKeyNotFound {
            region: "us-east-1".into(),
            fingerprint: fingerprint.clone()
        })
    );
    assert_eq!(report.digests(), counts(2, 1));
    assert!(report.to_string().contains(&format!(
        "\tINVALID: public key not found in region us-east-1 for fingerprint {fingerprint}\n"
    )));

    // With the rotated key published too, the whole chain verifies.
    let both = StaticKeys(vec![signer().public_key(), other_signer().public_key()]);
    let report = bucket.validate_with(&both).unwrap();
    assert_eq!(report.digests(), counts(3, 0));
}

#[test]
fn an_authentic_digest_off_the_chain_is_reported_chain_broken() {
    let mut bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    bucket.deliver_hour(hour(0));
    // A second delivery history sharing the key, diverging after hour 0.
    let mut fork = bucket.trail.clone();
    bucket.deliver_hour(hour(1));
    bucket.deliver_hour(hour(2));
    let log = fork
        .deliver_log(hour(1) - Duration::minutes(5), b"{\"Records\":[]}")
        .unwrap();
    log.store_in(&mut bucket.store);
    let replacement = fork.deliver_digest(hour(1)).unwrap();
    assert_eq!(replacement.object, bucket.digests[1]);
    replacement.store_in(&mut bucket.store);

    let report = bucket.validate();
    assert_eq!(
        digest_status(&report, &bucket.digests[1]),
        Some(&DigestStatus::ChainBroken {
            referenced_by: bucket.digests[2].clone(),
            field: LinkField::HashValue
        })
    );
    assert_eq!(
        digest_status(&report, &bucket.digests[0]),
        Some(&DigestStatus::Valid)
    );
    assert_eq!(report.digests(), counts(2, 1));
}

#[test]
fn a_restarted_chain_reports_the_gap() {
    let mut bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    bucket.deliver_hour(hour(0));
    bucket.trail.restart();
    bucket.deliver_hour(hour(2));
    let report = bucket.validate();
    assert!(report.is_valid(), "{report}");
    assert_eq!(report.digests(), counts(2, 0));
    assert!(report.findings.contains(&Finding::Gap {
        from: hour(0),
        to: hour(1)
    }));
    assert!(report.to_string().starts_with(
        "No log files were delivered by CloudTrail between 2023-07-10T11:01:31Z and 2023-07-10T12:01:31Z\n\n"
    ));
}

#[test]
fn no_digests_in_the_window_reports_none_found() {
    let bucket = Bucket::new(FakeCloudTrail::simple(BUCKET, "main", signer()));
    let report = bucket.validate();
    assert_eq!(
        report.to_string(),
        "Results requested for 2023-07-10T10:30:00Z to 2023-07-10T13:00:00Z\nNo digests found\n"
    );
}

#[test]
fn no_public_keys_for_the_window_is_an_error() {
    let bucket = three_hours();
    let err = bucket.validate_with(&StaticKeys(vec![])).unwrap_err();
    assert!(matches!(err, ChainError::NoPublicKeys { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("No public keys found between 2023-07-10T10:30:00Z and")
    );
}
