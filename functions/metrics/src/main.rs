use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard::service::config::process_env;
use trailguard::service::{MetricsConfig, MetricsService};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // Configuration and rules are checked before the first event: a broken
    // setup fails the cold start loudly instead of processing with less.
    let config = MetricsConfig::from_env(&process_env)?;
    let sdk = trailguard::aws::load_sdk_config().await;
    let service = MetricsService::new(config, &sdk).await?;
    run(service_fn(|event| metrics::handler(&service, event))).await
}
