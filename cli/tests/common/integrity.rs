//! A trail with log file validation on, delivered into moto S3 by the
//! engine's CloudTrail stand-in: hourly log files and signed, chained
//! digests, the key file `--public-key` reads (moto does not serve
//! `ListPublicKeys`, so keys come in the format of
//! `aws cloudtrail list-public-keys` output), and `trailguard validate`
//! run over the bucket.

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::json;
use testkit::Moto;
use testkit::cloudtrail::{Delivered, FakeCloudTrail, Signer, gzip};
use time::{Duration, OffsetDateTime};
use trailguard_engine::integrity::timestamps::format_display;

use super::{Run, runtime, scratch, trailguard};

/// The bucket every trail of a test delivers to.
pub const BUCKET: &str = "trailguard-cli-validate";

/// Account of [`FakeCloudTrail::simple`] trails.
pub const ACCOUNT: &str = "111122223333";

/// A log file as delivered, with its uncompressed content.
pub struct Log {
    /// The gzipped object.
    pub delivered: Delivered,
    /// What was gzipped: the bytes the digest's hash covers.
    pub content: Vec<u8>,
}

impl Log {
    /// The object key.
    pub fn key(&self) -> &str {
        &self.delivered.object.key
    }

    /// The `s3://` URL the report names it by.
    pub fn url(&self) -> String {
        self.delivered.object.to_string()
    }
}

/// One hour of a trail: the log files delivered in it and the digest that
/// lists them, delivered at the end of the hour.
pub struct Hour {
    /// Log files of the hour.
    pub logs: Vec<Log>,
    /// The digest closing the hour.
    pub digest: Delivered,
}

impl Hour {
    /// The digest's `s3://` URL.
    pub fn digest_url(&self) -> String {
        self.digest.object.to_string()
    }
}

/// `hours` consecutive hours of `trail`, `logs` log files each (at most
/// 5, ten minutes apart), the first digest delivered at `first_end`.
pub fn deliver_hours(
    trail: &mut FakeCloudTrail,
    first_end: OffsetDateTime,
    hours: usize,
    logs: usize,
) -> Vec<Hour> {
    assert!(logs <= 5, "log files an hour");
    (0..hours)
        .map(|hour| {
            let end = first_end + Duration::hours(hour as i64);
            let logs = (0..logs)
                .map(|n| {
                    let at = end - Duration::minutes(55) + Duration::minutes(10 * n as i64);
                    let content = record(&trail.layout.region, &format!("{hour}-{n}"), at);
                    Log {
                        delivered: trail.deliver_log(at, &content).unwrap(),
                        content,
                    }
                })
                .collect();
            Hour {
                logs,
                digest: trail.deliver_digest(end).unwrap(),
            }
        })
        .collect()
}

/// A log file body of one `ListBuckets` call.
fn record(region: &str, id: &str, at: OffsetDateTime) -> Vec<u8> {
    json!({"Records": [{
        "eventVersion": "1.08",
        "eventID": id,
        "eventTime": format_display(at),
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": region,
    }]})
    .to_string()
    .into_bytes()
}

/// A moto server with [`BUCKET`] created, and a key file listing the
/// public keys of the given signers.
pub struct Stage {
    moto: Moto,
    rt: tokio::runtime::Runtime,
    s3: aws_sdk_s3::Client,
    dir: PathBuf,
    key_file: String,
}

impl Stage {
    /// Starts moto, creates the bucket, writes the key file; `name` keeps
    /// the scratch folder apart from other tests'.
    pub fn new(name: &str, signers: &[&Signer]) -> Stage {
        let moto = Moto::start();
        let rt = runtime();
        let s3 = rt.block_on(async {
            let s3 = moto.s3().await;
            s3.create_bucket().bucket(BUCKET).send().await.unwrap();
            s3
        });
        let dir = scratch(name);
        let key_file = dir.join("public-keys.json").display().to_string();
        let stage = Stage {
            moto,
            rt,
            s3,
            dir,
            key_file,
        };
        stage.set_keys(signers);
        stage
    }

