//! `trailguard backfill`: queue every CloudTrail log file under an S3
//! prefix for the deployed functions, as if S3 had just announced it.
//!
//! Each log file (only [`KeyKind::Log`] keys, pruned by `--since/--until`)
//! becomes one SQS message shaped like an S3 event notification, key
//! URL-encoded as S3 encodes it. Messages go out with `SendMessageBatch`,
//! ten per call, at most `--rate` per second; entries SQS rejects are
//! retried with backoff. The functions' idempotency records make a re-run
//! harmless.

use std::time::{Duration, Instant};

use anyhow::bail;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use clap::Args;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use trailguard_engine::keys::{self, KeyKind};

use crate::aws::{Aws, Listed, S3Url, s3_url_arg};
use crate::filters::{TimeArg, Window, time_arg};
use crate::outcome::Outcome;
use crate::progress;

/// SQS's limit of entries per `SendMessageBatch`.
const BATCH: usize = 10;
/// Attempts per entry before it is reported as not sent.
const ATTEMPTS: u32 = 5;
/// The first retry's delay; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

/// Characters S3 leaves as they are in event-notification keys; `/` stays,
/// a space becomes `+` (below), everything else is `%XX`.
const KEY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/');

/// `trailguard backfill`.
#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// Where the log files are: s3://bucket/prefix.
    #[arg(value_parser = s3_url_arg, value_name = "S3_URL")]
    pub target: S3Url,
    /// The SQS queue URL the functions read from.
    #[arg(long, value_name = "URL")]
    pub queue: String,
    /// Only files whose key date is at most a day before this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub since: Option<TimeArg>,
    /// Only files whose key date is at most a day after this time (RFC 3339 or YYYY-MM-DD).
    #[arg(long, value_parser = time_arg, value_name = "TIME")]
    pub until: Option<TimeArg>,
    /// Messages sent per second at most.
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    pub rate: f64,
}

/// The key as S3 writes it in event notifications (form encoding).
pub fn encode_key(key: &str) -> String {
    utf8_percent_encode(key, KEY_ENCODE)
        .to_string()
        .replace("%20", "+")
}

/// The message body announcing one object, shaped like an S3 event notification.
pub fn message_body(bucket: &str, object: &Listed, region: &str, now: OffsetDateTime) -> Value {
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventTime": now.format(&Rfc3339).unwrap_or_default(),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "trailguard-backfill"},
            "requestParameters": {"sourceIPAddress": ""},
            "responseElements": {},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "trailguard-backfill",
                "bucket": {"name": bucket, "arn": format!("arn:aws:s3:::{bucket}")},
                "object": {
                    "key": encode_key(&object.key),
                    "size": object.size,
                    "eTag": object.etag,
                },
            },
        }]
    })
}

/// Spaces sends so that no more than `rate` messages go out per second.
struct Pace {
    start: Instant,
    sent: u64,
    rate: f64,
}

impl Pace {
    /// How long to wait before sending `next` more.
    fn wait_before(&self, next: usize) -> Duration {
        let due = (self.sent + next as u64) as f64 / self.rate;
        Duration::from_secs_f64(due).saturating_sub(self.start.elapsed())
    }
}

/// What sending one batch of notifications needs.
struct Sending<'a> {
    aws: &'a Aws,
    sqs: &'a aws_sdk_sqs::Client,
    args: &'a BackfillArgs,
    region: &'a str,
    now: OffsetDateTime,
}

impl Sending<'_> {
    /// Sends one notification per log file of `chunk` (at most [`BATCH`]);
    /// returns what was not sent, as `s3://bucket/key: reason`.
    fn queue(&self, chunk: &[Listed]) -> Vec<String> {
        let bucket = &self.args.target.bucket;
        let entries: Vec<(String, String)> = chunk
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let body = message_body(bucket, o, self.region, self.now).to_string();
                (i.to_string(), body)
            })
            .collect();
        let failed =
            self.aws
                .runtime
                .block_on(send_with_retries(self.sqs, &self.args.queue, entries));
        failed
            .into_iter()
            .map(|(id, reason)| {
                let key = id
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| chunk.get(i))
                    .map_or("?", |o| o.key.as_str());
                format!("s3://{bucket}/{key}: {reason}")
            })
            .collect()
    }
}

