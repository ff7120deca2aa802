//! The record kept of every remediation decision, acted on or not.
//!
//! One [`AuditRecord`] is written per request, whatever the outcome, to
//! DynamoDB ([`AuditRecord::to_dynamodb_item`]: flat string attributes) and
//! to SNS ([`AuditRecord::to_json`]). Field names are camelCase and stable.
//!
//! # Idempotency
//!
//! The record id is a SHA-256 of the trigger's `eventID`, the action and the
//! resource ([`audit_id`]), so a redelivered trigger maps to the same id. The
//! executor looks the id up before acting and stops if a record with a
//! final outcome ([`Outcome::is_final`]) exists; it writes with the
//! condition `attribute_not_exists(id) OR outcome = :failed`, so two
//! concurrent deliveries cannot both record a change, and a failed attempt
//! can be retried. A trigger that could not be read gets an id from its
//! payload instead ([`AuditRecord::rejected`]).
//!
//! # Undoing an action from the record
//!
//! `before` is the action's `LiveState` and `plan` its `Plan`, both as JSON:
//!
//! - `security-group-open-ingress`: for each rule in `plan.revoke`, call
//!   `AuthorizeSecurityGroupIngress` on `plan.groupId` with its `protocol`,
//!   `fromPort`/`toPort`, `cidrIpv4` or `cidrIpv6`, and `description`. The
//!   re-created rules get new rule ids.
//! - `cloudtrail-logging`: `StopLogging(plan.trailArn)` in `plan.region`.
//! - `s3-public-access`: if `plan.previous` is null, `DeletePublicAccessBlock`
//!   on `plan.bucket`; otherwise `PutPublicAccessBlock` with its four flags.
//! - `snapshot-public`: `ModifySnapshotAttribute` on `plan.snapshotId` with
//!   `CreateVolumePermission.Add = [{Group: all}]`.
//! - `image-public`: `ModifyImageAttribute` on `plan.imageId` with
//!   `LaunchPermission.Add = [{Group: all}]`.
//! - `kms-key-deletion`: `ScheduleKeyDeletion(plan.keyArn)` again. The new
//!   waiting period starts at the undo, so `plan.cancelledDeletionDate`
//!   cannot be restored exactly. The key was left `Disabled`; undo needs no
//!   `EnableKey`/`DisableKey`.
//! - `config-recorder`: `StopConfigurationRecorder(plan.recorderName)`.
//! - `iam-access-key`: `UpdateAccessKey(plan.userName, plan.accessKeyId,
//!   Status=Active)`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::clock::rfc3339_utc;

use super::actions::ActionKind;
use super::request::{RemediationRequest, ResourceRef, TriggerSource};

/// What happened to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// The plan was applied.
    Acted,
    /// Dry run: the plan would have been applied.
    WouldAct,
    /// The resource's tags or its account exempt it.
    SkippedExempt {
        /// Which exemption.
        reason: String,
    },
    /// The resource is already as the action would leave it.
    SkippedAlreadyCompliant {
        /// What was found.
        reason: String,
    },
    /// The action does not apply (see `Decision::NotApplicable`).
    SkippedNotApplicable {
        /// Why.
        reason: String,
    },
    /// A guard pre-check stopped it (own role, failed call, disabled action).
    SkippedGuard {
        /// Which check.
        reason: String,
    },
    /// The account's rate limit window is full: the request was queued
    /// to run again when the window ends. Not final: the queued request
    /// takes the record over.
    Deferred {
        /// When the next window starts (epoch seconds).
        until_epoch: u64,
    },
    /// The trigger is not authentic, or names an account other than the
    /// one AWS delivered it from: nothing is read or changed.
    Refused {
        /// Why.
        reason: String,
    },
    /// Reading live state or applying the plan failed.
    Failed {
        /// The error.
        error: String,
    },
    /// The trigger could not be turned into requests.
    Rejected {
        /// The error.
        error: String,
    },
}

