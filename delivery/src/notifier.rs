//! The `notifier` function: log-file deliveries in, findings on SNS out.
//!
//! Per invocation: unwrap the delivery; for each log file, claim it, stream
//! it once through the trailguard rules and the Sigma rules (one typed parse
//! per record, read in place by both engines), turn matches into findings
//! (the event's facets built once per matching record),
//! drop suppressed ones, cap floods per rule and file; then publish, skipping
//! findings already published (dedup on the finding id), and mark files
//! done. With `TRAILGUARD_SECURITYHUB` on, the findings published are also
//! imported into Security Hub; a finding counts as published only once both
//! accepted it. With `TRAILGUARD_CHAT_TOPIC_ARN`, findings at or above
//! `TRAILGUARD_CHAT_MIN_SEVERITY` also go to that topic as chat messages
//! (`findings::chat`), on the same terms. A file whose findings could not
//! all be published is retried.
//!
//! Sigma correlation rules (built-in with `TRAILGUARD_SIGMA`, and any in
//! Sigma files among `TRAILGUARD_RULES`) see every file: the matches of
//! their input rules are kept as hits in `TRAILGUARD_CORRELATION_TABLE`
//! (`correlation_state`), and the findings they complete are published
//! with the message's own, through the same dedup and sinks.

use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use serde_json::Value;
use thiserror::Error;
use tracing::{info, warn};

use trailguard_aws::{open_object, s3_client};
use trailguard_engine::config::{self, ConfigError, Lookup};
use trailguard_engine::detect::Detector;
use trailguard_engine::envelope::ObjectRef;
use trailguard_engine::findings::{Finding, repeat};
use trailguard_engine::keys::KeyKind;
use trailguard_engine::metrics::{self, AggregatorConfig, emf};
use trailguard_engine::reader::ReadLimits;
use trailguard_engine::rules::{Catalogue, CatalogueError, RuleText, Severity};
use trailguard_engine::sigma::correlation::CorrelationInput;
use trailguard_engine::sigma::{
    BUILTIN_FILES, CORRELATION_FILES, SigmaRules, SkipReason, is_sigma_text,
};

use crate::correlation_state::CorrelationState;
use crate::correlation_store::HitStore;
use crate::dedup;
use crate::ledger::Ledger;
use crate::pipeline::{
    self, Consumer, DeliveryLimits, DeliveryReport, HandlerError, ObjectFailure,
};
use crate::rule_sources::{self, RuleSource, RuleSourceError};
use crate::sinks::security_hub::{Importer, ImporterError};
use crate::sinks::sns::{self, Outgoing};

/// The `notifier` function's settings, from `TRAILGUARD_*` variables.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// `TRAILGUARD_FINDINGS_TOPIC_ARN` (required): where findings go.
    pub topic_arn: String,
    /// `TRAILGUARD_DEDUP_TABLE`: ledger table for processed files and
    /// published findings; without it redeliveries notify again.
    pub dedup_table: Option<String>,
    /// `TRAILGUARD_CORRELATION_TABLE`: where correlation hits are kept
    /// across files and invocations; without it a correlation sees one
    /// message's files only.
    pub correlation_table: Option<String>,
    /// `TRAILGUARD_BUILTIN_RULES` (default true): CIS and detection rules.
    pub builtin_rules: bool,
    /// `TRAILGUARD_RULES`: extra rule files (and suppressions), in order.
    pub rule_sources: Vec<RuleSource>,
    /// `TRAILGUARD_SIGMA` (default true): run the bundled SigmaHQ rules.
    pub sigma: bool,
    /// `TRAILGUARD_MIN_SEVERITY` (default `low`): quieter findings are dropped.
    pub min_severity: Severity,
    /// `TRAILGUARD_FLOOD_CAP` (default 100): findings per rule per file
    /// before the rest is summarised.
    pub flood_cap: usize,
    /// `TRAILGUARD_REPEAT_WINDOW_SECS` (default 3600): repeats of a rule by
    /// one principal within a window of event time fold into one finding
    /// with a count; 0 publishes every match on its own.
    pub repeat_window: u64,
    /// `TRAILGUARD_CONCURRENCY` (default 4): messages processed at once.
    pub concurrency: usize,
    /// `TRAILGUARD_SECURITYHUB` (default false): also import findings into
    /// Security Hub.
    pub security_hub: bool,
    /// Caps on one object and the deadline margin (see [`DeliveryLimits`]).
    pub limits: DeliveryLimits,
    /// `TRAILGUARD_CIS_FINDINGS` (default false): the CIS controls publish a
    /// finding per match too, not only their metrics.
    pub cis_findings: bool,
    /// `TRAILGUARD_CHAT_TOPIC_ARN` and `TRAILGUARD_CHAT_MIN_SEVERITY`
    /// (default `high`): where chat messages go, and from which severity.
    pub chat: Option<ChatConfig>,
    /// `TRAILGUARD_OPS_NAMESPACE` (default `Trailguard`): where the count
    /// of findings published per severity goes (as EMF log lines).
    pub ops_namespace: String,
}

