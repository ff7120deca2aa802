//! The outcome of a validation run: one finding per digest and log file
//! examined, counts, and a text rendering worded like
//! `aws cloudtrail validate-logs` so its output reads the same.

use std::fmt;

use time::OffsetDateTime;

use super::store::ObjectRef;
use super::timestamps::format_display;

/// The time span a finding covers, when known: a digest's
/// `digestStartTime`..`digestEndTime`, a log file's oldest..newest event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Start of the span.
    pub start: Option<OffsetDateTime>,
    /// End of the span.
    pub end: Option<OffsetDateTime>,
}

impl TimeRange {
    /// A span known only by its end (a digest known only by its key).
    pub fn ending(end: OffsetDateTime) -> TimeRange {
        TimeRange {
            start: None,
            end: Some(end),
        }
    }
}

/// Which link of the chain disagrees with the newer digest's record of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkField {
    /// `previousDigestHashValue` differs from the digest's SHA-256.
    HashValue,
    /// `previousDigestSignature` differs from the digest's signature.
    Signature,
}

/// The verdict on one digest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestStatus {
    /// Signed by CloudTrail, where CloudTrail put it, and linked as recorded.
    Valid,
    /// No object at the key (deleted, or never delivered).
    Missing,
    /// Not a gzip-compressed digest JSON; `detail` says what failed.
    InvalidFormat {
        /// The parse failure.
        detail: String,
    },
    /// The digest names a different location than the one it was read from.
    Moved {
        /// The location written inside the digest.
        recorded: ObjectRef,
    },
    /// No public key with the digest's fingerprint in the validated window.
    PublicKeyNotFound {
        /// Region whose keys were searched.
        region: String,
        /// The digest's `digestPublicKeyFingerprint`.
        fingerprint: String,
    },
    /// The public key with that fingerprint cannot be loaded.
    UnusableKey {
        /// The digest's `digestPublicKeyFingerprint`.
        fingerprint: String,
    },
    /// The object metadata names an algorithm other than `SHA256withRSA`.
    UnsupportedAlgorithm {
        /// The `signature-algorithm` metadata value.
        algorithm: String,
    },
    /// The signature is absent or does not verify.
    SignatureInvalid,
    /// Authentic, but not the digest the next newer digest chained to.
    ChainBroken {
        /// The newer digest whose `previousDigest…` fields disagree.
        referenced_by: ObjectRef,
        /// Which field disagrees.
        field: LinkField,
    },
}

/// The verdict on one log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStatus {
    /// Its SHA-256 matches the digest.
    Valid,
    /// No object at the key.
    Missing,
    /// Its SHA-256 differs from the digest's record.
    Modified,
    /// The object is not gzip.
    InvalidFormat,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A digest file examined.
    Digest {
        /// Where it was read.
        object: ObjectRef,
        /// The window it covers, as far as known.
        range: TimeRange,
        /// The verdict.
        status: DigestStatus,
    },
    /// A log file listed by a valid digest.
    Log {
        /// Where it was read.
        object: ObjectRef,
        /// Its oldest..newest event times.
        range: TimeRange,
        /// The verdict.
        status: LogStatus,
    },
    /// A chain starts afresh with older digests present: CloudTrail (or
    /// its validation) was off between `from` and `to`, so nothing was
    /// delivered. Informational, not a failure.
    Gap {
        /// End of the older chain.
        from: OffsetDateTime,
        /// Start of the newer chain.
        to: OffsetDateTime,
    },
}

impl Finding {
    /// Whether this finding is a failure.
    pub fn is_invalid(&self) -> bool {
        match self {
            Finding::Digest { status, .. } => *status != DigestStatus::Valid,
            Finding::Log { status, .. } => *status != LogStatus::Valid,
            Finding::Gap { .. } => false,
        }
    }

