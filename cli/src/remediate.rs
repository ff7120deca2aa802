//! `trailguard remediate plan FILE|-`: what the remediator would act on,
//! offline.
//!
//! The input is any trigger the remediator accepts (an SNS Lambda event of
//! findings, an EventBridge event, an SQS batch), a finding as JSON, or
//! findings as JSON lines (what `trailguard scan --format jsonl` prints).
//! Each trigger goes through the remediator's own mapping
//! ([`trailguard_engine::remediation::plan`]); nothing calls AWS, and live state
//! (which the remediator re-reads before deciding) is not consulted.

use std::io::{Read, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use serde_json::Value;
use trailguard_engine::envelope::LAMBDA_INPUT;
use trailguard_engine::remediation::{Planned, TriggerPlan, plan};

use crate::outcome::Outcome;

/// `trailguard remediate`.
#[derive(Debug, Subcommand)]
pub enum RemediateCommand {
    /// Print, per trigger, the action and resource the remediator would act
    /// on, or why none applies (offline: no AWS call, live state not read).
    ///
    /// Exit codes: 0 every trigger maps to an action, 1 some do not, 2 the
    /// input is unreadable.
    Plan(PlanArgs),
}

/// `trailguard remediate plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A trigger file (JSON, or findings as JSON lines); `-` reads standard input.
    #[arg(value_name = "FILE|-")]
    pub input: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

/// Output formats of `remediate plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Aligned columns for people.
    Table,
    /// A JSON array, one object per trigger.
    Json,
}

/// One trigger's line of the plan.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlanRow {
    /// Where the trigger is: `line N` for JSON lines, then its path in the document.
    pub trigger: String,
    /// The action's name; `null` when none applies.
    pub action: Option<String>,
    /// The resource, as `kind/identifier`; `null` when none applies.
    pub resource: Option<String>,
    /// Why: the event that maps, or why nothing does.
    pub reason: String,
    /// The triggering CloudTrail `eventID`, when known.
    pub event_id: Option<String>,
}

/// Runs `trailguard remediate`.
pub fn run(command: RemediateCommand) -> anyhow::Result<Outcome> {
    match command {
        RemediateCommand::Plan(args) => run_plan(&args),
    }
}

fn run_plan(args: &PlanArgs) -> anyhow::Result<Outcome> {
    let text = read_input(&args.input)?;
    let rows = plan_text(&text).with_context(|| args.input.display().to_string())?;
    let mut out = std::io::stdout().lock();
    match args.format {
        PlanFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        PlanFormat::Table => write_table(&mut out, &rows)?,
    }
    Ok(Outcome::found_if(rows.iter().any(|r| r.action.is_none())))
}

fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
    }
    Ok(text)
}

/// The plan rows of a trigger file: one JSON document, else JSON lines.
pub fn plan_text(text: &str) -> anyhow::Result<Vec<PlanRow>> {
    if let Ok(document) = serde_json::from_str::<Value>(text) {
        return Ok(plan(&document).into_iter().map(|t| row(t, None)).collect());
    }
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let document: Value = serde_json::from_str(line)
            .with_context(|| format!("line {}: neither one JSON document nor JSON lines", i + 1))?;
        rows.extend(plan(&document).into_iter().map(|t| row(t, Some(i + 1))));
    }
    if rows.is_empty() {
        bail!("no trigger in the input");
    }
    Ok(rows)
}

fn row(trigger: TriggerPlan, line: Option<usize>) -> PlanRow {
    // A file is read as the function's input would be: inside it, the
    // places the envelopes name.
    let at = match trigger.at.strip_prefix(LAMBDA_INPUT) {
        Some(inside) => inside.trim_start_matches(" > "),
        None => trigger.at.as_str(),
    };
    let place = match (line, at.is_empty()) {
        (Some(n), true) => format!("line {n}"),
        (Some(n), false) => format!("line {n} {at}"),
        (None, true) => "payload".to_owned(),
        (None, false) => at.to_owned(),
    };
    match trigger.outcome {
        Ok(Planned::Request(request)) => PlanRow {
            trigger: place,
            action: Some(request.action.name().to_owned()),
            resource: Some(request.resource.to_string()),
            reason: format!(
                "{} in {}/{}{}",
                request.event_name,
                request.account,
                request.region,
                request
                    .error_code
                    .as_deref()
                    .map(|code| format!(" (failed: {code}; the guard skips failed calls)"))
                    .unwrap_or_default()
            ),
            event_id: Some(request.trigger_event_id),
        },
        Ok(Planned::NoAction { reason }) => PlanRow {
            trigger: place,
            action: None,
            resource: None,
            reason,
            event_id: None,
        },
        Err(error) => PlanRow {
            trigger: place,
            action: None,
            resource: None,
            reason: format!("unreadable trigger: {error}"),
            event_id: None,
        },
    }
}

fn write_table(out: &mut impl Write, rows: &[PlanRow]) -> std::io::Result<()> {
    let cells: Vec<[&str; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.trigger.as_str(),
                r.action.as_deref().unwrap_or("-"),
                r.resource.as_deref().unwrap_or("-"),
                r.reason.as_str(),
            ]
        })
        .collect();
    let headers = ["TRIGGER", "ACTION", "RESOURCE", "REASON"];
    let mut widths = headers.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(headers).chain(cells) {
        let [a, b, c, d] = row;
        writeln!(
            out,
            "{a:<wa$}  {b:<wb$}  {c:<wc$}  {d}",
            wa = widths[0],
            wb = widths[1],
            wc = widths[2]
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const STOP_LOGGING: &str = r#"{"detail-type":"AWS API Call via CloudTrail","detail":{
        "eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging","eventID":"e-1",
        "awsRegion":"us-east-1","recipientAccountId":"111122223333","requestParameters":{"name":"main"}}}"#;

    #[test]
    fn one_document_gives_one_row_per_trigger() {
        let rows = plan_text(STOP_LOGGING).unwrap_or_default();
        assert_eq!(
            rows,
            vec![PlanRow {
                trigger: "payload".into(),
                action: Some("cloudtrail-logging".into()),
                resource: Some("trail/main".into()),
                reason: "StopLogging in 111122223333/us-east-1".into(),
                event_id: Some("e-1".into()),
            }]
        );
    }

    #[test]
    fn json_lines_are_planned_line_by_line() {
        let unmapped = STOP_LOGGING
            .replace('\n', " ")
            .replace("StopLogging", "StartLogging");
        let text = format!("{}\n\n{unmapped}\n", STOP_LOGGING.replace('\n', " "));
        let rows = plan_text(&text).unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].trigger, "line 1");
        assert_eq!(rows[1].trigger, "line 3");
        assert_eq!(rows[1].action, None);
        assert_eq!(
            rows[1].reason,
            "no remediation action handles `StartLogging`"
        );
    }

    #[test]
    fn unreadable_input_is_an_error_and_bad_triggers_say_why() {
        assert!(plan_text("{not json").is_err());
        assert!(plan_text("\n\n").is_err());
        let rows = plan_text(r#"{"hello": 1}"#).unwrap_or_default();
        assert!(
            rows[0].reason.starts_with(
                "unreadable trigger: Lambda input is not a delivery trailguard understands"
            ),
            "{}",
            rows[0].reason
        );
    }

    #[test]
    fn the_table_aligns_its_columns() {
        let rows = plan_text(STOP_LOGGING).unwrap_or_default();
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap_or_default();
        let text = String::from_utf8(out).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].find("ACTION"), lines[1].find("cloudtrail-logging"));
    }
}
