//! The daemon's protocol engine: sans-IO, single-threaded, driven by
//! inputs (a session opened, a client request, a session gone) and
//! answering with outputs (deliver a frame to a session, close a session).
//!
//! With one daemon the total order is simply the order in which requests
//! reach the engine; the ring (a later layer) will sit between the sessions
//! and [`Engine::request`] and feed it requests in the agreed order.

pub mod groups;

use bytes::Bytes;
use groups::{Groups, Member};
use spread_core::consts::*;
use spread_core::name::{check_group_name, GroupName};
use spread_core::wire::{encode, ByteOrder, Header};
use std::collections::{BTreeSet, HashMap};

/// A client session of this daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "session {}", self.0)
    }
}

/// What the engine knows of a session.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub private_group: GroupName,
    /// The client asked for membership messages.
    pub membership: bool,
}

/// What the engine asks the runtime to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Write `frame` to the session.
    Deliver { session: SessionId, frame: Bytes },
    /// The session's disconnect has been processed: close its socket and
    /// free its name.
    Close { session: SessionId },
}

struct Local {
    info: SessionInfo,
    groups: BTreeSet<GroupName>,
}

/// Who this daemon is.
#[derive(Clone, Debug)]
pub struct Identity {
    pub proc_id: u32,
    /// Position of this daemon in the configuration.
    pub daemon_index: usize,
    /// Time (seconds) of the current daemon membership.
    pub membership_time: i32,
}

pub struct Engine {
    me: Identity,
    sessions: HashMap<SessionId, Local>,
    by_private_group: HashMap<GroupName, SessionId>,
    groups: Groups,
    recipients: Vec<SessionId>,
}

