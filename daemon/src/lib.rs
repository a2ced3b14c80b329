//! The `spread` daemon.

pub mod auth;
pub mod cli;
pub mod config;
pub mod control;
pub mod engine;
pub mod logging;
pub mod net_io;
pub mod packet;
pub mod runtime;
pub mod segment;
pub mod sendmmsg;
pub mod sessions;
pub mod setup;
pub mod sim;
pub mod status;
pub mod transport;
