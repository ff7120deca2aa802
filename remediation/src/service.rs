//! The remediator's orchestration: a trigger in, guarded changes and one
//! audit record per request out.
//!
//! [`RemediatorService::handle`] runs the flow described in
//! [`trailguard_engine::remediation`] for each request of a trigger:
//!
//! 1. the trigger becomes requests; a malformed one is audited as
//!    `rejected` and the call fails with an error naming the field;
//! 2. each request's envelope is checked ([`trailguard_engine::remediation::origin`]);
//!    a request AWS did not deliver from a trusted source, or naming
//!    another account, is audited as `refused` (under its own id) and
//!    nothing more is done;
//! 3. the guard pre-check (own role, failed call, disabled action, exempt
//!    account) may skip the request; the skip is audited;
//! 4. the request's audit id is claimed in the audit table, so a
//!    redelivered trigger whose decision is final is not run again;
//! 5. the executor reads the live state and the exemption tags (honoured
//!    only when CloudTrail shows someone else set them before the change),
//!    the action decides, the rate limit admits (real changes only) or
//!    defers the request to the retry queue, and the plan is recorded (dry
//!    run) or applied and read back;
//! 6. the audit record goes to DynamoDB and, as JSON, to the audit topic.
//!
//! # The idempotency claim
//!
//! Every first write of an audit id is conditional:
//!
//! ```text
//! attribute_not_exists(id) OR outcome IN (:failed, :deferred)
//!   OR (outcome = :inProgress AND leaseExpiresAt < :now)
//! ```
//!
//! A guard skip is written that way directly. A request that goes on to a
//! live read first writes a claim (`outcome` = `inProgress`, with a
//! [`CLAIM_LEASE_SECS`] lease) and overwrites it with the final record. A
//! failed condition means the id is taken: the trigger is a redelivery of
//! one already decided (or being decided), and nothing more is done. Only
//! a `failed` or `deferred` record, or a claim whose invocation died, can
//! be taken over.
//!
//! # Tables
//!
//! The audit table's partition key is the string `id`; the rate table's is
//! the string `pk`, with `expiresAt` as its TTL attribute
//! ([`trailguard_engine::remediation::rate`]). They are separate tables so the audit
//! table holds audit records only.

mod audit_log;
mod breaker;

pub use audit_log::{CLAIM_LEASE_SECS, CLAIM_OUTCOME};

use std::borrow::Cow;
use std::sync::Arc;

use aws_config::SdkConfig;
use serde::Serialize;
use serde_json::{Value, json};
use trailguard_delivery::pipeline::{self, DeliveryReport, FailureKind, ObjectFailure};
use trailguard_engine::envelope::{Message, Origin};
use trailguard_engine::remediation::actions::{ActionKind, Decision};
use trailguard_engine::remediation::audit::{AuditRecord, Outcome, audit_id};
use trailguard_engine::remediation::exemption::standing;
use trailguard_engine::remediation::guard::{exempt_by_tags, pre_check};
use trailguard_engine::remediation::origin::{authenticate, describe};
use trailguard_engine::remediation::rate::Admission;
use trailguard_engine::remediation::request::trigger::{Planned, Trigger, Triggers, plan_message};
use trailguard_engine::remediation::request::{RemediationRequest, RequestError};

use crate::config::RemediatorConfig;
use crate::execute::cloudtrail_logging::TrailExecutor;
use crate::execute::config_recorder::RecorderExecutor;
use crate::execute::iam_access_key::AccessKeyExecutor;
use crate::execute::image_public::ImageExecutor;
use crate::execute::kms_key_deletion::KeyExecutor;
use crate::execute::s3_public_access::BucketExecutor;
use crate::execute::security_group_open_ingress::SecurityGroupExecutor;
use crate::execute::snapshot_public::SnapshotExecutor;
use crate::execute::tag_history::{CloudTrailHistory, TagHistory};
use crate::execute::{ExecuteError, Executor, Tags};

