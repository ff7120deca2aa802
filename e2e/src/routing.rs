//! The routing `template.yaml` declares, as `tools/stack_routing.py`
//! renders it: every resource that moves data, fully resolved.

use std::collections::BTreeMap;
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

/// Everything the stack routes, for one set of parameters.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Routing {
    /// The account every ARN names.
    pub account: String,
    /// Every parameter's value, defaults included.
    pub parameters: BTreeMap<String, String>,
    /// Buckets and their notifications.
    pub buckets: Vec<Bucket>,
    /// SNS topics.
    pub topics: Vec<Named>,
    /// SQS queues with their attributes as the SQS API takes them.
    pub queues: Vec<Queue>,
    /// Every queue named as a dead-letter target anywhere.
    pub dead_letter_queue_arns: Vec<String>,
    /// SNS subscriptions, attributes as the SNS API takes them.
    pub subscriptions: Vec<Subscription>,
    /// DynamoDB tables.
    pub tables: Vec<Table>,
    /// Which function each queue feeds.
    pub event_source_mappings: Vec<EventSourceMapping>,
    /// EventBridge rules and their targets.
    pub rules: Vec<Rule>,
    /// CloudTrail trails.
    pub trails: Vec<Trail>,
    /// The functions.
    pub functions: Vec<Function>,
}

/// A resource known by logical id, physical name and ARN.
#[derive(Debug, Deserialize)]
pub struct Named {
    /// Logical id in the template.
    pub id: String,
    /// Physical name.
    pub name: String,
    /// ARN.
    pub arn: String,
}

/// An S3 bucket.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bucket {
    /// Logical id.
    pub id: String,
    /// Bucket name.
    pub name: String,
    /// Versioning enabled.
    pub versioning: bool,
    /// Notifications to SNS topics.
    pub topic_notifications: Vec<TopicNotification>,
}

/// One `TopicConfigurations` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicNotification {
    /// The topic notified.
    pub topic_arn: String,
    /// S3 event names, e.g. `s3:ObjectCreated:*`.
    pub events: Vec<String>,
    /// Key filter rules.
    pub filter_rules: Vec<FilterRule>,
}

/// A key filter rule (`prefix` or `suffix`).
#[derive(Debug, Deserialize)]
pub struct FilterRule {
    /// `prefix` or `suffix`.
    pub name: String,
    /// The value.
    pub value: String,
}

/// An SQS queue.
#[derive(Debug, Deserialize)]
pub struct Queue {
    /// Logical id.
    pub id: String,
    /// Queue name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Attributes as SetQueueAttributes takes them.
    pub attributes: BTreeMap<String, String>,
}

/// An SNS subscription.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Logical id.
    pub id: String,
    /// Topic subscribed to.
    pub topic_arn: String,
    /// `sqs`, `lambda`, ...
    pub protocol: String,
    /// Queue or function ARN.
    pub endpoint: String,
    /// Logical id of the function subscribed, for `lambda`.
    pub function: Option<String>,
    /// Attributes as Subscribe takes them.
    pub attributes: BTreeMap<String, String>,
}

/// A DynamoDB table, key schema as the template writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Table {
    /// Logical id.
    pub id: String,
    /// Table name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// `[{AttributeName, AttributeType}]`.
    pub attribute_definitions: Vec<Value>,
    /// `[{AttributeName, KeyType}]`.
    pub key_schema: Vec<Value>,
    /// `[{IndexName, KeySchema, Projection}]`.
    pub global_secondary_indexes: Vec<Value>,
}

/// A queue feeding a function.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSourceMapping {
    /// Function logical id.
    pub function: String,
    /// Queue ARN.
    pub queue_arn: String,
    /// Most messages per invocation.
    pub batch_size: i32,
    /// Whether Lambda reads the function's `batchItemFailures`.
    pub report_batch_item_failures: bool,
}

/// An EventBridge rule.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    /// Logical id.
    pub id: String,
    /// Rule name.
    pub name: String,
    /// Event pattern (JSON text), for pattern rules.
    pub event_pattern: Option<String>,
    /// Schedule, for scheduled rules.
    pub schedule_expression: Option<String>,
    /// Targets.
    pub targets: Vec<Target>,
}

/// A rule target.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Target id.
    pub id: String,
    /// Logical id of the function targeted, if a function.
    pub function: Option<String>,
    /// Dead-letter queue ARN.
    pub dead_letter_arn: Option<String>,
}

/// A CloudTrail trail.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trail {
    /// Trail name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// Bucket delivered to.
    pub bucket: String,
    /// Logging on creation.
    pub is_logging: bool,
    /// Multi-region.
    pub multi_region: bool,
    /// Digest files.
    pub log_file_validation: bool,
}

/// A Lambda function.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    /// Logical id.
    pub id: String,
    /// The workspace binary deployed.
    pub binary: String,
    /// Its environment, resolved.
    pub environment: BTreeMap<String, String>,
    /// Its role's inline policy statements, resolved, as written.
    pub policy: Value,
    /// The same statements as moto can enforce them.
    pub moto_policy: Value,
    /// What [`Function::moto_policy`] had to widen, and why.
    pub widened: Vec<String>,
    /// Managed policies of its role (not granted in moto: none is needed
    /// by the function's own calls).
    pub managed_policies: Vec<String>,
}

/// Why the routing could not be rendered.
#[derive(Debug)]
pub struct RenderError(pub String);

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tools/stack_routing.py: {}", self.0)
    }
}

impl std::error::Error for RenderError {}

impl Routing {
    /// Renders `template.yaml` with `params` (`Name=Value`) through the
    /// venv's Python, which has the SAM translator.
    pub fn render(params: &[&str]) -> Result<Routing, RenderError> {
        let root = testkit::repo_root();
        let out = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tools/stack_routing.py"))
            .args(params)
            .output()
            .map_err(|e| RenderError(format!("venv python: {e} (run `make venv`)")))?;
        if !out.status.success() {
            return Err(RenderError(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        serde_json::from_slice(&out.stdout).map_err(|e| RenderError(e.to_string()))
    }

    /// The function with logical id `id`.
    pub fn function(&self, id: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.id == id)
    }

    /// The queue with ARN `arn`.
    pub fn queue_by_arn(&self, arn: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.arn == arn)
    }

    /// The first function deploying `binary`.
    pub fn function_of_binary(&self, binary: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.binary == binary)
    }
}
