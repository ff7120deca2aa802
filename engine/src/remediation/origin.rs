//! Whether a trigger is authentic, and the account it may act in.
//!
//! The account a remediation acts in comes from what AWS wrote around the
//! trigger ([`Origin`]), never from the event inside it alone:
//!
//! | envelope | accepted when | account from |
//! |---|---|---|
//! | EventBridge event | `account` and `region` present, `region` = the event's `awsRegion` | `account` |
//! | SNS record | `TopicArn` = the findings topic | the topic ARN |
//! | SQS record | `eventSourceARN` = the retry queue, body a deferred request | the request (authenticated when deferred) |
//! | none (a bare finding) | never | - |
//!
//! The event's own account (`recipientAccountId`, or a finding's
//! `where.account`) must equal that account, which must be the
//! remediator's own (the findings topic's account): its role acts in its
//! own account only. A finding's region stays the event's: a multi-region
//! trail's findings arrive on the one topic, and the finding is authentic
//! once its topic is (only the stack's functions may publish to it).
//!
//! An SQS record from any other queue is refused: the topic ARN in an SNS
//! notification body was written by whoever sent the message.

use super::request::RemediationRequest;
use crate::envelope::Origin;

/// The sources the remediator trusts, from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedSources {
    /// The findings topic ARN.
    pub findings_topic_arn: String,
    /// The retry queue ARN.
    pub retry_queue_arn: String,
}

impl TrustedSources {
    /// The remediator's own account: the findings topic's.
    pub fn own_account(&self) -> Option<&str> {
        arn_account(&self.findings_topic_arn)
    }
}

/// The account field of an ARN (`arn:<partition>:<service>:<region>:<account>:..`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| !account.is_empty())
}

/// A short description of an envelope, for audit ids and messages.
pub fn describe(envelope: &Origin) -> String {
    match envelope {
        Origin::Direct => "direct".to_owned(),
        Origin::EventBridge { account, region } => format!(
            "eventbridge:{}:{}",
            account.as_deref().unwrap_or("?"),
            region.as_deref().unwrap_or("?")
        ),
        Origin::Sns { topic_arn } => format!("sns:{}", topic_arn.as_deref().unwrap_or("?")),
        Origin::Sqs { queue_arn } => format!("sqs:{}", queue_arn.as_deref().unwrap_or("?")),
    }
}

/// The account `req` may act in, given the envelope it arrived in
/// (`deferred`: whether the body was a deferred request), or why it is
/// refused. One function on purpose: the whole trust decision, envelope by
/// envelope, reads top to bottom without a helper to look into.
pub fn authenticate(
    envelope: &Origin,
    deferred: bool,
    req: &RemediationRequest,
    trusted: &TrustedSources,
) -> Result<String, String> {
    let account = match envelope {
        _ if deferred && !is_retry_queue(envelope, trusted) => {
            return Err(format!(
                "a deferred request is accepted only from the retry queue {}, not from {}",
                trusted.retry_queue_arn,
                describe(envelope)
            ));
        }
        Origin::Direct => {
            return Err(
                "a finding is accepted only as delivered by SNS from the findings topic; \
                 this one came with no envelope"
                    .to_owned(),
            );
        }
        Origin::EventBridge { account, region } => {
            let (Some(account), Some(region)) = (account, region) else {
                return Err("the EventBridge envelope names no `account` or `region`".to_owned());
            };
            if *region != req.region {
                return Err(format!(
                    "the event's region {} is not the region EventBridge delivered it in ({region})",
                    req.region
                ));
            }
            account.clone()
        }
        Origin::Sns { topic_arn } => {
            let topic = topic_arn.as_deref().unwrap_or("no topic");
            if topic != trusted.findings_topic_arn {
                return Err(format!(
                    "the finding came from {topic}, not from the findings topic {}",
                    trusted.findings_topic_arn
                ));
            }
            arn_account(topic).unwrap_or_default().to_owned()
        }
        Origin::Sqs { .. } if deferred => req.account.clone(),
        Origin::Sqs { queue_arn } => {
            return Err(format!(
                "SQS records are accepted only from the retry queue {} (deferred requests), \
                 not from {}",
                trusted.retry_queue_arn,
                queue_arn.as_deref().unwrap_or("an unnamed queue")
            ));
        }
    };
    if req.account != account {
        return Err(format!(
            "the event names account {}, but AWS delivered it from account {account}",
            req.account
        ));
    }
    match trusted.own_account() {
        Some(own) if own == account => Ok(account),
        own => Err(format!(
            "account {account} is not the remediator's own ({}): its role acts there only",
            own.unwrap_or("unknown")
        )),
    }
}

