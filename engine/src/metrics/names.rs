//! The names of the metrics trailguard publishes, in one place: the
//! functions publish under these names, and the stack's dashboard may name
//! only these (a test reads it against [`published`]).
//!
//! Rule metrics are named by the rules themselves (`metric.name` in the
//! catalogue); everything else is named here.

use crate::rules::Catalogue;

/// Failed API calls, by `ErrorClass` and `EventSource` (ops namespace).
pub const API_ERRORS: &str = "ApiErrors";

/// Log files read by the metrics function (ops namespace).
pub const FILES_PROCESSED: &str = "FilesProcessed";
/// Deliveries that were not log files (ops namespace).
pub const FILES_SKIPPED: &str = "FilesSkipped";
/// Log files already processed (ops namespace).
pub const FILES_DUPLICATE: &str = "FilesDuplicate";
/// Log files that failed and will be retried (ops namespace).
pub const FILES_FAILED: &str = "FilesFailed";
/// Records read (ops namespace).
pub const RECORDS_PROCESSED: &str = "RecordsProcessed";
/// Records rejected as malformed (ops namespace).
pub const RECORDS_REJECTED: &str = "RecordsRejected";
/// Records counted at the file's time for want of `eventTime` (ops namespace).
pub const RECORDS_WITHOUT_EVENT_TIME: &str = "RecordsWithoutEventTime";
/// Delivery time minus the newest `eventTime` of a file (ops namespace).
pub const PROCESSING_LAG_SECONDS: &str = "ProcessingLagSeconds";
/// Findings the notifier published, by `Severity` (ops namespace).
pub const FINDINGS_PUBLISHED: &str = "FindingsPublished";

/// The dimension of [`FINDINGS_PUBLISHED`].
pub const SEVERITY_DIMENSION: &str = "Severity";

/// Digest files found authentic (rule namespace).
pub const DIGEST_FILES_VALIDATED: &str = "DigestFilesValidated";
/// Log files whose hash matched their digest (rule namespace).
pub const LOG_FILES_VALIDATED: &str = "LogFilesValidated";
/// Every integrity failure, whatever its kind (rule namespace).
pub const INTEGRITY_FAILURES: &str = "IntegrityFailures";
/// Integrity failures by kind (rule namespace).
pub const LOG_FILES_MISSING: &str = "LogFilesMissing";
/// See [`LOG_FILES_MISSING`].
pub const LOG_FILES_MODIFIED: &str = "LogFilesModified";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_FILES_MISSING: &str = "DigestFilesMissing";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_FILES_MOVED: &str = "DigestFilesMoved";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_SIGNATURES_INVALID: &str = "DigestSignaturesInvalid";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_PUBLIC_KEYS_UNKNOWN: &str = "DigestPublicKeysUnknown";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_CHAINS_BROKEN: &str = "DigestChainsBroken";
/// See [`LOG_FILES_MISSING`].
pub const DIGEST_DELIVERY_GAPS: &str = "DigestDeliveryGaps";

/// Metrics in the operational namespace (`OpsNamespace`).
pub const OPERATIONAL: [&str; 10] = [
    API_ERRORS,
    FILES_PROCESSED,
    FILES_SKIPPED,
    FILES_DUPLICATE,
    FILES_FAILED,
    RECORDS_PROCESSED,
    RECORDS_REJECTED,
    RECORDS_WITHOUT_EVENT_TIME,
    PROCESSING_LAG_SECONDS,
    FINDINGS_PUBLISHED,
];

/// Metrics the integrity function publishes in the rule namespace.
pub const INTEGRITY: [&str; 11] = [
    DIGEST_FILES_VALIDATED,
    LOG_FILES_VALIDATED,
    INTEGRITY_FAILURES,
    LOG_FILES_MISSING,
    LOG_FILES_MODIFIED,
    DIGEST_FILES_MISSING,
    DIGEST_FILES_MOVED,
    DIGEST_SIGNATURES_INVALID,
    DIGEST_PUBLIC_KEYS_UNKNOWN,
    DIGEST_CHAINS_BROKEN,
    DIGEST_DELIVERY_GAPS,
];

/// Which namespace a metric is published in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Namespace {
    /// The rule namespace (`MetricNamespace`, default `CloudTrailMetrics`).
    Rules,
    /// The operational namespace (`OpsNamespace`, default `Trailguard`).
    Ops,
    /// A namespace a rule names itself.
    Named(String),
}

/// Every metric trailguard publishes with `catalogue`'s rules.
pub fn published(catalogue: &Catalogue) -> Vec<(Namespace, String)> {
    let rules = catalogue.rules().iter().filter_map(|rule| {
        let metric = rule.spec().metric.as_ref()?;
        let namespace = match &metric.namespace {
            Some(named) => Namespace::Named(named.clone()),
            None => Namespace::Rules,
        };
        Some((namespace, metric.name.clone()))
    });
    let fixed = OPERATIONAL
        .iter()
        .map(|n| (Namespace::Ops, (*n).to_owned()))
        .chain(
            INTEGRITY
                .iter()
                .map(|n| (Namespace::Rules, (*n).to_owned())),
        );
    let mut all: Vec<_> = rules.chain(fixed).collect();
    all.sort();
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rules_publish_the_cis_metrics_beside_the_fixed_names() {
        let all = published(&Catalogue::builtin().unwrap());
        let has = |ns: Namespace, name: &str| all.contains(&(ns, name.to_owned()));
        assert!(has(Namespace::Rules, "RootAccountUsage"));
        assert!(has(Namespace::Rules, INTEGRITY_FAILURES));
        assert!(has(Namespace::Ops, FINDINGS_PUBLISHED));
        assert!(!has(Namespace::Ops, "RootAccountUsage"));
    }
}
