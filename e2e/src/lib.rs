//! The stack as `template.yaml` wires it, built in moto and driven end to
//! end by `tests/stack.rs`.
//!
//! - [`routing`]: what the template routes, rendered by
//!   `tools/stack_routing.py` (SAM translator, conditions and references
//!   resolved).
//! - [`deploy`]: creates that routing in moto through the AWS APIs, with
//!   a tap queue wherever moto would have to invoke a function.
//! - [`lambda`]: the Lambda events made from what a queue or tap holds.
#![deny(missing_docs)]

pub mod deploy;
pub mod lambda;
pub mod routing;
