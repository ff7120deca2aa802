//! Findings in the AWS Security Finding Format (ASFF), imported into
//! Security Hub with `BatchImportFindings`.
//!
//! [`to_asff`] maps a [`Finding`] to an `AwsSecurityFinding` without I/O;
//! [`Importer`] sends them, at most [`MAX_BATCH_FINDINGS`] per call, and
//! returns the ones Security Hub did not accept in the same shape as SNS
//! rejections, so the notifier retries either sink the same way.
//!
//! Field choices where the format leaves room:
//! - `Id` is the finding id: stable, so importing a finding again updates it
//!   rather than adding a copy.
//! - `ProductArn` is the importing account's default product, and
//!   `AwsAccountId` is that account too: with the default product Security
//!   Hub rejects findings whose `AwsAccountId` is not the caller's. The
//!   event's account (organization trails deliver many) is an `AwsAccount`
//!   resource and the `trailguard/eventAccount` product field.
//! - `Types` come from the rule's references (see [`finding_types`]).
//! - `CreatedAt`, `UpdatedAt`, `FirstObservedAt` and `LastObservedAt` are the
//!   event's time; an event without a valid one uses the import time.
//! - `Resources` are the acting principal (`AwsIamUser`, `AwsIamRole` for a
//!   role session's issuer, `AwsAccount` for root, else `Other` with its ARN)
//!   and the event's account.

use std::collections::HashMap;

use aws_config::SdkConfig;
use aws_sdk_securityhub::Client;
use aws_sdk_securityhub::error::DisplayErrorContext;
use aws_sdk_securityhub::types::{AwsSecurityFinding, Resource, Severity, SeverityLabel};
use thiserror::Error;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use super::sns::Rejected;
use trailguard_engine::findings::finding::{Finding, RuleInfo};
use trailguard_engine::rules;

/// The ASFF version every finding is written in.
pub const ASFF_SCHEMA_VERSION: &str = "2018-10-08";
/// Findings per `BatchImportFindings` call (Security Hub's limit).
pub const MAX_BATCH_FINDINGS: usize = 100;
/// Longest `Title`, in characters.
pub const MAX_TITLE_CHARS: usize = 256;
/// Longest `Description`, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
/// Longest `GeneratorId`, in characters.
pub const MAX_GENERATOR_ID_CHARS: usize = 512;
/// Longest `ProductFields` value, in characters.
pub const MAX_PRODUCT_FIELD_CHARS: usize = 2048;
/// Most `Types` entries on one finding.
pub const MAX_TYPES: usize = 50;

/// The type of findings of rules that name no tactic, procedure or
/// benchmark: CloudTrail findings are about what a principal did.
pub const UNCLASSIFIED_TYPE: &str = "Unusual Behaviors/User";
/// The type of findings of rules that implement CIS AWS Foundations controls.
pub const CIS_TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";

/// The Security Hub product findings are imported under: the default
/// product of the account and region the function runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The importing region.
    pub region: String,
    /// The importing account.
    pub account: String,
}

impl Product {
    /// `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`.
    pub fn arn(&self) -> String {
        format!(
            "arn:{}:securityhub:{}:{}:product/{}/default",
            self.partition, self.region, self.account, self.account
        )
    }
}

/// Why findings cannot be imported into Security Hub at all.
#[derive(Debug, Error)]
pub enum ImporterError {
    /// The SDK configuration has no region.
    #[error("Security Hub import needs a region: set AWS_REGION (Lambda sets it)")]
    NoRegion,
    /// The function's own account could not be found out.
    #[error("cannot tell which account imports findings (sts:GetCallerIdentity): {reason}")]
    Identity {
        /// The STS error, or what its answer lacked.
        reason: String,
    },
}

/// Imports findings into Security Hub under a [`Product`].
#[derive(Debug, Clone)]
pub struct Importer {
    client: Client,
    product: Product,
}

