//! The daemon's protocol engine: sans-IO, single-threaded, driven by
//! inputs (a session opened, a client request, a session gone) and
//! answering with outputs (deliver a frame to a session, close a session).
//!
//! The engine acts on messages in the agreed order the ring delivers;
//! [`node::Node`] composes it with the membership protocol and its ring.

// The daemon-to-daemon codec, under the name the daemon gives it.
pub(crate) use spread_codec as packet;

mod exchange;
pub mod group_cap;
pub mod groups;
pub mod membership;
mod network;
pub mod node;
pub mod order;
mod reload;
pub mod rng;
#[cfg(any(test, feature = "testnet"))]
pub mod testnet;

pub use exchange::DaemonInfo;

use crate::packet::MembId;
use bytes::Bytes;
use groups::{Groups, Member};
use spread_core::consts::*;
use spread_core::name::{check_group_name, GroupName};
use spread_core::wire::{encode, ByteOrder, Header};
use std::collections::{BTreeSet, HashMap};
use tracing::debug;

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
    /// A message of the daemon itself (a GROUPS state message) to be
    /// ordered with the clients' messages.
    Order { frame: Bytes, service: u32 },
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

/// The group layer. It acts on messages in the agreed order; a message's
/// sender is the private group name in its header, so the same code serves
/// messages of local clients and of clients of other daemons.
pub struct Engine {
    me: Identity,
    /// This daemon's sessions.
    sessions: HashMap<SessionId, SessionInfo>,
    by_private_group: HashMap<GroupName, SessionId>,
    /// The groups every member (of any daemon) is in.
    memberships: HashMap<GroupName, BTreeSet<GroupName>>,
    groups: Groups,
    recipients: Vec<SessionId>,
    /// The daemons of the transitional configuration being installed.
    survivors: Option<std::collections::BTreeSet<usize>>,
    /// The configured daemons (configuration order), then those a reload
    /// removed while something still names them (see `reload.rs`).
    daemons: Vec<DaemonInfo>,
    /// How many of `daemons` are configured.
    configured: usize,
    /// Daemons known to hold the same group state as this one.
    synced: std::collections::BTreeSet<usize>,
    /// A GROUPS state exchange in progress.
    gather: Option<exchange::Gather>,
    /// Joins, leaves and disconnects ordered during an exchange or a
    /// transitional configuration: they apply once the state is settled.
    held: Vec<(usize, Header, Bytes)>,
    /// Applying held requests before a state exchange: no views (the
    /// exchange's network views show the result).
    quiet: bool,
    /// See [`Engine::forged`].
    forged: u64,
}

impl Engine {
    pub fn new(me: Identity) -> Engine {
        Engine {
            me,
            sessions: HashMap::new(),
            by_private_group: HashMap::new(),
            memberships: HashMap::new(),
            groups: Groups::default(),
            recipients: Vec::new(),
            survivors: None,
            daemons: Vec::new(),
            configured: 0,
            synced: std::collections::BTreeSet::new(),
            gather: None,
            held: Vec::new(),
            quiet: false,
            forged: 0,
        }
    }

    /// The daemon membership new group ids are made from.
    pub fn set_membership(&mut self, id: MembId) {
        self.me.proc_id = id.proc_id;
        self.me.membership_time = id.time;
    }

    /// A GROUPS state exchange is in progress (5.0.1's group state GGATHER).
    pub fn exchanging(&self) -> bool {
        self.gather.is_some()
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
        self.sessions.insert(id, info);
    }

    /// How many groups `member` (a private group) is in, counting its
    /// joins held until a state exchange ends.
    pub fn groups_of(&self, member: &GroupName) -> usize {
        let held = self
            .held
            .iter()
            .filter(|(_, h, _)| h.service_type & JOIN_MESS != 0 && h.sender.canonical() == *member)
            .count();
        self.memberships.get(member).map_or(0, |s| s.len()) + held
    }

    /// The private group of a local session.
    pub fn private_group(&self, id: SessionId) -> Option<GroupName> {
        self.sessions.get(&id).map(|s| s.private_group.canonical())
    }

    /// A request of a local session taken as ordered at once (the engine's
    /// unit tests drive it without a ring).
    #[cfg(test)]
    pub fn request(&mut self, id: SessionId, header: &Header, frame: Bytes, out: &mut Vec<Output>) {
        if self.sessions.contains_key(&id) {
            self.ordered(self.me.daemon_index, header, &frame, out);
        }
    }

    /// A client message in the agreed order, from a client of the daemon at
    /// configuration position `origin`; its header was validated by that
    /// daemon's session layer.
    pub fn ordered(
        &mut self,
        origin: usize,
        header: &Header,
        frame: &Bytes,
        out: &mut Vec<Output>,
    ) {
        let names_len = header.num_groups.max(0) as usize * MAX_GROUP_NAME;
        let Some(names) = frame.get(HEADER_LEN..HEADER_LEN + names_len) else {
            return;
        };
        let sender = header.sender.canonical();
        let first = names
            .chunks_exact(MAX_GROUP_NAME)
            .next()
            .map(|n| GroupName::from_field(n).canonical());
        let st = header.service_type;
        if st & GROUPS_MESS != 0 {
            self.on_groups_message(origin, header, frame, out);
            return;
        }
        // A daemon orders messages of its own clients only: a sender (for a
        // KILL, the session to end) of another daemon is forged, whatever
        // the packet says, and is dropped.
        if !self.is_client_of(origin, &sender) {
            self.forged += 1;
            return;
        }
        // During an exchange everything waits for the merged state (a
        // client's messages stay behind its join); in a transitional
        // configuration only the requests that change groups wait.
        let request = st & (JOIN_MESS | LEAVE_MESS | KILL_MESS) != 0;
        if self.gather.is_some() || (self.survivors.is_some() && request) {
            self.held.push((origin, *header, frame.clone()));
            return;
        }
        if st & JOIN_MESS != 0 {
            match first {
                Some(g) if check_group_name(g.as_bytes()).is_ok() => {
                    self.join(origin, sender, g, out)
                }
                _ => {
                    if let Some(&id) = self.by_private_group.get(&sender) {
                        self.refuse(id, header, names, out);
                    }
                }
            }
        } else if st & LEAVE_MESS != 0 {
            if let Some(g) = first {
                self.leave(sender, g, out);
            }
        } else if st & KILL_MESS != 0 {
            self.kill_member(sender, out);
        } else {
            self.deliver(sender, header, names, frame, out);
        }
    }

