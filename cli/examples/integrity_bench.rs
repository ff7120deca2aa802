//! Whole-process benchmark of `trailguard validate` against a moto S3.
//!
//! Writes a trail's worth of signed data into a private moto server: log
//! files of generated CloudTrail records (the bundled samples, each copy
//! with its own `eventID`) listed across hourly digests, then one more
//! hour holding a few large log files. Then, for three windows (the small
//! files only, the large files only, everything), it measures:
//!
//! - `validate`: the release `trailguard validate` as a child process,
//!   under `/usr/bin/time` for CPU time and peak RSS;
//! - `GET xN`: listing the bucket and reading the same digests and log
//!   files to the end with plain S3 GETs, N at a time (validate reads one
//!   object at a time, so `x1` is its S3 share);
//! - `gunzip+sha256`: what validate does with each body, from memory;
//! - `sha256`: hashing the uncompressed bytes alone, from memory.
//!
//! The large files show whether memory stays bounded: validate's peak RSS
//! over them should match its peak RSS over the small ones.
//!
//! ```text
//! integrity_bench [--files 1000] [--records 200] [--per-hour 50]
//!                 [--large 2] [--large-records 75000] [--runs 3] [--concurrency 8]
//! ```
//!
//! Wall times are the median of `--runs` runs. The `trailguard` binary is
//! the one next to this example's folder (`target/release/trailguard`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail, ensure};
use flate2::read::MultiGzDecoder;
use futures::{StreamExt, TryStreamExt};
use testkit::Moto;
use testkit::cloudtrail::{Delivered, FakeCloudTrail, Signer};
use time::OffsetDateTime;
use time::macros::datetime;
use trailguard_engine::RecordReader;
use trailguard_engine::integrity::hashing::{sha256_hex, sha256_hex_of_gzip};
use trailguard_engine::integrity::timestamps::format_display;

const BUCKET: &str = "trailguard-integrity-bench";
/// End of the first digest; one more every hour.
const FIRST_END: OffsetDateTime = datetime!(2023-07-10 01:01:31 UTC);

/// Command-line settings.
struct Options {
    files: usize,
    records: usize,
    per_hour: usize,
    large: usize,
    large_records: usize,
    runs: usize,
    concurrency: usize,
}

impl Options {
    fn parse() -> anyhow::Result<Options> {
        let mut options = Options {
            files: 1000,
            records: 200,
            per_hour: 50,
            large: 2,
            large_records: 75_000,
            runs: 3,
            concurrency: 8,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value: usize = args
                .next()
                .and_then(|v| v.parse().ok())
                .with_context(|| format!("{flag} needs a number"))?;
            let slot = match flag.as_str() {
                "--files" => &mut options.files,
                "--records" => &mut options.records,
                "--per-hour" => &mut options.per_hour,
                "--large" => &mut options.large,
                "--large-records" => &mut options.large_records,
                "--runs" => &mut options.runs,
                "--concurrency" => &mut options.concurrency,
                _ => bail!("unknown option {flag}"),
            };
            *slot = value;
        }
        ensure!(
            options.per_hour > 0 && options.per_hour <= 55,
            "--per-hour must be 1..=55 (one log file a minute)"
        );
        ensure!(options.runs > 0, "--runs must be at least 1");
        ensure!(options.concurrency > 0, "--concurrency must be at least 1");
        Ok(options)
    }
}

/// One log file's bytes, kept for the in-memory measurements.
struct LogBytes {
    gzipped: Vec<u8>,
    uncompressed_len: usize,
}

/// The objects of one validation window and what validating it covers.
struct Window {
    name: &'static str,
    since: OffsetDateTime,
    until: OffsetDateTime,
    digests: Vec<String>,
    logs: Vec<String>,
    bytes: Vec<LogBytes>,
}

impl Window {
    fn new(name: &'static str, since: OffsetDateTime, until: OffsetDateTime) -> Window {
        Window {
            name,
            since,
            until,
            digests: Vec::new(),
            logs: Vec::new(),
            bytes: Vec::new(),
        }
    }

    fn absorb(&mut self, other: &Window) {
        self.digests.extend(other.digests.iter().cloned());
        self.logs.extend(other.logs.iter().cloned());
        self.bytes.extend(other.bytes.iter().map(|b| LogBytes {
            gzipped: b.gzipped.clone(),
            uncompressed_len: b.uncompressed_len,
        }));
    }

    fn uncompressed_mb(&self) -> f64 {
        self.bytes.iter().map(|b| b.uncompressed_len).sum::<usize>() as f64 / 1e6
    }

    fn gzipped_mb(&self) -> f64 {
        self.bytes.iter().map(|b| b.gzipped.len()).sum::<usize>() as f64 / 1e6
    }
}

/// The real sample records as JSON text, with their `eventID`s.
fn sample_records() -> anyhow::Result<Vec<(String, String)>> {
    let mut records = Vec::new();
    for file in testkit::sample_files() {
        let name = file.display().to_string();
        let body = std::fs::File::open(&file).with_context(|| name.clone())?;
        let mut reader = RecordReader::new(body, name.clone())?;
        while let Some(record) = reader.next_record() {
            let record = record?;
            if let Some(id) = record.event_id.as_deref() {
                records.push((record.raw().to_owned(), id.to_owned()));
            }
        }
    }
    ensure!(!records.is_empty(), "no sample records with an eventID");
    Ok(records)
}

