use super::*;

const DEMO_KEY: &str = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
                        218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz";

fn date(year: u16, month: u8, day: u8) -> Date {
    Date { year, month, day }
}

fn time(date: Date, hour: u8, minute: u8, second: u8) -> FileTime {
    FileTime {
        date,
        hour,
        minute,
        second,
    }
}

/// Expected fields of a recognised key.
struct Want {
    kind: KeyKind,
    prefix: Option<&'static str>,
    org: Option<&'static str>,
    account: &'static str,
    region: &'static str,
    date: Date,
    time: FileTime,
}

#[test]
fn recognises_cloudtrail_keys() {
    let cases: &[(&str, Want)] = &[
        (
            DEMO_KEY,
            Want {
                kind: KeyKind::Log,
                prefix: None,
                org: None,
                account: "218007301253",
                region: "us-east-1",
                date: date(2023, 7, 10),
                time: time(date(2023, 7, 10), 12, 5, 0),
            },
        ),
        (
            "AWSLogs/o-abc123def4/111122223333/CloudTrail/eu-west-1/2024/02/29/\
             111122223333_CloudTrail_eu-west-1_20240229T2355Z_a1B2c3D4e5F6g7H8.json.gz",
            Want {
                kind: KeyKind::Log,
                prefix: None,
                org: Some("o-abc123def4"),
                account: "111122223333",
                region: "eu-west-1",
                date: date(2024, 2, 29),
                time: time(date(2024, 2, 29), 23, 55, 0),
            },
        ),
        (
            "security/trails/prod/AWSLogs/218007301253/CloudTrail/us-gov-west-1/2023/12/31/\
             218007301253_CloudTrail_us-gov-west-1_20231231T0000Z_Zz09Zz09Zz09Zz09.json.gz",
            Want {
                kind: KeyKind::Log,
                prefix: Some("security/trails/prod"),
                org: None,
                account: "218007301253",
                region: "us-gov-west-1",
                date: date(2023, 12, 31),
                time: time(date(2023, 12, 31), 0, 0, 0),
            },
        ),
        (
            // Control Tower-style: the prefix is the org id itself.
            "o-fxozgwu6rc/AWSLogs/o-fxozgwu6rc/123456789015/CloudTrail-Insight/ca-central-1/2020/09/23/\
             123456789015_CloudTrail-Insight_ca-central-1_20200923T0516Z_KL5e9VCV2SS7IqzB.json.gz",
            Want {
                kind: KeyKind::Insight,
                prefix: Some("o-fxozgwu6rc"),
                org: Some("o-fxozgwu6rc"),
                account: "123456789015",
                region: "ca-central-1",
                date: date(2020, 9, 23),
                time: time(date(2020, 9, 23), 5, 16, 0),
            },
        ),
        (
            "журналы аудита/AWSLogs/218007301253/CloudTrail/cn-north-1/2023/07/10/\
             218007301253_CloudTrail_cn-north-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            Want {
                kind: KeyKind::Log,
                prefix: Some("журналы аудита"),
                org: None,
                account: "218007301253",
                region: "cn-north-1",
                date: date(2023, 7, 10),
                time: time(date(2023, 7, 10), 12, 5, 0),
            },
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2000/02/29/\
             218007301253_CloudTrail_us-east-1_20000229T0001Z_UljXNp9xLp8nsAGc.json.gz",
            Want {
                kind: KeyKind::Log,
                prefix: None,
                org: None,
                account: "218007301253",
                region: "us-east-1",
                date: date(2000, 2, 29),
                time: time(date(2000, 2, 29), 0, 1, 0),
            },
        ),
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
            Want {
                kind: KeyKind::Digest,
                prefix: None,
                org: None,
                account: "111122223333",
                region: "us-east-2",
                date: date(2015, 8, 17),
                time: time(date(2015, 8, 17), 15, 1, 31),
            },
        ),
    ];
    for (key, want) in cases {
        let info = classify(key);
        assert_eq!(info.kind, want.kind, "{key}: {:?}", info.other_reason);
        assert_eq!(info.other_reason, None, "{key}");
        assert_eq!(info.prefix.as_deref(), want.prefix, "{key}");
        assert_eq!(info.org_id.as_deref(), want.org, "{key}");
        assert_eq!(info.account.as_deref(), Some(want.account), "{key}");
        assert_eq!(info.region.as_deref(), Some(want.region), "{key}");
        assert_eq!(info.date, Some(want.date), "{key}");
        assert_eq!(info.file_time, Some(want.time), "{key}");
        assert_eq!(Some(info.file_name.as_str()), key.rsplit('/').next());
        assert_eq!(info.is_log(), want.kind == KeyKind::Log, "{key}");
    }
}

