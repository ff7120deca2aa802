//! Feeds arbitrary text to the trailguard rule-file loader (YAML), and
//! evaluates what loads against CloudTrail records.
//!
//! Input: a rule file, optionally followed by a `#record` line and a JSON
//! record. Checks that, for a file that loads:
//! - rule ids are unique;
//! - every rule's pattern has a canonical form that parses back;
//! - the indexed catalogue finds exactly the rules a scan of every rule
//!   finds, in load order, whether given the JSON value or the typed record.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailguard_engine::Record;
use trailguard_engine::rules::{Catalogue, FilterPattern, RuleText};
use trailguard_fuzz::{RECORDS, split_record};

fn check_record(catalogue: &Catalogue, json: &str) {
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return;
    };
    let scanned: Vec<&str> = catalogue
        .rules()
        .iter()
        .filter(|rule| rule.pattern().matches(&value))
        .map(|rule| rule.id())
        .collect();
    let indexed: Vec<&str> = catalogue.matches(&value).iter().map(|r| r.id()).collect();
    assert_eq!(indexed, scanned, "the index misses or adds rules");
    if let Ok(record) = Record::from_json(json) {
        let mut typed = Vec::new();
        catalogue.for_each_match_record(&record, |rule| typed.push(rule.id()));
        assert_eq!(typed, scanned, "the typed record matches other rules");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (yaml, record) = split_record(text);
    let file = RuleText {
        origin: "fuzz.yaml".to_owned(),
        text: yaml.to_owned(),
    };
    let catalogue = match Catalogue::load(false, &[file]) {
        Ok(catalogue) => catalogue,
        Err(error) => {
            assert!(error.to_string().starts_with("rule file fuzz.yaml"));
            return;
        }
    };
    let mut ids = HashSet::new();
    for rule in catalogue.rules() {
        assert!(ids.insert(rule.id()), "rule id {} loaded twice", rule.id());
        let canonical = rule.pattern().to_string();
        assert!(
            FilterPattern::parse(&canonical).is_ok(),
            "{canonical:?} does not parse"
        );
    }
    for json in RECORDS.iter().copied().chain(record) {
        check_record(&catalogue, json);
    }
});
