//! The reader over a real S3 body stream: a sample log file uploaded to a
//! moto bucket is read back through `GetObject` and counted record by record.

use testkit::{Moto, repo_root};
use trailguard_aws::{open_object, s3_client};
use trailguard_engine::ObjectRef;
use trailguard_engine::RecordReader;

#[tokio::test]
async fn a_sample_streams_from_s3_through_the_reader() {
    let moto = Moto::start();
    let name = "218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz";
    let body = std::fs::read(
        repo_root()
            .join("engine/tests/data/invictus-stratus")
            .join(name),
    )
    .unwrap();
    let key = format!("AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/{name}");
    let sdk = moto.sdk_config().await;
    let s3 = s3_client(&sdk);
    s3.create_bucket().bucket("trail").send().await.unwrap();
    s3.put_object()
        .bucket("trail")
        .key(&key)
        .body(body.clone().into())
        .send()
        .await
        .unwrap();

    let object = ObjectRef::new("trail", key);
    let (stream, meta) = open_object(&s3, &object).await.unwrap();
    assert_eq!(meta.size, Some(body.len() as i64));
    let source = object.to_string();
    let (records, stats) = tokio::task::spawn_blocking(move || {
        let mut reader = RecordReader::new(stream, source).unwrap();
        let mut ids = Vec::new();
        while let Some(record) = reader.next_record() {
            ids.push(record.unwrap().event_id.map(|id| id.into_owned()));
        }
        (ids, reader.stats())
    })
    .await
    .unwrap();
    // Counted independently: python3 -c 'import gzip,json;print(len(json.load(gzip.open(F))["Records"]))'
    assert_eq!(records.len(), 394);
    assert!(records.iter().all(Option::is_some));
    assert_eq!(stats.compressed_bytes, body.len() as u64);
}
