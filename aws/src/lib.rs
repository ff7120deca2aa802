//! trailguard's reads from AWS: SDK configuration, streaming S3 objects into
//! the engine's reader, and CloudTrail digest files with their public keys.
//! Every function takes its client as an argument, so tests give it a
//! client pointed at moto. The CLI needs nothing more of AWS than this, S3
//! and CloudTrail; the Lambda delivery pipeline builds on it in
//! `trailguard-delivery`.
#![deny(missing_docs)]

pub mod clients;
pub mod integrity;
pub mod objects;

pub use clients::{load_sdk_config, s3_client};
pub use integrity::{CloudTrailKeys, S3Store};
pub use objects::{ObjectError, ObjectMeta, open_object};
