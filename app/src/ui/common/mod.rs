//! Leaf types and helpers the panels and pages share. Nothing here imports another `ui`
//! module, so any panel may use them without a circle.
//!
//! - [`selection`]: what is selected on the canvas.
//! - [`issues`]: a workflow's errors and design warnings, and the badge they draw.
//! - [`viewport`]: the canvas's pan and zoom, and fitting a workflow into it.
//! - [`geometry`]: where steps, handles, edges and the orchestrator hub are drawn.
//! - [`pulse`]: messages travelling along edges during a run.
//! - [`presets`]: the kinds of step the palette adds.
//! - [`actions`]: the editor's named actions and the keys bound to them.
//! - [`faults`]: the fault form (lab and run controls) and the form field helpers.
//! - [`time`]: times of day as the browser shows them.
//! - [`theme`]: light and dark themes, remembered.
//! - [`language`]: Korean or English, picked from the browser and remembered.
//! - [`words`]: run statuses and step states in the page's language; the editor's address
//!   on a workflow and run.
//! - [`templates`]: the shipped templates' titles and lessons in the page's language.

pub mod actions;
pub mod faults;
pub mod geometry;
pub mod issues;
pub mod language;
pub mod presets;
pub mod pulse;
pub mod selection;
pub mod templates;
pub mod theme;
pub mod time;
pub mod viewport;
pub mod words;

/// Where the browser remembers that the editor's introduction was read: dismissed, or left
/// for a template or the Learn page (both mark it).
pub const INTRO_READ_KEY: &str = "hybridflow.intro-dismissed";
