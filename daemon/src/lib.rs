//! The `spread` daemon.

pub mod config;
pub mod engine;
