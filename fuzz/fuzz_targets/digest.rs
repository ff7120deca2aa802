//! Feeds arbitrary bytes to the CloudTrail digest-file parser: as they
//! come (gzip or not) and gzip-compressed, as CloudTrail delivers digests.
//!
//! Checks that a digest that parses keeps its bytes exactly, that its
//! JSON model survives a serialize/parse round trip, and that its times
//! are those it states.
#![no_main]

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use trailguard_engine::integrity::ObjectRef;
use trailguard_engine::integrity::digest::{Digest, parse_digest};

fuzz_target!(|data: &[u8]| {
    let object = ObjectRef::new("bucket", "digest.json.gz");
    let _ = parse_digest(&object, data);

    let mut gzip = GzEncoder::new(Vec::new(), Compression::fast());
    gzip.write_all(data).expect("writing to memory");
    let compressed = gzip.finish().expect("writing to memory");
    let Ok(file) = parse_digest(&object, compressed.as_slice()) else {
        return;
    };
    assert_eq!(file.uncompressed(), data, "the digest's bytes changed");
    assert_eq!(file.sha256_hex().len(), 64);
    let json = serde_json::to_vec(&file.digest).expect("a digest serializes");
    let again: Digest = serde_json::from_slice(&json).expect("a serialized digest parses");
    assert_eq!(again, file.digest, "the digest changed in a round trip");
    assert!(
        file.digest
            .previous()
            .is_none_or(|p| Some(&p.key) == file.digest.previous_digest_s3_object.as_ref())
    );
});
