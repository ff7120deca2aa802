//! What a CloudTrail S3 key names, and how keys arrive in S3 event notifications.
//!
//! This is the only module that knows CloudTrail's key layout:
//!
//! ```text
//! [prefix/]AWSLogs/[o-orgid/]<account>/<CloudTrail|CloudTrail-Digest|CloudTrail-Insight>/<region>/YYYY/MM/DD/<file>
//! ```
//!
//! with file names
//!
//! ```text
//! <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz                                  (log)
//! <account>_CloudTrail-Insight_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz                          (insight)
//! <account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz (digest)
//! ```
//!
//! [`classify`] turns an already-decoded key into a [`KeyInfo`]; anything that
//! does not follow the layout exactly (CloudTrail's
//! `ConfigWritabilityCheckFile`, other services' logs under `AWSLogs/`,
//! malformed accounts or dates, other extensions) is [`KeyKind::Other`], with
//! the reason in [`KeyInfo::other_reason`].
//!
//! [`decode_s3_event_key`] undoes the form-style URL encoding that S3 event
//! notifications (and EventBridge `Object Created` events) apply to keys.
//!
//! # The account in a key is only a routing hint
//!
//! The prefix, organisation, account, region and date in a key say where an
//! object was *filed*, not whose activity it records. Anyone allowed to write
//! to the bucket can choose any key, and organisation trails file every
//! member account's logs into one bucket. Use these fields to route, filter
//! and name things; attribute an event only from the record's own fields
//! (`recipientAccountId`, `userIdentity.accountId`, `awsRegion`).

use std::fmt;

/// The directory name CloudTrail writes everything under.
const ROOT: &str = "AWSLogs";
/// Every CloudTrail log, insight and digest file ends with this.
const EXTENSION: &str = ".json.gz";
/// Suffix of digest files delivered late to cover delayed log files.
const BACKFILL: &str = "_backfill";

/// What kind of CloudTrail object a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A log file of management/data events (`CloudTrail/`).
    Log,
    /// A log-file-integrity digest (`CloudTrail-Digest/`).
    Digest,
    /// An Insights events file (`CloudTrail-Insight/`).
    Insight,
    /// Anything else; see [`KeyInfo::other_reason`].
    Other,
}

/// Why a key was classified as [`KeyKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OtherReason {
    /// The key has no `AWSLogs/` directory at all.
    NotUnderAwsLogs,
    /// `AWSLogs/` is there but the segments after it do not have the
    /// account/service/region/date/file shape (e.g. `ConfigWritabilityCheckFile`).
    UnexpectedLayout,
    /// The `o-...` segment is not an organisation id (`o-` and 10-32 lowercase letters or digits).
    BadOrgId,
    /// The account segment is not 12 digits.
    BadAccount,
    /// The service directory is not `CloudTrail`, `CloudTrail-Digest` or `CloudTrail-Insight`.
    UnknownService,
    /// The region segment does not look like an AWS region.
    BadRegion,
    /// The `YYYY/MM/DD` segments are not a calendar date.
    BadDate,
    /// The file name does not follow CloudTrail's pattern for its directory
    /// (including a wrong extension).
    BadFileName,
    /// The account or region in the file name differs from the one in the path.
    NameMismatch,
}

impl fmt::Display for OtherReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotUnderAwsLogs => "not under an AWSLogs/ directory",
            Self::UnexpectedLayout => {
                "AWSLogs/ is not followed by [o-orgid/]<account>/<service>/<region>/YYYY/MM/DD/<file>"
            }
            Self::BadOrgId => "organisation segment is not o- followed by 10-32 lowercase letters or digits",
            Self::BadAccount => "account segment is not 12 digits",
            Self::UnknownService => {
                "service directory is not CloudTrail, CloudTrail-Digest or CloudTrail-Insight"
            }
            Self::BadRegion => "region segment is not an AWS region name",
            Self::BadDate => "YYYY/MM/DD segments are not a calendar date",
            Self::BadFileName => "file name does not follow CloudTrail's naming pattern",
            Self::NameMismatch => "account or region in the file name differs from the path",
        })
    }
}

