//! The workflow document parser (every API body and file): never panics, and what it
//! accepts is a valid workflow that survives a JSON round trip.
#![no_main]

use app::model::validate::{parse_workflow, validate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(w) = parse_workflow(data) {
        assert!(validate(&w).is_empty());
        let again = parse_workflow(&serde_json::to_vec(&w).unwrap()).expect("own output parses");
        assert_eq!(w, again);
    }
});
