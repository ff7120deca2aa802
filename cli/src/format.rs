//! Output formats and plain-text tables.
//!
//! Every command that prints data takes `--format`; without it, output to a
//! terminal is a table and output to a pipe or file is JSON (or JSON lines
//! where the command prints a stream of records), so scripts get something
//! they can parse without asking.

use std::io::IsTerminal;

use clap::ValueEnum;
use trailguard::findings::Finding;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for reading.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format asked for, else `Table` on a terminal and `otherwise` elsewhere.
    pub fn resolve(asked: Option<Format>, otherwise: Format) -> Format {
        asked.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                otherwise
            }
        })
    }
}

/// A table: a header and rows of cells, printed with columns padded to the
/// widest cell (the last column is not padded).
#[derive(Debug, Clone, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Whether only the header is there.
    pub fn is_empty(&self) -> bool {
        self.rows.len() <= 1
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut widths: Vec<usize> = Vec::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                let width = cell.chars().count();
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    let width = widths.get(i).copied().unwrap_or(0);
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// `text` cut to `max` characters, with `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Who acted, briefly: user name, else ARN, else identity type.
pub fn who(finding: &Finding) -> String {
    let who = &finding.event.who;
    [
        &who.user_name,
        &who.arn,
        &who.principal_id,
        &who.identity_type,
        &who.invoked_by,
    ]
    .into_iter()
    .find_map(Option::as_deref)
    .unwrap_or("-")
    .to_owned()
}

/// What was done: `eventSource:eventName`.
pub fn what(finding: &Finding) -> String {
    let what = &finding.event.what;
    let source = what.event_source.as_deref().unwrap_or("?");
    let source = source.strip_suffix(".amazonaws.com").unwrap_or(source);
    format!("{source}:{}", what.event_name.as_deref().unwrap_or("?"))
}

/// Where: `account/region`.
pub fn place(finding: &Finding) -> String {
    format!(
        "{}/{}",
        finding.account().unwrap_or("?"),
        finding.region().unwrap_or("?")
    )
}

/// The outcome: `ok`, or the error code.
pub fn outcome(finding: &Finding) -> String {
    finding
        .event
        .outcome
        .error_code
        .clone()
        .unwrap_or_else(|| "ok".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use trailguard::findings::RuleInfo;
    use trailguard::rules::Severity;

    #[test]
    fn tables_pad_all_but_the_last_column() {
        let mut table = Table::new(&["A", "LONGER"]);
        table.row(vec!["wide cell".to_owned(), "x".to_owned()]);
        assert_eq!(table.to_string(), "A          LONGER\nwide cell  x\n");
        assert!(!table.is_empty());
        assert!(Table::new(&["A"]).is_empty());
    }

    #[test]
    fn clips_long_text() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn facets_summarise_a_finding() {
        let rule = RuleInfo {
            id: "r".to_owned(),
            title: "t".to_owned(),
            description: String::new(),
            severity: Severity::High,
            references: vec![],
            engine: "trailguard",
        };
        let event = json!({
            "eventSource": "iam.amazonaws.com", "eventName": "CreateUser",
            "userIdentity": {"type": "IAMUser", "userName": "alice"},
            "recipientAccountId": "111122223333", "awsRegion": "us-east-1",
            "errorCode": "AccessDenied"
        });
        let finding = Finding::new(rule, &event, None);
        assert_eq!(who(&finding), "alice");
        assert_eq!(what(&finding), "iam:CreateUser");
        assert_eq!(place(&finding), "111122223333/us-east-1");
        assert_eq!(outcome(&finding), "AccessDenied");
    }
}
