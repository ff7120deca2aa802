//! The remediator's settings, from `TRAILGUARD_*` variables: the tables,
//! topics and queue it records with, the guard and the rate limit.

use trailguard_engine::remediation::guard::{GuardConfig, GuardConfigError};
use trailguard_engine::remediation::origin::TrustedSources;
use trailguard_engine::remediation::rate::{RateLimit, RateLimitError};

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

#[cfg(test)]
mod tests {
    use super::*;
    use trailguard_engine::remediation::actions::ActionKind;

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
}
