//! The public keys that verify digest signatures, as CloudTrail's
//! `ListPublicKeys` serves them per region: a fingerprint (the hex string a
//! digest's `digestPublicKeyFingerprint` names), the DER PKCS #1 RSA key,
//! and its validity window.
//!
//! The fingerprint is matched as an opaque string, as `aws cloudtrail
//! validate-logs` does; CloudTrail does not document how it is derived.
//!
//! Production asks CloudTrail (`ListPublicKeys(StartTime, EndTime)`, which
//! local emulators do not serve); this module holds what that path needs
//! and can be tested without it: the request for a time range and the
//! parsing of a response body. The same parser reads the output of
//! `aws cloudtrail list-public-keys`, whose timestamps are strings rather
//! than the wire's epoch seconds.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::timestamps::parse_rfc3339;

/// `X-Amz-Target` of the `ListPublicKeys` call (AWS JSON 1.1 protocol).
pub const LIST_PUBLIC_KEYS_TARGET: &str =
    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys";

/// One public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    /// The hex fingerprint digests refer to.
    pub fingerprint: String,
    /// The DER-encoded PKCS #1 `RSAPublicKey`.
    pub der: Vec<u8>,
    /// Start of the window in which CloudTrail signed with this key.
    pub valid_from: Option<OffsetDateTime>,
    /// End of that window.
    pub valid_to: Option<OffsetDateTime>,
}

impl PublicKey {
    /// Whether the key's validity window overlaps `[start, end]`; an open
    /// end of the window counts as unbounded.
    pub fn overlaps(&self, start: OffsetDateTime, end: OffsetDateTime) -> bool {
        self.valid_from.is_none_or(|from| from <= end) && self.valid_to.is_none_or(|to| to >= start)
    }
}