impl Outcome {
    /// The outcome's name, as serialised in `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::Acted => "acted",
            Outcome::WouldAct => "wouldAct",
            Outcome::SkippedExempt { .. } => "skippedExempt",
            Outcome::SkippedAlreadyCompliant { .. } => "skippedAlreadyCompliant",
            Outcome::SkippedNotApplicable { .. } => "skippedNotApplicable",
            Outcome::SkippedGuard { .. } => "skippedGuard",
            Outcome::Deferred { .. } => "deferred",
            Outcome::Refused { .. } => "refused",
            Outcome::Failed { .. } => "failed",
            Outcome::Rejected { .. } => "rejected",
        }
    }

    /// The reason or error carried, as text.
    pub fn detail(&self) -> Option<String> {
        match self {
            Outcome::Acted | Outcome::WouldAct => None,
            Outcome::SkippedExempt { reason }
            | Outcome::SkippedAlreadyCompliant { reason }
            | Outcome::SkippedNotApplicable { reason }
            | Outcome::SkippedGuard { reason }
            | Outcome::Refused { reason } => Some(reason.clone()),
            Outcome::Deferred { until_epoch } => Some(format!(
                "rate limit window full: deferred until {}",
                rfc3339_utc(*until_epoch)
            )),
            Outcome::Failed { error } | Outcome::Rejected { error } => Some(error.clone()),
        }
    }

    /// Whether a redelivery of the same trigger should stop here. A
    /// failure may be retried, and a deferred request runs again from the
    /// retry queue; a redelivery in a full window is deferred again, never
    /// acted on, so it cannot drain the next window ahead of its turn.
    pub fn is_final(&self) -> bool {
        !matches!(self, Outcome::Failed { .. } | Outcome::Deferred { .. })
    }
}

/// The record of one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// [`audit_id`] of the request (or of the payload, when rejected).
    pub id: String,
    /// When the decision was made, RFC 3339 UTC.
    pub timestamp: String,
    /// The action; absent when the trigger was rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionKind>,
    /// The resource, as `kind/identifier`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// The resource's account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The region of the triggering call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The triggering CloudTrail `eventName`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// The triggering CloudTrail `eventID`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_event_id: Option<String>,
    /// The finding rule that triggered it, if a finding did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_id: Option<String>,
    /// The id of the finding that triggered it, if a finding did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finding_id: Option<String>,
    /// The caller of the triggering event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Something the decision set aside, e.g. an exemption tag not honoured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether the remediator ran in dry run.
    pub dry_run: bool,
    /// The action's plan, or null.
    pub plan: Value,
    /// The live state read before deciding, or null.
    pub before: Value,
    /// The live state read after applying, or null.
    pub after: Value,
}

/// The deterministic record id of a request: the first 128 bits of a
/// SHA-256, in hex, over the trigger's `eventID`, the action name and the
/// resource text, each length-prefixed so no two inputs share an encoding.
pub fn audit_id(trigger_event_id: &str, action: ActionKind, resource: &ResourceRef) -> String {
    digest_hex(&[
        "trailguard-audit-v1",
        trigger_event_id,
        action.name(),
        &resource.to_string(),
    ])
}

fn digest_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(32);
    for byte in digest.iter().take(16) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

impl AuditRecord {
    /// A record of `outcome` for `req`, made at `now_epoch` (seconds);
    /// `plan`, `before` and `after` start null.
    pub fn new(req: &RemediationRequest, outcome: Outcome, dry_run: bool, now_epoch: u64) -> Self {
        let (rule_id, finding_id) = match &req.source {
            TriggerSource::Finding {
                rule_id,
                finding_id,
            } => (Some(rule_id.clone()), Some(finding_id.clone())),
            TriggerSource::EventBridge => (None, None),
        };
        Self {
            id: audit_id(&req.trigger_event_id, req.action, &req.resource),
            timestamp: rfc3339_utc(now_epoch),
            action: Some(req.action),
            resource: Some(req.resource.to_string()),
            account: Some(req.account.clone()),
            region: Some(req.region.clone()),
            event_name: Some(req.event_name.clone()),
            trigger_event_id: Some(req.trigger_event_id.clone()),
            rule_id,
            finding_id,
            principal: req.principal_arn.clone(),
            outcome,
            note: None,
            dry_run,
            plan: Value::Null,
            before: Value::Null,
            after: Value::Null,
        }
    }

