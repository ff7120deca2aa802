//! What the `integrity` function reports: the kinds of integrity failure,
//! the rule each kind publishes its findings under, the metric that counts
//! it, and the finding (Finding v1) built from a validation result or a
//! delivery gap.
//!
//! An integrity failure has no CloudTrail event behind it, so, like the
//! notifier's flood summary, each finding is built from a synthetic event:
//! `eventName` `trailguard:Integrity…`, the account and region the digest
//! was filed under, the digest's end time, and the details (the
//! `validate-logs` line, the trail, the digest) under `additionalEventData`.
//! Its `eventID` names the delivered digest and the file judged, so a
//! redelivery gives the same finding id and dedup holds it back.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::envelope;
use crate::findings::{Finding, RuleInfo};
use crate::integrity::gaps::DeliveryGap;
use crate::integrity::report::{self, DigestStatus, LogStatus};
use crate::integrity::store::ObjectRef;
use crate::integrity::timestamps::format_display;
use crate::metrics::names;
use crate::rules::Severity;

/// One kind of integrity failure; each has its own rule id and metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IntegrityFailure {
    /// A log file listed in a digest is gone.
    LogFileMissing,
    /// A log file's content differs from the digest's hash (or is no longer gzip).
    LogFileModified,
    /// A digest is gone: the delivered one, or the previous one it chains to.
    DigestMissing,
    /// A digest was read from another key than the one it records.
    DigestMoved,
    /// A digest's signature is absent or does not verify, or the digest
    /// cannot be read as one.
    SignatureInvalid,
    /// No CloudTrail public key has the digest's fingerprint.
    PublicKeyUnknown,
    /// The previous digest is not the one the newer digest recorded.
    ChainBroken,
    /// A region's digests stopped arriving while its trail is logging.
    DeliveryGap,
}

impl IntegrityFailure {
    /// Every kind, in metric order.
    pub const ALL: [IntegrityFailure; 8] = [
        IntegrityFailure::LogFileMissing,
        IntegrityFailure::LogFileModified,
        IntegrityFailure::DigestMissing,
        IntegrityFailure::DigestMoved,
        IntegrityFailure::SignatureInvalid,
        IntegrityFailure::PublicKeyUnknown,
        IntegrityFailure::ChainBroken,
        IntegrityFailure::DeliveryGap,
    ];

    /// The kind of a failed validation result; `None` for valid files and
    /// for chain restarts (which are not failures).
    pub fn of(finding: &report::Finding) -> Option<IntegrityFailure> {
        match finding {
            report::Finding::Log { status, .. } => match status {
                LogStatus::Valid => None,
                LogStatus::Missing => Some(IntegrityFailure::LogFileMissing),
                LogStatus::Modified | LogStatus::InvalidFormat => {
                    Some(IntegrityFailure::LogFileModified)
                }
            },
            report::Finding::Digest { status, .. } => match status {
                DigestStatus::Valid => None,
                DigestStatus::Missing => Some(IntegrityFailure::DigestMissing),
                DigestStatus::Moved { .. } => Some(IntegrityFailure::DigestMoved),
                DigestStatus::PublicKeyNotFound { .. } => Some(IntegrityFailure::PublicKeyUnknown),
                DigestStatus::ChainBroken { .. } => Some(IntegrityFailure::ChainBroken),
                DigestStatus::InvalidFormat { .. }
                | DigestStatus::UnusableKey { .. }
                | DigestStatus::UnsupportedAlgorithm { .. }
                | DigestStatus::SignatureInvalid => Some(IntegrityFailure::SignatureInvalid),
            },
            report::Finding::Gap { .. } => None,
        }
    }

