//! trailguard's engine: everything about CloudTrail logs that needs no AWS
//! SDK and no Lambda runtime, shared by every Lambda function and the CLI.
//!
//! # The data path
//!
//! Every CloudTrail log file takes the same path, whether a Lambda function
//! was told about it or the CLI was pointed at it:
//!
//! 1. a delivery (S3 / SNS / SQS / EventBridge / CloudTrail notice) is
//!    unwrapped into [`ObjectRef`]s ([`envelope`]);
//! 2. each key is classified (log, digest, insight, other) and only logs go
//!    on ([`keys`]);
//! 3. the object body is streamed, one record at a time, into a [`Record`]
//!    ([`reader`], [`record`]);
//! 4. rules are evaluated against each record through the [`Document`] view
//!    ([`rules`], [`sigma`], [`detect`]);
//! 5. matches become metrics ([`metrics`]), findings ([`findings`]), or
//!    remediation requests ([`remediation`]).
//!
//! The SDK calls around this path live in `trailguard-aws` (S3 objects,
//! CloudTrail digests), `trailguard-delivery` (the Lambda delivery pipeline,
//! ledger and sinks) and `trailguard-remediation`.
//!
//! # Modules
//!
//! - [`document`]: addressing any JSON path of an event ([`Document`], [`Path`]).
//! - [`envelope`]: turning any Lambda input (S3, SNS, SQS, EventBridge,
//!   CloudTrail notice) into [`ObjectRef`]s, per SQS message.
//! - [`keys`]: what a CloudTrail S3 key names ([`KeyInfo`]), and decoding
//!   keys from S3 event notifications.
//! - [`reader`]: streaming records out of a log file (gzip or plain;
//!   `{"Records":[...]}`, bare arrays, JSON lines) with bounded memory.
//! - [`record`]: the typed, borrowed CloudTrail record model.
//! - [`rules`]: CloudWatch Logs JSON filter patterns, the rule-file format
//!   and the indexed [`rules::Catalogue`].
//! - [`sigma`]: SigmaHQ rules through the rsigma engine.
//! - [`scan`]: one file through one catalogue, and the record filter.
//! - [`detect`]: the [`detect::Detector`]: every rule engine over one file,
//!   into findings.
//! - [`findings`]: the finding format, suppressions, repeats, flood control
//!   and the human renderings.
//! - [`metrics`]: per-minute aggregation, metric names, EMF.
//! - [`integrity`]: CloudTrail log-file integrity validation (digest chains).
//! - [`remediation`]: the pure decision half of the remediator: requests,
//!   origin, guard, rate limit, one module per action, audit records.
//! - [`config`]: reading settings from the environment.
//! - [`clock`]: wall-clock time in epoch seconds, and its RFC 3339 form.
#![deny(missing_docs)]

pub mod clock;
pub mod config;
pub mod detect;
pub mod document;
pub mod envelope;
pub mod findings;
pub mod integrity;
pub mod keys;
pub mod metrics;
pub mod reader;
pub mod record;
pub mod remediation;
pub mod rules;
pub mod scan;
pub mod sigma;

pub use document::{Document, Path, Scalar, Segment};
pub use envelope::{Delivery, EnvelopeError, Ignored, Message, ObjectRef};
pub use keys::{KeyInfo, KeyKind};
pub use reader::{Compression, Layout, ReadError, ReadLimits, ReadStats, RecordReader};
pub use record::{Flag, Record, SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
