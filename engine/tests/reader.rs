//! The record reader against real CloudTrail files and crafted inputs:
//! layouts, compression, window boundaries, and every error.

use std::borrow::Cow;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use flate2::Compression as Level;
use flate2::write::GzEncoder;
use trailguard_engine::{Compression, Layout, ReadError, ReadLimits, ReadStats, RecordReader};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/invictus-stratus")
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Level::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut text)
        .unwrap();
    text
}

/// Everything a reader yields: each record's raw text, or the error.
fn read_all(input: impl Read) -> (Vec<Result<String, ReadError>>, ReadStats) {
    let mut reader = RecordReader::new(input, "test.json").unwrap();
    let mut out = Vec::new();
    while let Some(item) = reader.next_record() {
        out.push(item.map(|record| record.raw().to_owned()));
    }
    assert!(reader.next_record().is_none(), "the end is sticky");
    (out, reader.stats())
}

fn records(input: impl Read) -> Vec<String> {
    let (items, _) = read_all(input);
    items.into_iter().map(Result::unwrap).collect()
}

/// The error `RecordReader::new` returns, or the first error while reading.
fn first_error(input: impl Read) -> ReadError {
    let mut reader = match RecordReader::new(input, "s3://bucket/key") {
        Ok(reader) => reader,
        Err(error) => return error,
    };
    while let Some(item) = reader.next_record() {
        if let Err(error) = item {
            return error;
        }
    }
    panic!("no error");
}

/// Hands out at most `step` bytes per read, to put window and gzip
/// boundaries everywhere.
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

// Counted with:
//   cd engine/tests/data/invictus-stratus && python3 -c 'import gzip,json,glob
//   for f in sorted(glob.glob("*.json.gz")):
//       t = gzip.open(f).read(); print(f, len(json.loads(t)["Records"]), len(t))'
const SAMPLES: [(&str, u64, u64); 12] = [
    (
        "218007301253_CloudTrail_us-east-1_20230710T1145Z_7xgocspSowgK0Gto.json.gz",
        29,
        43324,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1145Z_s7dpHbl38neqZbm2.json.gz",
        51,
        74280,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1150Z_1vnLavRRp0ek1mP4.json.gz",
        2,
        2090,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json.gz",
        394,
        521389,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1200Z_x9kHmzMa7cx6l9wM.json.gz",
        132,
        173877,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_1dM7GQM67kudSyGD.json.gz",
        13,
        16852,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_86g9Vok9HiUCgSI7.json.gz",
        19,
        23923,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json.gz",
        26,
        37502,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_UljXNp9xLp8nsAGc.json.gz",
        55,
        87236,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_dOIWyEekdNWhkpqY.json.gz",
        26,
        34005,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_lKy08gyrqqRJyzsn.json.gz",
        1,
        1207,
    ),
    (
        "218007301253_CloudTrail_us-east-1_20230710T1205Z_nx9Yx1FyJdBaTqKj.json.gz",
        10,
        13158,
    ),
];

/// The largest sample (394 records, more than one window).
const LARGEST: &str = SAMPLES[3].0;

#[test]
fn samples_yield_every_record() {
    let mut total = 0;
    for (name, count, uncompressed) in SAMPLES {
        let bytes = sample(name);
        let mut reader = RecordReader::new(bytes.as_slice(), name).unwrap();
        assert_eq!(
            (reader.compression(), reader.layout()),
            (Compression::Gzip, Layout::Wrapped)
        );
        let mut seen = 0;
        while let Some(record) = reader.next_record() {
            let record = record.unwrap();
            assert!(
                record.event_time_epoch().is_some(),
                "{name}: {}",
                record.raw()
            );
            seen += 1;
        }
        let stats = reader.stats();
        let expected = ReadStats {
            records: count,
            rejected: 0,
            compressed_bytes: bytes.len() as u64,
            uncompressed_bytes: uncompressed,
        };
        assert_eq!((seen, stats), (count, expected), "{name}");
        total += seen;
    }
    assert_eq!(total, 758);
}

#[test]
fn records_are_the_exact_elements_of_the_array() {
    let text = gunzip(&sample(LARGEST));
    let value: serde_json::Value = serde_json::from_slice(&text).unwrap();
    let expected = value["Records"].as_array().unwrap();
    let raws = records(text.as_slice());
    assert_eq!(raws.len(), expected.len());
    for (raw, expected) in raws.iter().zip(expected) {
        assert_eq!(
            &serde_json::from_str::<serde_json::Value>(raw).unwrap(),
            expected
        );
    }
}

