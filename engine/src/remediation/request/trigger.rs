//! Finding the CloudTrail records in a remediator trigger.
//!
//! Accepted shapes, each checked for what it is before it is read:
//!
//! - EventBridge: `{"detail-type": "AWS API Call via CloudTrail", "detail": {..}}`;
//! - a trailguard finding (Finding v1, [`FindingMessage`]): the record is
//!   its `rawEvent`; when that was cut to fit SNS, the finding's
//!   `remediation` member names the resource and its facets the rest;
//! - the Lambda SNS event: `{"Records": [{"Sns": {"Message": "..", "TopicArn": ..}}]}`,
//!   each message one of the above as JSON text;
//! - the Lambda SQS event: `{"Records": [{"eventSource": "aws:sqs", "body": ".."}]}`,
//!   each body one of the above, raw or as an SNS notification, or a
//!   request the remediator deferred ([`crate::remediation::deferral`]).
//!
//! Each trigger keeps the [`Envelope`] AWS wrote around it, which
//! [`crate::remediation::origin`] checks before anything is acted on.
//!
//! [`plan`] answers per trigger, for `trailguard remediate plan` and for
//! the remediator, which runs the same code.

use serde_json::Value;

use super::{
    Assessment, CLOUDTRAIL_DETAIL_TYPE, Remediation, RemediationRequest, RequestError,
    TriggerSource, optional_str, required_object, required_str,
};
use crate::findings::{FindingMessage, MessageError};
use crate::remediation::deferral::DeferredRequest;

/// What AWS wrote around a trigger: the only facts about its origin the
/// remediator can trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// The payload was the trigger itself, with no envelope (a direct
    /// invocation of a bare finding).
    Direct,
    /// An EventBridge event: the `account` and `region` EventBridge wrote.
    EventBridge {
        /// `account`.
        account: Option<String>,
        /// `region`.
        region: Option<String>,
    },
    /// A Lambda SNS record: the `TopicArn` SNS wrote.
    Sns {
        /// `Sns.TopicArn`.
        topic_arn: Option<String>,
    },
    /// A Lambda SQS record: the queue Lambda read it from. A topic ARN in
    /// the body was written by whoever sent the message, so it is not kept.
    Sqs {
        /// `eventSourceARN`.
        queue_arn: Option<String>,
    },
}

/// One trigger found in a payload, and what it calls for.
#[derive(Debug)]
pub struct TriggerPlan {
    /// Where the trigger sits in the payload (`Records[0].Sns.Message`);
    /// empty for the payload itself.
    pub at: String,
    /// The topic an SNS notification came from, as SNS wrote it.
    pub sns_topic_arn: Option<String>,
    /// The envelope AWS wrote around the trigger.
    pub envelope: Envelope,
    /// For a request the remediator deferred: how many times it was.
    pub deferrals: Option<u32>,
    /// The request, why there is none, or why the trigger is unreadable.
    pub outcome: Result<Planned, RequestError>,
}

/// What a readable trigger calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Planned {
    /// A remediation request.
    Request(Box<RemediationRequest>),
    /// No action applies, and why.
    NoAction {
        /// For people.
        reason: String,
    },
}

/// Every trigger in `payload`, in order, with what each calls for.
pub fn plan(payload: &Value) -> Vec<TriggerPlan> {
    let Some(records) = payload.get("Records") else {
        let envelope = if payload.get("detail-type").is_some() {
            Envelope::EventBridge {
                account: owned_str(payload, "account"),
                region: owned_str(payload, "region"),
            }
        } else {
            Envelope::Direct
        };
        return vec![plan_message(payload, None, String::new(), None).within(envelope)];
    };
    let Some(records) = records.as_array() else {
        return vec![unreadable(
            "",
            RequestError::Invalid {
                field: "Records".to_owned(),
                reason: "expected an array of SNS or SQS records".to_owned(),
            },
        )];
    };
    records
        .iter()
        .enumerate()
        .map(|(i, record)| {
            if record.get("eventSource").and_then(Value::as_str) == Some("aws:sqs") {
                let queue_arn = owned_str(record, "eventSourceARN");
                plan_sqs_body(record, &format!("Records[{i}].body"))
                    .within(Envelope::Sqs { queue_arn })
            } else {
                let topic_arn = optional_str(record, &["Sns", "TopicArn"])
                    .ok()
                    .flatten()
                    .map(str::to_owned);
                plan_sns_record(record, &format!("Records[{i}]"))
                    .within(Envelope::Sns { topic_arn })
            }
        })
        .collect()
}