/// A calendar date from a key's `YYYY/MM/DD` segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Four-digit year.
    pub year: u16,
    /// Month, 1-12.
    pub month: u8,
    /// Day of the month, 1-31 (valid for the month).
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The UTC timestamp embedded in a CloudTrail file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileTime {
    /// The date part.
    pub date: Date,
    /// Hour, 0-23.
    pub hour: u8,
    /// Minute, 0-59.
    pub minute: u8,
    /// Second, 0-59; always 0 for log and insight files, whose names stop at minutes.
    pub second: u8,
}

impl fmt::Display for FileTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            self.date, self.hour, self.minute, self.second
        )
    }
}

/// The trail-specific parts of a digest file name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DigestName {
    /// The trail's name (may contain `_`, `-` and `.`).
    pub trail_name: String,
    /// The region the trail was created in.
    pub home_region: String,
    /// Whether this is a `_backfill` digest covering log files delivered late.
    pub backfill: bool,
}

/// Everything a key says about the object it names.
///
/// For [`KeyKind::Log`], [`KeyKind::Digest`] and [`KeyKind::Insight`],
/// `account`, `region`, `date` and `file_time` are always `Some` (and `digest`
/// is `Some` for digests). For [`KeyKind::Other`] only `file_name` and
/// `other_reason` are set. See the module docs: these are routing hints only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyInfo {
    /// What the key names.
    pub kind: KeyKind,
    /// Why the key is [`KeyKind::Other`]; `None` for every other kind.
    pub other_reason: Option<OtherReason>,
    /// The trail's key prefix (the part before `/AWSLogs/`), if any.
    pub prefix: Option<String>,
    /// The organisation id (`o-...`) of an organisation trail.
    pub org_id: Option<String>,
    /// The 12-digit account the object was filed under.
    pub account: Option<String>,
    /// The region the object was filed under.
    pub region: Option<String>,
    /// The date from the `YYYY/MM/DD` segments.
    pub date: Option<Date>,
    /// The last path segment, whatever the kind.
    pub file_name: String,
    /// The timestamp embedded in the file name.
    pub file_time: Option<FileTime>,
    /// Trail name and home region, for digest files.
    pub digest: Option<DigestName>,
}

impl KeyInfo {
    /// Whether the key names a CloudTrail log file, the only kind whose
    /// records are evaluated.
    pub fn is_log(&self) -> bool {
        self.kind == KeyKind::Log
    }

    fn other(file_name: &str, reason: OtherReason) -> Self {
        Self {
            kind: KeyKind::Other,
            other_reason: Some(reason),
            prefix: None,
            org_id: None,
            account: None,
            region: None,
            date: None,
            file_name: file_name.to_owned(),
            file_time: None,
            digest: None,
        }
    }
}

/// The account a log file's name (`<account>_CloudTrail_<region>_...`) is
/// filed under, for a file met outside its `AWSLogs/` path (a local copy).
pub fn log_file_account(file_name: &str) -> Option<&str> {
    let name = parse_file_name(file_name, KeyKind::Log, "CloudTrail").ok()?;
    is_account(name.account).then_some(name.account)
}

/// Classifies an already-decoded S3 key (see [`decode_s3_event_key`] for keys
/// taken from event notifications).
pub fn classify(key: &str) -> KeyInfo {
    // `rsplit` always yields at least one item; the fallback only satisfies the type.
    let file_name = key.rsplit('/').next().unwrap_or(key);
    parse(key).unwrap_or_else(|reason| KeyInfo::other(file_name, reason))
}

