use std::borrow::Cow;

use super::need::{Check, item_holds, required_literal};
use super::*;
use crate::record::KeyMemo;
use rsigma_eval::CompiledDetectionItem;
use serde_json::json;

fn compiled(detection: &str) -> CompiledRule {
    let yaml = format!("title: t\nid: t-1\nlogsource: {{product: aws}}\ndetection:\n{detection}\n");
    let collection = rsigma_parser::parse_sigma_yaml(&yaml).expect("test rule parses");
    let rule = collection.rules.first().expect("one rule");
    rsigma_eval::compile_rule(rule).expect("test rule compiles")
}

fn index_of(detections: &[&str]) -> Index {
    let rules: Vec<CompiledRule> = detections.iter().map(|d| compiled(d)).collect();
    Index::build(&rules)
}

#[test]
fn a_memo_answers_as_the_checks_do() {
    let index = index_of(&[
        "  sel: {eventSource: s3.amazonaws.com, eventName: [PutBucketPolicy, DeleteBucket]}\n  condition: sel",
        "  sel: {userIdentity.type: Root}\n  condition: sel",
        "  sel: {userAgent|contains: 'TruffleHog'}\n  condition: sel",
    ]);
    let texts = [
        r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","userIdentity":{"type":"Root"}}"#,
        r#"{"eventSource":"s3.amazonaws.com","eventName":"DeleteBucket","userIdentity":{"type":"IAMUser"}}"#,
        r#"{"eventName":"GetObject","userAgent":"trufflehog","eventID":"1"}"#,
        r#"{"eventName":"GetObject","userAgent":"trufflehog","eventID":"2"}"#,
        r#"{"eventName":"GetObject","userAgent":null}"#,
        // A nested `null` is not an absent member.
        r#"{"eventName":"GetObject","userIdentity":{"type":null}}"#,
        r#"{"eventName":"GetObject","userIdentity":{}}"#,
        "{}",
    ];
    let mut memo = KeyMemo::new(index.decisive().to_vec());
    let mut worked = 0;
    for round in 0..2 {
        for text in texts {
            let record = Record::from_json(text).expect("test record parses");
            let viable = memo.recall(&record, || {
                worked += 1;
                index.viable_sorted(&record)
            });
            let mut expected: Vec<usize> = index.viable_record(&record).collect();
            expected.sort_unstable();
            assert_eq!(
                viable.as_ref(),
                expected.as_slice(),
                "round {round}: {text}"
            );
        }
    }
    // Worked out once per combination: the two GetObject calls by the
    // same client share one, and the second round is remembered.
    assert_eq!(worked, texts.len() - 1);
}

#[test]
fn string_checks_agree_with_rsigma() {
    let index = index_of(&[
        "  sel: {userIdentity.type: [Root, AssumedRole]}\n  condition: sel",
        "  sel: {userAgent|contains: 'TruffleHog'}\n  condition: sel",
        "  sel: {userIdentity.arn|re: '.+:assumed-role/aws:.+'}\n  condition: sel",
    ]);
    let values = [
        "Root",
        "ROOT",
        "root",
        "AssumedRole",
        "assumedrole",
        "Rooty",
        "",
        "İ",
        "Root\u{130}",
        "TruffleHog/3.0",
        "xx trufflehog",
        "TRUFFLEHO",
        "truffle hog",
        "TruffleHoG İ",
        "arn:aws:sts::1:assumed-role/aws:ec2/i-1",
        "arn:aws:sts::1:assumed-role/x/y",
    ];
    fn only_item(need: &Need) -> Option<(&CompiledDetectionItem, &Check)> {
        match need {
            Need::Item { item, check, .. } => Some((item, check)),
            Need::All(needs) | Need::Any(needs) if needs.len() == 1 => {
                needs.first().and_then(only_item)
            }
            _ => None,
        }
    }
    for (need, field) in index.needs.iter().zip(["type", "userAgent", "arn"]) {
        let (item, check) = only_item(need).expect("one item each");
        assert!(!matches!(check, Check::Matcher), "{field} has a shortcut");
        for v in values {
            let value = Scalar::String(Cow::Borrowed(v));
            assert_eq!(
                check.holds(item, &value),
                item_holds(item, &value),
                "{field} {v:?}"
            );
        }
    }
}

#[test]
fn regexes_yield_the_literal_every_match_contains() {
    let literal = |p| required_literal(p).map(|l| String::from_utf8_lossy(&l).into_owned());
    assert_eq!(
        literal(".+:assumed-role/aws:.+").as_deref(),
        Some(":assumed-role/aws:")
    );
    assert_eq!(
        literal("^arn:aws:iam::[0-9]+:root$").as_deref(),
        Some("arn:aws:iam::")
    );
    assert_eq!(literal("abcdef").as_deref(), Some("abcdef"));
    // Alternatives, case-insensitive text and short literals give none.
    assert_eq!(literal("foo|barbaz"), None);
    assert_eq!(literal("(?i)assumed-role"), None);
    assert_eq!(literal(".+ab.+"), None);
}

