//! The `metrics` function: log-file deliveries in, CloudWatch datapoints out.
//!
//! Per invocation: unwrap the delivery; for each log file, claim it in the
//! idempotency ledger, stream it through the catalogue into a per-message
//! [`Aggregator`]; then publish the merged datapoints of every message that
//! succeeded in as few `PutMetricData` calls as the limits allow (or as EMF
//! lines), and only then mark those files done. A message whose file failed
//! contributes nothing and is retried whole.

use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use serde_json::Value;
use thiserror::Error;
use tracing::{info, warn};

use crate::ledger::Ledger;
use crate::pipeline::{
    self, Consumer, DeliveryLimits, DeliveryReport, HandlerError, ObjectFailure,
};
use crate::rule_sources::{self, RuleSource, RuleSourceError};
use crate::sinks::cloudwatch;
use trailguard_aws::{ObjectMeta, open_object, s3_client};
use trailguard_engine::config::{self, ConfigError, Lookup};
use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::keys::KeyKind;
use trailguard_engine::metrics::{Aggregator, AggregatorConfig, emf, names};
use trailguard_engine::reader::ReadLimits;
use trailguard_engine::rules::{Catalogue, CatalogueError};
use trailguard_engine::scan::{FileSummary, RecordFilter, scan_file_within};

/// Where datapoints go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsSink {
    /// `PutMetricData` calls.
    CloudWatch,
    /// Embedded Metric Format lines on stdout (no API calls).
    Emf,
}

/// The `metrics` function's settings, from `TRAILGUARD_*` variables.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// Namespaces and troubleshooting-metric settings.
    pub aggregator: AggregatorConfig,
    /// `TRAILGUARD_METRICS_SINK`: `cloudwatch` (default) or `emf`.
    pub sink: MetricsSink,
    /// `TRAILGUARD_IDEMPOTENCY_TABLE`: the ledger table; without it a
    /// redelivered file is counted again.
    pub idempotency_table: Option<String>,
    /// `TRAILGUARD_BUILTIN_RULES` (default true): load the CIS rules.
    pub builtin_rules: bool,
    /// `TRAILGUARD_RULES`: extra rule files (paths, `s3://`, `ssm:`), in order.
    pub rule_sources: Vec<RuleSource>,
    /// `TRAILGUARD_MAX_DATAPOINT_AGE_DAYS` (default 14, CloudWatch's limit;
    /// 0 = no limit, for replaying old logs into a store that accepts them).
    pub max_datapoint_age_secs: Option<i64>,
    /// `TRAILGUARD_CONCURRENCY` (default 4): messages processed at once.
    pub concurrency: usize,
    /// Caps on one object and the deadline margin (see [`DeliveryLimits`]).
    pub limits: DeliveryLimits,
}

impl MetricsConfig {
    /// Reads the configuration through `env`.
    pub fn from_env(env: Lookup<'_>) -> Result<MetricsConfig, StartupError> {
        let defaults = AggregatorConfig::default();
        let sink = match config::optional(env, "TRAILGUARD_METRICS_SINK").as_deref() {
            None | Some("cloudwatch") => MetricsSink::CloudWatch,
            Some("emf") => MetricsSink::Emf,
            Some(other) => {
                return Err(ConfigError {
                    variable: "TRAILGUARD_METRICS_SINK".to_owned(),
                    value: other.to_owned(),
                    reason: "expected cloudwatch or emf".to_owned(),
                }
                .into());
            }
        };
        let age_days = config::integer(env, "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS", 14)?;
        let services_cap = config::integer(env, "TRAILGUARD_API_ERROR_SERVICES_CAP", 50)?;
        Ok(MetricsConfig {
            aggregator: AggregatorConfig {
                namespace: config::optional(env, "TRAILGUARD_NAMESPACE")
                    .unwrap_or(defaults.namespace),
                ops_namespace: config::optional(env, "TRAILGUARD_OPS_NAMESPACE")
                    .unwrap_or(defaults.ops_namespace),
                api_errors: config::boolean(env, "TRAILGUARD_API_ERROR_METRICS", true)?,
                api_error_services_cap: usize::try_from(services_cap).unwrap_or(usize::MAX),
            },
            sink,
            idempotency_table: config::optional(env, "TRAILGUARD_IDEMPOTENCY_TABLE"),
            builtin_rules: config::boolean(env, "TRAILGUARD_BUILTIN_RULES", true)?,
            rule_sources: rule_sources::parse_list(
                &config::optional(env, "TRAILGUARD_RULES").unwrap_or_default(),
            )?,
            max_datapoint_age_secs: (age_days > 0)
                .then(|| i64::try_from(age_days.saturating_mul(86_400)).unwrap_or(i64::MAX)),
            concurrency: usize::try_from(config::integer(env, "TRAILGUARD_CONCURRENCY", 4)?)
                .unwrap_or(4)
                .max(1),
            limits: DeliveryLimits::from_env(env)?,
        })
    }
}

