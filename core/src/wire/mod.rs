//! The client wire protocol codec: pure functions over byte buffers, shared
//! by the client library and the daemon. No I/O here.

pub mod encode;
pub mod frame;
pub mod handshake;
pub mod header;
pub mod membership;
pub mod message;
pub mod secret;

pub use frame::{split_frame, Frame, FrameError, Limits};
pub use header::{ByteOrder, Header, Hint};
pub use membership::{GroupId, MembershipBody};
pub use message::{DataMessage, MembershipMessage, Message, RejectMessage, TransitionMessage};
