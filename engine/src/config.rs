//! Reading function configuration from environment variables, with errors
//! that name the variable. Parsing takes a lookup function so it is tested
//! without touching the process environment.

use thiserror::Error;

/// A configuration variable is missing or malformed.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("configuration {variable}={value:?}: {reason}")]
pub struct ConfigError {
    /// The environment variable.
    pub variable: String,
    /// Its value (empty when missing).
    pub value: String,
    /// What is wrong.
    pub reason: String,
}

/// Looks variables up; `std::env::var` in production, a map in tests.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment as a [`Lookup`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// A variable's value, `None` when unset or blank.
pub fn optional(env: Lookup<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

/// A boolean variable (`true/false/1/0/yes/no`), `default` when unset.
pub fn boolean(env: Lookup<'_>, name: &str, default: bool) -> Result<bool, ConfigError> {
    match optional(env, name) {
        None => Ok(default),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ConfigError {
                variable: name.to_owned(),
                value: v,
                reason: "expected true or false".to_owned(),
            }),
        },
    }
}

/// A non-negative integer variable, `default` when unset.
pub fn integer(env: Lookup<'_>, name: &str, default: u64) -> Result<u64, ConfigError> {
    match optional(env, name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| ConfigError {
            variable: name.to_owned(),
            value: v,
            reason: "expected a whole number".to_owned(),
        }),
    }
}

/// A severity variable (`informational` ... `critical`), `default` when unset.
pub fn severity(
    env: Lookup<'_>,
    name: &str,
    default: crate::rules::Severity,
) -> Result<crate::rules::Severity, ConfigError> {
    match optional(env, name) {
        None => Ok(default),
        Some(v) => yaml_serde::from_str(&v).map_err(|_| ConfigError {
            variable: name.to_owned(),
            value: v.clone(),
            reason: "expected informational, low, medium, high or critical".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_booleans_and_integers_naming_the_variable() {
        let env = |n: &str| match n {
            "A" => Some("yes".to_owned()),
            "B" => Some("maybe".to_owned()),
            "N" => Some("12".to_owned()),
            "BLANK" => Some("  ".to_owned()),
            _ => None,
        };
        assert_eq!(boolean(&env, "A", false), Ok(true));
        assert_eq!(boolean(&env, "MISSING", true), Ok(true));
        assert_eq!(boolean(&env, "BLANK", false), Ok(false));
        let err = boolean(&env, "B", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration B=\"maybe\": expected true or false"
        );
        assert_eq!(integer(&env, "N", 0), Ok(12));
        assert!(
            integer(&env, "A", 0)
                .unwrap_err()
                .to_string()
                .contains("whole number")
        );
    }
}
