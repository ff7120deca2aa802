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

use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use futures::StreamExt;
use serde_json::Value;
use thiserror::Error;
use tracing::{info, warn};

use super::config::{self, ConfigError, Lookup};
use super::dedup;
use super::delivery::{
    Admission, DeliveryLimits, DeliveryReport, Failure, HandlerError, ObjectFailure, admit,
    first_failure, past_deadline,
};
use super::scan::{RecordFilter, scan_records};
use crate::aws::rule_sources::{self, RuleSource, RuleSourceError};
use crate::aws::{Ledger, open_object, s3_client};
use crate::envelope::{self, Message, ObjectRef};
use crate::findings::asff::{Importer, ImporterError};
use crate::findings::finding::{EventFacts, LogFile};
use crate::findings::flood;
use crate::findings::repeat::{self, Fold, RepeatFold};
use crate::findings::sns::{self, Outgoing};
use crate::findings::{Finding, FloodGate, RuleInfo, Subject, Suppressions};
use crate::metrics::{self, Aggregator, AggregatorConfig, emf};
use crate::reader::{ReadError, ReadLimits};
use crate::record::{KeyField, KeyMemo, Record};
use crate::rules::precision::attempt_severity;
use crate::rules::{Catalogue, CatalogueError, Precision, RuleText, Severity, Verdict};
use crate::sigma::SigmaRules;

/// The `notifier` function's settings, from `TRAILGUARD_*` variables.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// `TRAILGUARD_FINDINGS_TOPIC_ARN` (required): where findings go.
    pub topic_arn: String,
    /// `TRAILGUARD_DEDUP_TABLE`: ledger table for processed files and
    /// published findings; without it redeliveries notify again.
    pub dedup_table: Option<String>,
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
}

/// The rules one pass runs: trailguard rules, suppressions, Sigma rules.
pub struct Detector {
    catalogue: Catalogue,
    suppressions: Suppressions,
    sigma: Option<SigmaRules>,
    min_severity: Severity,
    flood_cap: usize,
    filter: RecordFilter,
    /// What findings say about each rule, built once, in the order of
    /// the catalogue's rules and then the Sigma rules: a rule's place here
    /// is also its number at the flood gate.
    infos: Vec<Arc<RuleInfo>>,
    /// Per rule, in the same order: how a match becomes a finding, and
    /// what an attempt's finding says about the rule.
    precision: Vec<(Precision, Arc<RuleInfo>)>,
    /// Every match reported as it is (`search`), without the precision rules.
    every_match: bool,
    /// Repeats of a rule by one principal within this many seconds fold
    /// into one finding (`findings::repeat`); 0 folds nothing.
    repeat_window: u64,
    /// The fields that decide which rules of both engines are viable.
    key_fields: Vec<KeyField>,
}

/// The rules of each engine worth evaluating on a record, by index: the
/// catalogue's, then Sigma's, in one allocation (this is read for every
/// record).
#[derive(Debug, Clone, Default)]
struct Viable {
    indexes: Box<[usize]>,
    rules: usize,
}

impl Viable {
    fn rules(&self) -> &[usize] {
        self.indexes.get(..self.rules).unwrap_or_default()
    }

    fn sigma(&self) -> &[usize] {
        self.indexes.get(self.rules..).unwrap_or_default()
    }
}

/// What scanning one file produced.
#[derive(Debug, Default)]
pub struct FileFindings {
    /// Findings to publish (suppressed and capped ones removed, summaries added).
    pub findings: Vec<Finding>,
    /// Matches dropped by a suppression.
    pub suppressed: u64,
    /// Matches held back by the flood cap (counted in summaries).
    pub held_back: u64,
    /// Records read.
    pub records: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Matches counted into an earlier finding as repeats.
    pub folded: u64,
    /// Records left out by the detector's record filter.
    pub filtered: u64,
}

