//! Lays out digest files from fuzz input in an in-memory bucket and
//! validates the chain, as `trailguard verify` does over S3.
//!
//! Input: digest files separated by `#digest` lines. Each starts with a
//! flags byte, then the digest's JSON. Flags: bit 0 signs the digest with
//! the target's key (as CloudTrail would), bit 1 stores every log file it
//! lists (holding `{"Records":[]}`), bit 2 leaves the digest out of the
//! bucket, bit 3 leaves it out of the listing, bit 4 gives it a bad
//! signature. A digest is stored under the key its `digestS3Object` names
//! (else a key of its own).
//!
//! Checks that validation over a store that cannot fail never fails (it
//! reports), examines each digest at most once, reports log files only
//! under a valid digest, and finds valid only digests that were signed.
#![no_main]

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::OnceLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use trailguard_engine::integrity::digest::parse_digest;
use trailguard_engine::integrity::layout::digest_key_time;
use trailguard_engine::integrity::signing::{
    SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA, string_to_sign,
};
use trailguard_engine::integrity::store::ObjectData;
use trailguard_engine::integrity::{
    DigestStatus, Finding, ListedDigest, MemoryStore, ObjectRef, PublicKey, StaticKeys,
    ValidationRequest, validate,
};

const BUCKET: &str = "trail-bucket";
/// The fingerprint digests signed by the target's key name.
pub const FINGERPRINT: &str = "0123456789abcdef0123456789abcdef";
/// What every stored log file holds.
const LOG: &[u8] = br#"{"Records":[]}"#;
const SINCE: OffsetDateTime = datetime!(2023-07-10 00:00 UTC);
const UNTIL: OffsetDateTime = datetime!(2023-07-11 00:00 UTC);

fn key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate(KeySize::Rsa2048).expect("RSA key generation"))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn sign_hex(message: &[u8]) -> String {
    let key = key();
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut signature,
    )
    .expect("RSA signing");
    hex::encode(signature)
}

fuzz_target!(|data: &[u8]| {
    let mut store = MemoryStore::new();
    let mut listed = Vec::new();
    let mut signed = HashSet::new();
    for (i, chunk) in data.split_str_chunks().enumerate().take(8) {
        let Some((&flags, body)) = chunk.split_first() else {
            continue;
        };
        let fallback = ObjectRef::new(BUCKET, format!("digest-{i}.json.gz"));
        let compressed = gzip(body);
        let parsed = parse_digest(&fallback, compressed.as_slice()).ok();
        let object = parsed
            .as_ref()
            .filter(|file| !file.digest.digest_s3_object.is_empty())
            .map(|file| {
                ObjectRef::new(&file.digest.digest_s3_bucket, &file.digest.digest_s3_object)
            })
            .unwrap_or(fallback);
        let mut metadata = HashMap::new();
        if let Some(file) = &parsed {
            if flags & 1 != 0 {
                let message = string_to_sign(&file.digest, &file.sha256_hex());
                metadata.insert(SIGNATURE_METADATA.to_owned(), sign_hex(message.as_bytes()));
                signed.insert(object.clone());
            }
            if flags & 2 != 0 {
                for entry in file.digest.log_files() {
                    let data = ObjectData {
                        body: gzip(LOG),
                        metadata: HashMap::new(),
                    };
                    store.put(entry.location(), data);
                }
            }
        }
        if flags & 16 != 0 {
            metadata.insert(SIGNATURE_METADATA.to_owned(), "00ff".to_owned());
        }
        metadata.insert(
            SIGNATURE_ALGORITHM_METADATA.to_owned(),
            SIGNATURE_ALGORITHM.to_owned(),
        );
        if flags & 8 == 0 && object.bucket == BUCKET {
            let end = digest_key_time(&object.key)
                .or(parsed.as_ref().map(|file| file.end))
                .unwrap_or(UNTIL - Duration::hours(i as i64));
            listed.push(ListedDigest {
                key: object.key.clone(),
                end,
            });
        }
        if flags & 4 == 0 {
            store.put(
                object,
                ObjectData {
                    body: compressed,
                    metadata,
                },
            );
        }
    }
    let keys = StaticKeys(vec![PublicKey {
        fingerprint: FINGERPRINT.to_owned(),
        der: key().public_key().as_ref().to_vec(),
        valid_from: None,
        valid_to: None,
    }]);
    let request = ValidationRequest {
        bucket: BUCKET.to_owned(),
        region: "us-east-1".to_owned(),
        digests: listed,
        since: SINCE,
        until: UNTIL,
    };
    let report = validate(&store, &keys, &request)
        .unwrap_or_else(|e| panic!("validation over memory failed: {e}"));
    let mut examined = HashSet::new();
    let mut under_valid = false;
    for finding in &report.findings {
        match finding {
            Finding::Digest { object, status, .. } => {
                assert!(examined.insert(object.clone()), "{object:?} examined twice");
                under_valid = *status == DigestStatus::Valid;
                if under_valid {
                    assert!(signed.contains(object), "{object:?} valid but never signed");
                }
            }
            Finding::Log { object, .. } => {
                assert!(
                    under_valid,
                    "log file {object:?} reported outside a valid digest"
                );
            }
            Finding::Gap { .. } => {}
        }
    }
});

/// Splits input at `#digest` lines.
trait SplitChunks {
    fn split_str_chunks(&self) -> impl Iterator<Item = &[u8]>;
}

impl SplitChunks for [u8] {
    fn split_str_chunks(&self) -> impl Iterator<Item = &[u8]> {
        const SEPARATOR: &[u8] = b"\n#digest\n";
        let mut rest = Some(self);
        std::iter::from_fn(move || {
            let bytes = rest?;
            match bytes.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
                Some(at) => {
                    rest = bytes.get(at + SEPARATOR.len()..);
                    bytes.get(..at)
                }
                None => {
                    rest = None;
                    Some(bytes)
                }
            }
        })
    }
}
