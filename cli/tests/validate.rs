//! `trailguard validate` against a signed digest chain in moto S3, written
//! by the engine's CloudTrail stand-in. moto does not serve
//! `ListPublicKeys`, so the key comes from a file in the format of
//! `aws cloudtrail list-public-keys` output.

mod common;

use base64::Engine as _;
use common::{runtime, scratch, trailguard};
use serde_json::json;
use testkit::Moto;
use time::macros::datetime;
use trailguard::integrity::testing::{Delivered, FakeCloudTrail, Signer};

const BUCKET: &str = "trailguard-cli-validate";

async fn upload(s3: &aws_sdk_s3::Client, delivered: &Delivered) {
    let mut put = s3
        .put_object()
        .bucket(&delivered.object.bucket)
        .key(&delivered.object.key)
        .body(delivered.data.body.clone().into());
    for (name, value) in &delivered.data.metadata {
        put = put.metadata(name, value);
    }
    put.send().await.unwrap();
}

/// Two hours of a trail: a log file per hour and a digest per hour.
fn deliver(signer: &Signer) -> Vec<Delivered> {
    let mut trail = FakeCloudTrail::simple(BUCKET, "main", signer.clone());
    let record =
        |id: &str| format!(r#"{{"Records":[{{"eventID":"{id}","eventName":"ListBuckets"}}]}}"#);
    vec![
        trail
            .deliver_log(datetime!(2023-07-10 10:45 UTC), record("a").as_bytes())
            .unwrap(),
        trail
            .deliver_digest(datetime!(2023-07-10 11:01:31 UTC))
            .unwrap(),
        trail
            .deliver_log(datetime!(2023-07-10 11:45 UTC), record("b").as_bytes())
            .unwrap(),
        trail
            .deliver_digest(datetime!(2023-07-10 12:01:31 UTC))
            .unwrap(),
    ]
}

#[test]
fn a_valid_chain_passes_and_a_tampered_log_fails() {
    let moto = Moto::start();
    let rt = runtime();
    let signer = Signer::generate().unwrap();
    let delivered = deliver(&signer);
    rt.block_on(async {
        let s3 = moto.s3().await;
        s3.create_bucket().bucket(BUCKET).send().await.unwrap();
        for d in &delivered {
            upload(&s3, d).await;
        }
    });
    let dir = scratch("validate");
    let key_file = dir.join("public-keys.json");
    let key = signer.public_key();
    std::fs::write(
        &key_file,
        json!({"PublicKeyList": [{
            "Value": base64::engine::general_purpose::STANDARD.encode(&key.der),
            "ValidityStartTime": "2023-07-01T00:00:00Z",
            "ValidityEndTime": "2023-08-01T00:00:00Z",
            "Fingerprint": key.fingerprint,
        }]})
        .to_string(),
    )
    .unwrap();
    let key_arg = key_file.display().to_string();
    let target = format!("s3://{BUCKET}/");
    let args = [
        "validate",
        &target,
        "--since",
        "2023-07-10T10:00:00Z",
        "--until",
        "2023-07-10T12:00:00Z",
        "--public-key",
        &key_arg,
    ];

    let valid = trailguard(&args, Some(&moto));
    assert_eq!(valid.code, 0, "{}\n{}", valid.stdout, valid.stderr);
    assert!(
        valid.stdout.starts_with(
            "Validating log files for trail arn:aws:cloudtrail:us-east-1:111122223333:trail/main (region us-east-1) between 2023-07-10T10:00:00Z and 2023-07-10T12:00:00Z\n\n"
        ),
        "{}",
        valid.stdout
    );
    assert!(
        valid.stdout.contains("\n2/2 digest files valid"),
        "{}",
        valid.stdout
    );
    assert!(
        valid.stdout.contains("\n2/2 log files valid"),
        "{}",
        valid.stdout
    );
    assert!(!valid.stdout.contains("INVALID"), "{}", valid.stdout);

    // Rewrite the first log file with other content.
    let tampered = &delivered[0];
    rt.block_on(async {
        let s3 = moto.s3().await;
        s3.put_object()
            .bucket(BUCKET)
            .key(&tampered.object.key)
            .body(
                trailguard::integrity::testing::gzip(br#"{"Records":[]}"#)
                    .unwrap()
                    .into(),
            )
            .send()
            .await
            .unwrap();
    });
    let invalid = trailguard(&args, Some(&moto));
    assert_eq!(invalid.code, 1, "{}\n{}", invalid.stdout, invalid.stderr);
    assert!(
        invalid.stdout.contains(&format!(
            "Log file\ts3://{BUCKET}/{}\tINVALID: hash value doesn't match\n",
            tampered.object.key
        )),
        "{}",
        invalid.stdout
    );
    assert!(
        invalid
            .stdout
            .contains("\n2/2 digest files valid\n1/2 log files valid, 1/2 log files INVALID"),
        "{}",
        invalid.stdout
    );

    // Without any digest for the filters there is nothing to validate.
    let mut other = args.to_vec();
    other.extend(["--trail", "other"]);
    let nothing = trailguard(&other, Some(&moto));
    assert_eq!(nothing.code, 2);
    assert!(
        nothing.stderr.contains("no CloudTrail digest files"),
        "{}",
        nothing.stderr
    );
    std::fs::remove_dir_all(dir).unwrap();
}
