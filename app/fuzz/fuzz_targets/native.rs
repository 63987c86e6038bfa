//! The native importer: never panics, never builds past the limits, and what it accepts is
//! a valid workflow.
#![no_main]

use app::model::formats::{import, ImportFormat};
use app::model::validate::{validate, MAX_EDGES, MAX_NODES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(w) = import(text, Some(ImportFormat::Native)) {
            assert!(validate(&w).is_empty());
            assert!(w.nodes.len() <= MAX_NODES && w.edges.len() <= MAX_EDGES);
        }
    }
});
