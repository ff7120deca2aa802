use super::*;

fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

const BASE: &[(&str, &str)] = &[
    ("TRAILGUARD_FINDINGS_TOPIC_ARN", "arn:aws:sns:us-east-1:1:f"),
    ("TRAILGUARD_INTEGRITY_STATE_TABLE", "state"),
];

#[test]
fn config_defaults_and_overrides() {
    let c = IntegrityConfig::from_env(&env(BASE)).unwrap();
    assert_eq!(c.gap, Duration::hours(3));
    assert_eq!(c.namespace, "CloudTrailMetrics");
    assert!(c.trail.is_none() && c.expected_regions.is_empty() && c.dedup_table.is_none());

    let c = IntegrityConfig::from_env(&env(&[
        ("TRAILGUARD_FINDINGS_TOPIC_ARN", "t"),
        ("TRAILGUARD_INTEGRITY_STATE_TABLE", "s"),
        ("TRAILGUARD_GAP_HOURS", "6"),
        ("TRAILGUARD_EXPECTED_REGIONS", "us-east-1, eu-west-1,"),
        (
            "TRAILGUARD_TRAIL_ARN",
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/main",
        ),
    ]))
    .unwrap();
    assert_eq!(c.gap, Duration::hours(6));
    assert_eq!(c.expected_regions, ["us-east-1", "eu-west-1"]);
    let trail = c.trail.unwrap();
    assert_eq!(
        (
            trail.region.as_str(),
            trail.account.as_str(),
            trail.name.as_str()
        ),
        ("eu-west-1", "111122223333", "main")
    );
}

#[test]
fn config_errors_name_the_variable() {
    let err =
        IntegrityConfig::from_env(&env(&[("TRAILGUARD_FINDINGS_TOPIC_ARN", "t")])).unwrap_err();
    assert_eq!(err.variable, "TRAILGUARD_INTEGRITY_STATE_TABLE");
    let err = IntegrityConfig::from_env(&env(&[
        ("TRAILGUARD_FINDINGS_TOPIC_ARN", "t"),
        ("TRAILGUARD_INTEGRITY_STATE_TABLE", "s"),
        ("TRAILGUARD_TRAIL_ARN", "arn:aws:s3:::bucket"),
    ]))
    .unwrap_err();
    assert_eq!(err.variable, "TRAILGUARD_TRAIL_ARN");
    let err = IntegrityConfig::from_env(&env(&[
        ("TRAILGUARD_FINDINGS_TOPIC_ARN", "t"),
        ("TRAILGUARD_INTEGRITY_STATE_TABLE", "s"),
        ("TRAILGUARD_GAP_HOURS", "0"),
    ]))
    .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
}

#[test]
fn trail_arns_parse_only_in_their_own_shape() {
    assert_eq!(
        TrailArn::parse("arn:aws-us-gov:cloudtrail:us-gov-west-1:111122223333:trail/a/b")
            .map(|t| t.name),
        Some("a/b".to_owned())
    );
    for bad in [
        "",
        "arn:aws:cloudtrail:us-east-1:111122223333:trail/",
        "arn:aws:cloudtrail:us-east-1:111122223333:eventdatastore/x",
        "arn:aws:cloudtrail::111122223333:trail/x",
    ] {
        assert_eq!(TrailArn::parse(bad), None, "{bad}");
    }
}

#[test]
fn only_the_schedule_is_a_scheduled_event() {
    let scheduled = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    assert!(is_scheduled(&scheduled));
    let s3 = json!({"source": "aws.s3", "detail-type": "Object Created"});
    assert!(!is_scheduled(&s3));
    assert!(!is_scheduled(&json!({"Records": []})));
}
