//! The finding format (schema version [`SCHEMA_VERSION`]).
//!
//! Field by field it answers the seven questions about an event: who
//! (`who`), when (`time`), from where (`sourceIp`), how (`userAgent`), what
//! (`what`), where (`where`), with what outcome (`outcome`); plus the rule,
//! the log file it came from and the raw event. Missing CloudTrail fields are
//! left out (never invented). The raw event is replaced by a marked excerpt
//! when the message would not fit an SNS message.

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::envelope::ObjectRef;
use crate::rules::Severity;

/// Version of the finding format; bumped on any incompatible change.
pub const SCHEMA_VERSION: &str = "1.0";

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
    #[serde(skip_serializing_if = "String::is_empty")]
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

/// One finding, ready to serialise.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: &'static str,
    /// Hex SHA-256 of rule id and `eventID` (first 32 hex digits).
    pub id: String,
    /// The rule that matched.
    pub rule: RuleInfo,
    /// `eventTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// `eventID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Who acted.
    pub who: Value,
    /// `sourceIPAddress` (an IP, a service name, or "AWS Internal").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `userAgent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// What was done.
    pub what: Value,
    /// Account and region.
    #[serde(rename = "where")]
    pub where_: Value,
    /// Success, or the error.
    pub outcome: Value,
    /// The log file the event came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_file: Option<Value>,
    /// The original event, or a marked excerpt of it (see `rawEventTruncated`).
    pub raw_event: Value,
    /// Whether `rawEvent` is an excerpt.
    pub raw_event_truncated: bool,
}

