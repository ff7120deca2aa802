//! Finding the CloudTrail records in a remediator trigger.
//!
//! The envelopes are peeled by [`crate::envelope`], the same code that
//! reads every delivery: the Lambda SQS event (each body on its own, raw or
//! as an SNS notification) and the Lambda SNS event. [`Triggers`] reads
//! what is inside them, each shape checked for what it is before it is read:
//!
//! - EventBridge: `{"detail-type": "AWS API Call via CloudTrail", "detail": {..}}`;
//! - a trailguard finding (Finding v1, [`FindingMessage`]): the record is
//!   its `rawEvent`; when that was cut to fit SNS, the finding's
//!   `remediation` member names the resource and its facets the rest;
//! - in an SQS body only, a request the remediator deferred
//!   ([`crate::remediation::deferral`]).
//!
//! Each trigger keeps the [`Origin`] AWS wrote around it, which
//! [`crate::remediation::origin`] checks before anything is acted on.
//!
//! [`plan`] answers per trigger, for `trailguard remediate plan` and for
//! the remediator, which runs the same code.

use serde_json::Value;

use super::{
    Assessment, CLOUDTRAIL_DETAIL_TYPE, Remediation, RemediationRequest, RequestError,
    TriggerSource, required_object, required_str,
};
use crate::envelope::{
    self, Contents, EnvelopeError, Found, Ignored, Layer, Message, Origin, Part,
};
use crate::findings::{FindingMessage, MessageError};
use crate::remediation::deferral::DeferredRequest;

/// One trigger found in a delivery, not yet read.
#[derive(Debug)]
pub struct Trigger {
    at: String,
    origin: Origin,
    sns_topic_arn: Option<String>,
    content: Content,
}

#[derive(Debug)]
enum Content {
    /// An EventBridge event.
    EventBridge(Value),
    /// A finding's JSON text.
    Finding(String),
    /// A request the remediator deferred.
    Deferred(Value),
}

/// Reads remediator triggers where the envelopes end (see the module doc).
#[derive(Debug, Clone, Copy, Default)]
pub struct Triggers;

impl Contents for Triggers {
    type Item = Trigger;

    const EXPECTED: &'static str = "an EventBridge event (`detail-type`: \"AWS API Call via \
        CloudTrail\", `detail`), a trailguard finding (`schemaVersion`, `rule`, `rawEvent`), a \
        Lambda SNS event carrying either, or a Lambda SQS event carrying either or a deferred \
        request";

    fn read(&self, part: &Part<'_>, found: &mut Found<Trigger>) -> Result<(), EnvelopeError> {
        let Some(fields) = part.value.as_object() else {
            return Err(part.unrecognised::<Triggers>());
        };
        let content = if part.layer == Layer::SqsBody && DeferredRequest::is_deferred(part.value) {
            Content::Deferred(part.value.clone())
        } else if fields.contains_key("detail-type") {
            Content::EventBridge(part.value.clone())
        } else if fields.contains_key("schemaVersion") && fields.contains_key("rule") {
            Content::Finding(
                part.text
                    .map_or_else(|| part.value.to_string(), str::to_owned),
            )
        } else {
            return Err(part.unrecognised::<Triggers>());
        };
        // Only an event EventBridge invoked the function with is vouched
        // for by EventBridge; one inside a message, by its sender alone.
        let origin = match (&content, part.layer) {
            (Content::EventBridge(event), Layer::Direct) => Origin::EventBridge {
                account: owned_str(event, "account"),
                region: owned_str(event, "region"),
            },
            _ => part.origin.clone(),
        };
        found.items.push(Trigger {
            at: part.at.to_string(),
            origin,
            sns_topic_arn: part.sns_topic_arn.map(str::to_owned),
            content,
        });
        Ok(())
    }
}

/// One trigger found in a payload, and what it calls for.
#[derive(Debug)]
pub struct TriggerPlan {
    /// Where the trigger sits in the payload (`Lambda input > SNS message
    /// 95df01b4-..`).
    pub at: String,
    /// The topic an SNS notification came from, as the notification says.
    pub sns_topic_arn: Option<String>,
    /// The envelope AWS wrote around the trigger.
    pub envelope: Origin,
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

/// Every trigger in `payload`, in order, with what each calls for. A
/// payload or message that cannot be unwrapped is one unreadable plan.
pub fn plan(payload: &Value) -> Vec<TriggerPlan> {
    match envelope::unwrap_with(&Triggers, payload) {
        Ok(delivery) => delivery
            .messages
            .into_iter()
            .flat_map(plan_message)
            .collect(),
        Err(error) => vec![unreadable(String::new(), error)],
    }
}

/// Every trigger in one message of a delivery, with what each calls for: a
/// message that cannot be unwrapped is one unreadable plan, and one
/// recognised and deliberately skipped (an SNS subscription confirmation)
/// one calling for no action.
pub fn plan_message(message: Message<Trigger>) -> Vec<TriggerPlan> {
    let at = message
        .id
        .as_deref()
        .map_or_else(String::new, |id| format!("SQS message {id}"));
    let mut plans: Vec<TriggerPlan> = message
        .ignored
        .iter()
        .map(|ignored| TriggerPlan {
            at: at.clone(),
            sns_topic_arn: None,
            envelope: Origin::Direct,
            deferrals: None,
            outcome: Ok(Planned::NoAction {
                reason: skipped(ignored),
            }),
        })
        .collect();
    match message.outcome {
        Ok(triggers) => plans.extend(triggers.into_iter().map(plan_trigger)),
        Err(error) => plans.push(unreadable(at, error)),
    }
    plans
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

fn owned_str(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn unreadable(at: String, error: EnvelopeError) -> TriggerPlan {
    TriggerPlan {
        at,
        sns_topic_arn: None,
        envelope: Origin::Direct,
        deferrals: None,
        outcome: Err(RequestError::Envelope(error)),
    }
}

fn skipped(ignored: &Ignored) -> String {
    match ignored {
        Ignored::SnsControl { message_type, .. } => {
            format!("an SNS {message_type} message, not a notification: nothing to act on")
        }
        other => format!("{other:?}: nothing to act on"),
    }
}

/// What one trigger calls for; an error names the trigger's place.
fn plan_trigger(trigger: Trigger) -> TriggerPlan {
    let Trigger {
        at,
        origin,
        sns_topic_arn,
        content,
    } = trigger;
    let (deferrals, outcome) = match content {
        Content::EventBridge(event) => (None, plan_eventbridge(&event)),
        Content::Finding(text) => (None, plan_finding(&text)),
        Content::Deferred(message) => match DeferredRequest::from_value(&message) {
            Ok(deferred) => (
                Some(deferred.deferrals),
                Ok(Planned::Request(Box::new(deferred.request))),
            ),
            Err(e) => (None, Err(e)),
        },
    };
    TriggerPlan {
        outcome: outcome.map_err(|source| RequestError::In {
            at: at.clone(),
            source: Box::new(source),
        }),
        at,
        sns_topic_arn,
        envelope: origin,
        deferrals,
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
