//! Executor for [`trailguard_engine::remediation::actions::kms_key_deletion`]: the
//! key's state from `DescribeKey`, its tags from `ListResourceTags`, and
//! `CancelKeyDeletion`.
//!
//! Calls after `DescribeKey` name the key by its key id, taken from the
//! ARN `DescribeKey` returned: KMS accepts the id for a key of the caller's
//! own account, which is the only kind the remediator acts on, and local
//! stand-ins accept only the id for `CancelKeyDeletion`.

use aws_config::SdkConfig;
use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::DateTimeFormat;

use super::{ExecuteError, Executor, Tags, call_error, regional, wrong_resource};
use trailguard_engine::remediation::actions::Decision;
use trailguard_engine::remediation::actions::kms_key_deletion::{self as action, KeyState};
use trailguard_engine::remediation::guard::GuardConfig;
use trailguard_engine::remediation::request::{RemediationRequest, ResourceRef};

/// KMS's error code for a key that does not exist.
const NOT_FOUND: &[&str] = &["NotFoundException"];

/// Reads one key and cancels its deletion.
pub struct KeyExecutor {
    kms: Client,
    key_id: String,
    resource: String,
}

impl KeyExecutor {
    /// The executor for `req`'s key, in `req`'s region.
    pub fn new(sdk: &SdkConfig, req: &RemediationRequest) -> Result<Self, ExecuteError> {
        let ResourceRef::KmsKey { key_id } = &req.resource else {
            return Err(wrong_resource(action::NAME, req));
        };
        Ok(Self {
            kms: Client::new(&regional(sdk, &req.region)),
            key_id: key_id.clone(),
            resource: req.resource.to_string(),
        })
    }
}

/// The key id in a key ARN (`arn:…:key/<id>`), or the text itself.
pub fn key_id_of(key: &str) -> &str {
    key.rsplit_once(":key/").map_or(key, |(_, id)| id)
}

/// The action's [`KeyState`] for KMS's spelling of it.
pub fn key_state(kms: &str) -> KeyState {
    match kms {
        "Creating" => KeyState::Creating,
        "Enabled" => KeyState::Enabled,
        "Disabled" => KeyState::Disabled,
        "PendingDeletion" => KeyState::PendingDeletion,
        "PendingImport" => KeyState::PendingImport,
        "PendingReplicaDeletion" => KeyState::PendingReplicaDeletion,
        "Unavailable" => KeyState::Unavailable,
        "Updating" => KeyState::Updating,
        _ => KeyState::Unknown,
    }
}

impl Executor for KeyExecutor {
    type Live = action::LiveState;
    type Plan = action::Plan;

    async fn read(&self) -> Result<action::LiveState, ExecuteError> {
        let missing = |field| ExecuteError::MissingField {
            operation: "DescribeKey",
            resource: self.resource.clone(),
            field,
        };
        let meta = self
            .kms
            .describe_key()
            .key_id(&self.key_id)
            .send()
            .await
            .map_err(|e| call_error("DescribeKey", &self.resource, NOT_FOUND, e))?
            .key_metadata
            .ok_or_else(|| missing("KeyMetadata"))?;
        let deletion_date = meta
            .deletion_date()
            .and_then(|d| d.fmt(DateTimeFormat::DateTime).ok());
        Ok(action::LiveState {
            key_arn: meta.arn.ok_or_else(|| missing("Arn"))?,
            key_state: meta
                .key_state
                .map_or(KeyState::Unknown, |s| key_state(s.as_str())),
            deletion_date,
        })
    }

    async fn tags(&self, live: &action::LiveState) -> Result<Tags, ExecuteError> {
        let tags = self
            .kms
            .list_resource_tags()
            .key_id(key_id_of(&live.key_arn))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| call_error("ListResourceTags", &self.resource, NOT_FOUND, e))?;
        Ok(tags.into_iter().map(|t| (t.tag_key, t.tag_value)).collect())
    }

    fn decide(
        &self,
        req: &RemediationRequest,
        live: &action::LiveState,
        _cfg: &GuardConfig,
    ) -> Decision<action::Plan> {
        action::decide(req, live)
    }

    async fn apply(&self, plan: &action::Plan) -> Result<(), ExecuteError> {
        self.kms
            .cancel_key_deletion()
            .key_id(key_id_of(&plan.key_arn))
            .send()
            .await
            .map_err(|e| call_error("CancelKeyDeletion", &self.resource, NOT_FOUND, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_come_out_of_arns() {
        assert_eq!(
            key_id_of("arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab"),
            "1234abcd-12ab"
        );
        assert_eq!(key_id_of("1234abcd-12ab"), "1234abcd-12ab");
    }

    #[test]
    fn key_states_map_by_name_and_unknown_ones_stay_unknown() {
        assert_eq!(key_state("PendingDeletion"), KeyState::PendingDeletion);
        assert_eq!(
            key_state("PendingReplicaDeletion"),
            KeyState::PendingReplicaDeletion
        );
        assert_eq!(key_state("Disabled"), KeyState::Disabled);
        assert_eq!(key_state("Hibernating"), KeyState::Unknown);
        for kms in [
            aws_sdk_kms::types::KeyState::Creating,
            aws_sdk_kms::types::KeyState::Enabled,
            aws_sdk_kms::types::KeyState::PendingImport,
            aws_sdk_kms::types::KeyState::Unavailable,
            aws_sdk_kms::types::KeyState::Updating,
        ] {
            assert_ne!(key_state(kms.as_str()), KeyState::Unknown, "{kms:?}");
        }
    }
}
