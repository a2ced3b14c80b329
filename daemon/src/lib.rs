//! The `spread` daemon.

pub mod config;
