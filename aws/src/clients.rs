//! SDK configuration the AWS way (environment, profile, IMDS/role), with the
//! endpoint override (`AWS_ENDPOINT_URL`) honoured so that local runs and
//! tests reach moto.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the SDK configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::load_defaults(BehaviorVersion::latest()).await
}

/// An S3 client. With an endpoint override (moto, MinIO, a VPC endpoint URL)
/// it uses path-style addressing, which such endpoints need and real S3
/// accepts.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config);
    let builder = if config.endpoint_url().is_some() {
        builder.force_path_style(true)
    } else {
        builder
    };
    aws_sdk_s3::Client::from_conf(builder.build())
}