    /// The CloudWatch metric counting this kind.
    pub fn metric_name(self) -> &'static str {
        match self {
            IntegrityFailure::LogFileMissing => names::LOG_FILES_MISSING,
            IntegrityFailure::LogFileModified => names::LOG_FILES_MODIFIED,
            IntegrityFailure::DigestMissing => names::DIGEST_FILES_MISSING,
            IntegrityFailure::DigestMoved => names::DIGEST_FILES_MOVED,
            IntegrityFailure::SignatureInvalid => names::DIGEST_SIGNATURES_INVALID,
            IntegrityFailure::PublicKeyUnknown => names::DIGEST_PUBLIC_KEYS_UNKNOWN,
            IntegrityFailure::ChainBroken => names::DIGEST_CHAINS_BROKEN,
            IntegrityFailure::DeliveryGap => names::DIGEST_DELIVERY_GAPS,
        }
    }

    /// The `eventName` of the synthetic event behind the finding.
    fn event_name(self) -> &'static str {
        match self {
            IntegrityFailure::LogFileMissing => "trailguard:IntegrityLogFileMissing",
            IntegrityFailure::LogFileModified => "trailguard:IntegrityLogFileModified",
            IntegrityFailure::DigestMissing => "trailguard:IntegrityDigestMissing",
            IntegrityFailure::DigestMoved => "trailguard:IntegrityDigestMoved",
            IntegrityFailure::SignatureInvalid => "trailguard:IntegritySignatureInvalid",
            IntegrityFailure::PublicKeyUnknown => "trailguard:IntegrityPublicKeyUnknown",
            IntegrityFailure::ChainBroken => "trailguard:IntegrityChainBroken",
            IntegrityFailure::DeliveryGap => "trailguard:IntegrityDeliveryGap",
        }
    }

    /// The rule findings of this kind are published under.
    pub fn rule(self) -> RuleInfo {
        // T1565.001: stored data manipulation; T1070: indicator removal;
        // T1562.008: disabling cloud logs.
        let (id, title, description, references): (&str, &str, &str, &[&str]) = match self {
            IntegrityFailure::LogFileMissing => (
                "trailguard-integrity-log-file-missing",
                "CloudTrail log file deleted",
                "A log file listed in a signed CloudTrail digest no longer exists where CloudTrail delivered it.",
                &["attack:T1070"],
            ),
            IntegrityFailure::LogFileModified => (
                "trailguard-integrity-log-file-modified",
                "CloudTrail log file modified",
                "A log file's SHA-256 (over its uncompressed content) differs from the hash its signed digest records.",
                &["attack:T1565.001", "attack:T1070"],
            ),
            IntegrityFailure::DigestMissing => (
                "trailguard-integrity-digest-missing",
                "CloudTrail digest file missing",
                "A digest file is gone: the one announced, or the previous digest a signed digest chains to.",
                &["attack:T1070"],
            ),
            IntegrityFailure::DigestMoved => (
                "trailguard-integrity-digest-moved",
                "CloudTrail digest file moved",
                "A digest file was found at another location than the one recorded inside it.",
                &["attack:T1565.001", "attack:T1070"],
            ),
            IntegrityFailure::SignatureInvalid => (
                "trailguard-integrity-signature-invalid",
                "CloudTrail digest signature invalid",
                "A digest file's SHA256withRSA signature is absent or does not verify, or the file cannot be read as a digest.",
                &["attack:T1565.001"],
            ),
            IntegrityFailure::PublicKeyUnknown => (
                "trailguard-integrity-public-key-unknown",
                "CloudTrail digest signed with an unknown key",
                "No CloudTrail public key of the region has the fingerprint the digest file names.",
                &["attack:T1565.001"],
            ),
            IntegrityFailure::ChainBroken => (
                "trailguard-integrity-chain-broken",
                "CloudTrail digest chain broken",
                "The previous digest file differs from the hash or signature the newer digest recorded for it.",
                &["attack:T1565.001", "attack:T1070"],
            ),
            IntegrityFailure::DeliveryGap => (
                "trailguard-integrity-delivery-gap",
                "CloudTrail digest delivery stopped",
                "No digest file arrived from a region for longer than the configured gap while its trail is logging; CloudTrail delivers one every hour.",
                &["attack:T1562.008", "attack:T1070"],
            ),
        };
        RuleInfo {
            id: id.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            severity: Severity::High,
            references: references.iter().map(|r| (*r).to_owned()).collect(),
            engine: "trailguard",
        }
    }
}

/// The delivered digest a validation result belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestContext {
    /// Where the digest was delivered.
    pub digest: ObjectRef,
    /// The account it was filed under.
    pub account: String,
    /// The region it was filed under.
    pub region: String,
    /// The trail named in its file name.
    pub trail: String,
    /// Its end time (from the key).
    pub end: OffsetDateTime,
}

