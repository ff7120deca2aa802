//! Who set a resource's exemption tag, and when: CloudTrail `LookupEvents`
//! by resource name, read into [`TagChange`]s for
//! [`trailguard_engine::remediation::exemption::standing`].
//!
//! [`TagHistory`] is a trait so the service can be given another source
//! where CloudTrail's event history is not available (an emulator).

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::Client;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_ec2::error::DisplayErrorContext;
use futures::future::BoxFuture;

use super::regional;
use trailguard_engine::remediation::exemption::{
    HISTORY_SECS, TagChange, lookup_name, tag_change_of,
};
use trailguard_engine::remediation::request::RemediationRequest;

/// `LookupEvents` pages read at most (50 events each, newest first): the
/// newest changes are the ones that count, and the remediator has a deadline.
const MAX_PAGES: usize = 10;

/// Where the changes of a resource's exemption tag are read from.
pub trait TagHistory: Send + Sync {
    /// The recorded changes of `tag_key` on `req`'s resource, from
    /// [`HISTORY_SECS`] before the event to `now`; an error is text for
    /// the audit record.
    fn changes<'a>(
        &'a self,
        req: &'a RemediationRequest,
        tag_key: &'a str,
        now: u64,
    ) -> BoxFuture<'a, Result<Vec<TagChange>, String>>;
}

/// CloudTrail's event history in the request's region.
pub struct CloudTrailHistory {
    sdk: SdkConfig,
}

impl CloudTrailHistory {
    /// The history read through `sdk`.
    pub fn new(sdk: &SdkConfig) -> Self {
        Self { sdk: sdk.clone() }
    }

    async fn lookup(
        &self,
        req: &RemediationRequest,
        tag_key: &str,
        now: u64,
    ) -> Result<Vec<TagChange>, String> {
        let Some(name) = lookup_name(&req.resource) else {
            return Ok(Vec::new());
        };
        let end = i64::try_from(now).unwrap_or(i64::MAX);
        let start = req
            .event_epoch()
            .unwrap_or(end)
            .saturating_sub(HISTORY_SECS);
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::ResourceName)
            .attribute_value(name)
            .build()
            .map_err(|e| e.to_string())?;
        let client = Client::new(&regional(&self.sdk, &req.region));
        let mut pages = client
            .lookup_events()
            .lookup_attributes(attribute)
            .start_time(DateTime::from_secs(start))
            .end_time(DateTime::from_secs(end))
            .into_paginator()
            .send();
        let mut changes = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(page) = pages.next().await else {
                break;
            };
            let page = page.map_err(|e| {
                format!(
                    "CloudTrail LookupEvents for {name} failed: {}",
                    DisplayErrorContext(&e)
                )
            })?;
            changes.extend(
                page.events()
                    .iter()
                    .filter_map(|e| e.cloud_trail_event())
                    .filter_map(|text| tag_change_of(text, tag_key)),
            );
        }
        Ok(changes)
    }
}

impl TagHistory for CloudTrailHistory {
    fn changes<'a>(
        &'a self,
        req: &'a RemediationRequest,
        tag_key: &'a str,
        now: u64,
    ) -> BoxFuture<'a, Result<Vec<TagChange>, String>> {
        Box::pin(self.lookup(req, tag_key, now))
    }
}
