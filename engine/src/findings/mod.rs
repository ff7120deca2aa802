//! Findings: what the notifier tells people about a matching event.
//!
//! A [`Finding`] is built from the rule that matched and the original event,
//! in a documented, versioned JSON shape (`schemas/finding.v1.schema.json`).
//! Its id is deterministic (rule id + `eventID`), which is what makes
//! dedup, SNS message dedup and the remediation audit line up.

pub mod chat;
pub mod correlation;
pub mod finding;
pub mod flood;
pub mod message;
pub mod readable;
pub mod repeat;
pub mod suppress;

pub use finding::{Finding, RuleInfo};
pub use flood::FloodGate;
pub use message::{FindingMessage, MessageError, SCHEMA_VERSION};
pub use suppress::{Subject, Suppression, Suppressions};