/// The deterministic finding id: rule id and event id.
pub fn finding_id(rule_id: &str, event_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(rule_id.as_bytes());
    hash.update([0u8]);
    hash.update(event_id.as_bytes());
    let digest = hash.finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn text(event: &Value, path: &[&str]) -> Option<String> {
    let mut v = event;
    for p in path {
        v = v.get(p)?;
    }
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn fields(pairs: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect();
    Value::Object(map)
}

fn s(v: Option<String>) -> Option<Value> {
    v.map(Value::String)
}

impl Finding {
    /// Builds the finding for `rule` matching `event` (a CloudTrail record),
    /// read from `object` when known.
    pub fn new(rule: RuleInfo, event: &Value, object: Option<&ObjectRef>) -> Finding {
        let event_id = text(event, &["eventID"]);
        let id = finding_id(&rule.id, event_id.as_deref().unwrap_or(""));
        let mfa = text(
            event,
            &[
                "userIdentity",
                "sessionContext",
                "attributes",
                "mfaAuthenticated",
            ],
        )
        .map(|m| Value::Bool(m == "true"));
        let who = fields(vec![
            ("type", s(text(event, &["userIdentity", "type"]))),
            ("arn", s(text(event, &["userIdentity", "arn"]))),
            ("userName", s(text(event, &["userIdentity", "userName"]))),
            (
                "principalId",
                s(text(event, &["userIdentity", "principalId"])),
            ),
            ("accountId", s(text(event, &["userIdentity", "accountId"]))),
            (
                "accessKeyId",
                s(text(event, &["userIdentity", "accessKeyId"])),
            ),
            ("invokedBy", s(text(event, &["userIdentity", "invokedBy"]))),
            (
                "sessionIssuer",
                s(text(
                    event,
                    &["userIdentity", "sessionContext", "sessionIssuer", "arn"],
                )),
            ),
            ("mfaAuthenticated", mfa),
        ]);
        let what = fields(vec![
            ("eventSource", s(text(event, &["eventSource"]))),
            ("eventName", s(text(event, &["eventName"]))),
            ("eventType", s(text(event, &["eventType"]))),
            (
                "requestParameters",
                event
                    .get("requestParameters")
                    .filter(|v| !v.is_null())
                    .cloned(),
            ),
            (
                "resources",
                event.get("resources").filter(|v| !v.is_null()).cloned(),
            ),
        ]);
        let account = text(event, &["recipientAccountId"])
            .or_else(|| text(event, &["userIdentity", "accountId"]));
        let where_ = fields(vec![
            ("account", s(account)),
            ("region", s(text(event, &["awsRegion"]))),
            ("vpcEndpointId", s(text(event, &["vpcEndpointId"]))),
        ]);
        let error_code = text(event, &["errorCode"]);
        let outcome = fields(vec![
            ("success", Some(Value::Bool(error_code.is_none()))),
            ("errorCode", s(error_code)),
            ("errorMessage", s(text(event, &["errorMessage"]))),
        ]);
        Finding {
            schema_version: SCHEMA_VERSION,
            id,
            rule,
            time: text(event, &["eventTime"]),
            event_id,
            who,
            source_ip: text(event, &["sourceIPAddress"]),
            user_agent: text(event, &["userAgent"]),
            what,
            where_,
            outcome,
            log_file: object.map(|o| json!({"bucket": o.bucket, "key": o.key})),
            raw_event: event.clone(),
            raw_event_truncated: false,
        }
    }

    /// The account the event belongs to, if known.
    pub fn account(&self) -> Option<&str> {
        self.where_.get("account").and_then(Value::as_str)
    }

    /// The region, if known.
    pub fn region(&self) -> Option<&str> {
        self.where_.get("region").and_then(Value::as_str)
    }

    /// A human-readable SNS subject (ASCII, at most 100 characters, as SNS
    /// requires): `[HIGH] Title: EventName by user in account/region`.
    pub fn subject(&self) -> String {
        let actor = self
            .who
            .get("userName")
            .or_else(|| self.who.get("arn"))
            .or_else(|| self.who.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("unknown principal");
        let name = self
            .what
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("event");
        let subject = format!(
            "[{}] {}: {} by {} in {}/{}",
            self.rule.severity.as_str().to_ascii_uppercase(),
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
        let full = serde_json::to_string(self).unwrap_or_default();
        if full.len() <= max_bytes {
            return full;
        }
        let mut slim = self.clone();
        let raw = serde_json::to_string(&self.raw_event).unwrap_or_default();
        let overflow = full.len().saturating_sub(max_bytes);
        let keep = raw.len().saturating_sub(overflow + 1024);
        slim.raw_event = json!({
            "excerpt": truncate_bytes(&raw, keep),
            "originalBytes": raw.len(),
        });
        slim.raw_event_truncated = true;
        let message = serde_json::to_string(&slim).unwrap_or_default();
        if message.len() <= max_bytes {
            return message;
        }
        // Request parameters alone were too large (e.g. a huge policy).
        if let Some(what) = slim.what.as_object_mut() {
            what.insert("requestParameters".to_owned(), json!({"truncated": true}));
        }
        slim.raw_event =
            json!({"excerpt": truncate_bytes(&raw, max_bytes / 4), "originalBytes": raw.len()});
        let message = serde_json::to_string(&slim).unwrap_or_default();
        if message.len() <= max_bytes {
            message
        } else {
            slim.raw_event = json!({"originalBytes": raw.len()});
            serde_json::to_string(&slim).unwrap_or_default()
        }
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
mod tests {
    use super::*;

    fn rule() -> RuleInfo {
        RuleInfo {
            id: "cloudtrail-logging-stopped".into(),
            title: "CloudTrail logging stopped".into(),
            description: String::new(),
            severity: Severity::High,
            references: vec!["attack:T1562.008".into()],
            engine: "trailguard",
        }
    }

    fn event() -> Value {
        json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice",
                             "userName": "alice", "accountId": "111122223333",
                             "sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
            "eventTime": "2023-07-10T12:00:00Z",
            "eventSource": "cloudtrail.amazonaws.com",
            "eventName": "StopLogging",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.9",
            "userAgent": "aws-cli/2.13.0",
            "requestParameters": {"name": "main"},
            "responseElements": null,
            "eventID": "4b8b1d8f-0000-4000-8000-000000000001",
            "recipientAccountId": "111122223333"
        })
    }

    #[test]
    fn carries_the_seven_facets() {
        let object = ObjectRef::new(
            "b",
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f.json.gz",
        );
        let f = Finding::new(rule(), &event(), Some(&object));
        assert_eq!(
            f.id,
            finding_id(
                "cloudtrail-logging-stopped",
                "4b8b1d8f-0000-4000-8000-000000000001"
            )
        );
        assert_eq!(f.id.len(), 32);
        assert_eq!(f.who["userName"], "alice");
        assert_eq!(f.who["mfaAuthenticated"], false);
        assert_eq!(f.what["eventName"], "StopLogging");
        assert_eq!(f.what["requestParameters"]["name"], "main");
        assert_eq!(f.account(), Some("111122223333"));
        assert_eq!(f.outcome, json!({"success": true}));
        assert_eq!(f.log_file.as_ref().unwrap()["bucket"], "b");
        assert_eq!(
            f.subject(),
            "[HIGH] CloudTrail logging stopped: StopLogging by alice in 111122223333/us-east-1"
        );
        let v: Value = serde_json::from_str(&f.to_message(MAX_MESSAGE_BYTES)).unwrap();
        assert_eq!(v["schemaVersion"], "1.0");
        assert_eq!(v["where"]["region"], "us-east-1");
        assert_eq!(v["rawEventTruncated"], false);
    }

    #[test]
    fn ids_differ_per_rule_and_event() {
        assert_ne!(finding_id("a", "1"), finding_id("a", "2"));
        assert_ne!(finding_id("a", "1"), finding_id("b", "1"));
        assert_ne!(finding_id("ab", "c"), finding_id("a", "bc"));
    }

    #[test]
    fn failed_calls_report_the_error() {
        let mut e = event();
        e["errorCode"] = json!("AccessDenied");
        e["errorMessage"] = json!("User is not authorized");
        let f = Finding::new(rule(), &e, None);
        assert_eq!(f.outcome["success"], false);
        assert_eq!(f.outcome["errorCode"], "AccessDenied");
    }

    #[test]
    fn huge_events_are_truncated_with_a_marker_and_always_fit() {
        let mut e = event();
        e["requestParameters"] = json!({"policy": "x".repeat(600_000)});
        e["responseElements"] = json!({"blob": "y".repeat(300_000)});
        let f = Finding::new(rule(), &e, None);
        let message = f.to_message(MAX_MESSAGE_BYTES);
        assert!(message.len() <= MAX_MESSAGE_BYTES, "{}", message.len());
        let v: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(v["rawEventTruncated"], true);
        assert!(v["rawEvent"]["originalBytes"].as_u64().unwrap() > 900_000);
        assert_eq!(v["eventId"], "4b8b1d8f-0000-4000-8000-000000000001");
    }

    #[test]
    fn subjects_are_ascii_and_short() {
        let mut r = rule();
        r.title = "Ünïcode title that is rather long ".repeat(5);
        let f = Finding::new(r, &event(), None);
        let subject = f.subject();
        assert!(subject.chars().count() <= 100);
        assert!(subject.is_ascii());
    }
}
