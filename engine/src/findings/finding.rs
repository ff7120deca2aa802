//! Findings and the facts they carry; [`super::message`] is their wire form.
//!
//! Field by field it answers the seven questions about an event: who
//! (`who`), when (`time`), from where (`sourceIp`), how (`userAgent`), what
//! (`what`), where (`where`), with what outcome (`outcome`); plus the rule,
//! the log file it came from and the raw event. Missing CloudTrail fields are
//! left out (never invented). The raw event is replaced by a marked excerpt
//! when the message would not fit an SNS message.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::correlation::CorrelationFacts;
use super::message::{self, FindingMessage, WhatMessage};
use super::repeat::Repeats;
use crate::envelope::ObjectRef;
use crate::record::{Flag, Record};
use crate::remediation::request::Remediation;
use crate::rules::Severity;

/// SNS's message size limit (256 KiB), minus room for attributes and the
/// subject so a published finding always fits.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 - 8 * 1024;

/// The rule facts a finding carries, whatever engine the rule runs on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// What it detects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Severity.
    pub severity: Severity,
    /// `scheme:id` references.
    pub references: Vec<String>,
    /// `trailguard` (filter pattern) or `sigma`.
    pub engine: &'static str,
}

impl RuleInfo {
    /// The facts of a trailguard rule.
    pub fn of_rule(rule: &crate::rules::Rule) -> RuleInfo {
        let spec = rule.spec();
        RuleInfo {
            id: spec.id.clone(),
            title: spec.title.clone(),
            description: spec.description.clone(),
            severity: spec.severity,
            references: spec.references.clone(),
            engine: "trailguard",
        }
    }
}

impl RuleInfo {
    /// The facts of a Sigma rule.
    pub fn of_sigma(rule: &crate::sigma::SigmaRule) -> RuleInfo {
        RuleInfo {
            id: rule.id().to_owned(),
            title: rule.title().to_owned(),
            description: rule.description().to_owned(),
            severity: rule.severity(),
            references: rule.references().to_vec(),
            engine: "sigma",
        }
    }
}

/// Who acted: `userIdentity`, flattened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Who {
    /// `userIdentity.type`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub identity_type: Option<String>,
    /// `userIdentity.arn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    /// `userIdentity.userName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// `userIdentity.principalId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_id: Option<String>,
    /// `userIdentity.accountId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// `userIdentity.accessKeyId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// `userIdentity.invokedBy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoked_by: Option<String>,
    /// ARN of the role or user that issued the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<String>,
    /// `userIdentity.sessionContext.attributes.mfaAuthenticated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_authenticated: Option<bool>,
}

/// What was done.
#[derive(Debug, Clone, Default)]
pub struct What {
    /// `eventSource`.
    pub event_source: Option<String>,
    /// `eventName`.
    pub event_name: Option<String>,
    /// `eventType`.
    pub event_type: Option<String>,
    /// `requestParameters` as written (absent when missing or `null`).
    pub request_parameters: Option<Box<RawValue>>,
    /// `resources` as written (absent when missing or `null`).
    pub resources: Option<Box<RawValue>>,
}

/// Where it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Where {
    /// `recipientAccountId`, else `userIdentity.accountId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// `awsRegion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `vpcEndpointId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_id: Option<String>,
}

/// How it ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// `false` when `errorCode` is set.
    pub success: bool,
    /// `errorCode`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// `errorMessage`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// The log file a finding's event came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogFile {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
}

impl LogFile {
    /// The location of `object`.
    pub fn of(object: &ObjectRef) -> LogFile {
        LogFile {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
        }
    }
}

impl fmt::Display for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// The seven facets of one event and its text: everything a finding says
/// about the event. Built once per matching record and shared by every
/// finding on it.
#[derive(Debug, Clone)]
pub struct EventFacts {
    /// `eventTime`.
    pub time: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// Who acted.
    pub who: Who,
    /// `sourceIPAddress` (an IP, a service name, or "AWS Internal").
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// What was done.
    pub what: What,
    /// Account and region.
    pub where_: Where,
    /// Success, or the error.
    pub outcome: Outcome,
    /// The remediation the event calls for, if an action handles it.
    pub remediation: Option<Remediation>,
    /// The record's JSON text, as delivered.
    raw_event: String,
}

