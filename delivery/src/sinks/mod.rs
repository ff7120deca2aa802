//! Where findings and metrics go: SNS topics, CloudWatch `PutMetricData`
//! and Security Hub. Each takes its client as an argument.

pub mod cloudwatch;
pub mod security_hub;
pub mod sns;
