//! Reading group-by and counted fields from an event's facets.
//!
//! The facets hold the common fields already (`userIdentity.arn`,
//! `sourceIPAddress`, `eventName`, ...), so most look-ups cost nothing;
//! any other dotted path is read from the event's JSON, parsed once per
//! event and only when needed (request parameters alone when the path is
//! under them).

use serde_json::Value;

use crate::findings::finding::EventFacts;

/// The event's JSON (or its request parameters), parsed on first use.
#[derive(Default)]
pub(super) struct Parsed {
    event: Option<Option<Value>>,
    parameters: Option<Option<Value>>,
}

/// The value of the dotted `path` in `facts`' event, as text: strings as
/// they are, numbers and booleans written out, objects and arrays as
/// compact JSON; `None` when absent or `null`.
pub(super) fn field_value(facts: &EventFacts, path: &str, parsed: &mut Parsed) -> Option<String> {
    if let Some(known) = facet(facts, path) {
        return known.map(str::to_owned);
    }
    if let Some(rest) = path.strip_prefix("requestParameters.") {
        let parameters = parsed.parameters.get_or_insert_with(|| {
            let raw = facts.what.request_parameters.as_deref()?;
            serde_json::from_str(raw.get()).ok()
        });
        return text_at(parameters.as_ref()?, rest);
    }
    let event = parsed
        .event
        .get_or_insert_with(|| serde_json::from_str(facts.raw_event()).ok());
    text_at(event.as_ref()?, path)
}

/// A field the facets hold as read: `Some(value)`, or `None` when the
/// facets do not hold that field.
fn facet<'f>(facts: &'f EventFacts, path: &str) -> Option<Option<&'f str>> {
    let who = &facts.who;
    Some(match path {
        "userIdentity.arn" => who.arn.as_deref(),
        "userIdentity.type" => who.identity_type.as_deref(),
        "userIdentity.userName" => who.user_name.as_deref(),
        "userIdentity.principalId" => who.principal_id.as_deref(),
        "userIdentity.accountId" => who.account_id.as_deref(),
        "userIdentity.accessKeyId" => who.access_key_id.as_deref(),
        "userIdentity.invokedBy" => who.invoked_by.as_deref(),
        "userIdentity.sessionContext.sessionIssuer.arn" => who.session_issuer.as_deref(),
        "eventID" => facts.event_id.as_deref(),
        "eventTime" => facts.time.as_deref(),
        "sourceIPAddress" => facts.source_ip.as_deref(),
        "userAgent" => facts.user_agent.as_deref(),
        "eventSource" => facts.what.event_source.as_deref(),
        "eventName" => facts.what.event_name.as_deref(),
        "eventType" => facts.what.event_type.as_deref(),
        "awsRegion" => facts.where_.region.as_deref(),
        "vpcEndpointId" => facts.where_.vpc_endpoint_id.as_deref(),
        "errorCode" => facts.outcome.error_code.as_deref(),
        "errorMessage" => facts.outcome.error_message.as_deref(),
        _ => return None,
    })
}

/// The text at a dotted path (an exact key containing dots wins).
fn text_at(value: &Value, path: &str) -> Option<String> {
    if let Some(direct) = value.get(path) {
        return text_of(direct);
    }
    let mut current = value;
    for part in path.split('.') {
        current = current.get(part)?;
    }
    text_of(current)
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_facets_parameters_and_other_paths() {
        let facts = EventFacts::from_value(&json!({
            "eventVersion": "1.08", "eventTime": "2024-01-01T00:00:00Z", "eventID": "e1",
            "eventName": "CreateUser", "eventSource": "iam.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a"},
            "requestParameters": {"userName": "mallory", "tags": [1]},
            "recipientAccountId": "111122223333",
            "additionalEventData": {"MFAUsed": "No"}
        }));
        let mut parsed = Parsed::default();
        let mut read = |path| field_value(&facts, path, &mut parsed);
        assert_eq!(
            read("userIdentity.arn").as_deref(),
            Some("arn:aws:iam::1:user/a")
        );
        assert_eq!(
            read("requestParameters.userName").as_deref(),
            Some("mallory")
        );
        assert_eq!(read("requestParameters.tags").as_deref(), Some("[1]"));
        assert_eq!(read("recipientAccountId").as_deref(), Some("111122223333"));
        assert_eq!(read("additionalEventData.MFAUsed").as_deref(), Some("No"));
        assert_eq!(read("errorCode"), None);
        assert_eq!(read("requestParameters.missing"), None);
    }
}
