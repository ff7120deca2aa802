//! The AWS side of integrity validation: an S3-backed [`ObjectStore`] and a
//! CloudTrail-backed [`PublicKeySource`], shared by `trailguard validate`
//! and the `integrity` function.
//!
//! Validation itself is synchronous and runs inside `spawn_blocking`; these
//! answer each call with `Handle::block_on`, and hand object bodies over
//! through `SyncIoBridge`, so a log file is hashed as it streams.

use aws_config::SdkConfig;
use aws_sdk_s3::error::DisplayErrorContext;
use thiserror::Error;
use time::OffsetDateTime;
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;

use trailguard_engine::integrity::public_keys::PublicKeyError;
use trailguard_engine::integrity::store::{ObjectRef, ObjectStore, StoreError, StoredObject};
use trailguard_engine::integrity::{PublicKey, PublicKeySource};

/// An SDK error rendered with its full context, as an error value for
/// [`StoreError::source`] and [`PublicKeyError::Source`].
#[derive(Debug, Error)]
#[error("{0}")]
struct Message(String);

/// Objects read from S3.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    handle: Handle,
}

impl S3Store {
    /// A store over `client`, making its calls on `handle`'s runtime.
    pub fn new(client: aws_sdk_s3::Client, handle: Handle) -> S3Store {
        S3Store { client, handle }
    }
}

impl ObjectStore for S3Store {
    fn get(&self, object: &ObjectRef) -> Result<Option<StoredObject>, StoreError> {
        let request = self
            .client
            .get_object()
            .bucket(&object.bucket)
            .key(&object.key)
            .send();
        match self.handle.block_on(request) {
            Ok(output) => {
                let metadata = output.metadata().cloned().unwrap_or_default();
                let body = SyncIoBridge::new_with_handle(
                    output.body.into_async_read(),
                    self.handle.clone(),
                );
                Ok(Some(StoredObject {
                    body: Box::new(body),
                    metadata,
                }))
            }
            Err(error) => {
                // Only an absent key is a finding; a missing bucket, a denied
                // read or a network failure must not pass for a deleted file.
                let absent = error.as_service_error().is_some_and(|e| e.is_no_such_key());
                if absent {
                    return Ok(None);
                }
                Err(StoreError {
                    object: object.clone(),
                    source: Box::new(Message(DisplayErrorContext(error).to_string())),
                })
            }
        }
    }
}

/// CloudTrail's `ListPublicKeys` in one region.
#[derive(Debug, Clone)]
pub struct CloudTrailKeys {
    client: aws_sdk_cloudtrail::Client,
    handle: Handle,
}

impl CloudTrailKeys {
    /// A key source for `region` (keys are regional), from the SDK configuration.
    pub fn new(sdk: &SdkConfig, region: &str, handle: Handle) -> CloudTrailKeys {
        let config = aws_sdk_cloudtrail::config::Builder::from(sdk)
            .region(aws_sdk_cloudtrail::config::Region::new(region.to_owned()))
            .build();
        CloudTrailKeys {
            client: aws_sdk_cloudtrail::Client::from_conf(config),
            handle,
        }
    }
}

fn sdk_time(at: OffsetDateTime) -> aws_sdk_cloudtrail::primitives::DateTime {
    aws_sdk_cloudtrail::primitives::DateTime::from_secs(at.unix_timestamp())
}

fn offset_time(at: Option<&aws_sdk_cloudtrail::primitives::DateTime>) -> Option<OffsetDateTime> {
    at.and_then(|t| OffsetDateTime::from_unix_timestamp(t.secs()).ok())
}

impl PublicKeySource for CloudTrailKeys {
    fn public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError> {
        self.handle.block_on(async {
            let mut keys = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .list_public_keys()
                    .start_time(sdk_time(start))
                    .end_time(sdk_time(end))
                    .set_next_token(token.take())
                    .send()
                    .await
                    .map_err(|e| {
                        PublicKeyError::Source(Box::new(Message(
                            aws_sdk_cloudtrail::error::DisplayErrorContext(e).to_string(),
                        )))
                    })?;
                for key in page.public_key_list() {
                    let (Some(fingerprint), Some(value)) = (key.fingerprint(), key.value()) else {
                        continue;
                    };
                    keys.push(PublicKey {
                        fingerprint: fingerprint.to_owned(),
                        der: value.as_ref().to_vec(),
                        valid_from: offset_time(key.validity_start_time()),
                        valid_to: offset_time(key.validity_end_time()),
                    });
                }
                token = page
                    .next_token()
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned);
                if token.is_none() {
                    return Ok(keys);
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use time::macros::datetime;
    use trailguard_engine::integrity::public_keys::{
        LIST_PUBLIC_KEYS_TARGET, ListPublicKeysRequest,
    };

    /// One HTTP request as a small server sees it.
    struct Seen {
        target: Option<String>,
        body: serde_json::Value,
    }

    /// Answers each connection with the next of `pages`, recording requests.
    fn serve(pages: Vec<String>) -> (String, std::thread::JoinHandle<Vec<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for page in pages {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut length, mut target) = (0usize, None);
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap(),
                            "x-amz-target" => target = Some(value.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).unwrap();
                seen.push(Seen {
                    target,
                    body: serde_json::from_slice(&body).unwrap(),
                });
                let mut stream = stream;
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{page}",
                    page.len()
                )
                .unwrap();
            }
            seen
        });
        (endpoint, server)
    }

    #[test]
    fn list_public_keys_sends_the_documented_request_and_follows_pages() {
        let (endpoint, server) = serve(vec![
            r#"{"PublicKeyList":[{"Value":"AQID","Fingerprint":"aa11","ValidityStartTime":1688986800,"ValidityEndTime":1688994000}],"NextToken":"page-2"}"#.to_owned(),
            r#"{"PublicKeyList":[{"Value":"BAUG","Fingerprint":"bb22"},{"Fingerprint":"no-value"}]}"#.to_owned(),
        ]);
        // Multi-threaded: `Handle::block_on` from this thread needs worker
        // threads to drive the connections.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sdk = runtime.block_on(async {
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("eu-west-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(aws_sdk_cloudtrail::config::Credentials::new(
                    "a", "b", None, None, "test",
                ))
                .load()
                .await
        });
        let keys = CloudTrailKeys::new(&sdk, "eu-west-1", runtime.handle().clone());
        let (start, end) = (
            datetime!(2023-07-10 11:00 UTC),
            datetime!(2023-07-10 13:00 UTC),
        );
        let got = keys.public_keys(start, end).unwrap();
        let seen = server.join().unwrap();

        let first = ListPublicKeysRequest::for_range(start, end);
        assert_eq!(seen.len(), 2);
        // The SDK names the operation without the namespace the API
        // reference spells out (`CloudTrail_20131101.ListPublicKeys`).
        for request in &seen {
            let target = request.target.as_deref().unwrap_or_default();
            assert!(
                target.contains('.') && LIST_PUBLIC_KEYS_TARGET.ends_with(target),
                "{target}"
            );
        }
        assert_eq!(seen[0].body, first.to_json());
        let mut second = first.clone();
        second.next_token = Some("page-2".to_owned());
        assert_eq!(seen[1].body, second.to_json());

        let fingerprints: Vec<&str> = got.iter().map(|k| k.fingerprint.as_str()).collect();
        assert_eq!(fingerprints, ["aa11", "bb22"]);
        assert_eq!(got[0].der, [1, 2, 3]);
        assert_eq!(got[0].valid_from, Some(start));
        assert_eq!(got[0].valid_to, Some(end));
        assert_eq!(got[1].valid_to, None);
    }
}
