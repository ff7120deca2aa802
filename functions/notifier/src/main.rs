use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard_delivery::notifier::{NotifierConfig, NotifierService};
use trailguard_engine::config::process_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A broken configuration or rule file fails the cold start loudly.
    let config = NotifierConfig::from_env(&process_env)?;
    let sdk = trailguard_aws::load_sdk_config().await;
    let service = NotifierService::new(config, &sdk).await?;
    run(service_fn(|event| notifier::handler(&service, event))).await
}
