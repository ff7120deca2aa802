//! The circuit breaker capping how many changes the remediator makes per
//! account per time window.
//!
//! Windows are fixed: the window of time `now` starts at
//! `floor(now / window_secs) * window_secs`. Once `max_actions` changes
//! were made in an account's window, every further change in that window is
//! refused ([`Admission::Tripped`]) until the next window starts. A fixed
//! window lets up to twice `max_actions` through around a boundary; in
//! exchange the counter is a single item per window, with no history to read.
//!
//! Only real changes are counted. Dry runs and skips never touch the
//! counter, and a change that fails after admission keeps its count, so a
//! broken executor trips the breaker rather than retrying forever.
//!
//! # The DynamoDB counter
//!
//! One item per account per window, in a table whose partition key is the
//! string attribute `pk` and whose TTL attribute is `expiresAt`:
//!
//! - `pk` = [`RateLimit::counter_key`]: `rate#<account>#<window start epoch>`;
//! - `count` (N): changes admitted in the window;
//! - `expiresAt` (N): one window after the window's end, so DynamoDB's TTL
//!   deletes stale counters.
//!
//! Admission is one conditional `UpdateItem`, built by
//! [`RateLimit::counter_update`]:
//!
//! ```text
//! UpdateExpression:    ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)
//! ConditionExpression: attribute_not_exists(#count) OR #count < :max
//! ```
//!
//! (`count` is a DynamoDB reserved word, hence the `#count` name
//! placeholder.) Success admits the change; the counter already holds it.
//! `ConditionalCheckFailedException` means the window is full:
//! [`RateLimit::tripped`]. The condition and the increment are one atomic
//! write, so concurrent invocations cannot overshoot `max_actions`.

use serde::{Deserialize, Serialize};

/// Maximum number of changes per account per window.
pub const VAR_MAX_ACTIONS: &str = "TRAILGUARD_RATE_MAX_ACTIONS";
/// Window length in seconds.
pub const VAR_WINDOW_SECS: &str = "TRAILGUARD_RATE_WINDOW_SECS";

/// Default [`VAR_MAX_ACTIONS`].
pub const DEFAULT_MAX_ACTIONS: u32 = 10;
/// Default [`VAR_WINDOW_SECS`]: one hour.
pub const DEFAULT_WINDOW_SECS: u64 = 3600;

/// At most `max_actions` changes per account per `window_secs`; both are
/// at least 1 ([`RateLimit::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    max_actions: u32,
    window_secs: u64,
}

/// Whether a change may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "admission",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Admission {
    /// Below the limit.
    Allowed,
    /// The window is full.
    Tripped {
        /// When the next window starts (epoch seconds).
        until_epoch: u64,
    },
}

/// A rate limit setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RateLimitError {
    /// A variable is not a whole number.
    #[error("{var}={value} is not a whole number")]
    NotNumber {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// Zero changes per window.
    #[error(
        "{VAR_MAX_ACTIONS} must be at least 1; to stop all changes set TRAILGUARD_DRY_RUN=true"
    )]
    ZeroMaxActions,
    /// A zero-length window.
    #[error("{VAR_WINDOW_SECS} must be at least 1 second")]
    ZeroWindow,
}

/// The `UpdateItem` that admits one change (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterUpdate {
    /// The item's `pk`.
    pub key: String,
    /// `UpdateExpression`.
    pub update_expression: &'static str,
    /// `ConditionExpression`.
    pub condition_expression: &'static str,
    /// `ExpressionAttributeNames`.
    pub names: [(&'static str, &'static str); 2],
    /// `ExpressionAttributeValues`, all numbers (`N`).
    pub values: [(&'static str, u64); 3],
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            max_actions: DEFAULT_MAX_ACTIONS,
            window_secs: DEFAULT_WINDOW_SECS,
        }
    }
}

impl RateLimit {
    /// A limit of `max_actions` (at least 1) per `window_secs` (at least 1).
    pub fn new(max_actions: u32, window_secs: u64) -> Result<Self, RateLimitError> {
        if max_actions == 0 {
            return Err(RateLimitError::ZeroMaxActions);
        }
        if window_secs == 0 {
            return Err(RateLimitError::ZeroWindow);
        }
        Ok(Self {
            max_actions,
            window_secs,
        })
    }

