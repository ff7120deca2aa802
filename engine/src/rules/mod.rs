//! Rules evaluated against events through the [`crate::Document`] view.
//!
//! - [`filter_pattern`]: the JSON filter-pattern language of CloudWatch Logs
//!   metric filters, parsed once and matched against any record.
//! - [`rule`]: the rule-file format (YAML) and a compiled rule.
//! - [`precision`]: when a match becomes a finding: failed calls as
//!   attempts, AWS services' own calls left out.
//! - [`catalogue`]: the built-in and user rules of one process, indexed by
//!   `eventName`, with a one-field guard for the rules tried on every record.

pub mod catalogue;
pub mod filter_pattern;
mod guard;
pub(crate) mod nesting;
pub mod precision;
pub mod rule;

pub use catalogue::{Catalogue, CatalogueError, RuleText};
pub use filter_pattern::FilterPattern;
pub use precision::{Callers, Failures, Precision, Verdict};
pub use rule::{Dimension, MetricSpec, Rule, RuleFile, RuleSpec, Severity};
