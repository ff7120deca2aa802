//! trailguard's engine, shared by every Lambda function and the CLI.
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
//!    ([`rules`]);
//! 5. matches become metrics ([`metrics`]), findings, or remediation
//!    ([`remediation`]).
//!
//! # Modules
//!
//! - [`document`]: addressing any JSON path of an event ([`Document`], [`Path`]).
//! - [`envelope`]: turning any Lambda input (S3, SNS, SQS, EventBridge,
//!   CloudTrail notice) into [`ObjectRef`]s, per SQS message.
//! - [`keys`]: what a CloudTrail S3 key names ([`KeyInfo`]), and decoding
//!   keys from S3 event notifications.
//! - [`rules`]: CloudWatch Logs JSON filter patterns, the rule-file format
//!   and the indexed [`rules::Catalogue`].
//! - [`findings`]: the finding format, suppressions, flood control, SNS publishing.
//! - [`sigma`]: SigmaHQ rules through the rsigma engine.
//! - [`reader`]: streaming records out of a log file (gzip or plain;
//!   `{"Records":[...]}`, bare arrays, JSON lines) with bounded memory.
//! - [`record`]: the typed, borrowed CloudTrail record model.
//! - [`metrics`]: per-minute aggregation and publishing (PutMetricData, EMF).
//! - [`integrity`]: CloudTrail log-file integrity validation (digest chains).
//! - [`remediation`]: the pure decision half of the remediator: requests,
//!   guard, rate limit, one module per action, audit records.
//! - [`aws`]: SDK client construction and the SDK calls the pipeline makes.
//! - [`service`]: what each Lambda function does, over clients and config.
//! - [`clock`]: wall-clock time in epoch seconds.
#![deny(missing_docs)]

pub mod aws;
pub mod clock;
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
pub mod service;
pub mod sigma;

pub use document::{Document, Path, Scalar, Segment};
pub use envelope::{Delivery, EnvelopeError, Ignored, Message, ObjectRef};
pub use keys::{KeyInfo, KeyKind};
pub use reader::{Compression, Layout, ReadError, ReadLimits, ReadStats, RecordReader};
pub use record::{Flag, Record, SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
