//! The stack's EventBridge rule for the remediator (template.yaml
//! `RemediatorFunction` → `CloudTrailCalls`) asks for exactly the calls the
//! actions declare (`EVENT_SOURCE`, `EVENT_NAMES`): a call missing from the
//! rule is never remediated, and an extra one only costs invocations.

use std::collections::BTreeSet;

use trailguard_engine::remediation::ActionKind;
use yaml_serde::Value as Yaml;

fn pattern() -> Yaml {
    let path = testkit::repo_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).expect("template.yaml");
    let template: Yaml = yaml_serde::from_str(&text).expect("template parses");
    template["Resources"]["RemediatorFunction"]["Properties"]["Events"]["CloudTrailCalls"]
        ["Properties"]["Pattern"]
        .clone()
}

fn strings(value: &Yaml) -> BTreeSet<String> {
    value
        .as_sequence()
        .expect("a list")
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn the_rule_asks_for_the_calls_the_actions_declare() {
    let pattern = pattern();
    let declared: BTreeSet<String> = ActionKind::ALL
        .iter()
        .flat_map(|kind| kind.event_names().iter().map(|n| (*n).to_owned()))
        .collect();
    assert_eq!(strings(&pattern["detail"]["eventName"]), declared);
    // `ec2.amazonaws.com` is delivered by EventBridge as source `aws.ec2`.
    let sources: BTreeSet<String> = ActionKind::ALL
        .iter()
        .map(|kind| {
            let service = kind.event_source().trim_end_matches(".amazonaws.com");
            format!("aws.{service}")
        })
        .collect();
    assert_eq!(strings(&pattern["source"]), sources);
}

#[test]
fn every_declared_call_maps_back_to_its_action() {
    for kind in ActionKind::ALL {
        for name in kind.event_names() {
            assert_eq!(ActionKind::for_event_name(name), Some(kind), "{name}");
        }
    }
    assert_eq!(ActionKind::for_event_name("RunInstances"), None);
}
