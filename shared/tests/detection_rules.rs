//! trailguard's curated detection rules (`rules/detections.yaml`), checked
//! three ways:
//!
//! - the rule file is well formed: unique ids, one-line titles, a known
//!   severity, `scheme:id` references including a MITRE ATT&CK technique, a
//!   pattern that parses, and no unknown keys;
//! - every case of `rules/tests/detections.yaml` gives its expected result,
//!   and every rule has at least one matching and one near-miss case;
//! - over the CloudTrail records of the Stratus Red Team detonations in
//!   `tests/data/invictus-stratus/`, the rules raise exactly the findings
//!   listed in [`EXPECTED_ON_SAMPLES`].

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use serde::Deserialize;
use serde_json::Value;
use trailguard::rules::filter_pattern::FilterPattern;

/// `rules/detections.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    version: u32,
    rules: Vec<Rule>,
}

/// One rule, mirroring the rule-file format field for field; unknown keys are
/// errors there, so they are here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    id: String,
    title: String,
    description: String,
    severity: String,
    references: Vec<String>,
    pattern: FilterPattern,
    #[serde(default = "default_finding")]
    finding: bool,
    metric: Option<Value>,
}

fn default_finding() -> bool {
    true
}

/// `rules/tests/detections.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    version: u32,
    tests: Vec<Case>,
}

/// One test case: an event and whether the named rule must match it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    rule: String,
    name: String,
    expect: Expect,
    event: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Expect {
    Match,
    NoMatch,
}

const SEVERITIES: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

