//! The record filters shared by `scan`, `search` and `backfill`:
//! `--since/--until` (RFC 3339 or `YYYY-MM-DD`), `--account`, `--region`.
//!
//! Time bounds work twice: files are pruned by the date in their
//! CloudTrail key (with a day's margin either side, since a file named for
//! one day can hold events from around midnight), then records are kept
//! by `eventTime` through the engine's [`RecordFilter`].

use clap::Args;
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, Time};
use trailguard_engine::keys;
use trailguard_engine::scan::RecordFilter;

/// A `--since` / `--until` value could not be read.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("`{value}` is not a time: use RFC 3339 (2023-07-10T11:45:00Z) or a UTC date (2023-07-10)")]
pub struct TimeArgError {
    /// The text given.
    pub value: String,
}

/// A point in time from the command line, remembering whether it was a bare date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeArg {
    /// The instant (midnight UTC for a bare date).
    pub at: OffsetDateTime,
    /// Whether only a date was given.
    pub date_only: bool,
}

impl TimeArg {
    /// Parses RFC 3339 or `YYYY-MM-DD`.
    pub fn parse(value: &str) -> Result<TimeArg, TimeArgError> {
        let value = value.trim();
        if let Ok(at) = OffsetDateTime::parse(value, &Rfc3339) {
            return Ok(TimeArg {
                at,
                date_only: false,
            });
        }
        let date =
            Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| {
                TimeArgError {
                    value: value.to_owned(),
                }
            })?;
        Ok(TimeArg {
            at: date.with_time(Time::MIDNIGHT).assume_utc(),
            date_only: true,
        })
    }

    /// As a start bound: the instant itself.
    pub fn as_start(self) -> OffsetDateTime {
        self.at
    }

    /// As an end bound: the instant itself, or the end of a bare date's day
    /// (so `--since 2023-07-10 --until 2023-07-10` is that whole day).
    pub fn as_end(self) -> OffsetDateTime {
        if self.date_only {
            self.at + Duration::days(1)
        } else {
            self.at
        }
    }
}

/// clap's parser for [`TimeArg`].
pub fn time_arg(value: &str) -> Result<TimeArg, String> {
    TimeArg::parse(value).map_err(|e| e.to_string())
}

/// A time window, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Inclusive start.
    pub since: Option<OffsetDateTime>,
    /// Exclusive end.
    pub until: Option<OffsetDateTime>,
}

impl Window {
    /// The window of two optional arguments.
    pub fn of(since: Option<TimeArg>, until: Option<TimeArg>) -> Window {
        Window {
            since: since.map(TimeArg::as_start),
            until: until.map(TimeArg::as_end),
        }
    }

    /// Whether a file CloudTrail filed under `key` can hold events in the
    /// window: its key date is within the window widened by a day each
    /// side. Keys without a date are kept.
    pub fn may_hold(&self, key: &str) -> bool {
        let Some(date) = keys::classify(key).date else {
            return true;
        };
        let Ok(month) = time::Month::try_from(date.month) else {
            return true;
        };
        let Ok(day) = Date::from_calendar_date(i32::from(date.year), month, date.day) else {
            return true;
        };
        let after_start = self
            .since
            .is_none_or(|since| day >= since.date() - Duration::days(1));
        let before_end = self.until.is_none_or(|until| {
            let last = (until - Duration::seconds(1)).date();
            day <= last + Duration::days(1)
        });
        after_start && before_end
    }
}

/// `--since`, `--until`, `--account`, `--region`.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only events at or after this time (RFC 3339, or a UTC date YYYY-MM-DD).
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub since: Option<TimeArg>,
    /// Only events before this time (RFC 3339), or up to the end of this UTC date (YYYY-MM-DD).
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub until: Option<TimeArg>,
    /// Only events of this account (recipientAccountId); repeatable.
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// Only events in this region (awsRegion); repeatable.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
}

impl FilterArgs {
    /// The time window.
    pub fn window(&self) -> Window {
        Window::of(self.since, self.until)
    }

    /// The engine's per-record filter.
    pub fn record_filter(&self) -> RecordFilter {
        let window = self.window();
        RecordFilter {
            since: window.since.map(OffsetDateTime::unix_timestamp),
            until: window.until.map(OffsetDateTime::unix_timestamp),
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1145Z_abc.json.gz";

    fn arg(text: &str) -> TimeArg {
        TimeArg::parse(text).unwrap()
    }

    #[test]
    fn parses_rfc3339_and_dates() {
        assert_eq!(
            arg("2023-07-10T11:45:00Z").at,
            datetime!(2023-07-10 11:45 UTC)
        );
        assert_eq!(
            arg("2023-07-10T13:45:00+02:00").at,
            datetime!(2023-07-10 11:45 UTC)
        );
        let day = arg("2023-07-10");
        assert!(day.date_only);
        assert_eq!(day.as_start(), datetime!(2023-07-10 0:00 UTC));
        assert_eq!(day.as_end(), datetime!(2023-07-11 0:00 UTC));
        assert_eq!(
            TimeArg::parse("yesterday"),
            Err(TimeArgError {
                value: "yesterday".to_owned()
            })
        );
    }

    #[test]
    fn keys_are_kept_within_a_day_of_the_window() {
        let window = |since: &str, until: &str| Window::of(Some(arg(since)), Some(arg(until)));
        assert!(window("2023-07-10", "2023-07-10").may_hold(KEY));
        assert!(window("2023-07-11", "2023-07-12").may_hold(KEY));
        assert!(window("2023-07-08", "2023-07-09").may_hold(KEY));
        assert!(!window("2023-07-12", "2023-07-13").may_hold(KEY));
        assert!(!window("2023-07-01", "2023-07-08").may_hold(KEY));
        assert!(!window("2023-07-01T00:00:00Z", "2023-07-09T00:00:00Z").may_hold(KEY));
        assert!(window("2023-07-12", "2023-07-13").may_hold("elsewhere/file.json"));
        assert!(Window::default().may_hold(KEY));
    }

    #[test]
    fn record_filter_takes_epoch_bounds_and_lists() {
        let args = FilterArgs {
            since: Some(arg("2023-07-10")),
            until: Some(arg("2023-07-10")),
            accounts: vec!["111122223333".to_owned()],
            regions: vec![],
        };
        let filter = args.record_filter();
        assert_eq!(filter.since, Some(1_688_947_200));
        assert_eq!(filter.until, Some(1_688_947_200 + 86_400));
        assert_eq!(filter.accounts, ["111122223333"]);
    }
}
