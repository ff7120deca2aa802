//! The one path every delivery takes, whichever function it feeds:
//! unwrap → admit → claim → process → settle → report.
//!
//! [`deliver`] is the skeleton every function runs: it unwraps the payload
//! with the function's reader of what the envelopes hold
//! ([`trailguard_engine::envelope::Contents`]), processes each message
//! (concurrently, up to the function's concurrency) into a [`Processed`],
//! and gives the [`Batch`] whose [`DeliveryReport`] answers Lambda, per
//! message for SQS (`batchItemFailures`). The remediator runs it on its
//! triggers, admitting and claiming each by its audit id.
//!
//! A log-reading service (metrics, notifier, integrity) is a [`Consumer`]: it names the
//! kind of file it reads and its ledger, and reads one admitted object at a
//! time into its per-message output. [`run`] does the rest: it unwraps the
//! delivery into messages (concurrently, up to the service's concurrency),
//! skips objects of other kinds and ones the ledger has seen, claims the
//! others, stops before the deadline and stops a message at its first
//! failing object. The service then settles the [`Batch`] (publishes what
//! the messages produced, each on its own or all together) and
//! [`Batch::finish`] completes or releases the claims and builds the
//! [`DeliveryReport`] and the Lambda response.
//!
//! # Failures
//!
//! A file that cannot be processed is never dropped: from SQS its message is
//! listed in `batchItemFailures`, so only it is retried (and, after the
//! queue's `maxReceiveCount`, moved to the dead-letter queue); from a direct
//! S3/SNS/EventBridge invocation the invocation fails, so Lambda retries and
//! then hands the event to the on-failure destination / DLQ.
//!
//! Each failure is [`FailureKind::Retryable`] or [`FailureKind::Poison`].
//! Both are retried the same way (nothing is dropped, and the DLQ keeps the
//! poison for inspection); the kind tells the logs and the operator whether
//! waiting can help. A file past a [`ReadLimits`] cap is poison: it is
//! the same file next time. A file stopped by the deadline is retryable:
//! the next invocation may share its time with fewer files.
//!
//! # Deadline
//!
//! A Lambda function killed at its timeout fails every message of its
//! batch, even those it finished. So reading stops [`DeliveryLimits::margin`]
//! before the deadline (leaving time to publish, settle the ledger and
//! answer), and only the messages still reading fail.

mod admit;
mod failure;
mod limits;
mod report;

use futures::StreamExt;
use serde_json::Value;
use trailguard_engine::envelope::{self, Contents, EnvelopeError, Files, Message, ObjectRef};
use trailguard_engine::keys::KeyKind;
use trailguard_engine::reader::ReadLimits;

use crate::dedup;
use crate::ledger::Ledger;

pub use admit::{Admission, admit, first_failure};
pub use failure::{Failure, FailureKind, HandlerError, ObjectFailure};
pub use limits::{DeliveryLimits, past_deadline};
pub use report::DeliveryReport;

/// What a function does with the objects a delivery names.
pub trait Consumer: Sync {
    /// What one message's objects add up to (findings, an aggregator, ...).
    type Output: Default + Send;

    /// The kind of object read ([`KeyKind::Log`] or [`KeyKind::Digest`]);
    /// every other object is counted as skipped.
    fn kind(&self) -> KeyKind;

    /// The ledger claiming objects, so a redelivered one is not read again.
    fn ledger(&self) -> Option<&Ledger>;

    /// Reads one admitted `object` into `out`, counting it in `report`.
    fn consume(
        &self,
        object: &ObjectRef,
        now: i64,
        limits: &ReadLimits,
        out: &mut Self::Output,
        report: &mut DeliveryReport,
    ) -> impl Future<Output = Result<(), ObjectFailure>> + Send;
}

/// One message of a delivery, processed.
#[derive(Debug)]
pub struct Processed<O> {
    /// The SQS message id; `None` for a direct invocation.
    pub id: Option<String>,
    /// What its objects added up to.
    pub output: O,
    /// What it read and skipped.
    pub report: DeliveryReport,
    /// Why it failed, if it did: it is then retried whole.
    pub failure: Option<ObjectFailure>,
    /// The ledger ids held for its objects.
    claims: Vec<String>,
}

impl<O> Processed<O> {
    /// Message `id`, which gave `output`, read as `report` says, and failed
    /// when `failure` says so (it is then retried whole).
    pub fn new(
        id: Option<String>,
        output: O,
        report: DeliveryReport,
        failure: Option<ObjectFailure>,
    ) -> Self {
        Processed {
            id,
            output,
            report,
            failure,
            claims: Vec::new(),
        }
    }
}

/// Every message of one delivery, to be settled and reported.
#[derive(Debug)]
pub struct Batch<O> {
    from_sqs: bool,
    messages: Vec<Processed<O>>,
}