impl Detector {
    /// Assembles a detector; suppressions come from the catalogue's files.
    pub fn new(
        catalogue: Catalogue,
        sigma: Option<SigmaRules>,
        min_severity: Severity,
        flood_cap: usize,
    ) -> Result<Detector, CatalogueError> {
        let suppressions =
            Suppressions::new(catalogue.suppressions()).map_err(|reason| CatalogueError::File {
                origin: "suppressions".to_owned(),
                reason,
            })?;
        let infos: Vec<Arc<RuleInfo>> = catalogue
            .rules()
            .iter()
            .map(RuleInfo::of_rule)
            .chain(
                sigma
                    .iter()
                    .flat_map(SigmaRules::rules)
                    .map(RuleInfo::of_sigma),
            )
            .map(Arc::new)
            .collect();
        let precision = catalogue
            .rules()
            .iter()
            .map(|r| r.precision())
            .chain(
                sigma
                    .iter()
                    .flat_map(SigmaRules::rules)
                    .map(|r| r.precision()),
            )
            .zip(&infos)
            .map(|(precision, info)| {
                let attempt = RuleInfo {
                    severity: attempt_severity(info.severity),
                    ..RuleInfo::clone(info)
                };
                (precision, Arc::new(attempt))
            })
            .collect();
        let mut key_fields = catalogue.key_fields();
        for &field in sigma.iter().flat_map(SigmaRules::key_fields) {
            if !key_fields.contains(&field) {
                key_fields.push(field);
            }
        }
        Ok(Detector {
            catalogue,
            suppressions,
            sigma,
            infos,
            precision,
            every_match: false,
            repeat_window: 0,
            key_fields,
            min_severity,
            flood_cap,
            filter: RecordFilter::default(),
        })
    }

    /// The detector `config` describes, with the user rule files `texts`
    /// (fetched from its rule sources): what the notifier runs.
    pub fn configured(
        config: &NotifierConfig,
        texts: &[RuleText],
    ) -> Result<Detector, CatalogueError> {
        let catalogue =
            Catalogue::load(config.builtin_rules, texts)?.with_cis_findings(config.cis_findings);
        let sigma = config.sigma.then(|| {
            let (rules, skipped) = SigmaRules::builtin();
            info!("{}", rules.summary(&skipped));
            rules
        });
        info!(rules = catalogue.rules().len(), "rule catalogue loaded");
        Ok(
            Detector::new(catalogue, sigma, config.min_severity, config.flood_cap)?
                .with_repeat_window(config.repeat_window),
        )
    }

    /// Folds repeats of a rule by one principal within `secs` of event time
    /// into one finding; 0 reports every match on its own.
    pub fn with_repeat_window(mut self, secs: u64) -> Detector {
        self.repeat_window = secs;
        self
    }

    /// Restricts which records are scanned (the CLI's filters).
    pub fn with_filter(mut self, filter: RecordFilter) -> Detector {
        self.filter = filter;
        self
    }

    /// Reports every match as it is: no attempts, AWS services' calls
    /// included (`search`, which shows what a pattern matches).
    pub fn every_match(mut self) -> Detector {
        self.every_match = true;
        self.repeat_window = 0;
        self
    }

    /// The trailguard rules.
    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    /// The Sigma rules, when enabled.
    pub fn sigma(&self) -> Option<&SigmaRules> {
        self.sigma.as_ref()
    }

    /// Scans one file (named `object` in findings and errors) into findings,
    /// and, when `metrics` is given, counts the same pass into it
    /// (`fallback_time` for records without `eventTime`).
    pub fn scan(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
    ) -> Result<FileFindings, ReadError> {
        self.scan_within(input, object, metrics, &ReadLimits::default())
    }

    /// [`Detector::scan`] within `limits` (caps and a deadline).
    pub fn scan_within(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
    ) -> Result<FileFindings, ReadError> {
        let mut findings = Vec::new();
        let mut out = self.scan_each(input, object, metrics, limits, |f| findings.push(f))?;
        out.findings = findings;
        Ok(out)
    }