fn parse(key: &str) -> Result<KeyInfo, OtherReason> {
    let segments: Vec<&str> = key.split('/').collect();
    let (root, org_id) = locate_root(&segments)?;
    let after_root = root + 1 + usize::from(org_id.is_some());
    let tail = segments.get(after_root..).unwrap_or_default();
    let &[account, service, region, year, month, day, file] = tail else {
        return Err(OtherReason::UnexpectedLayout);
    };

    if let Some(org) = org_id
        && !is_org_id(org)
    {
        return Err(OtherReason::BadOrgId);
    }
    if !is_account(account) {
        return Err(OtherReason::BadAccount);
    }
    let kind = match service {
        "CloudTrail" => KeyKind::Log,
        "CloudTrail-Digest" => KeyKind::Digest,
        "CloudTrail-Insight" => KeyKind::Insight,
        _ => return Err(OtherReason::UnknownService),
    };
    if !is_region(region) {
        return Err(OtherReason::BadRegion);
    }
    let date = parse_date(year, month, day).ok_or(OtherReason::BadDate)?;
    let name = parse_file_name(file, kind, service)?;
    if name.account != account || name.region != region {
        return Err(OtherReason::NameMismatch);
    }

    let prefix = segments
        .get(..root)
        .filter(|p| !p.is_empty())
        .map(|p| p.join("/"));
    Ok(KeyInfo {
        kind,
        other_reason: None,
        prefix,
        org_id: org_id.map(str::to_owned),
        account: Some(account.to_owned()),
        region: Some(region.to_owned()),
        date: Some(date),
        file_name: file.to_owned(),
        file_time: Some(name.time),
        digest: name.digest,
    })
}

/// Finds the `AWSLogs` segment. The layout after it has a fixed depth, so it
/// is located from the end: a prefix may itself contain `AWSLogs` or the org id.
fn locate_root<'k>(segments: &[&'k str]) -> Result<(usize, Option<&'k str>), OtherReason> {
    let n = segments.len();
    if let Some(i) = n.checked_sub(8)
        && segments.get(i) == Some(&ROOT)
    {
        return Ok((i, None));
    }
    if let Some(i) = n.checked_sub(9)
        && segments.get(i) == Some(&ROOT)
        && let Some(org) = segments.get(i + 1).filter(|s| s.starts_with("o-"))
    {
        return Ok((i, Some(org)));
    }
    if segments.contains(&ROOT) {
        Err(OtherReason::UnexpectedLayout)
    } else {
        Err(OtherReason::NotUnderAwsLogs)
    }
}

/// The parts of a file name that are checked against the path or exposed.
struct FileName<'k> {
    account: &'k str,
    region: &'k str,
    time: FileTime,
    digest: Option<DigestName>,
}

fn parse_file_name<'k>(
    file: &'k str,
    kind: KeyKind,
    service: &str,
) -> Result<FileName<'k>, OtherReason> {
    let stem = file
        .strip_suffix(EXTENSION)
        .ok_or(OtherReason::BadFileName)?;
    // account, service and region never contain `_`, so they split off the
    // front; the rest depends on the kind.
    let mut head = stem.splitn(4, '_');
    let (Some(account), Some(name_service), Some(region), Some(rest)) =
        (head.next(), head.next(), head.next(), head.next())
    else {
        return Err(OtherReason::BadFileName);
    };
    if name_service != service {
        return Err(OtherReason::BadFileName);
    }
    let (time, digest) = match kind {
        KeyKind::Digest => {
            // Trail names may contain `_`: take the fixed parts off the end.
            let (rest, backfill) = match rest.strip_suffix(BACKFILL) {
                Some(rest) => (rest, true),
                None => (rest, false),
            };
            let (rest, stamp) = rest.rsplit_once('_').ok_or(OtherReason::BadFileName)?;
            let (trail_name, home_region) =
                rest.rsplit_once('_').ok_or(OtherReason::BadFileName)?;
            if trail_name.is_empty() || !is_region(home_region) {
                return Err(OtherReason::BadFileName);
            }
            let time = parse_stamp(stamp, true).ok_or(OtherReason::BadFileName)?;
            let digest = DigestName {
                trail_name: trail_name.to_owned(),
                home_region: home_region.to_owned(),
                backfill,
            };
            (time, Some(digest))
        }
        _ => {
            let (stamp, id) = rest.split_once('_').ok_or(OtherReason::BadFileName)?;
            if id.is_empty() {
                return Err(OtherReason::BadFileName);
            }
            let time = parse_stamp(stamp, false).ok_or(OtherReason::BadFileName)?;
            (time, None)
        }
    };
    Ok(FileName {
        account,
        region,
        time,
        digest,
    })
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|id| {
        (10..=32).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Region names are dash-separated lowercase words ending in a number:
/// `us-east-1`, `us-gov-west-1`, `cn-north-1`, `eu-isoe-west-1`.
fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let all_words = parts.iter().all(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    });
    let ends_in_number = parts
        .last()
        .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    parts.len() >= 3 && all_words && ends_in_number
}