#[test]
fn all_layouts_give_the_same_records() {
    let raws = records(sample(LARGEST).as_slice());
    let array = format!("[{}]", raws.join(","));
    let spaced = format!("\n[ {} ]\n", raws.join(" ,\n\t"));
    let lines = format!("{}\n", raws.join("\n\n"));
    let envelope = format!(
        r#"{{"version":"1.0","extra":{{"Records":[1]}},"Records":[{}],"after":[{{"x":null}}]}}"#,
        raws.join(",")
    );
    for (text, layout) in [
        (array, Layout::Array),
        (spaced, Layout::Array),
        (lines, Layout::Lines),
        (envelope, Layout::Wrapped),
    ] {
        let reader = RecordReader::new(text.as_bytes(), "t").unwrap();
        assert_eq!(reader.layout(), layout);
        assert_eq!(records(text.as_bytes()), raws, "{layout:?}");
        assert_eq!(
            records(gzip(text.as_bytes()).as_slice()),
            raws,
            "gzip {layout:?}"
        );
    }
}

#[test]
fn multi_member_gzip_reads_as_one_text() {
    let text = gunzip(&sample(LARGEST));
    let mut members = Vec::new();
    for part in text.chunks(text.len() / 3 + 1) {
        members.extend_from_slice(&gzip(part));
    }
    assert_eq!(records(members.as_slice()), records(text.as_slice()));
}

#[test]
fn tiny_reads_put_boundaries_everywhere() {
    let gz = sample(SAMPLES[0].0);
    let expected = records(gz.as_slice());
    for step in [1, 7, 4096] {
        assert_eq!(
            records(Trickle { bytes: &gz, step }),
            expected,
            "gzip, step {step}"
        );
    }
    let text = gunzip(&gz);
    assert_eq!(
        records(Trickle {
            bytes: &text,
            step: 3
        }),
        expected
    );
}