    /// [`Detector::scan_within`], handing each finding to `each` as soon as
    /// it is made instead of collecting them (flood summaries come last), so
    /// a caller writing findings out holds none of them; the counts come
    /// back with `findings` empty.
    pub fn scan_each(
        &self,
        input: impl std::io::Read,
        object: &ObjectRef,
        mut metrics: Option<(&mut Aggregator, i64)>,
        limits: &ReadLimits,
        mut each: impl FnMut(Finding),
    ) -> Result<FileFindings, ReadError> {
        let mut out = FileFindings::default();
        let mut gate = FloodGate::new(self.flood_cap);
        let mut fold = RepeatFold::new(self.repeat_window);
        let source = object.to_string();
        let log_file = Arc::new(LogFile::of(object));
        // Which rules are viable is decided by a few fields whose values
        // repeat within a file: worked out once per combination.
        let mut memo = KeyMemo::new(self.key_fields.clone());
        let mut matched = Vec::new();
        let mut numbers = Vec::new();
        let first_sigma = self.catalogue.rules().len();
        let summary = scan_records(input, &source, &self.filter, limits, |record| {
            let viable = memo.recall(record, || self.viable(record));
            // Numbered by place: the catalogue's rules, then Sigma's.
            matched.clear();
            numbers.clear();
            self.catalogue
                .matching_among(record, viable.rules(), |i, rule| {
                    matched.push(rule);
                    if rule.spec().finding {
                        numbers.push(i);
                    }
                });
            if let Some((agg, fallback)) = metrics.as_mut() {
                agg.count_record(record, &matched, *fallback);
            }
            if let Some(sigma) = &self.sigma {
                numbers.extend(
                    sigma
                        .matching_among(record, viable.sigma())
                        .map(|(i, _)| first_sigma + i),
                );
            }
            // Suppressions and the flood cap read the record itself, so
            // a suppressed or held-back match builds nothing; the facts
            // are built on the first finding and shared by the others.
            let mut subject = None;
            let mut event: Option<Arc<EventFacts>> = None;
            for (&number, info) in numbers
                .iter()
                .filter_map(|n| Some((n, self.infos.get(*n)?)))
            {
                let (info, attempt) = match self.verdict(number, record) {
                    Verdict::Skip => continue,
                    Verdict::Report => (info, false),
                    Verdict::Attempt => match self.precision.get(number) {
                        Some((_, attempt)) => (attempt, true),
                        None => (info, false),
                    },
                };
                if info.severity < self.min_severity {
                    continue;
                }
                let subject = *subject.get_or_insert_with(|| Subject::of_record(record));
                if self.suppressions.suppressing(&info.id, subject).is_some() {
                    out.suppressed += 1;
                    continue;
                }
                // A repeat is counted into its first finding, which the
                // flood cap already let through: it builds nothing.
                let fold_to = fold.offer(number, record);
                if fold_to == Fold::Counted || !gate.admit(number, record.event_id.as_deref()) {
                    continue;
                }
                let event = event.get_or_insert_with(|| Arc::new(EventFacts::of(record)));
                let mut finding = Finding::on(
                    Arc::clone(info),
                    Arc::clone(event),
                    Some(Arc::clone(&log_file)),
                );
                finding.attempt = attempt;
                if fold_to == Fold::Hold {
                    fold.hold(number, record, finding);
                } else {
                    each(finding);
                }
            }
        })?;
        out.records = summary.records;
        out.rejected = summary.rejected;
        out.filtered = summary.filtered;
        for finding in fold.finish() {
            out.folded += finding.repeats.as_ref().map_or(0, |r| r.count - 1);
            each(finding);
        }
        for overflow in gate.overflows() {
            out.held_back += overflow.held_back as u64;
            if let Some(rule) = self.infos.get(overflow.rule) {
                each(flood::summary_finding(
                    RuleInfo::clone(rule),
                    &overflow,
                    object,
                ));
            }
        }
        Ok(out)
    }
}

impl Detector {
    /// What rule `number`'s match on `record` becomes.
    fn verdict(&self, number: usize, record: &Record<'_>) -> Verdict {
        match self.precision.get(number) {
            Some((precision, _)) if !self.every_match => precision.judge(record),
            _ => Verdict::Report,
        }
    }

    /// The rules of each engine `record` can match.
    fn viable(&self, record: &Record<'_>) -> Viable {
        let rules = self.catalogue.candidates(record);
        let sigma = self
            .sigma
            .as_ref()
            .map_or_else(Box::default, |sigma| sigma.viable(record));
        Viable {
            rules: rules.len(),
            indexes: rules.iter().chain(sigma.iter()).copied().collect(),
        }
    }
}

struct MessageResult {
    id: Option<String>,
    findings: Vec<Finding>,
    claims: Vec<String>,
    report: DeliveryReport,
    failure: Option<ObjectFailure>,
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
        let engine = Detector::configured(&config, &texts)?;
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
        let delivery = envelope::unwrap(payload)?;
        let from_sqs = delivery.from_sqs();
        let limits = self.config.limits.within(deadline);
        let results: Vec<MessageResult> = futures::stream::iter(delivery.messages)
            .map(|m| self.process_message(m, now, &limits))
            .buffered(self.config.concurrency)
            .collect()
            .await;
        let mut report = DeliveryReport {
            from_sqs,
            ..DeliveryReport::default()
        };
        let mut published = 0usize;
        for mut result in results {
            if result.failure.is_none() {
                match self.publish(&result.findings, now).await {
                    Ok(n) => published += n,
                    Err(reason) => result.failure = Some(reason.into()),
                }
            }
            report.add_message(&result.report, result.failure.is_none());
            match result.failure {
                Some(failure) => {
                    dedup::release_all(self.files.as_ref(), &result.claims).await;
                    report.failures.push(Failure::of(result.id, failure));
                }
                None => dedup::complete_all(self.files.as_ref(), &result.claims, now).await,
            }
        }
        info!(
            files = report.files_processed,
            findings = published,
            failed = report.failures.len(),
            "delivery handled"
        );
        report.into_response()
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