impl Importer {
    /// An importer for the account and region of `sdk` (one
    /// `sts:GetCallerIdentity` call, which needs no permission).
    pub async fn connect(sdk: &SdkConfig) -> Result<Importer, ImporterError> {
        let region = sdk.region().ok_or(ImporterError::NoRegion)?.to_string();
        let identity = aws_sdk_sts::Client::new(sdk)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| ImporterError::Identity {
                reason: DisplayErrorContext(e).to_string(),
            })?;
        let missing = |what: &str| ImporterError::Identity {
            reason: format!("the answer has no {what}"),
        };
        let account = identity.account().ok_or_else(|| missing("account"))?;
        // arn:<partition>:sts::<account>:...
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| missing("ARN"))?;
        Ok(Importer::new(
            Client::new(sdk),
            Product {
                partition: partition.to_owned(),
                region,
                account: account.to_owned(),
            },
        ))
    }

    /// An importer sending with `client` under `product`.
    pub fn new(client: Client, product: Product) -> Importer {
        Importer { client, product }
    }

    /// The product findings are imported under.
    pub fn product(&self) -> &Product {
        &self.product
    }

    /// Imports `findings` (`now`, epoch seconds, stands in for missing
    /// event times); returns the ones not accepted.
    pub async fn import(&self, findings: &[&Finding], now: i64) -> Vec<Rejected> {
        let mut rejected = Vec::new();
        for batch in findings.chunks(MAX_BATCH_FINDINGS) {
            let asff: Vec<AwsSecurityFinding> = batch
                .iter()
                .map(|f| to_asff(f, &self.product, now))
                .collect();
            let result = self
                .client
                .batch_import_findings()
                .set_findings(Some(asff))
                .send()
                .await;
            let failures = match result {
                Ok(out) => {
                    let failed = out.failed_findings();
                    let listed: Vec<Rejected> = failed
                        .iter()
                        .filter_map(|f| {
                            Some(Rejected {
                                finding_id: f.id()?.to_owned(),
                                reason: format!(
                                    "Security Hub: {}: {}",
                                    f.error_code().unwrap_or("error"),
                                    f.error_message().unwrap_or_default()
                                ),
                            })
                        })
                        .collect();
                    let reported = usize::try_from(out.failed_count().unwrap_or(0)).unwrap_or(0);
                    // Failures that name no finding could be any of the
                    // batch: all of it is retried rather than one lost.
                    if listed.len() < failed.len().max(reported) {
                        Err(format!(
                            "Security Hub: {} of {} findings failed without naming them all",
                            failed.len().max(reported),
                            batch.len()
                        ))
                    } else {
                        Ok(listed)
                    }
                }
                Err(e) => Err(format!("Security Hub: {}", DisplayErrorContext(e))),
            };
            match failures {
                Ok(listed) => rejected.extend(listed),
                Err(reason) => rejected.extend(batch.iter().map(|f| Rejected {
                    finding_id: f.id.clone(),
                    reason: reason.clone(),
                })),
            }
        }
        rejected
    }
}

/// The ASFF finding for `finding`, imported under `product`; `now` (epoch
/// seconds) stands in for a missing or malformed event time.
pub fn to_asff(finding: &Finding, product: &Product, now: i64) -> AwsSecurityFinding {
    let event = &*finding.event;
    let rule = &*finding.rule;
    let time = event_time(event.time.as_deref(), now);
    let title = if rule.title.trim().is_empty() {
        &rule.id
    } else {
        &rule.title
    };
    let mut builder = AwsSecurityFinding::builder()
        .schema_version(ASFF_SCHEMA_VERSION)
        .id(&finding.id)
        .product_arn(product.arn())
        .product_name("trailguard")
        .generator_id(truncate_marked(&rule.id, MAX_GENERATOR_ID_CHARS))
        .aws_account_id(&product.account)
        .region(&product.region)
        .set_types(Some(finding_types(rule)))
        .first_observed_at(&time)
        .last_observed_at(&time)
        .created_at(&time)
        .updated_at(&time)
        .severity(
            Severity::builder()
                .label(severity_label(rule.severity))
                .original(rule.severity.as_str())
                .build(),
        )
        .title(truncate_marked(title, MAX_TITLE_CHARS))
        .description(description(finding))
        .set_product_fields(Some(product_fields(finding)));
    for resource in resources(finding, product) {
        builder = builder.resources(resource);
    }
    builder.build()
}

