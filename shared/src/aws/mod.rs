//! The AWS side: client construction and the few SDK calls the pipeline
//! makes. Every function here takes its client as an argument, so tests give
//! it a client pointed at moto.

pub mod clients;
pub mod integrity;
pub mod ledger;
pub mod objects;
pub mod rule_sources;

pub use clients::{load_sdk_config, s3_client};
pub use integrity::{CloudTrailKeys, S3Store};
pub use ledger::{Claim, Ledger, LedgerError};
pub use objects::{ObjectError, ObjectMeta, open_object};
