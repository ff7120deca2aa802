//! A file that fails part way still gives the findings of the records read
//! before the failure, marked as coming from a partial file, and the scan
//! lists the error and exits 2: trailing data after the document, a second
//! gzip member holding another document, a truncated object.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{Run, scratch, trailguard};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// A `StopLogging` call by an IAM user: a finding of the built-in rules.
fn stop_logging(id: usize) -> Value {
    json!({
        "eventVersion": "1.08",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "eventID": format!("stop-{id}"),
        "eventTime": "2024-05-02T09:14:03Z",
        "awsRegion": "us-east-1",
        "recipientAccountId": "111122223333",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::111122223333:user/mallory",
            "accountId": "111122223333",
            "userName": "mallory"
        },
        "requestParameters": {"name": "org-trail"}
    })
}

fn document(ids: std::ops::Range<usize>) -> Vec<u8> {
    let records: Vec<Value> = ids.map(stop_logging).collect();
    serde_json::to_vec(&json!({ "Records": records })).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

/// Scans `file` alone, as JSON, with only the stopped-logging rule.
fn scan(file: &Path) -> Run {
    let path = file.display().to_string();
    trailguard(
        &[
            "scan",
            &path,
            "--format",
            "json",
            "--no-sigma",
            "--repeat-window",
            "0",
        ],
        None,
    )
}

/// The event ids of the findings, sorted.
fn event_ids(doc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["eventId"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Asserts `run` reported `file` as partial, with the findings of `ids`.
fn assert_partial(run: &Run, file: &Path, ids: std::ops::Range<usize>) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc = run.json();
    let mut expected: Vec<String> = ids.map(|i| format!("stop-{i}")).collect();
    expected.sort();
    assert_eq!(event_ids(&doc), expected, "{}", run.stderr);
    let entry = &doc["files"][0];
    assert_eq!(entry["path"], file.display().to_string());
    assert!(entry["partial"].is_string(), "{entry}");
    let errors = doc["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("read in part"),
        "{}",
        errors[0]
    );
    assert!(run.stderr.contains("read in part"), "{}", run.stderr);
}

#[test]
fn trailing_data_after_the_document() {
    let dir = scratch("partial-trailing");
    let mut bytes = document(0..3);
    bytes.extend_from_slice(b"\n{\"not\": \"a log\"} garbage");
    let file = write(&dir, "trailing.json.gz", &gzip(&bytes));
    assert_partial(&scan(&file), &file, 0..3);
}

#[test]
fn a_second_gzip_member_holding_another_document() {
    let dir = scratch("partial-members");
    let mut bytes = gzip(&document(0..2));
    bytes.extend(gzip(&document(2..4)));
    let file = write(&dir, "members.json.gz", &bytes);
    let run = scan(&file);
    // The first document is read whole; the second is data after it.
    assert_partial(&run, &file, 0..2);
}

#[test]
fn a_truncated_object() {
    let dir = scratch("partial-truncated");
    // Incompressible enough that a cut loses only the tail: random-looking
    // ids make each record's bytes differ.
    let records: Vec<Value> = (0..400)
        .map(|i| {
            let mut record = stop_logging(i);
            record["requestID"] = json!(format!(
                "{:016x}",
                (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ));
            record
        })
        .collect();
    let whole = gzip(&serde_json::to_vec(&json!({ "Records": records })).unwrap());
    let file = write(&dir, "truncated.json.gz", &whole[..whole.len() / 2]);
    let run = scan(&file);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc = run.json();
    let read = event_ids(&doc).len();
    // Some records before the cut, never those after it.
    assert!(read > 0 && read < 400, "{read} findings\n{}", run.stderr);
    assert!(
        doc["files"][0]["partial"]
            .as_str()
            .unwrap()
            .contains("gzip")
    );
    assert!(run.stderr.contains("read in part"), "{}", run.stderr);

    // A file with nothing readable is an error, not a partial file.
    let empty = write(&dir, "cut.json.gz", &whole[..8]);
    let run = scan(&empty);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let doc = run.json();
    assert!(doc["files"].as_array().unwrap().is_empty(), "{doc}");
    assert!(
        !doc["errors"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("read in part")
    );
}
