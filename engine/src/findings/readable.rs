//! A finding for people: its seven facets as labelled lines, the steps to
//! look further (the CloudTrail console link, the `trailguard explain`
//! command), and the plain-text body e-mail subscribers receive.
//!
//! Everything here is read from the [`Finding`]; what the event does not
//! say is shown as `-`, never guessed. Chat messages ([`super::chat`]) use
//! the same facets and steps.

use std::fmt::Write as _;

use serde_json::Value;

use super::finding::Finding;
use super::flood::FLOOD_SUMMARY_EVENT;

/// The seven facets of the finding's event, labelled, in the order people
/// ask: who, when, from where, how, what, where, with what outcome.
pub fn facets(finding: &Finding) -> [(&'static str, String); 7] {
    let event = &*finding.event;
    let who = &event.who;
    let actor = [&who.arn, &who.user_name, &who.principal_id, &who.invoked_by]
        .into_iter()
        .find_map(Option::as_deref);
    let who_text = match (actor, who.identity_type.as_deref()) {
        (Some(actor), Some(kind)) => format!("{actor} ({kind})"),
        (Some(actor), None) => actor.to_owned(),
        (None, Some(kind)) => kind.to_owned(),
        (None, None) => "-".to_owned(),
    };
    let what = &event.what;
    let mut what_text = format!(
        "{} {}",
        what.event_source.as_deref().unwrap_or("-"),
        what.event_name.as_deref().unwrap_or("-")
    );
    if let Some(kind) = &what.event_type {
        let _ = write!(what_text, " ({kind})");
    }
    let outcome = &event.outcome;
    let outcome_text = match (&outcome.error_code, &outcome.error_message) {
        (None, _) => "success".to_owned(),
        (Some(code), None) => format!("failed: {code}"),
        (Some(code), Some(message)) => format!("failed: {code}: {message}"),
    };
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    // A folded finding stands for a burst: when says how many times, until when.
    let when = match (finding.repeats.as_deref(), finding.correlation.as_deref()) {
        (_, Some(c)) => format!(
            "{} to {}: {} for {}",
            c.window_start,
            c.window_end,
            c.measure_text(),
            c.group_text()
        ),
        (Some(r), None) if r.count > 1 => format!(
            "{}, and {} more time(s) until {}",
            dash(&event.time),
            r.count - 1,
            r.last_time.as_deref().unwrap_or("-")
        ),
        _ => dash(&event.time),
    };
    [
        ("Who", who_text),
        ("When", when),
        ("From", dash(&event.source_ip)),
        ("How", dash(&event.user_agent)),
        ("What", what_text),
        (
            "Where",
            format!(
                "account {}, region {}",
                finding.account().unwrap_or("-"),
                finding.region().unwrap_or("-")
            ),
        ),
        ("Outcome", outcome_text),
    ]
}

/// `text` cut to `max` characters, ending with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whether the finding stands for matches the flood cap held back.
pub fn is_flood_summary(finding: &Finding) -> bool {
    finding.event.what.event_name.as_deref() == Some(FLOOD_SUMMARY_EVENT)
}

/// The event in the CloudTrail console (event history keeps 90 days of
/// management events), when its id and region are known.
pub fn console_link(finding: &Finding) -> Option<String> {
    if is_flood_summary(finding) {
        return None;
    }
    let id = finding.event.event_id.as_deref()?;
    let region = finding.region()?;
    Some(format!(
        "https://{region}.console.aws.amazon.com/cloudtrail/home?region={region}#/events/{id}"
    ))
}

/// The command that shows which conditions of the rule held: the log file
/// copied down, then `trailguard explain` on it.
pub fn explain_command(finding: &Finding) -> String {
    let rule = &finding.rule.id;
    match &finding.log_file {
        Some(file) if !file.bucket.is_empty() => format!(
            "aws s3 cp {file} event.json.gz && trailguard explain {rule} --event event.json.gz"
        ),
        Some(file) => format!("trailguard explain {rule} --event {}", file.key),
        None => format!("trailguard explain {rule} --event <log file>"),
    }
}

/// What to do next, most direct first.
pub fn next_steps(finding: &Finding) -> Vec<String> {
    let mut steps = Vec::new();
    if is_flood_summary(finding) {
        let samples = flood_samples(finding);
        steps.push(format!(
            "Matches past the flood cap were held back; sample event ids: {}",
            if samples.is_empty() {
                "-".to_owned()
            } else {
                samples.join(", ")
            }
        ));
    }
    if let Some(link) = console_link(finding) {
        steps.push(format!("Open the event in the CloudTrail console: {link}"));
    }
    steps.push(format!(
        "See which conditions matched: {}",
        explain_command(finding)
    ));
    steps
}

/// The sample event ids of a flood summary.
fn flood_samples(finding: &Finding) -> Vec<String> {
    let Ok(event) = serde_json::from_str::<Value>(finding.event.raw_event()) else {
        return Vec::new();
    };
    event
        .pointer("/additionalEventData/sampleEventIds")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The plain-text body e-mail subscribers get: the subject line's facts,
/// the rule, the facets, where the event came from, and the next steps.
/// Queue and function subscribers get the Finding v1 JSON instead.
pub fn email_body(finding: &Finding) -> String {
    let rule = &finding.rule;
    let mut text = String::new();
    let _ = writeln!(
        text,
        "[{}] {}",
        rule.severity.as_str().to_ascii_uppercase(),
        rule.title
    );
    let _ = writeln!(text, "Rule: {} ({})", rule.id, rule.engine);
    if !rule.description.is_empty() {
        let _ = writeln!(text, "\n{}", rule.description.trim());
    }
    text.push('\n');
    for (label, value) in facets(finding) {
        let _ = writeln!(text, "{:<9}{value}", format!("{label}:"));
    }
    text.push('\n');
    if let Some(id) = &finding.event.event_id {
        let _ = writeln!(text, "Event id: {id}");
    }
    if let Some(c) = &finding.correlation {
        let _ = writeln!(
            text,
            "Correlation: {} over {} s; events: {}{}",
            c.kind,
            c.timespan_seconds,
            c.event_ids.join(", "),
            if c.event_total > c.event_ids.len() as u64 {
                ", ..."
            } else {
                ""
            }
        );
    }
    if let Some(file) = &finding.log_file {
        let _ = writeln!(text, "Log file: {file}");
    }
    if !rule.references.is_empty() {
        let _ = writeln!(text, "References: {}", rule.references.join(", "));
    }
    let _ = writeln!(text, "Finding id: {}", finding.id);
    text.push_str("\nNext steps:\n");
    for step in next_steps(finding) {
        let _ = writeln!(text, "- {step}");
    }
    text
}
