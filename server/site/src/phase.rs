//! One phase of a build: a cargo build (its units counted as they finish), another command
//! (its output kept in a log), or work done in this process — each timed by the progress.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::progress::Progress;
use crate::BUILD_DIR;

/// How many lines of a failed phase's log are shown (the whole log stays on disk).
const LOG_TAIL_LINES: usize = 60;

/// Why a build stopped.
#[derive(Debug)]
pub enum Failure {
    Io {
        path: String,
        error: std::io::Error,
    },
    Phase {
        name: &'static str,
        log: PathBuf,
        tail: String,
    },
    Message(String),
}

impl Failure {
    pub fn io(path: impl AsRef<Path>, error: std::io::Error) -> Failure {
        Failure::Io {
            path: path.as_ref().display().to_string(),
            error,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Io { path, error } => write!(f, "build failed at {path}: {error}"),
            Failure::Phase { name, log, tail } => write!(
                f,
                "{tail}\nbuild failed in phase \"{name}\" (its whole output: {})",
                log.display()
            ),
            Failure::Message(message) => write!(f, "build failed: {message}"),
        }
    }
}

fn log_path(name: &str) -> PathBuf {
    Path::new(BUILD_DIR).join(format!("{}.log", name.replace(' ', "-")))
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n")
}

/// A cargo build with `--message-format=json-render-diagnostics`: each unit that finishes
/// (compiled, or fresh from an earlier build) moves the progress; the diagnostics cargo
/// renders go to the phase's log.
pub fn cargo(progress: &Progress, name: &'static str, mut command: Command) -> Result<(), Failure> {
    let log = log_path(name);
    let log_file = File::create(&log).map_err(|e| Failure::io(&log, e))?;
    progress.begin(name);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .map_err(|e| Failure::Message(format!("cannot start cargo for {name}: {e}")))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some((unit, fresh)) = finished_unit(&line) {
                progress.unit(name, unit, fresh);
            }
        }
    }
    let status = child.wait().map_err(|e| Failure::io(&log, e))?;
    progress.end(name, status.success());
    if status.success() {
        Ok(())
    } else {
        Err(Failure::Phase {
            name,
            tail: tail(&log),
            log,
        })
    }
}

/// The unit a `compiler-artifact` message reports, named the same on every machine (the
/// package's directory and the target), and whether it was fresh.
fn finished_unit(line: &str) -> Option<(String, bool)> {
    if !line.contains("\"compiler-artifact\"") {
        return None;
    }
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    let package = Path::new(message["manifest_path"].as_str()?)
        .parent()?
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let target = &message["target"];
    let kinds: Vec<&str> = target["kind"]
        .as_array()?
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    let unit = format!("{package}/{}/{}", target["name"].as_str()?, kinds.join(","));
    Some((unit, message["fresh"].as_bool().unwrap_or(false)))
}

/// Another command, all its output in the phase's log.
pub fn command(
    progress: &Progress,
    name: &'static str,
    mut command: Command,
) -> Result<(), Failure> {
    let log = log_path(name);
    let log_file = File::create(&log).map_err(|e| Failure::io(&log, e))?;
    let err_file = log_file.try_clone().map_err(|e| Failure::io(&log, e))?;
    progress.begin(name);
    let status = command
        .stdout(log_file)
        .stderr(err_file)
        .status()
        .map_err(|e| Failure::Message(format!("cannot start {name}: {e}")));
    let ok = matches!(&status, Ok(s) if s.success());
    progress.end(name, ok);
    match status {
        Ok(_) if ok => Ok(()),
        Ok(_) => Err(Failure::Phase {
            name,
            tail: tail(&log),
            log,
        }),
        Err(failure) => Err(failure),
    }
}

/// Work done here, timed.
pub fn work<T>(
    progress: &Progress,
    name: &'static str,
    job: impl FnOnce() -> Result<T, Failure>,
) -> Result<T, Failure> {
    progress.begin(name);
    let result = job();
    progress.end(name, result.is_ok());
    result
}

#[cfg(test)]
mod tests {
    use super::finished_unit;

    #[test]
    fn a_compiler_artifact_names_its_package_directory_target_and_kind() {
        let line = r#"{"reason":"compiler-artifact","package_id":"registry+https://github.com/rust-lang/crates.io-index#serde@1.0.228","manifest_path":"/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.228/Cargo.toml","target":{"kind":["custom-build"],"crate_types":["bin"],"name":"build-script-build"},"fresh":true}"#;
        assert_eq!(
            finished_unit(line),
            Some(("serde-1.0.228/build-script-build/custom-build".into(), true))
        );
        let line = r#"{"reason":"compiler-artifact","manifest_path":"/tmp/clone/app/Cargo.toml","target":{"kind":["cdylib","rlib"],"name":"app"},"fresh":false}"#;
        assert_eq!(
            finished_unit(line),
            Some(("app/app/cdylib,rlib".into(), false))
        );
        assert_eq!(
            finished_unit(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(finished_unit("warning: not json"), None);
    }
}