fn crate_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_yaml<T: for<'de> Deserialize<'de>>(relative: &str) -> T {
    let path = crate_path(relative);
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn rules() -> Vec<Rule> {
    let file: RuleFile = read_yaml("rules/detections.yaml");
    assert_eq!(file.version, 1, "rules/detections.yaml version");
    file.rules
}

fn cases() -> Vec<Case> {
    let file: CaseFile = read_yaml("rules/tests/detections.yaml");
    assert_eq!(file.version, 1, "rules/tests/detections.yaml version");
    file.tests
}

/// `attack:T1234` or `attack:T1234.567`.
fn is_attack_technique(reference: &str) -> bool {
    let Some(id) = reference.strip_prefix("attack:T") else {
        return false;
    };
    let (technique, sub) = match id.split_once('.') {
        Some((technique, sub)) => (technique, Some(sub)),
        None => (id, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    digits(technique, 4) && sub.is_none_or(|sub| digits(sub, 3))
}

/// What is wrong with one rule's metadata, if anything.
fn metadata_problems(rule: &Rule) -> Vec<String> {
    let mut problems = Vec::new();
    let id_ok = !rule.id.is_empty()
        && rule
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'));
    if !id_ok {
        problems.push("id must be lowercase letters, digits, '-', '_' or '.'".to_owned());
    }
    if rule.title.trim().is_empty() || rule.title.contains('\n') {
        problems.push(format!(
            "title must be one non-empty line: {:?}",
            rule.title
        ));
    }
    if rule.description.trim().is_empty() {
        problems.push("description is empty".to_owned());
    }
    if !SEVERITIES.contains(&rule.severity.as_str()) {
        problems.push(format!(
            "severity {:?} is not one of {SEVERITIES:?}",
            rule.severity
        ));
    }
    for reference in &rule.references {
        let well_formed = reference.split_once(':').is_some_and(|(scheme, id)| {
            !scheme.is_empty()
                && scheme.chars().all(|c| c.is_ascii_lowercase())
                && !id.is_empty()
                && !id.contains(char::is_whitespace)
        });
        if !well_formed {
            problems.push(format!("reference {reference:?} is not `scheme:id`"));
        }
        if reference.starts_with("attack:") && !is_attack_technique(reference) {
            problems.push(format!("{reference:?} is not an ATT&CK technique id"));
        }
    }
    if !rule.references.iter().any(|r| is_attack_technique(r)) {
        problems.push("no attack:Txxxx(.yyy) reference".to_owned());
    }
    if !rule.finding {
        problems.push("a detection rule must raise a finding".to_owned());
    }
    if rule.metric.is_some() {
        problems.push("a detection rule has no metric".to_owned());
    }
    problems
}

#[test]
fn rule_file_is_well_formed() {
    let rules = rules();
    assert!(!rules.is_empty(), "no rules");
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for rule in &rules {
        if !seen.insert(rule.id.as_str()) {
            problems.push(format!("{}: duplicate id", rule.id));
        }
        problems.extend(
            metadata_problems(rule)
                .into_iter()
                .map(|problem| format!("{}: {problem}", rule.id)),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn metadata_checks_catch_bad_rules() {
    let good = Rule {
        id: "x.y_z-1".to_owned(),
        title: "Title".to_owned(),
        description: "Why.".to_owned(),
        severity: "low".to_owned(),
        references: vec!["attack:T1098.001".to_owned(), "stratus:aws.a-b".to_owned()],
        pattern: FilterPattern::parse("{ $.a = 1 }").unwrap_or_else(|err| panic!("pattern: {err}")),
        finding: true,
        metric: None,
    };
    assert_eq!(metadata_problems(&good), Vec::<String>::new());

    let bad = Rule {
        id: "Upper Case".to_owned(),
        title: "two\nlines".to_owned(),
        description: " ".to_owned(),
        severity: "severe".to_owned(),
        references: vec!["attack:T15620".to_owned(), "no scheme".to_owned()],
        finding: false,
        metric: Some(Value::Null),
        ..good
    };
    // id, title, description, severity, each bad reference, no technique,
    // finding and metric.
    assert_eq!(
        metadata_problems(&bad).len(),
        9,
        "{:?}",
        metadata_problems(&bad)
    );
}

#[test]
fn attack_technique_ids_are_recognised() {
    for good in ["attack:T1078", "attack:T1562.008"] {
        assert!(is_attack_technique(good), "{good}");
    }
    for bad in [
        "attack:T107",
        "attack:T1562.08",
        "attack:1078",
        "attack:T1078.",
        "mitre:T1078",
        "attack:TA0001",
    ] {
        assert!(!is_attack_technique(bad), "{bad}");
    }
}

#[test]
fn every_rule_has_a_match_and_a_near_miss_case() {
    let rules = rules();
    let cases = cases();
    let mut expectations: BTreeMap<&str, BTreeSet<Expect>> = rules
        .iter()
        .map(|rule| (rule.id.as_str(), BTreeSet::new()))
        .collect();
    let mut problems = Vec::new();
    let mut names = BTreeSet::new();
    for case in &cases {
        match expectations.get_mut(case.rule.as_str()) {
            Some(kinds) => {
                kinds.insert(case.expect);
            }
            None => problems.push(format!(
                "case {:?} names unknown rule {}",
                case.name, case.rule
            )),
        }
        if !names.insert((case.rule.as_str(), case.name.as_str())) {
            problems.push(format!(
                "{}: duplicate case name {:?}",
                case.rule, case.name
            ));
        }
    }
    for (rule, kinds) in &expectations {
        for kind in [Expect::Match, Expect::NoMatch] {
            if !kinds.contains(&kind) {
                problems.push(format!("{rule}: no {kind:?} case"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_case_gives_its_expected_result() {
    let rules = rules();
    let by_id: BTreeMap<&str, &Rule> = rules.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut failures = Vec::new();
    for case in cases() {
        let Some(rule) = by_id.get(case.rule.as_str()) else {
            failures.push(format!(
                "{}: unknown rule for case {:?}",
                case.rule, case.name
            ));
            continue;
        };
        let matched = rule.pattern.matches(&case.event);
        if matched != (case.expect == Expect::Match) {
            failures.push(format!(
                "{} / {:?}: expected {:?}, got {}\n{}",
                rule.id,
                case.name,
                case.expect,
                if matched { "a match" } else { "no match" },
                rule.pattern.explain(&case.event)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every CloudTrail record of the sample log files.
fn sample_records() -> Vec<Value> {
    let dir = crate_path("tests/data/invictus-stratus");
    let mut paths: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot list {}: {err}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".json.gz"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 12, "sample log files in {}", dir.display());
    paths
        .iter()
        .flat_map(|path| {
            let file = File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            let mut log: Value = serde_json::from_reader(GzDecoder::new(file))
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()));
            match log.get_mut("Records").map(Value::take) {
                Some(Value::Array(records)) => records,
                _ => panic!("{}: no Records array", path.display()),
            }
        })
        .collect()
}

/// The findings the rules raise on the samples, as (rule id, eventIDs),
/// grouped by the Stratus Red Team technique whose run produced the records.
/// A run includes its Terraform warm-up, whose user agent carries the same
/// `stratus-red-team_<run id>` suffix as the detonation's. The samples come
/// from one account, so "own account" in the comments is 123837392027.
const EXPECTED_ON_SAMPLES: &[(&str, &[&str])] = &[
    // aws.defense-evasion.cloudtrail-stop: three runs, each calling StopLogging on a
    // trail already torn down (TrailNotFoundException); attempts count.
    (
        "cloudtrail-logging-stopped",
        &[
            "9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
            "b4610d54-efe9-40b0-b9f9-71156081d520",
            "f6e10706-705c-47f2-94d4-112a9527ab8b",
        ],
    ),
    // aws.defense-evasion.cloudtrail-event-selectors: PutEventSelectors turning off
    // management events on the trail made in the warm-up.
    (
        "cloudtrail-trail-modified",
        &["076e96d5-2983-473f-920a-2fc2d7e02777"],
    ),
    // aws.defense-evasion.vpc-remove-flow-logs: DeleteFlowLogs on the warm-up's flow
    // log. (The warm-up's role for the flow-logs service does not match.)
    (
        "vpc-flow-logs-deleted",
        &["de58d903-38d7-4f30-a84b-b79d858e8376"],
    ),
    // aws.credential-access.ec2-get-password-data, warm-up: Terraform creates the
    // role to detonate from, trusting the own account ("AWS": "123837392027"),
    // a same-account trust the rule cannot tell from an external one.
    (
        "iam-role-trust-policy-opened",
        &["ff709962-49b6-494d-8198-cdf0f7e8e666"],
    ),
    // aws.credential-access.ec2-get-password-data, detonation: 29 GetPasswordData
    // calls from a role without the permission, all denied.
    (
        "ec2-password-data-retrieved",
        &[
            "00d955a7-4797-46c4-ba50-ed0c81867020",
            "2ec37c12-94b8-4df5-813b-98bca0fb0edb",
            "97178d6a-6cf7-49f9-b116-a189a06c3295",
            "ae9a706f-d8a4-4e50-9043-22b2a03f481c",
            "00d3d82b-5ed2-4044-9eeb-172cbb1a0e15",
            "08311ac7-7ffe-4fd5-8f76-d54260acfe8a",
            "17bcb09d-cf97-4c01-b74b-b7374fb0fc39",
            "7a6c0f34-0aab-489e-8904-a9967b00bb57",
            "dced01c3-013d-4908-b78a-5f67134f5930",
            "ecaf7f4b-a4b2-40fb-a5dd-328ade49c78e",
            "edd129b5-0aa6-4425-a055-8d9056d3e4da",
            "efc266f5-dc3c-4472-b055-8eeab5a620a7",
            "fbd91225-39aa-4c00-822c-9f0b96e7758f",
            "048b9b80-8889-4b45-916e-7d13b423db78",
            "1cf7422a-d20c-43ec-827f-4a5db6993bfa",
            "21332146-2cf3-4379-9557-361c8fa0d0a0",
            "5449095d-1ed7-4cf8-8805-6143fb983a80",
            "6c7bb2b3-9372-4cc8-b78e-f0d2ec268672",
            "a4e6ee98-8c78-4de3-8b5b-68f959b40fec",
            "b09f3d78-e57c-41fc-89fc-67d7d51c1834",
            "cff3355c-4d4d-44de-b7ad-a5bfb7ba901b",
            "e6341c58-9378-4445-9f85-4023c0bd9990",
            "03fefdcd-4329-43e2-bf44-c74bb1826d58",
            "7ca643a5-df2c-4a60-b198-7eaf448e8da0",
            "cfdb926f-8f87-44ea-8b73-125efb2fa78a",
            "d101d2ec-d5f4-4407-986b-79c6fa427540",
            "d43a2b5b-ba1d-4219-be2f-52a3635839f9",
            "ef910749-ef9a-42f3-adfd-347c625f7e1d",
            "fe3a4c29-c070-487e-a15e-b9b6a853e7b4",
        ],
    ),
    // aws.discovery.ec2-download-user-data: 15 DescribeInstanceAttribute userData
    // calls on made-up instance ids, all denied.
    (
        "ec2-user-data-read",
        &[
            "91bc9d28-e014-49d4-ac84-bcee8d219c72",
            "947bc2bc-d5d6-46c8-a1a3-ca190fa1f17a",
            "b1866d2a-a46b-4d8e-b3a9-9ccc330f64af",
            "b6897c0f-d765-4695-8884-6d6ed7a63722",
            "c6cc6589-4aa3-45e3-a646-6a0e3dbc05b6",
            "f4574dc5-9747-435c-bb53-22f2454be3b7",
            "1ce351c0-4de6-4022-b29c-27280f27e85b",
            "339403fe-d01e-4fb2-ab9a-ffa78e576876",
            "67727e18-a012-4d75-bedd-a2ef963b43c2",
            "bb66d584-375e-41a5-aa57-9c87161b5eb5",
            "becab99b-3ae7-4c7a-b923-d2c407b85ddd",
            "156fe62a-498c-4a54-b91f-5a7bc51b470e",
            "9f225158-b341-4ed2-bc69-18f8274d1f1f",
            "ceb35bc6-147d-4753-8901-56b1d3325cf0",
            "fb5e67f9-9a17-4efa-900f-21ecd1ca744b",
        ],
    ),
    // aws.credential-access.ec2-steal-instance-credentials, warm-up: Terraform
    // reading back the user data of the instance it launched.
    (
        "ec2-user-data-read",
        &["8d919374-a95d-482e-9d3d-881be4bc638c"],
    ),
    // aws.credential-access.ec2-steal-instance-credentials, detonation: SendCommand
    // running a shell script on that instance.
    (
        "ssm-command-sent",
        &["99b46479-d5c7-4384-b342-006ece8c36a0"],
    ),
    // aws.credential-access.secretsmanager-retrieve-secrets: Terraform reading
    // back each of the 20 secrets it creates, then the detonation reading all
    // 20 with GetSecretValue.
    (
        "secretsmanager-secret-retrieved",
        &[
            "04e99aef-c0da-410b-91d5-4ff900bdc32e",
            "0bdf2b9c-2cf9-40dd-a88b-0148e08e5a75",
            "17c493f4-57b0-4b55-9938-a751b7b6e755",
            "1efcb002-cee7-4e37-9e66-356e14afe36a",
            "2b460bcc-34b1-4fe0-9273-ff57ef3caa2d",
            "2b4d4794-d4e8-44e9-8dcd-a1806015a8d5",
            "3436ce9f-1ab8-4df5-b49c-11b7d659f4ef",
            "5e2ae5c5-ac04-419b-bb18-693f6f0386a1",
            "6412e41a-5796-4052-a4ac-ea9ea550af4c",
            "6ca65bd0-8903-4cf9-9d18-7c25bfa6b13f",
            "79bba53b-7483-4ff7-84eb-fb59085e0b02",
            "841e07b3-b243-4723-a08a-2a51e00a423d",
            "8599c507-ac70-4fca-ae78-58ebbae19220",
            "85e95437-4c87-4d2a-849c-2f782e8af648",
            "8e46a8e8-9175-42a0-8db5-2be95facf192",
            "9150114f-a5ec-4324-a169-63a28a4dfdb0",
            "a33475af-85fb-42f9-8d89-4a797454f8f6",
            "a8b02471-826c-4d94-a890-b25559bff3b8",
            "bc357ffe-2ab5-40c8-a133-17196efdf301",
            "c0a24f36-da17-4679-91cb-d5fb1f3a1f82",
            "f4108991-868e-42a0-b6d5-175ea45e64f4",
            "08679fd1-5117-4df5-ac1f-b9e4eecb882e",
            "401a892a-c8ab-4ee4-b409-23175ce72d52",
            "4b173618-da95-48a9-b2dd-67a5a881bf4f",
            "689e7fcf-a97f-4dc9-affc-95fba9e640e0",
            "9a88ba52-bdb0-4ef4-8e5d-91fdae91da26",
            "a63ddf5b-e32d-4b95-8109-16b496ae64cf",
            "ce2e992f-5103-41de-8768-fba65aa3aa60",
            "f00bf4c2-e724-45ef-a004-fc7bc3b00a29",
            "ff6dd695-ae1a-4506-b2da-0d90ec179e92",
            "31bef8eb-8f2c-470f-93f4-1a3260cbf9da",
            "39e25ce7-7c4c-442a-8a07-e52a0d5522a6",
            "5b0d6131-d490-458f-be9c-8175fd525d99",
            "763be5bd-39d6-42fe-ac9b-42992fed40e7",
            "8d2be0f3-1ff7-49e9-a947-6cd786a477ab",
            "c94bd4b3-c126-4dc0-8feb-3832cc7f3054",
            "cff19e6e-21a5-4d3e-aab1-78ff1056d3c6",
            "d173a29b-ba0d-48d8-b723-5c2a806981af",
            "7152fe15-149b-4cee-871b-7ef857d376c4",
            "90654a3c-92c3-4e33-bf64-31dc78ab964d",
        ],
    ),
    // aws.credential-access.ssm-retrieve-securestring-parameters: Terraform
    // reading its SecureString parameters back with decryption (26 calls in
    // these files), then the detonation decrypting them ten at a time with
    // GetParameters (4 calls).
    (
        "ssm-parameter-decrypted",
        &[
            "25812ee9-136d-47dc-8848-22b9ca8fd5b7",
            "67abd71f-fa4a-4de8-b730-8fe404fb71ed",
            "736cbe1d-d978-4599-ba4c-a4d682b908b8",
            "c8c4cf22-3bc8-42da-8b48-73633d713062",
            "eae63ce9-a909-4ddf-aac0-35ed1e65bb54",
            "f219fdf3-ffa1-40b8-95da-31f52eb3af1f",
            "88f7b7a5-96e8-449f-ad08-5268a567d26d",
            "96553764-7e62-4af2-ad5b-7c2324cf5bd3",
            "9b1ed87f-67db-4e4b-aeec-2a2f74e43249",
            "c5f43549-dec5-4ac2-b4be-73f92446035f",
            "f9c88549-650e-4a61-8de7-303c7fad0a24",
            "f24ace9f-b2ee-44d2-a5ef-5c98ee81c327",
            "8da61b75-49b2-4fb1-b88c-9384c1c32371",
            "7768b8c9-525f-4402-849c-97039b554c5a",
            "79968052-f5c4-4b3e-bffa-d5b7198b8399",
            "8e7e06bf-8c6c-4736-9f6e-84dc1dffdd3a",
            "ed562375-3703-4d89-ba15-cade9339de0e",
            "6212ab4e-2c43-41ed-9761-d05650beb6f2",
            "a55aa582-781c-4c3b-8aee-5448ef3b92d0",
            "3bd9831a-991f-4666-a550-1840a71ac3b5",
            "665bb28e-d5f0-4406-a76e-e32bee93a29a",
            "48835def-f657-47e3-a2e2-3a6917df2ae4",
            "631653e4-36fa-4b78-9117-0116bfa0ee96",
            "6b8bb234-6b99-4e5f-8ad4-1023db744347",
            "6c7faaef-59d9-4521-a4a6-3239b180018d",
            "de5e22ab-a624-4f34-8c49-9efc03fbf929",
            "11badb48-54ce-433e-bef6-40e3a2cf02fe",
            "928546c4-79d3-4f9e-aec5-319ef6685cde",
            "7622e55c-d219-46c4-b344-a6febed98511",
            "bb3871a9-5a79-4424-bccc-c98472df7853",
        ],
    ),
];

#[test]
fn stratus_samples_raise_exactly_the_expected_findings() {
    let rules = rules();
    let records = sample_records();
    let mut actual = BTreeSet::new();
    for record in &records {
        let Some(event_id) = record.get("eventID").and_then(Value::as_str) else {
            panic!("record without eventID: {record}");
        };
        for rule in &rules {
            if rule.pattern.matches(record) {
                actual.insert((rule.id.clone(), event_id.to_owned()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> = EXPECTED_ON_SAMPLES
        .iter()
        .flat_map(|(rule, ids)| ids.iter().map(|id| (rule.to_string(), id.to_string())))
        .collect();
    let unexpected: Vec<_> = actual.difference(&expected).collect();
    let missing: Vec<_> = expected.difference(&actual).collect();
    assert!(
        unexpected.is_empty() && missing.is_empty(),
        "over {} records:\nunexpected findings: {unexpected:#?}\nmissing findings: {missing:#?}",
        records.len()
    );
}
