//! What is being built and about how long is left.
//!
//! The estimate comes from the last build that compiled the most (its record in
//! `target/site-build/times.json`): for a cargo build, when each unit finished after the
//! start; a unit finishing now means about as much is left as was left then. Without a
//! record (a fresh clone), this machine class's cold times stand in.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// A cold build's phases on a 2-core machine of this project's kind, in seconds: the
/// estimate before any build was recorded here.
const COLD_SECONDS: &[(&str, f64)] = &[
    ("server", 430.0),
    ("browser", 190.0),
    ("split and bind", 15.0),
    ("optimise", 60.0),
    ("minify", 3.0),
    ("styles and files", 1.0),
    ("compress", 12.0),
];
/// How often a progress line is printed when the output is not a terminal (a log, CI).
const LOG_EVERY: Duration = Duration::from_secs(30);
/// How often the line is redrawn on a terminal.
const TERMINAL_EVERY: Duration = Duration::from_secs(1);

/// The times of one build, phase by phase.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Record {
    pub phases: Vec<PhaseRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PhaseRecord {
    pub name: String,
    pub seconds: f64,
    /// Units compiled (not fresh), for a cargo build.
    #[serde(default)]
    pub compiled: usize,
    /// Each unit's finish, in seconds after the phase began.
    #[serde(default)]
    pub units: BTreeMap<String, f64>,
}

impl Record {
    pub fn read(path: &Path) -> Option<Record> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }

    pub fn write(&self, path: &Path) {
        if let Ok(json) = serde_json::to_vec_pretty(self) {
            let _ = std::fs::write(path, json);
        }
    }

    fn phase(&self, name: &str) -> Option<&PhaseRecord> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// The phases, one a line: name, time, units compiled.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for phase in &self.phases {
            let units = if phase.units.is_empty() {
                String::new()
            } else {
                format!("  {} units, {} compiled", phase.units.len(), phase.compiled)
            };
            out.push_str(&format!(
                "{:<18} {:>6}{units}\n",
                phase.name,
                clock(Duration::from_secs_f64(phase.seconds))
            ));
        }
        out
    }
}

/// `m:ss`.
pub fn clock(elapsed: Duration) -> String {
    let s = elapsed.as_secs();
    format!("{}:{:02}", s / 60, s % 60)
}

fn about(seconds: f64) -> String {
    if seconds < 5.0 {
        "finishing".into()
    } else if seconds < 90.0 {
        format!("about {} s left", (seconds / 5.0).round() as u64 * 5)
    } else {
        format!("about {} min left", (seconds / 60.0).round() as u64)
    }
}

struct Running {
    name: &'static str,
    started: Instant,
    ended: Option<(Duration, bool)>,
    compiled: usize,
    units: BTreeMap<String, f64>,
    /// The latest finish, in the record, of a unit finished now, and when it was reached.
    reached: f64,
    reached_at: Instant,
}

#[derive(Default)]
struct State {
    phases: Vec<Running>,
    finished: bool,
    /// Lines to print before the next progress line (a phase ended, a note).
    lines: Vec<String>,
}

/// The build's progress, shared by the phases (each on its thread) and the reporter.
pub struct Progress {
    previous: Option<Record>,
    started: Instant,
    state: Mutex<State>,
    wake: Condvar,
}

impl Progress {
    pub fn new(previous: Option<Record>) -> Progress {
        Progress {
            previous,
            started: Instant::now(),
            state: Mutex::default(),
            wake: Condvar::new(),
        }
    }

