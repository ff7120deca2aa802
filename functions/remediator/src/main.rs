use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard_aws::load_sdk_config;
use trailguard_remediation::{RemediatorConfig, RemediatorService};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A bad setting fails the cold start loudly instead of remediating with
    // a configuration nobody asked for.
    let config = RemediatorConfig::from_env()?;
    let sdk = load_sdk_config().await;
    let service = RemediatorService::new(config, &sdk);
    run(service_fn(|event| remediator::handler(&service, event))).await
}
