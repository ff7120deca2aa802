//! Playing CloudTrail in tests: a [`FakeCloudTrail`] writes gzipped log
//! files and hourly digests laid out, hashed, chained and signed the way
//! CloudTrail does, with its own RSA key ([`Signer`]). It returns the
//! objects to store rather than storing them, so the same script fills a
//! [`MemoryStore`](trailguard_engine::integrity::store::MemoryStore) or an S3 bucket.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use flate2::Compression;
use flate2::write::GzEncoder;
use time::{Duration, OffsetDateTime};

use trailguard_engine::integrity::digest::{Digest, LogFileEntry};
use trailguard_engine::integrity::hashing::sha256_hex;
use trailguard_engine::integrity::layout::DigestLayout;
use trailguard_engine::integrity::public_keys::PublicKey;
use trailguard_engine::integrity::signing::{
    SIGNATURE_ALGORITHM, SIGNATURE_ALGORITHM_METADATA, SIGNATURE_METADATA, string_to_sign,
};
use trailguard_engine::integrity::store::{MemoryStore, ObjectData, ObjectRef};
use trailguard_engine::integrity::timestamps::{
    format_compact_minutes, format_day_path, format_display,
};

/// The fake could not produce an object.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    /// RSA key generation failed.
    #[error("RSA key generation failed")]
    KeyGeneration,
    /// Signing failed.
    #[error("signing a digest failed")]
    Signing,
    /// Compressing failed.
    #[error("gzip compression failed: {0}")]
    Gzip(#[from] io::Error),
    /// Serializing a digest failed.
    #[error("digest serialization failed: {0}")]
    Json(#[from] serde_json::Error),
}

/// A CloudTrail-style regional signing key.
#[derive(Clone)]
pub struct Signer {
    key: Arc<KeyPair>,
    fingerprint: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A fresh 2048-bit key, the size CloudTrail uses.
    pub fn generate() -> Result<Self, FakeError> {
        let key = KeyPair::generate(KeySize::Rsa2048).map_err(|_| FakeError::KeyGeneration)?;
        // CloudTrail's fingerprints are 32 hex digits; any stable label of
        // that shape serves, as validation matches them as opaque text.
        let digest = sha256_hex(key.public_key().as_ref());
        let fingerprint = digest.get(..32).unwrap_or(&digest).to_owned();
        Ok(Self {
            key: Arc::new(key),
            fingerprint,
        })
    }

    /// The fingerprint digests signed by this key name.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The public key as `ListPublicKeys` would return it (no validity bounds).
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            fingerprint: self.fingerprint.clone(),
            der: self.key.public_key().as_ref().to_vec(),
            valid_from: None,
            valid_to: None,
        }
    }

    /// Hex SHA256withRSA signature of `message`.
    pub fn sign_hex(&self, message: &[u8]) -> Result<String, FakeError> {
        let mut signature = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| FakeError::Signing)?;
        Ok(hex::encode(signature))
    }
}

/// An object the fake delivered: where to put it and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Its location.
    pub object: ObjectRef,
    /// Its (gzipped) body and metadata.
    pub data: ObjectData,
}

impl Delivered {
    /// Stores the object, replacing whatever was there.
    pub fn store_in(self, store: &mut MemoryStore) -> ObjectRef {
        let object = self.object.clone();
        store.put(self.object, self.data);
        object
    }
}

/// The last digest delivered, as the next one records it.
#[derive(Debug, Clone)]
struct Previous {
    object: ObjectRef,
    hash_value: String,
    signature: String,
}

/// One trail delivering to one bucket from one region.
#[derive(Debug, Clone)]
pub struct FakeCloudTrail {
    /// The bucket it delivers to.
    pub bucket: String,
    /// Where its digests go.
    pub layout: DigestLayout,
    signer: Signer,
    claimed_fingerprint: String,
    previous: Option<Previous>,
    pending: Vec<LogFileEntry>,
    serial: u32,
}

impl FakeCloudTrail {
    /// A trail that has not delivered anything yet.
    pub fn new(bucket: impl Into<String>, layout: DigestLayout, signer: Signer) -> Self {
        Self {
            bucket: bucket.into(),
            layout,
            claimed_fingerprint: signer.fingerprint.clone(),
            signer,
            previous: None,
            pending: Vec::new(),
            serial: 0,
        }
    }

    /// A trail `trail` of account `111122223333` in `us-east-1`, without prefix.
    pub fn simple(bucket: &str, trail: &str, signer: Signer) -> Self {
        let layout = DigestLayout {
            prefix: None,
            organization_id: None,
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            trail_name: trail.into(),
            home_region: "us-east-1".into(),
        };
        Self::new(bucket, layout, signer)
    }

    /// Switches to a new key, as CloudTrail's key rotation does: later
    /// digests name the new fingerprint.
    pub fn rotate_signer(&mut self, signer: Signer) {
        self.claimed_fingerprint = signer.fingerprint.clone();
        self.signer = signer;
    }

    /// Signs later digests with `signer` while still naming the current
    /// fingerprint: a forger's digests.
    pub fn forge_with(&mut self, signer: Signer) {
        self.signer = signer;
    }

    /// Stops and restarts logging: the next digest starts a new chain.
    pub fn restart(&mut self) {
        self.previous = None;
    }