    /// A record of a request refused for its origin. Its id is not the
    /// request's [`audit_id`]: a forged trigger naming a real event's id
    /// must not take the record the authentic trigger will need. `origin`
    /// describes the envelope it came in.
    pub fn refused(
        req: &RemediationRequest,
        origin: &str,
        reason: String,
        dry_run: bool,
        now_epoch: u64,
    ) -> Self {
        let mut record = Self::new(req, Outcome::Refused { reason }, dry_run, now_epoch);
        record.id = digest_hex(&[
            "trailguard-refused-v1",
            origin,
            &req.trigger_event_id,
            req.action.name(),
            &req.resource.to_string(),
        ]);
        record
    }

    /// A record of a trigger that could not be read; its id is derived from
    /// the payload so a redelivery of the same payload maps to it.
    pub fn rejected(payload: &Value, error: &str, dry_run: bool, now_epoch: u64) -> Self {
        Self {
            id: digest_hex(&["trailguard-rejected-v1", &payload.to_string()]),
            timestamp: rfc3339_utc(now_epoch),
            action: None,
            resource: None,
            account: None,
            region: None,
            event_name: None,
            trigger_event_id: None,
            rule_id: None,
            finding_id: None,
            principal: None,
            outcome: Outcome::Rejected {
                error: error.to_owned(),
            },
            note: None,
            dry_run,
            plan: Value::Null,
            before: Value::Null,
            after: Value::Null,
        }
    }

    /// The record with its plan set.
    pub fn with_plan(mut self, plan: Value) -> Self {
        self.plan = plan;
        self
    }

    /// The record with the live state read before deciding.
    pub fn with_before(mut self, before: Value) -> Self {
        self.before = before;
        self
    }

    /// The record with a note on what the decision set aside.
    pub fn with_note(mut self, note: Option<String>) -> Self {
        self.note = note;
        self
    }

    /// The record with the live state read after applying.
    pub fn with_after(mut self, after: Value) -> Self {
        self.after = after;
        self
    }

