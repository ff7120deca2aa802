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

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sns::types::MessageAttributeValue;
use serde::Serialize;
use serde_json::{Value, json};

use std::sync::Arc;

use super::execute::cloudtrail_logging::TrailExecutor;
use super::execute::config_recorder::RecorderExecutor;
use super::execute::iam_access_key::AccessKeyExecutor;
use super::execute::image_public::ImageExecutor;
use super::execute::kms_key_deletion::KeyExecutor;
use super::execute::s3_public_access::BucketExecutor;
use super::execute::security_group_open_ingress::SecurityGroupExecutor;
use super::execute::snapshot_public::SnapshotExecutor;
use super::execute::tag_history::{CloudTrailHistory, TagHistory};
use super::execute::{ExecuteError, Executor};
use trailguard_delivery::sinks::cloudwatch::publish as publish_metrics;
use trailguard_delivery::sinks::sns::{Outgoing, publish as publish_findings};
use trailguard_engine::clock::rfc3339_utc;
use trailguard_engine::remediation::actions::{ActionKind, Decision};
use trailguard_engine::remediation::alert::{rate_limit_finding, rate_limited_datum};
use trailguard_engine::remediation::audit::{AuditRecord, Outcome, audit_id};
use trailguard_engine::remediation::deferral::{DeferredRequest, delay_secs};
use trailguard_engine::remediation::exemption::standing;
use trailguard_engine::remediation::guard::{
    GuardConfig, GuardConfigError, exempt_by_tags, pre_check,
};
use trailguard_engine::remediation::origin::{TrustedSources, authenticate, describe};
use trailguard_engine::remediation::rate::{Admission, RateLimit, RateLimitError};
use trailguard_engine::remediation::request::trigger::{Envelope, Planned, plan};
use trailguard_engine::remediation::request::{RemediationRequest, RequestError};

/// The DynamoDB table audit records are written to.
pub const VAR_AUDIT_TABLE: &str = "TRAILGUARD_AUDIT_TABLE";
/// The SNS topic every audit record is published to.
pub const VAR_AUDIT_TOPIC_ARN: &str = "TRAILGUARD_AUDIT_TOPIC_ARN";
/// The DynamoDB table holding the rate limit counters.
pub const VAR_RATE_TABLE: &str = "TRAILGUARD_RATE_TABLE";
/// The findings topic: the only topic findings are accepted from, and the
/// one a tripped rate limit is reported on.
pub const VAR_FINDINGS_TOPIC_ARN: &str = "TRAILGUARD_FINDINGS_TOPIC_ARN";
/// The retry queue's URL, where rate-limited requests are sent.
pub const VAR_RETRY_QUEUE_URL: &str = "TRAILGUARD_RETRY_QUEUE_URL";
/// The retry queue's ARN, the only queue SQS records are accepted from.
pub const VAR_RETRY_QUEUE_ARN: &str = "TRAILGUARD_RETRY_QUEUE_ARN";
/// The CloudWatch namespace of operational metrics (default `Trailguard`).
pub const VAR_OPS_NAMESPACE: &str = "TRAILGUARD_OPS_NAMESPACE";

/// [`VAR_OPS_NAMESPACE`] when unset, as for the other functions.
pub const DEFAULT_OPS_NAMESPACE: &str = "Trailguard";

/// How long a claim holds an audit id against a concurrent delivery of the
/// same trigger. Longer than one request's work; shorter than Lambda's
/// first retry of a failed asynchronous invocation (one minute after the
/// failure), so the retry of an invocation that died mid-request can take
/// the claim over.
pub const CLAIM_LEASE_SECS: u64 = 60;

/// The `outcome` of a claim, before the final record replaces it.
pub const CLAIM_OUTCOME: &str = "inProgress";

/// The stored `outcome` of [`Outcome::Failed`], a record a redelivery may
/// take over.
const FAILED_OUTCOME: &str = "failed";

/// The stored `outcome` of [`Outcome::Deferred`], a record the deferred
/// request takes over when it comes back.
const DEFERRED_OUTCOME: &str = "deferred";

/// The condition of every first write of an audit id (see the module docs).
const FIRST_WRITE_CONDITION: &str = "attribute_not_exists(id) OR outcome IN (:failed, :deferred) \
     OR (outcome = :inProgress AND leaseExpiresAt < :now)";