/// The chat topic's settings.
#[derive(Debug, Clone)]
pub struct ChatConfig {
    /// The topic Chatbot (Amazon Q Developer) channels subscribe to.
    pub topic_arn: String,
    /// Quieter findings are not sent to chat.
    pub min_severity: Severity,
}

impl ChatConfig {
    /// Reads the chat settings; `None` without a topic.
    fn from_env(env: Lookup<'_>) -> Result<Option<ChatConfig>, ConfigError> {
        let Some(topic_arn) = config::optional(env, "TRAILGUARD_CHAT_TOPIC_ARN") else {
            return Ok(None);
        };
        let min_severity = config::severity(env, "TRAILGUARD_CHAT_MIN_SEVERITY", Severity::High)?;
        Ok(Some(ChatConfig {
            topic_arn,
            min_severity,
        }))
    }
}

impl NotifierConfig {
    /// Reads the configuration through `env`.
    pub fn from_env(env: Lookup<'_>) -> Result<NotifierConfig, NotifierStartupError> {
        let topic_arn =
            config::optional(env, "TRAILGUARD_FINDINGS_TOPIC_ARN").ok_or_else(|| ConfigError {
                variable: "TRAILGUARD_FINDINGS_TOPIC_ARN".to_owned(),
                value: String::new(),
                reason: "required: the SNS topic findings are published to".to_owned(),
            })?;
        let min_severity = config::severity(env, "TRAILGUARD_MIN_SEVERITY", Severity::Low)?;
        Ok(NotifierConfig {
            topic_arn,
            dedup_table: config::optional(env, "TRAILGUARD_DEDUP_TABLE"),
            correlation_table: config::optional(env, "TRAILGUARD_CORRELATION_TABLE"),
            builtin_rules: config::boolean(env, "TRAILGUARD_BUILTIN_RULES", true)?,
            rule_sources: rule_sources::parse_list(
                &config::optional(env, "TRAILGUARD_RULES").unwrap_or_default(),
            )?,
            sigma: config::boolean(env, "TRAILGUARD_SIGMA", true)?,
            min_severity,
            flood_cap: usize::try_from(config::integer(env, "TRAILGUARD_FLOOD_CAP", 100)?)
                .unwrap_or(100)
                .max(1),
            repeat_window: config::integer(
                env,
                "TRAILGUARD_REPEAT_WINDOW_SECS",
                repeat::DEFAULT_WINDOW_SECS,
            )?,
            concurrency: usize::try_from(config::integer(env, "TRAILGUARD_CONCURRENCY", 4)?)
                .unwrap_or(4)
                .max(1),
            security_hub: config::boolean(env, "TRAILGUARD_SECURITYHUB", false)?,
            limits: DeliveryLimits::from_env(env)?,
            cis_findings: config::boolean(env, "TRAILGUARD_CIS_FINDINGS", false)?,
            chat: ChatConfig::from_env(env)?,
            ops_namespace: config::optional(env, "TRAILGUARD_OPS_NAMESPACE")
                .unwrap_or_else(|| AggregatorConfig::default().ops_namespace),
        })
    }
}