    /// Whether `member` is a private group of the daemon at configuration
    /// position `origin` (`#name#daemon`). Without a configuration (a
    /// daemon alone) every sender is its own.
    fn is_client_of(&self, origin: usize, member: &GroupName) -> bool {
        let Some(daemon) = self.daemons.get(origin) else {
            return self.daemons.is_empty();
        };
        let mut parts = member.as_bytes().split(|&b| b == b'#');
        parts.next() == Some(&[][..])
            && parts.next().is_some()
            && parts.next() == Some(daemon.name.as_bytes())
            && parts.next().is_none()
    }

    /// Ordered messages dropped because their sender is not a client of the
    /// daemon that sent them.
    pub fn forged(&self) -> u64 {
        self.forged
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
        if self.quiet {
            return;
        }
        let frame = Bytes::from(frame);
        for s in to {
            if self.sessions.get(&s).is_some_and(|l| l.membership) {
                out.push(Output::Deliver {
                    session: s,
                    frame: frame.clone(),
                });
            }
        }
    }

    fn join(&mut self, origin: usize, member: GroupName, group: GroupName, out: &mut Vec<Output>) {
        let session = self.by_private_group.get(&member).copied();
        let m = Member {
            name: member,
            daemon_index: origin,
            session,
        };
        let Some(view) = self.groups.join(
            group,
            m,
            MembId::new(self.me.proc_id, self.me.membership_time),
        ) else {
            return;
        };
        self.memberships.entry(member).or_default().insert(group);
        if self.quiet {
            self.groups.mark_changed(&group);
        }
        let g = self.groups.get(&group).expect("just joined");
        debug!(target: "spread::groups", "{member} joined {group}: {} members", g.members.len());
        self.notify(g.local_sessions(), view, out);
    }

    fn remove(
        &mut self,
        member: GroupName,
        group: GroupName,
        cause: u32,
        out: &mut Vec<Output>,
    ) -> bool {
        let Some((_, view)) = self.groups.remove(&group, &member, cause) else {
            return false;
        };
        let how = if cause == CAUSED_BY_LEAVE {
            "left"
        } else {
            "disconnected from"
        };
        match self.groups.get(&group) {
            Some(g) => {
                debug!(target: "spread::groups", "{member} {how} {group}: {} members", g.members.len())
            }
            None => debug!(target: "spread::groups", "{member} {how} {group}: the group is gone"),
        }
        if self.quiet {
            self.groups.mark_changed(&group);
        }
        if let Some(set) = self.memberships.get_mut(&member) {
            set.remove(&group);
            if set.is_empty() {
                self.memberships.remove(&member);
            }
        }
        if let (Some(view), Some(g)) = (view, self.groups.get(&group)) {
            self.notify(g.local_sessions(), view, out);
        }
        true
    }

    fn leave(&mut self, member: GroupName, group: GroupName, out: &mut Vec<Output>) {
        let local = self.by_private_group.get(&member).copied();
        let wants_notice =
            local.is_some_and(|s| self.sessions.get(&s).is_some_and(|l| l.membership));
        // The leaver hears of its own leave before the others see the view.
        let mut rest = Vec::new();
        if self.remove(member, group, CAUSED_BY_LEAVE, &mut rest) && wants_notice {
            let frame = encode::self_leave(&group, ByteOrder::NATIVE).into();
            out.push(Output::Deliver {
                session: local.expect("wants_notice"),
                frame,
            });
        }
        out.append(&mut rest);
    }

    /// A member is gone (its disconnect request, its dead socket, or a
    /// protocol error): it leaves every group; a local session is closed.
    fn kill_member(&mut self, member: GroupName, out: &mut Vec<Output>) {
        let groups: Vec<GroupName> = self
            .memberships
            .get(&member)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default();
        for g in groups {
            self.remove(member, g, CAUSED_BY_DISCONNECT, out);
        }
        if let Some(id) = self.by_private_group.remove(&member) {
            self.sessions.remove(&id);
            out.push(Output::Close { session: id });
        }
    }

    /// A local session is gone, its disconnect taken as ordered at once
    /// (for the engine's unit tests).
    #[cfg(test)]
    pub fn kill(&mut self, id: SessionId, out: &mut Vec<Output>) {
        if let Some(member) = self.private_group(id) {
            self.kill_member(member, out);
        }
    }

    fn deliver(
        &mut self,
        sender: GroupName,
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
            if let Some(&me) = self.by_private_group.get(&sender) {
                recipients.retain(|&s| s != me);
            }
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
