//! The findings metric: findings published per severity, so a dashboard
//! shows how many findings of each severity went out over time.
//!
//! The notifier prints these as Embedded Metric Format lines ([`super::emf`])
//! after each publish: its log group turns them into metrics, with no
//! CloudWatch permission or API call in the function.

use std::collections::BTreeMap;

use super::Datum;
use super::names::{FINDINGS_PUBLISHED, SEVERITY_DIMENSION};
use crate::findings::Finding;
use crate::rules::Severity;

/// One datapoint per severity among `findings`, at `now` (epoch seconds),
/// in `namespace` (the operational one).
pub fn per_severity<'a>(
    findings: impl IntoIterator<Item = &'a Finding>,
    namespace: &str,
    now: i64,
) -> Vec<Datum> {
    let mut counts: BTreeMap<Severity, u64> = BTreeMap::new();
    for finding in findings {
        *counts.entry(finding.rule.severity).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(severity, count)| Datum {
            rule_id: None,
            references: Vec::new(),
            namespace: namespace.to_owned(),
            metric_name: FINDINGS_PUBLISHED.to_owned(),
            dimensions: vec![(SEVERITY_DIMENSION.to_owned(), severity.as_str().to_owned())],
            timestamp: now - now.rem_euclid(60),
            value: count as f64,
            unit: "Count".to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::RuleInfo;
    use crate::metrics::emf;
    use serde_json::{Value, json};

    fn finding(severity: Severity, id: &str) -> Finding {
        let rule = RuleInfo {
            id: format!("r-{}", severity.as_str()),
            title: "t".into(),
            description: String::new(),
            severity,
            references: vec![],
            engine: "trailguard",
        };
        Finding::new(rule, &json!({"eventID": id}), None)
    }

    #[test]
    fn findings_are_counted_per_severity_as_emf() {
        let findings = [
            finding(Severity::High, "a"),
            finding(Severity::Low, "b"),
            finding(Severity::High, "c"),
        ];
        let datums = per_severity(&findings, "Trailguard", 125);
        let counts: Vec<(&str, f64, i64)> = datums
            .iter()
            .map(|d| (d.dimensions[0].1.as_str(), d.value, d.timestamp))
            .collect();
        assert_eq!(counts, [("low", 1.0, 120), ("high", 2.0, 120)]);
        let line: Value = serde_json::from_str(&emf::lines(&datums)[0]).unwrap();
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"],
            FINDINGS_PUBLISHED
        );
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Severity"]])
        );
    }
}
