//! spread-core: the numbers, names, errors and wire codec of the Spread 5
//! client protocol, and [`client::Mailbox`], a blocking, thread-safe client.

pub mod client;
pub mod consts;
pub mod error;
pub mod name;
pub mod vectors;
pub mod wire;

pub use error::{Error, Result};
pub use name::GroupName;
