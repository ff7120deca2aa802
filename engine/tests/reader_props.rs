//! Properties of the reader on damaged real files: it never panics, ends
//! after a fatal error, and whatever it yields before a truncation point is
//! exactly what the intact file holds there.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use trailguard_engine::{ReadError, RecordReader};

/// A sample file: its gzip bytes, its text, and its records' raw text.
struct Sample {
    gzip: Vec<u8>,
    text: Vec<u8>,
    records: Vec<String>,
}

fn samples() -> &'static [Sample] {
    static SAMPLES: OnceLock<Vec<Sample>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/invictus-stratus");
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.to_string_lossy().ends_with(".json.gz"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|file| {
                let gzip = std::fs::read(file).unwrap();
                let mut text = Vec::new();
                flate2::read::MultiGzDecoder::new(gzip.as_slice())
                    .read_to_end(&mut text)
                    .unwrap();
                let (items, _) = read_all(gzip.as_slice(), usize::MAX);
                let records = items.into_iter().map(Result::unwrap).collect();
                Sample {
                    gzip,
                    text,
                    records,
                }
            })
            .collect()
    })
}

/// Hands out at most `step` bytes per read.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        buf[..n].copy_from_slice(head);
        self.bytes = rest;
        Ok(n)
    }
}

/// Everything the reader yields for `bytes`, including an error from
/// opening; checks that a fatal error is the last thing yielded.
fn read_all(bytes: &[u8], step: usize) -> (Vec<Result<String, ReadError>>, bool) {
    let input = Trickle { bytes, step };
    let mut reader = match RecordReader::new(input, "prop") {
        Ok(reader) => reader,
        Err(error) => return (vec![Err(error)], true),
    };
    let mut items = Vec::new();
    let mut fatal = false;
    while let Some(item) = reader.next_record() {
        assert!(!fatal, "nothing may follow a fatal error");
        fatal = matches!(&item, Err(error) if error.is_fatal());
        items.push(item.map(|record| record.raw().to_owned()));
    }
    (items, fatal)
}

/// The records yielded before the first error.
fn leading_records(items: &[Result<String, ReadError>]) -> Vec<&str> {
    items
        .iter()
        .map_while(|item| item.as_deref().ok())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn truncated_files_yield_a_prefix_of_the_records(
        file in 0usize..12,
        cut in 0.0f64..=1.0,
        compressed in any::<bool>(),
        step in prop_oneof![Just(usize::MAX), 1usize..5000],
    ) {
        let sample = &samples()[file];
        let bytes = if compressed { &sample.gzip } else { &sample.text };
        let cut = ((bytes.len() as f64) * cut) as usize;
        let (items, fatal) = read_all(&bytes[..cut], step);
        let yielded = leading_records(&items);
        prop_assert!(yielded.len() <= sample.records.len());
        for (got, want) in yielded.iter().zip(&sample.records) {
            prop_assert_eq!(*got, want.as_str());
        }
        if cut == bytes.len() {
            prop_assert!(!fatal);
            prop_assert_eq!(yielded.len(), sample.records.len());
        } else {
            prop_assert!(fatal, "a truncated file must end in a fatal error");
            prop_assert_eq!(items.len(), yielded.len() + 1);
        }
    }

    #[test]
    fn mutated_files_never_panic(
        file in 0usize..12,
        compressed in any::<bool>(),
        flips in prop::collection::vec((0.0f64..1.0, 1u8..=255), 1..8),
        step in prop_oneof![Just(usize::MAX), 1usize..5000],
    ) {
        let sample = &samples()[file];
        let mut bytes = if compressed { sample.gzip.clone() } else { sample.text.clone() };
        for (at, xor) in flips {
            let at = ((bytes.len() as f64) * at) as usize;
            if let Some(byte) = bytes.get_mut(at) {
                *byte ^= xor;
            }
        }
        let (items, _) = read_all(&bytes, step);
        // Every record read is a JSON object, whatever the damage around it.
        for raw in items.iter().filter_map(|item| item.as_deref().ok()) {
            prop_assert!(serde_json::from_str::<serde_json::Value>(raw).is_ok_and(|v| v.is_object()));
        }
    }
}
