//! `trailguard`: the command line over trailguard's engine.
//!
//! Every command runs in two stages: clap parses the arguments into the
//! command's `Args`, then the command builds a plan (rules loaded, sources
//! listed, filters checked) and only then does the work. Failures before any
//! work is done are plain errors (exit code 2); failures of single files are
//! collected and reported at the end, after everything else was processed.

mod aws;
mod backfill;
mod correlate;
mod explain;
mod filters;
mod findings_view;
mod format;
mod integrity_s3;
mod ordered;
mod outcome;
mod progress;
mod remediate;
mod rules;
mod ruleset;
mod runner;
mod scan;
mod search;
mod sources;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use outcome::Outcome;

/// Exit codes, shown at the end of `--help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success: no findings (scan), a match (search), all cases passed (rules test),
     the rule matched (explain), every file valid (validate), every trigger maps
     to an action (remediate plan)
  1  something to look at: findings (scan), no match (search), a failed case
     (rules test), the rule did not match (explain), an integrity failure
     (validate), a trigger no action handles (remediate plan)
  2  error: bad arguments, unreadable rule or log files, rejected records (scan),
     AWS failures; whatever could be processed still was, and is printed";

/// Scan, search and validate CloudTrail log files with trailguard's rules.
///
/// AWS access is configured the AWS way: environment variables, shared config
/// and credentials files (`AWS_PROFILE`), SSO, instance and container roles;
/// `AWS_ENDPOINT_URL` points every client at another endpoint (such as moto).
#[derive(Debug, Parser)]
#[command(name = "trailguard", version, after_help = EXIT_CODES)]
struct Cli {
    /// The AWS profile to use (default: AWS_PROFILE, else `default`).
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the rules over log files (local or S3): findings and metric datapoints.
    Scan(scan::ScanArgs),
    /// Print the records that match one filter pattern or Sigma rule.
    Search(search::SearchArgs),
    /// Queue every log file under an S3 prefix for the deployed functions.
    Backfill(backfill::BackfillArgs),
    /// List rules, or run rule test cases.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Show which conditions of a rule held for an event.
    Explain(explain::ExplainArgs),
    /// Check CloudTrail log-file integrity (digest chains), like `aws cloudtrail validate-logs`.
    Validate(validate::ValidateArgs),
    /// What the remediator would do with a trigger (offline).
    #[command(subcommand)]
    Remediate(remediate::RemediateCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(profile) = cli.profile {
        aws::use_profile(profile);
    }
    let result = match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Search(args) => search::run(args),
        Command::Backfill(args) => backfill::run(args),
        Command::Rules(command) => rules::run(command),
        Command::Explain(args) => explain::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Remediate(command) => remediate::run(command),
    };
    match result {
        Ok(outcome) => outcome.exit_code(),
        // A reader that stopped early (`| head`) is not worth a message.
        Err(error) if is_broken_pipe(&error) => Outcome::Failed.exit_code(),
        Err(error) => {
            eprintln!("trailguard: error: {error:#}");
            Outcome::Failed.exit_code()
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("2  error"), "{help}");
    }
}
