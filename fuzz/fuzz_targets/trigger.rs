//! Feeds arbitrary JSON to the remediator's trigger parsing (EventBridge
//! CloudTrail events, trailguard findings over SNS or SQS, deferred
//! requests).
//!
//! Checks that `plan` answers once per SQS message, once per record of an
//! SNS event that unwraps, and otherwise once (a bare trigger, or why the
//! delivery cannot be unwrapped), and that `requests_from_trigger` agrees
//! with it: it fails exactly when a trigger is unreadable, and otherwise
//! returns the planned requests in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trailguard_engine::envelope::records_source;
use trailguard_engine::remediation::{Planned, plan, requests_from_trigger};

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let plans = plan(&payload);
    let records = payload.get("Records").and_then(Value::as_array);
    let expected = match (records, records.and_then(|r| records_source(r))) {
        (Some(records), Some("aws:sqs")) => records.len(),
        (Some(records), Some("aws:sns")) if plans.iter().all(|p| p.outcome.is_ok()) => {
            records.len()
        }
        _ => 1,
    };
    assert_eq!(plans.len(), expected, "one plan per trigger");
    let mut planned = Vec::new();
    let mut unreadable = false;
    for trigger in &plans {
        match &trigger.outcome {
            Ok(Planned::Request(request)) => planned.push((**request).clone()),
            Ok(Planned::NoAction { reason }) => assert!(!reason.is_empty()),
            Err(error) => {
                assert!(!error.to_string().is_empty());
                unreadable = true;
                break;
            }
        }
    }
    match requests_from_trigger(&payload) {
        Ok(requests) => {
            assert!(!unreadable, "an unreadable trigger was accepted");
            assert_eq!(requests, planned, "requests differ from the plan");
        }
        Err(_) => assert!(unreadable, "a readable payload was refused"),
    }
});

