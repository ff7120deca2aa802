//! Per-rule suppressions: known, accepted activity (a deployment pipeline
//! changing Lambda code, a scanner's role) that should not notify.
//!
//! A suppression lists rule ids and criteria; it applies to a finding when
//! the rule is listed (globs allowed, `*` for all) and every criterion that
//! is given matches (any of its values; `*` wildcards allowed). Suppressions
//! live in rule files under `suppressions:`, so they load, override and fail
//! exactly like rules.

use serde::{Deserialize, Serialize};

use super::finding::{EventFacts, Finding};
use crate::record::Record;
use crate::rules::filter_pattern::wildcard::TextPattern;

/// One suppression as written in a rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Suppression {
    /// Rule ids (globs) it applies to.
    pub rules: Vec<String>,
    /// Principal ARN globs (`userIdentity.arn`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principals: Vec<String>,
    /// Account ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Source IP globs (`sourceIPAddress`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_ips: Vec<String>,
    /// User-agent globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_agents: Vec<String>,
    /// Why this is accepted (kept in logs and the suppression metric).
    #[serde(default)]
    pub reason: String,
}

/// What suppressions look at in an event, borrowed from a record or from
/// a finding's facts: a record can be checked before any finding is built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Subject<'a> {
    /// `userIdentity.arn`.
    pub principal_arn: Option<&'a str>,
    /// `recipientAccountId`, else `userIdentity.accountId` (as in findings).
    pub account: Option<&'a str>,
    /// `sourceIPAddress`.
    pub source_ip: Option<&'a str>,
    /// `userAgent`.
    pub user_agent: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// A typed record's subject.
    pub fn of_record(record: &'a Record<'_>) -> Subject<'a> {
        Subject {
            principal_arn: record.user_identity.as_ref().and_then(|i| i.arn.as_deref()),
            account: record.account(),
            source_ip: record.source_ip_address.as_deref(),
            user_agent: record.user_agent.as_deref(),
        }
    }

    /// A finding's subject.
    pub fn of_event(event: &'a EventFacts) -> Subject<'a> {
        Subject {
            principal_arn: event.who.arn.as_deref(),
            account: event.where_.account.as_deref(),
            source_ip: event.source_ip.as_deref(),
            user_agent: event.user_agent.as_deref(),
        }
    }
}

struct Compiled {
    rules: Vec<TextPattern>,
    principals: Vec<TextPattern>,
    accounts: Vec<TextPattern>,
    source_ips: Vec<TextPattern>,
    user_agents: Vec<TextPattern>,
    reason: String,
}

/// Compiled suppressions.
#[derive(Default)]
pub struct Suppressions {
    list: Vec<Compiled>,
}

impl std::fmt::Debug for Suppressions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Suppressions({})", self.list.len())
    }
}

fn globs(values: &[String]) -> Vec<TextPattern> {
    values.iter().map(|v| TextPattern::from_bare(v)).collect()
}

fn criterion(patterns: &[TextPattern], value: Option<&str>) -> bool {
    patterns.is_empty() || value.is_some_and(|v| patterns.iter().any(|p| p.matches(v)))
}

impl Suppressions {
    /// Compiles suppressions (an empty `rules` list is rejected).
    pub fn new(specs: &[Suppression]) -> Result<Suppressions, String> {
        let mut list = Vec::with_capacity(specs.len());
        for (i, s) in specs.iter().enumerate() {
            if s.rules.is_empty() {
                return Err(format!(
                    "suppression #{i} lists no rules (use [\"*\"] for all)"
                ));
            }
            list.push(Compiled {
                rules: globs(&s.rules),
                principals: globs(&s.principals),
                accounts: globs(&s.accounts),
                source_ips: globs(&s.source_ips),
                user_agents: globs(&s.user_agents),
                reason: s.reason.clone(),
            });
        }
        Ok(Suppressions { list })
    }

    /// How many suppressions there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether some suppression names rule `rule_id` (and so may apply to
    /// one of its matches).
    pub fn may_suppress(&self, rule_id: &str) -> bool {
        self.list.iter().any(|s| criterion(&s.rules, Some(rule_id)))
    }