#[test]
fn digest_names_are_parsed_from_both_ends() {
    let cases = [
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
            "your-trail-name",
            "us-east-2",
            false,
        ),
        (
            "org/AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/eu-central-1/2024/01/01/\
             111122223333_CloudTrail-Digest_eu-central-1_org_trail.v2-main_us-east-1_20240101T000512Z.json.gz",
            "org_trail.v2-main",
            "us-east-1",
            false,
        ),
        (
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/\
             111122223333_CloudTrail-Digest_us-east-2_t_us-west-2_20150817T150131Z_backfill.json.gz",
            "t",
            "us-west-2",
            true,
        ),
    ];
    for (key, trail, home, backfill) in cases {
        let info = classify(key);
        assert_eq!(info.kind, KeyKind::Digest, "{key}: {:?}", info.other_reason);
        let digest = info.digest.as_ref();
        assert_eq!(digest.map(|d| d.trail_name.as_str()), Some(trail), "{key}");
        assert_eq!(digest.map(|d| d.home_region.as_str()), Some(home), "{key}");
        assert_eq!(digest.map(|d| d.backfill), Some(backfill), "{key}");
    }
}

#[test]
fn logs_and_insights_have_no_digest_name() {
    assert_eq!(classify(DEMO_KEY).digest, None);
}

#[test]
fn everything_else_is_other_with_a_reason() {
    use OtherReason::*;
    let cases = [
        (
            "AWSLogs/218007301253/CloudTrail/ConfigWritabilityCheckFile",
            UnexpectedLayout,
        ),
        ("uploads/2023/07/10/report.csv", NotUnderAwsLogs),
        ("", NotUnderAwsLogs),
        (
            "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2023/07/10/\
             123456789012_elasticloadbalancing_us-east-1_app.my-lb.1234_20230710T1205Z_10.0.0.1_abc.log.gz",
            UnknownService,
        ),
        (
            "AWSLogs/21800730125/CloudTrail/us-east-1/2023/07/10/\
             21800730125_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadAccount,
        ),
        (
            "AWSLogs/21800730125x/CloudTrail/us-east-1/2023/07/10/\
             21800730125x_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadAccount,
        ),
        (
            "AWSLogs/o-ABC123DEF4/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadOrgId,
        ),
        (
            "AWSLogs/o-abc/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadOrgId,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/US-EAST-1/2023/07/10/\
             218007301253_CloudTrail_US-EAST-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadRegion,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/02/29/\
             218007301253_CloudTrail_us-east-1_20230229T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadDate,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2100/02/29/\
             218007301253_CloudTrail_us-east-1_21000229T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadDate,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/13/01/\
             218007301253_CloudTrail_us-east-1_20231301T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadDate,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/7/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            BadDate,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json",
            BadFileName,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz.tmp",
            BadFileName,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T2405Z_UljXNp9xLp8nsAGc.json.gz",
            BadFileName,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_.json.gz",
            BadFileName,
        ),
        (
            // A digest-style name in the log directory.
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T120500Z.json.gz",
            BadFileName,
        ),
        (
            // Digest timestamps carry seconds.
            "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/\
             218007301253_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T1205Z.json.gz",
            BadFileName,
        ),
        (
            "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/\
             218007301253_CloudTrail-Digest_us-east-1__us-east-1_20230710T120500Z.json.gz",
            BadFileName,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             111122223333_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            NameMismatch,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
             218007301253_CloudTrail_eu-west-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            NameMismatch,
        ),
        (
            "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/extra/\
             218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
            UnexpectedLayout,
        ),
    ];
    for (key, reason) in cases {
        let info = classify(key);
        assert_eq!(info.kind, KeyKind::Other, "{key}");
        assert_eq!(info.other_reason, Some(reason), "{key}");
        assert_eq!(info.account, None, "{key}");
        assert_eq!(Some(info.file_name.as_str()), key.rsplit('/').next());
    }
}

