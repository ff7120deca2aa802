//! The SigmaHQ AWS CloudTrail rules through `trailguard::sigma`: what loads,
//! what the Stratus Red Team samples match, that the index changes nothing,
//! and the rules that need the whole-object text view or do not do what their
//! text says.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde_json::{Value, json};
use trailguard::sigma::{SigmaRule, SigmaRules, SkipReason, SkippedRule};

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
    assert_eq!(skipped, Vec::<SkippedRule>::new());
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
    assert_eq!(skipped, Vec::<SkippedRule>::new());
    assert_eq!(rules.len(), 57);
    assert_eq!(rules.summary(&skipped), "sigma: 57 of 57 rules loaded");
    let ids: BTreeSet<&str> = rules.rules().iter().map(SigmaRule::id).collect();
    assert_eq!(ids.len(), 57, "ids are unique");
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
    assert_eq!(stop.severity().as_str(), "medium");
    assert_eq!(
        stop.references(),
        ["attack-tactic:defense-impairment", "attack:T1685.002"]
    );
    assert_eq!(stop.author(), Some("vitaliy0x1"));
    assert!(!stop.description().is_empty());
    assert!(!stop.falsepositives().is_empty());
}

/// The SigmaHQ rules left out of the built-in set (see
/// `shared/rules/sigma/NOTICE.md`) are each skipped, with the reason the
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

