//! Shared pieces of `spuser`, `spflooder` and `spmonitor`, the Spread
//! toolkit's test programs: argument parsing, the interactive commands, the
//! flooder's flow control and progress, the rendering of received messages,
//! and the monitor's packets, tables and menu.

pub mod cli;
pub mod flooder;
pub mod format;
pub mod monitor;
pub mod user;

pub use cli::{Invocation, UsageError};