fn is_retry_queue(envelope: &Origin, trusted: &TrustedSources) -> bool {
    matches!(envelope, Origin::Sqs { queue_arn: Some(arn) } if *arn == trusted.retry_queue_arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediation::actions::test_group_request;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:trailguard-findings";
    const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:trailguard-retry";

    fn trusted() -> TrustedSources {
        TrustedSources {
            findings_topic_arn: TOPIC.into(),
            retry_queue_arn: QUEUE.into(),
        }
    }

    fn request(account: &str, region: &str) -> RemediationRequest {
        let mut req = test_group_request();
        req.account = account.into();
        req.region = region.into();
        req
    }

    fn sns(topic: &str) -> Origin {
        Origin::Sns {
            topic_arn: Some(topic.into()),
        }
    }

    fn eventbridge(account: &str, region: &str) -> Origin {
        Origin::EventBridge {
            account: Some(account.into()),
            region: Some(region.into()),
        }
    }

    fn sqs(queue: &str) -> Origin {
        Origin::Sqs {
            queue_arn: Some(queue.into()),
        }
    }

    fn refusal(envelope: &Origin, deferred: bool, req: &RemediationRequest) -> String {
        authenticate(envelope, deferred, req, &trusted())
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn findings_from_the_findings_topic_act_in_its_account_and_the_events_region() {
        let req = request("123456789012", "eu-west-1");
        assert_eq!(
            authenticate(&sns(TOPIC), false, &req, &trusted()).ok(),
            Some("123456789012".to_owned())
        );
    }

    #[test]
    fn findings_from_another_topic_or_none_are_refused() {
        let req = request("123456789012", "us-east-1");
        let other = "arn:aws:sns:us-east-1:123456789012:anyone-can-publish";
        assert!(refusal(&sns(other), false, &req).contains("not from the findings topic"));
        let no_topic = Origin::Sns { topic_arn: None };
        assert!(refusal(&no_topic, false, &req).starts_with("the finding came from no topic"));
        assert!(refusal(&Origin::Direct, false, &req).contains("no envelope"));
    }

    #[test]
    fn an_event_naming_another_account_is_refused() {
        let req = request("210987654321", "us-east-1");
        assert_eq!(
            refusal(&sns(TOPIC), false, &req),
            "the event names account 210987654321, but AWS delivered it from account 123456789012"
        );
        let text = refusal(&eventbridge("123456789012", "us-east-1"), false, &req);
        assert!(
            text.starts_with("the event names account 210987654321"),
            "{text}"
        );
    }

    #[test]
    fn eventbridge_account_and_region_must_match_and_be_our_own() {
        let req = request("123456789012", "us-east-1");
        assert!(
            authenticate(
                &eventbridge("123456789012", "us-east-1"),
                false,
                &req,
                &trusted()
            )
            .is_ok()
        );
        let text = refusal(&eventbridge("123456789012", "eu-west-1"), false, &req);
        assert!(
            text.contains("region us-east-1 is not the region"),
            "{text}"
        );
        let foreign = request("210987654321", "us-east-1");
        let text = refusal(&eventbridge("210987654321", "us-east-1"), false, &foreign);
        assert!(
            text.contains("not the remediator's own (123456789012)"),
            "{text}"
        );
        let bare = Origin::EventBridge {
            account: None,
            region: Some("us-east-1".into()),
        };
        assert!(refusal(&bare, false, &req).contains("names no `account`"));
    }

    #[test]
    fn sqs_is_trusted_for_deferred_requests_from_the_retry_queue_only() {
        let req = request("123456789012", "us-east-1");
        assert!(authenticate(&sqs(QUEUE), true, &req, &trusted()).is_ok());
        let text = refusal(&sqs(QUEUE), false, &req);
        assert!(text.starts_with("SQS records are accepted only"), "{text}");
        let other = "arn:aws:sqs:us-east-1:123456789012:other";
        assert!(
            refusal(&sqs(other), true, &req).starts_with("a deferred request is accepted only")
        );
        assert!(refusal(&sns(TOPIC), true, &req).starts_with("a deferred request"));
        let foreign = request("210987654321", "us-east-1");
        assert!(refusal(&sqs(QUEUE), true, &foreign).contains("not the remediator's own"));
    }

    #[test]
    fn arn_accounts_are_read_by_position() {
        assert_eq!(arn_account(TOPIC), Some("123456789012"));
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_account("nonsense"), None);
    }
}
