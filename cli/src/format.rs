//! Output formats and plain-text tables.
//!
//! Every command that prints data takes `--format`; without it, output to a
//! terminal is a table and output to a pipe or file is JSON (or JSON lines
//! where the command prints a stream of records), so scripts get something
//! they can parse without asking.

use std::io::IsTerminal;

use clap::ValueEnum;
use trailguard_engine::findings::Finding;

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

/// Terminal widths tables are fitted to: narrower terminals get 80
/// columns (lines wrap), wider ones no more than 120 (long lines are hard
/// to read).
pub const WIDTHS: std::ops::RangeInclusive<usize> = 80..=120;

/// The width to fit tables to: the terminal's (or `COLUMNS` when output
/// is not a terminal), within [`WIDTHS`]; 100 when unknown.
pub fn output_width() -> usize {
    let columns = terminal_size::terminal_size()
        .map(|(terminal_size::Width(w), _)| usize::from(w))
        .or_else(|| std::env::var("COLUMNS").ok()?.trim().parse().ok())
        .unwrap_or(100);
    columns.clamp(*WIDTHS.start(), *WIDTHS.end())
}

/// Columns are not cut below this many characters to fit a width.
const MIN_COLUMN: usize = 8;

/// A table: a header and rows of cells, printed with columns padded to the
/// widest cell (the last column is not padded); when fitted to a width,
/// the widest columns are cut (with `…`) until the lines fit.
#[derive(Debug, Clone, Default)]
pub struct Table {
    rows: Vec<Vec<String>>,
    width: Option<usize>,
    /// Columns never cut to fit, besides the first.
    uncut: Vec<usize>,
    /// Columns cut first, down to this many characters, before any other.
    cut_first: (Vec<usize>, usize),
}

impl Table {
    /// A table with this header row.
    pub fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| (*h).to_owned()).collect()],
            width: None,
            uncut: Vec::new(),
            cut_first: (Vec::new(), MIN_COLUMN),
        }
    }

    /// Cuts `columns` first, down to `floor` characters, so the others (a
    /// rule's title) keep their width longest.
    pub fn cut_first(mut self, columns: &[usize], floor: usize) -> Table {
        self.cut_first = (columns.to_vec(), floor.max(MIN_COLUMN));
        self
    }

    /// Never cuts column `column` to fit (a time, read whole or not at all).
    pub fn uncut(mut self, column: usize) -> Table {
        self.uncut.push(column);
        self
    }

    /// The same table, its lines at most `width` characters long.
    pub fn fitted(self, width: usize) -> Table {
        Table {
            width: Some(width),
            ..self
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
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
        if let Some(width) = self.width {
            let (first, floor) = &self.cut_first;
            let rest = self.uncut_complement(widths.len());
            shrink(&mut widths, width, first, *floor);
            shrink(&mut widths, width, &rest, MIN_COLUMN);
        }
        for row in &self.rows {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                let cell = clip(cell, width);
                if i + 1 == row.len() {
                    line.push_str(&cell);
                } else {
                    line.push_str(&format!("{cell:<width$}  "));
                }
            }
            writeln!(f, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

impl Table {
    /// The columns that may be cut: all but the first (the severity, or the
    /// metric, that a row is read by) and the `uncut` ones.
    fn uncut_complement(&self, columns: usize) -> Vec<usize> {
        (1..columns).filter(|i| !self.uncut.contains(i)).collect()
    }
}

/// Narrows the widest of `cuttable` columns, one character at a time, until
/// the columns and their two-space gaps fit `total` (or every one of them is
/// down to `floor`).
fn shrink(widths: &mut [usize], total: usize, cuttable: &[usize], floor: usize) {
    let gaps = widths.len().saturating_sub(1) * 2;
    while widths.iter().sum::<usize>() + gaps > total {
        let candidates = widths
            .iter_mut()
            .enumerate()
            .filter(|(i, w)| cuttable.contains(i) && **w > floor)
            .map(|(_, w)| w);
        match candidates.max() {
            Some(widest) => *widest -= 1,
            None => return,
        }
    }
}

pub use trailguard_engine::findings::readable::clip;

/// Who acted, briefly: user name, else the ARN's resource part
/// (`assumed-role/NAME/SESSION`: the account is in the WHERE column), else
/// principal id, identity type or invoking service.
pub fn who(finding: &Finding) -> String {
    let who = &finding.event.who;
    if let Some(name) = &who.user_name {
        return name.clone();
    }
    if let Some(arn) = &who.arn {
        // arn:partition:service:region:account:resource
        return arn.splitn(6, ':').nth(5).unwrap_or(arn).to_owned();
    }
    [&who.principal_id, &who.identity_type, &who.invoked_by]
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
    use trailguard_engine::findings::RuleInfo;
    use trailguard_engine::rules::Severity;

    #[test]
    fn tables_pad_all_but_the_last_column() {
        let mut table = Table::new(&["A", "LONGER"]);
        table.row(vec!["wide cell".to_owned(), "x".to_owned()]);
        assert_eq!(table.to_string(), "A          LONGER\nwide cell  x\n");
    }

    #[test]
    fn fitted_tables_cut_the_widest_columns_first() {
        let mut table = Table::new(&["SEVERITY", "RULE", "WHEN"]);
        table.row(vec![
            "critical".to_owned(),
            "r".repeat(200),
            "2023-07-10T11:45:00Z".to_owned(),
        ]);
        let text = table.fitted(80).to_string();
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("critical  rrr"), "{row}");
        assert!(row.contains("…  2023-07-10T11:45:00Z"), "{row}");
    }

    #[test]
    fn uncut_columns_keep_their_width() {
        let mut table = Table::new(&["SEVERITY", "WHEN", "RULE", "WHO"]).uncut(1);
        table.row(vec![
            "critical".to_owned(),
            "2023-07-10T11:45:00Z".to_owned(),
            "r".repeat(100),
            "w".repeat(100),
        ]);
        let text = table.fitted(80).to_string();
        let row = text.lines().nth(1).unwrap();
        assert!(row.chars().count() <= 80, "{row}");
        assert!(
            row.starts_with("critical  2023-07-10T11:45:00Z  rrr"),
            "{row}"
        );
    }

    fn rule() -> RuleInfo {
        RuleInfo {
            id: "r".to_owned(),
            title: "t".to_owned(),
            description: String::new(),
            severity: Severity::High,
            references: vec![],
            engine: "trailguard",
        }
    }

    #[test]
    fn who_is_the_arn_without_its_account_prefix() {
        let rule = rule();
        let event = json!({
            "userIdentity": {"type": "AssumedRole",
                "arn": "arn:aws:sts::111122223333:assumed-role/deployer/session-1"},
        });
        let finding = Finding::new(rule, &event, None);
        assert_eq!(who(&finding), "assumed-role/deployer/session-1");
    }

    #[test]
    fn clips_long_text() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

    #[test]
    fn facets_summarise_a_finding() {
        let rule = rule();
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
