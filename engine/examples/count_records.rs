//! Reads log files and reports records, throughput and this process's peak memory.
//!
//! ```text
//! count_records [--mode typed|value-stream|value-doc|decode] PATH...
//! ```
//!
//! A directory stands for the files in it. Modes:
//! - `typed` (default): stream records with `RecordReader` (typed, borrowed);
//! - `value-stream`: stream with `RecordReader`, and parse each record's text
//!   again into a `serde_json::Value`;
//! - `value-doc`: decompress the whole file, then parse it into one `Value`;
//! - `decode`: decompress only.
//!
//! MB/s counts uncompressed JSON bytes (10^6 bytes per MB), over wall time
//! and over this thread's CPU time (`/proc/thread-self/schedstat`), which
//! other work on a shared machine does not inflate. Peak memory is `VmHWM`
//! from `/proc/self/status`.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use flate2::read::MultiGzDecoder;
use trailguard_engine::RecordReader;

#[derive(Clone, Copy)]
enum Mode {
    Typed,
    ValueStream,
    ValueDoc,
    Decode,
}

/// Records and uncompressed bytes of one file.
fn count(path: &Path, mode: Mode) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let file = BufReader::with_capacity(64 * 1024, File::open(path)?);
    match mode {
        Mode::Typed | Mode::ValueStream => {
            let mut reader = RecordReader::new(file, path.display().to_string())?;
            while let Some(record) = reader.next_record() {
                let record = record?;
                if let Mode::ValueStream = mode {
                    let value: serde_json::Value = serde_json::from_str(record.raw())?;
                    std::hint::black_box(value);
                }
            }
            let stats = reader.stats();
            Ok((stats.records, stats.uncompressed_bytes))
        }
        Mode::ValueDoc => {
            let mut text = Vec::new();
            MultiGzDecoder::new(file).read_to_end(&mut text)?;
            let value: serde_json::Value = serde_json::from_slice(&text)?;
            let records = value["Records"].as_array().map_or(0, Vec::len);
            Ok((records as u64, text.len() as u64))
        }
        Mode::Decode => {
            let bytes = io::copy(&mut MultiGzDecoder::new(file), &mut io::sink())?;
            Ok((0, bytes))
        }
    }
}

/// CPU time this thread has run, in seconds.
fn cpu_seconds() -> Option<f64> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = schedstat.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// This process's peak resident memory, in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn files(paths: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inner: Vec<PathBuf> = std::fs::read_dir(path)?
                .map(|entry| entry.map(|entry| entry.path()))
                .collect::<io::Result<_>>()?;
            inner.sort();
            out.extend(inner);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let mut mode = Mode::Typed;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--mode" => match args.next().as_deref() {
                Some("typed") => mode = Mode::Typed,
                Some("value-stream") => mode = Mode::ValueStream,
                Some("value-doc") => mode = Mode::ValueDoc,
                Some("decode") => mode = Mode::Decode,
                _ => {
                    eprintln!("--mode takes typed, value-stream, value-doc or decode");
                    return ExitCode::from(2);
                }
            },
            _ => paths.push(PathBuf::from(arg)),
        }
    }
    let files = match files(&paths) {
        Ok(files) if !files.is_empty() => files,
        Ok(_) => {
            eprintln!("usage: count_records [--mode typed|value-stream|value-doc|decode] PATH...");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("count_records: {error}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let (mut records, mut bytes) = (0, 0);
    for file in &files {
        match count(file, mode) {
            Ok((r, b)) => {
                records += r;
                bytes += b;
            }
            Err(error) => {
                eprintln!("count_records: {}: {error}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let cpu = match (cpu_start, cpu_seconds()) {
        (Some(start), Some(end)) => end - start,
        _ => f64::NAN,
    };
    let mb = bytes as f64 / 1e6;
    println!(
        "files {} records {records} uncompressed_mb {mb:.1} seconds {seconds:.3} mb_per_s {:.0} \
         records_per_s {:.0} cpu_seconds {cpu:.3} cpu_mb_per_s {:.0} peak_rss_mib {:.1}",
        files.len(),
        mb / seconds,
        records as f64 / seconds,
        mb / cpu,
        peak_rss_kib().map_or(f64::NAN, |kib| kib as f64 / 1024.0),
    );
    ExitCode::SUCCESS
}