    /// Whether this finding is a valid digest or log file.
    pub fn is_valid(&self) -> bool {
        matches!(
            self,
            Finding::Digest {
                status: DigestStatus::Valid,
                ..
            } | Finding::Log {
                status: LogStatus::Valid,
                ..
            }
        )
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Digest { object, status, .. } => {
                write!(f, "Digest file\t{object}\t")?;
                match status {
                    DigestStatus::Valid => f.write_str("valid"),
                    DigestStatus::Missing => f.write_str("INVALID: not found"),
                    DigestStatus::InvalidFormat { .. } => f.write_str("INVALID: invalid format"),
                    DigestStatus::Moved { .. } => {
                        f.write_str("INVALID: has been moved from its original location")
                    }
                    DigestStatus::PublicKeyNotFound {
                        region,
                        fingerprint,
                    } => write!(
                        f,
                        "INVALID: public key not found in region {region} for fingerprint {fingerprint}"
                    ),
                    DigestStatus::UnusableKey { fingerprint } => write!(
                        f,
                        "INVALID: Unable to load PKCS #1 key with fingerprint {fingerprint}"
                    ),
                    DigestStatus::UnsupportedAlgorithm { algorithm } => {
                        write!(f, "INVALID: unsupported signature algorithm {algorithm}")
                    }
                    DigestStatus::SignatureInvalid => {
                        f.write_str("INVALID: signature verification failed")
                    }
                    DigestStatus::ChainBroken {
                        referenced_by,
                        field,
                    } => {
                        let what = match field {
                            LinkField::HashValue => "hash value",
                            LinkField::Signature => "signature",
                        };
                        write!(
                            f,
                            "INVALID: {what} doesn't match the previous digest recorded in {referenced_by}"
                        )
                    }
                }
            }
            Finding::Log { object, status, .. } => {
                write!(f, "Log file\t{object}\t")?;
                f.write_str(match status {
                    LogStatus::Valid => "valid",
                    LogStatus::Missing => "INVALID: not found",
                    LogStatus::Modified => "INVALID: hash value doesn't match",
                    LogStatus::InvalidFormat => "INVALID: invalid format",
                })
            }
            Finding::Gap { from, to } => write!(
                f,
                "No log files were delivered by CloudTrail between {} and {}",
                format_display(*from),
                format_display(*to)
            ),
        }
    }
}

/// Valid and invalid counts of one kind of file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Files found valid.
    pub valid: usize,
    /// Files found invalid (missing, modified, unverifiable…).
    pub invalid: usize,
}

impl Counts {
    /// Files examined.
    pub fn total(&self) -> usize {
        self.valid + self.invalid
    }
}

/// Everything one validation run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Start of the requested window.
    pub since: OffsetDateTime,
    /// End of the requested window.
    pub until: OffsetDateTime,
    /// Findings, newest digest first, each digest followed by its log files.
    pub findings: Vec<Finding>,
}

impl Report {
    /// An empty report for the window `[since, until]`.
    pub fn new(since: OffsetDateTime, until: OffsetDateTime) -> Self {
        Self {
            since,
            until,
            findings: Vec::new(),
        }
    }

    /// Adds a finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Digest file counts.
    pub fn digests(&self) -> Counts {
        self.count(|f| matches!(f, Finding::Digest { .. }))
    }

    /// Log file counts.
    pub fn logs(&self) -> Counts {
        self.count(|f| matches!(f, Finding::Log { .. }))
    }

    fn count(&self, kind: impl Fn(&Finding) -> bool) -> Counts {
        self.findings
            .iter()
            .filter(|f| kind(f))
            .fold(Counts::default(), |mut counts, f| {
                if f.is_valid() {
                    counts.valid += 1;
                } else {
                    counts.invalid += 1;
                }
                counts
            })
    }

    /// Whether nothing examined was invalid.
    pub fn is_valid(&self) -> bool {
        !self.findings.iter().any(Finding::is_invalid)
    }