/// Fetching or reading public keys failed.
#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    /// The response body is not a `ListPublicKeys` response.
    #[error("not a ListPublicKeys response: {0}")]
    Json(#[from] serde_json::Error),
    /// A key entry has no usable value in `field`.
    #[error("ListPublicKeys entry {index}: `{field}` {problem}")]
    Entry {
        /// Position of the entry in `PublicKeyList`.
        index: usize,
        /// The field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The key source itself failed (a CloudTrail call, for instance).
    #[error(
        "cannot list CloudTrail public keys: {0}; check the cloudtrail:ListPublicKeys permission"
    )]
    Source(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Where validation gets public keys from.
///
/// Synchronous, like [`super::store::ObjectStore`], so that one blocking
/// validation run can use it; an SDK-backed source answers with
/// `Handle::block_on` from inside `spawn_blocking`, fetching every page.
pub trait PublicKeySource {
    /// Every key valid at some point in `[start, end]`.
    fn public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError>;
}

/// A fixed set of keys (tests, or keys saved from `list-public-keys`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticKeys(pub Vec<PublicKey>);

impl PublicKeySource for StaticKeys {
    fn public_keys(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<PublicKey>, PublicKeyError> {
        Ok(self
            .0
            .iter()
            .filter(|key| key.overlaps(start, end))
            .cloned()
            .collect())
    }
}

/// The parameters of one `ListPublicKeys` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPublicKeysRequest {
    /// `StartTime`.
    pub start_time: OffsetDateTime,
    /// `EndTime`.
    pub end_time: OffsetDateTime,
    /// `NextToken` of the previous page, if any.
    pub next_token: Option<String>,
}

impl ListPublicKeysRequest {
    /// The first page's request for keys valid in `[start, end]`.
    pub fn for_range(start: OffsetDateTime, end: OffsetDateTime) -> Self {
        Self {
            start_time: start,
            end_time: end,
            next_token: None,
        }
    }

    /// The request for the page after `page`, or `None` after the last one.
    pub fn next(&self, page: &ListPublicKeysPage) -> Option<Self> {
        page.next_token.as_ref().map(|token| Self {
            next_token: Some(token.clone()),
            ..self.clone()
        })
    }

    /// The request body in the AWS JSON 1.1 protocol (timestamps as epoch seconds).
    pub fn to_json(&self) -> Value {
        let mut body = serde_json::json!({
            "StartTime": self.start_time.unix_timestamp(),
            "EndTime": self.end_time.unix_timestamp(),
        });
        if let (Some(token), Some(map)) = (&self.next_token, body.as_object_mut()) {
            map.insert("NextToken".to_owned(), Value::String(token.clone()));
        }
        body
    }
}

/// One page of a `ListPublicKeys` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPublicKeysPage {
    /// The keys on this page.
    pub keys: Vec<PublicKey>,
    /// Token for the next page; `None` on the last.
    pub next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WirePage {
    #[serde(default)]
    public_key_list: Vec<WireKey>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WireKey {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    validity_start_time: Option<Value>,
    #[serde(default)]
    validity_end_time: Option<Value>,
}

/// Parses a `ListPublicKeys` response body (or saved CLI output).
pub fn parse_list_public_keys(body: &[u8]) -> Result<ListPublicKeysPage, PublicKeyError> {
    let page: WirePage = serde_json::from_slice(body)?;
    let keys = page
        .public_key_list
        .into_iter()
        .enumerate()
        .map(|(index, wire)| wire_key(index, wire))
        .collect::<Result<_, _>>()?;
    Ok(ListPublicKeysPage {
        keys,
        next_token: page.next_token.filter(|token| !token.is_empty()),
    })
}

fn wire_key(index: usize, wire: WireKey) -> Result<PublicKey, PublicKeyError> {
    let entry = |field, problem: &str| PublicKeyError::Entry {
        index,
        field,
        problem: problem.to_owned(),
    };
    let fingerprint = wire
        .fingerprint
        .filter(|f| !f.is_empty())
        .ok_or_else(|| entry("Fingerprint", "is missing"))?;
    let value = wire.value.ok_or_else(|| entry("Value", "is missing"))?;
    let der = STANDARD
        .decode(value.trim())
        .map_err(|e| entry("Value", &format!("is not base64 ({e})")))?;
    let valid_from = wire_time(wire.validity_start_time.as_ref())
        .map_err(|problem| entry("ValidityStartTime", &problem))?;
    let valid_to = wire_time(wire.validity_end_time.as_ref())
        .map_err(|problem| entry("ValidityEndTime", &problem))?;
    Ok(PublicKey {
        fingerprint,
        der,
        valid_from,
        valid_to,
    })
}

/// Reads a timestamp given as epoch seconds (the wire) or RFC 3339 text
/// (CLI output).
fn wire_time(value: Option<&Value>) -> Result<Option<OffsetDateTime>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let seconds = n
                .as_i64()
                .or_else(|| n.as_f64().map(|f| f.floor() as i64))
                .ok_or_else(|| format!("is not a number of seconds ({n})"))?;
            OffsetDateTime::from_unix_timestamp(seconds)
                .map(Some)
                .map_err(|e| format!("is out of range ({e})"))
        }
        Some(Value::String(text)) => parse_rfc3339(text).map(Some).map_err(|e| e.to_string()),
        Some(other) => Err(format!(
            "is neither epoch seconds nor a timestamp ({other})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn request_body_uses_epoch_seconds() {
        let request = ListPublicKeysRequest::for_range(
            datetime!(2023-07-10 11:00:00 UTC),
            datetime!(2023-07-10 13:00:00 UTC),
        );
        assert_eq!(
            request.to_json(),
            serde_json::json!({"StartTime": 1_688_986_800, "EndTime": 1_688_994_000})
        );
    }

    #[test]
    fn next_page_request_carries_the_token() {
        let first = ListPublicKeysRequest::for_range(
            datetime!(2023-07-10 11:00:00 UTC),
            datetime!(2023-07-10 13:00:00 UTC),
        );
        let page = ListPublicKeysPage {
            keys: vec![],
            next_token: Some("t1".into()),
        };
        let second = first.next(&page).unwrap();
        assert_eq!(second.to_json()["NextToken"], "t1");
        assert_eq!(second.start_time, first.start_time);
        let last = ListPublicKeysPage {
            keys: vec![],
            next_token: None,
        };
        assert!(second.next(&last).is_none());
    }

    #[test]
    fn parses_a_wire_response() {
        let body = br#"{
            "PublicKeyList": [{
                "Value": "AQID",
                "ValidityStartTime": 1688986800,
                "ValidityEndTime": 1.6889940005E9,
                "Fingerprint": "31e8b5433410dfb61a9dc45cc65b22ff"
            }],
            "NextToken": "next"
        }"#;
        let page = parse_list_public_keys(body).unwrap();
        assert_eq!(page.next_token.as_deref(), Some("next"));
        let key = &page.keys[0];
        assert_eq!(key.fingerprint, "31e8b5433410dfb61a9dc45cc65b22ff");
        assert_eq!(key.der, [1, 2, 3]);
        assert_eq!(key.valid_from, Some(datetime!(2023-07-10 11:00:00 UTC)));
        assert_eq!(key.valid_to, Some(datetime!(2023-07-10 13:00:00 UTC)));
    }

    #[test]
    fn parses_cli_output_with_text_timestamps() {
        let body = br#"{"PublicKeyList": [{
            "Value": "AQID", "Fingerprint": "ab",
            "ValidityStartTime": "2023-07-10T11:00:00+00:00",
            "ValidityEndTime": "2023-07-10T13:00:00Z"
        }]}"#;
        let page = parse_list_public_keys(body).unwrap();
        assert!(page.next_token.is_none());
        assert_eq!(
            page.keys[0].valid_from,
            Some(datetime!(2023-07-10 11:00:00 UTC))
        );
    }

    #[test]
    fn an_empty_response_has_no_keys() {
        let page = parse_list_public_keys(b"{}").unwrap();
        assert!(page.keys.is_empty());
        assert!(page.next_token.is_none());
    }

    #[test]
    fn bad_entries_name_index_and_field() {
        let body = br#"{"PublicKeyList": [
            {"Value": "AQID", "Fingerprint": "ab"},
            {"Value": "***", "Fingerprint": "cd"}
        ]}"#;
        let err = parse_list_public_keys(body).unwrap_err();
        assert!(
            matches!(
                err,
                PublicKeyError::Entry {
                    index: 1,
                    field: "Value",
                    ..
                }
            ),
            "{err}"
        );
        let err = parse_list_public_keys(br#"{"PublicKeyList": [{"Value": "AQID"}]}"#).unwrap_err();
        assert!(
            err.to_string().contains("`Fingerprint` is missing"),
            "{err}"
        );
        assert!(parse_list_public_keys(b"42").is_err());
        assert!(parse_list_public_keys(br#"{"PublicKeyList": 3}"#).is_err());
    }

    #[test]
    fn static_keys_answer_only_overlapping_windows() {
        let key = |fingerprint: &str, from, to| PublicKey {
            fingerprint: fingerprint.into(),
            der: vec![],
            valid_from: Some(from),
            valid_to: Some(to),
        };
        let keys = StaticKeys(vec![
            key(
                "old",
                datetime!(2023-01-01 0:00 UTC),
                datetime!(2023-02-01 0:00 UTC),
            ),
            key(
                "now",
                datetime!(2023-07-01 0:00 UTC),
                datetime!(2023-08-01 0:00 UTC),
            ),
        ]);
        let got = keys
            .public_keys(
                datetime!(2023-07-10 11:00 UTC),
                datetime!(2023-07-10 13:00 UTC),
            )
            .unwrap();
        let names: Vec<_> = got.iter().map(|k| k.fingerprint.as_str()).collect();
        assert_eq!(names, ["now"]);
    }
}
