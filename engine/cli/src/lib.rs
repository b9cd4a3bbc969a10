//! # crossdock (the binary's library half)
//!
//! The composition root: configuration ([`config`]), the runtime that builds the chosen
//! components on one database with one relay and one HTTP edge ([`runtime`]), and the demo
//! book embedded in the binary ([`demo`]). `main.rs` is the command-line shell over it;
//! tests start the same runtime in-process.

pub mod config;
pub mod demo;
pub mod runtime;

pub use config::Config;
pub use runtime::{Runtime, serve};
