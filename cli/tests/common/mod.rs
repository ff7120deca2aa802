//! Running the real `trailguard` binary, the sample log files, and (in
//! [`integrity`]) signed trails for `trailguard validate`.

#![allow(dead_code)]

pub mod integrity;

use std::path::PathBuf;
use std::process::Command;

use testkit::{Moto, repo_root};

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output as one JSON document.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("stdout is not JSON ({e}): {}\n{}", self.stdout, self.stderr)
        })
    }
}

/// Runs `trailguard args...`, with moto's environment when given.
pub fn trailguard(args: &[&str], moto: Option<&Moto>) -> Run {
    trailguard_with(args, moto, &[])
}

/// Runs `trailguard args...` with these environment variables too.
pub fn trailguard_with(args: &[&str], moto: Option<&Moto>, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_trailguard"));
    command.args(args).current_dir(repo_root());
    command.envs(env.iter().copied());
    // Never let the developer's own AWS settings leak into a test.
    for var in ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"] {
        command.env_remove(var);
    }
    if let Some(moto) = moto {
        command.envs(moto.child_env());
    }
    let out = command.output().expect("the trailguard binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The sample folder, relative to the repository root.
pub const SAMPLES: &str = "engine/tests/data/invictus-stratus";

/// The sample log files, sorted.
pub fn sample_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join(SAMPLES))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".json.gz"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 12, "sample files");
    files
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("trailguard-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A Tokio runtime for the SDK calls a test makes itself.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}
