//! Filter patterns checked against the AWS documentation.
//!
//! The first modules hold test vectors quoted from the CloudWatch Logs
//! guide: each example event and pattern, with exactly the match or
//! no-match the page states. trailguard's own edge cases live in the unit
//! tests of `rules::filter_pattern`.
//!
//! The last module runs every CIS monitoring pattern of
//! `tests/data/cis_cloudwatch_metric_filters.json` (quoted from the AWS
//! Security Hub guide, see `tests/data/NOTICE-cis.md`) verbatim against one
//! matching and one non-matching CloudTrail event.

use serde_json::{Value, json};
use trailguard_engine::rules::filter_pattern::FilterPattern;

fn pattern(src: &str) -> FilterPattern {
    FilterPattern::parse(src).unwrap_or_else(|err| panic!("{src:?} does not parse: {err}"))
}

fn assert_match(src: &str, event: &Value) {
    assert!(pattern(src).matches(event), "{src} should match {event}");
}

fn assert_no_match(src: &str, event: &Value) {
    assert!(
        !pattern(src).matches(event),
        "{src} should not match {event}"
    );
}

/// "Filter pattern syntax for metric filters, subscription filters, filter
/// log events, and Live Tail", section "Using filter patterns to match terms
/// in JSON log events":
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
mod filter_pattern_syntax_page {
    use super::*;

    fn json_log_event() -> Value {
        json!({
            "eventType": "UpdateTrail",
            "sourceIPAddress": "111.111.111.111",
            "arrayKey": ["value", "another value"],
            "objectList": [
                {"name": "a", "id": 1},
                {"name": "b", "id": 2}
            ],
            "SomeObject": null,
            "cluster.name": "c"
        })
    }

