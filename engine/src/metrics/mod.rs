//! CloudWatch metrics from CloudTrail records.
//!
//! Rule matches are counted per rule, dimension values and **minute of
//! `eventTime`** (logs arrive 5-15 minutes late; alarms must reflect when
//! things happened). Operational metrics describe trailguard's own work.
//! Everything is aggregated in memory and turned into [`Datum`]s, which are
//! sent with batched `PutMetricData` calls ([`cloudwatch`]) or printed as
//! Embedded Metric Format log lines ([`emf`]).

pub mod aggregate;
pub mod emf;
pub mod errors;
pub mod findings;
pub mod names;

pub use aggregate::{Aggregator, AggregatorConfig, Datum, EventFacts};
