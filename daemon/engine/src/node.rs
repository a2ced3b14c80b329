//! One daemon's whole logic as one sans-IO state machine: the membership
//! protocol with its ring, the group layer, and the sessions' logical state
//! (which are ending, how many groups each may still join). The runtime
//! feeds it decoded datagrams, client requests and time, and carries out
//! what it asks (datagrams to send, frames and closes for sessions, when to
//! wake it); the simulator drives the very same node in virtual time.
//!
//! A daemon configured alone is a ring of one: its requests take the same
//! way as on a ring of many (the ring of one orders them at once).

use super::group_cap::GroupCap;
use super::membership::{Membership, MembershipConfig, State};
use super::order::{Delivered, Delivery, Send};
use super::{DaemonInfo, Engine, Identity, Output, SessionId, SessionInfo};
use crate::packet::{Packet, AGREED_TYPE, FIFO_TYPE, RELIABLE_TYPE, SAFE_TYPE};
use bytes::Bytes;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::{ByteOrder, Header};
use spread_core::GroupName;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use tracing::info;

/// How a node is set up.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Who this daemon is (its position among `daemons`).
    pub identity: Identity,
    /// Every configured daemon, in configuration order.
    pub daemons: Vec<DaemonInfo>,
    /// The membership protocol's configuration.
    pub membership: MembershipConfig,
    /// MaxGroupsPerSession.
    pub max_groups_per_session: usize,
}

/// Why a request of a local session was not ordered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refused {
    /// A join of `group` past MaxGroupsPerSession (the sender is in
    /// `groups`, counting joins on their way); a REJECT went back to the
    /// sender.
    GroupCap {
        group: GroupName,
        groups: usize,
        cap: usize,
    },
    /// Larger than a ring carries (the sessions' limit should have caught
    /// it first).
    TooLarge,
}

/// Counters for status and logs.
#[derive(Clone, Debug, Default)]
pub struct NodeStats {
    /// Ordered messages whose origin could not be placed (an unknown
    /// daemon, no client header).
    pub undeliverable: u64,
    /// Messages handed to sessions.
    pub delivered: u64,
}

pub struct Node {
    memb: Membership,
    engine: Engine,
    /// Daemon id → configuration position.
    index_of: HashMap<u32, usize>,
    group_cap: GroupCap,
    /// Sessions whose disconnect is on its way through the order: nothing
    /// more is delivered to them.
    dying: HashSet<SessionId>,
    /// What the group layer produced, not yet taken.
    outputs: VecDeque<Output>,
    scratch: Vec<Output>,
    /// A reloaded configuration waiting for the membership protocol to be
    /// in OP (and whether this daemon must first form a ring alone).
    pending: Option<(NodeConfig, bool)>,
    pub stats: NodeStats,
}

/// The packet service a client message travels with (§8 of the daemon
/// reference): UNRELIABLE and RELIABLE as RELIABLE, CAUSAL and the group
/// requests as AGREED.
pub fn packet_service(service_type: u32) -> u32 {
    if service_type & SAFE_MESS != 0 {
        SAFE_TYPE
    } else if service_type & FIFO_MESS != 0 {
        FIFO_TYPE
    } else if service_type & (UNRELIABLE_MESS | RELIABLE_MESS) != 0 {
        RELIABLE_TYPE
    } else {
        AGREED_TYPE
    }
}

/// The KILL a daemon orders for a client whose session ended (SAFE, as
/// 5.0.1).
fn kill_request(member: &GroupName) -> Bytes {
    Bytes::from(request_head(
        KILL_MESS | SAFE_MESS,
        member,
        &[],
        0,
        0,
        ByteOrder::NATIVE,
    ))
}

