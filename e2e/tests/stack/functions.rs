//! The four functions as the template configures them: each built from its
//! resolved environment and signing as an IAM user whose only policy is the
//! function's role policy (as moto can enforce it).

use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use testkit::Moto;
use trailguard_delivery::integrity::{IntegrityConfig, IntegrityService};
use trailguard_delivery::notifier::{NotifierConfig, NotifierService};
use trailguard_delivery::{MetricsConfig, MetricsService};
use trailguard_e2e::routing::{Function, Routing};
use trailguard_remediation::{RemediatorConfig, RemediatorService};

/// Variables the test sets on top of the template's, and why:
/// the samples are from 2023, and moto, unlike CloudWatch, keeps points
/// that old, so the age limit is lifted to count them.
const OVERRIDES: &[(&str, &str, &str)] = &[("metrics", "TRAILGUARD_MAX_DATAPOINT_AGE_DAYS", "0")];

/// One deployed function's handler. Four of them live for the whole test:
/// their sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum Handler {
    Metrics(MetricsService),
    Notifier(NotifierService),
    Integrity(IntegrityService),
    Remediator(RemediatorService),
}

fn environment(function: &Function) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = function
        .environment
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (binary, name, value) in OVERRIDES {
        if *binary == function.binary {
            vars.retain(|(k, _)| k != name);
            vars.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    vars
}

impl Handler {
    /// Builds `function`'s service with its own credentials.
    pub async fn start(moto: &Moto, function: &Function) -> Handler {
        let key = moto.iam_user(&function.id, &function.moto_policy).await;
        let sdk = moto.sdk_config_as(&key).await;
        let vars = environment(function);
        let lookup = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let id = &function.id;
        match function.binary.as_str() {
            "metrics" => {
                let config =
                    MetricsConfig::from_env(&lookup).unwrap_or_else(|e| panic!("{id}: {e}"));
                Handler::Metrics(
                    MetricsService::new(config, &sdk)
                        .await
                        .unwrap_or_else(|e| panic!("{id}: {e}")),
                )
            }
            "notifier" => {
                let config =
                    NotifierConfig::from_env(&lookup).unwrap_or_else(|e| panic!("{id}: {e}"));
                Handler::Notifier(
                    NotifierService::new(config, &sdk)
                        .await
                        .unwrap_or_else(|e| panic!("{id}: {e}")),
                )
            }
            "integrity" => {
                let config =
                    IntegrityConfig::from_env(&lookup).unwrap_or_else(|e| panic!("{id}: {e}"));
                Handler::Integrity(IntegrityService::new(config, &sdk))
            }
            "remediator" => {
                let config = RemediatorConfig::from_vars(vars.clone())
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
                Handler::Remediator(RemediatorService::new(config, &sdk))
            }
            other => panic!("{id}: no handler for binary {other}"),
        }
    }

    /// Invokes the real Lambda handler; an error is what Lambda would retry.
    pub async fn invoke(&self, payload: Value) -> Result<Value, String> {
        let event = LambdaEvent::new(payload, Context::default());
        let result = match self {
            Handler::Metrics(s) => metrics::handler(s, event).await,
            Handler::Notifier(s) => notifier::handler(s, event).await,
            Handler::Integrity(s) => integrity::handler(s, event).await,
            Handler::Remediator(s) => remediator::handler(s, event).await,
        };
        result.map_err(|d| format!("{}: {}", d.error_type, d.error_message))
    }
}

/// Every function of the stack, by logical id.
pub struct Functions(pub Vec<(String, Handler)>);

impl Functions {
    pub async fn start(moto: &Moto, routing: &Routing) -> Functions {
        let mut all = Vec::new();
        for function in &routing.functions {
            all.push((function.id.clone(), Handler::start(moto, function).await));
        }
        Functions(all)
    }

    pub fn get(&self, id: &str) -> &Handler {
        self.0
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, h)| h)
            .unwrap_or_else(|| panic!("no function {id}"))
    }
}