fn owned(text: &Option<Cow<'_, str>>) -> Option<String> {
    text.as_deref().map(str::to_owned)
}

/// A raw member, unless it is `null`.
fn raw_member(raw: Option<&RawValue>) -> Option<Box<RawValue>> {
    raw.filter(|r| r.get() != "null").map(ToOwned::to_owned)
}

impl EventFacts {
    /// The facets of a typed record, read without building a `Value`.
    pub fn of(record: &Record<'_>) -> EventFacts {
        // Findings travel as one line (JSON lines, SNS bodies) and carry the
        // text as written: pretty-printed input is compacted first. CloudTrail
        // writes compact JSON, so this is for hand-made files.
        if memchr::memchr2(b'\n', b'\r', record.raw().as_bytes()).is_some() {
            return EventFacts::from_value(&record.to_value());
        }
        let identity = record.user_identity.as_ref();
        let context = identity.and_then(|i| i.session_context.as_ref());
        let who = identity.map_or_else(Who::default, |i| Who {
            identity_type: owned(&i.identity_type),
            arn: owned(&i.arn),
            user_name: owned(&i.user_name),
            principal_id: owned(&i.principal_id),
            account_id: owned(&i.account_id),
            access_key_id: owned(&i.access_key_id),
            invoked_by: owned(&i.invoked_by),
            session_issuer: context
                .and_then(|c| c.session_issuer.as_ref())
                .and_then(|issuer| owned(&issuer.arn)),
            mfa_authenticated: context
                .and_then(|c| c.attributes.as_ref())
                .and_then(|a| a.mfa_authenticated)
                .map(Flag::get),
        });
        let account = record.account().map(str::to_owned);
        EventFacts {
            time: owned(&record.event_time),
            event_id: owned(&record.event_id),
            source_ip: owned(&record.source_ip_address),
            user_agent: owned(&record.user_agent),
            what: What {
                event_source: owned(&record.event_source),
                event_name: owned(&record.event_name),
                event_type: owned(&record.event_type),
                request_parameters: raw_member(record.request_parameters),
                resources: raw_member(record.resources),
            },
            where_: Where {
                account,
                region: owned(&record.aws_region),
                vpc_endpoint_id: owned(&record.vpc_endpoint_id),
            },
            outcome: Outcome {
                success: record.error_code.is_none(),
                error_code: owned(&record.error_code),
                error_message: owned(&record.error_message),
            },
            who,
            remediation: remediation_of(record),
            raw_event: record.raw().to_owned(),
        }
    }

    /// The facets of an event given as a `Value` (synthetic events such as
    /// flood summaries). An event that is not a well-typed CloudTrail record
    /// keeps only its `eventID` and text.
    pub fn from_value(event: &Value) -> EventFacts {
        EventFacts::parse(event.to_string())
    }

    /// The facets of a record given as JSON text (one kept as a
    /// correlation's evidence); text that is not a well-typed CloudTrail
    /// record keeps only its `eventID`, when it has one, and the text.
    pub fn parse(text: String) -> EventFacts {
        match Record::from_json(&text) {
            Ok(record) => EventFacts::of(&record),
            Err(_) => EventFacts {
                time: None,
                event_id: serde_json::from_str::<Value>(&text)
                    .ok()
                    .as_ref()
                    .and_then(|event| event.get("eventID")?.as_str())
                    .map(str::to_owned),
                who: Who::default(),
                source_ip: None,
                user_agent: None,
                what: What::default(),
                where_: Where::default(),
                outcome: Outcome {
                    success: true,
                    ..Outcome::default()
                },
                remediation: None,
                raw_event: text,
            },
        }
    }

    /// The record's JSON text, as delivered.
    pub fn raw_event(&self) -> &str {
        &self.raw_event
    }
}

