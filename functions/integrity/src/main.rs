use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard_delivery::integrity::{IntegrityConfig, IntegrityService};
use trailguard_engine::config::process_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A broken configuration fails the cold start loudly.
    let config = IntegrityConfig::from_env(&process_env)?;
    let sdk = trailguard_aws::load_sdk_config().await;
    let service = IntegrityService::new(config, &sdk);
    run(service_fn(|event| integrity::handler(&service, event))).await
}
