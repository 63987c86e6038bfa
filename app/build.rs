//! Generates the `i18n` module (included by `lib.rs`) from `locales/en.json` and
//! `locales/ko.json`: a missing key, a key in one locale only, or a wrong interpolation
//! argument is a build error or warning here, not a blank in the page.
//!
//! It calls leptos_i18n's own parser and code generator (the two crates its `load_locales!`
//! macro uses), not `leptos_i18n_build`: that crate also carries ICU's data exporter with a
//! networking data source (ICU, rustls, ring…), which this build never uses and which was
//! compiled once per profile — minutes of every cold build.

use leptos_i18n_parser::parse_locales::options::{Config, ParseOptions};
use leptos_i18n_parser::parse_locales::parse_locales;
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // `interpolate_display`: translations with arguments also render to a `String`
    // (`td_string!`), for titles, aria labels and the model's sentences.
    let options = ParseOptions::default().interpolate_display(true);
    let config = Config::new("en")
        .and_then(|c| c.add_locale("ko"))
        .map_err(|e| e.to_string())?
        .parse_options(options);
    let locales = parse_locales(None, config).map_err(|e| e.to_string())?;
    for warning in locales.diag.warnings().iter() {
        println!("cargo::warning={warning}");
    }
    for error in locales.diag.errors().iter() {
        println!("cargo::error={error}");
    }
    for path in locales.tracked_files.iter().flatten() {
        println!("cargo::rerun-if-changed={path}");
    }
    let module = leptos_i18n_codegen::gen_code(&locales, None, false, None, true)
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("mod.rs"), module.to_string())?;
    Ok(())
}
