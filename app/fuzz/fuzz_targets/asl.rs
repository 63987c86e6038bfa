//! The Step Functions importer: never panics, never builds past the limits, what it accepts
//! is a valid workflow, and what it accepts and can write again reads back the same.
#![no_main]

use app::model::formats::{export, import, ExportFormat, ImportFormat};
use app::model::validate::{validate, MAX_EDGES, MAX_NODES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(w) = import(text, Some(ImportFormat::Asl)) {
            assert!(validate(&w).is_empty());
            assert!(w.nodes.len() <= MAX_NODES && w.edges.len() <= MAX_EDGES);
            if let Ok(written) = export(&w, ExportFormat::Asl) {
                let again = import(&written, Some(ImportFormat::Asl)).expect("reads back");
                assert_eq!(again.nodes.len(), w.nodes.len());
            }
        }
    }
});