fn borrowed(text: &Option<String>) -> Option<Cow<'_, str>> {
    text.as_deref().map(Cow::Borrowed)
}

/// Whether an action may handle `record`: a call that succeeded, of an
/// event name some action handles (cheap: no parse).
pub(crate) fn may_remediate(record: &Record<'_>) -> bool {
    let failed = record
        .error_code
        .as_deref()
        .is_some_and(|code| !code.is_empty());
    !failed
        && record
            .event_name
            .as_deref()
            .is_some_and(Remediation::handles_event_name)
}

/// The remediation a record calls for. A failed call changed nothing, so it
/// calls for none (the remediator would only audit it as skipped). Only the
/// few event names an action handles are looked at further, so the cost
/// falls on those records alone.
fn remediation_of(record: &Record<'_>) -> Option<Remediation> {
    if !may_remediate(record) {
        return None;
    }
    let event: Value = serde_json::from_str(record.raw()).ok()?;
    Remediation::of_event(&event).ok().flatten()
}

/// One finding: a rule that matched an event. Rule facts and event facets
/// are shared, so a record matching three rules is described once.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Hex SHA-256 of rule id and `eventID` (first 32 hex digits).
    pub id: String,
    /// The rule that matched.
    pub rule: Arc<RuleInfo>,
    /// The event.
    pub event: Arc<EventFacts>,
    /// The log file the event came from.
    pub log_file: Option<Arc<LogFile>>,
    /// The call failed (`errorCode`) and the rule detects a change, which
    /// did not happen: reported as an attempt, `rule.severity` already
    /// lowered (see `rules::precision`).
    pub attempt: bool,
    /// The repeats of this rule by this principal folded into this finding
    /// (see `findings::repeat`); `None` for a finding of one event.
    pub repeats: Option<Box<Repeats>>,
    /// The correlation that fired, for a finding of a correlation rule
    /// (see `sigma::correlation`); its event is the one that completed it.
    pub correlation: Option<Box<CorrelationFacts>>,
}

/// The deterministic finding id: rule id and event id.
pub fn finding_id(rule_id: &str, event_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(rule_id.as_bytes());
    hash.update([0u8]);
    hash.update(event_id.as_bytes());
    let digest = hash.finalize();
    hex::encode(digest.get(..16).unwrap_or_default())
}

impl Finding {
    /// Builds the finding for `rule` matching `event` (a CloudTrail record
    /// as a `Value`), read from `object` when known.
    pub fn new(rule: RuleInfo, event: &Value, object: Option<&ObjectRef>) -> Finding {
        Finding::on(
            Arc::new(rule),
            Arc::new(EventFacts::from_value(event)),
            object.map(|o| Arc::new(LogFile::of(o))),
        )
    }

    /// The finding for `rule` on an event whose facets are already built.
    pub fn on(
        rule: Arc<RuleInfo>,
        event: Arc<EventFacts>,
        log_file: Option<Arc<LogFile>>,
    ) -> Finding {
        Finding {
            id: finding_id(&rule.id, event.event_id.as_deref().unwrap_or("")),
            rule,
            event,
            log_file,
            attempt: false,
            repeats: None,
            correlation: None,
        }
    }

    /// The account the event belongs to, if known.
    pub fn account(&self) -> Option<&str> {
        self.event.where_.account.as_deref()
    }

    /// The region, if known.
    pub fn region(&self) -> Option<&str> {
        self.event.where_.region.as_deref()
    }

    /// A human-readable SNS subject (ASCII, at most 100 characters, as SNS
    /// requires): `[HIGH] Title: EventName by user in account/region`.
    pub fn subject(&self) -> String {
        let who = &self.event.who;
        let actor = who
            .user_name
            .as_deref()
            .or(who.arn.as_deref())
            .or(who.identity_type.as_deref())
            .unwrap_or("unknown principal");
        let name = self.event.what.event_name.as_deref().unwrap_or("event");
        let subject = format!(
            "[{}] {}{}: {} by {} in {}/{}",
            self.rule.severity.as_str().to_ascii_uppercase(),
            if self.attempt { "Attempt: " } else { "" },
            self.rule.title,
            name,
            actor,
            self.account().unwrap_or("?"),
            self.region().unwrap_or("?"),
        );
        let ascii: String = subject
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .collect();
        truncate_chars(&ascii, 100)
    }

