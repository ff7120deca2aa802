//! Reader throughput, in bytes of uncompressed JSON per second.
//!
//! Over one generated 200,000-record file: gzip decoding alone, decoding
//! and parsing into typed borrowed records (the reader), and decoding and
//! parsing into `serde_json::Value` (per record, and the whole document at
//! once). Over 500 generated files of 100 records: the reader's per-file
//! cost. The data is generated into `target/bench-data/` when missing.
//!
//! The gzip backend is chosen with the crate's `gzip-*` features, and is
//! part of each group's name so runs with different backends do not
//! compare against each other.

#[path = "support/generate.rs"]
mod generate;

use std::hint::black_box;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::read::MultiGzDecoder;
use trailguard_engine::RecordReader;

const BACKEND: &str = if cfg!(feature = "gzip-zlib-ng") {
    "zlib-ng"
} else if cfg!(feature = "gzip-zlib-rs") {
    "zlib-rs"
} else {
    "miniz"
};

fn bench_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data")
}

/// The 200,000-record file, generated if missing.
fn big_file() -> Vec<u8> {
    let path = bench_data().join("cloudtrail-200k.json.gz");
    if !path.exists() {
        generate::write_log(&path, 200_000).unwrap();
    }
    std::fs::read(path).unwrap()
}

/// The 500 small files, generated if missing.
fn small_files() -> Vec<Vec<u8>> {
    let dir = bench_data().join("small");
    if !dir.exists() {
        generate::write_folder(&dir, 500, 100).unwrap();
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect()
}

fn uncompressed_len(gz: &[u8]) -> u64 {
    io::copy(&mut MultiGzDecoder::new(gz), &mut io::sink()).unwrap()
}

/// Records in a file, read with the reader.
fn count_typed(gz: &[u8]) -> u64 {
    let mut reader = RecordReader::new(gz, "bench").unwrap();
    while let Some(record) = reader.next_record() {
        black_box(record.unwrap().event_name);
    }
    reader.stats().records
}

fn reader_200k(c: &mut Criterion) {
    let gz = big_file();
    let mut group = c.benchmark_group(format!("reader_200k/{BACKEND}"));
    group.throughput(Throughput::Bytes(uncompressed_len(&gz)));
    group.bench_function("gzip_decode", |b| {
        b.iter(|| io::copy(&mut MultiGzDecoder::new(gz.as_slice()), &mut io::sink()).unwrap())
    });
    group.bench_function("typed_borrowed", |b| b.iter(|| count_typed(&gz)));
    group.bench_function("value_per_record", |b| {
        b.iter(|| {
            let mut reader = RecordReader::new(gz.as_slice(), "bench").unwrap();
            while let Some(record) = reader.next_record() {
                let value: serde_json::Value = serde_json::from_str(record.unwrap().raw()).unwrap();
                black_box(value);
            }
        })
    });
    group.bench_function("value_whole_document", |b| {
        b.iter(|| {
            let mut text = Vec::new();
            MultiGzDecoder::new(gz.as_slice())
                .read_to_end(&mut text)
                .unwrap();
            black_box(serde_json::from_slice::<serde_json::Value>(&text).unwrap())
        })
    });
    group.finish();
}

fn reader_small_files(c: &mut Criterion) {
    let files = small_files();
    let bytes = files.iter().map(|gz| uncompressed_len(gz)).sum();
    let mut group = c.benchmark_group(format!("reader_500_files/{BACKEND}"));
    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("gzip_decode", |b| {
        b.iter(|| files.iter().map(|gz| uncompressed_len(gz)).sum::<u64>())
    });
    group.bench_function("typed_borrowed", |b| {
        b.iter(|| files.iter().map(|gz| count_typed(gz)).sum::<u64>())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the machine is small and shared.
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = reader_200k, reader_small_files
}
criterion_main!(benches);
