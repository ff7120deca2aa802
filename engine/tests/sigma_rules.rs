//! The SigmaHQ AWS CloudTrail rules through `trailguard_engine::sigma`: what loads,
//! what the Stratus Red Team samples match, that the index changes nothing,
//! and the rules that need the whole-object text view or do not do what their
//! text says.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

#[path = "expected/samples.rs"]
mod expected;
use expected::SIGMA_OFF_BY_DEFAULT_ON_SAMPLES as OFF_BY_DEFAULT_MATCHES;
use expected::SIGMA_ON_SAMPLES as SAMPLE_MATCHES;

use flate2::read::GzDecoder;
use serde_json::{Value, json};
use trailguard_engine::rules::{Failures, Severity};
use trailguard_engine::sigma::{
    BUILTIN_FILES, SigmaRule, SigmaRules, SkipReason, SkippedRule, builtin_tuning,
};

/// The bundled rule the tuning turns off.
const ASSUME_ROLE_MISUSE: &str = "aws_sts_assumerole_misuse.yml";

fn data_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Files of `dir` ending in `suffix`, sorted by name.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(dir)
        .expect("test data directory exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    paths.sort();
    paths
}

/// Every record of the Invictus IR Stratus Red Team samples.
fn sample_records() -> Vec<Value> {
    let paths = files(&data_dir("invictus-stratus"), ".json.gz");
    assert_eq!(paths.len(), 12, "the 12 sample files");
    let mut records = Vec::new();
    for path in paths {
        let mut text = String::new();
        GzDecoder::new(fs::File::open(&path).expect("sample opens"))
            .read_to_string(&mut text)
            .expect("sample decompresses");
        let mut log: Value = serde_json::from_str(&text).expect("sample is JSON");
        match log.get_mut("Records").map(Value::take) {
            Some(Value::Array(items)) => records.extend(items),
            _ => panic!("{} has no Records array", path.display()),
        }
    }
    records
}

fn builtin() -> SigmaRules {
    let (rules, skipped) = SigmaRules::builtin();
    let off: Vec<&str> = skipped.iter().map(SkippedRule::file_name).collect();
    assert_eq!(off, [ASSUME_ROLE_MISUSE]);
    rules
}

/// Every bundled rule loaded from a copy of its text, so as written.
fn untuned() -> SigmaRules {
    let copies: Vec<(String, &str)> = BUILTIN_FILES
        .iter()
        .map(|(name, text)| (format!("copy/{name}"), *text))
        .collect();
    let (rules, skipped) = SigmaRules::load(&copies);
    assert!(skipped.is_empty(), "{skipped:?}");
    rules
}

fn rule<'a>(rules: &'a SigmaRules, file: &str) -> &'a SigmaRule {
    rules
        .rules()
        .iter()
        .find(|r| r.file_name() == file)
        .unwrap_or_else(|| panic!("{file} is built in"))
}

fn matched_files(rules: &SigmaRules, record: &Value) -> Vec<String> {
    rules
        .matching(record)
        .map(|r| r.file_name().to_owned())
        .collect()
}

#[test]
fn every_builtin_rule_loads() {
    let (rules, skipped) = SigmaRules::builtin();
    // Every bundled rule loads but the one the tuning turns off, which is
    // reported like any skipped rule, with the tuning's reason.
    assert_eq!(skipped.len(), 1);
    let off = &skipped[0];
    assert_eq!(off.file_name(), ASSUME_ROLE_MISUSE);
    assert!(
        matches!(&off.reason, SkipReason::Off(reason) if reason.contains("assumed-role")),
        "{off}"
    );
    assert_eq!(rules.len(), 56);
    let summary = rules.summary(&skipped);
    assert!(
        summary.starts_with(
            "sigma: 56 of 57 rules loaded; skipped: aws_sts_assumerole_misuse.yml (off by default (sigma-tuning.yaml): Matches every call"
        ),
        "{summary}"
    );
    let ids: BTreeSet<&str> = rules.rules().iter().map(SigmaRule::id).collect();
    assert_eq!(ids.len(), 56, "ids are unique");
    for rule in rules.rules() {
        assert!(
            !rule.references().is_empty(),
            "{} has tags",
            rule.file_name()
        );
        assert!(
            rule.author().is_some(),
            "{} keeps its author",
            rule.file_name()
        );
    }
}

