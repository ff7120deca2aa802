//! Writes synthetic CloudTrail log files for benchmarks, built from the sample records.
//!
//! ```text
//! gen_logs [--records N] [--out FILE]                 one file (default 200000 records)
//! gen_logs --files F [--records N] [--dir DIR]        F files of N records (default 100)
//! ```
//!
//! Output is deterministic: the same arguments write the same bytes.

#[path = "../benches/support/generate.rs"]
mod generate;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut records = None;
    let mut files = None;
    let mut out = PathBuf::from("target/bench-data/cloudtrail-200k.json.gz");
    let mut dir = PathBuf::from("target/bench-data/small");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--records", Some(n)) if n.parse::<usize>().is_ok() => records = n.parse().ok(),
            ("--files", Some(n)) if n.parse::<usize>().is_ok() => files = n.parse().ok(),
            ("--out", Some(path)) => out = path.into(),
            ("--dir", Some(path)) => dir = path.into(),
            _ => {
                eprintln!(
                    "usage: gen_logs [--records N] [--out FILE] | --files F [--records N] [--dir DIR]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let result = match files {
        Some(files) => generate::write_folder(&dir, files, records.unwrap_or(100)).map(|()| dir),
        None => generate::write_log(&out, records.unwrap_or(200_000)).map(|()| out),
    };
    match result {
        Ok(path) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("gen_logs: {error}");
            ExitCode::FAILURE
        }
    }
}