#[test]
fn records_larger_than_the_window_are_read_whole() {
    let big = format!(
        r#"{{"eventName":"Big","requestParameters":{{"blob":"{}"}}}}"#,
        "x".repeat(3 << 20)
    );
    let mid = format!(
        r#"{{"eventName":"Mid","errorMessage":"{}"}}"#,
        "y".repeat(100_000)
    );
    let small: Vec<String> = (0..3000)
        .map(|i| format!(r#"{{"eventName":"E{i}"}}"#))
        .collect();
    let mut elements = small.clone();
    elements.insert(1500, big.clone());
    elements.insert(10, mid.clone());
    elements.push(big.clone());
    let text = format!(r#"{{"Records":[{}]}}"#, elements.join(","));
    let gz = gzip(text.as_bytes());
    assert_eq!(records(gz.as_slice()), elements);
    assert_eq!(
        records(Trickle {
            bytes: &gz,
            step: 5000
        }),
        elements
    );
    assert_eq!(records(text.as_bytes()), elements);
}

#[test]
fn oversized_bad_records_are_skipped_like_small_ones() {
    let pad = "w".repeat(300_000);
    let text = format!(
        r#"[{{"eventName":"A"}},{{"eventName":5,"pad":"{pad}"}},"{pad}",{{"eventName":"B"}}]"#
    );
    let (items, stats) = read_all(gzip(text.as_bytes()).as_slice());
    assert!(matches!(
        items[1],
        Err(ReadError::InvalidRecord { index: 1, .. })
    ));
    assert!(matches!(
        items[2],
        Err(ReadError::NotAnObject {
            index: 2,
            found: "a string",
            ..
        })
    ));
    assert_eq!(items[3].as_deref().unwrap(), r#"{"eventName":"B"}"#);
    assert_eq!((items.len(), stats.records, stats.rejected), (4, 2, 2));
}

#[test]
fn escaped_strings_are_unescaped_copies() {
    let text = r#"[{"eventName":"Put\u004fbject","errorMessage":"a \"quoted\" \\ path\/x","userAgent":"plain"}]"#;
    let mut reader = RecordReader::new(text.as_bytes(), "t").unwrap();
    let record = reader.next_record().unwrap().unwrap();
    assert!(matches!(&record.event_name, Some(Cow::Owned(name)) if name == "PutObject"));
    assert_eq!(
        record.error_message.as_deref(),
        Some(r#"a "quoted" \ path/x"#)
    );
    assert!(matches!(record.user_agent, Some(Cow::Borrowed("plain"))));
}

#[test]
fn bad_records_are_skipped_and_counted() {
    let text = r#"{"Records":[{"eventName":"A"},5,{"eventName":7},["x"],{"readOnly":"maybe"},{"eventName":"B"}]}"#;
    let (items, stats) = read_all(text.as_bytes());
    let summary: Vec<String> = items
        .iter()
        .map(|item| match item {
            Ok(raw) => raw.clone(),
            Err(error) => {
                assert!(!error.is_fatal(), "{error}");
                match error {
                    ReadError::NotAnObject { index, found, .. } => format!("#{index} {found}"),
                    ReadError::InvalidRecord { index, .. } => format!("#{index} invalid"),
                    other => panic!("unexpected {other}"),
                }
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            r#"{"eventName":"A"}"#,
            "#1 a number",
            "#2 invalid",
            "#3 an array",
            "#4 invalid",
            r#"{"eventName":"B"}"#
        ]
    );
    assert_eq!((stats.records, stats.rejected), (2, 4));
}

#[test]
fn json_lines_skip_blank_lines_and_bad_lines() {
    let text =
        "\n{\"eventTime\":\"2023-07-10T11:45:02Z\"}\n\n\"oops\"\n  {\"eventName\":\"X\"}  \r\n";
    let (items, stats) = read_all(text.as_bytes());
    assert_eq!(items.len(), 3);
    assert!(matches!(
        items[1],
        Err(ReadError::NotAnObject { index: 1, .. })
    ));
    assert_eq!(items[2].as_deref().unwrap(), r#"{"eventName":"X"}"#);
    assert_eq!((stats.records, stats.rejected), (2, 1));
}

#[test]
fn empty_arrays_have_no_records() {
    for text in [r#"{"Records":[]}"#, "[ ]", r#"{"a":1,"Records":[],"b":2}"#] {
        let (items, stats) = read_all(text.as_bytes());
        assert!(items.is_empty() && stats.records == 0, "{text}");
    }
}

#[test]
fn empty_input_is_an_error() {
    for bytes in [Vec::new(), b" \n".to_vec(), gzip(b"")] {
        let error = first_error(bytes.as_slice());
        assert!(matches!(error, ReadError::Empty { .. }), "{error}");
    }
}

#[test]
fn non_json_names_its_first_bytes() {
    let error = first_error(&b"PK\x03\x04\x14\x00rest of a zip"[..]);
    let ReadError::NotJson {
        compression, head, ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (*compression, head.as_str()),
        (Compression::Plain, r#""PK\x03\x04\x14\x00rest of a ""#)
    );
    assert!(
        error
            .to_string()
            .starts_with("s3://bucket/key: not a CloudTrail log file")
    );
    let error = first_error(gzip(b"hello").as_slice());
    assert!(
        matches!(
            error,
            ReadError::NotJson {
                compression: Compression::Gzip,
                ..
            }
        ),
        "{error}"
    );
}

#[test]
fn truncated_gzip_is_reported_after_the_records_it_held() {
    let gz = sample(LARGEST);
    let cut = &gz[..gz.len() * 2 / 3];
    let (items, stats) = read_all(cut);
    let Some(Err(error)) = items.last() else {
        panic!("a truncated file must end with an error");
    };
    assert!(matches!(error, ReadError::TruncatedGzip { .. }), "{error}");
    assert!(
        stats.records > 100,
        "the records before the cut come first ({})",
        stats.records
    );
    let expected = records(gz.as_slice());
    for (got, want) in items.iter().zip(&expected) {
        if let Ok(got) = got {
            assert_eq!(got, want);
        }
    }
}

#[test]
fn corrupt_gzip_is_reported() {
    let mut gz = sample(SAMPLES[0].0);
    let at = gz.len() - 6;
    gz[at] ^= 0x55;
    let error = first_error(gz.as_slice());
    assert!(matches!(error, ReadError::CorruptGzip { .. }), "{error}");
}

#[test]
fn invalid_json_gives_the_uncompressed_offset() {
    let text = r#"{"Records":[{"eventName":"A"},{"eventName":"B","x":tru}]}"#;
    let bad = text.find("tru}").unwrap() as u64;
    for bytes in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
        let error = first_error(bytes.as_slice());
        let ReadError::InvalidJson { offset, reason, .. } = &error else {
            panic!("{error}");
        };
        assert!((bad..bad + 4).contains(offset), "{error}");
        assert!(!reason.contains("line"), "{reason}");
    }
    let cases = [
        (r#"{"Records":[{"eventName":"A"} {"eventName":"B"}]}"#, 30),
        (r#"{"Records":[{"eventName":"A"},]}"#, 30),
        (r#"{"Records":[{"eventName":"A"}]} x"#, 32),
        ("[{}]]", 4),
    ];
    for (text, at) in cases {
        let error = first_error(text.as_bytes());
        assert!(
            matches!(error, ReadError::InvalidJson { offset, .. } if offset == at),
            "{text}: {error}"
        );
    }
}

#[test]
fn truncated_json_ends_with_an_error_after_the_whole_records() {
    let text = r#"{"Records":[{"eventName":"A"},{"eventName":"B"},{"eventNa"#;
    let (items, _) = read_all(text.as_bytes());
    assert_eq!(items.len(), 3);
    assert_eq!(items[1].as_deref().unwrap(), r#"{"eventName":"B"}"#);
    assert!(
        matches!(items[2], Err(ReadError::InvalidJson { offset: 48.., .. })),
        "{:?}",
        items[2]
    );
    for text in [
        r#"{"Records":[{"eventName":"A"}"#,
        r#"{"Records":[{"eventName":"A"}]"#,
    ] {
        let error = first_error(text.as_bytes());
        assert!(
            matches!(error, ReadError::InvalidJson { .. }),
            "{text}: {error}"
        );
    }
}

#[test]
fn documents_without_records_are_refused() {
    let digest =
        r#"{"awsAccountId":"218007301253","digestStartTime":"2023-07-10T11:00:00Z","logFiles":[]}"#;
    for text in [digest, r#"{"Records":{}}"#, "{}"] {
        let error = first_error(text.as_bytes());
        assert!(
            matches!(error, ReadError::NoRecordsArray { .. }),
            "{text}: {error}"
        );
    }
}

#[test]
fn oversized_values_are_refused_at_the_limit() {
    let text = format!(
        r#"[{{"eventName":"A"}},{{"blob":"{}"}}]"#,
        "z".repeat(500_000)
    );
    let mut reader = RecordReader::with_max_record_bytes(text.as_bytes(), "t", 100_000).unwrap();
    assert!(reader.next_record().unwrap().is_ok());
    let error = reader.next_record().unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            ReadError::TooLarge {
                offset: 19,
                limit: 100_000,
                ..
            }
        ),
        "{error}"
    );
    assert!(reader.next_record().is_none());

    let envelope = format!(r#"{{"pad":"{}","Records":[]}}"#, "p".repeat(600_000));
    let error = RecordReader::with_max_record_bytes(envelope.as_bytes(), "t", 100_000).err();
    assert!(
        matches!(error, Some(ReadError::TooLarge { offset: 0, .. })),
        "{error:?}"
    );
    let reader = RecordReader::new(envelope.as_bytes(), "t").unwrap();
    assert_eq!(reader.layout(), Layout::Wrapped);
}

struct FailAfter<'a> {
    bytes: &'a [u8],
}

impl Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.bytes.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset",
            ));
        }
        let n = buf.len().min(self.bytes.len());
        let (head, rest) = self.bytes.split_at(n);
        buf[..n].copy_from_slice(head);
        self.bytes = rest;
        Ok(n)
    }
}

#[test]
fn io_errors_keep_their_cause_and_count() {
    let gz = sample(LARGEST);
    let error = first_error(FailAfter {
        bytes: &gz[..20_000],
    });
    let ReadError::Io {
        compressed_bytes,
        error: cause,
        ..
    } = &error
    else {
        panic!("{error}");
    };
    assert_eq!(
        (*compressed_bytes, cause.kind()),
        (20_000, io::ErrorKind::ConnectionReset)
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[tokio::test]
async fn async_bodies_are_read_in_a_blocking_task() {
    let body = std::io::Cursor::new(sample(LARGEST));
    let body = trailguard_engine::reader::blocking_reader(body);
    let stats = tokio::task::spawn_blocking(move || {
        let mut reader = RecordReader::new(body, "s3://bucket/key")?;
        while let Some(record) = reader.next_record() {
            record?;
        }
        Ok::<_, ReadError>(reader.stats())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(stats.records, 394);
}

/// `text` with `blanks` spaces before, after, and in place of each `|`.
fn padded(text: &str, blanks: u64) -> impl Read {
    let mut input: Box<dyn Read> = Box::new(io::repeat(b' ').take(blanks));
    for piece in text.split('|') {
        let piece = io::Cursor::new(piece.as_bytes().to_vec());
        input = Box::new(input.chain(piece).chain(io::repeat(b' ').take(blanks)));
    }
    input
}

/// The first error reading `input` within `limits`, and the records before it.
fn first_error_within(input: impl Read, limits: ReadLimits) -> (u64, ReadError) {
    let mut reader = match RecordReader::with_limits(input, "t", limits) {
        Ok(reader) => reader,
        Err(error) => return (0, error),
    };
    let mut read = 0;
    loop {
        match reader.next_record() {
            Some(Ok(_)) => read += 1,
            Some(Err(error)) => return (read, error),
            None => panic!("no error after {read} records"),
        }
    }
}

#[test]
fn blanks_between_values_count_toward_no_value() {
    // 20 MiB of blanks around and inside a document whose values may be
    // 1 MiB at most: blanks are not part of any value.
    let limits = ReadLimits {
        max_record_bytes: 1 << 20,
        ..ReadLimits::default()
    };
    for text in [
        r#"{"Records":[|{"eventName":"A"}|,|{"eventName":"B"}|]|}"#,
        r#"[|{"eventName":"A"}|,{"eventName":"B"}|]"#,
        r#"{"eventName":"A"}|{"eventName":"B"}"#,
    ] {
        let input = padded(text, 20 << 20);
        let mut reader = RecordReader::with_limits(input, "t", limits).unwrap();
        let mut names = Vec::new();
        while let Some(record) = reader.next_record() {
            let record = record.unwrap_or_else(|e| panic!("{text}: {e}"));
            names.push(record.event_name.unwrap_or_default().into_owned());
        }
        assert_eq!(names, ["A", "B"], "{text}");
    }
}

#[test]
fn bad_text_in_a_typed_field_rejects_only_its_record() {
    let mut text = br#"{"Records":[{"eventName":"A"},{"eventName":"B","userAgent":"x"#.to_vec();
    text.push(0xff);
    text.extend_from_slice(
        br#""},{"eventName":"C","userAgent":"\udc00"},{"eventName":"D","eventName":"E"},{"eventName":"F"}]}"#,
    );
    let (items, stats) = read_all(text.as_slice());
    let kept: Vec<&str> = items
        .iter()
        .filter_map(|item| item.as_ref().ok())
        .map(String::as_str)
        .collect();
    assert_eq!(kept, [r#"{"eventName":"A"}"#, r#"{"eventName":"F"}"#]);
    assert_eq!((stats.records, stats.rejected), (2, 3));
    for error in items.iter().filter_map(|item| item.as_ref().err()) {
        assert!(matches!(error, ReadError::InvalidRecord { .. }), "{error}");
    }
}

#[test]
fn caps_on_bytes_and_records_end_the_file() {
    let many = format!("[{}{{}}]", "{},".repeat(1000));
    let limits = ReadLimits {
        max_records: 10,
        ..ReadLimits::default()
    };
    let (read, error) = first_error_within(many.as_bytes(), limits);
    assert_eq!(read, 10);
    assert!(
        matches!(error, ReadError::TooManyRecords { limit: 10, .. }),
        "{error}"
    );
    assert!(!error.is_retryable() && error.is_fatal());

    let limits = ReadLimits {
        max_uncompressed_bytes: 1000,
        ..ReadLimits::default()
    };
    let big = gzip(format!("[{}{{}}]", "{},".repeat(100_000)).as_bytes());
    let (_, error) = first_error_within(big.as_slice(), limits);
    assert!(
        matches!(error, ReadError::TooManyBytes { limit: 1000, .. }),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[test]
fn a_passed_deadline_stops_the_file_as_retryable() {
    let limits = ReadLimits::default().until(Some(std::time::Instant::now()));
    let text = format!("[{}{{}}]", "{},".repeat(1000));
    let (read, error) = first_error_within(text.as_bytes(), limits);
    assert_eq!(read, 0);
    assert!(matches!(error, ReadError::Deadline { .. }), "{error}");
    assert!(error.is_retryable());
}