#[test]
fn builtin_metadata_maps_level_and_tags() {
    let rules = builtin();
    let stop = rule(&rules, "aws_cloudtrail_disable_logging.yml");
    assert_eq!(stop.id(), "4db60cc0-36fb-42b7-9b58-a5b53019fb74");
    assert_eq!(stop.title(), "AWS CloudTrail Important Change");
    // SigmaHQ's level is medium; the tuning lowers it (UpdateTrail is routine).
    assert_eq!(stop.severity().as_str(), "low");
    assert_eq!(
        stop.references(),
        ["attack-tactic:defense-impairment", "attack:T1685.002"]
    );
    assert_eq!(stop.author(), Some("vitaliy0x1"));
    assert!(!stop.description().is_empty());
    assert!(!stop.falsepositives().is_empty());
}

/// The SigmaHQ rules left out of the built-in set (see
/// `engine/rules/sigma/NOTICE.md`) are each skipped, with the reason the
/// notice gives.
#[test]
fn excluded_sigmahq_rules_are_skipped_with_reasons() {
    let texts: Vec<(String, String)> = files(&data_dir("sigma-excluded"), ".yml")
        .into_iter()
        .map(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let text = fs::read_to_string(&p).expect("rule file reads");
            (name.unwrap_or_default(), text)
        })
        .collect();
    let (rules, skipped) = SigmaRules::load(&texts);
    assert!(rules.is_empty());
    let got: Vec<(&str, &str)> = skipped
        .iter()
        .map(|s| {
            let kind = match &s.reason {
                SkipReason::Parse(m) if m.contains("Condition parse error") => "condition",
                SkipReason::Unsupported => "unsupported",
                SkipReason::Placeholder(p)
                    if p == "%Legitimate_Countries%, %Legitimate_IP_Ranges%" =>
                {
                    "placeholder"
                }
                _ => "other",
            };
            (s.file_name(), kind)
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "aws_cloudtrail_console_login_success_from_susp_locations.yml",
                "placeholder"
            ),
            ("aws_ec2_download_userdata.yml", "condition"),
            ("aws_enum_backup.yml", "condition"),
            ("aws_enum_listing.yml", "condition"),
            ("aws_enum_network.yml", "condition"),
            ("aws_enum_storage.yml", "condition"),
            ("aws_lambda_function_created_or_invoked.yml", "condition"),
            ("aws_macic_evasion.yml", "condition"),
            ("aws_ses_messaging_enabled.yml", "unsupported"),
        ]
    );
    // Rules rsigma cannot parse are still named.
    assert!(skipped.iter().all(|s| s.title.is_some() && s.id.is_some()));
    let summary = rules.summary(&skipped);
    assert!(
        summary.starts_with("sigma: 0 of 9 rules loaded; skipped: aws_cloudtrail_console_login_success_from_susp_locations.yml (uses `|expand` placeholders"),
        "{summary}"
    );
    assert!(!summary.contains('\n'));
}

#[test]
fn samples_match_exactly_the_expected_rules() {
    let rules = builtin();
    let mut got: BTreeSet<(String, String)> = BTreeSet::new();
    for record in sample_records() {
        let event_id = record
            .get("eventID")
            .and_then(Value::as_str)
            .expect("records have an eventID");
        for file in matched_files(&rules, &record) {
            got.insert((file, event_id.to_owned()));
        }
    }
    let expected: BTreeSet<(String, String)> = SAMPLE_MATCHES
        .iter()
        .map(|&(f, id)| (f.to_owned(), id.to_owned()))
        .collect();
    assert_eq!(
        expected.len(),
        SAMPLE_MATCHES.len(),
        "no repeats in the list"
    );
    assert_eq!(got, expected);
}

/// The index only ever skips rules that would not have matched, and
/// `could_match` says no only when nothing matches.
#[test]
fn indexed_matching_equals_evaluating_every_rule() {
    let rules = builtin();
    let records = sample_records();
    let mut ruled_out = 0;
    for record in &records {
        let indexed = matched_files(&rules, record);
        let brute: Vec<String> = rules
            .rules()
            .iter()
            .filter(|r| r.matches(record))
            .map(|r| r.file_name().to_owned())
            .collect();
        assert_eq!(indexed, brute, "{}", record["eventID"]);
        if rules.could_match(record) {
            continue;
        }
        assert!(
            brute.is_empty(),
            "could_match ruled out a match: {}",
            record["eventID"]
        );
        ruled_out += 1;
    }
    // The pre-check is worth having: most sample records need no JSON view.
    assert!(
        ruled_out * 10 > records.len() * 8,
        "{ruled_out} of {}",
        records.len()
    );
}

