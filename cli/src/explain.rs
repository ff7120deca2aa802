//! `trailguard explain RULE_ID --event FILE`: for a trailguard rule, the
//! condition tree with each part marked held or failed; for a Sigma rule,
//! matched or not matched.
//!
//! The event file holds one CloudTrail record as JSON (or YAML), or a log
//! file's `{"Records":[...]}` / array, in which case every record is
//! explained in turn.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;

use crate::outcome::Outcome;
use crate::ruleset::RuleArgs;

/// `trailguard explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule (trailguard or Sigma id; see `trailguard rules list`).
    pub rule_id: String,
    /// A file with one CloudTrail record (JSON or YAML), or a log file's records.
    #[arg(long, value_name = "FILE")]
    pub event: PathBuf,
    #[command(flatten)]
    pub rules: RuleArgs,
}

/// The records in an event file's text.
pub fn events_of(text: &str) -> anyhow::Result<Vec<Value>> {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(json) => yaml_serde::from_str(text)
            .map_err(|_| json)
            .context("not a JSON (or YAML) document")?,
    };
    Ok(match value {
        Value::Array(records) => records,
        Value::Object(mut map) => match map.remove("Records") {
            Some(Value::Array(records)) => records,
            Some(other) => {
                map.insert("Records".to_owned(), other);
                vec![Value::Object(map)]
            }
            None => vec![Value::Object(map)],
        },
        other => bail!("expected a CloudTrail record (an object), found {other}"),
    })
}

/// Runs `trailguard explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let ruleset = args.rules.load().context("loading rules")?;
    let text = std::fs::read_to_string(&args.event)
        .with_context(|| format!("cannot read {}", args.event.display()))?;
    let events = events_of(&text).with_context(|| args.event.display().to_string())?;
    let mut out = std::io::stdout().lock();
    let mut all_matched = true;
    for (index, event) in events.iter().enumerate() {
        let label = event
            .get("eventID")
            .and_then(Value::as_str)
            .map_or_else(|| format!("record {index}"), |id| format!("event {id}"));
        let matched = if let Some(rule) = ruleset.catalogue.get(&args.rule_id) {
            let explanation = rule.pattern().explain(event);
            let verdict = if explanation.held {
                "matched"
            } else {
                "not matched"
            };
            writeln!(out, "{}: {label}: {verdict}", rule.id())?;
            write!(out, "{explanation}")?;
            explanation.held
        } else if let Some(rule) = ruleset
            .sigma
            .as_ref()
            .and_then(|s| s.rules().iter().find(|r| r.id() == args.rule_id))
        {
            let matched = rule.matches(event);
            let verdict = if matched { "matched" } else { "not matched" };
            writeln!(out, "{} ({}): {label}: {verdict}", rule.id(), rule.title())?;
            matched
        } else {
            bail!(
                "no rule `{}` is loaded (see `trailguard rules list`)",
                args.rule_id
            );
        };
        all_matched &= matched;
    }
    Ok(Outcome::found_if(!all_matched))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_files_hold_one_record_or_many() {
        assert_eq!(events_of(r#"{"eventName":"A"}"#).unwrap().len(), 1);
        assert_eq!(
            events_of(r#"{"Records":[{"eventName":"A"},{"eventName":"B"}]}"#)
                .unwrap()
                .len(),
            2
        );
        assert_eq!(events_of(r#"[{"a":1}]"#).unwrap().len(), 1);
        assert_eq!(events_of("eventName: A\n").unwrap()[0]["eventName"], "A");
        assert!(events_of("42").is_err());
    }
}
