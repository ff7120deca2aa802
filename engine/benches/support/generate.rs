//! Deterministic synthetic CloudTrail log files built from the real sample records.
//!
//! Shared by the `gen_logs` example and the `reader` bench. Records cycle
//! through the samples in file order; each copy gets its own `eventID` and
//! an `eventTime` spread over one day, and keeps everything else as written.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use trailguard_engine::RecordReader;

/// The real records the synthetic ones are copied from, as raw JSON text.
pub fn sample_records() -> io::Result<Vec<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/invictus-stratus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<io::Result<_>>()?;
    files.retain(|path| path.to_string_lossy().ends_with(".json.gz"));
    files.sort();
    let mut records = Vec::new();
    for file in files {
        let object = file.display().to_string();
        let mut reader = RecordReader::new(File::open(&file)?, object).map_err(io::Error::other)?;
        while let Some(record) = reader.next_record() {
            records.push(record.map_err(io::Error::other)?.raw().to_owned());
        }
    }
    Ok(records)
}

/// Record `index` of `total`: a sample with a fresh `eventID` and `eventTime`.
fn synthetic(samples: &[String], index: usize, total: usize) -> io::Result<String> {
    let template = samples
        .get(index % samples.len().max(1))
        .ok_or_else(|| io::Error::other("no sample records"))?;
    let record = trailguard_engine::Record::from_json(template)?;
    let mut text = template.clone();
    if let Some(id) = record.event_id.as_deref() {
        let hash = splitmix(index as u64);
        let fresh = format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            hash >> 32,
            (hash >> 16) & 0xffff,
            hash & 0xfff,
            (hash >> 20) & 0xfff,
            index
        );
        text = text.replacen(
            &format!(r#""eventID":"{id}""#),
            &format!(r#""eventID":"{fresh}""#),
            1,
        );
    }
    if let Some(time) = record.event_time.as_deref() {
        let second = index * 86_400 / total.max(1);
        let fresh = format!(
            "2023-07-10T{:02}:{:02}:{:02}Z",
            second / 3600,
            second / 60 % 60,
            second % 60
        );
        text = text.replacen(
            &format!(r#""eventTime":"{time}""#),
            &format!(r#""eventTime":"{fresh}""#),
            1,
        );
    }
    Ok(text)
}

/// A fixed pseudo-random mix of `x` (SplitMix64), for ids that look random.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Writes a gzipped `{"Records":[...]}` file of records `first..first + count` of `total`.
fn write_file(
    path: &Path,
    samples: &[String],
    first: usize,
    count: usize,
    total: usize,
) -> io::Result<()> {
    let mut out = GzEncoder::new(BufWriter::new(File::create(path)?), Compression::default());
    out.write_all(br#"{"Records":["#)?;
    for index in first..first + count {
        if index > first {
            out.write_all(b",")?;
        }
        out.write_all(synthetic(samples, index, total)?.as_bytes())?;
    }
    out.write_all(b"]}")?;
    out.finish()?.flush()
}

/// Writes one log file of `records` records to `path`.
pub fn write_log(path: &Path, records: usize) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let samples = sample_records()?;
    write_file(path, &samples, 0, records, records)
}

/// Writes `files` log files of `records` records each into `dir`, named as
/// CloudTrail names them, five minutes apart.
pub fn write_folder(dir: &Path, files: usize, records: usize) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let samples = sample_records()?;
    for file in 0..files {
        let minute = file * 5 % 1440;
        let name = format!(
            "218007301253_CloudTrail_us-east-1_20230710T{:02}{:02}Z_{:016x}.json.gz",
            minute / 60,
            minute % 60,
            splitmix(file as u64)
        );
        write_file(
            &dir.join(name),
            &samples,
            file * records,
            records,
            files * records,
        )?;
    }
    Ok(())
}