/// Reading a typed record in place gives the same matches as its `Value`,
/// and so does a pass that remembers earlier records' viable rules (every
/// sample is read twice in one pass, so the second reading of each comes
/// from the memo).
#[test]
fn typed_records_match_as_their_values_do() {
    // As SigmaHQ wrote them (a copy, so untuned): the rule the tuning
    // turns off matches most records, which is what this test wants.
    let rules = untuned();
    let mut compared = 0;
    let mut pass = rules.pass_memo();
    let samples = sample_records();
    for value in samples.iter().chain(&samples) {
        let text = value.to_string();
        let record = trailguard_engine::Record::from_json(&text).expect("sample records are typed");
        let typed: Vec<&str> = rules
            .matching_record(&record)
            .map(|r| r.file_name())
            .collect();
        let by_value: Vec<&str> = rules.matching(value).map(|r| r.file_name()).collect();
        assert_eq!(typed, by_value, "{}", value["eventID"]);
        let in_pass: Vec<&str> = rules
            .matching_in_pass(&record, &mut pass)
            .map(|r| r.file_name())
            .collect();
        assert_eq!(in_pass, by_value, "{} in a pass", value["eventID"]);
        compared += usize::from(!typed.is_empty());
    }
    assert!(
        compared > 50,
        "only {compared} sample records matched a rule"
    );
}

/// `requestParameters|contains: 'Suspended'` on the whole object.
#[test]
fn bucket_versioning_suspended_matches_the_request_object() {
    let rules = builtin();
    let mut record = json!({
        "eventSource": "s3.amazonaws.com",
        "eventName": "PutBucketVersioning",
        "requestParameters": {
            "bucketName": "prod-backups",
            "Host": "prod-backups.s3.amazonaws.com",
            "versioning": "",
            "VersioningConfiguration": {
                "Status": "Suspended",
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"
            }
        }
    });
    assert_eq!(
        matched_files(&rules, &record),
        ["aws_disable_bucket_versioning.yml"]
    );
    assert!(rules.could_match(&record));
    record["requestParameters"]["VersioningConfiguration"]["Status"] = json!("Enabled");
    assert_eq!(matched_files(&rules, &record), Vec::<String>::new());
}

/// `responseElements|contains: 'Failure'` is a filter: the whole-object view
/// is what lets it exclude a failed export.
#[test]
fn vm_export_filter_sees_the_response_object() {
    let rules = builtin();
    let mut record = json!({
        "eventSource": "ec2.amazonaws.com",
        "eventName": "CreateInstanceExportTask",
        "requestParameters": {"instanceId": "i-0abc", "targetEnvironment": "vmware"},
        "responseElements": {
            "exportTask": {
                "exportTaskId": "export-i-0abc",
                "state": "active",
                "instanceExport": {"instanceId": "i-0abc", "targetEnvironment": "vmware"}
            }
        }
    });
    assert_eq!(
        matched_files(&rules, &record),
        ["aws_ec2_vm_export_failure.yml"]
    );
    record["responseElements"]["exportTask"]["statusMessage"] =
        json!("Failure: the instance has an unsupported volume");
    assert_eq!(matched_files(&rules, &record), Vec::<String>::new());
}

/// `requestParameters|contains|all` on quoted policy strings: IAM records the
/// policy as JSON text inside `requestParameters`, which the view expands.
#[test]
fn s3_browser_template_policy_matches_the_embedded_policy() {
    let rules = builtin();
    let policy = |bucket: &str| {
        format!(
            "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Effect\": \"Allow\",\n      \"Action\": [\n        \"s3:GetObject\",\n        \"s3:PutObject\",\n        \"s3:ListBucket\"\n      ],\n      \"Resource\": [\n        \"arn:aws:s3:::{bucket}\",\n        \"arn:aws:s3:::{bucket}/*\"\n      ]\n    }}\n  ]\n}}"
        )
    };
    let mut record = json!({
        "eventSource": "iam.amazonaws.com",
        "eventName": "PutUserPolicy",
        "userAgent": "S3 Browser 11.4.5 https://s3browser.com",
        "requestParameters": {
            "userName": "backup",
            "policyName": "s3-access",
            "policyDocument": policy("<YOUR-BUCKET-NAME>")
        }
    });
    assert_eq!(
        matched_files(&rules, &record),
        ["aws_iam_s3browser_templated_s3_bucket_policy_creation.yml"]
    );
    record["requestParameters"]["policyDocument"] = json!(policy("prod-backups"));
    assert_eq!(matched_files(&rules, &record), Vec::<String>::new());
}