/// Why the function cannot start: it refuses to run with a partial setup.
#[derive(Debug, Error)]
pub enum StartupError {
    /// A variable is malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A rule source is malformed or unreadable.
    #[error(transparent)]
    RuleSource(#[from] RuleSourceError),
    /// A rule file does not load.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

/// Everything the `metrics` function builds once per cold start.
#[derive(Debug, Clone)]
pub struct MetricsService {
    config: MetricsConfig,
    catalogue: Arc<Catalogue>,
    s3: aws_sdk_s3::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    ledger: Option<Ledger>,
}

impl MetricsService {
    /// Builds clients and loads the rules named in `config`.
    pub async fn new(config: MetricsConfig, sdk: &SdkConfig) -> Result<Self, StartupError> {
        let s3 = s3_client(sdk);
        let ssm = aws_sdk_ssm::Client::new(sdk);
        let texts = rule_sources::fetch_all(&config.rule_sources, &s3, &ssm).await?;
        // Only rules that feed a metric cost this function anything.
        let catalogue =
            Catalogue::load(config.builtin_rules, &texts)?.retain(|r| r.spec().metric.is_some());
        info!(
            rules = catalogue.rules().len(),
            sources = texts.len(),
            "rule catalogue loaded"
        );
        let ledger = config
            .idempotency_table
            .as_ref()
            .map(|table| Ledger::new(aws_sdk_dynamodb::Client::new(sdk), table.clone(), "metrics"));
        if ledger.is_none() {
            warn!("TRAILGUARD_IDEMPOTENCY_TABLE not set: redelivered files will be counted again");
        }
        Ok(MetricsService {
            config,
            catalogue: Arc::new(catalogue),
            s3,
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            ledger,
        })
    }

    /// The loaded rules.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// Handles one invocation at time `now` (epoch seconds) that must end
    /// by `deadline` (the Lambda deadline; `None`: no limit).
    pub async fn handle(
        &self,
        payload: &Value,
        now: i64,
        deadline: Option<Instant>,
    ) -> Result<Value, HandlerError> {
        let limits = self.config.limits.within(deadline);
        let mut batch = pipeline::run(self, payload, now, &limits, self.config.concurrency).await?;
        let mut total = Aggregator::new(self.config.aggregator.clone());
        for aggregator in batch.succeeded() {
            if let Some(aggregator) = aggregator.take() {
                total.merge(aggregator);
            }
        }
        let so_far = batch.report();
        for (name, count) in [
            (names::FILES_SKIPPED, so_far.files_skipped),
            (names::FILES_DUPLICATE, so_far.files_duplicate),
            (names::FILES_FAILED, so_far.failures.len() as u64),
        ] {
            total.operational(name, now, count as f64, "Count");
        }
        if let Err(reason) = self.publish(&total, now).await {
            warn!(%reason, "publishing metrics failed; every file of this invocation will be retried");
            batch.fail_succeeded(&reason);
        }
        let report = batch.finish(self.ledger.as_ref(), now).await;
        info!(
            files = report.files_processed,
            skipped = report.files_skipped,
            duplicate = report.files_duplicate,
            failed = report.failures.len(),
            records = report.records,
            rejected = report.records_rejected,
            "delivery handled"
        );
        report.into_response()
    }

    async fn publish(&self, total: &Aggregator, now: i64) -> Result<(), String> {
        let datums = total.datums();
        let oldest = self.config.max_datapoint_age_secs.map(|age| now - age);
        match self.config.sink {
            MetricsSink::CloudWatch => {
                let sent = cloudwatch::publish(&self.cloudwatch, &datums, oldest)
                    .await
                    .map_err(|e| e.to_string())?;
                if sent.too_old > 0 {
                    warn!(
                        datapoints = sent.too_old,
                        "datapoints older than TRAILGUARD_MAX_DATAPOINT_AGE_DAYS not sent"
                    );
                }
                info!(
                    calls = sent.calls,
                    datapoints = sent.sent,
                    "metrics published"
                );
            }
            MetricsSink::Emf => {
                let fresh: Vec<_> = datums
                    .into_iter()
                    .filter(|d| oldest.is_none_or(|o| d.timestamp >= o))
                    .collect();
                for line in emf::lines(&fresh) {
                    println!("{line}");
                }
            }
        }
        Ok(())
    }
}

/// Each log file is counted into the message's aggregator.
impl Consumer for MetricsService {
    type Output = Option<Aggregator>;

    fn kind(&self) -> KeyKind {
        KeyKind::Log
    }

    fn ledger(&self) -> Option<&Ledger> {
        self.ledger.as_ref()
    }

    async fn consume(
        &self,
        object: &ObjectRef,
        now: i64,
        limits: &ReadLimits,
        out: &mut Option<Aggregator>,
        report: &mut DeliveryReport,
    ) -> Result<(), ObjectFailure> {
        let (body, meta) = open_object(&self.s3, object)
            .await
            .map_err(|e| e.to_string())?;
        let catalogue = Arc::clone(&self.catalogue);
        let config = self.config.aggregator.clone();
        let source = object.to_string();
        let fallback = meta.last_modified.unwrap_or(now);
        let limits = *limits;
        let scanned = tokio::task::spawn_blocking(move || {
            let mut agg = Aggregator::new(config);
            let summary = scan_file_within(
                body,
                &source,
                &catalogue,
                &RecordFilter::default(),
                &limits,
                |record, rules| {
                    agg.count_record(record, rules, fallback);
                },
            );
            summary.map(|s| (agg, s))
        })
        .await
        .map_err(|e| format!("{object}: processing task failed: {e}"))?;
        let (mut agg, summary) = scanned?;
        for rejection in &summary.rejections {
            warn!(object = %object, %rejection, "record rejected");
        }
        count_file(&mut agg, &summary, &meta, now);
        info!(
            object = %object,
            records = summary.records,
            rejected = summary.rejected,
            matches = summary.matches,
            "log file processed"
        );
        match out {
            Some(total) => total.merge(agg),
            None => *out = Some(agg),
        }
        report.files_processed += 1;
        report.records += summary.records;
        report.records_rejected += summary.rejected;
        Ok(())
    }
}

/// The operational datapoints of one processed file.
fn count_file(agg: &mut Aggregator, summary: &FileSummary, meta: &ObjectMeta, now: i64) {
    for (name, count) in [
        (names::FILES_PROCESSED, 1),
        (names::RECORDS_PROCESSED, summary.records),
        (names::RECORDS_REJECTED, summary.rejected),
        (
            names::RECORDS_WITHOUT_EVENT_TIME,
            summary.without_event_time,
        ),
    ] {
        agg.operational(name, now, count as f64, "Count");
    }
    if let (Some(delivered), Some(newest)) = (meta.last_modified, summary.newest_event_time) {
        agg.operational(
            names::PROCESSING_LAG_SECONDS,
            now,
            (delivered - newest).max(0) as f64,
            "Seconds",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_overrides() {
        let empty = |_: &str| None;
        let c = MetricsConfig::from_env(&empty).unwrap();
        assert_eq!(c.sink, MetricsSink::CloudWatch);
        assert_eq!(c.max_datapoint_age_secs, Some(14 * 86_400));
        assert!(c.builtin_rules && c.aggregator.api_errors);
        assert_eq!(c.aggregator.namespace, "CloudTrailMetrics");

        let env = |n: &str| {
            match n {
                "TRAILGUARD_METRICS_SINK" => Some("emf"),
                "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS" => Some("0"),
                "TRAILGUARD_RULES" => Some("s3://b/r.yaml"),
                "TRAILGUARD_NAMESPACE" => Some("Sec"),
                _ => None,
            }
            .map(str::to_owned)
        };
        let c = MetricsConfig::from_env(&env).unwrap();
        assert_eq!(c.sink, MetricsSink::Emf);
        assert_eq!(c.max_datapoint_age_secs, None);
        assert_eq!(c.rule_sources.len(), 1);
        assert_eq!(c.aggregator.namespace, "Sec");

        let bad = |n: &str| (n == "TRAILGUARD_METRICS_SINK").then(|| "statsd".to_owned());
        let err = MetricsConfig::from_env(&bad).unwrap_err().to_string();
        assert!(err.contains("TRAILGUARD_METRICS_SINK"), "{err}");
    }
}