    fn expected(&self, name: &str) -> f64 {
        self.previous
            .as_ref()
            .and_then(|r| r.phase(name))
            .map(|p| p.seconds)
            .or_else(|| {
                COLD_SECONDS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, s)| *s)
            })
            .unwrap_or(0.0)
    }

    /// What will be built (the server too, or not), and how long the last time (or a
    /// cold build) took.
    pub fn plan(&self, with_server: bool) -> String {
        let chain: f64 = COLD_SECONDS[1..]
            .iter()
            .map(|(n, _)| self.expected(n))
            .sum();
        let server = if with_server {
            self.expected("server")
        } else {
            0.0
        };
        let total = server.max(chain);
        let basis = if self.previous.is_some() {
            "the last full build here took"
        } else {
            "a first build on 2 cores takes"
        };
        let what = if with_server {
            "the server (release) and, beside it, the browser's code (wasm)"
        } else {
            "the browser's code (wasm)"
        };
        format!(
            "Building {what}, then its split, binding, optimisation and compression: {basis} about {} min (logs in {}/)",
            (total / 60.0).ceil() as u64,
            crate::BUILD_DIR
        )
    }

    pub fn begin(&self, name: &'static str) {
        let mut state = self.state.lock().expect("progress");
        state.phases.push(Running {
            name,
            started: Instant::now(),
            ended: None,
            compiled: 0,
            units: BTreeMap::new(),
            reached: 0.0,
            reached_at: Instant::now(),
        });
    }

    pub fn unit(&self, name: &str, unit: String, fresh: bool) {
        let recorded = self
            .previous
            .as_ref()
            .and_then(|r| r.phase(name))
            .and_then(|p| p.units.get(&unit).copied());
        let mut state = self.state.lock().expect("progress");
        if let Some(phase) = state.phases.iter_mut().rev().find(|p| p.name == name) {
            if !fresh {
                phase.compiled += 1;
            }
            if let Some(at) = recorded.filter(|at| *at > phase.reached) {
                phase.reached = at;
                phase.reached_at = Instant::now();
            }
            let at = phase.started.elapsed().as_secs_f64();
            phase.units.insert(unit, at);
        }
    }

    pub fn end(&self, name: &str, ok: bool) {
        let mut state = self.state.lock().expect("progress");
        let Some(phase) = state.phases.iter_mut().rev().find(|p| p.name == name) else {
            return;
        };
        let took = phase.started.elapsed();
        phase.ended = Some((took, ok));
        let units = if phase.units.is_empty() {
            String::new()
        } else {
            format!(
                ", {} units ({} compiled)",
                phase.units.len(),
                phase.compiled
            )
        };
        let line = format!(
            "  {} {name}: {}{units}",
            if ok { "done" } else { "FAILED" },
            clock(took)
        );
        state.lines.push(line);
        self.wake.notify_all();
    }

    pub fn note(&self, line: &str) {
        self.state
            .lock()
            .expect("progress")
            .lines
            .push(format!("  {line}"));
        self.wake.notify_all();
    }

    /// The running phases and what is left of each.
    fn line(&self, state: &State) -> String {
        let parts: Vec<String> = state
            .phases
            .iter()
            .filter(|p| p.ended.is_none())
            .map(|p| {
                let elapsed = p.started.elapsed().as_secs_f64();
                let expected = self.expected(p.name);
                // Where the recorded build was when it got as far as this one, and
                // time has gone on since; or, with nothing to compare, the time spent.
                let position = (p.reached + p.reached_at.elapsed().as_secs_f64()).max(elapsed);
                let left = (expected - position).max(0.0);
                let units = if p.units.is_empty() {
                    String::new()
                } else {
                    format!(" {} units,", p.units.len())
                };
                format!("{}:{units} {}", p.name, about(left))
            })
            .collect();
        format!("[{}] {}", clock(self.started.elapsed()), parts.join(" · "))
    }

    /// Prints the progress until `finish`: a redrawn line on a terminal, a line every
    /// half minute otherwise.
    pub fn report_until_done(&self) {
        let terminal = std::io::stderr().is_terminal();
        let every = if terminal { TERMINAL_EVERY } else { LOG_EVERY };
        let mut last_print = Instant::now();
        let mut state = self.state.lock().expect("progress");
        loop {
            for line in state.lines.drain(..) {
                if terminal {
                    eprint!("\r\x1b[K");
                }
                eprintln!("{line}");
            }
            if state.finished {
                return;
            }
            if last_print.elapsed() >= every {
                let line = self.line(&state);
                if terminal {
                    eprint!("\r\x1b[K{line}");
                } else {
                    eprintln!("{line}");
                }
                last_print = Instant::now();
            }
            state = self
                .wake
                .wait_timeout(state, TERMINAL_EVERY)
                .expect("progress")
                .0;
        }
    }

    pub fn finish(&self) {
        self.state.lock().expect("progress").finished = true;
        self.wake.notify_all();
    }

    /// This build's times, keeping a phase's earlier record where that one compiled more
    /// (the coldest build estimates best: a unit fresh now finished when it did then), and
    /// the earlier record of a phase this build did not run (the server, in a site build).
    pub fn record(&self) -> Record {
        let state = self.state.lock().expect("progress");
        let not_run = self
            .previous
            .iter()
            .flat_map(|r| &r.phases)
            .filter(|before| !state.phases.iter().any(|p| p.name == before.name));
        let not_run: Vec<PhaseRecord> = not_run.cloned().collect();
        let phases = state
            .phases
            .iter()
            .filter_map(|p| {
                let (took, ok) = p.ended?;
                let now = PhaseRecord {
                    name: p.name.to_string(),
                    seconds: took.as_secs_f64(),
                    compiled: p.compiled,
                    units: p.units.clone(),
                };
                let before = self.previous.as_ref().and_then(|r| r.phase(p.name));
                Some(match before {
                    Some(before) if !ok || before.compiled > now.compiled => before.clone(),
                    _ => now,
                })
            })
            .chain(not_run)
            .collect();
        Record { phases }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cold_server() -> Record {
        Record {
            phases: vec![PhaseRecord {
                name: "server".into(),
                seconds: 400.0,
                compiled: 3,
                units: [
                    ("serde/serde/lib", 30.0),
                    ("app/app/lib", 300.0),
                    ("server/hybridflow/bin", 400.0),
                ]
                .into_iter()
                .map(|(u, s)| (u.to_string(), s))
                .collect(),
            }],
        }
    }

    #[test]
    fn a_unit_fresh_now_says_as_much_is_left_as_was_left_when_it_finished_in_the_cold_build() {
        let progress = Progress::new(Some(cold_server()));
        progress.begin("server");
        assert!(progress
            .line(&progress.state.lock().unwrap())
            .contains("about 7 min left"));
        progress.unit("server", "serde/serde/lib".into(), true);
        progress.unit("server", "app/app/lib".into(), true);
        let line = progress.line(&progress.state.lock().unwrap());
        assert!(line.contains("server: 2 units, about 2 min left"), "{line}");
    }

    #[test]
    fn a_warm_build_does_not_replace_the_cold_record_it_estimates_from() {
        let progress = Progress::new(Some(cold_server()));
        progress.begin("server");
        progress.unit("server", "server/hybridflow/bin".into(), false);
        progress.end("server", true);
        let record = progress.record();
        assert_eq!(
            record.phases[0].seconds, 400.0,
            "one unit compiled is not a cold build"
        );

        let progress = Progress::new(None);
        progress.begin("minify");
        progress.end("minify", true);
        assert_eq!(progress.record().phases[0].name, "minify");
    }
}