#[test]
fn a_regex_need_turns_away_values_without_its_literal() {
    let index =
        index_of(&["  sel: {userIdentity.arn|re: '.+:assumed-role/aws:.+'}\n  condition: sel"]);
    let holds = |arn: &str| {
        let record = json!({"userIdentity": {"arn": arn}});
        index.could_match(&record)
    };
    assert!(holds("arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"));
    assert!(!holds("arn:aws:sts::1:assumed-role/admin/bob"));
    // The literal is only a pre-filter: the regex still decides.
    assert!(!holds(":assumed-role/aws:"));
}

#[test]
fn rules_are_filed_by_name_then_source_then_residual() {
    let index = index_of(&[
        "  sel: {eventSource: s3.amazonaws.com, eventName: [PutBucketPolicy, DeleteBucket]}\n  condition: sel",
        "  sel: {eventSource: lambda.amazonaws.com, eventName|startswith: UpdateFunctionConfiguration}\n  condition: sel",
        "  sel: {userIdentity.type: Root}\n  condition: sel",
    ]);
    assert_eq!(index.shape(), (1, 1, 1));
    let names = |n| {
        index
            .candidates(Key::Str(n), Key::Absent)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("deletebucket"), vec![0, 2]);
    assert_eq!(names("DELETEBUCKET"), vec![0, 2]);
    assert_eq!(names("ListBuckets"), vec![2]);
    let sources: Vec<usize> = index
        .candidates(Key::Absent, Key::Str("lambda.amazonaws.com"))
        .collect();
    assert_eq!(sources, vec![1, 2]);
    let other: Vec<usize> = index.candidates(Key::Other, Key::Other).collect();
    assert_eq!(other, vec![0, 1, 2]);
}

#[test]
fn conditions_decide_what_is_required() {
    // `1 of selection_*`: the union of both names.
    let index = index_of(&[
        "  selection_a: {eventName: A}\n  selection_b: {eventName: B}\n  condition: 1 of selection_*",
        // A negated selection requires nothing.
        "  sel: {eventSource: x}\n  filter: {eventName: C}\n  condition: sel and not filter",
        // `or` with an unconstrained branch requires nothing.
        "  sel: {eventName: D}\n  other: {requestParameters.x: y}\n  condition: sel or other",
    ]);
    assert_eq!(index.shape(), (1, 1, 1));
    let names = |n| {
        index
            .candidates(Key::Str(n), Key::Absent)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("a"), vec![0, 2]);
    assert_eq!(names("b"), vec![0, 2]);
    assert_eq!(names("c"), vec![2]);
}

#[test]
fn could_match_checks_the_needs_of_residual_rules() {
    let index = index_of(&[
        "  sel: {userIdentity.type: Root}\n  filter: {eventType: AwsServiceEvent}\n  condition: sel and not filter",
        "  sel: {userIdentity.arn|re: '.+:assumed-role/aws:.+'}\n  condition: sel",
        "  sel: {eventName: DeleteBucket, errorCode: null}\n  condition: sel",
    ]);
    assert_eq!(index.shape(), (1, 0, 2));
    let no = json!({"eventName": "Decrypt", "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"}});
    assert!(!index.could_match(&no));
    let root = json!({"eventName": "Decrypt", "userIdentity": {"type": "root"}});
    assert!(index.could_match(&root));
    let instance =
        json!({"userIdentity": {"arn": "arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}});
    assert!(index.could_match(&instance));
    let deleted = json!({"eventName": "DeleteBucket"});
    assert!(index.could_match(&deleted));
    let failed = json!({"eventName": "DeleteBucket", "errorCode": "AccessDenied"});
    assert!(!index.could_match(&failed));
}

#[test]
fn values_rsigma_sees_differently_are_not_ruled_out() {
    let index = index_of(&["  sel: {eventName: '123'}\n  condition: sel"]);
    assert!(index.could_match(&json!({"eventName": 123})));
    assert!(index.could_match(&json!({"eventName": ["123"]})));
    assert!(!index.could_match(&json!({"eventName": "124"})));
    assert!(!index.could_match(&json!({})));
}

#[test]
fn field_references_are_not_needs() {
    let index = index_of(&[
        "  sel: {userIdentity.arn|fieldref: requestParameters.userName}\n  condition: sel",
    ]);
    assert_eq!(index.shape(), (0, 0, 1));
    assert!(index.could_match(&json!({})));
}

#[test]
fn lowercasing_matches_str_to_lowercase() {
    for s in ["DeleteBucket", "ÄBC", &"X".repeat(200)] {
        assert_eq!(with_lowercase(s, str::to_owned), s.to_lowercase());
    }
}
