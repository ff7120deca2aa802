//! Publishing findings at most once across redeliveries: each finding id is
//! claimed in the dedup [`Ledger`] before it goes out, marked done once
//! every sink accepted it, and released when one rejected it, so the retry
//! of the message publishes exactly the ones still missing.

use tracing::warn;

use crate::ledger::{Claim, Ledger};
use crate::sinks::sns::Rejected;
use trailguard_engine::findings::Finding;

/// The findings not published before, and the ids claimed for them (none
/// without a ledger). A finding claimed by an overlapping invocation is
/// left to it: that invocation retries on its own failure.
pub async fn claim_fresh<'f>(
    ledger: Option<&Ledger>,
    findings: &'f [Finding],
    now: i64,
) -> Result<(Vec<&'f Finding>, Vec<String>), String> {
    let mut fresh = Vec::new();
    let mut claimed = Vec::new();
    for finding in findings {
        if let Some(ledger) = ledger {
            match ledger
                .claim(&finding.id, now)
                .await
                .map_err(|e| e.to_string())?
            {
                Claim::Acquired => claimed.push(finding.id.clone()),
                Claim::AlreadyDone | Claim::InProgress => continue,
            }
        }
        fresh.push(finding);
    }
    Ok((fresh, claimed))
}

/// Settles the claims of `published` findings after the sinks answered:
/// done for those no sink rejected, released for the rest. Returns how many
/// went out, or an error naming the first rejection.
pub async fn settle(
    ledger: Option<&Ledger>,
    claimed: &[String],
    rejected: &[Rejected],
    published: usize,
    now: i64,
) -> Result<usize, String> {
    let (failed, ok): (Vec<String>, Vec<String>) = claimed
        .iter()
        .cloned()
        .partition(|id| rejected.iter().any(|r| &r.finding_id == id));
    complete_all(ledger, &ok, now).await;
    release_all(ledger, &failed).await;
    match rejected.first() {
        Some(first) => Err(format!(
            "{} of {published} findings not published (first: {}: {})",
            rejected.len(),
            first.finding_id,
            first.reason
        )),
        None => Ok(published),
    }
}

/// Marks claims done.
pub async fn complete_all(ledger: Option<&Ledger>, ids: &[String], now: i64) {
    let Some(ledger) = ledger else { return };
    for id in ids {
        if let Err(e) = ledger.complete(id, now).await {
            // The work is out; at worst a redelivery reports it again.
            warn!(error = %e, "could not mark done");
        }
    }
}

/// Releases claims for a retry.
pub async fn release_all(ledger: Option<&Ledger>, ids: &[String]) {
    let Some(ledger) = ledger else { return };
    for id in ids {
        if let Err(e) = ledger.release(id).await {
            // The lease expires on its own; the retry waits for it.
            warn!(error = %e, "could not release claim");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailguard_engine::findings::RuleInfo;
    use trailguard_engine::rules::Severity;

    fn finding(event_id: &str) -> Finding {
        let rule = RuleInfo {
            id: "r".into(),
            title: "t".into(),
            description: String::new(),
            severity: Severity::High,
            references: vec![],
            engine: "trailguard",
        };
        Finding::new(rule, &json!({"eventID": event_id}), None)
    }

    #[tokio::test]
    async fn without_a_ledger_everything_is_fresh_and_rejections_are_errors() {
        let findings = [finding("a"), finding("b")];
        let (fresh, claimed) = claim_fresh(None, &findings, 0).await.unwrap();
        assert_eq!(fresh.len(), 2);
        assert!(claimed.is_empty());
        assert_eq!(settle(None, &claimed, &[], 2, 0).await, Ok(2));
        let rejected = [Rejected {
            finding_id: findings[1].id.clone(),
            reason: "Throttled".into(),
        }];
        let error = settle(None, &claimed, &rejected, 2, 0).await.unwrap_err();
        assert_eq!(
            error,
            format!(
                "1 of 2 findings not published (first: {}: Throttled)",
                findings[1].id
            )
        );
    }
}