    async fn process_message(
        &self,
        message: Message,
        now: i64,
        limits: &ReadLimits,
    ) -> MessageResult {
        let mut result = MessageResult {
            id: message.id.clone(),
            findings: Vec::new(),
            claims: Vec::new(),
            report: DeliveryReport::default(),
            failure: None,
        };
        result.report.notifications_ignored = message.ignored.len() as u64;
        result.failure = first_failure(message.outcome, async |object: &ObjectRef| {
            self.process_object(object, now, limits, &mut result).await
        })
        .await;
        result
    }

    async fn process_object(
        &self,
        object: &ObjectRef,
        now: i64,
        limits: &ReadLimits,
        result: &mut MessageResult,
    ) -> Result<(), ObjectFailure> {
        if let Some(late) = past_deadline(object, limits) {
            return Err(late);
        }
        match admit(object, self.files.as_ref(), now).await? {
            Admission::Process { claim } => result.claims.extend(claim),
            Admission::NotALogFile => {
                result.report.files_skipped += 1;
                return Ok(());
            }
            Admission::AlreadyDone => {
                result.report.files_duplicate += 1;
                return Ok(());
            }
        }
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
            "log file scanned"
        );
        result.report.files_processed += 1;
        result.report.records += scanned.records;
        result.report.records_rejected += scanned.rejected;
        result.findings.extend(scanned.findings);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleText;

    const RULES: &str = r#"
version: 1
rules:
  - id: denied
    title: "Access denied"
    severity: medium
    references: [attack:T1580]
    pattern: '{ $.errorCode = "AccessDenied" }'
suppressions:
  - rules: [denied]
    principals: ["arn:aws:iam::111122223333:user/scanner"]
    reason: the inventory scanner probes everything
"#;

    fn detector(flood_cap: usize) -> Detector {
        let text = RuleText {
            origin: "test.yaml".to_owned(),
            text: RULES.to_owned(),
        };
        let catalogue = Catalogue::load(false, &[text]).unwrap();
        Detector::new(catalogue, None, Severity::Informational, flood_cap).unwrap()
    }

    /// A log file of `n` AccessDenied records by `user`, ids `<user>-<i>`.
    fn log(users: &[(&str, usize)]) -> String {
        let records: Vec<String> = users
            .iter()
            .flat_map(|&(user, n)| {
                (0..n).map(move |i| {
                    format!(
                        r#"{{"eventID":"{user}-{i}","eventName":"GetObject","errorCode":"AccessDenied","userIdentity":{{"arn":"arn:aws:iam::111122223333:user/{user}"}}}}"#
                    )
                })
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(","))
    }

    fn ids(found: &FileFindings) -> Vec<String> {
        found
            .findings
            .iter()
            .filter_map(|f| f.event.event_id.clone())
            .collect()
    }

    #[test]
    fn suppressed_matches_are_counted_not_reported() {
        let text = log(&[("scanner", 3), ("alice", 2)]);
        let object = ObjectRef::new("bucket", "key.json");
        let found = detector(100).scan(text.as_bytes(), &object, None).unwrap();
        assert_eq!(found.suppressed, 3);
        assert_eq!(ids(&found), ["alice-0", "alice-1"]);
        assert_eq!(found.records, 5);
    }

    #[test]
    fn a_flood_is_capped_and_summed_up_after_suppressions() {
        let text = log(&[("scanner", 2), ("alice", 5)]);
        let object = ObjectRef::new("bucket", "key.json");
        let found = detector(2).scan(text.as_bytes(), &object, None).unwrap();
        assert_eq!(found.suppressed, 2);
        assert_eq!(found.held_back, 3);
        assert_eq!(found.findings.len(), 3, "two findings and one summary");
        assert_eq!(ids(&found)[..2], ["alice-0", "alice-1"]);
        let summary = &found.findings[2];
        assert_eq!(summary.rule.id, "denied");
        assert!(
            summary.rule.title.contains("3 more matches"),
            "{}",
            summary.rule.title
        );
        let sent = serde_json::to_value(summary).unwrap();
        assert_eq!(
            sent["what"]["eventName"], "trailguard:FloodSummary",
            "{sent}"
        );
        assert_eq!(
            sent["rawEvent"]["additionalEventData"]["sampleEventIds"],
            serde_json::json!(["alice-2", "alice-3", "alice-4"])
        );
    }
}
