//! Feeds arbitrary text to the Sigma rule loader (YAML, several documents
//! per file), and evaluates what loads against CloudTrail records.
//!
//! Input: a Sigma file, optionally followed by a `#record` line and a JSON
//! record. Checks that:
//! - every loaded rule has an id, and ids are unique;
//! - skipped documents name the file;
//! - the indexed rule set finds exactly the rules a scan of every rule
//!   finds, in load order, for the JSON value and for the typed record; and
//!   when the index says no rule could match, none does.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailguard_engine::Record;
use trailguard_engine::sigma::SigmaRules;
use trailguard_fuzz::{RECORDS, split_record};

const ORIGIN: &str = "fuzz.yml";

fn check_record(rules: &SigmaRules, json: &str) {
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return;
    };
    let scanned: Vec<&str> = rules
        .rules()
        .iter()
        .filter(|rule| rule.matches(&value))
        .map(|rule| rule.id())
        .collect();
    let indexed: Vec<&str> = rules.matching(&value).map(|r| r.id()).collect();
    assert_eq!(indexed, scanned, "the index misses or adds rules");
    if let Ok(record) = Record::from_json(json) {
        let typed: Vec<&str> = rules.matching_record(&record).map(|r| r.id()).collect();
        assert_eq!(typed, scanned, "the typed record matches other rules");
        let mut memo = rules.pass_memo();
        let pass: Vec<&str> = rules
            .matching_in_pass(&record, &mut memo)
            .map(|r| r.id())
            .collect();
        assert_eq!(pass, scanned, "the pass memo changes the answer");
        if !rules.could_match(&record) {
            assert!(scanned.is_empty(), "could_match ruled out a matching rule");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (yaml, record) = split_record(text);
    let (rules, skipped) = SigmaRules::load(&[(ORIGIN, yaml)]);
    let mut ids = HashSet::new();
    for rule in rules.rules() {
        assert!(!rule.id().is_empty(), "a rule without an id");
        assert!(ids.insert(rule.id()), "rule id {} loaded twice", rule.id());
    }
    for skip in &skipped {
        assert_eq!(skip.origin, ORIGIN);
        assert!(!skip.reason.to_string().is_empty());
    }
    for json in RECORDS.iter().copied().chain(record) {
        check_record(&rules, json);
    }
});