/// A `{"Records":[...]}` body of records `first..first + count`, each a
/// sample copy with its own `eventID`.
fn log_content(samples: &[(String, String)], first: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * 1400 + 16);
    out.extend_from_slice(br#"{"Records":["#);
    for (n, (raw, id)) in samples
        .iter()
        .cycle()
        .skip(first % samples.len())
        .take(count)
        .enumerate()
    {
        if n > 0 {
            out.push(b',');
        }
        let fresh = format!("{:08x}-0000-4000-8000-{:012x}", first + n, first + n);
        out.extend_from_slice(raw.replacen(id.as_str(), &fresh, 1).as_bytes());
    }
    out.extend_from_slice(b"]}");
    out
}

/// Delivers `files` log files of `records` records over hourly digests
/// from `first_end`, one a minute; returns the window covering them.
#[allow(clippy::too_many_arguments)]
fn deliver(
    name: &'static str,
    trail: &mut FakeCloudTrail,
    samples: &[(String, String)],
    first_end: OffsetDateTime,
    files: usize,
    records: usize,
    per_hour: usize,
    out: &mut Vec<Delivered>,
) -> anyhow::Result<Window> {
    let hours = files.div_ceil(per_hour).max(1);
    let last_end = first_end + time::Duration::hours(hours as i64 - 1);
    // Whole hours, after the previous digest's end and before the next
    // one's, so the window holds exactly these digests.
    let since = first_end.replace_minute(0)?.replace_second(0)?;
    let until = last_end.replace_minute(0)?.replace_second(0)?;
    let mut window = Window::new(name, since, until);
    for hour in 0..hours {
        let end = first_end + time::Duration::hours(hour as i64);
        for n in 0..per_hour.min(files - hour * per_hour) {
            let content = log_content(samples, (hour * per_hour + n) * records, records);
            let at = end - time::Duration::minutes(56 - n as i64);
            let log = trail.deliver_log(at, &content)?;
            window.logs.push(log.object.key.clone());
            window.bytes.push(LogBytes {
                gzipped: log.data.body.clone(),
                uncompressed_len: content.len(),
            });
            out.push(log);
        }
        let digest = trail.deliver_digest(end)?;
        window.digests.push(digest.object.key.clone());
        out.push(digest);
    }
    Ok(window)
}

/// Stores every delivered object, `concurrency` PUTs at a time.
async fn upload(
    s3: &aws_sdk_s3::Client,
    objects: &[Delivered],
    concurrency: usize,
) -> anyhow::Result<()> {
    s3.create_bucket().bucket(BUCKET).send().await?;
    futures::stream::iter(objects)
        .map(|object| {
            let mut put = s3
                .put_object()
                .bucket(BUCKET)
                .key(&object.object.key)
                .body(object.data.body.clone().into());
            for (name, value) in &object.data.metadata {
                put = put.metadata(name, value);
            }
            put.send()
        })
        .buffer_unordered(concurrency)
        .try_for_each(|_| async { Ok(()) })
        .await
        .context("PutObject")
}

/// Lists the bucket, then reads every given object to the end,
/// `concurrency` at a time; returns the bytes read.
async fn get_all(
    s3: &aws_sdk_s3::Client,
    keys: &[&String],
    concurrency: usize,
) -> anyhow::Result<u64> {
    let mut pages = s3.list_objects_v2().bucket(BUCKET).into_paginator().send();
    while let Some(page) = pages.next().await {
        std::hint::black_box(page?.contents().len());
    }
    let sizes: Vec<u64> = futures::stream::iter(keys)
        .map(|key| async move {
            let object = s3.get_object().bucket(BUCKET).key(*key).send().await?;
            let mut body = object.body;
            let mut read = 0u64;
            while let Some(chunk) = body.try_next().await? {
                read += chunk.len() as u64;
            }
            anyhow::Ok(read)
        })
        .buffer_unordered(concurrency)
        .try_collect()
        .await?;
    Ok(sizes.iter().sum())
}

/// What `/usr/bin/time` saw of one child run.
struct ChildRun {
    wall: f64,
    cpu: f64,
    max_rss_kib: u64,
}