    fn json_object() -> Value {
        json!({
            "user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [
                {"id": 2, "email": "John.Doe@example.com"},
                {"id": 3, "email": "Jane.Doe@example.com"}
            ],
            "actions": ["GET", "PUT", "DELETE"],
            "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
        })
    }

    // The page's regex examples (`%Trail%`, `%val.{2}%`, `$.* = %…%`) are
    // left out: trailguard does not support regular-expression values.
    #[test]
    fn examples_that_match_the_json_log_event() {
        let event = json_log_event();
        // "matches the string "UpdateTrail" in the property "eventType""
        assert_match(r#"{ $.eventType = "UpdateTrail" }"#, &event);
        // "matches the property "sourceIPAddress" because it doesn't contain
        // a number with the prefix "123.123.""
        assert_match("{ $.sourceIPAddress != 123.123.* }", &event);
        // "matches the element "value" in the array "arrayKey""
        assert_match(r#"{ $.arrayKey[0] = "value" }"#, &event);
        // "matches a JSON property with a period (.) in the key"
        assert_match(r#"{ $.['cluster.name'] = "c" }"#, &event);
        // "returns JSON logs where the value of SomeObject is NULL"
        assert_match("{ $.SomeObject IS NULL }", &event);
        // "return JSON logs that don't contain the field SomeOtherObject"
        assert_match("{ $.SomeOtherObject NOT EXISTS }", &event);
    }

    #[test]
    fn compound_expressions_against_the_json_object() {
        let event = json_object();
        // "Expression that matches using AND (&&)"
        assert_match(
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            &event,
        );
        // "Expression that matches using OR (||)"
        assert_match(
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
            &event,
        );
        // "Expression that doesn't match using AND (&&)"
        assert_no_match(
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
            &event,
        );
        // "Expression that doesn't match using OR (||)"
        assert_no_match(
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            &event,
        );
    }

    #[test]
    fn numeric_syntax_examples_parse() {
        for src in [
            "{ $.bandwidth > 75 }",
            "{ $.latency < 50 }",
            "{ $.refreshRate >= 60 }",
            "{ $.responseTime <= 5 }",
            "{ $.errorCode = 400}",
            "{ $.errorCode != 500 }",
            "{ $.number[0] = 1e+3 }",
            "{ $.number[0] != 1e-3 }",
        ] {
            pattern(src);
        }
    }
}

/// "Using filter patterns to match terms in JSON log events":
/// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/matching-terms-json-log-events.html>
mod json_log_events_page {
    use super::*;

    // "The variables IS NOT and EXISTS currently aren't supported."
    #[test]
    fn is_not_and_exists_are_not_supported() {
        for src in [
            "{ $.SomeObject IS NOT NULL }",
            "{ $.SomeOtherObject EXISTS }",
        ] {
            assert!(
                FilterPattern::parse(src).is_err(),
                "{src} should be rejected"
            );
        }
    }
}

/// The earlier "Filter and Pattern Syntax" page, sections "Matching Terms in
/// JSON Log Events" and "Publishing Numerical Values Found in Log Entries",
/// kept in <https://github.com/awsdocs/amazon-cloudwatch-logs-user-guide>
/// as `doc_source/FilterAndPatternSyntax.md`.
mod earlier_filter_and_pattern_syntax_page {
    use super::*;

    fn json_example() -> Value {
        json!({
            "eventType": "UpdateTrail",
            "sourceIPAddress": "111.111.111.111",
            "arrayKey": ["value", "another value"],
            "objectList": [
                {"name": "a", "id": 1},
                {"name": "b", "id": 2}
            ],
            "SomeObject": null,
            "ThisFlag": true
        })
    }

    // "The following filters would match:"
    #[test]
    fn filters_that_would_match_the_json_example() {
        let event = json_example();
        for src in [
            r#"{ $.eventType = "UpdateTrail" }"#,
            "{ $.sourceIPAddress != 123.123.* }",
            r#"{ $.arrayKey[0] = "value" }"#,
            "{ $.objectList[1].id = 2 }",
            "{ $.SomeObject IS NULL }",
            "{ $.SomeOtherObject NOT EXISTS }",
            "{ $.ThisFlag IS TRUE }",
        ] {
            assert_match(src, &event);
        }
    }

    #[test]
    fn compound_condition_examples() {
        let event = json!({
            "user": {"id": 1, "email": "John.Stiles@example.com"},
            "users": [
                {"id": 2, "email": "John.Doe@example.com"},
                {"id": 3, "email": "Jane.Doe@example.com"}
            ],
            "actions": ["GET", "PUT", "DELETE"],
            "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]]
        });
        // "Matches the JSON above."
        assert_match(
            r#"{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }"#,
            &event,
        );
        // "Doesn't match the JSON above."
        assert_no_match(
            r#"{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }"#,
            &event,
        );
        // "Matches the JSON above."
        assert_match(
            r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }"#,
            &event,
        );
        // "Doesn't match the JSON above."
        assert_no_match(
            r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }"#,
            &event,
        );
    }

    // "both {$.users = 1} and {$.users != 1} will fail to match a log event
    // where users is an array"
    #[test]
    fn selector_on_an_array_matches_neither_equal_nor_not_equal() {
        let event = json!({"users": [1, 2, 3]});
        assert_no_match("{$.users = 1}", &event);
        assert_no_match("{$.users != 1}", &event);
    }

    // "{$.foo = bar} matches pattern 1, {$.foo = baz } matches pattern 2, and
    // {$.foo = bar || $.foo = baz } matches pattern 1 and 2"
    #[test]
    fn or_pattern_matching_in_json_filters() {
        let pattern_1 = json!({"foo": "bar"});
        let pattern_2 = json!({"foo": "baz"});
        assert_match("{$.foo = bar}", &pattern_1);
        assert_match("{$.foo = baz }", &pattern_2);
        assert_match("{$.foo = bar || $.foo = baz }", &pattern_1);
        assert_match("{$.foo = bar || $.foo = baz }", &pattern_2);
    }

    // "*Event will match PutEvent and GetEvent. Event* will match EventId and
    // EventName." The same page says "Ev*ent will only match the actual
    // string Ev*ent"; the current pages dropped that limit and trailguard
    // reads every unescaped `*` as a wildcard (see the module docs of
    // `rules::filter_pattern`), so that sentence is not checked here.
    #[test]
    fn leading_and_trailing_wildcards() {
        for value in ["PutEvent", "GetEvent"] {
            assert_match("{ $.name = *Event }", &json!({ "name": value }));
        }
        for value in ["EventId", "EventName"] {
            assert_match("{ $.name = Event* }", &json!({ "name": value }));
        }
    }

    // "The following log event would publish a value of 50 to the metric
    // myMetric" for the filter `{ $.latency = * }`.
    #[test]
    fn star_matches_a_numeric_field() {
        let event = json!({"latency": 50, "requestType": "GET"});
        assert_match("{ $.latency = * }", &event);
    }

    #[test]
    fn numeric_comparison_examples_parse() {
        for src in [
            "{ $.latency >= 500 }",
            "{ $.numbers[0] < 10e3 }",
            "{ $.numbers[0] < 10e-3 }",
            "{ $.processes[4].averageRuntime <= 55.5 }",
            "{ $.errorCode = 400 }",
            "{ $.errorCode != 500 }",
            "{ $.latency > +1000 }",
        ] {
            pattern(src);
        }
    }
}

