//! The work each Lambda function does, as plain async functions over
//! clients and configuration: the handlers in `functions/` only build these
//! once per cold start and call them.

pub mod config;
pub mod dedup;
pub mod delivery;
pub mod integrity;
pub mod metrics;
pub mod notifier;
pub mod scan;

pub use delivery::{DeliveryReport, Failure, HandlerError};
pub use metrics::{MetricsConfig, MetricsService};
