//! The CIS metrics: read back from CloudWatch, and computed independently
//! by `tools/cis_expectations.py` from the same log files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use testkit::{metric_minutes, metric_names, repo_root};

/// Per metric, per minute (epoch seconds): count.
pub type Counts = BTreeMap<String, BTreeMap<i64, f64>>;

const DAY: i64 = 86_400;

/// What the independent predicates count in `files`.
pub fn expected(files: &[PathBuf]) -> Counts {
    let out = Command::new("python3")
        .arg(repo_root().join("tools/cis_expectations.py"))
        .args(files)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw: BTreeMap<String, BTreeMap<String, f64>> =
        serde_json::from_slice(&out.stdout).expect("cis_expectations.py prints JSON");
    raw.into_iter()
        .map(|(m, per)| {
            let per = per
                .into_iter()
                .map(|(t, n)| (t.parse().expect("an epoch minute"), n))
                .collect();
            (m, per)
        })
        .collect()
}

/// Every metric of `namespace`, per minute, over the days `expected` covers.
pub async fn read_back(
    cw: &aws_sdk_cloudwatch::Client,
    namespace: &str,
    expected: &Counts,
) -> Counts {
    let days: BTreeSet<i64> = expected
        .values()
        .flat_map(|per| per.keys().map(|t| t - t.rem_euclid(DAY)))
        .collect();
    let mut counts = Counts::new();
    for name in metric_names(cw, namespace).await {
        for day in &days {
            for (t, v) in metric_minutes(cw, namespace, &name, *day, day + DAY).await {
                *counts
                    .entry(name.clone())
                    .or_default()
                    .entry(t)
                    .or_default() += v;
            }
        }
    }
    counts
}
