//! Findings as chat messages: AWS Chatbot's (Amazon Q Developer in chat
//! applications) custom notification format, which it renders in Slack,
//! Microsoft Teams and Amazon Chime channels subscribed to an SNS topic.
//!
//! A Finding v1 JSON body is not a format Chatbot renders, so findings are
//! published to the chat topic in this shape
//! (`schemas/chatbot-custom-notification.schema.json`): a one-line title
//! (severity, rule, who, what, where), the seven facets as the description,
//! the next steps (the CloudTrail console link, the `trailguard explain`
//! command), keywords, and the related resources. A flood summary is one
//! message like any finding: the matches it holds back are not sent.

use serde::Serialize;
use serde_json::Value;

use super::finding::Finding;
use super::readable;
use crate::rules::Severity;

/// `version` of the custom notification format.
pub const VERSION: &str = "1.0";
/// `source` of every custom notification.
pub const SOURCE: &str = "custom";
/// Characters of one facet shown before it is cut (chat lines stay short;
/// the full values are in the findings topic's JSON).
const FACET_CHARS: usize = 200;

/// A custom notification (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    /// Always [`VERSION`].
    pub version: &'static str,
    /// Always [`SOURCE`].
    pub source: &'static str,
    /// The finding id.
    pub id: String,
    /// What the channel shows.
    pub content: Content,
    /// Threading and context.
    pub metadata: Metadata,
}

/// What the channel shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// `client-markdown`: rendered in the chat platform's markdown.
    pub text_type: &'static str,
    /// One line: severity, rule title, who, what, where.
    pub title: String,
    /// The seven facets, one per line.
    pub description: String,
    /// What to do next.
    pub next_steps: Vec<String>,
    /// Severity, rule id, account, region, event name.
    pub keywords: Vec<String>,
}

/// Threading and context.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// Findings of one rule in one account share a thread.
    pub thread_id: String,
    /// The title, for notification previews.
    pub summary: String,
    /// `trailguard finding`.
    pub event_type: &'static str,
    /// ARNs the event names (resources, the principal) and the log file.
    pub related_resources: Vec<String>,
    /// Ids for looking the finding up elsewhere.
    pub additional_context: AdditionalContext,
}

/// Ids for looking the finding up elsewhere.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdditionalContext {
    /// The finding id.
    pub finding_id: String,
    /// The rule id.
    pub rule_id: String,
    /// The severity.
    pub severity: Severity,
}

impl ChatMessage {
    /// The message for `finding`.
    pub fn of(finding: &Finding) -> ChatMessage {
        let rule = &finding.rule;
        let title = finding.subject();
        let description = readable::facets(finding)
            .iter()
            .map(|(label, value)| format!("*{label}:* {}", readable::clip(value, FACET_CHARS)))
            .collect::<Vec<_>>()
            .join("\n");
        let keywords = [
            Some(rule.severity.as_str()),
            Some(rule.id.as_str()),
            finding.account(),
            finding.region(),
            finding.event.what.event_name.as_deref(),
        ]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
        ChatMessage {
            version: VERSION,
            source: SOURCE,
            id: finding.id.clone(),
            content: Content {
                text_type: "client-markdown",
                title: title.clone(),
                description,
                next_steps: readable::next_steps(finding),
                keywords,
            },
            metadata: Metadata {
                thread_id: format!(
                    "trailguard/{}/{}",
                    rule.id,
                    finding.account().unwrap_or("unknown")
                ),
                summary: title,
                event_type: "trailguard finding",
                related_resources: related_resources(finding),
                additional_context: AdditionalContext {
                    finding_id: finding.id.clone(),
                    rule_id: rule.id.clone(),
                    severity: rule.severity,
                },
            },
        }
    }

    /// The message as SNS sends it.
    pub fn to_json(&self) -> String {
        // Only strings, lists and a severity: serialization cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The ARNs in the event's `resources`, the principal's ARN, the log file.
fn related_resources(finding: &Finding) -> Vec<String> {
    let resources = finding
        .event
        .what
        .resources
        .as_deref()
        .and_then(|raw| serde_json::from_str::<Vec<Value>>(raw.get()).ok())
        .unwrap_or_default();
    let arns = resources
        .iter()
        .filter_map(|r| r.get("ARN").and_then(Value::as_str))
        .map(str::to_owned);
    let mut out: Vec<String> = Vec::new();
    for arn in arns
        .chain(finding.event.who.arn.clone())
        .chain(finding.log_file.as_ref().map(ToString::to_string))
    {
        if !out.contains(&arn) {
            out.push(arn);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::ObjectRef;
    use crate::findings::RuleInfo;
    use serde_json::json;

    fn finding() -> Finding {
        let rule = RuleInfo {
            id: "cloudtrail-logging-stopped".into(),
            title: "CloudTrail logging stopped".into(),
            description: "A trail stopped logging.".into(),
            severity: Severity::High,
            references: vec!["attack:T1562.008".into()],
            engine: "trailguard",
        };
        let event = json!({
            "eventID": "e1", "eventTime": "2023-07-10T11:45:00Z",
            "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
            "eventType": "AwsApiCall", "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15.0",
            "recipientAccountId": "111122223333",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
            "resources": [{"ARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/main"}]
        });
        Finding::new(
            rule,
            &event,
            Some(&ObjectRef::new("logs", "AWSLogs/x.json.gz")),
        )
    }

    #[test]
    fn a_finding_reads_as_a_custom_notification() {
        let message = ChatMessage::of(&finding());
        let value: Value = serde_json::from_str(&message.to_json()).unwrap();
        assert_eq!(value["version"], "1.0");
        assert_eq!(value["source"], "custom");
        let content = &value["content"];
        // The subject line, cut to SNS's 100 characters.
        assert_eq!(content["title"], finding().subject());
        assert!(content["title"].as_str().unwrap().starts_with(
            "[HIGH] CloudTrail logging stopped: StopLogging by arn:aws:iam::111122223333:user/alice"
        ));
        let description = content["description"].as_str().unwrap();
        assert_eq!(description.lines().count(), 7, "{description}");
        assert!(description.contains("*From:* 203.0.113.7"), "{description}");
        let steps = content["nextSteps"].to_string();
        assert!(steps.contains("#/events/e1"), "{steps}");
        assert!(
            steps.contains("trailguard explain cloudtrail-logging-stopped"),
            "{steps}"
        );
        assert_eq!(
            value["metadata"]["relatedResources"],
            json!([
                "arn:aws:cloudtrail:us-east-1:111122223333:trail/main",
                "arn:aws:iam::111122223333:user/alice",
                "s3://logs/AWSLogs/x.json.gz"
            ])
        );
    }
}