/// Unwraps `payload` with `contents` and runs `each` over its messages, up
/// to `concurrency` at a time, in order: the skeleton every function runs.
pub async fn deliver<R: Contents, O>(
    contents: &R,
    payload: &Value,
    concurrency: usize,
    each: impl AsyncFn(Message<R::Item>) -> Processed<O>,
) -> Result<Batch<O>, EnvelopeError> {
    let delivery = envelope::unwrap_with(contents, payload)?;
    let from_sqs = delivery.from_sqs();
    let messages = futures::stream::iter(delivery.messages)
        .map(|message| each(message))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    Ok(Batch { from_sqs, messages })
}

/// Unwraps `payload` and runs `consumer` over each message's objects, up to
/// `concurrency` messages at a time, reading within `limits`.
pub async fn run<C: Consumer>(
    consumer: &C,
    payload: &Value,
    now: i64,
    limits: &ReadLimits,
    concurrency: usize,
) -> Result<Batch<C::Output>, HandlerError> {
    Ok(deliver(&Files, payload, concurrency, async |message| {
        process_message(consumer, message, now, limits).await
    })
    .await?)
}

async fn process_message<C: Consumer>(
    consumer: &C,
    message: Message,
    now: i64,
    limits: &ReadLimits,
) -> Processed<C::Output> {
    let report = DeliveryReport {
        notifications_ignored: message.ignored.len() as u64,
        ..DeliveryReport::default()
    };
    let mut processed = Processed::new(message.id.clone(), C::Output::default(), report, None);
    processed.failure = first_failure(message.outcome, async |object: &ObjectRef| {
        process_object(consumer, object, now, limits, &mut processed)
            .await
            .map_err(|mut failure| {
                failure.object.get_or_insert_with(|| object.clone());
                failure
            })
    })
    .await;
    processed
}

async fn process_object<C: Consumer>(
    consumer: &C,
    object: &ObjectRef,
    now: i64,
    limits: &ReadLimits,
    processed: &mut Processed<C::Output>,
) -> Result<(), ObjectFailure> {
    if let Some(late) = past_deadline(object, limits) {
        return Err(late);
    }
    match admit(object, consumer.kind(), consumer.ledger(), now).await? {
        Admission::Process { claim } => processed.claims.extend(claim),
        Admission::OtherKind => {
            processed.report.files_skipped += 1;
            return Ok(());
        }
        Admission::AlreadyDone => {
            processed.report.files_duplicate += 1;
            return Ok(());
        }
    }
    consumer
        .consume(
            object,
            now,
            limits,
            &mut processed.output,
            &mut processed.report,
        )
        .await
}

impl<O> Batch<O> {
    /// Whether the delivery was an SQS batch (failures answered per message).
    pub fn from_sqs(&self) -> bool {
        self.from_sqs
    }

    /// Every message, in delivery order (for a service holding no claims:
    /// [`Batch::finish`] settles them).
    pub fn into_messages(self) -> Vec<Processed<O>> {
        self.messages
    }

    /// The outputs of the messages that have not failed.
    pub fn succeeded(&mut self) -> impl Iterator<Item = &mut O> {
        self.messages
            .iter_mut()
            .filter(|m| m.failure.is_none())
            .map(|m| &mut m.output)
    }

    /// Settles each message that has not failed on its own (publishes its
    /// findings, records its state); a message whose settling fails fails,
    /// and is retried, alone.
    pub async fn settle_each(&mut self, mut settle: impl AsyncFnMut(&O) -> Result<(), String>) {
        for message in self.messages.iter_mut().filter(|m| m.failure.is_none()) {
            if let Err(reason) = settle(&message.output).await {
                message.failure = Some(reason.into());
            }
        }
    }

    /// Fails every message that has not failed yet, for `reason`: what
    /// they produced together could not be published, so they are all
    /// retried.
    pub fn fail_succeeded(&mut self, reason: &str) {
        for message in self.messages.iter_mut().filter(|m| m.failure.is_none()) {
            message.failure = Some(reason.to_owned().into());
        }
    }

    /// The invocation's report as it stands: what every message skipped,
    /// what the messages that have not failed read, and every failure.
    pub fn report(&self) -> DeliveryReport {
        let mut report = DeliveryReport {
            from_sqs: self.from_sqs,
            ..DeliveryReport::default()
        };
        for message in &self.messages {
            report.add_message(&message.report, message.failure.is_none());
            if let Some(failure) = &message.failure {
                report
                    .failures
                    .push(Failure::of(message.id.clone(), failure.clone()));
            }
        }
        report
    }

    /// Completes the claims of the messages that succeeded and releases
    /// those of the ones that failed (so their retry reads the files
    /// again), and returns the final report.
    pub async fn finish(self, ledger: Option<&Ledger>, now: i64) -> DeliveryReport {
        let report = self.report();
        for message in &self.messages {
            match message.failure {
                Some(_) => dedup::release_all(ledger, &message.claims).await,
                None => dedup::complete_all(ledger, &message.claims, now).await,
            }
        }
        report
    }
}

#[cfg(test)]
mod tests;