/// Everything the remediator is configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemediatorConfig {
    /// Dry run, enabled actions, exemptions ([`GuardConfig`]).
    pub guard: GuardConfig,
    /// The per-account change budget.
    pub rate: RateLimit,
    /// [`VAR_AUDIT_TABLE`].
    pub audit_table: String,
    /// [`VAR_AUDIT_TOPIC_ARN`].
    pub audit_topic_arn: String,
    /// [`VAR_RATE_TABLE`].
    pub rate_table: String,
    /// [`VAR_FINDINGS_TOPIC_ARN`] and [`VAR_RETRY_QUEUE_ARN`].
    pub trusted: TrustedSources,
    /// [`VAR_RETRY_QUEUE_URL`].
    pub retry_queue_url: String,
    /// [`VAR_OPS_NAMESPACE`].
    pub ops_namespace: String,
}

/// A configuration variable that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RemediatorConfigError {
    /// A guard variable is wrong.
    #[error(transparent)]
    Guard(#[from] GuardConfigError),
    /// A rate limit variable is wrong.
    #[error(transparent)]
    Rate(#[from] RateLimitError),
    /// A required variable is unset or empty.
    #[error("{var} is not set: the remediator needs it to {purpose}")]
    Missing {
        /// The variable.
        var: &'static str,
        /// What it is for.
        purpose: &'static str,
    },
    /// The retry queue ARN is not an SQS queue ARN.
    #[error(
        "{var}=`{value}` is not an SQS queue ARN (arn:<partition>:sqs:<region>:<account>:<queue>)"
    )]
    NotQueueArn {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// The audit topic is not an SNS topic ARN.
    #[error(
        "{var}=`{value}` is not an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<topic>)"
    )]
    NotTopicArn {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
}

impl RemediatorConfig {
    /// Loads the configuration from the process environment.
    pub fn from_env() -> Result<Self, RemediatorConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// Loads the configuration from `(name, value)` pairs: the guard and
    /// rate variables ([`GuardConfig::from_vars`], [`RateLimit::from_vars`])
    /// and the resource variables, which are required (the findings topic
    /// too: without it no finding could be told authentic).
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, RemediatorConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: Vec<(String, String)> = vars
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().trim().to_owned()))
            .collect();
        let required = |var: &'static str, purpose: &'static str| {
            vars.iter()
                .find(|(k, v)| k == var && !v.is_empty())
                .map(|(_, v)| v.clone())
                .ok_or(RemediatorConfigError::Missing { var, purpose })
        };
        let audit_table = required(VAR_AUDIT_TABLE, "record every decision")?;
        let audit_topic_arn = required(VAR_AUDIT_TOPIC_ARN, "publish every decision")?;
        let rate_table = required(VAR_RATE_TABLE, "count changes per account")?;
        let findings_topic_arn = required(
            VAR_FINDINGS_TOPIC_ARN,
            "tell authentic findings from forged ones and report a tripped rate limit",
        )?;
        let retry_queue_url = required(VAR_RETRY_QUEUE_URL, "defer rate-limited requests")?;
        let retry_queue_arn = required(
            VAR_RETRY_QUEUE_ARN,
            "accept deferred requests from the retry queue only",
        )?;
        for (var, value) in [
            (VAR_AUDIT_TOPIC_ARN, &audit_topic_arn),
            (VAR_FINDINGS_TOPIC_ARN, &findings_topic_arn),
        ] {
            if !is_arn_of(value, "sns") {
                return Err(RemediatorConfigError::NotTopicArn {
                    var,
                    value: value.clone(),
                });
            }
        }
        if !is_arn_of(&retry_queue_arn, "sqs") {
            return Err(RemediatorConfigError::NotQueueArn {
                var: VAR_RETRY_QUEUE_ARN,
                value: retry_queue_arn,
            });
        }
        let ops_namespace = vars
            .iter()
            .find(|(k, v)| k == VAR_OPS_NAMESPACE && !v.is_empty())
            .map_or_else(|| DEFAULT_OPS_NAMESPACE.to_owned(), |(_, v)| v.clone());
        Ok(Self {
            guard: GuardConfig::from_vars(vars.iter().map(|(k, v)| (k, v)))?,
            rate: RateLimit::from_vars(vars.iter().map(|(k, v)| (k, v)))?,
            audit_table,
            audit_topic_arn,
            rate_table,
            trusted: TrustedSources {
                findings_topic_arn,
                retry_queue_arn,
            },
            retry_queue_url,
            ops_namespace,
        })
    }
}