/// The CIS monitoring patterns, verbatim, each against a CloudTrail event it
/// must catch and a close one it must not.
mod cis_monitoring_patterns {
    use super::*;
    use trailguard_engine::{Path, Segment};

    const CIS_FILE: &str = include_str!("data/cis_cloudwatch_metric_filters.json");

    /// Overlays `patch` on `base`, object member by object member.
    fn merge(base: &mut Value, patch: Value) {
        match (base, patch) {
            (Value::Object(base), Value::Object(patch)) => {
                for (key, value) in patch {
                    merge(base.entry(key).or_insert(Value::Null), value);
                }
            }
            (slot, value) => *slot = value,
        }
    }

    /// A management event as CloudTrail records it, with `patch` applied.
    fn event(source: &str, name: &str, patch: Value) -> Value {
        let mut event = json!({
            "eventVersion": "1.08",
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLEPRINCIPAL",
                "arn": "arn:aws:iam::123456789012:user/alice",
                "accountId": "123456789012",
                "accessKeyId": "AKIAEXAMPLEKEY",
                "userName": "alice"
            },
            "eventTime": "2024-05-01T12:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": null,
            "responseElements": null,
            "eventID": "11111111-2222-3333-4444-555555555555",
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "123456789012",
            "eventCategory": "Management"
        });
        merge(&mut event, patch);
        event
    }

    fn api(source: &str, name: &str) -> Value {
        event(source, name, json!({}))
    }

    fn console_login(patch: Value) -> Value {
        event(
            "signin.amazonaws.com",
            "ConsoleLogin",
            json!({
                "eventType": "AwsConsoleSignIn",
                "additionalEventData": {
                    "LoginTo": "https://console.aws.amazon.com/console/home",
                    "MobileVersion": "No",
                    "MFAUsed": "Yes"
                },
                "responseElements": {"ConsoleLogin": "Success"}
            }),
        )
        .tap(patch)
    }

    trait Tap {
        fn tap(self, patch: Value) -> Value;
    }

    impl Tap for Value {
        fn tap(mut self, patch: Value) -> Value {
            merge(&mut self, patch);
            self
        }
    }

    /// (control title, an event the pattern must match, one it must not).
    fn cases() -> Vec<(&'static str, Value, Value)> {
        let root = json!({"userIdentity": {
            "type": "Root",
            "arn": "arn:aws:iam::123456789012:root",
            "principalId": "123456789012"
        }});
        vec![
            (
                "A log metric filter and alarm should exist for usage of the \"root\" user",
                console_login(root.clone()),
                console_login(root)
                    .tap(json!({"userIdentity": {"invokedBy": "support.amazonaws.com"}})),
            ),
            (
                "Ensure a log metric filter and alarm exist for unauthorized API calls",
                api("ec2.amazonaws.com", "RunInstances")
                    .tap(json!({"errorCode": "Client.UnauthorizedOperation"})),
                api("ec2.amazonaws.com", "RunInstances")
                    .tap(json!({"errorCode": "Client.InvalidParameterValue"})),
            ),
            (
                "Ensure a log metric filter and alarm exist for Management Console sign-in without MFA",
                console_login(json!({"additionalEventData": {"MFAUsed": "No"}})),
                console_login(json!({})),
            ),
            (
                "Ensure a log metric filter and alarm exist for IAM policy changes",
                api("iam.amazonaws.com", "PutUserPolicy"),
                api("iam.amazonaws.com", "GetUserPolicy"),
            ),
            (
                "Ensure a log metric filter and alarm exist for CloudTrail AWS Configuration changes",
                api("cloudtrail.amazonaws.com", "StopLogging"),
                api("cloudtrail.amazonaws.com", "LookupEvents"),
            ),
            (
                "Ensure a log metric filter and alarm exist for AWS Management Console authentication failures",
                console_login(json!({
                    "errorMessage": "Failed authentication",
                    "responseElements": {"ConsoleLogin": "Failure"}
                })),
                console_login(json!({})),
            ),
            (
                "Ensure a log metric filter and alarm exist for disabling or scheduled deletion of customer managed keys",
                api("kms.amazonaws.com", "ScheduleKeyDeletion"),
                api("kms.amazonaws.com", "Decrypt"),
            ),
            (
                "Ensure a log metric filter and alarm exist for S3 bucket policy changes",
                api("s3.amazonaws.com", "PutBucketPolicy"),
                api("s3.amazonaws.com", "GetBucketPolicy"),
            ),
            (
                "Ensure a log metric filter and alarm exist for AWS Config configuration changes",
                api("config.amazonaws.com", "StopConfigurationRecorder"),
                api("config.amazonaws.com", "DescribeConfigurationRecorders"),
            ),
            (
                "Ensure a log metric filter and alarm exist for security group changes",
                api("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
                api("ec2.amazonaws.com", "DescribeSecurityGroups"),
            ),
            (
                "Ensure a log metric filter and alarm exist for changes to Network Access Control Lists (NACL)",
                api("ec2.amazonaws.com", "ReplaceNetworkAclEntry"),
                api("ec2.amazonaws.com", "DescribeNetworkAcls"),
            ),
            (
                "Ensure a log metric filter and alarm exist for changes to network gateways",
                api("ec2.amazonaws.com", "AttachInternetGateway"),
                api("ec2.amazonaws.com", "DescribeInternetGateways"),
            ),
            (
                "Ensure a log metric filter and alarm exist for route table changes",
                api("ec2.amazonaws.com", "ReplaceRouteTableAssociation"),
                api("ec2.amazonaws.com", "DescribeRouteTables"),
            ),
            (
                "Ensure a log metric filter and alarm exist for VPC changes",
                api("ec2.amazonaws.com", "CreateVpcPeeringConnection"),
                api("ec2.amazonaws.com", "DescribeVpcs"),
            ),
            (
                "AWS Organizations changes",
                api("organizations.amazonaws.com", "LeaveOrganization"),
                // The right name from another service must not count.
                api("iam.amazonaws.com", "CreatePolicy"),
            ),
        ]
    }

    #[test]
    fn every_cis_pattern_catches_its_event_and_only_that() {
        let file: Value = serde_json::from_str(CIS_FILE)
            .unwrap_or_else(|err| panic!("CIS data file is not JSON: {err}"));
        let controls = file["controls"].as_array().cloned().unwrap_or_default();
        let cases = cases();
        assert_eq!(controls.len(), cases.len(), "one case per control");
        assert!(!controls.is_empty());

        let event_name = Path(vec![Segment::Key("eventName".to_owned())]);
        for control in &controls {
            let title = control["title"].as_str().unwrap_or_default();
            let src = control["filter_pattern"].as_str().unwrap_or_default();
            let (_, hit, miss) = cases
                .iter()
                .find(|(case_title, ..)| *case_title == title)
                .unwrap_or_else(|| panic!("no events for control {title:?}"));

            let p = pattern(src);
            assert_eq!(p.source(), src);
            assert_match(src, hit);
            assert_no_match(src, miss);
            assert!(p.explain(hit).held && !p.explain(miss).held, "{title}");

            // The canonical form means the same thing.
            let canonical = pattern(&p.to_string());
            assert_eq!(canonical, p, "{title}");
            assert!(
                canonical.matches(hit) && !canonical.matches(miss),
                "{title}"
            );

            // An index on eventName, where the pattern allows one, keeps the hit.
            if let Some(names) = p.required_values(&event_name) {
                let name = hit["eventName"].as_str().unwrap_or_default();
                assert!(names.contains(name), "{title}: {name} not in {names:?}");
            }
        }
    }
}
