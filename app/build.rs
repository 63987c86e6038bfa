//! Generates the `i18n` module (included by `lib.rs`) from `locales/en.json` and
//! `locales/ko.json`: a missing key, a key in one locale only, or a wrong interpolation
//! argument is a build error or warning here, not a blank in the page.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::error::Error;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // `interpolate_display`: translations with arguments also render to a `String`
    // (`td_string!`), for titles, aria labels and the model's sentences.
    let options = ParseOptions::default().interpolate_display(true);
    let config = Config::new("en")?.add_locale("ko")?.parse_options(options);
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
