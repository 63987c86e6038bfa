//! `hybridflow-site`: builds what `make run` serves — the server in release and the site
//! under `target/site` — and says how far it is while it works.
//!
//! - `main.rs`: the command line and the plan: which phases run side by side, in what order.
//! - `phase.rs`: one phase run as a command (its output kept in a log, a cargo build's units
//!   counted) or as work done here, timed.
//! - `progress.rs`: the line that says what is being built and about how long is left,
//!   estimated from the previous build's times (or this machine's cold times).
//! - `bundle.rs`: the browser's part after cargo: the wasm split into lazily loaded parts
//!   (Leptos's names), bound to JavaScript, named as the server expects; styles and files.
//!
//! Usage, from the repository's root (`make build` runs it):
//!   hybridflow-site build     the server and the site, the two cargo builds side by side
//!   hybridflow-site site      the site alone (`make test` serves it with the server its
//!                             Rust tests built: each crate built once per profile)
//!   hybridflow-site times     the phases of the last build and how long each took

mod bundle;
mod phase;
mod progress;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use phase::Failure;
use progress::{Progress, Record};

/// Where the site goes, as the server's `--site-root` default expects.
const SITE_ROOT: &str = "target/site";
/// The browser's build has a target directory of its own, so that it never waits on the
/// server's build for cargo's lock and the two run side by side.
const FRONT_TARGET_DIR: &str = "target/front";
/// Logs of each phase, and the times of the last build (the next build's estimate).
const BUILD_DIR: &str = "target/site-build";
/// The wasm cargo links, before it is split.
const APP_WASM: &str = "target/front/wasm32-unknown-unknown/wasm-release/app.wasm";
/// Where the npm tools live (`make tools` installs them): wasm-opt (binaryen) and terser.
const NODE_BIN: &str = "end2end/node_modules/.bin";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build(true),
        Some("site") => build(false),
        Some("times") => times(),
        _ => {
            eprintln!(
                "usage: hybridflow-site build | site | times\n  build  the server (release) and the site under {SITE_ROOT}\n  site   the site alone\n  times  the phases of the last build"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("{failure}");
            ExitCode::FAILURE
        }
    }
}

/// The server's release build (`with_server`), and beside it the browser's chain: its
/// cargo build, then split and bind, optimise, minify, styles and files, compress.
fn build(with_server: bool) -> Result<(), Failure> {
    std::fs::create_dir_all(BUILD_DIR).map_err(|e| Failure::io(BUILD_DIR, e))?;
    let record_path = Path::new(BUILD_DIR).join("times.json");
    let previous = Record::read(&record_path);
    let progress = Progress::new(previous);
    let started = Instant::now();
    eprintln!("{}", progress.plan(with_server));

    let results = std::thread::scope(|scope| {
        let reporter = scope.spawn(|| progress.report_until_done());
        let server = scope.spawn(|| {
            if with_server {
                phase::cargo(&progress, "server", server_build())
            } else {
                Ok(())
            }
        });
        let browser = scope.spawn(|| {
            phase::cargo(&progress, "browser", browser_build())?;
            site(&progress)
        });
        let results = (join(server), join(browser));
        progress.finish();
        let _ = reporter.join();
        results
    });
    let (server, browser) = results;
    server?;
    browser?;
    progress.record().write(&record_path);
    if with_server {
        eprintln!(
            "built in {} — serve it with ./target/release/hybridflow (http://127.0.0.1:3000)",
            progress::clock(started.elapsed())
        );
    } else {
        eprintln!(
            "the site built in {} (under {SITE_ROOT})",
            progress::clock(started.elapsed())
        );
    }
    Ok(())
}

fn join(handle: std::thread::ScopedJoinHandle<'_, Result<(), Failure>>) -> Result<(), Failure> {
    handle
        .join()
        .unwrap_or_else(|_| Err(Failure::Message("a build phase panicked".into())))
}

/// `cargo build --release` of the server binary.
fn server_build() -> Command {
    let mut cargo = Command::new(cargo());
    cargo.args([
        "build",
        "--release",
        "--locked",
        "--package=server",
        "--bin=hybridflow",
        "--message-format=json-render-diagnostics",
    ]);
    cargo
}

/// The app's library for the browser, size-optimised (`wasm-release`), linked with its
/// relocations kept so that it can be split.
fn browser_build() -> Command {
    let mut cargo = Command::new(cargo());
    cargo.args([
        "build",
        "--locked",
        "--package=app",
        "--lib",
        "--target=wasm32-unknown-unknown",
        "--profile=wasm-release",
        "--no-default-features",
        "--features=hydrate",
        "--message-format=json-render-diagnostics",
    ]);
    cargo.arg(format!("--target-dir={FRONT_TARGET_DIR}"));
    let flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    cargo.env(
        "RUSTFLAGS",
        format!("{flags} -Clink-args=--emit-relocs").trim(),
    );
    cargo
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Everything after the browser's cargo build, skipped when the site is newer than what
/// it is made of.
fn site(progress: &Progress) -> Result<(), Failure> {
    let site = PathBuf::from(SITE_ROOT);
    let inputs = bundle::Inputs {
        app_wasm: PathBuf::from(APP_WASM),
        style: PathBuf::from("style/main.css"),
        public: PathBuf::from("public"),
    };
    if bundle::is_current(&site, &inputs) {
        progress.note("the site is up to date");
        return Ok(());
    }
    let pkg = site.join("pkg");
    let wasm_files = phase::work(progress, "split and bind", || {
        bundle::split_and_bind(&inputs, &pkg)
    })?;
    let node_bin = PathBuf::from(NODE_BIN);
    phase::work(progress, "optimise", || {
        bundle::optimise(&node_bin, &wasm_files, BUILD_DIR)
    })?;
    phase::work(progress, "minify", || {
        bundle::minify(&node_bin, &pkg, BUILD_DIR)
    })?;
    phase::work(progress, "styles and files", || {
        bundle::copy_styles_and_files(&inputs, &site)
    })?;
    let mut compress = Command::new("node");
    compress.args(["end2end/build/precompress.mjs", SITE_ROOT]);
    phase::command(progress, "compress", compress)?;
    bundle::stamp(&site)
}

/// The last build's phases and times.
fn times() -> Result<(), Failure> {
    let record = Record::read(&Path::new(BUILD_DIR).join("times.json"))
        .ok_or_else(|| Failure::Message(format!("no build recorded yet in {BUILD_DIR}")))?;
    print!("{}", record.table());
    Ok(())
}
