//! CloudWatch Embedded Metric Format: datapoints as structured log lines.
//!
//! Lambda ships stdout to CloudWatch Logs, which extracts metrics from lines
//! in this format: no API calls and no `PutMetricData` cost at volume. Spec:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::Datum;

/// The most metrics one EMF directive may declare.
pub const MAX_METRICS_PER_LINE: usize = 100;

/// Renders datapoints as EMF lines: one line per (namespace, dimensions,
/// timestamp), at most [`MAX_METRICS_PER_LINE`] metrics each.
pub fn lines(datums: &[Datum]) -> Vec<String> {
    type Group<'a> = (&'a str, &'a [(String, String)], i64);
    let mut groups: BTreeMap<Group<'_>, Vec<&Datum>> = BTreeMap::new();
    for d in datums {
        groups
            .entry((&d.namespace, &d.dimensions, d.timestamp))
            .or_default()
            .push(d);
    }
    let mut out = Vec::new();
    for ((namespace, dimensions, timestamp), members) in groups {
        for chunk in members.chunks(MAX_METRICS_PER_LINE) {
            let mut root = Map::new();
            for (name, value) in dimensions {
                root.insert(name.clone(), Value::String(value.clone()));
            }
            let metrics: Vec<Value> = chunk
                .iter()
                .map(|d| json!({"Name": d.metric_name, "Unit": d.unit}))
                .collect();
            for d in chunk {
                root.insert(d.metric_name.clone(), json!(d.value));
            }
            let names: Vec<&str> = dimensions.iter().map(|(n, _)| n.as_str()).collect();
            root.insert(
                "_aws".to_owned(),
                json!({
                    "Timestamp": timestamp.saturating_mul(1000),
                    "CloudWatchMetrics": [{
                        "Namespace": namespace,
                        "Dimensions": [names],
                        "Metrics": metrics,
                    }],
                }),
            );
            out.push(Value::Object(root).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn datum(name: &str, dims: &[(&str, &str)], ts: i64, value: f64) -> Datum {
        Datum {
            rule_id: None,
            references: vec![],
            namespace: "CloudTrailMetrics".into(),
            metric_name: name.into(),
            dimensions: dims
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            timestamp: ts,
            value,
            unit: "Count".into(),
        }
    }

    #[test]
    fn groups_by_dimensions_and_minute() {
        let lines = lines(&[
            datum("RootAccountUsage", &[], 60, 2.0),
            datum("VPCChanges", &[], 60, 1.0),
            datum("VPCChanges", &[], 120, 4.0),
            datum("ApiErrors", &[("EventSource", "s3.amazonaws.com")], 60, 3.0),
        ]);
        assert_eq!(lines.len(), 3);
        let first: Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["_aws"]["Timestamp"], 60_000);
        assert_eq!(
            first["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([[]])
        );
        assert_eq!(first["RootAccountUsage"], 2.0);
        assert_eq!(first["VPCChanges"], 1.0);
        let dimensioned: Value = serde_json::from_str(&lines[2]).unwrap();
        assert_eq!(dimensioned["EventSource"], "s3.amazonaws.com");
        assert_eq!(
            dimensioned["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["EventSource"]])
        );
    }

    #[test]
    fn splits_more_than_a_hundred_metrics() {
        let many: Vec<Datum> = (0..150)
            .map(|i| datum(&format!("M{i}"), &[], 0, 1.0))
            .collect();
        let lines = lines(&many);
        assert_eq!(lines.len(), 2);
        let second: Value = serde_json::from_str(&lines[1]).unwrap();
        let declared = second["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap();
        assert_eq!(declared.len(), 50);
    }
}
