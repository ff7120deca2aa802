//! The stack's CloudWatch dashboard (template.yaml `Dashboard`) names only
//! metrics trailguard publishes (`metrics::names` and the rule catalogue)
//! or AWS publishes for the stack's own queues and functions, and shows
//! what the README says it shows.

use std::collections::BTreeSet;

use serde_json::Value;
use trailguard_engine::metrics::names::{self, Namespace};
use trailguard_engine::rules::Catalogue;
use yaml_serde::Value as Yaml;

/// Stand-ins for the two namespace parameters in the body.
const RULES_NS: &str = "<rules namespace>";
const OPS_NS: &str = "<ops namespace>";

/// AWS's own metrics the dashboard may read.
const AWS_METRICS: [(&str, &str); 3] = [
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
    ("AWS/Lambda", "Errors"),
    ("AWS/Lambda", "Throttles"),
];

fn template() -> Yaml {
    let path = testkit::repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    yaml_serde::from_str(&text).unwrap()
}

/// The `!Sub` body with every `${...}` checked to name a parameter, a
/// resource (or its attribute) or a pseudo parameter, the namespaces
/// replaced by stand-ins and the rest by its name.
fn body(template: &Yaml) -> Value {
    let Yaml::Tagged(sub) = &template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]
    else {
        panic!("DashboardBody is not a !Sub");
    };
    assert_eq!(sub.tag.to_string(), "!Sub");
    let mut text = sub.value.as_str().unwrap().to_owned();
    while let Some(start) = text.find("${") {
        let end = start + text[start..].find('}').unwrap();
        let name = text[start + 2..end].to_owned();
        let base = name.split('.').next().unwrap();
        let known = base.starts_with("AWS::")
            || !template["Parameters"][base].is_null()
            || !template["Resources"][base].is_null();
        assert!(
            known,
            "the dashboard names ${{{name}}}, which the template does not define"
        );
        let value = match name.as_str() {
            "MetricNamespace" => RULES_NS.to_owned(),
            "OpsNamespace" => OPS_NS.to_owned(),
            _ => format!("<{name}>"),
        };
        text.replace_range(start..=end, &value);
    }
    serde_json::from_str(&text).unwrap()
}

/// (namespace, metric name, first dimension value) of every metric a
/// widget reads, `SEARCH` expressions included.
fn metrics_read(body: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for widget in body["widgets"].as_array().unwrap() {
        let Some(rows) = widget["properties"]["metrics"].as_array() else {
            continue;
        };
        let (mut namespace, mut name) = (String::new(), String::new());
        for row in rows {
            let row = row.as_array().unwrap();
            if let Some(expression) = row[0]["expression"].as_str() {
                // SEARCH('{Namespace,Dim,...} MetricName="Name"', ...)
                let ns = expression
                    .split('{')
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap();
                let metric = expression.split("MetricName=\"").nth(1).unwrap();
                let metric = metric.split('"').next().unwrap();
                out.push((ns.to_owned(), metric.to_owned(), None));
                continue;
            }
            // "." repeats the row above's value.
            if row[0] != "." {
                namespace = row[0].as_str().unwrap().to_owned();
            }
            if row[1] != "." {
                name = row[1].as_str().unwrap().to_owned();
            }
            let dimension = row.get(3).and_then(Value::as_str).map(str::to_owned);
            out.push((namespace.clone(), name.clone(), dimension));
        }
    }
    out
}

#[test]
fn the_dashboard_reads_only_metrics_that_are_published() {
    let template = template();
    let published = names::published(&Catalogue::builtin().unwrap());
    let read = metrics_read(&body(&template));
    assert!(read.len() > 20, "{read:?}");
    for (namespace, name, _) in &read {
        let ours = match namespace.as_str() {
            RULES_NS => Some(Namespace::Rules),
            OPS_NS => Some(Namespace::Ops),
            _ => None,
        };
        match ours {
            Some(ns) => assert!(
                published.contains(&(ns.clone(), name.clone())),
                "{name} in {ns:?} is not a metric trailguard publishes"
            ),
            None => assert!(
                AWS_METRICS.contains(&(namespace.as_str(), name.as_str())),
                "{namespace}/{name} is neither trailguard's nor an allowed AWS metric"
            ),
        }
    }
}

#[test]
fn the_dashboard_shows_what_matters() {
    let template = template();
    let body = body(&template);
    let read = metrics_read(&body);
    let names_in = |ns: &str| -> BTreeSet<String> {
        read.iter()
            .filter(|(n, _, _)| n == ns)
            .map(|(_, name, _)| name.clone())
            .collect()
    };
    // Every rule metric of the catalogue (the CIS metrics).
    let catalogue = Catalogue::builtin().unwrap();
    for (ns, name) in names::published(&catalogue) {
        if ns == Namespace::Rules && !names::INTEGRITY.contains(&name.as_str()) {
            assert!(
                names_in(RULES_NS).contains(&name),
                "rule metric {name} not shown"
            );
        }
    }
    for name in [names::INTEGRITY_FAILURES, names::DIGEST_DELIVERY_GAPS] {
        assert!(names_in(RULES_NS).contains(name), "{name}");
    }
    for name in [
        names::API_ERRORS,
        names::FILES_PROCESSED,
        names::RECORDS_PROCESSED,
        names::PROCESSING_LAG_SECONDS,
    ] {
        assert!(names_in(OPS_NS).contains(name), "{name}");
    }
    let severities: BTreeSet<&str> = read
        .iter()
        .filter(|(_, name, _)| name == names::FINDINGS_PUBLISHED)
        .filter_map(|(_, _, severity)| severity.as_deref())
        .collect();
    assert_eq!(
        severities,
        BTreeSet::from(["critical", "high", "medium", "low", "informational"])
    );
    // Every dead-letter queue's depth and every function's errors.
    let resources = template["Resources"].as_mapping().unwrap();
    let shown: BTreeSet<String> = read.iter().filter_map(|(_, _, d)| d.clone()).collect();
    for (name, resource) in resources {
        let name = name.as_str().unwrap();
        let kind = resource["Type"].as_str().unwrap();
        if kind == "AWS::SQS::Queue" && name.ends_with("DeadLetterQueue") {
            assert!(
                shown.contains(&format!("<{name}.QueueName>")),
                "{name} depth"
            );
        }
        if kind == "AWS::Serverless::Function" {
            assert!(shown.contains(&format!("<{name}>")), "{name} errors");
        }
    }
    // The first widget says what to look at first.
    let first = &body["widgets"][0];
    assert_eq!(first["type"], "text");
    assert!(
        first["properties"]["markdown"]
            .as_str()
            .unwrap()
            .contains("look at first")
    );
}