    /// The failures only.
    pub fn invalid(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_invalid())
    }

    /// The span valid digests actually cover, clipped to the requested
    /// window; `None` when no digest was valid.
    pub fn found_range(&self) -> Option<(OffsetDateTime, OffsetDateTime)> {
        let valid_ranges = self.findings.iter().filter_map(|f| match f {
            Finding::Digest {
                status: DigestStatus::Valid,
                range,
                ..
            } => Some(range),
            _ => None,
        });
        let (mut start, mut end): (Option<OffsetDateTime>, Option<OffsetDateTime>) = (None, None);
        for range in valid_ranges {
            start = min_some(start, range.start);
            end = max_some(end, range.end);
        }
        Some((start?.max(self.since), end?.min(self.until)))
    }

    /// The closing summary alone.
    pub fn summary(&self) -> Summary<'_> {
        Summary(self)
    }

    /// Every finding (valid ones too) followed by the summary, like
    /// `validate-logs --verbose`.
    pub fn verbose(&self) -> Verbose<'_> {
        Verbose(self)
    }
}

fn min_some(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_some(a: Option<OffsetDateTime>, b: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Failures and gaps, one per line, then the summary.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_findings(f, self, |finding| !finding.is_valid())?;
        Summary(self).fmt(f)
    }
}

/// See [`Report::verbose`].
#[derive(Debug, Clone, Copy)]
pub struct Verbose<'a>(&'a Report);

impl fmt::Display for Verbose<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_findings(f, self.0, |_| true)?;
        Summary(self.0).fmt(f)
    }
}

fn write_findings(
    f: &mut fmt::Formatter<'_>,
    report: &Report,
    keep: impl Fn(&Finding) -> bool,
) -> fmt::Result {
    let mut wrote = false;
    for finding in report.findings.iter().filter(|finding| keep(finding)) {
        writeln!(f, "{finding}")?;
        wrote = true;
    }
    if wrote {
        writeln!(f)?;
    }
    Ok(())
}

/// See [`Report::summary`].
#[derive(Debug, Clone, Copy)]
pub struct Summary<'a>(&'a Report);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.0;
        writeln!(
            f,
            "Results requested for {} to {}",
            format_display(report.since),
            format_display(report.until)
        )?;
        let digests = report.digests();
        if digests.total() == 0 {
            return writeln!(f, "No digests found");
        }
        match report.found_range() {
            Some((start, end)) => writeln!(
                f,
                "Results found for {} to {}:",
                format_display(start),
                format_display(end)
            )?,
            None => writeln!(f, "No valid digests found in range")?,
        }
        write_ratio(f, digests, "digest")?;
        write_ratio(f, report.logs(), "log")?;
        writeln!(f)
    }
}

