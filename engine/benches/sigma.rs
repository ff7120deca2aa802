//! Sigma evaluation cost per record over the Stratus Red Team samples: the
//! `could_match` pre-check, indexed matching, and every rule on every record.

use std::fs;
use std::io::Read;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use flate2::read::GzDecoder;
use serde_json::Value;
use trailguard_engine::sigma::SigmaRules;

fn sample_records() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invictus-stratus");
    let mut paths: Vec<_> = fs::read_dir(dir)
        .expect("samples exist")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let mut records = Vec::new();
    for path in paths {
        let mut text = String::new();
        GzDecoder::new(fs::File::open(&path).expect("sample opens"))
            .read_to_string(&mut text)
            .expect("sample decompresses");
        let mut log: Value = serde_json::from_str(&text).expect("sample is JSON");
        if let Some(Value::Array(items)) = log.get_mut("Records").map(Value::take) {
            records.extend(items);
        }
    }
    records
}

fn bench(c: &mut Criterion) {
    let records = sample_records();
    let (rules, _) = SigmaRules::builtin();
    let mut group = c.benchmark_group("sigma");
    group.throughput(Throughput::Elements(records.len() as u64));
    group.bench_function("could_match", |b| {
        b.iter(|| records.iter().filter(|r| rules.could_match(*r)).count())
    });
    group.bench_function("matching_indexed", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|r| rules.matching(r).count())
                .sum::<usize>()
        })
    });
    group.bench_function("every_rule", |b| {
        b.iter(|| {
            records
                .iter()
                .map(|r| rules.rules().iter().filter(|rule| rule.matches(r)).count())
                .sum::<usize>()
        })
    });
    group.bench_function("parse_value", |b| {
        let texts: Vec<String> = records.iter().map(Value::to_string).collect();
        b.iter(|| {
            texts
                .iter()
                .filter_map(|t| serde_json::from_str::<Value>(t).ok())
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
