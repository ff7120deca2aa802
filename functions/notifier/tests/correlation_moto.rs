//! Correlation rules in the notifier against moto: hits kept in the
//! correlation table across files, regions and invocations, read back from
//! the findings topic through an SQS subscription.
//!
//! The attack is the built-in "backdoor IAM user" sequence (create a user,
//! attach AdministratorAccess, create an access key, in order, within an
//! hour), split over three log files of two regions. Event times are a few
//! hours before now, as live deliveries are.

use flate2::Compression;
use flate2::write::GzEncoder;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::io::Write;
use testkit::{Moto, assert_schema_valid, repo_root, sqs_delivery};
use trailguard_delivery::notifier::{NotifierConfig, NotifierService};
use trailguard_engine::clock;

const BUCKET: &str = "trailguard-org-trail";
const LEDGER: &str = "trailguard-ledger";
const CORRELATIONS: &str = "trailguard-correlations";
const ACCOUNT: &str = "111122223333";
/// The built-in backdoor-user sequence.
const BACKDOOR: &str = "c8950918-e236-4fe5-83d0-3c7bb18f13fd";
/// Its input rules, which report only through it.
const BACKDOOR_INPUTS: [&str; 1] = ["d502903f-aa9e-4f25-a42d-786644c00206"];
/// The built-in console brute force by source address (10 in 10 minutes).
const BRUTE_FORCE: &str = "99a4dd5d-638e-476f-a070-ac80086f0ff3";

struct Stack {
    moto: Moto,
    topic: String,
    queue: String,
    /// The first minute of the attack's hour, epoch seconds.
    base: i64,
}

async fn stack() -> Stack {
    let moto = Moto::start();
    moto.s3()
        .await
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    moto.create_table(LEDGER, "pk").await;
    moto.create_table_sorted(CORRELATIONS, "pk", Some("sk"))
        .await;
    let topic = moto.create_topic("findings").await;
    let queue = moto.queue_on_topic(&topic, "findings-inbox", true).await;
    let now = clock::now();
    Stack {
        moto,
        topic,
        queue,
        base: now - now % 3600 - 3 * 3600,
    }
}

/// The notifier with the ledger and, when `correlations`, the correlation
/// table.
async fn service(stack: &Stack, ledger: bool, correlations: bool) -> NotifierService {
    let topic = stack.topic.clone();
    let env = move |name: &str| match name {
        "TRAILGUARD_FINDINGS_TOPIC_ARN" => Some(topic.clone()),
        "TRAILGUARD_DEDUP_TABLE" => ledger.then(|| LEDGER.to_owned()),
        "TRAILGUARD_CORRELATION_TABLE" => correlations.then(|| CORRELATIONS.to_owned()),
        _ => None,
    };
    let config = NotifierConfig::from_env(&env).unwrap();
    NotifierService::new(config, &stack.moto.sdk_config().await)
        .await
        .unwrap()
}

/// An IAM call by the intruder, `minute` minutes after the stack's base.
fn iam(stack: &Stack, id: &str, minute: i64, region: &str, name: &str, params: Value) -> Value {
    let time = clock::rfc3339_utc(u64::try_from(stack.base + minute * 60).unwrap());
    testkit::intruder_iam_call(id, &time, region, name, params)
}

/// The three steps for `user`, the key created for `key_user`, at the
/// given minutes.
fn steps(stack: &Stack, user: &str, key_user: &str, minutes: [i64; 3]) -> [Value; 3] {
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    [
        iam(
            stack,
            &format!("{user}-create"),
            minutes[0],
            "us-east-1",
            "CreateUser",
            json!({"userName": user}),
        ),
        iam(
            stack,
            &format!("{user}-attach"),
            minutes[1],
            "eu-west-1",
            "AttachUserPolicy",
            json!({"userName": user, "policyArn": admin}),
        ),
        iam(
            stack,
            &format!("{user}-key"),
            minutes[2],
            "us-east-1",
            "CreateAccessKey",
            json!({"userName": key_user}),
        ),
    ]
}