/// Why an invocation did not end well.
#[derive(Debug, thiserror::Error)]
pub enum RemediatorError {
    /// The trigger could not be read; it was audited as `rejected`.
    #[error("trigger rejected: {source}")]
    Rejected {
        /// What is wrong with it, naming the field.
        source: RequestError,
    },
    /// At least one request failed; each is audited as `failed`, and a
    /// redelivery of the trigger retries them.
    #[error(
        "{failed} of {total} remediation requests failed and will be retried on redelivery; first: {first}"
    )]
    Failed {
        /// How many failed.
        failed: usize,
        /// How many requests the trigger held.
        total: usize,
        /// The first failure, as `resource: error`.
        first: String,
    },
    /// The audit table could not be written.
    #[error("audit record {id} could not be written to table {table}: {message}")]
    AuditWrite {
        /// The record id.
        id: String,
        /// The table.
        table: String,
        /// The SDK's error text.
        message: String,
    },
    /// The audit topic could not be published to.
    #[error("audit record {id} could not be published to {topic}: {message}")]
    AuditPublish {
        /// The record id.
        id: String,
        /// The topic ARN.
        topic: String,
        /// The SDK's or the encoder's error text.
        message: String,
    },
}

impl RemediatorError {
    /// Whether retrying the trigger may help: a trigger that cannot be read
    /// reads the same next time.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            RemediatorError::Rejected { .. } => FailureKind::Poison,
            RemediatorError::Failed { .. }
            | RemediatorError::AuditWrite { .. }
            | RemediatorError::AuditPublish { .. } => FailureKind::Retryable,
        }
    }

    /// A short, stable name of the error kind, for the Lambda error type.
    pub fn error_type(&self) -> &'static str {
        match self {
            RemediatorError::Rejected { .. } => "TriggerRejected",
            RemediatorError::Failed { .. } => "RemediationFailed",
            RemediatorError::AuditWrite { .. } => "AuditWriteFailed",
            RemediatorError::AuditPublish { .. } => "AuditPublishFailed",
        }
    }
}

/// What one message of a delivery came to.
#[derive(Debug, Default)]
struct Handled {
    records: Vec<AuditRecord>,
    redelivered: Vec<String>,
    /// Why it failed, when it did: the invocation's error unless the
    /// delivery was an SQS batch (then each message answers for itself).
    error: Option<RemediatorError>,
}

/// A request and what AWS wrote around it.
struct Incoming {
    request: RemediationRequest,
    envelope: Origin,
    /// For a deferred request, how many times it was deferred.
    deferrals: Option<u32>,
}

/// What became of one request.
enum Processed {
    /// Decided and audited.
    Recorded(Box<AuditRecord>),
    /// Its audit id was already taken: a redelivery, left alone.
    Redelivered(String),
}

/// The remediator: configuration and the clients it records with.
pub struct RemediatorService {
    config: RemediatorConfig,
    sdk: SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    tag_history: Arc<dyn TagHistory>,
}

impl RemediatorService {
    /// A service acting through `sdk` (executors make their clients per
    /// request, for the request's region).
    pub fn new(config: RemediatorConfig, sdk: &SdkConfig) -> Self {
        Self {
            config,
            sdk: sdk.clone(),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            sqs: aws_sdk_sqs::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            tag_history: Arc::new(CloudTrailHistory::new(sdk)),
        }
    }

    /// The service reading exemption tag changes from `history` instead of
    /// CloudTrail's event history (for emulators without `LookupEvents`).
    pub fn with_tag_history(mut self, history: Arc<dyn TagHistory>) -> Self {
        self.tag_history = history;
        self
    }

    /// The configuration in force.
    pub fn config(&self) -> &RemediatorConfig {
        &self.config
    }

