//! The digest signature: the string CloudTrail signs, and checking a
//! SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) signature against it.
//!
//! The string is, joined with `\n`: `digestEndTime`;
//! `digestS3Bucket/digestS3Object`; the hex SHA-256 of the uncompressed
//! digest; and `previousDigestSignature`, or the text `null` in a chain's
//! first digest. The signature is hex in the digest object's
//! `x-amz-meta-signature` metadata.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaParameters, UnparsedPublicKey};

use super::digest::Digest;

/// The only algorithm CloudTrail signs digests with.
pub const SIGNATURE_ALGORITHM: &str = "SHA256withRSA";

/// Object metadata key (without `x-amz-meta-`) holding the hex signature.
pub const SIGNATURE_METADATA: &str = "signature";

/// Object metadata key (without `x-amz-meta-`) naming the algorithm.
pub const SIGNATURE_ALGORITHM_METADATA: &str = "signature-algorithm";

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The public key is not a DER `RSAPublicKey` (PKCS #1) of 2048 to 8192 bits.
    #[error("the public key is not a DER PKCS #1 RSA public key of 2048 to 8192 bits")]
    UnusableKey,
    /// The signature text is not hex.
    #[error("the signature is not hex-encoded")]
    NotHex,
    /// The signature does not match the signed string under this key.
    #[error("the signature does not match the signed data")]
    Mismatch,
}

/// The string CloudTrail signs for `digest`, given the hex SHA-256 of its
/// uncompressed bytes.
pub fn string_to_sign(digest: &Digest, uncompressed_sha256_hex: &str) -> String {
    // CloudTrail's signer writes a JSON null previous signature as "null".
    let previous = digest
        .previous_digest_signature
        .as_deref()
        .unwrap_or("null");
    format!(
        "{}\n{}/{}\n{}\n{}",
        digest.digest_end_time,
        digest.digest_s3_bucket,
        digest.digest_s3_object,
        uncompressed_sha256_hex,
        previous
    )
}

/// Checks a hex SHA256withRSA signature of `message` under a DER PKCS #1
/// RSA public key (the `Value` of a `ListPublicKeys` entry, base64-decoded).
pub fn verify(
    public_key_der: &[u8],
    message: &[u8],
    signature_hex: &str,
) -> Result<(), SignatureError> {
    // Parsed up front so an unusable key is told apart from a bad signature.
    RsaParameters::public_modulus_len(public_key_der).map_err(|_| SignatureError::UnusableKey)?;
    let signature = hex::decode(signature_hex.trim()).map_err(|_| SignatureError::NotHex)?;
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    use std::sync::OnceLock;

    fn key() -> &'static KeyPair {
        static KEY: OnceLock<KeyPair> = OnceLock::new();
        KEY.get_or_init(|| KeyPair::generate(KeySize::Rsa2048).unwrap())
    }

    fn sign_hex(key: &KeyPair, message: &[u8]) -> String {
        let mut signature = vec![0u8; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            message,
            &mut signature,
        )
        .unwrap();
        hex::encode(signature)
    }

    fn digest(previous_signature: Option<&str>) -> Digest {
        Digest {
            aws_account_id: None,
            digest_start_time: "2015-08-17T14:01:31Z".into(),
            digest_end_time: "2015-08-17T15:01:31Z".into(),
            digest_s3_bucket: "bucket".into(),
            digest_s3_object: "AWSLogs/1/CloudTrail-Digest/d.json.gz".into(),
            digest_public_key_fingerprint: "ff".into(),
            digest_signature_algorithm: None,
            newest_event_time: None,
            oldest_event_time: None,
            previous_digest_s3_bucket: None,
            previous_digest_s3_object: None,
            previous_digest_hash_value: None,
            previous_digest_hash_algorithm: None,
            previous_digest_signature: previous_signature.map(str::to_owned),
            log_files: None,
        }
    }

    #[test]
    fn string_to_sign_joins_the_four_parts() {
        assert_eq!(
            string_to_sign(&digest(Some("abcd")), "0123"),
            "2015-08-17T15:01:31Z\nbucket/AWSLogs/1/CloudTrail-Digest/d.json.gz\n0123\nabcd"
        );
    }

    #[test]
    fn first_digest_signs_the_text_null() {
        assert!(string_to_sign(&digest(None), "0123").ends_with("\n0123\nnull"));
    }

    #[test]
    fn a_genuine_signature_verifies() {
        let message = b"signed text";
        let signature = sign_hex(key(), message);
        assert_eq!(
            verify(key().public_key().as_ref(), message, &signature),
            Ok(())
        );
        let upper = signature.to_uppercase();
        assert_eq!(verify(key().public_key().as_ref(), message, &upper), Ok(()));
    }

    #[test]
    fn a_changed_message_fails() {
        let signature = sign_hex(key(), b"signed text");
        assert_eq!(
            verify(key().public_key().as_ref(), b"signed text!", &signature),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_inputs_are_told_apart() {
        let signature = sign_hex(key(), b"m");
        assert_eq!(
            verify(b"not der", b"m", &signature),
            Err(SignatureError::UnusableKey)
        );
        assert_eq!(
            verify(key().public_key().as_ref(), b"m", "zz"),
            Err(SignatureError::NotHex)
        );
    }
}
