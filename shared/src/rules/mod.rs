//! Rules evaluated against events through the [`crate::Document`] view.
//!
//! - [`filter_pattern`]: the JSON filter-pattern language of CloudWatch Logs
//!   metric filters, parsed once and matched against any record.

pub mod filter_pattern;