/// Runs `trailguard validate` over `window` and checks that it found every
/// file valid.
fn run_validate(
    trailguard: &Path,
    moto: &Moto,
    key_file: &Path,
    window: &Window,
    scratch: &Path,
) -> anyhow::Result<ChildRun> {
    let times = scratch.join("time.txt");
    let start = Instant::now();
    let output = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%U %S %M")
        .arg("-o")
        .arg(&times)
        .arg(trailguard)
        .args(["validate", &format!("s3://{BUCKET}/"), "--since"])
        .arg(format_display(window.since))
        .arg("--until")
        .arg(format_display(window.until))
        .arg("--public-key")
        .arg(key_file)
        .env_remove("AWS_PROFILE")
        .envs(moto.child_env())
        .output()
        .context("running trailguard under /usr/bin/time (is the `time` package installed?)")?;
    let wall = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let valid = format!(
        "\n{}/{} digest files valid\n{}/{} log files valid\n",
        window.digests.len(),
        window.digests.len(),
        window.logs.len(),
        window.logs.len()
    );
    ensure!(
        output.status.success() && stdout.contains(&valid),
        "validate over the {} window did not find every file valid:\n{stdout}\n{}",
        window.name,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&times)?;
    let fields: Vec<&str> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let [user, system, rss] = fields.as_slice() else {
        bail!("unexpected /usr/bin/time output: {text}");
    };
    Ok(ChildRun {
        wall,
        cpu: user.parse::<f64>()? + system.parse::<f64>()?,
        max_rss_kib: rss.parse()?,
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn timed<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<f64> {
    let start = Instant::now();
    std::hint::black_box(work()?);
    Ok(start.elapsed().as_secs_f64())
}

/// Seconds to gunzip and hash every log file as validate does, and
/// seconds to hash their uncompressed bytes alone, each file decompressed
/// into memory beforehand (one at a time).
fn hash_times(logs: &[LogBytes]) -> anyhow::Result<(f64, f64)> {
    let (mut with_gunzip, mut alone) = (0.0, 0.0);
    for log in logs {
        with_gunzip += timed(|| Ok(sha256_hex_of_gzip(log.gzipped.as_slice())?))?;
        let mut plain = Vec::with_capacity(log.uncompressed_len);
        MultiGzDecoder::new(log.gzipped.as_slice()).read_to_end(&mut plain)?;
        alone += timed(|| Ok(sha256_hex(&plain)))?;
    }
    Ok((with_gunzip, alone))
}

fn trailguard_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|release| release.join("trailguard"))
        .context("cannot locate the target folder")?;
    ensure!(
        binary.exists(),
        "{} not found: cargo build --release -p trailguard-cli",
        binary.display()
    );
    Ok(binary)
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    let trailguard = trailguard_binary()?;
    let samples = sample_records()?;
    let signer = Signer::generate()?;
    let mut trail = FakeCloudTrail::simple(BUCKET, "bench", signer.clone());

    eprintln!("generating {} + {} log files", options.files, options.large);
    let mut objects = Vec::new();
    let small = deliver(
        "small files",
        &mut trail,
        &samples,
        FIRST_END,
        options.files,
        options.records,
        options.per_hour,
        &mut objects,
    )?;
    let large_end =
        FIRST_END + time::Duration::hours(options.files.div_ceil(options.per_hour) as i64);
    let large = deliver(
        "large files",
        &mut trail,
        &samples,
        large_end,
        options.large,
        options.large_records,
        options.per_hour,
        &mut objects,
    )?;
    let mut all = Window::new("everything", small.since, large.until);
    all.absorb(&small);
    all.absorb(&large);

    let moto = Moto::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let s3 = rt.block_on(moto.s3());
    eprintln!("uploading {} objects", objects.len());
    rt.block_on(upload(&s3, &objects, options.concurrency))?;
    drop(objects);

    let scratch = std::env::temp_dir().join(format!("trailguard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let key_file = scratch.join(format!("{}.der", signer.fingerprint()));
    std::fs::write(&key_file, signer.public_key().der)?;

    println!(
        "| window | log files | digests | MB uncompressed | MB gzipped | validate wall | validate CPU | validate peak RSS | GET x1 | GET x{} | gunzip+sha256 | sha256 |",
        options.concurrency
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for window in [&small, &large, &all] {
        eprintln!("measuring {}", window.name);
        let keys: Vec<&String> = window.digests.iter().chain(&window.logs).collect();
        let mut validate = Vec::new();
        let mut serial = Vec::new();
        let mut parallel = Vec::new();
        let mut unzip_hash = Vec::new();
        let mut hash = Vec::new();
        for _ in 0..options.runs {
            validate.push(run_validate(
                &trailguard,
                &moto,
                &key_file,
                window,
                &scratch,
            )?);
            serial.push(timed(|| rt.block_on(get_all(&s3, &keys, 1)))?);
            parallel.push(timed(|| {
                rt.block_on(get_all(&s3, &keys, options.concurrency))
            })?);
            let (with_gunzip, alone) = hash_times(&window.bytes)?;
            unzip_hash.push(with_gunzip);
            hash.push(alone);
        }
        let max_rss = validate.iter().map(|r| r.max_rss_kib).max().unwrap_or(0);
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.2} s | {:.2} s | {:.1} MiB | {:.2} s | {:.2} s | {:.2} s | {:.2} s |",
            window.name,
            window.logs.len(),
            window.digests.len(),
            window.uncompressed_mb(),
            window.gzipped_mb(),
            median(validate.iter().map(|r| r.wall).collect()),
            median(validate.iter().map(|r| r.cpu).collect()),
            max_rss as f64 / 1024.0,
            median(serial),
            median(parallel),
            median(unzip_hash),
            median(hash),
        );
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}
