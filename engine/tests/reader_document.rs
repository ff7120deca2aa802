//! A streamed [`Record`]'s `Document` view agrees with `serde_json::Value`'s
//! on every path of every real sample record, including paths that miss.

use std::path::PathBuf;

use serde_json::Value;
use trailguard_engine::{Document, Record, RecordReader, Segment};

fn sample_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/invictus-stratus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    files
}

/// Every path to a value in `value`, plus paths that miss or cross a type:
/// an unknown key beside each object's keys, an index past each array's
/// end, `[*]` in place of each index, and steps into scalars.
fn paths(value: &Value, prefix: &mut Vec<Segment>, out: &mut Vec<Vec<Segment>>) {
    out.push(prefix.clone());
    let mut step = |segment: Segment, child: Option<&Value>, out: &mut Vec<Vec<Segment>>| {
        prefix.push(segment);
        match child {
            Some(child) => paths(child, prefix, out),
            None => out.push(prefix.clone()),
        }
        prefix.pop();
    };
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                step(Segment::Key(key.clone()), Some(child), out);
            }
            step(Segment::Key("noSuchKey".into()), None, out);
            step(Segment::Index(0), None, out);
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                step(Segment::Index(index), Some(child), out);
            }
            if let Some(first) = items.first() {
                step(Segment::AnyIndex, Some(first), out);
            }
            step(Segment::Index(items.len()), None, out);
            step(Segment::Key("length".into()), None, out);
        }
        _ => step(Segment::Key("inner".into()), None, out),
    }
}

/// What `any_at` visits along `path`, with and without stopping early.
fn answers(doc: &dyn Document, path: &[Segment]) -> (Vec<String>, bool, bool) {
    let mut seen = Vec::new();
    doc.any_at(path, &mut |scalar| {
        seen.push(format!("{scalar:?}"));
        false
    });
    let first = seen.first().cloned();
    let stops = doc.any_at(path, &mut |scalar| Some(format!("{scalar:?}")) == first);
    (seen, stops, doc.exists(path))
}

/// The paths the rules use most, which take the typed fast path.
fn rule_paths() -> Vec<Vec<Segment>> {
    let key = |k: &str| Segment::Key(k.to_owned());
    [
        vec![key("eventName")],
        vec![key("eventSource")],
        vec![key("errorCode")],
        vec![key("userIdentity"), key("type")],
        vec![key("userIdentity"), key("invokedBy")],
        vec![
            key("userIdentity"),
            key("sessionContext"),
            key("attributes"),
            key("mfaAuthenticated"),
        ],
        vec![key("additionalEventData"), key("MFAUsed")],
        vec![key("responseElements"), key("ConsoleLogin")],
        vec![
            key("requestParameters"),
            key("ipPermissions"),
            key("items"),
            Segment::AnyIndex,
            key("ipRanges"),
        ],
    ]
    .into()
}

#[test]
fn record_view_matches_value_on_every_sample_path() {
    let mut checked = 0;
    for file in sample_files() {
        let bytes = std::fs::read(&file).unwrap();
        let mut reader = RecordReader::new(bytes.as_slice(), file.display().to_string()).unwrap();
        while let Some(record) = reader.next_record() {
            let record: Record<'_> = record.unwrap();
            let value: Value = serde_json::from_str(record.raw()).unwrap();
            let mut all = rule_paths();
            paths(&value, &mut Vec::new(), &mut all);
            for path in &all {
                assert_eq!(
                    answers(&record, path),
                    answers(&value, path),
                    "{} eventID {:?} path {}",
                    file.display(),
                    record.event_id,
                    trailguard_engine::Path(path.clone())
                );
                checked += 1;
            }
            assert_eq!(record.to_value(), value);
        }
    }
    assert!(checked > 50_000, "only {checked} paths checked");
}
