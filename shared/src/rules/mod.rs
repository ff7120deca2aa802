//! Rules: the filter-pattern language, the rule-file format and the
//! catalogue that runs them.

pub mod catalogue;
pub mod filter_pattern;
pub mod rule;

pub use catalogue::{Catalogue, CatalogueError, RuleText};
pub use filter_pattern::FilterPattern;
pub use rule::{Dimension, MetricSpec, Rule, RuleFile, RuleSpec, Severity};