/// The filter compares an ARN with a user name, so it never applies: a user
/// resetting their own login profile still matches.
#[test]
fn update_login_profile_filter_never_applies() {
    let rules = builtin();
    let record = json!({
        "eventSource": "iam.amazonaws.com",
        "eventName": "UpdateLoginProfile",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"},
        "requestParameters": {"userName": "alice", "passwordResetRequired": false}
    });
    assert_eq!(
        matched_files(&rules, &record),
        ["aws_update_login_profile.yml"]
    );
}

/// The filter looks for the literal text `responseElements.accessKey.userName`,
/// so a user creating their own key still matches.
#[test]
fn backdoor_keys_filter_never_applies() {
    let rules = builtin();
    let record = json!({
        "eventSource": "iam.amazonaws.com",
        "eventName": "CreateAccessKey",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
        "requestParameters": {"userName": "alice"},
        "responseElements": {"accessKey": {"userName": "alice", "status": "Active", "accessKeyId": "AKIAEXAMPLE"}}
    });
    assert_eq!(
        matched_files(&rules, &record),
        ["aws_iam_backdoor_users_keys.yml"]
    );
}

/// The selection asks for a `status` field CloudTrail records do not have.
#[test]
fn delete_saml_provider_never_matches_a_cloudtrail_record() {
    let rules = builtin();
    let record = json!({
        "eventSource": "iam.amazonaws.com",
        "eventName": "DeleteSAMLProvider",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
        "requestParameters": {"sAMLProviderArn": "arn:aws:iam::111122223333:saml-provider/corp"},
        "responseElements": null
    });
    assert_eq!(matched_files(&rules, &record), Vec::<String>::new());
    let mut with_status = record.clone();
    with_status["status"] = json!("success");
    assert_eq!(
        matched_files(&rules, &with_status),
        ["aws_delete_saml_provider.yml"]
    );
}

/// Every tuning entry names a bundled file and the id of the rule in it,
/// and says why.
#[test]
fn the_tuning_names_bundled_rules() {
    let tuning = builtin_tuning().expect("the tuning loads");
    let untuned = untuned();
    for entry in tuning.values() {
        let rule = untuned
            .rules()
            .iter()
            .find(|r| r.id() == entry.id)
            .unwrap_or_else(|| panic!("tuning of unknown rule {}", entry.id));
        assert_eq!(rule.file_name(), entry.file, "{}", entry.id);
    }
    let tuned = builtin();
    let levels = |file: &str| {
        (
            rule(&untuned, file).severity(),
            rule(&tuned, file).severity(),
        )
    };
    assert_eq!(
        levels("aws_cloudtrail_new_route_added.yml"),
        (Severity::Medium, Severity::Informational)
    );
    let failed_login = rule(
        &tuned,
        "aws_cloudtrail_console_login_failed_authentication.yml",
    );
    assert_eq!(failed_login.precision().failures, Failures::Signal);
}

/// A user's own copy of a bundled rule runs as SigmaHQ wrote it: the
/// rule the tuning turns off matches what it always matched.
#[test]
fn a_users_copy_of_a_rule_is_not_tuned() {
    let text = BUILTIN_FILES
        .iter()
        .find(|(name, _)| *name == ASSUME_ROLE_MISUSE)
        .map(|(_, text)| *text)
        .expect("bundled");
    let (rules, skipped) = SigmaRules::load(&[("my-rules/aws_sts_assumerole_misuse.yml", text)]);
    assert!(skipped.is_empty(), "{skipped:?}");
    let mut got = BTreeSet::new();
    for record in sample_records() {
        if rules.matching(&record).next().is_some() {
            let id = record["eventID"].as_str().expect("eventID").to_owned();
            got.insert((ASSUME_ROLE_MISUSE.to_owned(), id));
        }
    }
    let expected: BTreeSet<(String, String)> = OFF_BY_DEFAULT_MATCHES
        .iter()
        .map(|&(f, id)| (f.to_owned(), id.to_owned()))
        .collect();
    assert_eq!(got, expected);
}
