//! Moves data along the routes as Lambda would: each queue's messages, in
//! batches of its event source mapping's size, to its function; each
//! function tap's notifications, one per invocation, to the function.

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use serde_json::Value;
use testkit::REGION;
use testkit::sns_lambda_event;
use trailguard_e2e::deploy::Deployed;
use trailguard_e2e::lambda::sqs_event;
use trailguard_e2e::routing::Routing;

use crate::functions::Functions;

/// What one pass along every route did.
#[derive(Default, Debug)]
pub struct Pass {
    /// Bodies each queue-fed function was handed, by function id.
    pub delivered: Vec<(String, String)>,
    /// The SNS envelopes each SNS-subscribed function was invoked with.
    pub notified: Vec<(String, Value)>,
    /// Responses of every invocation of an SNS-subscribed function.
    pub responses: Vec<(String, Value)>,
}

/// Every message waiting in `queue_url`, up to `batch` at a time.
async fn receive(sqs: &aws_sdk_sqs::Client, queue_url: &str, batch: i32) -> Vec<Message> {
    sqs.receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(batch)
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("ReceiveMessage")
        .messages
        .unwrap_or_default()
}

async fn delete(sqs: &aws_sdk_sqs::Client, queue_url: &str, messages: &[Message]) {
    for m in messages {
        sqs.delete_message()
            .queue_url(queue_url)
            .set_receipt_handle(m.receipt_handle().map(str::to_owned))
            .send()
            .await
            .expect("DeleteMessage");
    }
}

/// Runs every queue-fed function until its queue is empty, then every
/// SNS-subscribed function on what its tap holds.
///
/// # Panics
/// When a function fails a message or an invocation: in the stack that is
/// a retry and, in the end, a dead letter.
pub async fn pass(
    sqs: &aws_sdk_sqs::Client,
    routing: &Routing,
    deployed: &Deployed,
    functions: &Functions,
) -> Pass {
    let mut pass = Pass::default();
    for mapping in &routing.event_source_mappings {
        // Every function answers an SQS batch per message; without this,
        // Lambda would ignore the answer and retry or delete the whole batch.
        assert!(
            mapping.report_batch_item_failures,
            "{}'s queue mapping does not report batch item failures",
            mapping.function
        );
        let url = deployed.queue_url(&mapping.queue_arn);
        let handler = functions.get(&mapping.function);
        loop {
            let batch = receive(sqs, url, mapping.batch_size).await;
            if batch.is_empty() {
                break;
            }
            let event = sqs_event(&mapping.queue_arn, REGION, &batch);
            let response = handler
                .invoke(event)
                .await
                .unwrap_or_else(|e| panic!("{} failed its batch: {e}", mapping.function));
            assert_eq!(
                response["batchItemFailures"],
                serde_json::json!([]),
                "{} failed messages: {response}",
                mapping.function
            );
            pass.delivered.extend(batch.iter().map(|m| {
                (
                    mapping.function.clone(),
                    m.body().unwrap_or_default().to_owned(),
                )
            }));
            delete(sqs, url, &batch).await;
        }
    }
    for tap in &deployed.subscription_taps {
        let handler = functions.get(&tap.function);
        let subscription = tap.subscription_arn.as_deref().unwrap_or_default();
        loop {
            let batch = receive(sqs, &tap.queue_url, 10).await;
            if batch.is_empty() {
                break;
            }
            for message in &batch {
                let envelope: Value = serde_json::from_str(message.body().unwrap_or_default())
                    .expect("an SNS envelope");
                let response = handler
                    .invoke(sns_lambda_event(&envelope, subscription))
                    .await
                    .unwrap_or_else(|e| panic!("{} failed on {envelope}: {e}", tap.function));
                pass.notified.push((tap.function.clone(), envelope));
                pass.responses.push((tap.function.clone(), response));
            }
            delete(sqs, &tap.queue_url, &batch).await;
        }
    }
    pass
}

/// How many messages wait in the queue at `url` (visible or in flight).
pub async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .unwrap_or_default();
    attributes
        .values()
        .map(|v| v.parse::<usize>().unwrap_or(0))
        .sum()
}
