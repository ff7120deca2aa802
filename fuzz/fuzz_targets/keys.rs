//! Feeds arbitrary text to the S3 key classifier and to the decoder of
//! keys from S3 event notifications.
//!
//! Checks that:
//! - classification is total and its result is consistent: `Other` always
//!   has a reason and nothing else, a log, digest or insight key always has
//!   its account (12 digits), region, date and file time, and only a digest
//!   has digest fields; the file name is the last segment;
//! - a log key's file name gives back the account through
//!   `log_file_account`;
//! - decoding is the inverse of S3's form encoding (a round trip), keys
//!   without `%` or `+` decode to themselves, and a bad escape names the
//!   offset of its `%`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailguard_engine::keys::{self, KeyError, KeyKind};

/// Encodes a key as S3 event notifications do: form style, `+` for a space.
fn form_encode(key: &str) -> String {
    let mut out = String::with_capacity(key.len() * 3);
    for &b in key.as_bytes() {
        match b {
            b' ' => out.push('+'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn check_classify(key: &str) {
    let info = keys::classify(key);
    assert_eq!(info.file_name, key.rsplit('/').next().unwrap_or(key));
    assert_eq!(info.kind == KeyKind::Other, info.other_reason.is_some());
    assert_eq!(info.kind == KeyKind::Digest, info.digest.is_some());
    assert_eq!(info.is_log(), info.kind == KeyKind::Log);
    if info.kind == KeyKind::Other {
        assert!(info.account.is_none() && info.region.is_none() && info.date.is_none());
        assert!(info.file_time.is_none() && info.prefix.is_none() && info.org_id.is_none());
        return;
    }
    let account = info
        .account
        .as_deref()
        .expect("a CloudTrail key has an account");
    assert!(account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()));
    assert!(info.region.as_deref().is_some_and(|r| !r.is_empty()));
    let date = info.date.expect("a CloudTrail key has a date");
    assert!((1..=12).contains(&date.month) && (1..=31).contains(&date.day));
    let time = info.file_time.expect("a CloudTrail key has a file time");
    assert!(time.hour < 24 && time.minute < 60 && time.second < 60);
    if let Some(prefix) = &info.prefix {
        assert!(
            key.starts_with(prefix.as_str()),
            "the prefix is not the key's start"
        );
    }
    if info.kind == KeyKind::Log {
        assert_eq!(keys::log_file_account(&info.file_name), Some(account));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_classify(text);

    // The text as a raw notification key.
    match keys::decode_s3_event_key(text) {
        Ok(decoded) => {
            if !text.contains(['%', '+']) {
                assert_eq!(decoded, text);
            }
            check_classify(&decoded);
        }
        Err(KeyError::BadEscape { key, offset }) => {
            assert_eq!(key, text);
            assert_eq!(text.as_bytes().get(offset), Some(&b'%'), "offset {offset}");
        }
        Err(KeyError::InvalidUtf8 { key }) => assert_eq!(key, text),
    }

    // The text as a key, encoded the way S3 sends it.
    let encoded = form_encode(text);
    assert_eq!(keys::decode_s3_event_key(&encoded).as_deref(), Ok(text));
});
