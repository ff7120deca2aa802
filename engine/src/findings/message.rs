//! Finding v1 as it travels: the one definition of the JSON the notifier
//! publishes, `trailguard scan` prints and the remediator reads back
//! (`schemas/finding.v1.schema.json`).
//!
//! The producer builds a [`FindingMessage`] that borrows from a
//! [`Finding`](super::Finding) and serialises it; a consumer deserialises
//! the same type (owning its fields). No other type describes this JSON, so
//! the producer and its consumers cannot drift apart.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::correlation::CorrelationFacts;
use super::finding::{LogFile, Outcome, RuleInfo, Where, Who};
use super::repeat::Repeats;
use crate::remediation::request::Remediation;
use crate::rules::Severity;

/// Version of the finding format. The major version changes on any
/// incompatible change; a minor version adds optional members only.
pub const SCHEMA_VERSION: &str = "1.4";

/// The major version every reader of this crate understands.
const SCHEMA_MAJOR: &str = "1";

/// A finding as written on the wire. Fields absent from the event are left
/// out, never invented; the raw event and request parameters may be cut to
/// fit an SNS message (`raw_event_truncated`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingMessage<'a> {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: Cow<'a, str>,
    /// The finding id (rule id and `eventID`).
    pub id: Cow<'a, str>,
    /// The rule that matched.
    pub rule: Cow<'a, RuleInfo>,
    /// The call failed, so the change it asked for did not happen: reported
    /// as an attempt, at a lower severity (schema 1.1).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attempt: bool,
    /// The repeats of the rule by the same principal within a window that
    /// this finding stands for (schema 1.2); absent for one event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<Cow<'a, Repeats>>,
    /// The correlation a correlation rule's finding stands for (schema
    /// 1.3); absent for a finding of one event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation: Option<Cow<'a, CorrelationFacts>>,
    /// `eventTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Cow<'a, str>>,
    /// `eventID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<Cow<'a, str>>,
    /// Who acted.
    pub who: Cow<'a, Who>,
    /// `sourceIPAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<Cow<'a, str>>,
    /// `userAgent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<Cow<'a, str>>,
    /// What was done.
    pub what: WhatMessage<'a>,
    /// Account and region.
    #[serde(rename = "where")]
    pub where_: Cow<'a, Where>,
    /// Success, or the error.
    pub outcome: Cow<'a, Outcome>,
    /// The log file the event came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_file: Option<Cow<'a, LogFile>>,
    /// The remediation the event calls for, when an action handles it
    /// (schema 1.1). Computed by the same mapping the remediator runs, so a
    /// finding whose raw event was cut still names its resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Cow<'a, Remediation>>,
    /// The event's JSON text, or `{"excerpt": .., "originalBytes": ..}`
    /// when `raw_event_truncated`.
    pub raw_event: Cow<'a, RawValue>,
    /// Whether `raw_event` is an excerpt.
    pub raw_event_truncated: bool,
}

/// The `what` member.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatMessage<'a> {
    /// `eventSource`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source: Option<Cow<'a, str>>,
    /// `eventName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<Cow<'a, str>>,
    /// `eventType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<Cow<'a, str>>,
    /// `requestParameters` as written, or `{"truncated": true}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_parameters: Option<Cow<'a, RawValue>>,
    /// `resources` as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Cow<'a, RawValue>>,
}

/// Why a text is not a finding this crate can read.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// Not JSON, or not the finding shape.
    #[error("not a trailguard finding: {0}")]
    Shape(#[from] serde_json::Error),
    /// A finding of a major version this reader does not know.
    #[error("finding schemaVersion {found} is not supported (this reader knows {SCHEMA_MAJOR}.x)")]
    Version {
        /// The version found.
        found: String,
    },
}

impl FindingMessage<'static> {
    /// Reads a finding from its JSON text, checking the schema's major version.
    pub fn parse(text: &str) -> Result<FindingMessage<'static>, MessageError> {
        let message: FindingMessage<'static> = serde_json::from_str(text)?;
        let major = message.schema_version.split('.').next().unwrap_or_default();
        if major != SCHEMA_MAJOR {
            return Err(MessageError::Version {
                found: message.schema_version.into_owned(),
            });
        }
        Ok(message)
    }
}

impl FindingMessage<'_> {
    /// The raw event's text, unless it was cut for SNS.
    pub fn whole_raw_event(&self) -> Option<&str> {
        (!self.raw_event_truncated).then(|| self.raw_event.get())
    }

    /// The compact JSON text.
    pub fn to_json(&self) -> String {
        // Every member is a string, a derived struct or JSON text already
        // checked as such, so serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The marker that replaces request parameters too large for SNS.
pub(super) fn truncated_parameters() -> Box<RawValue> {
    raw(r#"{"truncated":true}"#.to_owned())
}

/// The `rawEvent` member for an event cut to `excerpt` (absent when even an
/// excerpt does not fit) out of `original_bytes`.
pub(super) fn raw_event_excerpt(excerpt: Option<&str>, original_bytes: usize) -> Box<RawValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Excerpt<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        excerpt: Option<&'a str>,
        original_bytes: usize,
    }
    let text = serde_json::to_string(&Excerpt {
        excerpt,
        original_bytes,
    })
    .unwrap_or_else(|_| format!(r#"{{"originalBytes":{original_bytes}}}"#));
    raw(text)
}

fn raw(text: String) -> Box<RawValue> {
    // Both callers pass JSON they just wrote; `null` is the safe fallback.
    RawValue::from_string(text).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// The `rule` member as read, before its engine name is checked against
/// the names this crate writes ([`RuleInfo::engine`] is a `&'static str`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuleFields {
    id: String,
    title: String,
    #[serde(default)]
    description: String,
    severity: Severity,
    references: Vec<String>,
    engine: String,
}

impl<'de> Deserialize<'de> for RuleInfo {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RuleInfo::try_from(RuleFields::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<RuleFields> for RuleInfo {
    type Error = String;

    fn try_from(rule: RuleFields) -> Result<RuleInfo, String> {
        let engine = ["trailguard", "sigma"]
            .into_iter()
            .find(|known| *known == rule.engine)
            .ok_or_else(|| format!("unknown rule engine `{}`", rule.engine))?;
        Ok(RuleInfo {
            id: rule.id,
            title: rule.title,
            description: rule.description,
            severity: rule.severity,
            references: rule.references,
            engine,
        })
    }
}