/// Security Hub's label for a severity: one to one.
pub fn severity_label(severity: rules::Severity) -> SeverityLabel {
    match severity {
        rules::Severity::Informational => SeverityLabel::Informational,
        rules::Severity::Low => SeverityLabel::Low,
        rules::Severity::Medium => SeverityLabel::Medium,
        rules::Severity::High => SeverityLabel::High,
        rules::Severity::Critical => SeverityLabel::Critical,
    }
}

/// The finding types of a rule's findings, from its references, in
/// reference order and without repeats:
///
/// | reference                          | type                                   |
/// |------------------------------------|----------------------------------------|
/// | `attack-tactic:privilege-escalation` | `TTPs/Privilege Escalation`          |
/// | `stratus:aws.defense-evasion.<name>` | `TTPs/Defense Evasion`               |
/// | `attack:T1562.008` (no tactic known) | `TTPs`                               |
/// | `cis-aws-foundations…:<control>`     | [`CIS_TYPE`]                         |
/// | none of these                        | [`UNCLASSIFIED_TYPE`]                |
///
/// Tactic names are ATT&CK's, which the TTPs categories of the ASFF
/// taxonomy follow. A technique alone names no tactic (ATT&CK lists several
/// for many), so it gives the bare namespace, dropped when a tactic is known.
pub fn finding_types(rule: &RuleInfo) -> Vec<String> {
    let mut types: Vec<String> = Vec::new();
    for reference in &rule.references {
        let Some((scheme, id)) = reference.split_once(':') else {
            continue;
        };
        let kind = match scheme {
            "attack-tactic" => tactic_type(id),
            // Stratus Red Team ids are `<platform>.<tactic>.<name>`.
            "stratus" => id.split('.').nth(1).and_then(tactic_type),
            "attack" => Some("TTPs".to_owned()),
            s if s.starts_with("cis-aws-foundations") => Some(CIS_TYPE.to_owned()),
            _ => None,
        };
        if let Some(kind) = kind.filter(|k| !types.contains(k)) {
            types.push(kind);
        }
    }
    if types.iter().any(|t| t.starts_with("TTPs/")) {
        types.retain(|t| t != "TTPs");
    }
    if types.is_empty() {
        types.push(UNCLASSIFIED_TYPE.to_owned());
    }
    types.truncate(MAX_TYPES);
    types
}

/// `TTPs/<Tactic Name>` for a kebab-case ATT&CK tactic, e.g.
/// `command-and-control` → `TTPs/Command and Control`.
fn tactic_type(tactic: &str) -> Option<String> {
    let valid = !tactic.is_empty()
        && tactic
            .split('-')
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()));
    if !valid {
        return None;
    }
    let words: Vec<String> = tactic
        .split('-')
        .map(|w| {
            if w == "and" {
                return w.to_owned();
            }
            let mut chars = w.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    Some(format!("TTPs/{}", words.join(" ")))
}

/// The event time as RFC 3339, or `now` when it is missing or malformed
/// (Security Hub rejects findings with malformed timestamps).
fn event_time(time: Option<&str>, now: i64) -> String {
    match time.filter(|t| OffsetDateTime::parse(t, &Rfc3339).is_ok()) {
        Some(t) => t.to_owned(),
        None => OffsetDateTime::from_unix_timestamp(now)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned()),
    }
}

