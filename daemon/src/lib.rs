//! The `spread` daemon.

/// The daemon-to-daemon packets (their own crate: sans-IO, for the tools).
pub use spread_codec as packet;
/// spread.conf (its own crate: the tools read it without the daemon).
pub use spread_config as config;
/// The daemon's logic as one sans-IO node (its own crate: no tokio, no
/// sockets).
pub use spread_engine as engine;
pub use spread_engine::rng;

pub mod auth;
pub mod cli;
pub mod control;
pub mod logfile;
pub mod logging;
pub mod memory;
pub mod metrics;
pub mod net_io;
pub mod notify;
pub mod privileges;
pub mod recvmmsg;
pub mod reload;
pub mod ring_keys;
pub mod runtime;
pub mod sealing;
pub mod segment;
pub mod sendmmsg;
pub mod sessions;
pub mod setup;
#[cfg(any(test, feature = "sim"))]
pub mod sim;
pub mod status;
pub mod transport;