#[test]
fn dates_and_times_display_as_iso_8601() {
    let info = classify(DEMO_KEY);
    assert_eq!(
        info.date.map(|d| d.to_string()).as_deref(),
        Some("2023-07-10")
    );
    assert_eq!(
        info.file_time.map(|t| t.to_string()).as_deref(),
        Some("2023-07-10T12:05:00Z")
    );
}

#[test]
fn decodes_form_style_event_keys() {
    let cases = [
        (DEMO_KEY, DEMO_KEY),
        ("red+flower.jpg", "red flower.jpg"),
        ("c%2B%2B/a+b%2Bc", "c++/a b+c"),
        ("two%20spaces+here", "two spaces here"),
        (
            "logs/dt%3D2023-07-10/_SUCCESS",
            "logs/dt=2023-07-10/_SUCCESS",
        ),
        ("test%2F10%3A47%3A07.log", "test/10:47:07.log"),
        ("caf%C3%A9/%E2%9C%93", "café/✓"),
        ("caf%c3%a9", "café"),
        ("%F0%9F%93%9C.json.gz", "📜.json.gz"),
        // Non-ASCII left unescaped by a sender still decodes to itself.
        ("журнал+аудита", "журнал аудита"),
    ];
    for (raw, want) in cases {
        assert_eq!(decode_s3_event_key(raw).as_deref(), Ok(want), "{raw}");
    }
}

#[test]
fn rejects_bad_escapes_naming_the_key_and_offset() {
    let cases = [
        ("abc%", 3),
        ("abc%2", 3),
        ("a%zzb", 1),
        ("a%2gb", 1),
        ("%%41", 0),
    ];
    for (raw, offset) in cases {
        let err = decode_s3_event_key(raw);
        assert_eq!(
            err,
            Err(KeyError::BadEscape {
                key: raw.to_owned(),
                offset
            }),
            "{raw}"
        );
    }
    let text = decode_s3_event_key("AWSLogs/x%2").map_err(|e| e.to_string());
    assert_eq!(
        text,
        Err(
            "S3 event key \"AWSLogs/x%2\" has a bad percent escape at byte 9: \
             expected % followed by two hex digits"
                .to_owned()
        )
    );
}

#[test]
fn a_log_file_name_alone_names_its_account() {
    let name = "111122223333_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz";
    assert_eq!(log_file_account(name), Some("111122223333"));
    assert_eq!(
        log_file_account("12345_CloudTrail_us-east-1_20230710T1145Z_x.json.gz"),
        None
    );
    assert_eq!(
        log_file_account(
            "111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20230710T114500Z.json.gz"
        ),
        None
    );
    assert_eq!(log_file_account("trail.json.gz"), None);
}

#[test]
fn rejects_escapes_that_are_not_utf8() {
    for raw in ["%FF", "caf%C3", "%C3%28"] {
        assert_eq!(
            decode_s3_event_key(raw),
            Err(KeyError::InvalidUtf8 {
                key: raw.to_owned()
            }),
            "{raw}"
        );
    }
}

#[test]
fn decoded_event_keys_classify() {
    let raw = "my+trail%2Blogs/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/\
               218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz";
    let info = decode_s3_event_key(raw).map(|k| classify(&k));
    assert_eq!(
        info.as_ref().map(|i| i.prefix.as_deref()),
        Ok(Some("my trail+logs"))
    );
    assert_eq!(info.map(|i| i.kind), Ok(KeyKind::Log));
}
