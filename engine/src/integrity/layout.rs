//! Where CloudTrail puts one trail's digest files for one region, and
//! which listed keys fall in a validation window.
//!
//! Digest keys have the form
//! `[prefix/]AWSLogs/[o-org/]<account>/CloudTrail-Digest/<region>/YYYY/MM/DD/<account>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHMMSSZ>.json.gz`,
//! the timestamp being the digest's end time. Listing is the caller's job
//! (it owns the S3 client): list [`DigestLayout::list_prefix`] starting
//! after [`DigestLayout::start_after`], then keep what
//! [`DigestLayout::select`] returns.

use time::{Duration, OffsetDateTime};

use super::timestamps::{format_compact, format_day_path, parse_compact};

/// Length of the compact timestamp `YYYYMMDDTHHMMSSZ` in a key.
const STAMP_LEN: usize = 16;

/// Suffix of every digest key.
const SUFFIX: &str = ".json.gz";

/// One trail's digest location for one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestLayout {
    /// The trail's S3 key prefix, without trailing `/` (`None` when unset).
    pub prefix: Option<String>,
    /// Organization id (`o-…`) for an organization trail.
    pub organization_id: Option<String>,
    /// The account whose digests these are.
    pub account_id: String,
    /// The region the digests were delivered from.
    pub region: String,
    /// The trail name.
    pub trail_name: String,
    /// The trail's home region.
    pub home_region: String,
}

/// A digest key found by listing, with the end time its name carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDigest {
    /// The object key.
    pub key: String,
    /// The end time encoded in the key.
    pub end: OffsetDateTime,
}

impl DigestLayout {
    /// `[prefix/]AWSLogs/[o-org/]<account>/`: the root of the account's delivery.
    fn account_root(&self) -> String {
        let mut out = String::new();
        if let Some(prefix) = self.prefix.as_deref().filter(|p| !p.is_empty()) {
            out.push_str(prefix.trim_end_matches('/'));
            out.push('/');
        }
        out.push_str("AWSLogs/");
        if let Some(org) = &self.organization_id {
            out.push_str(org);
            out.push('/');
        }
        out.push_str(&self.account_id);
        out.push('/');
        out
    }

    /// The key prefix under which this region's digests are listed.
    pub fn list_prefix(&self) -> String {
        format!("{}CloudTrail-Digest/{}/", self.account_root(), self.region)
    }

    /// The key prefix of this region's log files (same account and prefix).
    pub fn log_prefix(&self) -> String {
        format!("{}CloudTrail/{}/", self.account_root(), self.region)
    }

    fn file_prefix(&self) -> String {
        format!(
            "{}_CloudTrail-Digest_{}_{}_{}_",
            self.account_id, self.region, self.trail_name, self.home_region
        )
    }

    /// The key CloudTrail gives the digest ending at `end`.
    pub fn digest_key(&self, end: OffsetDateTime) -> String {
        format!(
            "{}{}/{}{}{}",
            self.list_prefix(),
            format_day_path(end),
            self.file_prefix(),
            format_compact(end),
            SUFFIX
        )
    }

    /// A `StartAfter` for listing from `since`: the key a digest ending one
    /// minute earlier would have, so a digest ending exactly at `since` is
    /// listed.
    pub fn start_after(&self, since: OffsetDateTime) -> String {
        self.digest_key(since - Duration::minutes(1))
    }

    /// The end time named by `key` if it is one of this trail's digest keys
    /// in this region.
    pub fn parse_key(&self, key: &str) -> Option<OffsetDateTime> {
        let rest = key.strip_prefix(&self.list_prefix())?;
        let file = file_after_day_path(rest)?;
        let stamped = file.strip_prefix(&self.file_prefix())?;
        stamp_of(stamped)
    }

    /// The keys of this trail's digests that can hold log files delivered
    /// in `[since, until]`, oldest first: those ending from `since` to one
    /// hour after `until` (a digest covers the hour before its end). Keys of
    /// other trails or regions are skipped.
    pub fn select<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a str>,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Vec<ListedDigest> {
        let last = until + Duration::hours(1);
        let mut found: Vec<ListedDigest> = keys
            .into_iter()
            .filter_map(|key| {
                let end = self.parse_key(key)?;
                (end >= since && end <= last).then(|| ListedDigest {
                    key: key.to_owned(),
                    end,
                })
            })
            .collect();
        found.sort_by(|a, b| a.end.cmp(&b.end).then_with(|| a.key.cmp(&b.key)));
        found
    }
}

