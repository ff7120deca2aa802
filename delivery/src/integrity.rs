//! The `integrity` function: CloudTrail log-file integrity, continuously.
//!
//! Two inputs:
//! - deliveries (the same fan-out the metrics and notifier functions get):
//!   each digest file announced is checked on arrival (signature, link to
//!   the previous digest, every log file it lists; see [`check`]); other
//!   objects are counted and skipped. Each failure becomes a high-severity
//!   finding on the findings topic and a count in CloudWatch; each
//!   authentic digest moves its region's "newest digest" forward in the
//!   state table ([`state`]);
//! - the hourly EventBridge schedule: the delivery-gap check reads the
//!   state table and reports every region of a logging trail whose newest
//!   digest is older than the gap threshold.
//!
//! Failure semantics follow the other delivery consumers: an object that
//! cannot be read (other than being absent, which is a finding) fails its
//! SQS message, which is retried and in the end dead-lettered.

pub mod state;

use std::sync::Arc;

use aws_config::SdkConfig;
use serde_json::{Value, json};
use thiserror::Error;
use time::{Duration, OffsetDateTime};
use tokio::runtime::Handle;
use tracing::{info, warn};

use self::state::{DeliveryState, Newest, StateError, TrailGap, find_gaps};
use crate::dedup;
use crate::ledger::Ledger;
use crate::pipeline::{self, Consumer, DeliveryReport, HandlerError, ObjectFailure};
use crate::sinks::cloudwatch;
use crate::sinks::sns::{self, Outgoing};
use trailguard_aws::integrity::{CloudTrailKeys, S3Store};
use trailguard_aws::s3_client;
use trailguard_engine::config::{self, ConfigError, Lookup};
use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::findings::Finding;
use trailguard_engine::integrity::digest_check::check_digest;
use trailguard_engine::integrity::outcome::{
    DigestContext, GapContext, IntegrityFailure, Tally, gap_finding, validation_finding,
};
use trailguard_engine::integrity::public_keys::PublicKeyError;
use trailguard_engine::integrity::timestamps::format_display;
use trailguard_engine::integrity::{PublicKey, PublicKeySource};
use trailguard_engine::keys::{self, KeyKind};
use trailguard_engine::metrics::{Datum, names};
use trailguard_engine::reader::ReadLimits;

/// The trail whose logging status gates gap reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailArn {
    /// The ARN as given.
    pub arn: String,
    /// The trail's home region (where `GetTrailStatus` is asked).
    pub region: String,
    /// The account that owns the trail.
    pub account: String,
    /// The trail name.
    pub name: String,
}

