//! Public keys read from a file (`trailguard validate --public-key`), for
//! when `ListPublicKeys` is not available. The S3 store and the CloudTrail
//! key source live in [`trailguard_aws::integrity`], shared with the
//! `integrity` function.

use std::path::Path;

use thiserror::Error;
use trailguard_engine::integrity::public_keys::{PublicKeyError, parse_list_public_keys};
use trailguard_engine::integrity::{PublicKey, StaticKeys};

/// A `--public-key` file could not be used.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// The file cannot be read.
    #[error("cannot read public key file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The JSON is not `list-public-keys` output.
    #[error("public key file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong.
        source: PublicKeyError,
    },
}

/// Keys from a file: the JSON output of `aws cloudtrail list-public-keys`,
/// or one DER key given as `FINGERPRINT=PATH` or as a file named
/// `<fingerprint>.der`.
pub fn keys_from_file(spec: &str) -> Result<StaticKeys, KeyFileError> {
    let (fingerprint, path) = match spec.split_once('=') {
        Some((fingerprint, path)) if is_fingerprint(fingerprint) => (Some(fingerprint), path),
        _ => (None, spec),
    };
    let bytes = std::fs::read(path).map_err(|source| KeyFileError::Read {
        path: path.to_owned(),
        source,
    })?;
    if bytes.trim_ascii_start().starts_with(b"{") {
        let page = parse_list_public_keys(&bytes).map_err(|source| KeyFileError::Parse {
            path: path.to_owned(),
            source,
        })?;
        return Ok(StaticKeys(page.keys));
    }
    let fingerprint = fingerprint
        .map(str::to_owned)
        .or_else(|| {
            Path::new(path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    Ok(StaticKeys(vec![PublicKey {
        fingerprint,
        der: bytes,
        valid_from: None,
        valid_to: None,
    }]))
}

fn is_fingerprint(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("trailguard-keys-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_cli_output_and_der_files() {
        let json = temp(
            "keys.json",
            br#"{"PublicKeyList":[{"Value":"AAEC","ValidityStartTime":"2023-07-01T00:00:00Z","ValidityEndTime":"2023-08-01T00:00:00Z","Fingerprint":"abc123"}]}"#,
        );
        let keys = keys_from_file(&json.display().to_string()).unwrap();
        assert_eq!(keys.0.len(), 1);
        assert_eq!(keys.0[0].fingerprint, "abc123");
        assert_eq!(keys.0[0].der, [0, 1, 2]);

        let der = temp("0123abcd.der", &[0x30, 0x82]);
        let by_name = keys_from_file(&der.display().to_string()).unwrap();
        let stem = der.file_stem().unwrap().to_string_lossy().into_owned();
        assert_eq!(by_name.0[0].fingerprint, stem);
        let explicit = keys_from_file(&format!("ffee={}", der.display())).unwrap();
        assert_eq!(explicit.0[0].fingerprint, "ffee");
        assert_eq!(explicit.0[0].der, [0x30, 0x82]);

        let missing = keys_from_file("/nonexistent/key.der").unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("cannot read public key file")
        );
        std::fs::remove_file(json).unwrap();
        std::fs::remove_file(der).unwrap();
    }
}