/// The end time named by any digest key, whoever's it is: the timestamp
/// that closes the file name (`…_20150817T150131Z.json.gz`, or with a
/// `_backfill` marker after it).
pub fn digest_key_time(key: &str) -> Option<OffsetDateTime> {
    let file = key.rsplit('/').next()?;
    let name = file.strip_suffix(SUFFIX)?;
    let name = name.strip_suffix("_backfill").unwrap_or(name);
    let start = name.len().checked_sub(STAMP_LEN)?;
    parse_compact(name.get(start..)?).ok()
}

/// The file name after the `YYYY/MM/DD/` folders, if `rest` has that shape.
fn file_after_day_path(rest: &str) -> Option<&str> {
    let mut parts = rest.splitn(4, '/');
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    for _ in 0..3 {
        if !digits(parts.next()?) {
            return None;
        }
    }
    parts.next().filter(|file| !file.contains('/'))
}

/// The end time at the start of `<stamp>[anything].json.gz`.
fn stamp_of(stamped: &str) -> Option<OffsetDateTime> {
    if !stamped.ends_with(SUFFIX) {
        return None;
    }
    parse_compact(stamped.get(..STAMP_LEN)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn layout() -> DigestLayout {
        DigestLayout {
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            region: "us-east-2".into(),
            trail_name: "your-trail-name".into(),
            home_region: "us-east-2".into(),
        }
    }

    const DOC_KEY: &str = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz";

    #[test]
    fn builds_the_documented_key() {
        assert_eq!(
            layout().digest_key(datetime!(2015-08-17 15:01:31 UTC)),
            DOC_KEY
        );
    }

    #[test]
    fn prefix_and_organization_go_before_the_account() {
        let org = DigestLayout {
            prefix: Some("logs/".into()),
            organization_id: Some("o-abc123".into()),
            ..layout()
        };
        assert_eq!(
            org.list_prefix(),
            "logs/AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-2/"
        );
        assert_eq!(
            org.log_prefix(),
            "logs/AWSLogs/o-abc123/111122223333/CloudTrail/us-east-2/"
        );
        let key = org.digest_key(datetime!(2015-08-17 15:01:31 UTC));
        assert_eq!(
            org.parse_key(&key),
            Some(datetime!(2015-08-17 15:01:31 UTC))
        );
        assert_eq!(layout().parse_key(&key), None);
    }

    #[test]
    fn parses_own_keys_only() {
        assert_eq!(
            layout().parse_key(DOC_KEY),
            Some(datetime!(2015-08-17 15:01:31 UTC))
        );
        let other_trail = DOC_KEY.replace("your-trail-name", "other");
        assert_eq!(layout().parse_key(&other_trail), None);
        let log_key = "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/notes.txt";
        assert_eq!(layout().parse_key(log_key), None);
        let nested = DOC_KEY.replace("/17/", "/17/x/");
        assert_eq!(layout().parse_key(&nested), None);
    }

    #[test]
    fn start_after_sorts_just_before_a_digest_ending_at_since() {
        let since = datetime!(2015-08-17 15:01:31 UTC);
        let marker = layout().start_after(since);
        assert!(marker.as_str() < DOC_KEY);
        assert!(marker.ends_with("_20150817T150031Z.json.gz"));
    }

    #[test]
    fn select_keeps_the_window_plus_an_hour_oldest_first() {
        let l = layout();
        let at = |h: u8| l.digest_key(datetime!(2023-07-10 0:30 UTC) + Duration::hours(h.into()));
        let keys = [at(14), at(10), at(11), at(12), at(13), at(15)];
        let other = DOC_KEY.replace("your-trail-name", "other");
        let picked = l.select(
            keys.iter().map(String::as_str).chain([other.as_str()]),
            datetime!(2023-07-10 11:00 UTC),
            datetime!(2023-07-10 13:00 UTC),
        );
        let hours: Vec<u8> = picked.iter().map(|d| d.end.hour()).collect();
        assert_eq!(hours, [11, 12, 13]);
    }

    #[test]
    fn any_digest_key_names_its_time() {
        assert_eq!(
            digest_key_time(DOC_KEY),
            Some(datetime!(2015-08-17 15:01:31 UTC))
        );
        let backfill = DOC_KEY.replace(".json.gz", "_backfill.json.gz");
        assert_eq!(
            digest_key_time(&backfill),
            Some(datetime!(2015-08-17 15:01:31 UTC))
        );
        assert_eq!(digest_key_time("a/b.json.gz"), None);
        assert_eq!(digest_key_time("a/b"), None);
    }
}
