//! spread.conf: parsing (Spread 5.0.1 grammar and checks, daemon-protocol.md
//! section 5), daemon ids and the configuration hash (2.1.5), and finding
//! which configured daemon this process is.

mod client_access;
mod error;
mod hash;
mod identity;
mod lexer;
mod model;
mod options;
mod parser;
mod segment;

#[cfg(test)]
mod tests;

pub use client_access::{ClientAccess, Written};
pub use error::ConfigError;
pub use hash::{automatic_id, jenkins_one_at_a_time};
pub use identity::{interface_index, local_addresses, local_interfaces};
pub use model::{
    Config, DaemonEntry, DebugFlag, EventPriority, Interface, IpVersion, LogFormat, Segment,
    Timeouts, TriState,
};