    /// Handles one invocation at `now` (epoch seconds) and returns
    /// `{"records": [audit records], "redelivered": [audit ids]}`, with
    /// `batchItemFailures` for an SQS batch.
    ///
    /// Accepted payloads: an EventBridge "AWS API Call via CloudTrail"
    /// event, a trailguard finding, the Lambda SNS event around either, and
    /// the Lambda SQS event whose bodies are any of those (raw, or as SNS
    /// notifications) or deferred requests. Which of them are trusted is
    /// [`trailguard_engine::remediation::origin`]'s decision.
    ///
    /// The invocation runs the delivery pipeline every function runs
    /// ([`pipeline::deliver`]): the core envelopes are peeled, then each
    /// message's triggers are admitted (origin, guard) and claimed (audit
    /// id) one message at a time, since the requests of one account share
    /// its rate limit. A message that fails is retried alone when it came
    /// from SQS; otherwise the invocation fails with its error.
    pub async fn handle(&self, payload: &Value, now: u64) -> Result<Value, RemediatorError> {
        let batch = match pipeline::deliver(&Triggers, payload, 1, async |message| {
            self.handle_message(payload, message, now).await
        })
        .await
        {
            Ok(batch) => batch,
            Err(error) => {
                return Err(self
                    .reject(payload, RequestError::Envelope(error), now)
                    .await);
            }
        };
        let from_sqs = batch.from_sqs();
        let report = batch.report();
        let (mut records, mut redelivered, mut first_error) = (Vec::new(), Vec::new(), None);
        for message in batch.into_messages() {
            let handled = message.output;
            records.extend(handled.records);
            redelivered.extend(handled.redelivered);
            first_error = first_error.or(handled.error);
        }
        if from_sqs {
            let mut response = report.sqs_response();
            response["records"] = json!(records);
            response["redelivered"] = json!(redelivered);
            return Ok(response);
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(json!({ "records": records, "redelivered": redelivered })),
        }
    }

    /// One message of a delivery: its triggers, decided and audited.
    async fn handle_message(
        &self,
        payload: &Value,
        message: Message<Trigger>,
        now: u64,
    ) -> pipeline::Processed<Handled> {
        let id = message.id.clone();
        let report = DeliveryReport {
            notifications_ignored: message.ignored.len() as u64,
            ..DeliveryReport::default()
        };
        // A rejected trigger's audit id: the SQS message id is the same on
        // every redelivery, the rest of the batch is not.
        let key = match &id {
            Some(id) => Cow::Owned(json!({ "sqsMessageId": id })),
            None => Cow::Borrowed(payload),
        };
        let mut handled = Handled::default();
        let failure = match self.handle_triggers(&key, message, now, &mut handled).await {
            Ok(()) => None,
            Err(error) => {
                let failure = ObjectFailure {
                    object: None,
                    reason: error.to_string(),
                    kind: error.failure_kind(),
                };
                handled.error = Some(error);
                Some(failure)
            }
        };
        pipeline::Processed::new(id, handled, report, failure)
    }

