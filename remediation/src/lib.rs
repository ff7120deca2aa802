//! trailguard's remediator: the SDK half of each action ([`execute`]), its
//! settings ([`config`]) and the decision flow ([`service`]) that runs the engine's pure decisions
//! (`trailguard_engine::remediation`) against live AWS state, DynamoDB,
//! SNS and SQS.
#![deny(missing_docs)]

pub mod config;
pub mod execute;
pub mod service;

pub use config::{RemediatorConfig, RemediatorConfigError};
pub use service::{RemediatorError, RemediatorService};
