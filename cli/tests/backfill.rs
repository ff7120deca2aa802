//! `trailguard backfill` against a moto bucket and queue: one message per
//! log file, shaped so the functions' envelope parser finds the object.

mod common;

use common::{runtime, trailguard};
use serde_json::json;
use testkit::Moto;

const BUCKET: &str = "trailguard-cli-backfill";
const DAY: &str = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/";

fn log_key(day: &str, name: &str) -> String {
    let stamp = day
        .trim_end_matches('/')
        .rsplit('/')
        .take(3)
        .collect::<Vec<_>>();
    let (d, m, y) = (stamp[0], stamp[1], stamp[2]);
    format!("{day}111122223333_CloudTrail_us-east-1_{y}{m}{d}T1145Z_{name}.json.gz")
}

#[test]
fn every_log_file_becomes_one_s3_event_message() {
    let moto = Moto::start();
    let rt = runtime();
    let later_day = "AWSLogs/111122223333/CloudTrail/us-east-1/2023/08/20/";
    let logs = [
        log_key(DAY, "a"),
        log_key(DAY, "b c"),
        log_key(later_day, "d"),
    ];
    let queue_url = rt.block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        let others = [
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2023/07/10/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T120000Z.json.gz",
            "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile",
            "exports/copy.json.gz",
        ];
        for key in logs.iter().map(String::as_str).chain(others) {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(b"{\"Records\":[]}".to_vec().into())
                .send()
                .await
                .unwrap();
        }
        let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
        sqs.create_queue()
            .queue_name("deliveries")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_owned()
    });

    let target = format!("s3://{BUCKET}/");
    let run = trailguard(
        &["backfill", &target, "--queue", &queue_url, "--rate", "1000"],
        Some(&moto),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("Queued 3 of 3 log file(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(3 other object(s) skipped)"),
        "{}",
        run.stdout
    );

    let bodies = rt.block_on(moto.drain_queue(&queue_url));
    assert_eq!(bodies.len(), 3);
    let mut keys: Vec<String> = Vec::new();
    for body in &bodies {
        let record = &body["Records"][0];
        assert_eq!(record["eventSource"], "aws:s3");
        assert_eq!(record["eventName"], "ObjectCreated:Put");
        assert_eq!(record["s3"]["bucket"]["name"], BUCKET);
        assert_eq!(record["s3"]["object"]["size"], json!(14));
        assert!(record["s3"]["object"]["eTag"].is_string());
        // What the functions do with the message body.
        let delivery = trailguard_engine::envelope::unwrap(body).unwrap();
        keys.extend(delivery.items().map(|o| o.key.clone()));
    }
    keys.sort();
    let mut expected = logs.to_vec();
    expected.sort();
    assert_eq!(keys, expected);
    let spaced = bodies.iter().find_map(|b| {
        b["Records"][0]["s3"]["object"]["key"]
            .as_str()
            .filter(|k| k.contains("b+c"))
    });
    assert!(spaced.is_some(), "a space is sent as +");

    // --since/--until prune by the key's date.
    let run = trailguard(
        &[
            "backfill",
            &target,
            "--queue",
            &queue_url,
            "--since",
            "2023-08-01",
        ],
        Some(&moto),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("Queued 1 of 1 log file(s)"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_unknown_queue_fails_with_exit_code_2() {
    let moto = Moto::start();
    let rt = runtime();
    rt.block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        s3.put_object()
            .bucket(BUCKET)
            .key(log_key(DAY, "a"))
            .body(b"{}".to_vec().into())
            .send()
            .await
            .unwrap();
    });
    let queue = format!("{}/123456789012/missing", moto.endpoint());
    let target = format!("s3://{BUCKET}/AWSLogs/");
    let run = trailguard(&["backfill", &target, "--queue", &queue], Some(&moto));
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.starts_with("Queued 0 of 1 log file(s)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("1 message(s) not sent"),
        "{}",
        run.stderr
    );
}