/// Every `(rule file, eventID)` match in the samples. The samples are
/// Invictus IR's recording of Stratus Red Team detonations (plus the
/// Terraform warm-up, AWS services and console use around them); each group
/// says which activity the records are. Techniques in the samples that no
/// SigmaHQ rule covers include `cloudtrail-event-selectors`
/// (PutEventSelectors), `secretsmanager-retrieve-secrets` (GetSecretValue)
/// and `ssm-retrieve-securestring-parameters` (GetParameters).
const SAMPLE_MATCHES: &[(&str, &str)] = &[
    // aws.defense-evasion.cloudtrail-stop: three StopLogging calls on
    // `stratus-red-team-ct-stop-trail-*`. All failed (TrailNotFoundException);
    // the rule does not look at errorCode.
    (
        "aws_cloudtrail_disable_logging.yml",
        "9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        "b4610d54-efe9-40b0-b9f9-71156081d520",
    ),
    (
        "aws_cloudtrail_disable_logging.yml",
        "f6e10706-705c-47f2-94d4-112a9527ab8b",
    ),
    // aws.defense-evasion.vpc-remove-flow-logs: DeleteFlowLogs.
    (
        "aws_cloudtrail_vpc_flow_logs_deleted.yml",
        "de58d903-38d7-4f30-a84b-b79d858e8376",
    ),
    // aws.credential-access.ec2-steal-instance-credentials, warm-up: Terraform
    // builds the instance's VPC, with a default route to an internet gateway
    // and one to a NAT gateway.
    (
        "aws_cloudtrail_new_route_added.yml",
        "6445452c-c6df-4ebf-a1ed-2890f5aa7107",
    ),
    (
        "aws_cloudtrail_new_route_added.yml",
        "946cef78-6825-4fe5-bae9-17d27b61dd21",
    ),
    // ... detonation: SSM SendCommand (AWS-RunShellScript) to the instance ...
    (
        "aws_cloudtrail_ssm_malicious_usage.yml",
        "99b46479-d5c7-4384-b342-006ece8c36a0",
    ),
    // ... the stolen instance-role credentials used from the attacker's
    // address (GetCallerIdentity, DescribeInstances) ...
    (
        "aws_sts_assumerole_misuse.yml",
        "bf68f8c0-590b-4740-ac89-aad0ed5dfe4f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d3d5fd99-faa9-4959-a464-56fba613cc2e",
    ),
    // ... and the SSM agent on that instance, calling with the same role.
    (
        "aws_sts_assumerole_misuse.yml",
        "ea812b7e-ebeb-4950-8dc8-a4a9af56a8c6",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6d7a57f7-7f39-49a4-85f3-6534e2117332",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "46041132-1dd7-49f5-88af-4b3f3521f861",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7e486988-6d22-4c5d-9b55-eba68b0f23d9",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cee5b78b-b786-4ae9-936c-d169b0c0b61d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "e9694c6d-14e8-4288-8125-9694c70d22a0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "696b9be3-18d2-49ef-844f-3e813af3033d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6bf8950b-f1ed-439d-8fc8-211645bfbe0f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "c26863eb-33e7-4783-8a8d-40a0eddb4cbf",
    ),
    // Amazon Inspector's service-linked role describing the new instance
    // (AWS activity, not an attack; the rule matches any assumed role).
    (
        "aws_sts_assumerole_misuse.yml",
        "3bcc9d61-5936-429a-8b49-d5cb8e7b0e06",
    ),
    // aws.credential-access.ec2-get-password-data: 29 GetPasswordData calls
    // with `stratus-red-team-ec2-get-password-data-role`.
    (
        "aws_sts_assumerole_misuse.yml",
        "00d3d82b-5ed2-4044-9eeb-172cbb1a0e15",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "00d955a7-4797-46c4-ba50-ed0c81867020",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "03fefdcd-4329-43e2-bf44-c74bb1826d58",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "048b9b80-8889-4b45-916e-7d13b423db78",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "08311ac7-7ffe-4fd5-8f76-d54260acfe8a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "17bcb09d-cf97-4c01-b74b-b7374fb0fc39",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "1cf7422a-d20c-43ec-827f-4a5db6993bfa",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "21332146-2cf3-4379-9557-361c8fa0d0a0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "2ec37c12-94b8-4df5-813b-98bca0fb0edb",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "5449095d-1ed7-4cf8-8805-6143fb983a80",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "6c7bb2b3-9372-4cc8-b78e-f0d2ec268672",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7a6c0f34-0aab-489e-8904-a9967b00bb57",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "7ca643a5-df2c-4a60-b198-7eaf448e8da0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "97178d6a-6cf7-49f9-b116-a189a06c3295",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "a4e6ee98-8c78-4de3-8b5b-68f959b40fec",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ae9a706f-d8a4-4e50-9043-22b2a03f481c",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b09f3d78-e57c-41fc-89fc-67d7d51c1834",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cfdb926f-8f87-44ea-8b73-125efb2fa78a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "cff3355c-4d4d-44de-b7ad-a5bfb7ba901b",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d101d2ec-d5f4-4407-986b-79c6fa427540",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "d43a2b5b-ba1d-4219-be2f-52a3635839f9",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "dced01c3-013d-4908-b78a-5f67134f5930",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "e6341c58-9378-4445-9f85-4023c0bd9990",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ecaf7f4b-a4b2-40fb-a5dd-328ade49c78e",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "edd129b5-0aa6-4425-a055-8d9056d3e4da",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ef910749-ef9a-42f3-adfd-347c625f7e1d",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "efc266f5-dc3c-4472-b055-8eeab5a620a7",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fbd91225-39aa-4c00-822c-9f0b96e7758f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fe3a4c29-c070-487e-a15e-b9b6a853e7b4",
    ),
    // aws.discovery.ec2-download-user-data: 15 DescribeInstanceAttribute
    // (userData) calls with `stratus-red-team-get-usr-data-role`.
    (
        "aws_sts_assumerole_misuse.yml",
        "156fe62a-498c-4a54-b91f-5a7bc51b470e",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "1ce351c0-4de6-4022-b29c-27280f27e85b",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "339403fe-d01e-4fb2-ab9a-ffa78e576876",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "67727e18-a012-4d75-bedd-a2ef963b43c2",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "91bc9d28-e014-49d4-ac84-bcee8d219c72",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "947bc2bc-d5d6-46c8-a1a3-ca190fa1f17a",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "9f225158-b341-4ed2-bc69-18f8274d1f1f",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b1866d2a-a46b-4d8e-b3a9-9ccc330f64af",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "b6897c0f-d765-4695-8884-6d6ed7a63722",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "bb66d584-375e-41a5-aa57-9c87161b5eb5",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "becab99b-3ae7-4c7a-b923-d2c407b85ddd",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "c6cc6589-4aa3-45e3-a646-6a0e3dbc05b6",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "ceb35bc6-147d-4753-8901-56b1d3325cf0",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "f4574dc5-9747-435c-bb53-22f2454be3b7",
    ),
    (
        "aws_sts_assumerole_misuse.yml",
        "fb5e67f9-9a17-4efa-900f-21ecd1ca744b",
    ),
    // Not Stratus: an IAM user listing buckets in the S3 console.
    (
        "aws_enum_buckets.yml",
        "44a42357-fa38-4c9c-a58c-709254a857f7",
    ),
];

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
