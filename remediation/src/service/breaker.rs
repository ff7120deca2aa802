//! The rate limit's side effects: the per-account counter in the rate
//! table, and a deferral to the retry queue with its metric and, once per
//! window, its finding.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata};
use trailguard_delivery::sinks::cloudwatch::publish as publish_metrics;
use trailguard_delivery::sinks::sns::{Outgoing, publish as publish_findings};
use trailguard_engine::remediation::alert::{rate_limit_finding, rate_limited_datum};
use trailguard_engine::remediation::audit::Outcome;
use trailguard_engine::remediation::deferral::{DeferredRequest, delay_secs};
use trailguard_engine::remediation::rate::Admission;
use trailguard_engine::remediation::request::RemediationRequest;

use super::RemediatorService;

impl RemediatorService {
    /// Queues a rate-limited `req` for the window starting at `until_epoch`,
    /// counts it in the alarm's metric and, on the window's first trip,
    /// reports a finding. Any failure is the request's failure, so the
    /// trigger is retried rather than the request dropped.
    pub(super) async fn defer(
        &self,
        req: &RemediationRequest,
        deferrals: u32,
        until_epoch: u64,
        now: u64,
    ) -> Outcome {
        match self.try_defer(req, deferrals, until_epoch, now).await {
            Ok(()) => Outcome::Deferred { until_epoch },
            Err(error) => Outcome::Failed {
                error: format!(
                    "rate limit reached, and the request could not be deferred: {error}"
                ),
            },
        }
    }

    async fn try_defer(
        &self,
        req: &RemediationRequest,
        deferrals: u32,
        until_epoch: u64,
        now: u64,
    ) -> Result<(), String> {
        let body = DeferredRequest::new(req.clone(), deferrals.saturating_add(1), until_epoch)
            .to_body()
            .map_err(|e| e.to_string())?;
        let delay = i32::try_from(delay_secs(until_epoch, now)).unwrap_or(0);
        self.sqs
            .send_message()
            .queue_url(&self.config.retry_queue_url)
            .message_body(body)
            .delay_seconds(delay)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SendMessage to {} failed: {}",
                    self.config.retry_queue_url,
                    DisplayErrorContext(&e)
                )
            })?;
        let datum = rate_limited_datum(&self.config.ops_namespace, now);
        publish_metrics(&self.cloudwatch, &[datum], None)
            .await
            .map_err(|e| e.to_string())?;
        if self.first_trip(&req.account, now).await? {
            let finding = rate_limit_finding(req, &self.config.rate, now);
            let topic = &self.config.trusted.findings_topic_arn;
            let refused = publish_findings(&self.sns, topic, &[Outgoing::of(&finding)]).await;
            if let Some(first) = refused.first() {
                return Err(format!(
                    "the rate limit finding could not be published to {topic}: {}",
                    first.reason
                ));
            }
        }
        Ok(())
    }

    /// Marks `account`'s current window as reported; `true` the first time.
    async fn first_trip(&self, account: &str, now: u64) -> Result<bool, String> {
        let key = self.config.rate.counter_key(account, now);
        let result = self
            .dynamodb
            .update_item()
            .table_name(&self.config.rate_table)
            .key("pk", AttributeValue::S(key.clone()))
            .update_expression("SET #reported = :now")
            .condition_expression("attribute_not_exists(#reported)")
            .expression_attribute_names("#reported", "reportedAt")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(false),
            Err(e) => Err(format!(
                "rate limit counter {key} in table {} could not be marked reported: {}",
                self.config.rate_table,
                DisplayErrorContext(&e)
            )),
        }
    }

    /// One change against `account`'s budget: the conditional `UpdateItem`
    /// of [`RateLimit::counter_update`]. An error is returned as text for
    /// the audit record.
    pub(super) async fn admit(&self, account: &str, now: u64) -> Result<Admission, String> {
        let rate = &self.config.rate;
        let update = rate.counter_update(account, now);
        let mut call = self
            .dynamodb
            .update_item()
            .table_name(&self.config.rate_table)
            .key("pk", AttributeValue::S(update.key.clone()))
            .update_expression(update.update_expression)
            .condition_expression(update.condition_expression);
        for (name, attribute) in update.names {
            call = call.expression_attribute_names(name, attribute);
        }
        for (name, value) in update.values {
            call = call.expression_attribute_values(name, AttributeValue::N(value.to_string()));
        }
        match call.send().await {
            Ok(_) => Ok(Admission::Allowed),
            Err(e) if e.code() == Some("ConditionalCheckFailedException") => Ok(rate.tripped(now)),
            Err(e) => Err(format!(
                "rate limit counter {} in table {} could not be updated: {}",
                update.key,
                self.config.rate_table,
                DisplayErrorContext(&e)
            )),
        }
    }
}