    /// Loads the limit from `(name, value)` pairs such as `std::env::vars()`;
    /// unset or empty variables take the defaults (10 per hour).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, RateLimitError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut max_actions = DEFAULT_MAX_ACTIONS;
        let mut window_secs = DEFAULT_WINDOW_SECS;
        for (name, value) in vars {
            let value = value.as_ref().trim();
            if value.is_empty() {
                continue;
            }
            let not_number = |var| RateLimitError::NotNumber {
                var,
                value: value.to_owned(),
            };
            match name.as_ref() {
                VAR_MAX_ACTIONS => {
                    max_actions = value.parse().map_err(|_| not_number(VAR_MAX_ACTIONS))?;
                }
                VAR_WINDOW_SECS => {
                    window_secs = value.parse().map_err(|_| not_number(VAR_WINDOW_SECS))?;
                }
                _ => {}
            }
        }
        Self::new(max_actions, window_secs)
    }

    /// Changes allowed per window.
    pub fn max_actions(&self) -> u32 {
        self.max_actions
    }

    /// Window length in seconds.
    pub fn window_secs(&self) -> u64 {
        self.window_secs
    }

    /// Start of the window holding `now_epoch`.
    pub fn window_start(&self, now_epoch: u64) -> u64 {
        now_epoch - now_epoch % self.window_secs
    }

    /// Start of the window after the one holding `now_epoch`.
    pub fn window_end(&self, now_epoch: u64) -> u64 {
        self.window_start(now_epoch)
            .saturating_add(self.window_secs)
    }

    /// Whether one more change is allowed when `actions_in_window` changes
    /// were already made in the account's current window.
    pub fn admit(&self, now_epoch: u64, actions_in_window: u32) -> Admission {
        if actions_in_window < self.max_actions {
            Admission::Allowed
        } else {
            self.tripped(now_epoch)
        }
    }

    /// The refusal for a full window, e.g. after `ConditionalCheckFailedException`.
    pub fn tripped(&self, now_epoch: u64) -> Admission {
        Admission::Tripped {
            until_epoch: self.window_end(now_epoch),
        }
    }

    /// The counter item key for `account`'s window holding `now_epoch`.
    pub fn counter_key(&self, account: &str, now_epoch: u64) -> String {
        format!("rate#{account}#{}", self.window_start(now_epoch))
    }

    /// The conditional `UpdateItem` admitting one change for `account`.
    pub fn counter_update(&self, account: &str, now_epoch: u64) -> CounterUpdate {
        let expires_at = self.window_end(now_epoch).saturating_add(self.window_secs);
        CounterUpdate {
            key: self.counter_key(account, now_epoch),
            update_expression: "ADD #count :one SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)",
            condition_expression: "attribute_not_exists(#count) OR #count < :max",
            names: [("#count", "count"), ("#expiresAt", "expiresAt")],
            values: [
                (":one", 1),
                (":max", u64::from(self.max_actions)),
                (":expiresAt", expires_at),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(max: u32, window: u64) -> RateLimit {
        match RateLimit::new(max, window) {
            Ok(limit) => limit,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn admits_below_the_limit_and_trips_at_it() {
        let limit = limit(3, 3600);
        let now = 1_714_641_243; // 2024-05-02T09:14:03Z
        assert_eq!(limit.admit(now, 0), Admission::Allowed);
        assert_eq!(limit.admit(now, 2), Admission::Allowed);
        assert_eq!(
            limit.admit(now, 3),
            Admission::Tripped {
                until_epoch: 1_714_644_000
            }
        );
        assert_eq!(
            limit.admit(now, 40),
            Admission::Tripped {
                until_epoch: 1_714_644_000
            }
        );
    }

    #[test]
    fn window_boundaries() {
        let limit = limit(1, 60);
        assert_eq!(limit.window_start(119), 60);
        assert_eq!(limit.window_start(120), 120);
        assert_eq!(limit.window_end(119), 120);
        assert_eq!(
            limit.counter_key("111122223333", 119),
            "rate#111122223333#60"
        );
        assert_eq!(
            limit.counter_key("111122223333", 120),
            "rate#111122223333#120"
        );
        assert_eq!(limit.window_end(u64::MAX), u64::MAX);
    }

    #[test]
    fn counter_update_expires_a_window_after_the_window() {
        let update = limit(5, 600).counter_update("111122223333", 1_000);
        assert_eq!(update.key, "rate#111122223333#600");
        assert_eq!(
            update.values,
            [(":one", 1), (":max", 5), (":expiresAt", 1_800)]
        );
        assert!(update.condition_expression.contains("#count < :max"));
    }

    #[test]
    fn loads_from_variables_with_defaults() {
        assert_eq!(
            RateLimit::from_vars([("HOME", "/root")]),
            Ok(RateLimit::default())
        );
        let loaded = RateLimit::from_vars([
            ("TRAILGUARD_RATE_MAX_ACTIONS", "2"),
            ("TRAILGUARD_RATE_WINDOW_SECS", " 900 "),
        ]);
        assert_eq!(loaded, Ok(limit(2, 900)));
    }

    #[test]
    fn rejects_unusable_settings_naming_the_variable() {
        let zero = RateLimit::from_vars([("TRAILGUARD_RATE_MAX_ACTIONS", "0")]);
        assert_eq!(zero, Err(RateLimitError::ZeroMaxActions));
        let text = RateLimit::from_vars([("TRAILGUARD_RATE_WINDOW_SECS", "1h")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            text.as_deref(),
            Some("TRAILGUARD_RATE_WINDOW_SECS=1h is not a whole number")
        );
        assert_eq!(RateLimit::new(1, 0), Err(RateLimitError::ZeroWindow));
    }
}
