//! The remediator's safety switches and the checks made before anything is read.
//!
//! [`GuardConfig`] is loaded once per cold start from environment-style
//! variables; every value is validated then, and an error names the
//! variable. Unset variables take the safe default:
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `TRAILGUARD_DRY_RUN` | `true` | `true`/`false`; in dry run nothing is changed, the audit says what would have been |
//! | `TRAILGUARD_ENABLED_ACTIONS` | none | comma-separated action names; `all` means every action except `iam-access-key` |
//! | `TRAILGUARD_EXEMPTION_TAG` | `trailguard:exempt` | the tag key that exempts a resource |
//! | `TRAILGUARD_EXEMPT_ACCOUNTS` | none | comma-separated 12-digit account ids never acted on |
//! | `TRAILGUARD_OWN_ROLE_ARNS` | none | the remediator's own role ARNs, whose calls are never remediated |
//! | `TRAILGUARD_DENY_LISTED_USERS` | none | IAM users whose new access keys are deactivated |
//! | `TRAILGUARD_ALLOWED_PORTS` | none | TCP/UDP ports that may stay open to the world, e.g. `443,8000-8080` |
//!
//! [`pre_check`] runs on the request alone, before any live read: the
//! remediator's own calls (loop guard), failed calls, disabled actions and
//! exempt accounts are skipped. [`exempt_by_tags`] runs on the resource's
//! tags once they are read.

use std::collections::BTreeSet;
use std::fmt;

use super::actions::ActionKind;
use super::actions::iam_access_key::{self, DenyListError};
use super::actions::security_group_open_ingress::{AllowedPorts, AllowedPortsError};
use super::audit::Outcome;
use super::request::RemediationRequest;

/// `true`/`false`: whether changes are only described, never made.
pub const VAR_DRY_RUN: &str = "TRAILGUARD_DRY_RUN";
/// Comma-separated names of the actions allowed to run, or `all`.
pub const VAR_ENABLED_ACTIONS: &str = "TRAILGUARD_ENABLED_ACTIONS";
/// The tag key that exempts a resource.
pub const VAR_EXEMPTION_TAG: &str = "TRAILGUARD_EXEMPTION_TAG";
/// Comma-separated account ids never acted on.
pub const VAR_EXEMPT_ACCOUNTS: &str = "TRAILGUARD_EXEMPT_ACCOUNTS";
/// Comma-separated ARNs of the remediator's own roles.
pub const VAR_OWN_ROLE_ARNS: &str = "TRAILGUARD_OWN_ROLE_ARNS";
/// Comma-separated IAM user names for `iam-access-key`.
pub const VAR_DENY_LISTED_USERS: &str = "TRAILGUARD_DENY_LISTED_USERS";
/// Comma-separated ports and ranges for `security-group-open-ingress`.
pub const VAR_ALLOWED_PORTS: &str = "TRAILGUARD_ALLOWED_PORTS";

/// The default exemption tag key.
pub const DEFAULT_EXEMPTION_TAG: &str = "trailguard:exempt";

/// The keyword in `TRAILGUARD_ENABLED_ACTIONS` for every action turned on by `all`.
pub const ALL_ACTIONS: &str = "all";

/// The remediator's safety configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardConfig {
    /// Describe changes without making them.
    pub dry_run: bool,
    /// The actions allowed to run.
    pub enabled: BTreeSet<ActionKind>,
    /// The tag key that exempts a resource.
    pub exemption_tag: String,
    /// Accounts never acted on.
    pub exempt_accounts: BTreeSet<String>,
    /// The remediator's own roles.
    pub own_role_arns: Vec<RoleArn>,
    /// IAM users whose new access keys are deactivated.
    pub deny_listed_users: BTreeSet<String>,
    /// Ports that may stay open to the world.
    pub allowed_ports: AllowedPorts,
}

impl Default for GuardConfig {
    /// Dry run, nothing enabled, nothing exempt.
    fn default() -> Self {
        Self {
            dry_run: true,
            enabled: BTreeSet::new(),
            exemption_tag: DEFAULT_EXEMPTION_TAG.to_owned(),
            exempt_accounts: BTreeSet::new(),
            own_role_arns: Vec::new(),
            deny_listed_users: BTreeSet::new(),
            allowed_ports: AllowedPorts::default(),
        }
    }
}

