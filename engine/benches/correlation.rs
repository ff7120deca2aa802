//! Correlation windows over one large group: 100,000 hits within one
//! timespan, the worst a group can hold at the default cap. The
//! `temporal_ordered` case has only hits of its last rule, so every one
//! looks for a chain; the `value_percentile` case never fires, so its
//! window only grows.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trailguard_engine::sigma::SigmaRules;
use trailguard_engine::sigma::correlation::{Hit, evaluate};

const RULES: &str = r#"
title: A
id: 5d1c3c0e-0000-4000-8000-000000000001
name: a
logsource: {product: aws, service: cloudtrail}
detection: {selection: {eventName: A}, condition: selection}
---
title: B
id: 5d1c3c0e-0000-4000-8000-000000000002
name: b
logsource: {product: aws, service: cloudtrail}
detection: {selection: {eventName: B}, condition: selection}
---
title: A then B
id: 5d1c3c0e-0000-4000-8000-000000000003
correlation: {type: temporal_ordered, rules: [a, b], timespan: 1h}
---
title: Percentile
id: 5d1c3c0e-0000-4000-8000-000000000004
correlation:
    type: value_percentile
    rules: [a, b]
    timespan: 1h
    condition: {gte: 999999999, field: x, percentile: 90}
"#;

const HITS: usize = 100_000;

fn bench(c: &mut Criterion) {
    let (sigma, skipped) = SigmaRules::load(&[("bench.yml", RULES)]);
    assert!(skipped.is_empty(), "{skipped:?}");
    // Ten a second, so all within the hour; values 0..HITS.
    let hits: Vec<Hit> = (0..HITS)
        .map(|i| Hit {
            time: (i / 10) as i64,
            event_id: format!("e{i:06}"),
            rule: 1,
            value: Some(i.to_string()),
            payload: (),
        })
        .collect();
    let mut group = c.benchmark_group("correlation");
    group.sample_size(10);
    group.throughput(Throughput::Elements(HITS as u64));
    for rule in sigma.correlations().rules() {
        group.bench_function(rule.kind.as_str(), |b| {
            b.iter(|| evaluate(rule, &hits).len())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
