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

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Region every test resource lives in.
pub const REGION: &str = "us-east-1";

/// A running moto server, stopped on drop.
pub struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    /// Starts a moto server and waits until it answers.
    ///
    /// # Panics
    /// When no `moto_server` can be found or it does not come up: a test
    /// without its AWS stand-in cannot say anything useful.
    pub fn start() -> Moto {
        let bin = moto_binary();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e} (run `make venv`)", bin.display()));
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        moto.wait_ready(Duration::from_secs(30));
        moto
    }

    /// The server's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An SDK config for this server: fixed region, dummy credentials, no IMDS.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "testkit",
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
        use aws_sdk_dynamodb::types::{
            AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        };
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
            .create_table()
            .table_name(name)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute definition"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(key)
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key schema"),
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .expect("CreateTable");
    }

    /// Environment a child process (a function under `cargo lambda`, the CLI)
    /// needs to reach this server through the standard AWS variables.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
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
    let dir = repo_root().join("shared/tests/data/invictus-stratus");
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
    // Binding port 0 asks the kernel for a free port; it is released again
    // before moto binds it, a race that is harmless on a test machine.
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port on 127.0.0.1: {e}"))
}