    /// Delivers a log file holding `content` (uncompressed JSON), written at `at`.
    pub fn deliver_log(
        &mut self,
        at: OffsetDateTime,
        content: &[u8],
    ) -> Result<Delivered, FakeError> {
        self.serial += 1;
        let l = &self.layout;
        let key = format!(
            "{}{}/{}_CloudTrail_{}_{}_Fake{:012}.json.gz",
            l.log_prefix(),
            format_day_path(at),
            l.account_id,
            l.region,
            format_compact_minutes(at),
            self.serial
        );
        self.pending.push(LogFileEntry {
            s3_bucket: self.bucket.clone(),
            s3_object: key.clone(),
            hash_value: sha256_hex(content),
            hash_algorithm: Some("SHA-256".into()),
            newest_event_time: Some(format_display(at)),
            oldest_event_time: Some(format_display(at - Duration::minutes(5))),
        });
        Ok(Delivered {
            object: ObjectRef::new(&self.bucket, key),
            data: ObjectData {
                body: gzip(content)?,
                metadata: HashMap::new(),
            },
        })
    }

    /// Delivers the digest for the hour ending at `end`, listing every log
    /// delivered since the last digest and chaining to that digest.
    pub fn deliver_digest(&mut self, end: OffsetDateTime) -> Result<Delivered, FakeError> {
        let object = ObjectRef::new(&self.bucket, self.layout.digest_key(end));
        let logs = std::mem::take(&mut self.pending);
        let event_times = |pick: fn(&LogFileEntry) -> &Option<String>| {
            logs.iter().filter_map(move |l| pick(l).clone())
        };
        let previous = self.previous.as_ref();
        let digest = Digest {
            aws_account_id: Some(self.layout.account_id.clone()),
            digest_start_time: format_display(end - Duration::hours(1)),
            digest_end_time: format_display(end),
            digest_s3_bucket: object.bucket.clone(),
            digest_s3_object: object.key.clone(),
            digest_public_key_fingerprint: self.claimed_fingerprint.clone(),
            digest_signature_algorithm: Some(SIGNATURE_ALGORITHM.into()),
            // The display form sorts chronologically, so text order serves.
            newest_event_time: event_times(|l| &l.newest_event_time).max(),
            oldest_event_time: event_times(|l| &l.oldest_event_time).min(),
            previous_digest_s3_bucket: previous.map(|p| p.object.bucket.clone()),
            previous_digest_s3_object: previous.map(|p| p.object.key.clone()),
            previous_digest_hash_value: previous.map(|p| p.hash_value.clone()),
            previous_digest_hash_algorithm: previous.map(|_| "SHA-256".into()),
            previous_digest_signature: previous.map(|p| p.signature.clone()),
            log_files: Some(logs),
        };
        let json = serde_json::to_vec(&digest)?;
        let hash_value = sha256_hex(&json);
        let signature = self
            .signer
            .sign_hex(string_to_sign(&digest, &hash_value).as_bytes())?;
        self.previous = Some(Previous {
            object: object.clone(),
            hash_value,
            signature: signature.clone(),
        });
        let metadata = HashMap::from([
            (SIGNATURE_METADATA.to_owned(), signature),
            (
                SIGNATURE_ALGORITHM_METADATA.to_owned(),
                SIGNATURE_ALGORITHM.to_owned(),
            ),
        ]);
        Ok(Delivered {
            object,
            data: ObjectData {
                body: gzip(&json)?,
                metadata,
            },
        })
    }
}

/// Gzips `bytes` as CloudTrail does.
pub fn gzip(bytes: &[u8]) -> Result<Vec<u8>, FakeError> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use trailguard_engine::integrity::digest::parse_digest;
    use trailguard_engine::integrity::signing::verify;

    #[test]
    fn digests_list_pending_logs_and_chain_to_the_previous_one() {
        let signer = Signer::generate().unwrap();
        let mut trail = FakeCloudTrail::simple("b", "t", signer.clone());
        let log = trail
            .deliver_log(datetime!(2023-07-10 10:45 UTC), b"{\"Records\":[]}")
            .unwrap();
        assert_eq!(
            log.object.key,
            "AWSLogs/111122223333/CloudTrail/us-east-1/2023/07/10/111122223333_CloudTrail_us-east-1_20230710T1045Z_Fake000000000001.json.gz"
        );
        let first = trail
            .deliver_digest(datetime!(2023-07-10 11:01:31 UTC))
            .unwrap();
        let second = trail
            .deliver_digest(datetime!(2023-07-10 12:01:31 UTC))
            .unwrap();

        let one = parse_digest(&first.object, first.data.body.as_slice()).unwrap();
        let two = parse_digest(&second.object, second.data.body.as_slice()).unwrap();
        assert_eq!(one.digest.log_files().len(), 1);
        assert_eq!(one.digest.log_files()[0].location(), log.object);
        assert!(one.digest.previous().is_none());
        assert!(two.digest.log_files().is_empty());
        assert_eq!(two.digest.previous(), Some(first.object.clone()));
        assert_eq!(
            two.digest.previous_digest_hash_value,
            Some(one.sha256_hex())
        );
        assert_eq!(
            two.digest.previous_digest_signature.as_ref(),
            first.data.metadata.get(SIGNATURE_METADATA)
        );

        let signature = second.data.metadata.get(SIGNATURE_METADATA).unwrap();
        let message = string_to_sign(&two.digest, &two.sha256_hex());
        let der = signer.public_key().der;
        assert_eq!(verify(&der, message.as_bytes(), signature), Ok(()));
        assert_eq!(signer.fingerprint().len(), 32);
    }
}