/// Why the notifier cannot start.
#[derive(Debug, Error)]
pub enum NotifierStartupError {
    /// A variable is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A rule source is malformed or unreadable.
    #[error(transparent)]
    RuleSource(#[from] RuleSourceError),
    /// A rule file does not load.
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
    /// A Sigma file among the rule sources has rules that do not load.
    #[error("Sigma rules in TRAILGUARD_RULES do not load:\n{0}")]
    Sigma(String),
    /// Security Hub import is on but its account or region is unknown.
    #[error(transparent)]
    SecurityHub(#[from] ImporterError),
}

/// Everything the `notifier` builds once per cold start.
pub struct NotifierService {
    config: NotifierConfig,
    engine: Arc<Detector>,
    s3: aws_sdk_s3::Client,
    sns: aws_sdk_sns::Client,
    security_hub: Option<Importer>,
    files: Option<Ledger>,
    findings: Option<Ledger>,
    /// `None` when no correlation rule is loaded.
    correlating: Option<CorrelationState>,
}

/// What one message's log files gave.
#[derive(Debug, Default)]
pub struct Scanned {
    /// Findings to publish.
    pub findings: Vec<Finding>,
    /// Matches of the rules feeding correlations (see `correlation_state`).
    pub correlation_inputs: Vec<CorrelationInput>,
}

impl NotifierService {
    /// Builds clients and loads every rule named in `config`.
    pub async fn new(
        config: NotifierConfig,
        sdk: &SdkConfig,
    ) -> Result<NotifierService, NotifierStartupError> {
        let s3 = s3_client(sdk);
        let ssm = aws_sdk_ssm::Client::new(sdk);
        let texts = rule_sources::fetch_all(&config.rule_sources, &s3, &ssm).await?;
        let engine = detector(&config, &texts)?;
        let correlating = correlating(&config, &engine, sdk);
        let ledger = |consumer: &str| {
            config
                .dedup_table
                .as_ref()
                .map(|t| Ledger::new(aws_sdk_dynamodb::Client::new(sdk), t.clone(), consumer))
        };
        if config.dedup_table.is_none() {
            warn!("TRAILGUARD_DEDUP_TABLE not set: redelivered files will notify again");
        }
        let security_hub = if config.security_hub {
            Some(Importer::connect(sdk).await?)
        } else {
            None
        };
        Ok(NotifierService {
            security_hub,
            files: ledger("notifier"),
            findings: ledger("finding"),
            correlating,
            engine: Arc::new(engine),
            s3,
            sns: aws_sdk_sns::Client::new(sdk),
            config,
        })
    }

    /// The rules in use.
    pub fn detector(&self) -> &Detector {
        &self.engine
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
        let mut published = 0usize;
        batch
            .settle_each(async |scanned: &Scanned| {
                let mut findings = scanned.findings.clone();
                findings.extend(self.correlate(&scanned.correlation_inputs).await?);
                published += self.publish(&findings, now).await?;
                Ok(())
            })
            .await;
        let report = batch.finish(self.files.as_ref(), now).await;
        info!(
            files = report.files_processed,
            findings = published,
            failed = report.failures.len(),
            "delivery handled"
        );
        report.into_response()
    }

    /// The correlation findings at or above the minimum severity that
    /// `inputs` (one message's correlation inputs) complete.
    async fn correlate(&self, inputs: &[CorrelationInput]) -> Result<Vec<Finding>, String> {
        let Some(state) = &self.correlating else {
            return Ok(Vec::new());
        };
        let mut found = state.correlate(inputs).await.map_err(|e| e.to_string())?;
        found.retain(|f| f.rule.severity >= self.config.min_severity);
        if !found.is_empty() {
            info!(findings = found.len(), "correlations fired");
        }
        Ok(found)
    }

    /// Publishes findings not published before (to SNS, then those SNS
    /// accepted to Security Hub when on); an error names what failed.
    async fn publish(&self, findings: &[Finding], now: i64) -> Result<usize, String> {
        let ledger = self.findings.as_ref();
        let (fresh, claimed) = dedup::claim_fresh(ledger, findings, now).await?;
        let outgoing: Vec<Outgoing> = fresh.iter().map(|f| Outgoing::of(f)).collect();
        let mut rejected = sns::publish(&self.sns, &self.config.topic_arn, &outgoing).await;
        if let Some(hub) = &self.security_hub {
            let published: Vec<&Finding> = fresh
                .iter()
                .filter(|f| !rejected.iter().any(|r| r.finding_id == f.id))
                .copied()
                .collect();
            rejected.extend(hub.import(&published, now).await);
        }
        if let Some(chat) = &self.config.chat {
            let chatty: Vec<Outgoing> = fresh
                .iter()
                .filter(|f| f.rule.severity >= chat.min_severity)
                .filter(|f| !rejected.iter().any(|r| r.finding_id == f.id))
                .map(|f| Outgoing::chat(f))
                .collect();
            rejected.extend(sns::publish(&self.sns, &chat.topic_arn, &chatty).await);
        }
        let accepted = fresh
            .iter()
            .filter(|f| !rejected.iter().any(|r| r.finding_id == f.id))
            .copied();
        for line in emf::lines(&metrics::findings::per_severity(
            accepted,
            &self.config.ops_namespace,
            now,
        )) {
            println!("{line}");
        }
        dedup::settle(ledger, &claimed, &rejected, fresh.len(), now).await
    }
}

/// Each log file is scanned into the message's findings.
impl Consumer for NotifierService {
    type Output = Scanned;

    fn kind(&self) -> KeyKind {
        KeyKind::Log
    }

    fn ledger(&self) -> Option<&Ledger> {
        self.files.as_ref()
    }

    async fn consume(
        &self,
        object: &ObjectRef,
        _now: i64,
        limits: &ReadLimits,
        out: &mut Scanned,
        report: &mut DeliveryReport,
    ) -> Result<(), ObjectFailure> {
        let (body, _meta) = open_object(&self.s3, object)
            .await
            .map_err(|e| e.to_string())?;
        let engine = Arc::clone(&self.engine);
        let target = object.clone();
        let limits = *limits;
        let scanned =
            tokio::task::spawn_blocking(move || engine.scan_within(body, &target, None, &limits))
                .await
                .map_err(|e| format!("{object}: processing task failed: {e}"))??;
        info!(
            object = %object,
            records = scanned.records,
            findings = scanned.findings.len(),
            suppressed = scanned.suppressed,
            held_back = scanned.held_back,
            correlation_inputs = scanned.correlation_inputs.len(),
            "log file scanned"
        );
        report.files_processed += 1;
        report.records += scanned.records;
        report.records_rejected += scanned.rejected;
        out.findings.extend(scanned.findings);
        out.correlation_inputs.extend(scanned.correlation_inputs);
        Ok(())
    }
}

/// The detector `config` describes, with the user rule files `texts`
/// (fetched from its rule sources; Sigma files told apart by content):
/// what the notifier runs. Correlation inputs are kept for
/// [`CorrelationState`], and rules reporting only through correlations
/// make no findings of their own.
pub fn detector(
    config: &NotifierConfig,
    texts: &[RuleText],
) -> Result<Detector, NotifierStartupError> {
    let (sigma_texts, rule_texts): (Vec<&RuleText>, Vec<&RuleText>) =
        texts.iter().partition(|t| is_sigma_text(&t.text));
    let rule_texts: Vec<RuleText> = rule_texts.into_iter().cloned().collect();
    let catalogue =
        Catalogue::load(config.builtin_rules, &rule_texts)?.with_cis_findings(config.cis_findings);
    let sigma = sigma_rules(config.sigma, &sigma_texts)?;
    info!(rules = catalogue.rules().len(), "rule catalogue loaded");
    Ok(
        Detector::new(catalogue, sigma, config.min_severity, config.flood_cap)?
            .with_repeat_window(config.repeat_window)
            .with_correlation_inputs(),
    )
}

/// The Sigma rules: built-in ones (SigmaHQ and the correlations) when
/// `builtin`, then the user's files; a user rule that does not load stops
/// the start, as in the CLI.
fn sigma_rules(
    builtin: bool,
    user: &[&RuleText],
) -> Result<Option<SigmaRules>, NotifierStartupError> {
    let mut files: Vec<(&str, &str)> = Vec::new();
    if builtin {
        files.extend(BUILTIN_FILES.iter().chain(CORRELATION_FILES).copied());
    }
    files.extend(user.iter().map(|t| (t.origin.as_str(), t.text.as_str())));
    if files.is_empty() {
        return Ok(None);
    }
    let (rules, skipped) = SigmaRules::load(&files);
    let broken: Vec<String> = skipped
        .iter()
        .filter(|s| user.iter().any(|t| t.origin == s.origin))
        .filter(|s| !matches!(s.reason, SkipReason::Replaced(_)))
        .map(ToString::to_string)
        .collect();
    if !broken.is_empty() {
        return Err(NotifierStartupError::Sigma(broken.join("\n")));
    }
    info!("{}", rules.summary(&skipped));
    Ok(Some(rules))
}

/// The correlation state for the detector's correlations, if any.
fn correlating(
    config: &NotifierConfig,
    engine: &Detector,
    sdk: &SdkConfig,
) -> Option<CorrelationState> {
    let correlations = engine.sigma()?.correlations();
    if correlations.is_empty() {
        return None;
    }
    let store = config
        .correlation_table
        .as_ref()
        .map(|t| HitStore::new(aws_sdk_dynamodb::Client::new(sdk), t.clone()));
    if store.is_none() {
        warn!(
            correlations = correlations.len(),
            "TRAILGUARD_CORRELATION_TABLE not set: correlations see one message's files only"
        );
    }
    Some(CorrelationState::new(correlations.clone(), store))
}
