//! Which delivered objects a consumer reads, claimed in the ledger.

use trailguard_engine::envelope::{EnvelopeError, ObjectRef};
use trailguard_engine::keys::{self, KeyKind};

use crate::ledger::{Claim, Ledger};

/// Whether a delivered object is to be processed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Process it; `claim` is the ledger id to complete or release
    /// afterwards (`None` without a ledger).
    Process {
        /// The ledger id held for this object.
        claim: Option<String>,
    },
    /// Not the kind of file the consumer reads (a digest for the log
    /// readers, a log file for the integrity check, Insights, other):
    /// counted, skipped.
    OtherKind,
    /// Processed by an earlier delivery: counted, skipped.
    AlreadyDone,
}

/// The step every delivery consumer takes before reading an object: only
/// objects of the `wanted` kind go on, and only when the ledger (if any)
/// grants the claim. An object another invocation is working on is an
/// error, so its message is retried later.
pub async fn admit(
    object: &ObjectRef,
    wanted: KeyKind,
    ledger: Option<&Ledger>,
    now: i64,
) -> Result<Admission, String> {
    let kind = keys::classify(&object.key).kind;
    if kind != wanted {
        tracing::info!(object = %object, ?kind, "not a file this function reads; skipped");
        return Ok(Admission::OtherKind);
    }
    let Some(ledger) = ledger else {
        return Ok(Admission::Process { claim: None });
    };
    let id = object.identity();
    match ledger.claim(&id, now).await.map_err(|e| e.to_string())? {
        Claim::Acquired => Ok(Admission::Process { claim: Some(id) }),
        Claim::AlreadyDone => {
            tracing::info!(object = %object, "already processed; skipped");
            Ok(Admission::AlreadyDone)
        }
        Claim::InProgress => Err(format!("{object}: being processed by another invocation")),
    }
}

/// Runs `each` on a message's objects in order and returns the message's
/// failure: the unwrapping error, or the first object's that fails. The
/// objects after a failure are not tried: the message is retried whole.
pub async fn first_failure<E: From<String>>(
    objects: Result<Vec<ObjectRef>, EnvelopeError>,
    mut each: impl AsyncFnMut(&ObjectRef) -> Result<(), E>,
) -> Option<E> {
    let objects = match objects {
        Ok(objects) => objects,
        Err(e) => return Some(E::from(e.to_string())),
    };
    for object in &objects {
        if let Err(reason) = each(object).await {
            return Some(reason);
        }
    }
    None
}
