//! How a command ended, and the process exit code for it.

use std::process::ExitCode;

/// The result of a command that ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Nothing to report (exit code 0).
    Clean,
    /// Something to look at: findings, a failed check (exit code 1).
    Found,
    /// Some input could not be processed (exit code 2).
    Failed,
}

impl Outcome {
    /// `Clean` when `found` is false, else `Found`.
    pub fn found_if(found: bool) -> Outcome {
        if found {
            Outcome::Found
        } else {
            Outcome::Clean
        }
    }

    /// The process exit code: 0, 1 or 2.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// The numeric exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Clean => 0,
            Outcome::Found => 1,
            Outcome::Failed => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_outrank_findings() {
        assert_eq!(Outcome::Found.max(Outcome::Failed), Outcome::Failed);
        assert_eq!(Outcome::Clean.max(Outcome::Found), Outcome::Found);
        assert_eq!(Outcome::found_if(true).code(), 1);
        assert_eq!(Outcome::found_if(false).code(), 0);
        assert_eq!(Outcome::Failed.code(), 2);
    }
}
