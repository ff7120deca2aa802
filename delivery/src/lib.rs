//! trailguard's Lambda delivery side: what the `metrics`, `notifier` and
//! `integrity` functions do, as plain async services over clients and
//! configuration. The handlers in `functions/` only build a service once
//! per cold start and call it.
//!
//! - [`pipeline`]: the shape every delivery takes (unwrap, admit, claim,
//!   process, settle, report) and its typed per-object failure.
//! - [`ledger`] and [`dedup`]: the DynamoDB claims that make redelivery
//!   harmless.
//! - [`sinks`]: SNS, CloudWatch and Security Hub.
//! - [`rule_sources`]: user rule files from S3 and SSM.
//! - [`metrics`], [`notifier`], [`integrity`]: the three services.
//! - [`correlation_state`] and [`correlation_store`]: the notifier's Sigma
//!   correlations, with their hits in DynamoDB.
#![deny(missing_docs)]

pub mod correlation_state;
pub mod correlation_store;
pub mod dedup;
pub mod integrity;
pub mod ledger;
pub mod metrics;
pub mod notifier;
pub mod pipeline;
pub mod rule_sources;
pub mod sinks;

pub use ledger::{Claim, Ledger, LedgerError};
pub use metrics::{MetricsConfig, MetricsService};
pub use pipeline::{DeliveryReport, Failure, HandlerError};