    /// The record as flat string attributes for a DynamoDB item: the JSON
    /// field names, `outcome` as its kind with the reason or error in
    /// `outcomeDetail`, `dryRun` as `true`/`false`, and `plan`, `before`,
    /// `after` as compact JSON text. Absent and null fields are left out.
    pub fn to_dynamodb_item(&self) -> BTreeMap<&'static str, String> {
        let mut item = BTreeMap::new();
        item.insert("id", self.id.clone());
        item.insert("timestamp", self.timestamp.clone());
        let optional = [
            ("action", self.action.map(|a| a.name().to_owned())),
            ("resource", self.resource.clone()),
            ("account", self.account.clone()),
            ("region", self.region.clone()),
            ("eventName", self.event_name.clone()),
            ("triggerEventId", self.trigger_event_id.clone()),
            ("ruleId", self.rule_id.clone()),
            ("findingId", self.finding_id.clone()),
            ("principal", self.principal.clone()),
            ("outcomeDetail", self.outcome.detail()),
            ("note", self.note.clone()),
        ];
        item.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        item.insert("outcome", self.outcome.kind().to_owned());
        item.insert("dryRun", self.dry_run.to_string());
        for (key, value) in [
            ("plan", &self.plan),
            ("before", &self.before),
            ("after", &self.after),
        ] {
            if !value.is_null() {
                item.insert(key, value.to_string());
            }
        }
        item
    }

    /// The record as the JSON message published on SNS.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request() -> RemediationRequest {
        RemediationRequest {
            action: ActionKind::SecurityGroupOpenIngress,
            resource: ResourceRef::SecurityGroup {
                group_id: "sg-0632fa4ee8a8468a4".into(),
            },
            event_name: "AuthorizeSecurityGroupIngress".into(),
            trigger_event_id: "2aae5c69-4eaf-490d-b022-fd622c12a717".into(),
            principal_arn: Some("arn:aws:sts::111122223333:assumed-role/Deployer/deploy".into()),
            account: "111122223333".into(),
            region: "us-east-1".into(),
            error_code: None,
            event_time: Some("2024-05-02T09:14:03Z".into()),
            source: TriggerSource::Finding {
                rule_id: "cis-4.10".into(),
                finding_id: "0123456789abcdef0123456789abcdef".into(),
            },
        }
    }

    #[test]
    fn audit_id_is_stable_and_distinguishes_inputs() {
        let req = request();
        let id = audit_id(&req.trigger_event_id, req.action, &req.resource);
        // SHA-256 computed independently over the same length-prefixed encoding.
        assert_eq!(id, "ea0b15d9b783201f7cd23f031a56ffd3");
        assert_eq!(
            id,
            audit_id(&req.trigger_event_id, req.action, &req.resource)
        );
        let other_event = audit_id(
            "2aae5c69-4eaf-490d-b022-fd622c12a718",
            req.action,
            &req.resource,
        );
        let other_action = audit_id(
            &req.trigger_event_id,
            ActionKind::CloudtrailLogging,
            &req.resource,
        );
        let other_resource = audit_id(
            &req.trigger_event_id,
            req.action,
            &ResourceRef::SecurityGroup {
                group_id: "sg-0632fa4ee8a8468a5".into(),
            },
        );
        for other in [other_event, other_action, other_resource] {
            assert_ne!(other, id);
        }
        // Redelivery: the same request built again gives the same record id.
        let now = 1_714_641_243;
        assert_eq!(
            AuditRecord::new(&req, Outcome::Acted, false, now).id,
            AuditRecord::new(&req.clone(), Outcome::WouldAct, true, now + 60).id
        );
    }

    #[test]
    fn json_form_has_stable_camel_case_names() {
        let record = AuditRecord::new(
            &request(),
            Outcome::SkippedGuard {
                reason: "the call failed".into(),
            },
            true,
            1_714_641_243,
        )
        .with_plan(json!({"groupId": "sg-0632fa4ee8a8468a4"}));
        let json: Value = record
            .to_json()
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        assert_eq!(
            json["triggerEventId"],
            "2aae5c69-4eaf-490d-b022-fd622c12a717"
        );
        assert_eq!(json["action"], "security-group-open-ingress");
        assert_eq!(json["resource"], "security-group/sg-0632fa4ee8a8468a4");
        assert_eq!(json["ruleId"], "cis-4.10");
        assert_eq!(json["dryRun"], true);
        assert_eq!(
            json["outcome"],
            json!({"kind": "skippedGuard", "reason": "the call failed"})
        );
        assert_eq!(json["plan"]["groupId"], "sg-0632fa4ee8a8468a4");
        assert_eq!(json["before"], Value::Null);
        let back: Option<AuditRecord> = serde_json::from_value(json).ok();
        assert_eq!(back, Some(record));
    }

    #[test]
    fn dynamodb_item_is_flat_strings() {
        let record = AuditRecord::new(
            &request(),
            Outcome::Deferred {
                until_epoch: 1_714_644_000,
            },
            false,
            1_714_641_243,
        )
        .with_before(json!({"groupId": "sg-0632fa4ee8a8468a4", "ingressRules": []}));
        let item = record.to_dynamodb_item();
        assert_eq!(item.get("outcome").map(String::as_str), Some("deferred"));
        assert_eq!(
            item.get("outcomeDetail").map(String::as_str),
            Some("rate limit window full: deferred until 2024-05-02T10:00:00Z")
        );
        assert_eq!(item.get("dryRun").map(String::as_str), Some("false"));
        assert_eq!(
            item.get("before").map(String::as_str),
            Some(r#"{"groupId":"sg-0632fa4ee8a8468a4","ingressRules":[]}"#)
        );
        assert!(!item.contains_key("plan"));
        assert!(!item.contains_key("after"));
        assert_eq!(
            item.get("principal").map(String::as_str),
            request().principal_arn.as_deref()
        );
    }

    #[test]
    fn rejected_triggers_are_recorded_by_payload() {
        let payload = json!({"hello": "world"});
        let a = AuditRecord::rejected(&payload, "the payload is not a trigger", true, 0);
        let b = AuditRecord::rejected(&payload, "the payload is not a trigger", true, 99);
        assert_eq!(a.id, b.id);
        assert_ne!(
            a.id,
            AuditRecord::rejected(&json!({"hello": "there"}), "x", true, 0).id
        );
        let item = a.to_dynamodb_item();
        assert_eq!(item.get("outcome").map(String::as_str), Some("rejected"));
        assert!(!item.contains_key("action"));
    }

    #[test]
    fn only_failures_are_retried() {
        assert!(
            !Outcome::Failed {
                error: "throttled".into()
            }
            .is_final()
        );
        assert!(Outcome::Acted.is_final());
        assert!(!Outcome::Deferred { until_epoch: 0 }.is_final());
        assert!(
            Outcome::Refused {
                reason: "forged".into()
            }
            .is_final()
        );
    }
}
