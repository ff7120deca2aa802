use lambda_runtime::{Error, run, service_fn, tracing};
use trailguard::service::config::process_env;
use trailguard::service::integrity::{IntegrityConfig, IntegrityService};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    // A broken configuration fails the cold start loudly.
    let config = IntegrityConfig::from_env(&process_env)?;
    let sdk = trailguard::aws::load_sdk_config().await;
    let service = IntegrityService::new(config, &sdk);
    run(service_fn(|event| integrity::handler(&service, event))).await
}
