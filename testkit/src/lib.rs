//! Test support shared by every crate's integration tests.
//!
//! [`Moto`] starts a private `moto_server` on a free 127.0.0.1 port for one
//! test and kills it when dropped, so tests run in parallel without sharing
//! state and leave no process behind. [`Moto::sdk_config`] gives the real
//! AWS SDK a config pointed at it.
//!
//! The server binary is looked up as `$MOTO_SERVER`, then the repository's
//! `.venv/bin/moto_server` (created by `make venv`), then `moto_server` on
//! `PATH`.
//!
//! [`cloudtrail`] plays CloudTrail itself: signed digest chains and log
//! files for the integrity tests.

pub mod cloudtrail;
mod readback;

pub use readback::{ingress_rules, metric_minutes, metric_names, queue_arn};

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Asserts that every document in `documents` is valid against the JSON
/// Schema file `schema` (relative to the repository root), checked by the
/// `jsonschema` package of the test venv: an implementation independent of
/// the code that writes the documents.
///
/// # Panics
/// On any violation (the first few are printed), or without the venv.
pub fn assert_schema_valid(schema: &str, documents: &[serde_json::Value]) {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = std::env::temp_dir().join(format!(
        "trailguard-schema-check-{}-{call}.json",
        std::process::id()
    ));
    std::fs::write(
        &file,
        serde_json::to_vec(documents).expect("JSON documents"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let script = "import json,sys,jsonschema\n\
        schema=json.load(open(sys.argv[1]))\n\
        v=jsonschema.Draft202012Validator(schema)\n\
        bad=[(i,e.message) for i,f in enumerate(json.load(open(sys.argv[2]))) for e in v.iter_errors(f)]\n\
        print(bad[:5]); sys.exit(1 if bad else 0)";
    let out = Command::new(repo_root().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(repo_root().join(schema))
        .arg(&file)
        .output()
        .expect("venv python (run `make venv`)");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "{schema} violations: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An IAM call `name` with `params` by the IAM user `intruder` of account
/// 111122223333, from the AWS CLI, at `event_time`: the record the tests
/// of the create-user, attach-admin, create-key sequence are built of.
pub fn intruder_iam_call(
    id: &str,
    event_time: &str,
    region: &str,
    name: &str,
    params: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": event_time,
        "eventID": id,
        "eventType": "AwsApiCall",
        "eventName": name,
        "eventSource": "iam.amazonaws.com",
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "recipientAccountId": "111122223333",
        "requestParameters": params,
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/intruder",
                          "accountId": "111122223333", "userName": "intruder"},
    })
}

/// The Lambda SNS event SNS delivers for `notification`, an SNS envelope
/// as a queue subscribed without raw delivery receives it (`Type`,
/// `MessageId`, `TopicArn`, `Subject`, `Message`, `Timestamp`,
/// `MessageAttributes`, signature fields), through the subscription
/// `subscription_arn`. moto cannot invoke Lambda, so tests read what a
/// topic delivered from such a queue and hand the function this event.
pub fn sns_lambda_event(
    notification: &serde_json::Value,
    subscription_arn: &str,
) -> serde_json::Value {
    let mut sns = serde_json::Map::new();
    for key in [
        "Type",
        "MessageId",
        "TopicArn",
        "Subject",
        "Message",
        "Timestamp",
        "SignatureVersion",
        "Signature",
        "SigningCertURL",
        "UnsubscribeURL",
    ] {
        // Lambda spells two of the envelope's keys differently.
        let lambda_key = match key {
            "SigningCertURL" => "SigningCertUrl",
            "UnsubscribeURL" => "UnsubscribeUrl",
            other => other,
        };
        let value = notification
            .get(key)
            .cloned()
            .unwrap_or(serde_json::Value::Null);
        sns.insert(lambda_key.to_owned(), value);
    }
    let attributes = notification
        .get("MessageAttributes")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    sns.insert("MessageAttributes".to_owned(), attributes);
    serde_json::json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": sns,
        }]
    })
}

