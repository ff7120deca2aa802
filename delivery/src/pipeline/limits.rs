//! What one object may cost, and the deadline reading stops before.

use std::time::{Duration, Instant};

use trailguard_engine::config::{self, ConfigError, Lookup};
use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::reader::ReadLimits;

use super::{FailureKind, ObjectFailure};

/// What one delivered object may cost a function (`TRAILGUARD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryLimits {
    /// The reader's caps: `TRAILGUARD_MAX_OBJECT_BYTES` (uncompressed,
    /// default 4 GiB), `TRAILGUARD_MAX_OBJECT_RECORDS` (default 10 million),
    /// `TRAILGUARD_MAX_RECORD_BYTES` (default 16 MiB). No deadline here.
    pub read: ReadLimits,
    /// `TRAILGUARD_DEADLINE_MARGIN_SECS` (default 15): reading stops this
    /// long before the Lambda deadline.
    pub margin: Duration,
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        DeliveryLimits {
            read: ReadLimits::default(),
            margin: Duration::from_secs(15),
        }
    }
}

impl DeliveryLimits {
    /// Reads the limits through `env`; unset variables keep the defaults.
    pub fn from_env(env: Lookup<'_>) -> Result<DeliveryLimits, ConfigError> {
        let defaults = DeliveryLimits::default();
        let record_bytes = config::integer(
            env,
            "TRAILGUARD_MAX_RECORD_BYTES",
            defaults.read.max_record_bytes as u64,
        )?;
        Ok(DeliveryLimits {
            read: ReadLimits {
                max_record_bytes: usize::try_from(record_bytes).unwrap_or(usize::MAX),
                max_uncompressed_bytes: config::integer(
                    env,
                    "TRAILGUARD_MAX_OBJECT_BYTES",
                    defaults.read.max_uncompressed_bytes,
                )?,
                max_records: config::integer(
                    env,
                    "TRAILGUARD_MAX_OBJECT_RECORDS",
                    defaults.read.max_records,
                )?,
                deadline: None,
            },
            margin: Duration::from_secs(config::integer(
                env,
                "TRAILGUARD_DEADLINE_MARGIN_SECS",
                defaults.margin.as_secs(),
            )?),
        })
    }

    /// The reader's limits for an invocation that must end by `deadline`.
    pub fn within(&self, deadline: Option<Instant>) -> ReadLimits {
        let stop = deadline.map(|d| d.checked_sub(self.margin).unwrap_or(d));
        self.read.until(stop)
    }
}

/// The failure of an object not started because `limits`' deadline passed.
pub fn past_deadline(object: &ObjectRef, limits: &ReadLimits) -> Option<ObjectFailure> {
    limits
        .deadline
        .is_some_and(|stop| Instant::now() >= stop)
        .then(|| ObjectFailure {
            object: Some(object.clone()),
            reason: format!(
                "{object}: not started, to finish before the function's deadline; \
                 the file will be retried"
            ),
            kind: FailureKind::Retryable,
        })
}
