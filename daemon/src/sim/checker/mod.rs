//! Checks what clients saw against Extended Virtual Synchrony
//! (daemon-protocol.md §9.2), Jepsen-style: every client's log of views,
//! transitional signals and messages, checked after the run.

mod messages;
#[cfg(test)]
mod tests;
mod views;

use spread_core::wire::{MembershipMessage, Message};
use std::fmt;

/// A message's identity: its sender and the sender's counter.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgId {
    pub sender: String,
    pub counter: u64,
}

/// A view's group id: (proc_id, time, index).
pub type ViewId = (u32, i32, i32);

/// What names one view across clients: its group, its id and its
/// members. The id alone does not: 5.0.1 (and this daemon, as it) gives a
/// group created again within one daemon membership (its last member left,
/// then someone joined) the ids it had before, from index 1, which a
/// network view of the group may also have had.
pub type ViewKey<'a> = (&'a str, ViewId, &'a [String]);

/// A regular membership as one client saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub group: String,
    pub id: ViewId,
    /// The CAUSED_BY_* bit.
    pub cause: u32,
    pub members: Vec<String>,
    pub vs_sets: Vec<Vec<String>>,
    /// Index of the receiver's own vs-set.
    pub my_set: usize,
}

impl View {
    pub fn key(&self) -> ViewKey<'_> {
        (&self.group, self.id, &self.members)
    }

    pub fn from_membership(m: &MembershipMessage) -> View {
        let names =
            |v: &[spread_core::GroupName]| v.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        View {
            group: m.group.to_string(),
            id: (m.group_id.proc_id, m.group_id.time, m.group_id.index),
            cause: m.cause(),
            members: names(&m.members),
            vs_sets: m.vs_sets.iter().map(|s| names(s)).collect(),
            my_set: m.local_vs_set,
        }
    }
}

/// One thing a client saw, in the order it saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    View(View),
    /// A transitional signal for `group`, carrying the group's old id.
    Transition {
        group: String,
        id: ViewId,
    },
    /// This client's own leave of `group` took effect.
    Left {
        group: String,
    },
    Message {
        id: MsgId,
        service: u32,
        group: String,
    },
}

impl Event {
    /// The event a client logs for a message it received: views,
    /// transitional signals and own leaves as they are; data messages
    /// carry the harness's numbered body `sender:counter`. None for
    /// anything else (or a data body of another shape).
    pub fn from_message(m: &Message) -> Option<Event> {
        Some(match m {
            Message::Membership(v) => Event::View(View::from_membership(v)),
            Message::Transition(t) => Event::Transition {
                group: t.group.to_string(),
                id: (t.group_id.proc_id, t.group_id.time, t.group_id.index),
            },
            Message::SelfLeave { group } => Event::Left {
                group: group.to_string(),
            },
            Message::Data(d) => {
                // `sender:counter`, then padding after a `|` (large messages).
                let id = d.data.split(|&b| b == b'|').next()?;
                let text = std::str::from_utf8(id).ok()?;
                let (sender, counter) = text.rsplit_once(':')?;
                Event::Message {
                    id: MsgId {
                        sender: sender.into(),
                        counter: counter.parse().ok()?,
                    },
                    service: d.service_type,
                    group: d.groups.first().map(|g| g.to_string()).unwrap_or_default(),
                }
            }
            _ => return None,
        })
    }
}

/// What one client did and saw.
#[derive(Clone, Debug, Default)]
pub struct ClientLog {
    pub name: String,
    pub events: Vec<Event>,
    /// Messages it sent, in order, with the group each went to.
    pub sent: Vec<(MsgId, String)>,
    /// It stayed connected to the end of the run.
    pub survived: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Violation(pub String);

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail<T>(text: String) -> Result<T, Violation> {
    Err(Violation(text))
}

/// Runs every check; the first violation found is returned.
pub fn check(logs: &[ClientLog]) -> Result<(), Violation> {
    messages::no_creation_or_duplication(logs)?;
    messages::fifo_per_sender(logs)?;
    messages::one_agreed_order(logs)?;
    views::views_agree(logs)?;
    views::ids_advance(logs)?;
    views::vs_sets_are_sane(logs)?;
    views::transitional_signals(logs)?;
    views::virtual_synchrony(logs)?;
    views::safe_delivery(logs)?;
    messages::every_member_delivers(logs)?;
    Ok(())
}