/// A configuration variable that could not be used.
#[derive(Debug, thiserror::Error)]
pub enum GuardConfigError {
    /// A boolean variable holds something else.
    #[error("{var}={value} is not a boolean: set it to true or false")]
    NotBoolean {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// An action name is not known.
    #[error("{var} names an unknown action `{name}`; known actions: {known}, or `{ALL_ACTIONS}`")]
    UnknownAction {
        /// The variable.
        var: &'static str,
        /// The unknown name.
        name: String,
        /// The names that would have been accepted.
        known: String,
    },
    /// An account id is not 12 digits.
    #[error("{var}: `{value}` is not a 12-digit AWS account id")]
    NotAccountId {
        /// The variable.
        var: &'static str,
        /// The offending entry.
        value: String,
    },
    /// A role ARN does not parse.
    #[error("{var}: {source}")]
    RoleArn {
        /// The variable.
        var: &'static str,
        /// What is wrong with the ARN.
        source: RoleArnError,
    },
    /// The exemption tag key is unusable.
    #[error("{var}=`{value}` is not a usable tag key: {reason}")]
    TagKey {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// The deny list holds an invalid user name.
    #[error("{var}: {source}")]
    DenyList {
        /// The variable.
        var: &'static str,
        /// The offending name.
        source: DenyListError,
    },
    /// The allowed ports do not parse.
    #[error("{var}: {source}")]
    AllowedPorts {
        /// The variable.
        var: &'static str,
        /// The offending entry.
        source: AllowedPortsError,
    },
}

impl GuardConfig {
    /// Loads the configuration from `(name, value)` pairs such as
    /// `std::env::vars()`. Variables not listed in the module docs are
    /// ignored; empty values count as unset.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, GuardConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut cfg = Self::default();
        for (name, value) in vars {
            let value = value.as_ref().trim();
            if value.is_empty() {
                continue;
            }
            match name.as_ref() {
                VAR_DRY_RUN => cfg.dry_run = parse_bool(VAR_DRY_RUN, value)?,
                VAR_ENABLED_ACTIONS => cfg.enabled = parse_actions(value)?,
                VAR_EXEMPTION_TAG => cfg.exemption_tag = parse_tag_key(value)?,
                VAR_EXEMPT_ACCOUNTS => cfg.exempt_accounts = parse_accounts(value)?,
                VAR_OWN_ROLE_ARNS => {
                    cfg.own_role_arns = list(value)
                        .map(RoleArn::parse)
                        .collect::<Result<_, _>>()
                        .map_err(|source| GuardConfigError::RoleArn {
                        var: VAR_OWN_ROLE_ARNS,
                        source,
                    })?;
                }
                VAR_DENY_LISTED_USERS => {
                    cfg.deny_listed_users =
                        iam_access_key::parse_deny_list(value).map_err(|source| {
                            GuardConfigError::DenyList {
                                var: VAR_DENY_LISTED_USERS,
                                source,
                            }
                        })?;
                }
                VAR_ALLOWED_PORTS => {
                    cfg.allowed_ports = AllowedPorts::parse(value).map_err(|source| {
                        GuardConfigError::AllowedPorts {
                            var: VAR_ALLOWED_PORTS,
                            source,
                        }
                    })?;
                }
                _ => {}
            }
        }
        Ok(cfg)
    }

    /// Whether `principal_arn` is one of the remediator's own roles, either
    /// as the role ARN itself or as a session of it
    /// (`arn:<partition>:sts::<account>:assumed-role/<RoleName>/<session>`).
    pub fn is_own_principal(&self, principal_arn: &str) -> bool {
        self.own_role_arns
            .iter()
            .any(|role| role.matches(principal_arn))
    }
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, GuardConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(GuardConfigError::NotBoolean {
            var,
            value: value.to_owned(),
        })
    }
}

fn parse_actions(value: &str) -> Result<BTreeSet<ActionKind>, GuardConfigError> {
    let mut enabled = BTreeSet::new();
    for name in list(value) {
        if name == ALL_ACTIONS {
            enabled.extend(ActionKind::ALL.into_iter().filter(|k| k.enabled_by_all()));
            continue;
        }
        let kind = ActionKind::from_name(name).ok_or_else(|| GuardConfigError::UnknownAction {
            var: VAR_ENABLED_ACTIONS,
            name: name.to_owned(),
            known: ActionKind::ALL
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
        enabled.insert(kind);
    }
    Ok(enabled)
}

fn parse_accounts(value: &str) -> Result<BTreeSet<String>, GuardConfigError> {
    list(value)
        .map(|account| {
            if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
                Ok(account.to_owned())
            } else {
                Err(GuardConfigError::NotAccountId {
                    var: VAR_EXEMPT_ACCOUNTS,
                    value: account.to_owned(),
                })
            }
        })
        .collect()
}

fn parse_tag_key(value: &str) -> Result<String, GuardConfigError> {
    let reason = if value.chars().count() > 128 {
        Some("tag keys are at most 128 characters")
    } else if value.to_ascii_lowercase().starts_with("aws:") {
        Some("the `aws:` prefix is reserved for AWS")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(GuardConfigError::TagKey {
            var: VAR_EXEMPTION_TAG,
            value: value.to_owned(),
            reason,
        }),
        None => Ok(value.to_owned()),
    }
}

/// An IAM role ARN, `arn:<partition>:iam::<account>:role/<path/><RoleName>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArn {
    arn: String,
    partition: String,
    account: String,
    name: String,
}

