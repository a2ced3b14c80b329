//! Shared pieces of `spuser` and `spflooder`, the Spread toolkit's test
//! programs: argument parsing, the interactive commands, the flooder's flow
//! control and progress, and the rendering of received messages.

pub mod cli;
pub mod flooder;
pub mod format;
pub mod user;

pub use cli::{Invocation, UsageError};
