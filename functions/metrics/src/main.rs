use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard_delivery::{MetricsConfig, MetricsService};
use trailguard_engine::config::process_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // Configuration and rules are checked before the first event: a broken
    // setup fails the cold start loudly instead of processing with less.
    let config = MetricsConfig::from_env(&process_env)?;
    let sdk = trailguard_aws::load_sdk_config().await;
    let service = MetricsService::new(config, &sdk).await?;
    run(service_fn(|event| metrics::handler(&service, event))).await
}
