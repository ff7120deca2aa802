//! `trailguard explain RULE_ID --event FILE`: for a trailguard rule, the
//! condition tree with each part marked held or failed; for a Sigma rule,
//! matched or not matched; for a correlation rule, its state over all the
//! file's events (matches per referenced rule, hits and windows per group).
//!
//! The event file holds one CloudTrail record as JSON (or YAML), or a log
//! file's `{"Records":[...]}` / array / JSON lines, gzipped or not (read by
//! the same reader as `scan`), in which case every record is explained in
//! turn.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use trailguard_engine::reader::{Compression, RecordReader, detect_compression};
use trailguard_engine::sigma::correlation::replay;

use crate::outcome::Outcome;
use crate::rules::correlation_state;
use crate::ruleset::RuleArgs;

/// `trailguard explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule (trailguard or Sigma id; see `trailguard rules list`).
    pub rule_id: String,
    /// A file with one CloudTrail record (JSON or YAML), or a log file's
    /// records (gzipped or not).
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

/// The records of a log file as `scan` reads it (gzip, any layout); a
/// record the reader rejects is an error naming it.
fn log_records(bytes: &[u8], name: &str) -> anyhow::Result<Vec<Value>> {
    let mut reader = RecordReader::new(bytes, name)?;
    let mut records = Vec::new();
    while let Some(record) = reader.next_record() {
        records.push(record?.to_value());
    }
    Ok(records)
}

/// The records of an event file: a gzipped file through the log reader;
/// otherwise one record (JSON or YAML) or a log file's text.
pub fn read_events(bytes: &[u8], name: &str) -> anyhow::Result<Vec<Value>> {
    if detect_compression(bytes) == Compression::Gzip {
        return log_records(bytes, name);
    }
    let text = std::str::from_utf8(bytes).context("not UTF-8 text (nor gzip)")?;
    events_of(text)
}

/// Runs `trailguard explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<Outcome> {
    let ruleset = args.rules.load().context("loading rules")?;
    let name = args.event.display().to_string();
    let bytes = std::fs::read(&args.event).with_context(|| format!("cannot read {name}"))?;
    let events = read_events(&bytes, &name).with_context(|| name.clone())?;
    let mut out = std::io::stdout().lock();
    if let Some(sigma) = &ruleset.sigma
        && let Some(replay) = replay(sigma, &args.rule_id, &events)
    {
        // A correlation is about the events together, not one at a time.
        let verdict = if replay.findings.is_empty() {
            "did not fire"
        } else {
            "fired"
        };
        writeln!(out, "{} (correlation): {verdict}", args.rule_id)?;
        write!(out, "{}", correlation_state(&replay))?;
        return Ok(Outcome::found_if(replay.findings.is_empty()));
    }
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

    #[test]
    fn gzipped_log_files_are_read_like_scan_reads_them() {
        use std::io::Write as _;
        let log =
            br#"{"Records":[{"eventName":"A","eventID":"1"},{"eventName":"B","eventID":"2"}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(log).unwrap();
        let gz = gz.finish().unwrap();
        let events = read_events(&gz, "log.json.gz").unwrap();
        let names: Vec<&str> = events
            .iter()
            .filter_map(|e| e["eventName"].as_str())
            .collect();
        assert_eq!(names, ["A", "B"]);
        let err = read_events(&gz[..gz.len() / 2], "cut.json.gz")
            .err()
            .unwrap();
        assert!(format!("{err:#}").contains("cut.json.gz"), "{err:#}");
        assert_eq!(read_events(log, "log.json").unwrap().len(), 2);
    }
}