/// An SQS batch announcing `keys` in `bucket`, one message each (ids
/// `msg-0`, `msg-1`, ...), made from the first message of `template` (an
/// `events/` sample whose body is an S3 notification): only the body's
/// bucket name and key, and the message id, change.
pub fn sqs_delivery<K: AsRef<str>>(
    template: &serde_json::Value,
    bucket: &str,
    keys: &[K],
) -> serde_json::Value {
    let records: Vec<serde_json::Value> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut message = template["Records"][0].clone();
            let mut body: serde_json::Value =
                serde_json::from_str(message["body"].as_str().expect("a message body"))
                    .expect("a JSON message body");
            body["Records"][0]["s3"]["bucket"]["name"] = bucket.into();
            body["Records"][0]["s3"]["object"]["key"] = key.as_ref().into();
            message["messageId"] = format!("msg-{i}").into();
            message["body"] = body.to_string().into();
            message
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// Region every test resource lives in.
pub const REGION: &str = "us-east-1";

/// A running moto server, stopped on drop.
pub struct Moto {
    child: Child,
    endpoint: String,
    /// The access key pair [`Moto::sdk_config`] signs with.
    credentials: AccessKey,
}

/// An IAM access key pair moto accepts.
#[derive(Clone, Debug)]
pub struct AccessKey {
    /// The access key id.
    pub id: String,
    /// Its secret.
    pub secret: String,
}

/// How many requests moto answers before it enforces IAM: the three that
/// make the administrator of [`Moto::start_enforcing_iam`].
const UNAUTHENTICATED_SETUP_CALLS: &str = "3";

impl Moto {
    /// Starts a moto server and waits until it answers.
    ///
    /// # Panics
    /// When no `moto_server` can be found or it does not come up: a test
    /// without its AWS stand-in cannot say anything useful.
    pub fn start() -> Moto {
        Moto::start_with_env(&[])
    }

    /// Starts a moto server with extra environment variables (moto's
    /// settings, e.g. `INITIAL_NO_AUTH_ACTION_COUNT`).
    ///
    /// # Panics
    /// As [`Moto::start`].
    pub fn start_with_env(env: &[(&str, &str)]) -> Moto {
        let bin = moto_binary();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run `make venv`)", bin.display()));
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            credentials: AccessKey {
                id: "testing".to_owned(),
                secret: "testing".to_owned(),
            },
        };
        moto.wait_ready(Duration::from_secs(30));
        moto
    }

    /// Starts a moto server that enforces IAM on every request after the
    /// first three, which create an administrator (every action on every
    /// resource); [`Moto::sdk_config`] then signs as that administrator.
    /// Other principals come from [`Moto::iam_user`].
    ///
    /// # Panics
    /// As [`Moto::start`], or when the administrator cannot be created.
    pub async fn start_enforcing_iam() -> Moto {
        let mut moto =
            Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", UNAUTHENTICATED_SETUP_CALLS)]);
        let admin = serde_json::json!({"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        moto.credentials = moto.iam_user("testkit-admin", &admin).await;
        moto
    }

    /// Creates the IAM user `name` with `policy` as its only (inline)
    /// policy and returns its access key: 3 requests.
    pub async fn iam_user(&self, name: &str, policy: &serde_json::Value) -> AccessKey {
        let iam = aws_sdk_iam::Client::new(&self.sdk_config().await);
        iam.create_user()
            .user_name(name)
            .send()
            .await
            .expect("CreateUser");
        iam.put_user_policy()
            .user_name(name)
            .policy_name(name)
            .policy_document(policy.to_string())
            .send()
            .await
            .expect("PutUserPolicy");
        let key = iam
            .create_access_key()
            .user_name(name)
            .send()
            .await
            .expect("CreateAccessKey")
            .access_key
            .expect("an access key");
        AccessKey {
            id: key.access_key_id,
            secret: key.secret_access_key,
        }
    }

    /// The server's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK config for this server: fixed region, no IMDS, dummy
    /// credentials (the administrator's when IAM is enforced).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        self.sdk_config_as(&self.credentials).await
    }

    /// An SDK config for this server signing with `key`.
    pub async fn sdk_config_as(&self, key: &AccessKey) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                &key.id,
                &key.secret,
                None,
                None,
                "testkit",
            ))
            .load()
            .await
    }

    /// An S3 client for this server (path-style, as moto needs on 127.0.0.1).
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config().await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Creates `bucket` and uploads `files` under `prefix` (file name kept),
    /// returning their keys in order.
    pub async fn upload(&self, bucket: &str, prefix: &str, files: &[PathBuf]) -> Vec<String> {
        let s3 = self.s3().await;
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("CreateBucket");
        let mut keys = Vec::with_capacity(files.len());
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default();
            let key = format!("{prefix}{name}");
            let body = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(body.into())
                .send()
                .await
                .expect("PutObject");
            keys.push(key);
        }
        keys
    }

    /// Creates a pay-per-request table keyed by the string attribute `key`
    /// (the ledger tables use `pk`).
    pub async fn create_table(&self, name: &str, key: &str) {
        self.create_table_sorted(name, key, None).await;
    }

    /// Creates a pay-per-request table with the string partition key `key`
    /// and, when given, the string sort key `sort` (the correlation table
    /// uses `pk` and `sk`).
    pub async fn create_table_sorted(&self, name: &str, key: &str, sort: Option<&str>) {
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        let mut create = aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest);
        for (attribute, kind) in
            std::iter::once((key, KeyType::Hash)).chain(sort.map(|s| (s, KeyType::Range)))
        {
            create = create
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(attribute)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .expect("attribute definition"),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(attribute)
                        .key_type(kind)
                        .build()
                        .expect("key schema"),
                );
        }
        create.send().await.expect("CreateTable");
    }

    /// Creates the SNS topic `name` and returns its ARN.
    pub async fn create_topic(&self, name: &str) -> String {
        aws_sdk_sns::Client::new(&self.sdk_config().await)
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("CreateTopic")
            .topic_arn
            .expect("a topic ARN")
    }

    /// A new SQS queue `queue_name` subscribed to the SNS topic `topic_arn`,
    /// returning its URL. `raw` delivers each message as published; without
    /// it the queue gets SNS envelopes (`Message`, `MessageAttributes`).
    pub async fn queue_on_topic(&self, topic_arn: &str, queue_name: &str, raw: bool) -> String {
        let attributes: &[(&str, &str)] = if raw {
            &[("RawMessageDelivery", "true")]
        } else {
            &[]
        };
        self.queue_subscribed(topic_arn, queue_name, attributes)
            .await
    }

    /// Like [`Moto::queue_on_topic`] without raw delivery, the subscription
    /// filtering message attributes with `filter_policy` (JSON text).
    pub async fn queue_on_topic_filtered(
        &self,
        topic_arn: &str,
        queue_name: &str,
        filter_policy: &str,
    ) -> String {
        self.queue_subscribed(topic_arn, queue_name, &[("FilterPolicy", filter_policy)])
            .await
    }

    /// A new queue subscribed to `topic_arn` with the given subscription
    /// attributes (`RawMessageDelivery`, `FilterPolicy`, ...).
    pub async fn queue_subscribed(
        &self,
        topic_arn: &str,
        queue_name: &str,
        attributes: &[(&str, &str)],
    ) -> String {
        let sdk = self.sdk_config().await;
        let sqs = aws_sdk_sqs::Client::new(&sdk);
        let queue_url = sqs
            .create_queue()
            .queue_name(queue_name)
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .expect("queue URL");
        let queue_arn = queue_arn(&sqs, &queue_url).await;
        let mut subscribe = aws_sdk_sns::Client::new(&sdk)
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn);
        for (name, value) in attributes {
            subscribe = subscribe.attributes(*name, *value);
        }
        subscribe.send().await.expect("Subscribe");
        queue_url
    }

    /// Every message waiting in the queue at `queue_url`, in the order
    /// received, each body parsed as JSON and deleted once read.
    pub async fn drain_queue(&self, queue_url: &str) -> Vec<serde_json::Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let mut bodies = Vec::new();
        loop {
            let batch = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("ReceiveMessage")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                return bodies;
            }
            for message in batch {
                let body = message.body().expect("message body");
                bodies.push(serde_json::from_str(body).expect("a JSON message body"));
                sqs.delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle().expect("receipt handle"))
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
    }

    /// Environment a child process (a function under `cargo lambda`, the CLI)
    /// needs to reach this server through the standard AWS variables.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", self.credentials.id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.credentials.secret.clone()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }

    /// Clears all state (`POST /moto-api/reset`).
    pub fn reset(&self) {
        let status = self.http("POST", "/moto-api/reset");
        assert_eq!(status, Some(200), "moto reset failed");
    }

    fn wait_ready(&self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.http("GET", "/moto-api/data.json") == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server at {} not ready after {limit:?}", self.endpoint);
    }

    /// A minimal HTTP/1.0 request, returning the status code.
    fn http(&self, method: &str, path: &str) -> Option<u16> {
        let addr = self.endpoint.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let req = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n");
        stream.write_all(req.as_bytes()).ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The repository root (the workspace this crate lives in).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The 12 bundled real CloudTrail log files, sorted by name.
pub fn sample_files() -> Vec<PathBuf> {
    let dir = repo_root().join("engine/tests/data/invictus-stratus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 12, "sample files in {}", dir.display());
    files
}

fn moto_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("MOTO_SERVER") {
        return PathBuf::from(bin);
    }
    let venv = repo_root().join(".venv/bin/moto_server");
    if venv.exists() {
        return venv;
    }
    PathBuf::from("moto_server")
}

fn free_port() -> u16 {
    // Binding port 0 asks the kernel for a free port, released again before
    // moto binds it: until then the kernel may give the same port to a test
    // starting alongside, whose moto would then fail to bind while both
    // tests talk to the first one. So a port is given out once per process.
    static GIVEN: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut given = GIVEN.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"));
        if given.insert(port) {
            return port;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "schemas/finding.v1.schema.json violations")]
    fn a_document_off_the_schema_fails_the_check() {
        assert_schema_valid(
            "schemas/finding.v1.schema.json",
            &[serde_json::json!({"schemaVersion": 5})],
        );
    }

    #[test]
    fn a_delivery_has_one_message_per_key() {
        let body = serde_json::json!({"Records": [{"s3": {"bucket": {"name": "old"},
            "object": {"key": "k", "size": 1}}}]});
        let template = serde_json::json!({"Records": [{"messageId": "m",
            "eventSource": "aws:sqs", "body": body.to_string()}]});
        let batch = sqs_delivery(&template, "b", &["x", "y"]);
        let records = batch["Records"].as_array().unwrap();
        assert_eq!(records.len(), 2);
        for (i, (record, key)) in records.iter().zip(["x", "y"]).enumerate() {
            assert_eq!(record["messageId"], format!("msg-{i}"));
            assert_eq!(record["eventSource"], "aws:sqs");
            let body: serde_json::Value =
                serde_json::from_str(record["body"].as_str().unwrap()).unwrap();
            let s3 = &body["Records"][0]["s3"];
            assert_eq!(
                (&s3["bucket"]["name"], &s3["object"]["key"]),
                (&"b".into(), &key.into())
            );
            assert_eq!(s3["object"]["size"], 1);
        }
    }

    #[test]
    fn no_documents_pass() {
        assert_schema_valid("schemas/finding.v1.schema.json", &[]);
    }

    #[tokio::test]
    async fn a_queue_on_a_topic_receives_what_is_published_once() {
        let moto = Moto::start();
        let sns = aws_sdk_sns::Client::new(&moto.sdk_config().await);
        let topic = sns
            .create_topic()
            .name("t")
            .send()
            .await
            .unwrap()
            .topic_arn
            .unwrap();
        let raw = moto.queue_on_topic(&topic, "raw", true).await;
        let wrapped = moto.queue_on_topic(&topic, "wrapped", false).await;
        for n in 0..12 {
            sns.publish()
                .topic_arn(&topic)
                .message(format!(r#"{{"n":{n}}}"#))
                .send()
                .await
                .unwrap();
        }
        let mut bodies: Vec<i64> = moto
            .drain_queue(&raw)
            .await
            .iter()
            .map(|b| b["n"].as_i64().unwrap())
            .collect();
        bodies.sort_unstable();
        assert_eq!(bodies, (0..12).collect::<Vec<_>>());
        let envelopes = moto.drain_queue(&wrapped).await;
        assert_eq!(envelopes.len(), 12);
        assert!(envelopes.iter().all(|e| e["Type"] == "Notification"));
        assert!(
            moto.drain_queue(&raw).await.is_empty(),
            "drained means deleted"
        );
    }
}

#[cfg(test)]
mod sns_event_tests {
    use super::*;

    #[test]
    fn an_sns_record_carries_the_envelope_under_lambdas_names() {
        let envelope = serde_json::json!({"Type": "Notification", "MessageId": "m", "TopicArn": "t",
            "Message": "{}", "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "1",
            "Signature": "s", "SigningCertURL": "c", "UnsubscribeURL": "u",
            "MessageAttributes": {"remediation": {"Type": "String", "Value": "x"}}});
        let event = sns_lambda_event(&envelope, "sub");
        let sns = &event["Records"][0]["Sns"];
        assert_eq!(event["Records"][0]["EventSubscriptionArn"], "sub");
        assert_eq!(event["Records"][0]["EventSource"], "aws:sns");
        assert_eq!(
            (&sns["SigningCertUrl"], &sns["UnsubscribeUrl"]),
            (&"c".into(), &"u".into())
        );
        assert_eq!(sns["MessageAttributes"]["remediation"]["Value"], "x");
        assert_eq!(sns["Message"], "{}");
    }
}

/// A remediation request as the engine's mapping would produce it for an
/// EventBridge trigger by `Alice` in 111122223333 / us-east-1, for tests of
/// the executors and the remediator around it.
pub fn remediation_request(
    action: trailguard_engine::remediation::ActionKind,
    resource: trailguard_engine::remediation::ResourceRef,
    event_name: &str,
) -> trailguard_engine::remediation::RemediationRequest {
    use trailguard_engine::remediation::{RemediationRequest, TriggerSource};
    RemediationRequest {
        action,
        resource,
        event_name: event_name.into(),
        trigger_event_id: "2aae5c69-4eaf-490d-b022-fd622c12a717".into(),
        event_time: Some("2024-05-02T09:14:03Z".into()),
        principal_arn: Some("arn:aws:iam::111122223333:user/Alice".into()),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        error_code: None,
        source: TriggerSource::EventBridge,
    }
}
