//! The mermaid importer: never panics, never builds past the limits, and what it accepts is a
//! valid workflow that survives its own export and import again.
#![no_main]

use app::model::formats::{export, import, ExportFormat, ImportFormat};
use app::model::validate::{validate, MAX_EDGES, MAX_NODES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(w) = import(text, Some(ImportFormat::Mermaid)) {
            assert!(validate(&w).is_empty());
            assert!(w.nodes.len() <= MAX_NODES && w.edges.len() <= MAX_EDGES);
            let again = import(&export(&w, ExportFormat::Mermaid), Some(ImportFormat::Mermaid))
                .expect("our own export imports");
            assert_eq!(again.nodes.len(), w.nodes.len());
        }
    }
});