fn write_ratio(f: &mut fmt::Formatter<'_>, counts: Counts, name: &str) -> fmt::Result {
    let total = counts.total();
    if total == 0 {
        return Ok(());
    }
    write!(f, "\n{}/{total} {name} files valid", counts.valid)?;
    if counts.invalid > 0 {
        write!(f, ", {}/{total} {name} files INVALID", counts.invalid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn report() -> Report {
        Report::new(
            datetime!(2023-07-10 11:00 UTC),
            datetime!(2023-07-10 13:00 UTC),
        )
    }

    fn digest(hour: u8, status: DigestStatus) -> Finding {
        let end = datetime!(2023-07-10 0:30 UTC) + time::Duration::hours(hour.into());
        Finding::Digest {
            object: ObjectRef::new("b", format!("d{hour}")),
            range: TimeRange {
                start: Some(end - time::Duration::hours(1)),
                end: Some(end),
            },
            status,
        }
    }

    fn log(name: &str, status: LogStatus) -> Finding {
        Finding::Log {
            object: ObjectRef::new("b", name),
            range: TimeRange::default(),
            status,
        }
    }

    #[test]
    fn summary_mirrors_validate_logs() {
        let mut r = report();
        r.push(digest(13, DigestStatus::Valid));
        r.push(log("l1", LogStatus::Valid));
        r.push(log("l2", LogStatus::Modified));
        r.push(digest(12, DigestStatus::Valid));
        r.push(log("l3", LogStatus::Valid));
        assert_eq!(
            r.summary().to_string(),
            "Results requested for 2023-07-10T11:00:00Z to 2023-07-10T13:00:00Z\n\
             Results found for 2023-07-10T11:30:00Z to 2023-07-10T13:00:00Z:\n\
             \n\
             2/2 digest files valid\n\
             2/3 log files valid, 1/3 log files INVALID\n"
        );
        assert!(!r.is_valid());
    }

    #[test]
    fn found_range_is_clipped_to_the_request() {
        let mut r = report();
        r.push(digest(11, DigestStatus::Valid));
        r.push(digest(10, DigestStatus::Valid));
        assert_eq!(
            r.found_range(),
            Some((
                datetime!(2023-07-10 11:00 UTC),
                datetime!(2023-07-10 11:30 UTC)
            ))
        );
    }

    #[test]
    fn summary_without_digests_or_valid_digests() {
        let empty = report();
        assert!(
            empty
                .summary()
                .to_string()
                .ends_with("\nNo digests found\n")
        );
        assert!(empty.is_valid());
        let mut r = report();
        r.push(digest(12, DigestStatus::Missing));
        assert_eq!(
            r.summary().to_string(),
            "Results requested for 2023-07-10T11:00:00Z to 2023-07-10T13:00:00Z\n\
             No valid digests found in range\n\
             \n\
             0/1 digest files valid, 1/1 digest files INVALID\n"
        );
    }

    #[test]
    fn lines_use_the_validate_logs_wording() {
        let lines = [
            (
                log("k", LogStatus::Modified),
                "Log file\ts3://b/k\tINVALID: hash value doesn't match",
            ),
            (
                log("k", LogStatus::Missing),
                "Log file\ts3://b/k\tINVALID: not found",
            ),
            (
                log("k", LogStatus::InvalidFormat),
                "Log file\ts3://b/k\tINVALID: invalid format",
            ),
            (log("k", LogStatus::Valid), "Log file\ts3://b/k\tvalid"),
            (
                digest(1, DigestStatus::SignatureInvalid),
                "Digest file\ts3://b/d1\tINVALID: signature verification failed",
            ),
            (
                digest(1, DigestStatus::Missing),
                "Digest file\ts3://b/d1\tINVALID: not found",
            ),
            (
                digest(
                    1,
                    DigestStatus::Moved {
                        recorded: ObjectRef::new("b", "x"),
                    },
                ),
                "Digest file\ts3://b/d1\tINVALID: has been moved from its original location",
            ),
            (
                digest(
                    1,
                    DigestStatus::PublicKeyNotFound {
                        region: "us-east-1".into(),
                        fingerprint: "ab".into(),
                    },
                ),
                "Digest file\ts3://b/d1\tINVALID: public key not found in region us-east-1 for fingerprint ab",
            ),
            (
                digest(
                    1,
                    DigestStatus::ChainBroken {
                        referenced_by: ObjectRef::new("b", "d2"),
                        field: LinkField::HashValue,
                    },
                ),
                "Digest file\ts3://b/d1\tINVALID: hash value doesn't match the previous digest recorded in s3://b/d2",
            ),
            (
                Finding::Gap {
                    from: datetime!(2023-07-10 9:00 UTC),
                    to: datetime!(2023-07-10 11:00 UTC),
                },
                "No log files were delivered by CloudTrail between 2023-07-10T09:00:00Z and 2023-07-10T11:00:00Z",
            ),
        ];
        for (finding, line) in lines {
            assert_eq!(finding.to_string(), line);
        }
    }

    #[test]
    fn display_lists_failures_and_gaps_then_summary() {
        let mut r = report();
        r.push(digest(12, DigestStatus::Valid));
        r.push(log("gone", LogStatus::Missing));
        r.push(Finding::Gap {
            from: datetime!(2023-07-10 9:00 UTC),
            to: datetime!(2023-07-10 11:30 UTC),
        });
        let text = r.to_string();
        assert!(
            text.starts_with(
                "Log file\ts3://b/gone\tINVALID: not found\nNo log files were delivered"
            )
        );
        assert!(!text.contains("\tvalid"));
        assert!(
            r.verbose()
                .to_string()
                .starts_with("Digest file\ts3://b/d12\tvalid\n")
        );
        assert_eq!(
            r.digests(),
            Counts {
                valid: 1,
                invalid: 0
            }
        );
        assert_eq!(
            r.logs(),
            Counts {
                valid: 0,
                invalid: 1
            }
        );
        assert_eq!(r.invalid().count(), 1);
    }
}