impl TrailArn {
    /// Parses `arn:<partition>:cloudtrail:<region>:<account>:trail/<name>`.
    pub fn parse(text: &str) -> Option<TrailArn> {
        let mut parts = text.trim().splitn(6, ':');
        let (Some("arn"), Some(_), Some("cloudtrail"), Some(region), Some(account), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let name = res.strip_prefix("trail/").filter(|n| !n.is_empty())?;
        (!region.is_empty() && !account.is_empty()).then(|| TrailArn {
            arn: text.trim().to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }
}

/// The `integrity` function's settings, from `TRAILGUARD_*` variables.
#[derive(Debug, Clone)]
pub struct IntegrityConfig {
    /// `TRAILGUARD_FINDINGS_TOPIC_ARN` (required): where findings go.
    pub topic_arn: String,
    /// `TRAILGUARD_INTEGRITY_STATE_TABLE` (required): newest digest per
    /// account, region and trail.
    pub state_table: String,
    /// `TRAILGUARD_DEDUP_TABLE`: ledger of checked digests and published
    /// findings; without it a redelivered digest is checked and reported
    /// again, and a lasting gap is reported at every check.
    pub dedup_table: Option<String>,
    /// `TRAILGUARD_NAMESPACE` (default `CloudTrailMetrics`): the metrics'
    /// CloudWatch namespace.
    pub namespace: String,
    /// `TRAILGUARD_GAP_HOURS` (default 3): a region whose newest digest
    /// ended longer ago than this is a delivery gap.
    pub gap: Duration,
    /// `TRAILGUARD_TRAIL_ARN`: when set, that trail's gaps are reported only
    /// while `GetTrailStatus` says it is logging.
    pub trail: Option<TrailArn>,
    /// `TRAILGUARD_EXPECTED_REGIONS` (comma separated): regions that must
    /// deliver digests; one without any recorded digest is a gap.
    pub expected_regions: Vec<String>,
    /// `TRAILGUARD_CONCURRENCY` (default 4): messages processed at once.
    pub concurrency: usize,
}

/// Longest gap threshold accepted (ten years): bounds the arithmetic on
/// a configured value.
const MAX_GAP_HOURS: u64 = 87_600;

fn required(env: Lookup<'_>, name: &str, what: &str) -> Result<String, ConfigError> {
    config::optional(env, name).ok_or_else(|| ConfigError {
        variable: name.to_owned(),
        value: String::new(),
        reason: format!("required: {what}"),
    })
}

impl IntegrityConfig {
    /// Reads the configuration through `env`.
    pub fn from_env(env: Lookup<'_>) -> Result<IntegrityConfig, ConfigError> {
        let gap_hours = config::integer(env, "TRAILGUARD_GAP_HOURS", 3)?;
        if gap_hours == 0 {
            return Err(ConfigError {
                variable: "TRAILGUARD_GAP_HOURS".to_owned(),
                value: "0".to_owned(),
                reason: "expected at least 1: CloudTrail delivers a digest every hour".to_owned(),
            });
        }
        let trail =
            match config::optional(env, "TRAILGUARD_TRAIL_ARN") {
                None => None,
                Some(text) => Some(TrailArn::parse(&text).ok_or_else(|| {
                    ConfigError {
                        variable: "TRAILGUARD_TRAIL_ARN".to_owned(),
                        value: text.clone(),
                        reason:
                            "expected arn:<partition>:cloudtrail:<region>:<account>:trail/<name>"
                                .to_owned(),
                    }
                })?),
            };
        Ok(IntegrityConfig {
            topic_arn: required(
                env,
                "TRAILGUARD_FINDINGS_TOPIC_ARN",
                "the SNS topic findings are published to",
            )?,
            state_table: required(
                env,
                "TRAILGUARD_INTEGRITY_STATE_TABLE",
                "the DynamoDB table of newest digests the gap check reads",
            )?,
            dedup_table: config::optional(env, "TRAILGUARD_DEDUP_TABLE"),
            namespace: config::optional(env, "TRAILGUARD_NAMESPACE")
                .unwrap_or_else(|| "CloudTrailMetrics".to_owned()),
            gap: Duration::hours(i64::try_from(gap_hours.min(MAX_GAP_HOURS)).unwrap_or(3)),
            trail,
            expected_regions: config::optional(env, "TRAILGUARD_EXPECTED_REGIONS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_owned)
                .collect(),
            concurrency: usize::try_from(config::integer(env, "TRAILGUARD_CONCURRENCY", 4)?)
                .unwrap_or(4)
                .max(1),
        })
    }
}

/// Why an invocation failed as a whole.
#[derive(Debug, Error)]
pub enum IntegrityError {
    /// A delivery failed (see [`HandlerError`]).
    #[error(transparent)]
    Delivery(#[from] HandlerError),
    /// The scheduled gap check could not run to the end; the next schedule
    /// tries again.
    #[error("delivery-gap check failed: {0}")]
    GapCheck(String),
}

impl IntegrityError {
    /// A stable error type for Lambda's error report.
    pub fn error_type(&self) -> &'static str {
        match self {
            IntegrityError::Delivery(e) => e.error_type(),
            IntegrityError::GapCheck(_) => "GapCheckFailed",
        }
    }
}

impl From<StateError> for IntegrityError {
    fn from(e: StateError) -> Self {
        IntegrityError::GapCheck(e.to_string())
    }
}

/// Where public keys come from.
#[derive(Clone)]
enum Keys {
    /// CloudTrail's `ListPublicKeys`, in the digest's region.
    CloudTrail(Box<SdkConfig>),
    /// A fixed source (tests; endpoints without `ListPublicKeys`).
    Given(Arc<dyn PublicKeySource + Send + Sync>),
}

/// The key source one check uses.
enum KeySource {
    CloudTrail(CloudTrailKeys),
    Given(Arc<dyn PublicKeySource + Send + Sync>),
}

impl PublicKeySource for KeySource {
    fn public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError> {
        match self {
            KeySource::CloudTrail(keys) => keys.public_keys(start, end),
            KeySource::Given(keys) => keys.public_keys(start, end),
        }
    }
}

/// Everything the `integrity` function builds once per cold start.
pub struct IntegrityService {
    config: IntegrityConfig,
    keys: Keys,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    cloudtrail: Option<aws_sdk_cloudtrail::Client>,
    state: DeliveryState,
    digests: Option<Ledger>,
    findings: Option<Ledger>,
}

/// What one SQS message (or direct invocation) produced.
/// What one message's digests came to.
#[derive(Debug, Default)]
pub struct Checked {
    findings: Vec<Finding>,
    newest: Vec<Newest>,
    tally: Tally,
}

impl IntegrityService {
    /// Builds the clients; public keys come from CloudTrail's `ListPublicKeys`.
    pub fn new(config: IntegrityConfig, sdk: &SdkConfig) -> IntegrityService {
        Self::build(config, sdk, Keys::CloudTrail(Box::new(sdk.clone())))
    }

    /// Builds the clients, verifying signatures with `keys` instead of
    /// asking CloudTrail.
    pub fn with_public_keys(
        config: IntegrityConfig,
        sdk: &SdkConfig,
        keys: impl PublicKeySource + Send + Sync + 'static,
    ) -> IntegrityService {
        Self::build(config, sdk, Keys::Given(Arc::new(keys)))
    }

    fn build(config: IntegrityConfig, sdk: &SdkConfig, keys: Keys) -> IntegrityService {
        let ledger = |consumer: &str| {
            config
                .dedup_table
                .as_ref()
                .map(|t| Ledger::new(aws_sdk_dynamodb::Client::new(sdk), t.clone(), consumer))
        };
        if config.dedup_table.is_none() {
            warn!("TRAILGUARD_DEDUP_TABLE not set: redelivered digests will be reported again");
        }
        // Trail status is served by the trail's home region.
        let cloudtrail = config.trail.as_ref().map(|trail| {
            let conf = aws_sdk_cloudtrail::config::Builder::from(sdk)
                .region(aws_sdk_cloudtrail::config::Region::new(
                    trail.region.clone(),
                ))
                .build();
            aws_sdk_cloudtrail::Client::from_conf(conf)
        });
        IntegrityService {
            digests: ledger("integrity"),
            findings: ledger("finding"),
            state: DeliveryState::new(
                aws_sdk_dynamodb::Client::new(sdk),
                config.state_table.clone(),
            ),
            s3: s3_client(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            cloudtrail,
            keys,
            config,
        }
    }

    /// Handles one invocation at time `now` (epoch seconds): the hourly
    /// schedule runs the gap check, anything else is a delivery.
    pub async fn handle(&self, payload: &Value, now: i64) -> Result<Value, IntegrityError> {
        if is_scheduled(payload) {
            return self.check_gaps(now).await;
        }
        let no_caps = ReadLimits::default();
        let mut batch =
            pipeline::run(self, payload, now, &no_caps, self.config.concurrency).await?;
        let mut published = 0usize;
        batch
            .settle_each(async |checked: &Checked| {
                published += self.settle_message(checked, now).await?;
                Ok(())
            })
            .await;
        let mut tally = Tally::default();
        for checked in batch.succeeded() {
            tally.merge(&checked.tally);
        }
        // Most deliveries carry log files only: nothing to count then.
        if batch.report().files_processed > 0 {
            let datums = self.validation_datums(&tally, now);
            if let Err(reason) = self.publish_metrics(&datums).await {
                warn!(%reason, "publishing integrity metrics failed; the digests will be checked again");
                batch.fail_succeeded(&reason);
            }
        }
        let report = batch.finish(self.digests.as_ref(), now).await;
        info!(
            digests = report.files_processed,
            skipped = report.files_skipped,
            duplicate = report.files_duplicate,
            findings = published,
            failures = tally.total_failures(),
            failed = report.failures.len(),
            "delivery handled"
        );
        Ok(report.into_response()?)
    }

    /// Publishes a message's findings and records its authentic digests.
    async fn settle_message(&self, checked: &Checked, now: i64) -> Result<usize, String> {
        let published = self.publish_findings(&checked.findings, now).await?;
        for newest in &checked.newest {
            self.state
                .record(newest, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(published)
    }

    /// The scheduled check: regions whose digests stopped arriving.
    async fn check_gaps(&self, now: i64) -> Result<Value, IntegrityError> {
        let at = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let mut rows = self.state.all().await?;
        let mut also = Vec::new();
        let mut logging = None;
        if let Some(trail) = &self.config.trail {
            let is_logging = self.trail_logging(trail).await?;
            logging = Some(is_logging);
            if is_logging {
                also.push((trail.account.clone(), trail.name.clone()));
            } else {
                // A stopped trail delivers nothing by design; stopping it is
                // a finding of its own (the CloudTrail-changes rules).
                rows.retain(|row| row.trail != trail.name);
            }
        }
        let gaps = find_gaps(
            &rows,
            &also,
            &self.config.expected_regions,
            at,
            self.config.gap,
        );
        let findings: Vec<Finding> = gaps.iter().map(|g| self.gap_finding(g, at)).collect();
        let published = self
            .publish_findings(&findings, now)
            .await
            .map_err(IntegrityError::GapCheck)?;
        let count = gaps.len() as f64;
        let datums = vec![
            self.datum(IntegrityFailure::DeliveryGap.metric_name(), count, now),
            self.datum(names::INTEGRITY_FAILURES, count, now),
        ];
        self.publish_metrics(&datums)
            .await
            .map_err(IntegrityError::GapCheck)?;
        info!(
            regions = rows.len(),
            gaps = gaps.len(),
            published,
            "delivery-gap check done"
        );
        Ok(json!({
            "regionsChecked": rows.len(),
            "gaps": gaps.len(),
            "findingsPublished": published,
            "trailLogging": logging,
        }))
    }

    /// The finding for one gap, logged as it is made.
    fn gap_finding(&self, g: &TrailGap, at: OffsetDateTime) -> Finding {
        warn!(
            account = %g.account,
            trail = %g.trail,
            region = %g.gap.region,
            newest = ?g.gap.newest_digest_end.map(format_display),
            "no digest delivered within the gap threshold"
        );
        let context = GapContext {
            account: g.account.clone(),
            trail: g.trail.clone(),
            newest_digest: g.newest_digest.clone(),
            threshold: self.config.gap,
        };
        gap_finding(&g.gap, &context, at)
    }

    async fn trail_logging(&self, trail: &TrailArn) -> Result<bool, IntegrityError> {
        let Some(client) = &self.cloudtrail else {
            return Ok(true);
        };
        let status = client
            .get_trail_status()
            .name(&trail.arn)
            .send()
            .await
            .map_err(|e| {
                IntegrityError::GapCheck(format!(
                    "GetTrailStatus for {}: {}; check the cloudtrail:GetTrailStatus permission",
                    trail.arn,
                    aws_sdk_cloudtrail::error::DisplayErrorContext(e)
                ))
            })?;
        Ok(status.is_logging().unwrap_or(false))
    }

    fn datum(&self, name: &str, value: f64, now: i64) -> Datum {
        Datum {
            rule_id: None,
            references: Vec::new(),
            namespace: self.config.namespace.clone(),
            metric_name: name.to_owned(),
            dimensions: Vec::new(),
            timestamp: now,
            value,
            unit: "Count".to_owned(),
        }
    }

    /// Counts of one delivery invocation; every kind is sent, zeros too, so
    /// dashboards show checks that found nothing.
    fn validation_datums(&self, tally: &Tally, now: i64) -> Vec<Datum> {
        let mut datums = vec![
            self.datum(
                names::DIGEST_FILES_VALIDATED,
                tally.digests_valid as f64,
                now,
            ),
            self.datum(names::LOG_FILES_VALIDATED, tally.logs_valid as f64, now),
            self.datum(
                names::INTEGRITY_FAILURES,
                tally.total_failures() as f64,
                now,
            ),
        ];
        datums.extend(
            IntegrityFailure::ALL
                .iter()
                .filter(|kind| **kind != IntegrityFailure::DeliveryGap)
                .map(|kind| self.datum(kind.metric_name(), tally.failures_of(*kind) as f64, now)),
        );
        datums
    }

    async fn publish_metrics(&self, datums: &[Datum]) -> Result<(), String> {
        cloudwatch::publish(&self.cloudwatch, datums, None)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Publishes findings not published before; an error names what failed.
    async fn publish_findings(&self, findings: &[Finding], now: i64) -> Result<usize, String> {
        let ledger = self.findings.as_ref();
        let (fresh, claimed) = dedup::claim_fresh(ledger, findings, now).await?;
        let outgoing: Vec<Outgoing> = fresh.iter().map(|f| Outgoing::of(f)).collect();
        let rejected = sns::publish(&self.sns, &self.config.topic_arn, &outgoing).await;
        dedup::settle(ledger, &claimed, &rejected, fresh.len(), now).await
    }
}

/// Each digest file is checked into the message's findings, newest
/// digests and tally.
impl Consumer for IntegrityService {
    type Output = Checked;

    fn kind(&self) -> KeyKind {
        KeyKind::Digest
    }

    fn ledger(&self) -> Option<&Ledger> {
        self.digests.as_ref()
    }

    async fn consume(
        &self,
        object: &ObjectRef,
        _now: i64,
        _limits: &ReadLimits,
        out: &mut Checked,
        report: &mut DeliveryReport,
    ) -> Result<(), ObjectFailure> {
        let info = keys::classify(&object.key);
        let key_time = trailguard_engine::integrity::layout::digest_key_time(&object.key);
        let (KeyKind::Digest, Some(account), Some(region), Some(name), Some(key_time)) =
            (info.kind, info.account, info.region, info.digest, key_time)
        else {
            report.files_skipped += 1;
            return Ok(());
        };
        let target = trailguard_engine::integrity::ObjectRef::new(&object.bucket, &object.key);
        let store = S3Store::new(self.s3.clone(), Handle::current());
        let keys = match &self.keys {
            Keys::CloudTrail(sdk) => {
                KeySource::CloudTrail(CloudTrailKeys::new(sdk, &region, Handle::current()))
            }
            Keys::Given(keys) => KeySource::Given(Arc::clone(keys)),
        };
        let (at, in_region) = (target.clone(), region.clone());
        // The check blocks on every S3 read, so it runs on a blocking thread.
        let checked = tokio::task::spawn_blocking(move || {
            check_digest(&store, &keys, &at, &in_region, key_time)
        })
        .await
        .map_err(|e| format!("{object}: integrity check task failed: {e}"))?
        .map_err(|e| format!("{object}: {e}"))?;
        let context = DigestContext {
            digest: target,
            account: account.clone(),
            region: region.clone(),
            trail: name.trail_name.clone(),
            end: key_time,
        };
        for judged in &checked.report.findings {
            out.tally.count(judged);
            if let Some(finding) = validation_finding(judged, &context) {
                warn!(rule = %finding.rule.id, "{judged}");
                out.findings.push(finding);
            }
        }
        if let Some(file) = &checked.authentic {
            out.newest.push(Newest {
                account,
                region,
                trail: name.trail_name,
                end: file.end,
                digest: object.to_string(),
            });
        }
        info!(
            object = %object,
            valid = checked.report.is_valid(),
            logs = checked.report.logs().total(),
            "digest checked"
        );
        report.files_processed += 1;
        Ok(())
    }
}

/// Whether `payload` is the EventBridge schedule's event.
pub fn is_scheduled(payload: &Value) -> bool {
    payload.get("source").and_then(Value::as_str) == Some("aws.events")
        && payload.get("detail-type").and_then(Value::as_str) == Some("Scheduled Event")
}

#[cfg(test)]
mod tests;