/// The finding for a failed validation result of the digest in `context`;
/// `None` when `result` is not a failure.
pub fn validation_finding(result: &report::Finding, context: &DigestContext) -> Option<Finding> {
    let kind = IntegrityFailure::of(result)?;
    let subject = match result {
        report::Finding::Digest { object, .. } | report::Finding::Log { object, .. } => object,
        report::Finding::Gap { .. } => return None,
    };
    let event = json!({
        "eventID": format!("integrity:{}#{}", context.digest, subject),
        "eventTime": format_display(context.end),
        "eventName": kind.event_name(),
        "awsRegion": context.region,
        "recipientAccountId": context.account,
        "additionalEventData": {
            "trail": context.trail,
            "digestFile": context.digest.to_string(),
            "file": subject.to_string(),
            "result": result.to_string(),
        },
    });
    let file = envelope::ObjectRef::new(&subject.bucket, &subject.key);
    Some(Finding::new(kind.rule(), &event, Some(&file)))
}

/// Where a delivery gap was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapContext {
    /// The account.
    pub account: String,
    /// The trail.
    pub trail: String,
    /// The newest digest delivered, when any was recorded.
    pub newest_digest: Option<String>,
    /// The gap threshold.
    pub threshold: Duration,
}

/// The finding for a delivery gap seen at `now`.
///
/// Its id names the region and the newest digest's end, so a gap is
/// reported once, not at every check, until a newer digest arrives.
pub fn gap_finding(gap: &DeliveryGap, context: &GapContext, now: OffsetDateTime) -> Finding {
    let kind = IntegrityFailure::DeliveryGap;
    let newest = gap.newest_digest_end.map(format_display);
    let event = json!({
        "eventID": format!(
            "integrity-gap:{}|{}|{}|{}",
            context.account,
            gap.region,
            context.trail,
            newest.as_deref().unwrap_or("none")
        ),
        "eventTime": format_display(now),
        "eventName": kind.event_name(),
        "awsRegion": gap.region,
        "recipientAccountId": context.account,
        "additionalEventData": {
            "trail": context.trail,
            "newestDigestEnd": newest,
            "newestDigestFile": context.newest_digest,
            "silentForSeconds": gap.silent_for.map(|d| d.whole_seconds()),
            "thresholdSeconds": context.threshold.whole_seconds(),
        },
    });
    Finding::new(kind.rule(), &event, None)
}

/// Valid and failed counts of one invocation, for the metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Digest files found valid.
    pub digests_valid: u64,
    /// Log files found valid.
    pub logs_valid: u64,
    /// Failures per kind.
    pub failures: std::collections::BTreeMap<IntegrityFailure, u64>,
}

impl Tally {
    /// Counts one validation result.
    pub fn count(&mut self, result: &report::Finding) {
        match (result.is_valid(), result, IntegrityFailure::of(result)) {
            (true, report::Finding::Digest { .. }, _) => self.digests_valid += 1,
            (true, report::Finding::Log { .. }, _) => self.logs_valid += 1,
            (_, _, Some(kind)) => self.add(kind, 1),
            _ => {}
        }
    }

    /// Adds `n` failures of `kind`.
    pub fn add(&mut self, kind: IntegrityFailure, n: u64) {
        *self.failures.entry(kind).or_default() += n;
    }

    /// Adds another tally into this one.
    pub fn merge(&mut self, other: &Tally) {
        self.digests_valid += other.digests_valid;
        self.logs_valid += other.logs_valid;
        for (kind, n) in &other.failures {
            self.add(*kind, *n);
        }
    }