/// Why a role ARN could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{arn}` is not an IAM role ARN (arn:<partition>:iam::<account>:role/<path/><RoleName>)")]
pub struct RoleArnError {
    /// The offending text.
    pub arn: String,
}

impl RoleArn {
    /// Parses a role ARN.
    pub fn parse(arn: &str) -> Result<Self, RoleArnError> {
        let error = || RoleArnError {
            arn: arn.to_owned(),
        };
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let [_, partition, "iam", "", account, resource] = parts.as_slice() else {
            return Err(error());
        };
        let path_and_name = resource.strip_prefix("role/").ok_or_else(error)?;
        let name = path_and_name
            .rsplit_once('/')
            .map_or(path_and_name, |(_path, name)| name);
        if partition.is_empty() || account.len() != 12 || name.is_empty() {
            return Err(error());
        }
        Ok(Self {
            arn: arn.to_owned(),
            partition: (*partition).to_owned(),
            account: (*account).to_owned(),
            name: name.to_owned(),
        })
    }

    /// The role's name (the last segment of its path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether `principal_arn` is this role or a session of it. Role names
    /// are unique case-insensitively in IAM, so they are compared that way.
    pub fn matches(&self, principal_arn: &str) -> bool {
        if principal_arn == self.arn {
            return true;
        }
        let parts: Vec<&str> = principal_arn.splitn(6, ':').collect();
        let [_, partition, "sts", "", account, resource] = parts.as_slice() else {
            return false;
        };
        let role_name = resource
            .strip_prefix("assumed-role/")
            .and_then(|rest| rest.split_once('/'))
            .map(|(role, _session)| role);
        *partition == self.partition
            && *account == self.account
            && role_name.is_some_and(|name| name.eq_ignore_ascii_case(&self.name))
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// Why a request is skipped before any live read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// The call was made by the remediator itself; acting would loop.
    OwnPrincipal {
        /// The caller.
        principal_arn: String,
    },
    /// The call failed, so it changed nothing.
    FailedEvent {
        /// Its `errorCode`.
        error_code: String,
    },
    /// The action is not in `TRAILGUARD_ENABLED_ACTIONS`.
    ActionDisabled {
        /// The action.
        action: ActionKind,
    },
    /// The account is in `TRAILGUARD_EXEMPT_ACCOUNTS`.
    ExemptAccount {
        /// The account.
        account: String,
    },
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::OwnPrincipal { principal_arn } => {
                write!(
                    f,
                    "the call was made by the remediator's own role ({principal_arn})"
                )
            }
            Skip::FailedEvent { error_code } => {
                write!(f, "the call failed ({error_code}) and changed nothing")
            }
            Skip::ActionDisabled { action } => {
                write!(f, "{action} is not in {VAR_ENABLED_ACTIONS}")
            }
            Skip::ExemptAccount { account } => {
                write!(f, "account {account} is in {VAR_EXEMPT_ACCOUNTS}")
            }
        }
    }
}

impl Skip {
    /// The audit outcome of this skip.
    pub fn outcome(&self) -> Outcome {
        let reason = self.to_string();
        match self {
            Skip::ExemptAccount { .. } => Outcome::SkippedExempt { reason },
            _ => Outcome::SkippedGuard { reason },
        }
    }
}

/// The checks made on the request alone, in order: the remediator's own
/// role (first, so the loop guard holds whatever else is configured), a
/// failed call, a disabled action, an exempt account.
pub fn pre_check(req: &RemediationRequest, cfg: &GuardConfig) -> Option<Skip> {
    if let Some(principal_arn) = &req.principal_arn
        && cfg.is_own_principal(principal_arn)
    {
        return Some(Skip::OwnPrincipal {
            principal_arn: principal_arn.clone(),
        });
    }
    if let Some(error_code) = &req.error_code {
        return Some(Skip::FailedEvent {
            error_code: error_code.clone(),
        });
    }
    if !cfg.enabled.contains(&req.action) {
        return Some(Skip::ActionDisabled { action: req.action });
    }
    if cfg.exempt_accounts.contains(&req.account) {
        return Some(Skip::ExemptAccount {
            account: req.account.clone(),
        });
    }
    None
}

/// Whether a resource's tags exempt it.
///
/// The exemption tag key is matched exactly (AWS tag keys are
/// case-sensitive). Any value exempts, the empty value included, because
/// a bare key is how people usually mark a resource; only `false` (any
/// case, surrounding spaces ignored) does not, so an exemption can be
/// lifted without deleting the tag.
pub fn exempt_by_tags<I, K, V>(tags: I, cfg: &GuardConfig) -> bool
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    tags.into_iter().any(|(key, value)| {
        key.as_ref() == cfg.exemption_tag && !value.as_ref().trim().eq_ignore_ascii_case("false")
    })
}

#[cfg(test)]
mod tests;
