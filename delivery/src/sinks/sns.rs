//! Publishing findings to SNS with `PublishBatch`.
//!
//! Batches hold at most 10 entries and 256 KiB in total (SNS's limits), so
//! findings are packed by count and size. Message attributes carry
//! `severity`, `ruleId`, `account` and `region` for SNS filter policies,
//! and `remediation` (the action's name) on findings whose event a
//! remediation action handles: the remediator's subscription filters on it.
//!
//! A finding goes out with per-protocol bodies (`MessageStructure` `json`):
//! e-mail subscribers get the plain-text finding
//! ([`super::readable::email_body`]); every other protocol (SQS, Lambda,
//! HTTPS, `email-json`) gets the `default` body, the Finding v1 JSON,
//! unchanged. A chat message ([`Outgoing::chat`]) is one body for all.
//! Entries SNS reports as failed are returned to the caller, which retries
//! the file: dedup keeps the published ones from going out twice.

use aws_sdk_sns::Client;
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

use serde_json::json;

use trailguard_engine::findings::chat::ChatMessage;
use trailguard_engine::findings::finding::{Finding, MAX_MESSAGE_BYTES};
use trailguard_engine::findings::readable;

/// The message attribute naming the remediation action a finding calls for.
pub const REMEDIATION_ATTRIBUTE: &str = "remediation";

/// Entries per `PublishBatch` call.
pub const MAX_BATCH_ENTRIES: usize = 10;
/// Total payload per `PublishBatch` call.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// A finding SNS did not accept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The finding id.
    pub finding_id: String,
    /// SNS's code and message, or the transport error.
    pub reason: String,
}

/// A finding rendered for SNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Finding id (also the batch entry id and FIFO dedup id).
    pub id: String,
    /// Subject line.
    pub subject: String,
    /// The message: with `per_protocol`, the `{"default": …, "email": …}`
    /// document SNS takes with `MessageStructure` `json`.
    pub message: String,
    /// Whether `message` holds a body per protocol.
    pub per_protocol: bool,
    /// Message attributes (name, string value).
    pub attributes: Vec<(&'static str, String)>,
}

impl Outgoing {
    /// Renders a finding for the findings topic.
    pub fn of(finding: &Finding) -> Outgoing {
        Outgoing {
            id: finding.id.clone(),
            subject: finding.subject(),
            message: per_protocol_message(finding),
            per_protocol: true,
            attributes: Outgoing::attributes(finding),
        }
    }

    /// Renders a finding as a chat message (one body for every protocol).
    pub fn chat(finding: &Finding) -> Outgoing {
        Outgoing {
            id: finding.id.clone(),
            subject: finding.subject(),
            message: ChatMessage::of(finding).to_json(),
            per_protocol: false,
            attributes: Outgoing::attributes(finding),
        }
    }

    /// The message attributes filter policies read.
    fn attributes(finding: &Finding) -> Vec<(&'static str, String)> {
        let mut attributes = vec![
            ("severity", finding.rule.severity.as_str().to_owned()),
            ("ruleId", finding.rule.id.clone()),
        ];
        if let Some(a) = finding.account() {
            attributes.push(("account", a.to_owned()));
        }
        if let Some(r) = finding.region() {
            attributes.push(("region", r.to_owned()));
        }
        if let Some(remediation) = &finding.event.remediation {
            attributes.push((REMEDIATION_ATTRIBUTE, remediation.action.name().to_owned()));
        }
        attributes
    }

    fn size(&self) -> usize {
        self.message.len()
            + self.subject.len()
            + self
                .attributes
                .iter()
                .map(|(k, v)| k.len() + v.len() + "String".len())
                .sum::<usize>()
    }
}

/// The e-mail body's share of a message: a readable finding is short; a
/// huge one (long error message, many references) is cut.
const MAX_EMAIL_BYTES: usize = 16 * 1024;

