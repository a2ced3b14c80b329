//! Deterministic simulation: daemons' engines on a simulated network in
//! virtual time, driven by one seed, and a checker for what clients saw.

pub mod checker;
pub mod cluster;
pub mod histories;
pub use crate::rng;
pub use spread_engine::testnet::{net, wiring};
mod scenarios;
