//! Reading and writing the three timestamp spellings integrity validation
//! meets: RFC 3339 in digest files, the compact `20150817T150131Z` form in
//! digest and log keys, and the `2015-08-17T15:01:31Z` form of reports.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// A timestamp that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a UTC timestamp like 2015-08-17T15:01:31Z")]
pub struct TimestampError {
    /// The text that failed to parse.
    pub value: String,
}

/// Parses an RFC 3339 timestamp such as `digestEndTime` (`2015-08-17T15:01:31Z`).
pub fn parse_rfc3339(value: &str) -> Result<OffsetDateTime, TimestampError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| TimestampError {
        value: value.to_owned(),
    })
}

/// Parses the compact key form `20150817T150131Z`.
pub fn parse_compact(value: &str) -> Result<OffsetDateTime, TimestampError> {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(value, format)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| TimestampError {
            value: value.to_owned(),
        })
}

/// Formats as the compact key form `20150817T150131Z` (UTC, whole seconds).
pub fn format_compact(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Formats as the minute-precision form of log file names, `20150817T1445Z`.
pub fn format_compact_minutes(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Formats as `2015-08-17T15:01:31Z` (UTC, whole seconds): the form digest
/// files and `aws cloudtrail validate-logs` output use.
pub fn format_display(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Formats the `YYYY/MM/DD` folder of a CloudTrail key.
pub fn format_day_path(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!(
        "{:04}/{:02}/{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rfc3339_round_trips_through_display_form() {
        let at = parse_rfc3339("2015-08-17T15:01:31Z").unwrap();
        assert_eq!(at, datetime!(2015-08-17 15:01:31 UTC));
        assert_eq!(format_display(at), "2015-08-17T15:01:31Z");
    }

    #[test]
    fn display_form_is_utc_and_drops_fractions() {
        let at = datetime!(2015-08-17 17:01:31.75 +02:00);
        assert_eq!(format_display(at), "2015-08-17T15:01:31Z");
    }

    #[test]
    fn compact_form_round_trips() {
        let at = parse_compact("20150817T150131Z").unwrap();
        assert_eq!(at, datetime!(2015-08-17 15:01:31 UTC));
        assert_eq!(format_compact(at), "20150817T150131Z");
        assert_eq!(format_day_path(at), "2015/08/17");
        assert_eq!(format_compact_minutes(at), "20150817T1501Z");
    }

    #[test]
    fn malformed_timestamps_name_the_text() {
        let err = parse_compact("2015-08-17").unwrap_err();
        assert_eq!(err.value, "2015-08-17");
        assert!(parse_rfc3339("yesterday").is_err());
        assert!(parse_compact("20150817T150131").is_err());
    }
}