/// Uploads a gzipped log file of `records` for `region`, named as
/// CloudTrail names them, and returns its key.
async fn upload(stack: &Stack, region: &str, minute: i64, records: &[Value]) -> String {
    let stamp = clock::rfc3339_utc(u64::try_from(stack.base + minute * 60).unwrap());
    // 2024-03-01T10:05:00Z -> 20240301T1005Z
    let compact: String = stamp
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let (date, hhmm) = (&compact[..8], &compact[8..13]);
    let key = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{}/{}/{}/{ACCOUNT}_CloudTrail_{region}_{date}{hhmm}Z_{:016}.json.gz",
        &date[..4],
        &date[4..6],
        &date[6..8],
        records.len() * 1000 + usize::try_from(minute).unwrap(),
    );
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(json!({"Records": records}).to_string().as_bytes())
        .unwrap();
    stack
        .moto
        .s3()
        .await
        .put_object()
        .bucket(BUCKET)
        .key(&key)
        .body(gz.finish().unwrap().into())
        .send()
        .await
        .unwrap();
    key
}

async fn deliver(service: &NotifierService, keys: &[&str]) {
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/sqs-s3.json")).unwrap(),
    )
    .unwrap();
    let response = notifier::handler(
        service,
        LambdaEvent::new(sqs_delivery(&template, BUCKET, keys), Context::default()),
    )
    .await
    .map_err(|d| format!("{}: {}", d.error_type, d.error_message))
    .unwrap();
    assert_eq!(response, json!({"batchItemFailures": []}));
}

/// Every finding the topic delivered since the last call.
async fn published(stack: &Stack) -> Vec<Value> {
    stack.moto.drain_queue(&stack.queue).await
}

fn correlations(findings: &[Value]) -> Vec<&Value> {
    findings
        .iter()
        .filter(|f| f.get("correlation").is_some())
        .collect()
}

#[tokio::test]
async fn an_attack_over_three_files_two_regions_and_two_invocations_fires_once() {
    let stack = stack().await;
    let [create, attach, key] = steps(&stack, "backup", "backup", [0, 6, 12]);
    let noise = iam(&stack, "noise", 7, "eu-west-1", "ListUsers", json!({}));
    let first = upload(&stack, "us-east-1", 0, &[create]).await;
    let second = upload(&stack, "eu-west-1", 5, &[attach, noise]).await;
    let third = upload(&stack, "us-east-1", 10, &[key]).await;
    // Two instances of the function: nothing shared but the tables.
    let one = service(&stack, true, true).await;
    let two = service(&stack, true, true).await;

    // Newest first: the key, then the policy; the sequence lacks its start.
    deliver(&one, &[&third, &second]).await;
    assert_eq!(correlations(&published(&stack).await), Vec::<&Value>::new());
    // The oldest file last (late), with the newest again.
    deliver(&two, &[&first, &third]).await;
    let found = published(&stack).await;
    let fired = correlations(&found);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    let finding = fired[0];
    assert_eq!(finding["rule"]["id"], BACKDOOR);
    assert_eq!(finding["eventId"], "backup-key");
    assert_eq!(
        finding["correlation"]["eventIds"],
        json!(["backup-create", "backup-attach", "backup-key"])
    );
    assert_eq!(
        finding["correlation"]["groupBy"],
        json!({"recipientAccountId": ACCOUNT, "requestParameters.userName": "backup"})
    );
    assert_eq!(
        finding["correlation"]["windowStart"],
        clock::rfc3339_utc(u64::try_from(stack.base).unwrap())
    );
    // The completing event's file, read back from the table.
    assert_eq!(finding["logFile"]["key"], third.as_str());
    assert_schema_valid(
        "schemas/finding.v1.schema.json",
        std::slice::from_ref(finding),
    );
    // The inputs report only through the correlation.
    assert!(
        found
            .iter()
            .all(|f| !BACKDOOR_INPUTS.contains(&f["rule"]["id"].as_str().unwrap_or(""))),
        "{found:#?}"
    );

    // Everything again, in either order, by either instance: nothing new.
    deliver(&two, &[&second, &first]).await;
    deliver(&one, &[&first, &second, &third]).await;
    assert_eq!(correlations(&published(&stack).await), Vec::<&Value>::new());
}

