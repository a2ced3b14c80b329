//! spread-core: the numbers, names, errors and wire codec of the Spread 5
//! client protocol, and [`client::Mailbox`], a blocking, thread-safe client.
//!
//! ```no_run
//! use spread_core::client::Mailbox;
//! use spread_core::consts::AGREED_MESS;
//! use spread_core::wire::Message;
//!
//! # fn main() -> spread_core::Result<()> {
//! let mbox = Mailbox::connect("4803", Some("alice"), 0, true)?;
//! mbox.join("chat")?;
//! mbox.multicast(AGREED_MESS, "chat", 0, b"hello")?;
//! match mbox.receive()? {
//!     Message::Data(m) => println!("{} says {:?}", m.sender, m.data),
//!     Message::Membership(v) => println!("{} now has {:?}", v.group, v.members),
//!     other => println!("{other:?}"),
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod client;
pub mod consts;
pub mod error;
pub mod flush;
pub mod name;
pub mod vectors;
pub mod wire;

pub use error::{Error, Result};
pub use name::GroupName;
