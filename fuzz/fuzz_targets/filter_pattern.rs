//! Feeds arbitrary text to the CloudWatch Logs JSON filter-pattern parser,
//! and evaluates what parses against CloudTrail records.
//!
//! Input: a pattern, optionally followed by a `#record` line and a JSON
//! record to evaluate it against (besides the built-in records). Checks
//! that:
//! - an error's column lies within the pattern (or just past its end);
//! - the canonical form (`Display`) parses back to a pattern with the same
//!   canonical form, that matches exactly the same records;
//! - `explain` agrees with `matches`;
//! - matching a typed record gives the answer matching its JSON value does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailguard_engine::Record;
use trailguard_engine::rules::FilterPattern;
use trailguard_fuzz::{RECORDS, split_record};

fn check_record(pattern: &FilterPattern, again: &FilterPattern, json: &str) {
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return;
    };
    let matched = pattern.matches(&value);
    assert_eq!(
        matched,
        again.matches(&value),
        "the canonical form matches differently"
    );
    assert_eq!(
        matched,
        pattern.explain(&value).held,
        "explain disagrees with matches"
    );
    if let Ok(record) = Record::from_json(json) {
        assert_eq!(
            matched,
            pattern.matches_record(&record),
            "the typed record matches differently from its value"
        );
        assert_eq!(matched, pattern.matches(&record));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (source, record) = split_record(text);
    let pattern = match FilterPattern::parse(source) {
        Ok(pattern) => pattern,
        Err(error) => {
            let chars = source.chars().count();
            assert!(
                (1..=chars + 1).contains(&error.column),
                "column {} outside a pattern of {chars} characters",
                error.column
            );
            return;
        }
    };
    assert_eq!(pattern.source(), source);
    let canonical = pattern.to_string();
    let again = FilterPattern::parse(&canonical)
        .unwrap_or_else(|e| panic!("the canonical form {canonical:?} does not parse: {e}"));
    assert_eq!(
        again.to_string(),
        canonical,
        "the canonical form is not stable"
    );
    let _ = pattern.paths();
    for json in RECORDS.iter().copied().chain(record) {
        check_record(&pattern, &again, json);
    }
});