/// The per-protocol document: `default` is the Finding v1 JSON (cut as
/// [`Finding::to_message`] cuts it so the whole document, escaped, fits
/// [`MAX_MESSAGE_BYTES`]), `email` the plain-text finding.
pub fn per_protocol_message(finding: &Finding) -> String {
    let email = readable::clip(&readable::email_body(finding), MAX_EMAIL_BYTES / 4);
    let mut budget = MAX_MESSAGE_BYTES;
    loop {
        let document = json!({
            "default": finding.to_message(budget),
            "email": email,
        })
        .to_string();
        // Escaping grows the JSON (every quote gains a backslash): shrink
        // the finding's budget by the excess until the document fits.
        match document.len().checked_sub(MAX_MESSAGE_BYTES) {
            Some(excess) if excess > 0 && budget > 1024 => {
                budget = budget.saturating_sub(excess + 1024).max(1024);
            }
            _ => return document,
        }
    }
}

/// Packs messages into batches within SNS's count and size limits.
pub fn pack(messages: &[Outgoing]) -> Vec<&[Outgoing]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let full = i - start == MAX_BATCH_ENTRIES || bytes + m.size() > MAX_BATCH_BYTES;
        if full && i > start {
            batches.push(&messages[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += m.size();
    }
    if start < messages.len() {
        batches.push(&messages[start..]);
    }
    batches
}

/// Publishes `messages` to `topic_arn`; returns the ones not accepted.
pub async fn publish(client: &Client, topic_arn: &str, messages: &[Outgoing]) -> Vec<Rejected> {
    let fifo = topic_arn.ends_with(".fifo");
    let mut rejected = Vec::new();
    for batch in pack(messages) {
        let mut entries = Vec::with_capacity(batch.len());
        for m in batch {
            let mut entry = PublishBatchRequestEntry::builder()
                .id(&m.id)
                .message(&m.message)
                .subject(&m.subject);
            if m.per_protocol {
                entry = entry.message_structure("json");
            }
            for (name, value) in &m.attributes {
                let attribute = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build();
                match attribute {
                    Ok(a) => entry = entry.message_attributes(*name, a),
                    Err(e) => rejected.push(Rejected {
                        finding_id: m.id.clone(),
                        reason: e.to_string(),
                    }),
                }
            }
            if fifo {
                entry = entry
                    .message_group_id(m.attributes.first().map_or("findings", |a| a.1.as_str()))
                    .message_deduplication_id(&m.id);
            }
            match entry.build() {
                Ok(e) => entries.push(e),
                Err(e) => rejected.push(Rejected {
                    finding_id: m.id.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        let result = client
            .publish_batch()
            .topic_arn(topic_arn)
            .set_publish_batch_request_entries(Some(entries))
            .send()
            .await;
        match result {
            Ok(out) => rejected.extend(out.failed().iter().map(|f| Rejected {
                finding_id: f.id().to_owned(),
                reason: format!("{}: {}", f.code(), f.message().unwrap_or_default()),
            })),
            Err(e) => {
                let reason = DisplayErrorContext(e).to_string();
                rejected.extend(batch.iter().map(|m| Rejected {
                    finding_id: m.id.clone(),
                    reason: reason.clone(),
                }));
            }
        }
    }
    rejected
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing(id: usize, bytes: usize) -> Outgoing {
        Outgoing {
            id: id.to_string(),
            subject: String::new(),
            message: "x".repeat(bytes),
            per_protocol: false,
            attributes: vec![],
        }
    }

    #[test]
    fn packs_by_count_and_by_size() {
        let small: Vec<Outgoing> = (0..23).map(|i| outgoing(i, 100)).collect();
        let sizes: Vec<usize> = pack(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, vec![10, 10, 3]);

        let big: Vec<Outgoing> = (0..5).map(|i| outgoing(i, 100 * 1024)).collect();
        let sizes: Vec<usize> = pack(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        for batch in pack(&big) {
            assert!(batch.iter().map(|m| m.message.len()).sum::<usize>() <= MAX_BATCH_BYTES);
        }
        assert!(pack(&[]).is_empty());
    }
}
