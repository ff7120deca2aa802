use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard::service::config::process_env;
use trailguard::service::notifier::{NotifierConfig, NotifierService};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A broken configuration or rule file fails the cold start loudly.
    let config = NotifierConfig::from_env(&process_env)?;
    let sdk = trailguard::aws::load_sdk_config().await;
    let service = NotifierService::new(config, &sdk).await?;
    run(service_fn(|event| notifier::handler(&service, event))).await
}