/// The rule's description, then who did what where; the rule description
/// is shortened first so the event facts always fit.
fn description(finding: &Finding) -> String {
    let event = &*finding.event;
    let who = &event.who;
    let actor = who
        .arn
        .as_deref()
        .or(who.user_name.as_deref())
        .or(who.principal_id.as_deref())
        .unwrap_or("unknown principal");
    let kind = who.identity_type.as_deref().unwrap_or("unknown type");
    let what = format!(
        "{} {}",
        event
            .what
            .event_source
            .as_deref()
            .unwrap_or("unknown service"),
        event.what.event_name.as_deref().unwrap_or("unknown action"),
    );
    let outcome = match &event.outcome.error_code {
        Some(code) => format!("failed: {code}"),
        None if event.outcome.success => "succeeded".to_owned(),
        None => "failed".to_owned(),
    };
    let facts = format!(
        "Who: {actor} ({kind}). What: {what}, {outcome}. Where: account {}, region {}, from {}.",
        finding.account().unwrap_or("unknown"),
        finding.region().unwrap_or("unknown"),
        event.source_ip.as_deref().unwrap_or("unknown address"),
    );
    let intro = finding.rule.description.trim();
    if intro.is_empty() {
        return truncate_marked(&facts, MAX_DESCRIPTION_CHARS);
    }
    let room = MAX_DESCRIPTION_CHARS.saturating_sub(facts.chars().count() + 2);
    // A rule description cut to a few characters says nothing: leave it out.
    if room < 16 {
        return truncate_marked(&facts, MAX_DESCRIPTION_CHARS);
    }
    format!("{}\n\n{facts}", truncate_marked(intro, room))
}

/// The principal that acted and the event's account, as ASFF resources;
/// the importing account when neither is known (one is required).
fn resources(finding: &Finding, product: &Product) -> Vec<Resource> {
    let who = &finding.event.who;
    let account = finding.account();
    let region = finding.region().unwrap_or(&product.region);
    let resource = |kind: &str, id: &str| {
        Resource::builder()
            .r#type(kind)
            .id(id)
            .region(region)
            .build()
    };
    let account_resource =
        |account: &str| resource("AwsAccount", &format!("AWS::::Account:{account}"));
    let mut out = Vec::new();
    match (who.identity_type.as_deref(), who.arn.as_deref()) {
        (Some("Root"), _) => {}
        (Some("IAMUser"), Some(arn)) => out.push(resource("AwsIamUser", arn)),
        (Some("AssumedRole"), arn) => match who.session_issuer.as_deref().or(arn) {
            Some(role) if role.contains(":role/") => out.push(resource("AwsIamRole", role)),
            Some(other) => out.push(resource("Other", other)),
            None => {}
        },
        (_, Some(arn)) => out.push(resource("Other", arn)),
        (_, None) => {}
    }
    match account {
        Some(account) => out.push(account_resource(account)),
        None if out.is_empty() => out.push(account_resource(&product.account)),
        None => {}
    }
    out
}

/// Facts for filtering and lookup that ASFF has no field for; string values
/// of at most [`MAX_PRODUCT_FIELD_CHARS`] characters, empty ones left out.
fn product_fields(finding: &Finding) -> HashMap<String, String> {
    let event = &*finding.event;
    let log_file = finding.log_file.as_ref().map(|l| l.to_string());
    let references = finding.rule.references.join(" ");
    let fields = [
        ("ruleId", Some(finding.rule.id.as_str())),
        ("engine", Some(finding.rule.engine)),
        ("references", Some(references.as_str())),
        ("eventID", event.event_id.as_deref()),
        ("eventName", event.what.event_name.as_deref()),
        ("eventSource", event.what.event_source.as_deref()),
        ("sourceIp", event.source_ip.as_deref()),
        ("eventAccount", finding.account()),
        ("eventRegion", finding.region()),
        ("logFile", log_file.as_deref()),
    ];
    fields
        .into_iter()
        .filter_map(|(key, value)| {
            let value = value.filter(|v| !v.is_empty())?;
            Some((
                format!("trailguard/{key}"),
                truncate_marked(value, MAX_PRODUCT_FIELD_CHARS),
            ))
        })
        .collect()
}

/// `text` cut to `max` characters, ending in `…` when cut.
fn truncate_marked(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests;