/// Runs `trailguard backfill`.
pub fn run(args: BackfillArgs) -> anyhow::Result<Outcome> {
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!("--rate must be a positive number of messages per second");
    }
    let aws = Aws::connect()?;
    let window = Window::of(args.since, args.until);
    let listed = aws.list(&args.target)?;
    let total_listed = listed.len();
    let logs: Vec<Listed> = listed
        .into_iter()
        .filter(|o| keys::classify(&o.key).kind == KeyKind::Log && window.may_hold(&o.key))
        .collect();
    let region = aws
        .sdk
        .region()
        .map(ToString::to_string)
        .unwrap_or_else(|| "us-east-1".to_owned());
    let sqs = aws_sdk_sqs::Client::new(&aws.sdk);
    let bar = progress::bar(logs.len(), "log files queued");
    let now = OffsetDateTime::now_utc();
    let mut pace = Pace {
        start: Instant::now(),
        sent: 0,
        rate: args.rate,
    };
    let mut failures: Vec<String> = Vec::new();
    for chunk in logs.chunks(BATCH) {
        std::thread::sleep(pace.wait_before(chunk.len()));
        let sent = Sending {
            aws: &aws,
            sqs: &sqs,
            args: &args,
            region: &region,
            now,
        };
        let failed = sent.queue(chunk);
        pace.sent += chunk.len() as u64;
        bar.inc((chunk.len() - failed.len()) as u64);
        failures.extend(failed);
    }
    bar.finish_and_clear();
    let queued = logs.len() - failures.len();
    println!(
        "Queued {queued} of {} log file(s) under {} to {} ({} other object(s) skipped)",
        logs.len(),
        args.target,
        args.queue,
        total_listed - logs.len()
    );
    if failures.is_empty() {
        return Ok(Outcome::Clean);
    }
    eprintln!("trailguard: {} message(s) not sent:", failures.len());
    for f in &failures {
        eprintln!("  {f}");
    }
    Ok(Outcome::Failed)
}

/// Sends `(id, body)` entries, retrying those SQS failed on its side;
/// returns the ids not sent, with the reason. A failed call is not retried
/// here: the SDK already retried it if the failure was transient.
async fn send_with_retries(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    mut pending: Vec<(String, String)>,
) -> Vec<(String, String)> {
    let mut backoff = FIRST_BACKOFF;
    let mut given_up: Vec<(String, String)> = Vec::new();
    for attempt in 1..=ATTEMPTS {
        let entries: Result<Vec<_>, _> = pending
            .iter()
            .map(|(id, body)| {
                SendMessageBatchRequestEntry::builder()
                    .id(id)
                    .message_body(body)
                    .build()
            })
            .collect();
        let entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                given_up.extend(pending.into_iter().map(|(id, _)| (id, e.to_string())));
                return given_up;
            }
        };
        let output = match sqs
            .send_message_batch()
            .queue_url(queue)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                let reason = DisplayErrorContext(e).to_string();
                given_up.extend(pending.into_iter().map(|(id, _)| (id, reason.clone())));
                return given_up;
            }
        };
        let mut retry: Vec<(String, String)> = Vec::new();
        for failed in output.failed() {
            let reason = format!(
                "{}: {}",
                failed.code(),
                failed.message().unwrap_or("no message")
            );
            let Some(at) = pending.iter().position(|(id, _)| id == failed.id()) else {
                continue;
            };
            let entry = pending.swap_remove(at);
            // A sender fault (a malformed message) fails the same way again.
            if failed.sender_fault() || attempt == ATTEMPTS {
                given_up.push((entry.0, reason));
            } else {
                retry.push(entry);
            }
        }
        if retry.is_empty() {
            break;
        }
        pending = retry;
        tokio::time::sleep(backoff).await;
        backoff *= 2;
    }
    given_up
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn keys_are_encoded_as_s3_notifications_encode_them() {
        assert_eq!(
            encode_key("AWSLogs/1/a b+c=d.json.gz"),
            "AWSLogs/1/a+b%2Bc%3Dd.json.gz"
        );
        assert_eq!(encode_key("x/é"), "x/%C3%A9");
        for key in ["AWSLogs/1/a b+c=d.json.gz", "x/é:~%"] {
            assert_eq!(
                keys::decode_s3_event_key(&encode_key(key)).ok().as_deref(),
                Some(key)
            );
        }
    }

    #[test]
    fn bodies_unwrap_to_the_object() {
        let object = Listed {
            key: "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/f 1.json.gz".to_owned(),
            size: Some(42),
            etag: Some("abc".to_owned()),
        };
        let body = message_body(
            "trail-bucket",
            &object,
            "us-east-1",
            datetime!(2024-01-01 0:00 UTC),
        );
        let delivery = trailguard_engine::envelope::unwrap(&body).unwrap();
        let objects: Vec<_> = delivery.items().cloned().collect();
        assert_eq!(objects.len(), 1);
        assert_eq!(objects[0].bucket, "trail-bucket");
        assert_eq!(objects[0].key, object.key);
        assert_eq!(objects[0].size, Some(42));
    }

    #[test]
    fn pacing_spreads_messages_over_time() {
        let pace = Pace {
            start: Instant::now(),
            sent: 10,
            rate: 10.0,
        };
        assert!(pace.wait_before(10) > Duration::from_millis(1500));
        let fast = Pace { rate: 1e9, ..pace };
        assert_eq!(fast.wait_before(10), Duration::ZERO);
    }
}