    /// Rewrites the key file to list the public keys of `signers`.
    pub fn set_keys(&self, signers: &[&Signer]) {
        std::fs::write(&self.key_file, key_file(signers)).unwrap();
    }

    /// Stores a delivered object where the fake delivered it.
    pub fn put(&self, delivered: &Delivered) {
        self.put_at(&delivered.object.key, delivered);
    }

    /// Stores every log file and digest of `hours`.
    pub fn put_hours(&self, hours: &[Hour]) {
        for hour in hours {
            for log in &hour.logs {
                self.put(&log.delivered);
            }
            self.put(&hour.digest);
        }
    }

    /// Stores a delivered object (body and metadata) under `key`.
    pub fn put_at(&self, key: &str, delivered: &Delivered) {
        let mut put = self
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(delivered.data.body.clone().into());
        for (name, value) in &delivered.data.metadata {
            put = put.metadata(name, value);
        }
        self.rt.block_on(put.send()).unwrap();
    }

    /// Replaces a log file with `content`, gzipped, keeping its key.
    pub fn rewrite_log(&self, key: &str, content: &[u8]) {
        let put = self
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(gzip(content).unwrap().into());
        self.rt.block_on(put.send()).unwrap();
    }

    /// Deletes an object.
    pub fn delete(&self, key: &str) {
        let delete = self.s3.delete_object().bucket(BUCKET).key(key);
        self.rt.block_on(delete.send()).unwrap();
    }

    /// Runs `trailguard validate s3://BUCKET/ --since --until` with the
    /// key file, then `extra` arguments.
    pub fn validate(&self, since: &str, until: &str, extra: &[&str]) -> Run {
        let target = format!("s3://{BUCKET}/");
        let mut args = vec![
            "validate",
            &target,
            "--since",
            since,
            "--until",
            until,
            "--public-key",
            &self.key_file,
        ];
        args.extend_from_slice(extra);
        trailguard(&args, Some(&self.moto))
    }
}

impl Drop for Stage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `aws cloudtrail list-public-keys` output for the signers, valid all
/// July 2023.
pub fn key_file(signers: &[&Signer]) -> String {
    let keys: Vec<_> = signers
        .iter()
        .map(|signer| {
            let key = signer.public_key();
            json!({
                "Value": base64::engine::general_purpose::STANDARD.encode(&key.der),
                "ValidityStartTime": "2023-07-01T00:00:00Z",
                "ValidityEndTime": "2023-08-01T00:00:00Z",
                "Fingerprint": key.fingerprint,
            })
        })
        .collect();
    json!({ "PublicKeyList": keys }).to_string()
}

/// Asserts the exit code and that stdout holds every line of `expected`
/// (each a whole line, or several consecutive ones).
pub fn assert_output(run: &Run, code: i32, expected: &[&str]) {
    assert_eq!(
        run.code, code,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    let lines = format!("\n{}", run.stdout);
    for want in expected {
        assert!(
            lines.contains(&format!("\n{want}\n")),
            "missing line {want:?} in:\n{}",
            run.stdout
        );
    }
}

/// The header `trailguard validate` prints before a trail's report.
pub fn header(account: &str, region: &str, trail: &str, since: &str, until: &str) -> String {
    format!(
        "Validating log files for trail arn:aws:cloudtrail:us-east-1:{account}:trail/{trail} (region {region}) between {since} and {until}"
    )
}

/// The `Log file` line of the report for `log`.
pub fn log_line(log: &Log, verdict: &str) -> String {
    format!("Log file\t{}\t{verdict}", log.url())
}

/// The `Digest file` line of the report for the digest at `url`.
pub fn digest_line(url: &str, verdict: &str) -> String {
    format!("Digest file\t{url}\t{verdict}")
}
