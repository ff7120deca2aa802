//! `trailguard scan` over files with rejected records: a bad record costs
//! only itself, and a rejected record is never a clean result.

mod common;

use std::io::Read;

use common::{sample_files, scratch, trailguard};
use serde_json::Value;

/// The records of a real CloudTrail sample, each as its JSON text.
fn sample_records() -> Vec<String> {
    let gz = std::fs::read(&sample_files()[0]).unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(gz.as_slice())
        .read_to_string(&mut text)
        .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["Records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

fn log_file(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"{\"Records\":[".to_vec();
    out.extend_from_slice(&records.join(&b","[..]));
    out.extend_from_slice(b"]}");
    out
}

fn finding_ids(doc: &Value) -> Vec<(String, String)> {
    let mut ids: Vec<_> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"]["id"].to_string(), f["eventId"].to_string()))
        .collect();
    ids.sort();
    ids
}

#[test]
fn a_record_with_invalid_utf8_costs_only_itself() {
    let records = sample_records();
    let target = records
        .iter()
        .position(|r| r.contains("\"userAgent\":\""))
        .expect("a record with a userAgent");
    let mut bad = Vec::new();
    let mut intact = Vec::new();
    for (i, record) in records.iter().enumerate() {
        if i == target {
            // A byte that is not UTF-8, inside the typed userAgent field.
            let field = "\"userAgent\":\"";
            let at = record.find(field).unwrap() + field.len();
            let mut corrupt = record.clone().into_bytes();
            corrupt.insert(at, 0xff);
            bad.push(corrupt);
        } else {
            bad.push(record.clone().into_bytes());
            intact.push(record.clone().into_bytes());
        }
    }
    let dir = scratch("rejected-utf8");
    let bad_path = dir.join("bad.json");
    let intact_path = dir.join("intact.json");
    std::fs::write(&bad_path, log_file(&bad)).unwrap();
    std::fs::write(&intact_path, log_file(&intact)).unwrap();

    let run = trailguard(
        &["scan", bad_path.to_str().unwrap(), "--format", "json"],
        None,
    );
    assert_eq!(run.code, 2, "a rejected record is an error\n{}", run.stderr);
    assert!(
        run.stderr.contains("1 record(s) rejected"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    assert_eq!(doc["errors"], serde_json::json!([]), "the file is read");
    assert_eq!(doc["files"][0]["records"], records.len());
    assert_eq!(doc["files"][0]["rejected"], 1);

    let reference = trailguard(
        &["scan", intact_path.to_str().unwrap(), "--format", "json"],
        None,
    );
    let expected = finding_ids(&reference.json());
    assert_eq!(finding_ids(&doc), expected, "every other record is scanned");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_file_of_rejected_records_exits_2() {
    // Each record repeats its `eventName` member.
    let records: Vec<Vec<u8>> = sample_records()
        .iter()
        .map(|r| r.replacen('{', "{\"eventName\":\"Other\",", 1).into_bytes())
        .collect();
    let dir = scratch("rejected-all");
    let path = dir.join("repeated.json");
    std::fs::write(&path, log_file(&records)).unwrap();

    let table = trailguard(&["scan", path.to_str().unwrap(), "--format", "table"], None);
    assert_eq!(table.code, 2, "{}", table.stderr);
    let summary = format!(
        "0 finding(s) in 1 file(s), {n} record(s), {n} rejected\n\
         0 more held back, 0 suppressed; 0 file(s) unreadable",
        n = records.len()
    );
    assert!(table.stdout.contains(&summary), "{}", table.stdout);
    assert!(
        table
            .stderr
            .contains(&format!("{} record(s) rejected", records.len())),
        "{}",
        table.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}