/// The requests of every trigger in `payload`; the first unreadable
/// trigger fails the whole payload (the remediator audits and retries it).
pub fn requests_from_trigger(payload: &Value) -> Result<Vec<RemediationRequest>, RequestError> {
    let mut requests = Vec::new();
    for trigger in plan(payload) {
        if let Planned::Request(request) = trigger.outcome? {
            requests.push(*request);
        }
    }
    Ok(requests)
}

impl TriggerPlan {
    /// The plan, with the envelope it arrived in.
    fn within(self, envelope: Envelope) -> Self {
        Self { envelope, ..self }
    }
}

fn owned_str(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn unreadable(at: &str, error: RequestError) -> TriggerPlan {
    TriggerPlan {
        at: at.to_owned(),
        sns_topic_arn: None,
        envelope: Envelope::Direct,
        deferrals: None,
        outcome: Err(error),
    }
}

fn plan_sns_record(record: &Value, at: &str) -> TriggerPlan {
    let field = format!("{at}.Sns.Message");
    let topic = optional_str(record, &["Sns", "TopicArn"]).ok().flatten();
    let text = match required_str(record, &["Sns", "Message"]) {
        Ok(text) => text,
        Err(e) => return unreadable(&field, e.within(at)),
    };
    parse_and_plan(text, field, topic.map(str::to_owned))
}

fn plan_sqs_body(record: &Value, at: &str) -> TriggerPlan {
    let body = match record.get("body") {
        Some(Value::String(body)) if !body.is_empty() => body,
        _ => {
            return unreadable(
                at,
                RequestError::Missing {
                    field: at.to_owned(),
                },
            );
        }
    };
    let message: Value = match serde_json::from_str(body) {
        Ok(message) => message,
        Err(source) => {
            let field = at.to_owned();
            return unreadable(at, RequestError::NotJson { field, source });
        }
    };
    // A queue subscribed to SNS without raw delivery gets the SNS
    // notification, the trigger being its `Message`.
    if message.get("Type").and_then(Value::as_str) == Some("Notification")
        && let Some(Value::String(text)) = message.get("Message")
    {
        let topic = message.get("TopicArn").and_then(Value::as_str);
        return parse_and_plan(text, format!("{at}.Message"), topic.map(str::to_owned));
    }
    if DeferredRequest::is_deferred(&message) {
        return plan_deferred(&message, at);
    }
    plan_message(&message, Some(body), at.to_owned(), None)
}

fn plan_deferred(message: &Value, at: &str) -> TriggerPlan {
    match DeferredRequest::from_value(message) {
        Ok(deferred) => TriggerPlan {
            at: at.to_owned(),
            sns_topic_arn: None,
            envelope: Envelope::Direct,
            deferrals: Some(deferred.deferrals),
            outcome: Ok(Planned::Request(Box::new(deferred.request))),
        },
        Err(e) => unreadable(at, e.within(at)),
    }
}

fn parse_and_plan(text: &str, at: String, topic: Option<String>) -> TriggerPlan {
    match serde_json::from_str::<Value>(text) {
        Ok(message) => plan_message(&message, Some(text), at, topic),
        Err(source) => TriggerPlan {
            outcome: Err(RequestError::NotJson {
                field: at.clone(),
                source,
            }),
            at,
            sns_topic_arn: topic,
            envelope: Envelope::Direct,
            deferrals: None,
        },
    }
}

/// One unwrapped message (`text` is its JSON text when there is one).
fn plan_message(
    message: &Value,
    text: Option<&str>,
    at: String,
    sns_topic_arn: Option<String>,
) -> TriggerPlan {
    let within = |e: RequestError| if at.is_empty() { e } else { e.within(&at) };
    let outcome = if message.get("detail-type").is_some() {
        plan_eventbridge(message).map_err(within)
    } else if message.get("schemaVersion").is_some() && message.get("rule").is_some() {
        let text = text.map_or_else(|| message.to_string(), str::to_owned);
        plan_finding(&text).map_err(within)
    } else {
        Err(RequestError::UnrecognizedTrigger {
            field: (!at.is_empty()).then(|| at.clone()),
        })
    };
    TriggerPlan {
        at,
        sns_topic_arn,
        envelope: Envelope::Direct,
        deferrals: None,
        outcome,
    }
}

fn plan_eventbridge(message: &Value) -> Result<Planned, RequestError> {
    let detail_type = required_str(message, &["detail-type"])?;
    if detail_type != CLOUDTRAIL_DETAIL_TYPE {
        return Err(RequestError::Invalid {
            field: "detail-type".to_owned(),
            reason: format!("expected \"{CLOUDTRAIL_DETAIL_TYPE}\", found \"{detail_type}\""),
        });
    }
    let detail = required_object(message, "detail")?;
    plan_cloudtrail(detail, TriggerSource::EventBridge).map_err(|e| e.within("detail"))
}

fn plan_cloudtrail(event: &Value, source: TriggerSource) -> Result<Planned, RequestError> {
    Ok(match Remediation::assess(event)? {
        Assessment::Remediate(remediation) => Planned::Request(Box::new(
            RemediationRequest::for_event(remediation, event, source)?,
        )),
        Assessment::NoAction { reason } => Planned::NoAction { reason },
    })
}

/// A finding: its whole raw event goes through the same mapping as an
/// EventBridge `detail`; a raw event cut for SNS is replaced by the
/// finding's `remediation` and facets.
fn plan_finding(text: &str) -> Result<Planned, RequestError> {
    let finding = FindingMessage::parse(text).map_err(|e| match e {
        MessageError::Shape(source) => RequestError::NotJson {
            field: "finding".to_owned(),
            source,
        },
        MessageError::Version { found } => RequestError::Invalid {
            field: "schemaVersion".to_owned(),
            reason: format!("`{found}` is not a finding version this remediator reads"),
        },
    })?;
    let source = TriggerSource::Finding {
        rule_id: finding.rule.id.clone(),
        finding_id: finding.id.clone().into_owned(),
    };
    if let Some(raw) = finding.whole_raw_event() {
        let event: Value = serde_json::from_str(raw).map_err(|source| RequestError::NotJson {
            field: "rawEvent".to_owned(),
            source,
        })?;
        return plan_cloudtrail(&event, source).map_err(|e| e.within("rawEvent"));
    }
    let Some(remediation) = finding.remediation.as_deref() else {
        return Err(RequestError::Invalid {
            field: "rawEvent".to_owned(),
            reason: "cut to fit SNS, and the finding has no `remediation` member naming the \
                     resource: nothing to act on"
                .to_owned(),
        });
    };
    request_from_facets(&finding, remediation.clone(), source)
        .map(|request| Planned::Request(Box::new(request)))
}

/// A request from a finding's facets, for a finding whose raw event was cut.
fn request_from_facets(
    finding: &FindingMessage<'_>,
    remediation: Remediation,
    source: TriggerSource,
) -> Result<RemediationRequest, RequestError> {
    let needed = |value: Option<&str>, field: &str| {
        value
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| RequestError::Missing {
                field: field.to_owned(),
            })
    };
    Ok(RemediationRequest {
        action: remediation.action,
        resource: remediation.resource,
        event_name: needed(finding.what.event_name.as_deref(), "what.eventName")?,
        trigger_event_id: needed(finding.event_id.as_deref(), "eventId")?,
        event_time: finding.time.as_deref().map(str::to_owned),
        principal_arn: finding.who.arn.clone(),
        account: needed(finding.where_.account.as_deref(), "where.account")?,
        region: needed(finding.where_.region.as_deref(), "where.region")?,
        error_code: finding.outcome.error_code.clone(),
        source,
    })
}

#[cfg(test)]
mod tests;