    /// The reason of the first suppression that applies to `finding`.
    pub fn suppressed_by(&self, finding: &Finding) -> Option<&str> {
        self.suppressing(&finding.rule.id, Subject::of_event(&finding.event))
    }

    /// The reason of the first suppression that applies to rule `rule_id`
    /// matching an event with this `subject` (checked before a finding is
    /// built).
    pub fn suppressing(&self, rule_id: &str, subject: Subject<'_>) -> Option<&str> {
        self.list
            .iter()
            .find(|s| {
                criterion(&s.rules, Some(rule_id))
                    && criterion(&s.principals, subject.principal_arn)
                    && criterion(&s.accounts, subject.account)
                    && criterion(&s.source_ips, subject.source_ip)
                    && criterion(&s.user_agents, subject.user_agent)
            })
            .map(|s| s.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::RuleInfo;
    use crate::rules::Severity;
    use serde_json::json;

    fn finding(rule: &str, arn: &str, ip: &str) -> Finding {
        let info = RuleInfo {
            id: rule.into(),
            title: "t".into(),
            description: String::new(),
            severity: Severity::Low,
            references: vec![],
            engine: "trailguard",
        };
        Finding::new(
            info,
            &json!({"userIdentity": {"arn": arn}, "sourceIPAddress": ip,
                    "recipientAccountId": "111122223333", "eventID": "e"}),
            None,
        )
    }

    #[test]
    fn applies_only_when_rule_and_every_given_criterion_match() {
        let s = Suppressions::new(&[Suppression {
            rules: vec!["lambda-*".into()],
            principals: vec!["arn:aws:sts::*:assumed-role/deploy/*".into()],
            accounts: vec![],
            source_ips: vec![],
            user_agents: vec![],
            reason: "pipeline".into(),
        }])
        .unwrap();
        let deploy = "arn:aws:sts::111122223333:assumed-role/deploy/run-42";
        assert_eq!(
            s.suppressed_by(&finding("lambda-code-changed", deploy, "1.2.3.4")),
            Some("pipeline")
        );
        let human = "arn:aws:iam::111122223333:user/bob";
        assert_eq!(
            s.suppressed_by(&finding("lambda-code-changed", human, "1.2.3.4")),
            None
        );
        assert_eq!(
            s.suppressed_by(&finding("root-activity", deploy, "1.2.3.4")),
            None
        );
    }

    #[test]
    fn accounts_and_ips_narrow_further_and_empty_rules_are_rejected() {
        let s = Suppressions::new(&[Suppression {
            rules: vec!["*".into()],
            principals: vec![],
            accounts: vec!["111122223333".into()],
            source_ips: vec!["10.*".into()],
            user_agents: vec![],
            reason: "lab".into(),
        }])
        .unwrap();
        assert!(s.suppressed_by(&finding("x", "a", "10.1.2.3")).is_some());
        assert!(s.suppressed_by(&finding("x", "a", "192.0.2.1")).is_none());
        let empty = Suppression {
            rules: vec![],
            principals: vec![],
            accounts: vec![],
            source_ips: vec![],
            user_agents: vec![],
            reason: String::new(),
        };
        assert!(Suppressions::new(&[empty]).is_err());
    }

    #[test]
    fn a_record_and_its_facts_have_the_same_subject() {
        for json in [
            r#"{"userIdentity":{"arn":"arn:aws:iam::1:user/a","accountId":"1"},"recipientAccountId":"2","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2"}"#,
            // No recipient account: the caller's account stands in.
            r#"{"userIdentity":{"accountId":"1"},"eventName":"X"}"#,
            r#"{"eventName":"X"}"#,
        ] {
            let record = Record::from_json(json).unwrap();
            let facts = EventFacts::of(&record);
            assert_eq!(
                Subject::of_record(&record),
                Subject::of_event(&facts),
                "{json}"
            );
        }
        let record = Record::from_json(r#"{"userIdentity":{"accountId":"1"}}"#).unwrap();
        assert_eq!(Subject::of_record(&record).account, Some("1"));
    }
}