/// Whether `value` is an ARN of `service` with a region, an account and a
/// name (SNS topics and SQS queues).
fn is_arn_of(value: &str, service: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, svc, region, account, name]
            if *svc == service && !partition.is_empty() && !region.is_empty()
                && account.len() == 12 && !name.is_empty()
    )
}

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

/// A request and what AWS wrote around it.
struct Incoming {
    request: RemediationRequest,
    envelope: Envelope,
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

    /// Handles one trigger at `now` (epoch seconds) and returns
    /// `{"records": [audit records], "redelivered": [audit ids]}`.
    ///
    /// Accepted payloads: an EventBridge "AWS API Call via CloudTrail"
    /// event, a trailguard finding, the Lambda SNS event around either, and
    /// the Lambda SQS event whose bodies are any of those (raw, or as SNS
    /// notifications) or deferred requests. Which of them are trusted is
    /// [`trailguard_engine::remediation::origin`]'s decision.
    pub async fn handle(&self, payload: &Value, now: u64) -> Result<Value, RemediatorError> {
        let dry_run = self.config.guard.dry_run;
        let mut requests = Vec::new();
        for trigger in plan(payload) {
            match trigger.outcome {
                Ok(Planned::Request(request)) => requests.push(Incoming {
                    request: *request,
                    envelope: trigger.envelope,
                    deferrals: trigger.deferrals,
                }),
                Ok(Planned::NoAction { .. }) => {}
                Err(source) => {
                    let record = AuditRecord::rejected(payload, &source.to_string(), dry_run, now);
                    tracing::warn!(id = %record.id, error = %source, "trigger rejected");
                    self.write(&record, None).await?;
                    self.publish(&record).await?;
                    return Err(RemediatorError::Rejected { source });
                }
            }
        }
        if requests.is_empty() {
            tracing::info!("trigger holds no event a remediation action handles");
        }
        let mut records = Vec::new();
        let mut redelivered = Vec::new();
        let total = requests.len();
        for incoming in requests {
            match self.process(incoming, now).await? {
                Processed::Recorded(record) => records.push(*record),
                Processed::Redelivered(id) => redelivered.push(id),
            }
        }
        let failures: Vec<String> = records
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Failed { error } => Some(format!(
                    "{}: {error}",
                    r.resource.as_deref().unwrap_or("unknown resource")
                )),
                _ => None,
            })
            .collect();
        if let Some(first) = failures.first() {
            return Err(RemediatorError::Failed {
                failed: failures.len(),
                total,
                first: first.clone(),
            });
        }
        Ok(json!({ "records": records, "redelivered": redelivered }))
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
        let mut note = None;
        if exempt_by_tags(tags.iter().map(|(k, v)| (k, v)), cfg) {
            match self.exemption_standing(req, now).await {
                Ok(()) => {
                    let reason = format!(
                        "{} carries the exemption tag `{}`, set before the change by another principal",
                        req.resource, cfg.exemption_tag
                    );
                    return record(Outcome::SkippedExempt { reason }).with_before(before);
                }
                Err(why) => {
                    tracing::warn!(resource = %req.resource, %why, "exemption tag not honoured");
                    note = Some(format!(
                        "exemption tag `{}` not honoured: {why}",
                        cfg.exemption_tag
                    ));
                }
            }
        }
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
        if let Err(e) = exec.apply(&plan).await {
            return planned(Outcome::Failed {
                error: e.to_string(),
            });
        }
        match exec.read().await {
            // Judging the read-back with the same decision proves the change
            // took: a call AWS accepted but did not honour is a failure.
            Ok(after) => {
                let outcome = match exec.decide(req, &after, cfg) {
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
                planned(outcome).with_after(to_json(&after))
            }
            Err(e) => {
                tracing::warn!(resource = %req.resource, error = %e, "changed, but the read-back failed");
                planned(Outcome::Acted)
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

    /// Queues a rate-limited `req` for the window starting at `until_epoch`,
    /// counts it in the alarm's metric and, on the window's first trip,
    /// reports a finding. Any failure is the request's failure, so the
    /// trigger is retried rather than the request dropped.
    async fn defer(
        &self,
        req: &RemediationRequest,
        deferrals: u32,
        until_epoch: u64,
        now: u64,
    ) -> Outcome {
        match self.try_defer(req, deferrals, until_epoch, now).await {
            Ok(()) => Outcome::Deferred { until_epoch },
            Err(error) => Outcome::Failed {
                error: format!(
                    "rate limit reached, and the request could not be deferred: {error}"
                ),
            },
        }
    }

    async fn try_defer(
        &self,
        req: &RemediationRequest,
        deferrals: u32,
        until_epoch: u64,
        now: u64,
    ) -> Result<(), String> {
        let body = DeferredRequest::new(req.clone(), deferrals.saturating_add(1), until_epoch)
            .to_body()
            .map_err(|e| e.to_string())?;
        let delay = i32::try_from(delay_secs(until_epoch, now)).unwrap_or(0);
        self.sqs
            .send_message()
            .queue_url(&self.config.retry_queue_url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SendMessage to {} failed: {}",
                    self.config.retry_queue_url,
                    DisplayErrorContext(&e)
                )
            })?;
        let datum = rate_limited_datum(&self.config.ops_namespace, now);
        publish_metrics(&self.cloudwatch, &[datum], None)
            .await
            .map_err(|e| e.to_string())?;
        if self.first_trip(&req.account, now).await? {
            let finding = rate_limit_finding(req, &self.config.rate, now);
            let topic = &self.config.trusted.findings_topic_arn;
            let refused = publish_findings(&self.sns, topic, &[Outgoing::of(&finding)]).await;
            if let Some(first) = refused.first() {
                return Err(format!(
                    "the rate limit finding could not be published to {topic}: {}",
                    first.reason
                ));
            }
        }
        Ok(())
    }

    /// Marks `account`'s current window as reported; `true` the first time.
    async fn first_trip(&self, account: &str, now: u64) -> Result<bool, String> {
        let key = self.config.rate.counter_key(account, now);
        let result = self
            .dynamodb
            .update_item()
            .table_name(&self.config.rate_table)
            .key("pk", AttributeValue::S(key.clone()))
            .update_expression("SET #reported = :now")
            .condition_expression("attribute_not_exists(#reported)")
            .expression_attribute_names("#reported", "reportedAt")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(format!(
                "rate limit counter {key} in table {} could not be marked reported: {}",
                self.config.rate_table,
                DisplayErrorContext(&e)
            )),
        }
    }

    /// One change against `account`'s budget: the conditional `UpdateItem`
    /// of [`RateLimit::counter_update`]. An error is returned as text for
    /// the audit record.
    async fn admit(&self, account: &str, now: u64) -> Result<Admission, String> {
        let rate = &self.config.rate;
        let update = rate.counter_update(account, now);
        let mut call = self
            .dynamodb
            .update_item()
            .table_name(&self.config.rate_table)
            .key("pk", AttributeValue::S(update.key.clone()))
            .update_expression(update.update_expression)
            .condition_expression(update.condition_expression);
        for (name, attribute) in update.names {
            call = call.expression_attribute_names(name, attribute);
        }
        for (name, value) in update.values {
            call = call.expression_attribute_values(name, AttributeValue::N(value.to_string()));
        }
        match call.send().await {
            Ok(_) => Ok(Admission::Allowed),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(rate.tripped(now)),
            Err(e) => Err(format!(
                "rate limit counter {} in table {} could not be updated: {}",
                update.key,
                self.config.rate_table,
                DisplayErrorContext(&e)
            )),
        }
    }

    /// Claims `id` for this invocation; `false` when it is taken. The claim
    /// names the request so a stuck one can be told apart in the table.
    async fn claim(
        &self,
        id: &str,
        req: &RemediationRequest,
        now: u64,
    ) -> Result<bool, RemediatorError> {
        let lease_expires_at = now.saturating_add(CLAIM_LEASE_SECS);
        let item = HashMap::from([
            ("id".to_owned(), AttributeValue::S(id.to_owned())),
            ("timestamp".to_owned(), AttributeValue::S(rfc3339_utc(now))),
            (
                "outcome".to_owned(),
                AttributeValue::S(CLAIM_OUTCOME.to_owned()),
            ),
            (
                "leaseExpiresAt".to_owned(),
                AttributeValue::N(lease_expires_at.to_string()),
            ),
            (
                "action".to_owned(),
                AttributeValue::S(req.action.name().to_owned()),
            ),
            (
                "resource".to_owned(),
                AttributeValue::S(req.resource.to_string()),
            ),
            (
                "triggerEventId".to_owned(),
                AttributeValue::S(req.trigger_event_id.clone()),
            ),
        ]);
        self.put(id, item, Some(now)).await
    }

    /// Writes `record`; with `first_write_at`, only under the first-write
    /// condition, returning `false` when the id is taken.
    async fn write(
        &self,
        record: &AuditRecord,
        first_write_at: Option<u64>,
    ) -> Result<bool, RemediatorError> {
        let item = record
            .to_dynamodb_item()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), AttributeValue::S(v)))
            .collect();
        self.put(&record.id, item, first_write_at).await
    }

    async fn put(
        &self,
        id: &str,
        item: HashMap<String, AttributeValue>,
        first_write_at: Option<u64>,
    ) -> Result<bool, RemediatorError> {
        let mut call = self
            .dynamodb
            .put_item()
            .table_name(&self.config.audit_table)
            .set_item(Some(item));
        if let Some(now) = first_write_at {
            call = call
                .condition_expression(FIRST_WRITE_CONDITION)
                .expression_attribute_values(
                    ":failed",
                    AttributeValue::S(FAILED_OUTCOME.to_owned()),
                )
                .expression_attribute_values(
                    ":deferred",
                    AttributeValue::S(DEFERRED_OUTCOME.to_owned()),
                )
                .expression_attribute_values(
                    ":inProgress",
                    AttributeValue::S(CLAIM_OUTCOME.to_owned()),
                )
                .expression_attribute_values(":now", AttributeValue::N(now.to_string()));
        }
        match call.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(RemediatorError::AuditWrite {
                id: id.to_owned(),
                table: self.config.audit_table.clone(),
                message: DisplayErrorContext(&e).to_string(),
            }),
        }
    }

    /// Publishes `record` as JSON, with `outcome`, `action` and `dryRun`
    /// message attributes for subscription filter policies.
    async fn publish(&self, record: &AuditRecord) -> Result<(), RemediatorError> {
        let publish_error = |message: String| RemediatorError::AuditPublish {
            id: record.id.clone(),
            topic: self.config.audit_topic_arn.clone(),
            message,
        };
        let message = record.to_json().map_err(|e| publish_error(e.to_string()))?;
        let mut call = self
            .sns
            .publish()
            .topic_arn(&self.config.audit_topic_arn)
            .subject(subject(record))
            .message(message);
        let mut attributes = vec![
            ("outcome", record.outcome.kind().to_owned()),
            ("dryRun", record.dry_run.to_string()),
        ];
        if let Some(action) = record.action {
            attributes.push(("action", action.name().to_owned()));
        }
        for (name, value) in attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| publish_error(e.to_string()))?;
            call = call.message_attributes(name, attribute);
        }
        call.send()
            .await
            .map_err(|e| publish_error(DisplayErrorContext(&e).to_string()))?;
        tracing::info!(
            id = %record.id,
            outcome = record.outcome.kind(),
            resource = record.resource.as_deref().unwrap_or(""),
            detail = record.outcome.detail().unwrap_or_default(),
            "audited"
        );
        Ok(())
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