    /// The JSON message, at most `max_bytes` long: when too large, the raw
    /// event is replaced by a marked excerpt, then request parameters too.
    pub fn to_message(&self, max_bytes: usize) -> String {
        let full = self.message(None, false).to_json();
        if full.len() <= max_bytes {
            return full;
        }
        let raw = self.event.raw_event();
        let overflow = full.len().saturating_sub(max_bytes);
        let keep = raw.len().saturating_sub(overflow + 1024);
        let excerpt =
            |keep: usize| message::raw_event_excerpt(Some(&truncate_bytes(raw, keep)), raw.len());
        let text = self.message(Some(excerpt(keep)), false).to_json();
        if text.len() <= max_bytes {
            return text;
        }
        // Request parameters alone were too large (e.g. a huge policy).
        let text = self.message(Some(excerpt(max_bytes / 4)), true).to_json();
        if text.len() <= max_bytes {
            text
        } else {
            self.message(Some(message::raw_event_excerpt(None, raw.len())), true)
                .to_json()
        }
    }

    /// The wire form, borrowing from the finding: with the whole raw event,
    /// or with `excerpt` in its place.
    pub fn message(
        &self,
        excerpt: Option<Box<RawValue>>,
        drop_request_parameters: bool,
    ) -> FindingMessage<'_> {
        let event = &*self.event;
        let what = &event.what;
        // The text was parsed as a record already; a text that is somehow
        // not JSON is written as an excerpt rather than as invalid JSON.
        let (raw_event, truncated) = match excerpt {
            Some(excerpt) => (Cow::Owned(excerpt), true),
            None => match serde_json::from_str::<&RawValue>(event.raw_event()) {
                Ok(raw) => (Cow::Borrowed(raw), false),
                Err(_) => (
                    Cow::Owned(message::raw_event_excerpt(None, event.raw_event().len())),
                    true,
                ),
            },
        };
        FindingMessage {
            schema_version: Cow::Borrowed(message::SCHEMA_VERSION),
            id: Cow::Borrowed(&self.id),
            rule: Cow::Borrowed(&self.rule),
            attempt: self.attempt,
            repeats: self.repeats.as_deref().map(Cow::Borrowed),
            correlation: self.correlation.as_deref().map(Cow::Borrowed),
            time: event.time.as_deref().map(Cow::Borrowed),
            event_id: event.event_id.as_deref().map(Cow::Borrowed),
            who: Cow::Borrowed(&event.who),
            source_ip: event.source_ip.as_deref().map(Cow::Borrowed),
            user_agent: event.user_agent.as_deref().map(Cow::Borrowed),
            what: WhatMessage {
                event_source: borrowed(&what.event_source),
                event_name: borrowed(&what.event_name),
                event_type: borrowed(&what.event_type),
                request_parameters: match (&what.request_parameters, drop_request_parameters) {
                    (None, _) => None,
                    (Some(raw), false) => Some(Cow::Borrowed(&**raw)),
                    (Some(_), true) => Some(Cow::Owned(message::truncated_parameters())),
                },
                resources: what.resources.as_deref().map(Cow::Borrowed),
            },
            where_: Cow::Borrowed(&event.where_),
            outcome: Cow::Borrowed(&event.outcome),
            log_file: self.log_file.as_deref().map(Cow::Borrowed),
            remediation: event.remediation.as_ref().map(Cow::Borrowed),
            raw_event,
            raw_event_truncated: truncated,
        }
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.message(None, false).serialize(serializer)
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn truncate_bytes(s: &str, max: usize) -> String {
    let mut end = max.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests;