#[tokio::test]
async fn near_misses_fire_nothing() {
    let stack = stack().await;
    // Too slow: the key 65 minutes after the user.
    let slow = steps(&stack, "slow", "slow", [0, 30, 65]);
    // Another user's key.
    let other = steps(&stack, "spare", "someone-else", [1, 7, 13]);
    // The key first, then the policy, then the user.
    let [order_create, order_attach, order_key] = steps(&stack, "order", "order", [14, 8, 2]);
    let [slow_create, slow_attach, slow_key] = slow;
    let [other_create, other_attach, other_key] = other;
    let files = [
        upload(
            &stack,
            "us-east-1",
            0,
            &[slow_create, other_create, order_key],
        )
        .await,
        upload(&stack, "eu-west-1", 5, &[other_attach, order_attach]).await,
        upload(&stack, "us-east-1", 10, &[other_key, order_create]).await,
        upload(&stack, "eu-west-1", 30, &[slow_attach]).await,
        upload(&stack, "us-east-1", 65, &[slow_key]).await,
    ];
    let service = service(&stack, true, true).await;
    let newest_first: Vec<&str> = files.iter().rev().map(String::as_str).collect();
    deliver(&service, &newest_first[..2]).await;
    deliver(&service, &newest_first[2..]).await;
    assert_eq!(correlations(&published(&stack).await), Vec::<&Value>::new());
}

/// `count` failed console sign-ins from one address, 20 seconds apart.
fn failed_sign_ins(stack: &Stack, prefix: &str, count: i64) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let time = clock::rfc3339_utc(u64::try_from(stack.base + i * 20).unwrap());
            json!({
                "eventVersion": "1.08",
                "eventTime": time,
                "eventID": format!("{prefix}-{i}"),
                "eventType": "AwsConsoleSignIn",
                "eventName": "ConsoleLogin",
                "eventSource": "signin.amazonaws.com",
                "awsRegion": "us-east-1",
                "sourceIPAddress": "198.51.100.9",
                "recipientAccountId": ACCOUNT,
                "errorMessage": "Failed authentication",
                "responseElements": {"ConsoleLogin": "Failure"},
                "userIdentity": {"type": "IAMUser", "accountId": ACCOUNT,
                                  "userName": format!("user{i}")},
            })
        })
        .collect()
}

#[tokio::test]
async fn a_redelivered_file_never_raises_a_count() {
    let stack = stack().await;
    // Six failures (ten fire), delivered three times without a ledger (so
    // the file is read and its hits written each time): they stay six.
    let six = upload(&stack, "us-east-1", 0, &failed_sign_ins(&stack, "a", 6)).await;
    let service = service(&stack, false, true).await;
    deliver(&service, &[&six, &six]).await;
    deliver(&service, &[&six]).await;
    assert_eq!(correlations(&published(&stack).await), Vec::<&Value>::new());
    // Four more in another file complete the ten.
    let more: Vec<Value> = failed_sign_ins(&stack, "b", 10).split_off(6);
    let four = upload(&stack, "us-east-1", 1, &more).await;
    deliver(&service, &[&four]).await;
    let found = published(&stack).await;
    let fired = correlations(&found);
    assert_eq!(fired.len(), 1, "{fired:#?}");
    assert_eq!(fired[0]["rule"]["id"], BRUTE_FORCE);
    assert_eq!(fired[0]["correlation"]["eventTotal"], 10);
}

#[tokio::test]
async fn without_the_table_a_correlation_sees_one_message() {
    let stack = stack().await;
    let ten = failed_sign_ins(&stack, "c", 10);
    let (head, tail) = ten.split_at(5);
    let split = [
        upload(&stack, "us-east-1", 0, head).await,
        upload(&stack, "us-east-1", 1, tail).await,
    ];
    let whole = upload(&stack, "eu-west-1", 2, &ten).await;
    let service = service(&stack, true, false).await;
    deliver(&service, &[&split[0], &split[1]]).await;
    assert_eq!(correlations(&published(&stack).await), Vec::<&Value>::new());
    deliver(&service, &[&whole]).await;
    assert_eq!(correlations(&published(&stack).await).len(), 1);
}
