//! Flush Spread: view synchrony and closed groups over the Spread client
//! protocol, as 5.0.1's `fl.h` gives them, interoperable with 5.0.1's
//! Flush clients (the protocol's messages are laid out as 5.0.1 lays them
//! out: [`wire`]).
//!
//! [`FlushEngine`] is the protocol, sans-IO: it takes what the Spread layer
//! delivers and gives what the application receives and the protocol's
//! own multicasts. [`FlushMailbox`] runs it over a [`crate::client::Mailbox`].
//!
//! How the FL_* functions map (a C ABI keeps a table of `FlushMailbox`es
//! by mailbox number; an unknown number is `ILLEGAL_SESSION`):
//!
//! | fl.h | here |
//! |---|---|
//! | `FL_lib_init`, `FL_version` | nothing to do; [`crate::consts::FL_VERSION`] |
//! | `FL_connect` | [`FlushMailbox::connect`] (membership messages always on) |
//! | `FL_disconnect` | [`FlushMailbox::disconnect`] (without the goodbye: [`FlushMailbox::kill`], for bindings) |
//! | `FL_join`, `FL_leave` | [`FlushMailbox::join`], [`FlushMailbox::leave`] |
//! | `FL_flush` | [`FlushMailbox::flush`] |
//! | `FL_multicast`, `FL_scat_multicast` | [`FlushMailbox::multicast`], [`FlushMailbox::scat_multicast`] |
//! | `FL_unicast`, `FL_scat_unicast` | [`FlushMailbox::unicast`], [`FlushMailbox::scat_unicast`] |
//! | `FL_subgroupcast`, `FL_scat_subgroupcast` | [`FlushMailbox::subgroupcast`], [`FlushMailbox::scat_subgroupcast`] (a negative `num_recvrs` is the C layer's `ILLEGAL_PARAM`) |
//! | `FL_receive`, `FL_scat_receive` | [`FlushMailbox::receive`] → [`Received`] (`message`, `more` = `more_msgs`); with `DONT_BLOCK`: [`FlushMailbox::try_receive`], `None` → `WOULD_BLOCK`. The C layer copies the owned message into the caller's buffers with `SP_receive`'s `BUFFER_TOO_SHORT` / `GROUPS_TOO_SHORT` / `DROP_RECV` rules; a message that does not fit stays queued unless `DROP_RECV` |
//! | `FL_more_msgs` | [`FlushMailbox::more_msgs`] |
//! | `FL_poll` | [`FlushMailbox::poll`] (readiness: [`FlushMailbox::raw_fd`]) |
//! | `FL_error` | [`FlushError::describe_code`]; every error's [`FlushError::code`] is 5.0.1's, [`FlushError::code_name`] its name |
//! | `FL_get_*_offset_memb_mess` | 0, 12, 16: the layout of [`FlushView::body`] |
//!
//! What `FL_receive` fills in, per [`FlushMessage`]: `Data` — service type,
//! sender, groups (receivers then the group for a subgroup message),
//! mess_type, endian_mismatch, data; `FlushRequest` — `FLUSH_REQ_MESS`,
//! sender = the group, nothing else; `View` — its service type, sender =
//! the group, groups = members, mess_type = `my_index`, body =
//! [`FlushView::body`]; `Transition` — `TRANSITION_MESS`, sender = the
//! group, empty body; `SelfLeave` — `CAUSED_BY_LEAVE`, sender = the group;
//! `Reject` — as `SP_receive` reports it.

mod engine;
mod error;
mod mailbox;
#[cfg(test)]
mod sim;
#[cfg(test)]
mod tests;
pub mod wire;

pub use engine::{
    FlushEngine, FlushMessage, FlushView, JoinState, Transmit, ViewState, FLOK_AGE_LIMIT,
};
pub use error::{FlushError, FlushResult};
pub use mailbox::{FlushMailbox, Received};