impl Engine {
    pub fn new(me: Identity) -> Engine {
        Engine {
            me,
            sessions: HashMap::new(),
            by_private_group: HashMap::new(),
            groups: Groups::default(),
            recipients: Vec::new(),
        }
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    /// A session finished its handshake.
    pub fn open(&mut self, id: SessionId, info: SessionInfo) {
        self.by_private_group
            .insert(info.private_group.canonical(), id);
        self.sessions.insert(
            id,
            Local {
                info,
                groups: BTreeSet::new(),
            },
        );
    }

    /// A request whose header the session layer validated; `frame` is the
    /// whole frame as the client sent it.
    pub fn request(&mut self, id: SessionId, header: &Header, frame: Bytes, out: &mut Vec<Output>) {
        if !self.sessions.contains_key(&id) {
            return;
        }
        let names =
            &frame[HEADER_LEN..HEADER_LEN + header.num_groups.max(0) as usize * MAX_GROUP_NAME];
        let first = names
            .chunks_exact(MAX_GROUP_NAME)
            .next()
            .map(|n| GroupName::from_field(n).canonical());
        let st = header.service_type;
        if st & JOIN_MESS != 0 {
            match first {
                Some(g) if check_group_name(g.as_bytes()).is_ok() => self.join(id, g, out),
                _ => self.refuse(id, header, names, out),
            }
        } else if st & LEAVE_MESS != 0 {
            if let Some(g) = first {
                self.leave(id, g, out);
            }
        } else if st & KILL_MESS != 0 {
            self.kill(id, out);
        } else {
            self.deliver(id, header, names, &frame, out);
        }
    }

    /// Returns a refused request to its sender as a REJECT message (without
    /// the body: an oversized one is never echoed).
    pub fn refuse(&mut self, id: SessionId, header: &Header, names: &[u8], out: &mut Vec<Output>) {
        let frame = encode::reject(header, names, &[], ByteOrder::NATIVE);
        out.push(Output::Deliver {
            session: id,
            frame: frame.into(),
        });
    }

    fn notify(&self, to: impl Iterator<Item = SessionId>, frame: Vec<u8>, out: &mut Vec<Output>) {
        let frame = Bytes::from(frame);
        for s in to {
            if self.sessions.get(&s).is_some_and(|l| l.info.membership) {
                out.push(Output::Deliver {
                    session: s,
                    frame: frame.clone(),
                });
            }
        }
    }

    fn join(&mut self, id: SessionId, group: GroupName, out: &mut Vec<Output>) {
        let Some(local) = self.sessions.get_mut(&id) else {
            return;
        };
        let member = Member {
            name: local.info.private_group.canonical(),
            daemon_index: self.me.daemon_index,
            session: Some(id),
        };
        let Some(view) =
            self.groups
                .join(group, member, (self.me.proc_id, self.me.membership_time))
        else {
            return;
        };
        local.groups.insert(group);
        let g = self.groups.get(&group).expect("just joined");
        self.notify(g.local_sessions(), view, out);
    }

    fn remove(
        &mut self,
        id: SessionId,
        group: GroupName,
        cause: u32,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some(local) = self.sessions.get_mut(&id) else {
            return false;
        };
        let me = local.info.private_group.canonical();
        let Some((_, view)) = self.groups.remove(&group, &me, cause) else {
            return false;
        };
        local.groups.remove(&group);
        if let (Some(view), Some(g)) = (view, self.groups.get(&group)) {
            self.notify(g.local_sessions(), view, out);
        }
        true
    }

    fn leave(&mut self, id: SessionId, group: GroupName, out: &mut Vec<Output>) {
        let wants_notice = self.sessions.get(&id).is_some_and(|l| l.info.membership);
        // The leaver hears of its own leave before the others see the view.
        let mut rest = Vec::new();
        if self.remove(id, group, CAUSED_BY_LEAVE, &mut rest) && wants_notice {
            out.push(Output::Deliver {
                session: id,
                frame: encode::self_leave(&group, ByteOrder::NATIVE).into(),
            });
        }
        out.append(&mut rest);
    }

    /// The session is gone (disconnect request, dead socket or a fatal
    /// protocol error): it leaves every group, then is closed.
    pub fn kill(&mut self, id: SessionId, out: &mut Vec<Output>) {
        let Some(local) = self.sessions.get(&id) else {
            return;
        };
        let groups: Vec<GroupName> = local.groups.iter().copied().collect();
        for g in groups {
            self.remove(id, g, CAUSED_BY_DISCONNECT, out);
        }
        if let Some(local) = self.sessions.remove(&id) {
            self.by_private_group
                .remove(&local.info.private_group.canonical());
        }
        out.push(Output::Close { session: id });
    }

    fn deliver(
        &mut self,
        id: SessionId,
        header: &Header,
        names: &[u8],
        frame: &Bytes,
        out: &mut Vec<Output>,
    ) {
        let mut recipients = std::mem::take(&mut self.recipients);
        recipients.clear();
        for field in names.chunks_exact(MAX_GROUP_NAME) {
            let dest = GroupName::from_field(field).canonical();
            if dest.is_private() {
                recipients.extend(self.by_private_group.get(&dest).copied());
            } else if let Some(g) = self.groups.get(&dest) {
                recipients.extend(g.local_sessions());
            }
        }
        if recipients.len() > 1 {
            recipients.sort_unstable();
            recipients.dedup();
        }
        if header.service_type & SELF_DISCARD != 0 {
            recipients.retain(|&s| s != id);
        }
        if !recipients.is_empty() {
            let frame = if header.order == ByteOrder::NATIVE {
                frame.clone()
            } else {
                let mut v = Vec::with_capacity(frame.len());
                v.extend_from_slice(&header.encode_in(ByteOrder::NATIVE));
                v.extend_from_slice(&frame[HEADER_LEN..]);
                Bytes::from(v)
            };
            out.extend(recipients.iter().map(|&s| Output::Deliver {
                session: s,
                frame: frame.clone(),
            }));
        }
        self.recipients = recipients;
    }
}

#[cfg(test)]
mod tests;
