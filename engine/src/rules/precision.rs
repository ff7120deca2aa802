//! Two rules of the catalogue that decide, per matching record, whether a
//! match becomes a finding and how loud it is. They apply to findings
//! only: metrics count every match, as the CIS alarms expect.
//!
//! - **A failed call changed nothing.** A record with an `errorCode` that a
//!   rule of [`Failures::Attempt`] matches is reported as an *attempt*:
//!   marked so in the finding and two severity levels lower
//!   ([`attempt_severity`]). Rules whose signal is the failure itself
//!   (access-denied reconnaissance, failed console sign-ins, credential
//!   reads probed across many resources) are [`Failures::Signal`] and keep
//!   their severity.
//! - **AWS services are not principals.** A call made by an AWS service
//!   ([`is_aws_service_call`]: `userIdentity.type` `AWSService`, an
//!   `invokedBy` naming a service, or a service-linked role
//!   `AWSServiceRoleFor*`) never triggers a rule of [`Callers::Principals`],
//!   the default: those rules describe what a person or workload chose to
//!   do, and a service acting on its documented behalf is neither.

use serde::{Deserialize, Serialize};

use super::Severity;
use crate::record::Record;

/// How a rule treats a matching record that failed (`errorCode` set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Failures {
    /// The failed call is reported as an attempt, two levels lower.
    #[default]
    Attempt,
    /// The failure is the signal: reported like a success.
    Signal,
}

/// Whose calls a rule is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Callers {
    /// Principals only: calls made by AWS services are left out.
    #[default]
    Principals,
    /// Every caller, AWS services included.
    Any,
}

/// A rule's precision settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Precision {
    /// How failed calls are reported.
    pub failures: Failures,
    /// Whose calls count.
    pub callers: Callers,
}

/// What a match on one record becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No finding: the caller is an AWS service.
    Skip,
    /// A finding marked as an attempt, at [`attempt_severity`].
    Attempt,
    /// A finding at the rule's severity.
    Report,
}

impl Precision {
    /// What a match of a rule with these settings on `record` becomes.
    pub fn judge(self, record: &Record<'_>) -> Verdict {
        if self.callers == Callers::Principals && is_aws_service_call(record) {
            return Verdict::Skip;
        }
        let failed = record.error_code.as_deref().is_some_and(|c| !c.is_empty());
        if failed && self.failures == Failures::Attempt {
            Verdict::Attempt
        } else {
            Verdict::Report
        }
    }
}

/// The severity an attempt is reported at: two levels below the rule's,
/// so a refused critical change is still read (medium) but never pages,
/// and refused medium or low changes fall to informational.
pub fn attempt_severity(severity: Severity) -> Severity {
    match severity {
        Severity::Critical => Severity::Medium,
        Severity::High => Severity::Low,
        Severity::Medium | Severity::Low | Severity::Informational => Severity::Informational,
    }
}

/// The prefix of service-linked role names (IAM user guide, "Using
/// service-linked roles").
const SERVICE_LINKED_PREFIX: &str = "AWSServiceRoleFor";

/// Whether `record` is a call an AWS service made: `userIdentity.type`
/// `AWSService`, `invokedBy` an AWS service (`*.amazonaws.com` or `AWS
/// Internal`), or a session of a service-linked role (its ARN under
/// `role/aws-service-role/` or its name starting `AWSServiceRoleFor`).
pub fn is_aws_service_call(record: &Record<'_>) -> bool {
    let Some(identity) = record.user_identity.as_ref() else {
        return false;
    };
    if identity.identity_type.as_deref() == Some("AWSService") {
        return true;
    }
    if identity
        .invoked_by
        .as_deref()
        .is_some_and(|by| by.ends_with(".amazonaws.com") || by == "AWS Internal")
    {
        return true;
    }
    let issuer = identity
        .session_context
        .as_ref()
        .and_then(|c| c.session_issuer.as_ref());
    let linked_arn = |arn: &str| {
        arn.contains(":role/aws-service-role/") || arn.contains(":assumed-role/AWSServiceRoleFor")
    };
    identity.arn.as_deref().is_some_and(linked_arn)
        || issuer.is_some_and(|i| {
            i.arn.as_deref().is_some_and(linked_arn)
                || i.user_name
                    .as_deref()
                    .is_some_and(|n| n.starts_with(SERVICE_LINKED_PREFIX))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Record<'_> {
        Record::from_json(text).unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    #[test]
    fn aws_service_calls_are_recognised_four_ways() {
        let service = [
            // AWS docs, "CloudTrail userIdentity element": AWSService.
            r#"{"userIdentity":{"type":"AWSService","invokedBy":"lambda.amazonaws.com"}}"#,
            // CloudFormation acting with the caller's credentials.
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/Deploy/s","invokedBy":"cloudformation.amazonaws.com"}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","invokedBy":"AWS Internal"}}"#,
            // A service-linked role's session (Inspector, in the samples).
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSServiceRoleForAmazonInspector2/AmazonInspector2","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::1:role/aws-service-role/inspector2.amazonaws.com/AWSServiceRoleForAmazonInspector2","userName":"AWSServiceRoleForAmazonInspector2"}}}}"#,
            r#"{"userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"userName":"AWSServiceRoleForConfig"}}}}"#,
        ];
        for text in service {
            assert!(is_aws_service_call(&record(text)), "{text}");
        }
        let principals = [
            r#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/alice","userName":"alice"}}"#,
            // A customer role whose name mentions a service is still a principal.
            r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/ServiceRoleForBuild/x","sessionContext":{"sessionIssuer":{"userName":"ServiceRoleForBuild"}}}}"#,
            r#"{"userIdentity":{"type":"Root","invokedBy":"support.example.com"}}"#,
            r#"{"eventName":"X"}"#,
        ];
        for text in principals {
            assert!(!is_aws_service_call(&record(text)), "{text}");
        }
    }

    #[test]
    fn failed_calls_are_attempts_unless_failure_is_the_signal() {
        let failed = record(
            r#"{"errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#,
        );
        let ok = record(r#"{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}"#);
        let change = Precision::default();
        let signal = Precision {
            failures: Failures::Signal,
            ..Precision::default()
        };
        assert_eq!(change.judge(&failed), Verdict::Attempt);
        assert_eq!(change.judge(&ok), Verdict::Report);
        assert_eq!(signal.judge(&failed), Verdict::Report);
    }

    #[test]
    fn service_calls_skip_principal_rules_only() {
        let by_service = record(
            r#"{"userIdentity":{"type":"AWSService","invokedBy":"config.amazonaws.com"},"errorCode":"AccessDenied"}"#,
        );
        assert_eq!(Precision::default().judge(&by_service), Verdict::Skip);
        let any = Precision {
            callers: Callers::Any,
            failures: Failures::Signal,
        };
        assert_eq!(any.judge(&by_service), Verdict::Report);
    }

    #[test]
    fn attempts_are_two_levels_lower() {
        assert_eq!(attempt_severity(Severity::Critical), Severity::Medium);
        assert_eq!(attempt_severity(Severity::High), Severity::Low);
        assert_eq!(attempt_severity(Severity::Medium), Severity::Informational);
        assert_eq!(
            attempt_severity(Severity::Informational),
            Severity::Informational
        );
    }
}
