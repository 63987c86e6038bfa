//! The server's integration tests, one binary: each module was its own test binary, and
//! linking the server into 25 of them was most of a cold CI run's time. Each module
//! still starts its own servers (in process or as `hybridflow` processes) on temporary
//! files and free ports, so they run side by side as before.
//!
//! Run one module with `cargo test -p server --test it verify::`.

mod common;
mod sim;

mod admission;
mod api;
mod bundle;
mod cli;
mod cluster;
mod conformance;
mod control;
mod crash;
mod demo_services;
mod durability;
mod engine_rules;
mod faults;
mod lab;
mod lab_api;
mod lessons;
mod live;
mod openapi;
mod own_services;
mod real_services;
mod runs;
mod scenarios;
mod scenarios_as_tests;
mod security;
mod storage;
mod story;
mod sub_flows;
mod verify;
