//! The decisions of the remediator: what to change in response to a risky
//! API call, whether it is safe to, and the record of it. The decisions
//! ([`request`], [`actions`], [`guard`], [`rate`], [`audit`]) are pure;
//! the `trailguard-remediation` crate makes the AWS calls around them.
//!
//! # The decision flow
//!
//! For each trigger (an EventBridge CloudTrail event or a trailguard
//! finding from SNS):
//!
//! 1. **Request.** [`plan`] maps the CloudTrail record to
//!    [`RemediationRequest`]s, keeping the [`Envelope`] AWS wrote around
//!    each. A malformed trigger is audited as [`Outcome::Rejected`]
//!    ([`AuditRecord::rejected`]).
//! 2. **Origin.** [`origin::authenticate`] checks the envelope (the
//!    findings topic, the EventBridge account and region, the retry queue)
//!    and that the event's account is the one AWS delivered it from, and
//!    the remediator's own; otherwise the request is [`Outcome::Refused`].
//! 3. **Guard pre-check.** [`pre_check`] skips, before any read, the
//!    remediator's own calls (the loop guard), failed calls (`errorCode`),
//!    disabled actions and exempt accounts.
//! 4. **Redelivery.** The request's [`audit_id`] is claimed with a
//!    conditional write; if a record with a final outcome exists, the
//!    trigger was already handled and nothing more happens (a guard skip
//!    is written under the same condition).
//! 5. **Live read.** The executor reads the action's `LiveState` and the
//!    resource's tags. A read error is audited as [`Outcome::Failed`]; a
//!    resource that no longer exists as [`Outcome::SkippedNotApplicable`].
//! 6. **Exemption tags.** [`exempt_by_tags`] finds the exemption tag, and
//!    [`exemption::standing`] honours it ([`Outcome::SkippedExempt`]) only
//!    when CloudTrail shows another principal set it before the change.
//! 7. **Decide.** The action's `decide` returns a [`Decision`]: act with a
//!    plan, already compliant, or not applicable.
//! 8. **Rate limit.** Outside dry run, [`RateLimit`] admits the change or
//!    trips: the request is queued for the next window
//!    ([`Outcome::Deferred`], [`deferral`]) and the trip is alarmed and
//!    reported as a finding ([`alert`]); dry runs do not count.
//! 9. **Dry run or apply.** In dry run the plan is recorded as
//!    [`Outcome::WouldAct`]; otherwise it is applied and the live state read
//!    again and decided on again ([`Outcome::Acted`] with `after`, or
//!    [`Outcome::Failed`] when the change did not take).
//! 10. **Audit.** One [`AuditRecord`] per request, whatever happened, to
//!     DynamoDB and SNS.
//!
//! Dry run is the default and every action is off until named in
//! `TRAILGUARD_ENABLED_ACTIONS` ([`GuardConfig`]). Deciding from live state,
//! not from the event, keeps the flow idempotent: once a change is made,
//! the next decision for the same resource is "already compliant".
//!
//! # Modules
//!
//! - [`request`]: triggers to requests;
//! - [`origin`]: which envelopes are trusted, and the account they prove;
//! - [`actions`]: one module per action, each with its `NAME`,
//!   `PERMISSIONS`, `LiveState`, `Plan` and `decide`;
//! - [`guard`]: configuration, pre-checks and exemption tags;
//! - [`exemption`]: whether an exemption tag was set by someone else, before;
//! - [`rate`]: the per-account circuit breaker and its DynamoDB counter;
//! - [`deferral`]: rate-limited requests on the retry queue;
//! - [`alert`]: the metric and finding of a tripped breaker;
//! - [`audit`]: the audit record and how to undo each action from it.

pub mod actions;
pub mod alert;
pub mod audit;
pub mod deferral;
pub mod exemption;
pub mod guard;
pub mod origin;
pub mod rate;
pub mod request;

pub use actions::{ActionKind, Decision};
pub use audit::{AuditRecord, Outcome, audit_id};
pub use guard::{GuardConfig, GuardConfigError, RoleArn, Skip, exempt_by_tags, pre_check};
pub use rate::{Admission, RateLimit, RateLimitError};
pub use request::trigger::{
    Planned, Trigger, TriggerPlan, Triggers, plan, plan_message, requests_from_trigger,
};
pub use request::{
    Assessment, KeyOwner, Remediation, RemediationRequest, RequestError, ResourceRef,
    TriggerSource, requests_from_cloudtrail,
};