/// The SNS subject of a record: ASCII, one line, under SNS's 100 characters.
fn subject(record: &AuditRecord) -> String {
    let action = record.action.map_or("trigger", ActionKind::name);
    let mut text = format!("trailguard remediation {}: {action}", record.outcome.kind());
    text.truncate(99);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use trailguard_engine::remediation::request::ResourceRef;
    use trailguard_engine::remediation::request::trigger::requests_from_trigger;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:trailguard-audit";
    const FINDINGS: &str = "arn:aws:sns:us-east-1:123456789012:trailguard-findings";
    const RETRY_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:trailguard-retry";

    fn vars() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TRAILGUARD_AUDIT_TABLE", "trailguard-audit"),
            ("TRAILGUARD_AUDIT_TOPIC_ARN", TOPIC),
            ("TRAILGUARD_RATE_TABLE", "trailguard-rate"),
            ("TRAILGUARD_FINDINGS_TOPIC_ARN", FINDINGS),
            (
                "TRAILGUARD_RETRY_QUEUE_URL",
                "https://sqs.us-east-1.amazonaws.com/123456789012/trailguard-retry",
            ),
            ("TRAILGUARD_RETRY_QUEUE_ARN", RETRY_ARN),
        ]
    }

    fn error_text(vars: Vec<(&str, &str)>) -> String {
        match RemediatorConfig::from_vars(vars) {
            Ok(cfg) => panic!("expected an error, loaded {cfg:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn eventbridge(detail: Value) -> Value {
        json!({"detail-type": "AWS API Call via CloudTrail", "detail": detail})
    }

    fn stop_logging() -> Value {
        json!({
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "StopLogging",
            "eventID": "f6e10706-705c-47f2-94d4-112a9527ab8b",
            "awsRegion": "us-east-1",
            "recipientAccountId": "123456789012",
            "requestParameters": {"name": "org-trail"}
        })
    }

    fn sqs(bodies: &[String]) -> Value {
        let records: Vec<Value> = bodies
            .iter()
            .map(|body| json!({"eventSource": "aws:sqs", "messageId": "m", "body": body}))
            .collect();
        json!({ "Records": records })
    }

    fn request_error(payload: &Value) -> String {
        match requests_from_trigger(payload) {
            Ok(requests) => panic!("expected an error, got {requests:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn config_reads_resources_guard_and_rate() {
        let mut all = vars();
        all.extend([
            ("TRAILGUARD_DRY_RUN", "false"),
            ("TRAILGUARD_ENABLED_ACTIONS", "cloudtrail-logging"),
            ("TRAILGUARD_RATE_MAX_ACTIONS", "3"),
        ]);
        let cfg = match RemediatorConfig::from_vars(all) {
            Ok(cfg) => cfg,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cfg.audit_table, "trailguard-audit");
        assert_eq!(cfg.audit_topic_arn, TOPIC);
        assert_eq!(cfg.rate_table, "trailguard-rate");
        assert_eq!(cfg.trusted.findings_topic_arn, FINDINGS);
        assert_eq!(cfg.trusted.retry_queue_arn, RETRY_ARN);
        assert_eq!(cfg.ops_namespace, DEFAULT_OPS_NAMESPACE);
        assert!(!cfg.guard.dry_run);
        assert!(cfg.guard.enabled.contains(&ActionKind::CloudtrailLogging));
        assert_eq!(cfg.rate.max_actions(), 3);
        let defaults = RemediatorConfig::from_vars(vars()).ok();
        assert_eq!(defaults.map(|c| c.guard.dry_run), Some(true));
    }

    #[test]
    fn config_errors_name_the_variable() {
        let mut no_table = vars();
        no_table.retain(|(k, _)| *k != "TRAILGUARD_RATE_TABLE");
        no_table.push(("TRAILGUARD_RATE_TABLE", "  "));
        assert!(error_text(no_table).starts_with("TRAILGUARD_RATE_TABLE is not set"));
        let mut bad_topic = vars();
        bad_topic.retain(|(k, _)| *k != "TRAILGUARD_AUDIT_TOPIC_ARN");
        bad_topic.push(("TRAILGUARD_AUDIT_TOPIC_ARN", "trailguard-audit"));
        assert!(error_text(bad_topic).starts_with("TRAILGUARD_AUDIT_TOPIC_ARN=`trailguard-audit`"));
        let mut no_findings = vars();
        no_findings.retain(|(k, _)| *k != "TRAILGUARD_FINDINGS_TOPIC_ARN");
        assert!(
            error_text(no_findings)
                .starts_with("TRAILGUARD_FINDINGS_TOPIC_ARN is not set: the remediator needs it")
        );
        let mut bad_queue = vars();
        bad_queue.retain(|(k, _)| *k != "TRAILGUARD_RETRY_QUEUE_ARN");
        bad_queue.push(("TRAILGUARD_RETRY_QUEUE_ARN", FINDINGS));
        assert!(error_text(bad_queue).starts_with("TRAILGUARD_RETRY_QUEUE_ARN=`arn:aws:sns"));
        let mut bad_guard = vars();
        bad_guard.push(("TRAILGUARD_DRY_RUN", "maybe"));
        assert!(error_text(bad_guard).starts_with("TRAILGUARD_DRY_RUN=maybe"));
        let mut bad_rate = vars();
        bad_rate.push(("TRAILGUARD_RATE_WINDOW_SECS", "0"));
        assert!(error_text(bad_rate).starts_with("TRAILGUARD_RATE_WINDOW_SECS"));
    }

    #[test]
    fn topic_arns_are_checked_by_shape() {
        assert!(is_arn_of(TOPIC, "sns"));
        assert!(is_arn_of(
            "arn:aws-us-gov:sns:us-gov-west-1:123456789012:t",
            "sns"
        ));
        assert!(!is_arn_of("arn:aws:sqs:us-east-1:123456789012:t", "sns"));
        assert!(is_arn_of(RETRY_ARN, "sqs"));
        assert!(!is_arn_of("arn:aws:sns:us-east-1:1234:t", "sns"));
        assert!(!is_arn_of("arn:aws:sns:us-east-1:123456789012:", "sns"));
    }

    #[test]
    fn sqs_bodies_raw_or_sns_wrapped_are_unwrapped() {
        let raw = eventbridge(stop_logging()).to_string();
        let wrapped = json!({"Type": "Notification", "Message": raw}).to_string();
        let requests = requests_from_trigger(&sqs(&[raw, wrapped])).unwrap_or_default();
        assert_eq!(requests.len(), 2);
        assert!(requests.iter().all(|r| r.resource
            == ResourceRef::Trail {
                name: "org-trail".into(),
                arn: None
            }));
    }

    #[test]
    fn sqs_errors_name_the_record_and_the_field() {
        let mut detail = stop_logging();
        detail["requestParameters"] = json!({});
        let bad = json!({"Type": "Notification", "Message": eventbridge(detail).to_string()});
        let ok = eventbridge(stop_logging()).to_string();
        assert_eq!(
            request_error(&sqs(&[ok, bad.to_string()])),
            "Records[1].body.Message.detail.requestParameters.name missing"
        );
        assert!(
            request_error(&sqs(&["{oops".to_owned()])).starts_with("Records[0].body is not JSON")
        );
        assert!(
            request_error(&sqs(&["{}".to_owned()])).starts_with("Records[0].body is not a trigger")
        );
        let no_body = json!({"Records": [{"eventSource": "aws:sqs"}]});
        assert_eq!(request_error(&no_body), "Records[0].body missing");
    }

    #[test]
    fn other_payloads_go_to_the_trigger_mapping() {
        let requests = requests_from_trigger(&eventbridge(stop_logging())).unwrap_or_default();
        assert_eq!(requests.len(), 1);
        assert!(request_error(&json!({"Records": [{"Sns": {}}]})).contains("Records[0].Sns"));
    }

    #[test]
    fn gone_resources_are_not_applicable_and_call_failures_fail() {
        let gone = ExecuteError::NotFound {
            resource: "bucket/b".into(),
            code: "NoSuchBucket".into(),
        };
        assert!(matches!(
            error_outcome(&gone),
            Outcome::SkippedNotApplicable { .. }
        ));
        let denied = ExecuteError::Call {
            operation: "GetBucketAcl",
            resource: "bucket/b".into(),
            code: Some("AccessDenied".into()),
            message: "denied".into(),
        };
        assert!(matches!(
            error_outcome(&denied),
            Outcome::Failed { ref error } if error.contains("GetBucketAcl")
        ));
    }

    #[test]
    fn the_retryable_outcome_is_the_one_the_condition_names() {
        let failed = Outcome::Failed {
            error: "throttled".into(),
        };
        assert_eq!(failed.kind(), FAILED_OUTCOME);
        assert!(!failed.is_final());
        let deferred = Outcome::Deferred { until_epoch: 0 };
        assert_eq!(deferred.kind(), DEFERRED_OUTCOME);
        assert!(!deferred.is_final());
        assert!(FIRST_WRITE_CONDITION.contains("outcome IN (:failed, :deferred)"));
        assert_ne!(CLAIM_OUTCOME, FAILED_OUTCOME);
    }

    #[test]
    fn subjects_fit_sns() {
        let rejected = AuditRecord::rejected(&json!({}), "x", true, 0);
        assert_eq!(
            subject(&rejected),
            "trailguard remediation rejected: trigger"
        );
        assert!(subject(&rejected).len() < 100);
    }

    #[test]
    fn errors_have_stable_types() {
        let rejected = RemediatorError::Rejected {
            source: RequestError::Missing {
                field: "detail.requestParameters.groupId".into(),
            },
        };
        assert_eq!(rejected.error_type(), "TriggerRejected");
        assert_eq!(
            rejected.to_string(),
            "trigger rejected: detail.requestParameters.groupId missing"
        );
    }
}