/// A sender's lane in the packer (a hash of its private group name;
/// two senders that collide only overtake each other less).
fn lane_of(sender: &GroupName) -> u64 {
    sender
        .as_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

impl Node {
    /// A daemon starting at `now` (microseconds of the caller's clock).
    pub fn new(cfg: NodeConfig, now: u64) -> Node {
        let me = cfg.identity.daemon_index;
        let mut engine = Engine::new(cfg.identity);
        engine.configure(cfg.daemons.clone());
        Node {
            memb: Membership::new(cfg.membership, now),
            engine,
            index_of: cfg
                .daemons
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id, i))
                .collect(),
            group_cap: GroupCap::new(cfg.max_groups_per_session, me),
            dying: HashSet::new(),
            outputs: VecDeque::new(),
            scratch: Vec::new(),
            pending: None,
            stats: NodeStats::default(),
        }
    }

    pub fn membership(&self) -> &Membership {
        &self.memb
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn state(&self) -> State {
        self.memb.state()
    }

    /// Messages waiting to be sent on the ring.
    pub fn backlog(&self) -> usize {
        self.memb.backlog()
    }

    /// When `handle_timeout` wants to run.
    pub fn poll_timeout(&self) -> u64 {
        self.memb.poll_timeout()
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Send> {
        self.memb.poll_send()
    }

    /// The next frame for a session, or a session to close.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// A session finished its handshake.
    pub fn handle_open(&mut self, id: SessionId, info: SessionInfo) {
        self.group_cap.forget(&info.private_group);
        self.engine.open(id, info);
    }

    /// A request of a local session (validated by the session layer).
    pub fn handle_request(
        &mut self,
        id: SessionId,
        header: &Header,
        frame: Bytes,
        now: u64,
    ) -> Result<(), Refused> {
        if let Err(groups) = self.group_cap.admit(header, |m| self.engine.groups_of(m)) {
            let names = header.num_groups.max(0) as usize * MAX_GROUP_NAME;
            let names = frame.get(HEADER_LEN..HEADER_LEN + names).unwrap_or(&[]);
            self.engine.refuse(id, header, names, &mut self.scratch);
            self.settle(now);
            return Err(Refused::GroupCap {
                group: names
                    .get(..MAX_GROUP_NAME)
                    .map(GroupName::from_field)
                    .unwrap_or_else(|| GroupName::from("")),
                groups,
                cap: self.group_cap.cap(),
            });
        }
        if header.service_type & KILL_MESS != 0 {
            self.dying.insert(id);
        }
        // A data message has its sender's lane: it may overtake another
        // sender's large message (joins, leaves and kills never do).
        let lane = (header.service_type & (JOIN_MESS | LEAVE_MESS | KILL_MESS) == 0)
            .then(|| lane_of(&header.sender.canonical()));
        let service = packet_service(header.service_type);
        let submitted = self.memb.submit_in_lane(frame, service, lane, now);
        self.settle(now);
        submitted.map_err(|_| Refused::TooLarge)
    }

    /// A request refused by the session layer goes back to its sender as
    /// a REJECT (`names`: its group names, the body is never echoed).
    pub fn handle_refused(&mut self, id: SessionId, header: &Header, names: &[u8]) {
        let mut out = Vec::with_capacity(1);
        self.engine.refuse(id, header, names, &mut out);
        for o in out {
            self.push_output(o);
        }
    }

    /// A local session is gone (closed, broken, or cut off): its
    /// disconnect is ordered once, and nothing more is delivered to it.
    pub fn handle_gone(&mut self, id: SessionId, now: u64) {
        if !self.dying.insert(id) {
            return;
        }
        if let Some(member) = self.engine.private_group(id) {
            let _ = self.memb.submit(kill_request(&member), SAFE_TYPE, now);
        }
        self.settle(now);
    }

    /// A datagram of another daemon, decoded, its source checked.
    pub fn handle_packet(&mut self, packet: Packet, now: u64) {
        self.memb.handle_packet(packet, now);
        self.settle(now);
        self.reload_when_op(now);
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.memb.poll_timeout() <= now {
            self.memb.handle_timeout(now);
        }
        self.settle(now);
        self.reload_when_op(now);
    }

    /// A reloaded configuration (daemon-protocol.md §3.6, 5.0.1's dynamic
    /// configuration): the daemons added and removed are found by a new
    /// membership under its hash, clients keep their sessions. With
    /// `alone`, some daemon's identity or networking changed: this daemon
    /// first forms a ring by itself, so that every daemon keeps only its
    /// own clients in its groups before all merge again. The caller has
    /// checked that this daemon's own entry (`cfg.identity.proc_id`) is
    /// unchanged. Taken at once in OP, else when a membership under way
    /// has ended (a later reload replaces one still waiting).
    pub fn reconfigure(&mut self, cfg: NodeConfig, alone: bool, now: u64) {
        self.pending = Some((cfg, alone));
        self.reload_when_op(now);
    }

    /// A reload waits for the membership under way to end.
    pub fn reload_pending(&self) -> bool {
        self.pending.is_some()
    }

    fn reload_when_op(&mut self, now: u64) {
        if self.memb.state() != State::Op {
            return;
        }
        let Some((cfg, alone)) = self.pending.take() else {
            return;
        };
        let me = cfg.identity.daemon_index;
        info!(target: "spread::membership", "new configuration (hash {}) of {} daemons: leaving the ring for a new membership{}", cfg.membership.conf_hash, cfg.daemons.len(), if alone { ", alone first" } else { "" });
        self.engine.reconfigure(cfg.daemons, me);
        self.group_cap.reconfigure(cfg.max_groups_per_session, me);
        self.index_daemons();
        self.memb.reconfigure(cfg.membership, alone, now);
        self.settle(now);
    }

    fn index_daemons(&mut self) {
        self.index_of = (self.engine.daemons().iter().enumerate())
            .map(|(i, d)| (d.id, i))
            .collect();
    }

    /// New flow-control windows (`None` = unchanged).
    pub fn set_windows(
        &mut self,
        window: Option<i32>,
        personal: Option<i32>,
        accelerated: Option<i32>,
    ) {
        self.memb
            .ring_mut()
            .set_windows(window, personal, accelerated);
    }

    /// Hands what the ring delivered to the group layer, and what the group
    /// layer wants ordered back to the ring, until both are quiet (a ring
    /// of one orders at once).
    fn settle(&mut self, now: u64) {
        loop {
            let mut delivered = false;
            while let Some(d) = self.memb.poll_delivery() {
                delivered = true;
                self.deliver(d);
            }
            let mut ordered = false;
            // Taken and put back, so its capacity serves every round.
            let mut scratch = std::mem::take(&mut self.scratch);
            for o in scratch.drain(..) {
                match o {
                    Output::Order { frame, service } => {
                        ordered = true;
                        let _ = self.memb.submit(frame, packet_service(service), now);
                    }
                    other => self.push_output(other),
                }
            }
            self.scratch = scratch;
            if !delivered && !ordered {
                return;
            }
        }
    }

    fn push_output(&mut self, o: Output) {
        match &o {
            Output::Deliver { session, .. } if self.dying.contains(session) => return,
            Output::Deliver { .. } => self.stats.delivered += 1,
            Output::Close { session } => {
                self.dying.remove(session);
            }
            Output::Order { .. } => {}
        }
        self.outputs.push_back(o);
    }

    fn positions(&self, ids: &[u32]) -> BTreeSet<usize> {
        ids.iter()
            .filter_map(|id| self.index_of.get(id).copied())
            .collect()
    }

    fn deliver(&mut self, d: Delivery) {
        match d {
            Delivery::Message(Delivered {
                origin, message, ..
            }) => {
                let (Some(&origin), Some(head)) = (
                    self.index_of.get(&origin),
                    message.first_chunk::<HEADER_LEN>(),
                ) else {
                    self.stats.undeliverable += 1;
                    return;
                };
                let header = Header::decode(head);
                self.group_cap.ordered(origin, &header);
                self.engine
                    .ordered(origin, &header, &message, &mut self.scratch);
            }
            Delivery::Transitional { members, id } => {
                info!(target: "spread::membership", "transitional configuration {}", self.describe(&members, id.proc_id, id.time));
                let members = self.positions(&members);
                self.engine.transitional(&members, id, &mut self.scratch);
            }
            Delivery::Regular { members, id } => {
                info!(target: "spread::membership", "membership {}", self.describe(&members, id.proc_id, id.time));
                let members = self.positions(&members);
                self.engine.regular(&members, id, &mut self.scratch);
                if self.engine.forget_removed() {
                    self.index_daemons();
                }
            }
        }
    }
}

/// A configuration for the log: its id and daemons.
impl Node {
    /// A configuration for the log: its id (the representative's id and
    /// the time, as membership ids go), then its daemons by name (by id
    /// for one this daemon's configuration does not name).
    fn describe(&self, members: &[u32], proc_id: u32, time: i32) -> String {
        let daemons = self.engine.daemons();
        let name = |id: u32| match self.index_of.get(&id).and_then(|&i| daemons.get(i)) {
            Some(d) => d.name.clone(),
            None => id.to_string(),
        };
        let names: Vec<String> = members.iter().map(|&id| name(id)).collect();
        format!(
            "({proc_id}, {time}) of {} daemons: {}",
            members.len(),
            names.join(" ")
        )
    }
}
