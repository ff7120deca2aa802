use super::*;
use serde_json::json;
use trailguard_engine::findings::RuleInfo;
use trailguard_engine::metrics::{Aggregator, AggregatorConfig, Datum};

fn finding(event_id: &str) -> Finding {
    let rule = RuleInfo {
        id: "r".into(),
        title: "a rule".into(),
        description: String::new(),
        severity: Severity::High,
        references: vec!["attack:T1562.008".into()],
        engine: "trailguard",
    };
    let event = json!({"eventID": event_id, "eventName": "StopLogging",
        "requestParameters": {"name": "trail", "list": [1, {"a": null}]},
        "userIdentity": {"type": "Root"}});
    Finding::new(rule, &event, None)
}

/// The document as one `to_writer_pretty` call writes it, members in
/// the streamed order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Whole<'a> {
    schema_version: &'static str,
    findings: &'a [Finding],
    files: Vec<FileEntry>,
    metrics: Vec<Datum>,
    errors: &'a [ErrorEntry],
}

fn streamed(files: &[Vec<Finding>], report: &Report) -> Vec<u8> {
    let output = Arc::new(Stream::Document.open(Vec::new()).unwrap());
    // Files finish out of order; positions keep the document in order.
    for (position, findings) in files.iter().enumerate().rev() {
        let mut slot = output.slot(position);
        for finding in findings {
            slot.item(|out| Stream::Document.render(finding, out));
        }
    }
    let (mut out, wrote) = Arc::into_inner(output).unwrap().finish().unwrap();
    let mut tail = Vec::new();
    Stream::Document.close(&mut tail, wrote, report).unwrap();
    out.extend(tail);
    out
}

#[test]
fn the_account_a_file_is_named_for() {
    let name = "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz";
    assert_eq!(named_account(name).as_deref(), Some("218007301253"));
    assert_eq!(
        named_account(&format!("samples/{name}")).as_deref(),
        Some("218007301253")
    );
    assert_eq!(
        named_account(
            "s3://b/AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2023/07/10/\
             111122223333_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz"
        )
        .as_deref(),
        Some("111122223333")
    );
    assert_eq!(named_account("logs/trail.json.gz"), None);
    assert_eq!(named_account("12345_CloudTrail_x.json.gz"), None);
}

#[test]
fn the_streamed_document_is_what_one_pretty_print_writes() {
    let report = Report {
        run: RunResult {
            files: Vec::new(),
            metrics: Aggregator::new(AggregatorConfig::default()),
        },
        findings: Vec::new(),
        errors: vec![ErrorEntry {
            path: "bad.json.gz".into(),
            error: "invalid gzip header".into(),
        }],
    };
    let files = vec![
        vec![finding("e1"), finding("e2")],
        Vec::new(),
        vec![finding("e3")],
    ];
    for files in [files, Vec::new(), vec![Vec::new()]] {
        let all: Vec<Finding> = files.iter().flatten().cloned().collect();
        let mut expected = serde_json::to_vec_pretty(&Whole {
            schema_version: OUTPUT_VERSION,
            findings: &all,
            files: Vec::new(),
            metrics: Vec::new(),
            errors: &report.errors,
        })
        .unwrap();
        expected.push(b'\n');
        let got = streamed(&files, &report);
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }
}

#[test]
fn lines_are_one_compact_finding_each() {
    let mut chunk = Vec::new();
    for f in [finding("e1"), finding("e2")] {
        Stream::Lines.render(&f, &mut chunk);
    }
    let text = String::from_utf8(chunk).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for (line, id) in lines.iter().zip(["e1", "e2"]) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(value["eventId"], id, "{line}");
    }
    assert!(text.ends_with('\n'));
}
