//! Wall-clock time as epoch seconds, the one unit trailguard computes in.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

use crate::integrity::timestamps;

/// Seconds since the Unix epoch; 0 if the clock is before it.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `epoch_secs` as `YYYY-MM-DDTHH:MM:SSZ` (UTC); the epoch itself for a
/// time past what `time` represents.
pub fn rfc3339_utc(epoch_secs: u64) -> String {
    let at = i64::try_from(epoch_secs)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    timestamps::format_display(at)
}

/// The [`Instant`] of a Lambda context's deadline (epoch milliseconds);
/// `None` for 0, which is no deadline (a context built in a test), and for
/// a deadline already past when the invocation starts: Lambda never sends
/// one, local emulators (`cargo lambda watch`) do, and honouring it would
/// fail every file unread. The function's own timeout still applies.
pub fn lambda_deadline(deadline_ms: u64) -> Option<Instant> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    if deadline_ms <= now_ms {
        return None;
    }
    let left = Duration::from_millis(deadline_ms - now_ms);
    Some(Instant::now() + left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_714_641_243), "2024-05-02T09:14:03Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(4_107_542_399), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn only_a_future_deadline_is_a_deadline() {
        assert!(lambda_deadline(0).is_none());
        let now_ms = u64::try_from(now()).unwrap_or(0) * 1000;
        assert!(lambda_deadline(now_ms.saturating_sub(60_000)).is_none());
        let ahead = lambda_deadline(now_ms + 600_000);
        assert!(ahead.is_some_and(|d| d > Instant::now() + Duration::from_secs(500)));
    }
}
