//! `eventTime` to epoch seconds.
//!
//! CloudTrail writes every `eventTime` as `YYYY-MM-DDTHH:MM:SSZ`, and every
//! pass reads it for every record (time filters, metric minutes, the newest
//! event of a file). That one shape is parsed directly; anything else
//! (offsets, fractions, leap seconds, lowercase `t`/`z`) goes to a full
//! RFC 3339 parser.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Seconds since the Unix epoch of an RFC 3339 timestamp, or `None` when
/// `text` is not one.
pub(crate) fn epoch_seconds(text: &str) -> Option<i64> {
    match canonical(text.as_bytes()) {
        Some(seconds) => Some(seconds),
        None => OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(OffsetDateTime::unix_timestamp),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` with every field in range, else `None`.
fn canonical(text: &[u8]) -> Option<i64> {
    let &[
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'Z',
    ] = text
    else {
        return None;
    };
    let year = number(&[y0, y1, y2, y3])?;
    let month = number(&[mo0, mo1])?;
    let day = number(&[d0, d1])?;
    let (hour, minute, second) = (number(&[h0, h1])?, number(&[mi0, mi1])?, number(&[s0, s1])?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn number(digits: &[u8]) -> Option<i64> {
    digits.iter().try_fold(0i64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let shifted_month = (month + 9) % 12; // March = 0
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_time_crate(text: &str) -> Option<i64> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(OffsetDateTime::unix_timestamp)
    }

    #[test]
    fn the_direct_parse_agrees_with_rfc3339_on_every_day_of_four_centuries() {
        // Every day from 1900 to 2299 (leap years, century rules), at two
        // times of day, plus an out-of-range day for every month.
        let mut checked = 0;
        for year in 1900..2300 {
            for month in 1..=12 {
                for day in 1..=32 {
                    for time in ["00:00:00", "23:59:59"] {
                        let text = format!("{year:04}-{month:02}-{day:02}T{time}Z");
                        assert_eq!(canonical(text.as_bytes()), by_time_crate(&text), "{text}");
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 400 * 12 * 32 * 2);
    }

    #[test]
    fn other_shapes_are_left_to_the_full_parser() {
        for text in [
            "2023-07-10T11:45:02+02:00",
            "2023-07-10T11:45:02.123Z",
            "2023-07-10t11:45:02z",
            "2016-12-31T23:59:60Z",
            "2023-07-10T24:00:00Z",
            "2023-07-10T11:60:00Z",
            "2023-13-10T11:45:02Z",
            "2023-07-1xT11:45:02Z",
            "2023-07-10 11:45:02Z",
            "10/07/2023 11:45",
            "",
        ] {
            assert_eq!(canonical(text.as_bytes()), None, "{text}");
            assert_eq!(epoch_seconds(text), by_time_crate(text), "{text}");
        }
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("2023-07-10T11:45:02Z"), Some(1_688_989_502));
    }
}
