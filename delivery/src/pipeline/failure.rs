//! What failed, and whether a retry can help.

use thiserror::Error;
use trailguard_engine::envelope::{EnvelopeError, ObjectRef};
use trailguard_engine::reader::ReadError;

/// Whether a failed message may succeed when it is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// A passing condition: an AWS call failed, another invocation holds
    /// the file, the deadline came first.
    Retryable,
    /// The object itself is at fault (corrupt, over a cap): every retry
    /// fails alike until the message reaches the dead-letter queue.
    Poison,
}

/// Why one object (or its message) could not be processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// The object (bucket and key), when the failure is one object's and
    /// not its message's.
    pub object: Option<ObjectRef>,
    /// The reason, naming the object.
    pub reason: String,
    /// Whether a retry may help.
    pub kind: FailureKind,
}

/// AWS calls, the ledger and unwrapping fail in ways a retry may mend.
impl From<String> for ObjectFailure {
    fn from(reason: String) -> Self {
        ObjectFailure {
            object: None,
            reason,
            kind: FailureKind::Retryable,
        }
    }
}

impl From<ReadError> for ObjectFailure {
    fn from(error: ReadError) -> Self {
        let kind = if error.is_retryable() {
            FailureKind::Retryable
        } else {
            FailureKind::Poison
        };
        ObjectFailure {
            object: None,
            reason: error.to_string(),
            kind,
        }
    }
}

/// One message (or direct invocation) that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// SQS message id; `None` for direct invocations.
    pub message_id: Option<String>,
    /// The object that failed, when one did (not the message's unwrapping).
    pub object: Option<ObjectRef>,
    /// The reason, naming the object.
    pub reason: String,
    /// Whether a retry may help.
    pub kind: FailureKind,
}

impl Failure {
    /// Message `message_id` failed with `failure`.
    pub fn of(message_id: Option<String>, failure: ObjectFailure) -> Failure {
        Failure {
            message_id,
            object: failure.object,
            reason: failure.reason,
            kind: failure.kind,
        }
    }
}

/// Why an invocation failed as a whole.
#[derive(Debug, Error)]
pub enum HandlerError {
    /// The input is no delivery trailguard knows.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    /// A direct invocation had files that failed; Lambda should retry it.
    #[error("{} of the delivered files failed: {}", .0.len(), join(.0))]
    Files(Vec<Failure>),
}

impl HandlerError {
    /// A stable error type for Lambda's error report.
    pub fn error_type(&self) -> &'static str {
        match self {
            HandlerError::Envelope(_) => "UnrecognisedDelivery",
            HandlerError::Files(_) => "FileProcessingFailed",
        }
    }
}

fn join(failures: &[Failure]) -> String {
    failures
        .iter()
        .map(|f| f.reason.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}
