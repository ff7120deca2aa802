use super::*;
use crate::remediation::request::{ResourceRef, TriggerSource};

fn load(vars: &[(&str, &str)]) -> Result<GuardConfig, GuardConfigError> {
    GuardConfig::from_vars(vars.iter().copied())
}

fn error(vars: &[(&str, &str)]) -> String {
    match load(vars) {
        Ok(cfg) => panic!("expected an error, loaded {cfg:?}"),
        Err(e) => e.to_string(),
    }
}

fn request() -> RemediationRequest {
    RemediationRequest {
        action: ActionKind::CloudtrailLogging,
        resource: ResourceRef::Trail {
            name: "org-trail".into(),
            arn: None,
        },
        event_name: "StopLogging".into(),
        trigger_event_id: "f6e10706-705c-47f2-94d4-112a9527ab8b".into(),
        event_time: None,
        principal_arn: Some("arn:aws:iam::123837392027:user/bert-jan".into()),
        account: "123837392027".into(),
        region: "us-east-1".into(),
        error_code: None,
        source: TriggerSource::EventBridge,
    }
}

fn enabled_config() -> GuardConfig {
    GuardConfig {
        enabled: BTreeSet::from([ActionKind::CloudtrailLogging]),
        own_role_arns: RoleArn::parse(
            "arn:aws:iam::123837392027:role/service/trailguard-remediator",
        )
        .into_iter()
        .collect(),
        ..GuardConfig::default()
    }
}

#[test]
fn defaults_are_safe() {
    let cfg = load(&[("PATH", "/usr/bin")]).unwrap_or_default();
    assert!(cfg.dry_run);
    assert!(cfg.enabled.is_empty());
    assert_eq!(cfg.exemption_tag, "trailguard:exempt");
    assert_eq!(
        pre_check(&request(), &cfg),
        Some(Skip::ActionDisabled {
            action: ActionKind::CloudtrailLogging
        })
    );
}

#[test]
fn every_variable_is_read() {
    let cfg = load(&[
        ("TRAILGUARD_DRY_RUN", "False"),
        (
            "TRAILGUARD_ENABLED_ACTIONS",
            "security-group-open-ingress, cloudtrail-logging",
        ),
        ("TRAILGUARD_EXEMPTION_TAG", "security:skip"),
        ("TRAILGUARD_EXEMPT_ACCOUNTS", "111122223333,444455556666"),
        (
            "TRAILGUARD_OWN_ROLE_ARNS",
            "arn:aws:iam::111122223333:role/trailguard-remediator",
        ),
        ("TRAILGUARD_DENY_LISTED_USERS", "svc-backup"),
        ("TRAILGUARD_ALLOWED_PORTS", "443,80"),
    ]);
    let cfg = match cfg {
        Ok(cfg) => cfg,
        Err(e) => panic!("{e}"),
    };
    assert!(!cfg.dry_run);
    assert_eq!(
        cfg.enabled,
        BTreeSet::from([
            ActionKind::SecurityGroupOpenIngress,
            ActionKind::CloudtrailLogging
        ])
    );
    assert_eq!(cfg.exemption_tag, "security:skip");
    assert_eq!(cfg.exempt_accounts.len(), 2);
    assert_eq!(
        cfg.own_role_arns.first().map(RoleArn::name),
        Some("trailguard-remediator")
    );
    assert!(cfg.deny_listed_users.contains("svc-backup"));
    assert_eq!(cfg.allowed_ports.to_string(), "80, 443");
}

#[test]
fn all_enables_everything_but_access_keys() {
    let cfg = load(&[("TRAILGUARD_ENABLED_ACTIONS", "all")]).unwrap_or_default();
    assert_eq!(cfg.enabled.len(), ActionKind::ALL.len() - 1);
    assert!(!cfg.enabled.contains(&ActionKind::IamAccessKey));
    let cfg = load(&[("TRAILGUARD_ENABLED_ACTIONS", "all,iam-access-key")]).unwrap_or_default();
    assert_eq!(cfg.enabled.len(), ActionKind::ALL.len());
}