    /// Failures of every kind together.
    pub fn total_failures(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Failures of `kind`.
    pub fn failures_of(&self, kind: IntegrityFailure) -> u64 {
        self.failures.get(&kind).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::integrity::report::TimeRange;
    use time::macros::datetime;

    fn context() -> DigestContext {
        DigestContext {
            digest: ObjectRef::new(
                "b",
                "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/d.json.gz",
            ),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            trail: "main".into(),
            end: datetime!(2023-07-10 12:01:31 UTC),
        }
    }

    fn log(status: LogStatus) -> report::Finding {
        report::Finding::Log {
            object: ObjectRef::new("b", "AWSLogs/l.json.gz"),
            range: TimeRange::default(),
            status,
        }
    }

    #[test]
    fn every_kind_has_its_own_rule_and_metric() {
        let ids: std::collections::BTreeSet<String> =
            IntegrityFailure::ALL.iter().map(|k| k.rule().id).collect();
        let metrics: std::collections::BTreeSet<&str> = IntegrityFailure::ALL
            .iter()
            .map(|k| k.metric_name())
            .collect();
        assert_eq!((ids.len(), metrics.len()), (8, 8));
        for kind in IntegrityFailure::ALL {
            let rule = kind.rule();
            assert!(rule.id.starts_with("trailguard-integrity-"), "{}", rule.id);
            assert_eq!(rule.severity, Severity::High);
            assert!(rule.references.iter().all(|r| r.starts_with("attack:T")));
        }
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(IntegrityFailure::of(&log(LogStatus::Valid)), None);
        assert_eq!(
            IntegrityFailure::of(&log(LogStatus::InvalidFormat)),
            Some(IntegrityFailure::LogFileModified)
        );
        let digest = |status| report::Finding::Digest {
            object: ObjectRef::new("b", "d"),
            range: TimeRange::default(),
            status,
        };
        assert_eq!(
            IntegrityFailure::of(&digest(DigestStatus::UnsupportedAlgorithm {
                algorithm: "MD5withRSA".into()
            })),
            Some(IntegrityFailure::SignatureInvalid)
        );
        assert_eq!(
            IntegrityFailure::of(&digest(DigestStatus::PublicKeyNotFound {
                region: "r".into(),
                fingerprint: "f".into()
            })),
            Some(IntegrityFailure::PublicKeyUnknown)
        );
    }

    fn raw_event(finding: &Finding) -> serde_json::Value {
        serde_json::from_str(finding.event.raw_event()).unwrap()
    }

    #[test]
    fn a_validation_finding_names_the_digest_and_the_file() {
        let finding = validation_finding(&log(LogStatus::Modified), &context()).unwrap();
        assert_eq!(finding.rule.id, "trailguard-integrity-log-file-modified");
        assert_eq!(finding.account(), Some("111122223333"));
        assert_eq!(finding.region(), Some("us-east-1"));
        assert_eq!(finding.event.time.as_deref(), Some("2023-07-10T12:01:31Z"));
        assert_eq!(
            finding
                .log_file
                .as_deref()
                .map(ToString::to_string)
                .as_deref(),
            Some("s3://b/AWSLogs/l.json.gz")
        );
        assert_eq!(
            raw_event(&finding)["additionalEventData"]["result"],
            "Log file\ts3://b/AWSLogs/l.json.gz\tINVALID: hash value doesn't match"
        );
        // The same result for the same digest is the same finding.
        let again = validation_finding(&log(LogStatus::Modified), &context()).unwrap();
        assert_eq!(finding.id, again.id);
        let mut other = context();
        other.digest.key.push('x');
        assert_ne!(
            finding.id,
            validation_finding(&log(LogStatus::Modified), &other)
                .unwrap()
                .id
        );
        assert!(validation_finding(&log(LogStatus::Valid), &context()).is_none());
    }

    #[test]
    fn a_gap_finding_is_stable_until_a_newer_digest_arrives() {
        let context = GapContext {
            account: "111122223333".into(),
            trail: "main".into(),
            newest_digest: Some("s3://b/d".into()),
            threshold: Duration::hours(3),
        };
        let gap = DeliveryGap {
            region: "eu-west-1".into(),
            newest_digest_end: Some(datetime!(2023-07-10 8:01:31 UTC)),
            silent_for: Some(Duration::hours(5)),
        };
        let now = datetime!(2023-07-10 13:00 UTC);
        let first = gap_finding(&gap, &context, now);
        let later = gap_finding(&gap, &context, now + Duration::hours(1));
        assert_eq!(first.id, later.id);
        assert_eq!(first.rule.id, "trailguard-integrity-delivery-gap");
        assert_eq!(first.region(), Some("eu-west-1"));
        assert_eq!(
            raw_event(&first)["additionalEventData"]["silentForSeconds"],
            18_000
        );
        let newer = DeliveryGap {
            newest_digest_end: Some(datetime!(2023-07-10 9:01:31 UTC)),
            ..gap
        };
        assert_ne!(first.id, gap_finding(&newer, &context, now).id);
    }

    #[test]
    fn tallies_count_and_merge() {
        let mut a = Tally::default();
        a.count(&log(LogStatus::Valid));
        a.count(&log(LogStatus::Missing));
        let mut b = Tally::default();
        b.count(&log(LogStatus::Missing));
        b.add(IntegrityFailure::DeliveryGap, 2);
        a.merge(&b);
        assert_eq!(a.logs_valid, 1);
        assert_eq!(a.failures_of(IntegrityFailure::LogFileMissing), 2);
        assert_eq!(a.total_failures(), 4);
    }
}
