//! The app crate's tests, one binary: each module was its own test binary, and linking
//! the model and the views into 20 of them cost a cold CI run minutes for nothing.
//! Fixtures stay in `app/tests/fixtures/` (the server's tests read them too).
//!
//! Run one module with `cargo test -p app --features ssr --test it bounds::`.

mod bounds;
mod conditions;
mod convert;
mod data;
mod formats;
mod gesture;
mod hangul;
mod interchange;
mod language;
mod lint;
mod log;
mod model;
mod properties;
mod report;
mod step_functions;
mod templates;
mod timeline;
mod ui_shape;
mod words;