    /// Decides every trigger of `message` into `handled`; the first
    /// unreadable one rejects the message (audited under `key`), and any
    /// failed request fails it, after the others are decided.
    async fn handle_triggers(
        &self,
        key: &Value,
        message: Message<Trigger>,
        now: u64,
        handled: &mut Handled,
    ) -> Result<(), RemediatorError> {
        let mut requests = Vec::new();
        for trigger in plan_message(message) {
            match trigger.outcome {
                Ok(Planned::Request(request)) => requests.push(Incoming {
                    request: *request,
                    envelope: trigger.envelope,
                    deferrals: trigger.deferrals,
                }),
                Ok(Planned::NoAction { reason }) => {
                    tracing::info!(at = %trigger.at, %reason, "no remediation action applies");
                }
                Err(source) => return Err(self.reject(key, source, now).await),
            }
        }
        let total = requests.len();
        for incoming in requests {
            match self.process(incoming, now).await? {
                Processed::Recorded(record) => handled.records.push(*record),
                Processed::Redelivered(id) => handled.redelivered.push(id),
            }
        }
        let failures: Vec<String> = handled
            .records
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed { error } => Some(format!(
                    "{}: {error}",
                    r.resource.as_deref().unwrap_or("unknown resource")
                )),
                _ => None,
            })
            .collect();
        match failures.first() {
            Some(first) => Err(RemediatorError::Failed {
                failed: failures.len(),
                total,
                first: first.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Audits an unreadable trigger as `rejected` (its id derived from
    /// `key`): the error to answer with.
    async fn reject(&self, key: &Value, source: RequestError, now: u64) -> RemediatorError {
        let record =
            AuditRecord::rejected(key, &source.to_string(), self.config.guard.dry_run, now);
        tracing::warn!(id = %record.id, error = %source, "trigger rejected");
        if let Err(error) = self.write(&record, None).await {
            return error;
        }
        if let Err(error) = self.publish(&record).await {
            return error;
        }
        RemediatorError::Rejected { source }
    }

    async fn process(&self, incoming: Incoming, now: u64) -> Result<Processed, RemediatorError> {
        let guard = &self.config.guard;
        let Incoming {
            request: mut req,
            envelope,
            deferrals,
        } = incoming;
        match authenticate(&envelope, deferrals.is_some(), &req, &self.config.trusted) {
            // The limit and the exemptions below count this account.
            Ok(account) => req.account = account,
            Err(reason) => {
                let origin = describe(&envelope);
                tracing::warn!(%origin, resource = %req.resource, %reason, "trigger refused");
                let record = AuditRecord::refused(&req, &origin, reason, guard.dry_run, now);
                if !self.write(&record, Some(now)).await? {
                    return Ok(Processed::Redelivered(record.id));
                }
                self.publish(&record).await?;
                return Ok(Processed::Recorded(Box::new(record)));
            }
        }
        let req = &req;
        if let Some(skip) = pre_check(req, guard) {
            let record = AuditRecord::new(req, skip.outcome(), guard.dry_run, now);
            if !self.write(&record, Some(now)).await? {
                return Ok(Processed::Redelivered(record.id));
            }
            self.publish(&record).await?;
            return Ok(Processed::Recorded(Box::new(record)));
        }
        let id = audit_id(&req.trigger_event_id, req.action, &req.resource);
        if !self.claim(&id, req, now).await? {
            tracing::info!(%id, resource = %req.resource, "redelivered trigger left alone");
            return Ok(Processed::Redelivered(id));
        }
        let record = self.remediate(req, deferrals.unwrap_or(0), now).await;
        self.write(&record, None).await?;
        self.publish(&record).await?;
        Ok(Processed::Recorded(Box::new(record)))
    }

    /// The decision for `req`, with its executor.
    async fn remediate(&self, req: &RemediationRequest, deferrals: u32, now: u64) -> AuditRecord {
        let sdk = &self.sdk;
        let ctx = RunContext { deferrals, now };
        match req.action {
            ActionKind::SecurityGroupOpenIngress => {
                self.run(SecurityGroupExecutor::new(sdk, req), req, ctx)
                    .await
            }
            ActionKind::CloudtrailLogging => self.run(TrailExecutor::new(sdk, req), req, ctx).await,
            ActionKind::S3PublicAccess => self.run(BucketExecutor::new(sdk, req), req, ctx).await,
            ActionKind::SnapshotPublic => self.run(SnapshotExecutor::new(sdk, req), req, ctx).await,
            ActionKind::ImagePublic => self.run(ImageExecutor::new(sdk, req), req, ctx).await,
            ActionKind::KmsKeyDeletion => self.run(KeyExecutor::new(sdk, req), req, ctx).await,
            ActionKind::ConfigRecorder => self.run(RecorderExecutor::new(sdk, req), req, ctx).await,
            ActionKind::IamAccessKey => self.run(AccessKeyExecutor::new(sdk, req), req, ctx).await,
        }
    }

    /// Step 5 of the flow for one executor; every path ends in a record.
    async fn run<E: Executor>(
        &self,
        exec: Result<E, ExecuteError>,
        req: &RemediationRequest,
        ctx: RunContext,
    ) -> AuditRecord {
        let cfg = &self.config.guard;
        let now = ctx.now;
        let record = |outcome| AuditRecord::new(req, outcome, cfg.dry_run, now);
        let exec = match exec {
            Ok(exec) => exec,
            Err(e) => return record(error_outcome(&e)),
        };
        let live = match exec.read().await {
            Ok(live) => live,
            Err(e) => return record(error_outcome(&e)),
        };
        let before = to_json(&live);
        let tags = match exec.tags(&live).await {
            Ok(tags) => tags,
            Err(e) => return record(error_outcome(&e)).with_before(before),
        };
        let note = match self.exemption(req, &tags, now).await {
            Ok(note) => note,
            Err(exempt) => return record(exempt).with_before(before),
        };
        let record = |outcome| record(outcome).with_note(note.clone());
        let plan = match exec.decide(req, &live, cfg) {
            Decision::Act(plan) => plan,
            Decision::AlreadyCompliant { reason } => {
                return record(Outcome::SkippedAlreadyCompliant { reason }).with_before(before);
            }
            Decision::NotApplicable { reason } => {
                return record(Outcome::SkippedNotApplicable { reason }).with_before(before);
            }
        };
        let planned = |outcome| {
            record(outcome)
                .with_plan(to_json(&plan))
                .with_before(before.clone())
        };
        if cfg.dry_run {
            return planned(Outcome::WouldAct);
        }
        match self.admit(&req.account, now).await {
            Ok(Admission::Allowed) => {}
            Ok(Admission::Tripped { until_epoch }) => {
                return planned(self.defer(req, ctx.deferrals, until_epoch, now).await);
            }
            Err(error) => return planned(Outcome::Failed { error }),
        }
        match self.apply(&exec, req, &plan).await {
            (outcome, Some(after)) => planned(outcome).with_after(after),
            (outcome, None) => planned(outcome),
        }
    }

    /// Whether `req`'s resource is exempt by its `tags`: `Err` with the
    /// exempt outcome when the tag is honoured; otherwise the note for the
    /// record when a tag is there but not honoured.
    async fn exemption(
        &self,
        req: &RemediationRequest,
        tags: &Tags,
        now: u64,
    ) -> Result<Option<String>, Outcome> {
        let cfg = &self.config.guard;
        if !exempt_by_tags(tags.iter().map(|(k, v)| (k, v)), cfg) {
            return Ok(None);
        }
        match self.exemption_standing(req, now).await {
            Ok(()) => Err(Outcome::SkippedExempt {
                reason: format!(
                    "{} carries the exemption tag `{}`, set before the change by another principal",
                    req.resource, cfg.exemption_tag
                ),
            }),
            Err(why) => {
                tracing::warn!(resource = %req.resource, %why, "exemption tag not honoured");
                Ok(Some(format!(
                    "exemption tag `{}` not honoured: {why}",
                    cfg.exemption_tag
                )))
            }
        }
    }

    /// Applies `plan` and reads the resource back: the outcome, and the
    /// state after when it could be read.
    async fn apply<E: Executor>(
        &self,
        exec: &E,
        req: &RemediationRequest,
        plan: &E::Plan,
    ) -> (Outcome, Option<Value>) {
        if let Err(e) = exec.apply(plan).await {
            let error = e.to_string();
            return (Outcome::Failed { error }, None);
        }
        match exec.read().await {
            // Judging the read-back with the same decision proves the change
            // took: a call AWS accepted but did not honour is a failure.
            Ok(after) => {
                let outcome = match exec.decide(req, &after, &self.config.guard) {
                    Decision::Act(_) => Outcome::Failed {
                        error: format!(
                            "{} was changed, but reading it back shows it still needs the change",
                            req.resource
                        ),
                    },
                    Decision::AlreadyCompliant { .. } | Decision::NotApplicable { .. } => {
                        Outcome::Acted
                    }
                };
                (outcome, Some(to_json(&after)))
            }
            Err(e) => {
                tracing::warn!(resource = %req.resource, error = %e, "changed, but the read-back failed");
                (Outcome::Acted, None)
            }
        }
    }

    /// Whether `req`'s exemption tag may be honoured: `Ok`, or why not.
    async fn exemption_standing(&self, req: &RemediationRequest, now: u64) -> Result<(), String> {
        let changes = self
            .tag_history
            .changes(req, &self.config.guard.exemption_tag, now)
            .await?;
        standing(req, &changes)
    }
}

/// What [`RemediatorService::run`] needs besides the request.
#[derive(Debug, Clone, Copy)]
struct RunContext {
    /// How many times the request was deferred already.
    deferrals: u32,
    /// The decision time, epoch seconds.
    now: u64,
}

/// The audit outcome of an executor error: nothing to do when the resource
/// is gone or out of reach, else a failure to retry.
fn error_outcome(e: &ExecuteError) -> Outcome {
    match e.not_applicable_reason() {
        Some(reason) => Outcome::SkippedNotApplicable { reason },
        None => Outcome::Failed {
            error: e.to_string(),
        },
    }
}

/// A live state or plan as JSON. These are plain structs with string keys,
/// which always serialise; should one ever not, the record says so rather
/// than the invocation failing after a change was made.
fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| json!({ "unserialisable": e.to_string() }))
}

#[cfg(test)]
mod tests;