/// Parses exactly `width` ASCII digits.
fn digits<T: std::str::FromStr>(s: &str, width: usize) -> Option<T> {
    if s.len() == width && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn parse_date(year: &str, month: &str, day: &str) -> Option<Date> {
    let date = Date {
        year: digits(year, 4)?,
        month: digits(month, 2)?,
        day: digits(day, 2)?,
    };
    let leap = date.year.is_multiple_of(4)
        && (!date.year.is_multiple_of(100) || date.year.is_multiple_of(400));
    let days_in_month = match date.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month).contains(&date.day).then_some(date)
}

/// Parses `YYYYMMDDTHHMMZ`, or `YYYYMMDDTHHMMSSZ` when `with_seconds`.
fn parse_stamp(stamp: &str, with_seconds: bool) -> Option<FileTime> {
    let body = stamp.strip_suffix('Z')?;
    let (ymd, hms) = body.split_once('T')?;
    let date = parse_date(ymd.get(0..4)?, ymd.get(4..6)?, ymd.get(6..)?)?;
    let (hour, minute, second) = if with_seconds {
        (
            digits(hms.get(0..2)?, 2)?,
            digits(hms.get(2..4)?, 2)?,
            digits(hms.get(4..)?, 2)?,
        )
    } else {
        (digits(hms.get(0..2)?, 2)?, digits(hms.get(2..)?, 2)?, 0)
    };
    (hour < 24 && minute < 60 && second < 60).then_some(FileTime {
        date,
        hour,
        minute,
        second,
    })
}

/// A key from an S3 event notification that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A `%` not followed by two hex digits.
    #[error(
        "S3 event key {key:?} has a bad percent escape at byte {offset}: \
         expected % followed by two hex digits"
    )]
    BadEscape {
        /// The key as received.
        key: String,
        /// Byte offset of the `%`.
        offset: usize,
    },
    /// The decoded bytes are not UTF-8.
    #[error(
        "S3 event key {key:?} decodes to bytes that are not UTF-8; \
         S3 keys are UTF-8, so the notification is corrupt or was double-encoded"
    )]
    InvalidUtf8 {
        /// The key as received.
        key: String,
    },
}

/// Decodes a key as S3 event notifications send it: form-style URL encoding,
/// where `+` is a space and `%XX` is one byte of the UTF-8 key (`%2B` is a
/// literal `+`).
pub fn decode_s3_event_key(raw: &str) -> Result<String, KeyError> {
    if !raw.contains(['%', '+']) {
        return Ok(raw.to_owned());
    }
    let mut bytes = Vec::with_capacity(raw.len());
    let mut rest = raw.bytes().enumerate();
    while let Some((offset, b)) = rest.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hi = rest.next().and_then(|(_, h)| hex_value(h));
                let lo = rest.next().and_then(|(_, l)| hex_value(l));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(KeyError::BadEscape {
                        key: raw.to_owned(),
                        offset,
                    });
                };
                bytes.push(hi << 4 | lo);
            }
            _ => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| KeyError::InvalidUtf8 {
        key: raw.to_owned(),
    })
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests;
