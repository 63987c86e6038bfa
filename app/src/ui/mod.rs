//! The Leptos components of the editor page.

pub mod behaviour;
pub mod canvas;
pub mod client;
pub mod editor;
pub mod geometry;
pub mod lab;
pub mod live;
pub mod palette;
pub mod report;
pub mod timeline;
pub mod transfer;
pub mod workflows;
