//! trailguard's engine, shared by every Lambda function and the CLI.
//!
//! # The data path
//!
//! Every CloudTrail log file takes the same path, whether a Lambda function
//! was told about it or the CLI was pointed at it:
//!
//! 1. a delivery (S3 / SNS / SQS / EventBridge / CloudTrail notice) is
//!    unwrapped into object references;
//! 2. each key is classified (log, digest, insight, other) and only logs go on;
//! 3. the object body is streamed, one record at a time, into a [`Record`];
//! 4. rules are evaluated against each record through the [`Document`] view.
//!
//! # Modules
//!
//! - [`document`]: addressing any JSON path of an event ([`Document`], [`Path`]).
//! - [`record`]: one CloudTrail event parsed in place ([`Record`]), with its
//!   typed identity ([`UserIdentity`]) and lenient booleans ([`Flag`]).
//! - [`reader`]: streaming the records of a log file, gzipped or not, in
//!   bounded memory ([`RecordReader`], [`ReadError`], [`ReadStats`]).
#![deny(missing_docs)]

pub mod document;
pub mod reader;
pub mod record;

pub use document::{Document, Path, Scalar, Segment};
pub use reader::{Compression, Layout, ReadError, ReadStats, RecordReader};
pub use record::{Flag, Record, SessionAttributes, SessionContext, SessionIssuer, UserIdentity};
