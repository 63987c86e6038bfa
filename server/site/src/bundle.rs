//! The browser's part of the site, after cargo linked the app's wasm:
//! 1. split it where Leptos marked lazy code (`#[lazy]`, lazy routes) into a main module and
//!    parts fetched when first used, with the loader and the prefetch manifest under the
//!    names Leptos's `HydrationScripts` links (`__wasm_split.______________________.js`,
//!    `__wasm_split_manifest.json`);
//! 2. bind the main module to JavaScript (wasm-bindgen, `--target web`), as
//!    `pkg/hybridflow.js` and `pkg/hybridflow.wasm`;
//! 3. optimise every wasm for size (binaryen's wasm-opt `-Oz`) and minify the JavaScript
//!    (terser);
//! 4. the styles as `pkg/hybridflow.css`, the public files at the site's root.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use crate::phase::Failure;

/// The name the server gives the bundle (`server::BUNDLE_NAME`).
const BUNDLE_NAME: &str = "hybridflow";
/// The split loader's name as Leptos links it when files are not hashed.
const SPLIT_LOADER: &str = "./__wasm_split.______________________.js";
const SPLIT_MANIFEST: &str = "__wasm_split_manifest.json";
/// wasm-opt's options: the size-optimising passes, and the features Rust's wasm uses.
const WASM_OPT_ARGS: &[&str] = &[
    "-Oz",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
];
/// wasm-opt runs as node (binaryen's npm build): one process per core.
const WASM_OPT_PROCESSES: usize = 2;
/// Marks a finished site: newer than what it was made of means nothing to do.
const STAMP: &str = ".built";

pub struct Inputs {
    pub app_wasm: PathBuf,
    pub style: PathBuf,
    pub public: PathBuf,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

/// Whether the site was finished after every input last changed.
pub fn is_current(site: &Path, inputs: &Inputs) -> bool {
    let Some(built) = modified(&site.join(STAMP)) else {
        return false;
    };
    let mut sources = vec![inputs.app_wasm.clone(), inputs.style.clone()];
    sources.extend(files_under(&inputs.public));
    sources
        .iter()
        .all(|source| modified(source).is_some_and(|changed| changed <= built))
}

pub fn stamp(site: &Path) -> Result<(), Failure> {
    let path = site.join(STAMP);
    std::fs::write(&path, b"").map_err(|e| Failure::io(&path, e))
}

/// Steps 1 and 2; answers every wasm file of the bundle.
pub fn split_and_bind(inputs: &Inputs, pkg: &Path) -> Result<Vec<PathBuf>, Failure> {
    if pkg.exists() {
        std::fs::remove_dir_all(pkg).map_err(|e| Failure::io(pkg, e))?;
    }
    std::fs::create_dir_all(pkg).map_err(|e| Failure::io(pkg, e))?;
    let linked = std::fs::read(&inputs.app_wasm).map_err(|e| Failure::io(&inputs.app_wasm, e))?;
    let main = inputs.app_wasm.with_file_name("app_split.wasm");
    let main_module = format!("/pkg/{BUNDLE_NAME}.js");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&linked);
        options.output_dir = pkg;
        options.main_out_path = &main;
        options.main_module = &main_module;
        options.link_name = SPLIT_LOADER;
        options
    })
    .map_err(|e| Failure::Message(format!("splitting {}: {e}", inputs.app_wasm.display())))?;
    let manifest = pkg.join(SPLIT_MANIFEST);
    let prefetch: std::collections::BTreeMap<_, _> = split.prefetch_map.into_iter().collect();
    std::fs::write(
        &manifest,
        serde_json::to_vec_pretty(&prefetch).expect("a map of strings"),
    )
    .map_err(|e| Failure::io(&manifest, e))?;

    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&main)
        .out_name(BUNDLE_NAME)
        .web(true)
        .map_err(|e| Failure::Message(format!("wasm-bindgen: {e}")))?
        .keep_lld_exports(true)
        .demangle(false)
        .typescript(false)
        .generate(pkg)
        .map_err(|e| Failure::Message(format!("wasm-bindgen on {}: {e:#}", main.display())))?;
    let bound = pkg.join(format!("{BUNDLE_NAME}_bg.wasm"));
    let served = pkg.join(format!("{BUNDLE_NAME}.wasm"));
    std::fs::rename(&bound, &served).map_err(|e| Failure::io(&bound, e))?;

    let mut wasm = vec![served];
    wasm.extend(split.split_modules);
    Ok(wasm)
}

/// Step 3, wasm: wasm-opt on every file, the largest first, a process per core.
pub fn optimise(node_bin: &Path, files: &[PathBuf], logs: &str) -> Result<(), Failure> {
    let wasm_opt = node_bin.join("wasm-opt");
    let mut queue: Vec<PathBuf> = files.to_vec();
    queue.sort_by_key(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0));
    let queue = std::sync::Mutex::new(queue);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..WASM_OPT_PROCESSES {
            scope.spawn(|| loop {
                let Some(file) = queue.lock().expect("queue").pop() else {
                    break;
                };
                let output = Command::new(&wasm_opt)
                    .args(WASM_OPT_ARGS)
                    .arg(&file)
                    .arg("-o")
                    .arg(&file)
                    .output();
                match output {
                    Ok(o) if o.status.success() => {}
                    Ok(o) => failures.lock().expect("failures").push(format!(
                        "wasm-opt on {}: {}",
                        file.display(),
                        String::from_utf8_lossy(&o.stderr)
                    )),
                    Err(e) => failures.lock().expect("failures").push(format!(
                        "cannot run {} ({e}); `make tools` installs it",
                        wasm_opt.display()
                    )),
                }
            });
        }
    });
    let failures = failures.into_inner().expect("failures");
    if failures.is_empty() {
        Ok(())
    } else {
        let log = Path::new(logs).join("optimise.log");
        let _ = std::fs::write(&log, failures.join("\n"));
        Err(Failure::Message(failures.join("\n")))
    }
}

/// Step 3, JavaScript: terser on the bindings and the split loader (exports kept).
pub fn minify(node_bin: &Path, pkg: &Path, logs: &str) -> Result<(), Failure> {
    let terser = node_bin.join("terser");
    let scripts = [
        pkg.join(format!("{BUNDLE_NAME}.js")),
        pkg.join(SPLIT_LOADER.trim_start_matches("./")),
    ];
    for script in scripts.iter().filter(|s| s.exists()) {
        let output = Command::new(&terser)
            .arg(script)
            .args(["--module", "--compress", "--mangle", "--output"])
            .arg(script)
            .output()
            .map_err(|e| {
                Failure::Message(format!(
                    "cannot run {} ({e}); `make tools` installs it",
                    terser.display()
                ))
            })?;
        if !output.status.success() {
            let log = Path::new(logs).join("minify.log");
            let _ = std::fs::write(&log, &output.stderr);
            return Err(Failure::Message(format!(
                "terser on {}: {}",
                script.display(),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
    }
    Ok(())
}

/// Step 4.
pub fn copy_styles_and_files(inputs: &Inputs, site: &Path) -> Result<(), Failure> {
    let css = site.join("pkg").join(format!("{BUNDLE_NAME}.css"));
    std::fs::copy(&inputs.style, &css).map_err(|e| Failure::io(&inputs.style, e))?;
    for file in files_under(&inputs.public) {
        let relative = file.strip_prefix(&inputs.public).expect("under public");
        let target = site.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Failure::io(parent, e))?;
        }
        std::fs::copy(&file, &target).map_err(|e| Failure::io(&file, e))?;
    }
    Ok(())
}