#[test]
fn errors_name_the_variable() {
    let text = error(&[(
        "TRAILGUARD_ENABLED_ACTIONS",
        "cloudtrail-logging,open-buckets",
    )]);
    assert!(
        text.starts_with("TRAILGUARD_ENABLED_ACTIONS names an unknown action `open-buckets`"),
        "{text}"
    );
    assert!(text.contains("s3-public-access"), "{text}");
    assert_eq!(
        error(&[("TRAILGUARD_DRY_RUN", "flase")]),
        "TRAILGUARD_DRY_RUN=flase is not a boolean: set it to true or false"
    );
    assert!(
        error(&[("TRAILGUARD_EXEMPT_ACCOUNTS", "1111-2222-3333")])
            .starts_with("TRAILGUARD_EXEMPT_ACCOUNTS:")
    );
    assert!(
        error(&[(
            "TRAILGUARD_OWN_ROLE_ARNS",
            "arn:aws:iam::111122223333:user/x"
        )])
        .starts_with("TRAILGUARD_OWN_ROLE_ARNS:")
    );
    assert!(
        error(&[("TRAILGUARD_DENY_LISTED_USERS", "bad name")])
            .starts_with("TRAILGUARD_DENY_LISTED_USERS:")
    );
    assert!(error(&[("TRAILGUARD_ALLOWED_PORTS", "ssh")]).starts_with("TRAILGUARD_ALLOWED_PORTS:"));
    assert!(
        error(&[("TRAILGUARD_EXEMPTION_TAG", "aws:exempt")])
            .starts_with("TRAILGUARD_EXEMPTION_TAG=")
    );
}

#[test]
fn own_role_sessions_match_across_paths_but_not_accounts() {
    let role = match RoleArn::parse("arn:aws:iam::123837392027:role/service/trailguard-remediator")
    {
        Ok(role) => role,
        Err(e) => panic!("{e}"),
    };
    assert!(
        role.matches("arn:aws:sts::123837392027:assumed-role/trailguard-remediator/1714641243")
    );
    assert!(role.matches("arn:aws:sts::123837392027:assumed-role/TrailGuard-Remediator/s"));
    assert!(role.matches("arn:aws:iam::123837392027:role/service/trailguard-remediator"));
    assert!(!role.matches("arn:aws:sts::999988887777:assumed-role/trailguard-remediator/s"));
    assert!(!role.matches("arn:aws-cn:sts::123837392027:assumed-role/trailguard-remediator/s"));
    assert!(!role.matches("arn:aws:sts::123837392027:assumed-role/trailguard-remediator-2/s"));
    assert!(!role.matches("arn:aws:sts::123837392027:federated-user/trailguard-remediator"));
    assert!(!role.matches("arn:aws:iam::123837392027:user/trailguard-remediator"));
}

#[test]
fn role_arns_must_be_roles() {
    for bad in [
        "trailguard-remediator",
        "arn:aws:iam::123837392027:user/x",
        "arn:aws:iam::123837392027:role/",
        "arn:aws:iam:us-east-1:123837392027:role/x",
        "arn:aws:iam::1238:role/x",
    ] {
        assert!(RoleArn::parse(bad).is_err(), "{bad} parsed");
    }
}

#[test]
fn pre_check_order_and_reasons() {
    let cfg = enabled_config();
    assert_eq!(pre_check(&request(), &cfg), None);

    let mut own = request();
    own.principal_arn =
        Some("arn:aws:sts::123837392027:assumed-role/trailguard-remediator/1714641243".into());
    own.error_code = Some("AccessDenied".into());
    assert!(matches!(
        pre_check(&own, &cfg),
        Some(Skip::OwnPrincipal { .. })
    ));

    let mut failed = request();
    failed.error_code = Some("TrailNotFoundException".into());
    let skip = pre_check(&failed, &cfg);
    assert_eq!(
        skip,
        Some(Skip::FailedEvent {
            error_code: "TrailNotFoundException".into()
        })
    );
    assert!(
        matches!(skip.map(|s| s.outcome()), Some(Outcome::SkippedGuard { reason }) if reason.contains("TrailNotFoundException"))
    );

    let mut exempt = cfg.clone();
    exempt.exempt_accounts.insert("123837392027".into());
    let skip = pre_check(&request(), &exempt);
    assert!(matches!(
        skip.map(|s| s.outcome()),
        Some(Outcome::SkippedExempt { .. })
    ));
}

#[test]
fn exemption_tag_any_value_but_false() {
    let cfg = GuardConfig::default();
    assert!(exempt_by_tags([("trailguard:exempt", "")], &cfg));
    assert!(exempt_by_tags(
        [
            ("Name", "web"),
            ("trailguard:exempt", "approved by SEC-1234")
        ],
        &cfg
    ));
    assert!(!exempt_by_tags([("trailguard:exempt", " FALSE ")], &cfg));
    assert!(!exempt_by_tags([("Trailguard:Exempt", "true")], &cfg));
    assert!(!exempt_by_tags(Vec::<(String, String)>::new(), &cfg));
}
