//! The harness itself: a private server per test, real SDK calls, clean stop.

use testkit::Moto;

#[tokio::test]
async fn each_moto_is_private_and_stops_on_drop() {
    let first = Moto::start();
    let second = Moto::start();
    assert_ne!(first.endpoint(), second.endpoint());

    let s3 = first.s3().await;
    s3.create_bucket().bucket("only-in-first").send().await.unwrap();
    let in_first = s3.list_buckets().send().await.unwrap();
    let in_second = second.s3().await.list_buckets().send().await.unwrap();
    assert_eq!(in_first.buckets().len(), 1);
    assert!(in_second.buckets().is_empty());

    first.reset();
    assert!(s3.list_buckets().send().await.unwrap().buckets().is_empty());

    let endpoint = first.endpoint().trim_start_matches("http://").to_owned();
    drop(first);
    assert!(
        std::net::TcpStream::connect(&endpoint).is_err(),
        "moto still listening on {endpoint} after drop"
    );
}
