//! The `spread` daemon.

pub mod config;
pub mod engine;
pub mod auth;
pub mod runtime;
pub mod sessions;
pub mod cli;
pub mod logging;
pub mod setup;
