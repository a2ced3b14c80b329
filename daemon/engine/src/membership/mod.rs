//! The daemon membership protocol (daemon-protocol.md §3): which daemons
//! form the ring. A lost token sends a daemon to SEG (ALIVE to its
//! segment); representatives GATHER (JOIN), the smallest forms the ring
//! with FORM1 and FORM2 tokens; in EVS the new ring recovers the old rings'
//! messages and installs (in [`order`](super::order)), back to OP.
//!
//! Sans-IO like the ring it owns: packets and timeouts in, datagrams and
//! deliveries (messages and configurations) out.

mod form;
mod gather;
#[cfg(test)]
mod tests;

use super::order::{Delivery, Ring, RingConfig, Send};
use crate::packet::{
    MembId, MembershipBody, MembershipPacket, Packet, PacketError, Rep, RING_REP, SEG_REP,
};
use bytes::Bytes;
use std::collections::{BTreeSet, VecDeque};
use tracing::debug;

/// The nine timeouts of §3.7, in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub token: u64,
    pub hurry: u64,
    pub alive: u64,
    pub join: u64,
    pub rep: u64,
    pub seg: u64,
    pub gather: u64,
    pub form: u64,
    pub lookup: u64,
}

impl Timeouts {
    /// 5.0.1's LAN defaults.
    pub const LAN: Timeouts = Timeouts::from_ms([1250, 500, 250, 250, 625, 500, 1250, 1250, 30000]);
    /// 5.0.1's WAN defaults (any daemon in a segment of its own network).
    pub const WAN: Timeouts =
        Timeouts::from_ms([5000, 1500, 250, 250, 1250, 500, 2500, 2500, 45000]);

    /// From milliseconds in spread.conf's order: token, hurry, alive,
    /// join, rep, seg, gather, form, lookup.
    pub const fn from_ms(ms: [u64; 9]) -> Timeouts {
        Timeouts {
            token: ms[0] * 1000,
            hurry: ms[1] * 1000,
            alive: ms[2] * 1000,
            join: ms[3] * 1000,
            rep: ms[4] * 1000,
            seg: ms[5] * 1000,
            gather: ms[6] * 1000,
            form: ms[7] * 1000,
            lookup: ms[8] * 1000,
        }
    }
}

/// A configured daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Daemon {
    pub id: u32,
    pub segment: i16,
}

#[derive(Clone, Debug)]
pub struct MembershipConfig {
    pub me: u32,
    /// Every configured daemon in configuration order (= ring order).
    pub daemons: Vec<Daemon>,
    pub conf_hash: u32,
    pub window: i32,
    pub personal_window: i32,
    pub accelerated_window: Option<i32>,
    /// The most bytes of one message on the ring (`RingConfig`).
    pub max_message_len: usize,
    /// The most bytes of one packet's body (`packet::packet_body`).
    pub packet_body: usize,
    pub timeouts: Timeouts,
    /// Wall-clock seconds at time 0 (ring ids are made of seconds).
    pub epoch_secs: i64,
}

/// The membership states, numbered as the STATUS reply reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Op = 1,
    Seg = 2,
    Represented = 3,
    Gather = 4,
    Form = 5,
    Evs = 6,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Op => "OP",
            State::Seg => "SEG",
            State::Represented => "REPRESENTED",
            State::Gather => "GATHER",
            State::Form => "FORM",
            State::Evs => "EVS",
        }
    }
}

/// Deadlines of the membership timers (microseconds), when armed.
#[derive(Clone, Copy, Debug, Default)]
struct Timers {
    alive: Option<u64>,
    join: Option<u64>,
    seg: Option<u64>,
    rep: Option<u64>,
    gather: Option<u64>,
    form: Option<u64>,
    lookup: Option<u64>,
}

impl Timers {
    fn earliest(&self) -> Option<u64> {
        [
            self.alive,
            self.join,
            self.seg,
            self.rep,
            self.gather,
            self.form,
            self.lookup,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Added to the highest sequence number known for a new ring's `Last_seq`.
const SEQ_MARGIN: i32 = 3333;

pub struct Membership {
    cfg: MembershipConfig,
    state: State,
    ring: Ring,
    /// A regular token circulates (OP, or GATHER as a running ring's leader).
    ring_alive: bool,
    /// SEG / GATHER as a segment's rep: daemons heard ALIVE from (me too).
    heard: BTreeSet<u32>,
    /// GATHER: the reps found (me first).
    reps: Vec<Rep>,
    /// Reps to send JOINs to directly (those outside my segment's reach:
    /// named in JOINs, pointed at by REFERs, leaders of other segments).
    potential: Vec<Rep>,
    /// REPRESENTED: the segment rep that speaks for me, once it has.
    my_seg_rep: Option<u32>,
    /// The id of the last FORM1 created or filled here.
    form_id: Option<MembId>,
    /// The last seconds value used for an id.
    last_time: i64,
    /// Daemons known to have committed this daemon's old ring with it.
    commit: Vec<u32>,
    /// The commit set to remember once this recovery commits.
    pending_commit: Vec<u32>,
    timers: Timers,
    sends: VecDeque<Send>,
    /// Rings installed since start.
    pub changes: u32,
    /// Datagrams refused: of another configuration, or malformed.
    pub refused: u64,
    /// A reload changed what some daemon is: this daemon hears nobody
    /// until it installed a ring of its own, so that every daemon's group
    /// state shrinks to its own clients before they merge again.
    alone: bool,
}

impl Membership {
    /// A daemon starting at `now`: alone, in SEG, looking for the others.
    pub fn new(cfg: MembershipConfig, now: u64) -> Membership {
        let seg_index = cfg
            .daemons
            .iter()
            .find(|d| d.id == cfg.me)
            .map_or(0, |d| d.segment);
        let ring_cfg = RingConfig {
            me: cfg.me,
            seg_index,
            members: vec![cfg.me],
            memb_id: Some(MembId::new(cfg.me, -1)),
            conf_hash: cfg.conf_hash,
            window: cfg.window,
            personal_window: cfg.personal_window,
            accelerated_window: cfg.accelerated_window,
            hurry_timeout_us: cfg.timeouts.hurry,
            token_timeout_us: cfg.timeouts.token,
            max_message_len: cfg.max_message_len,
            packet_body: cfg.packet_body,
        };
        let mut m = Membership {
            ring: Ring::dormant(ring_cfg, now),
            state: State::Seg,
            ring_alive: false,
            heard: BTreeSet::new(),
            reps: Vec::new(),
            potential: Vec::new(),
            my_seg_rep: None,
            form_id: None,
            last_time: 0,
            commit: vec![cfg.me],
            pending_commit: Vec::new(),
            timers: Timers::default(),
            sends: VecDeque::new(),
            changes: 0,
            refused: 0,
            alone: false,
            cfg,
        };
        m.enter_seg(now);
        if m.cfg.daemons.iter().all(|d| d.id == m.cfg.me) {
            // Configured alone: nobody can answer, so the ring of one forms
            // now instead of after the SEG and GATHER timeouts.
            m.enter_gather(now);
            m.create_form1(now);
        }
        m
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn ring(&self) -> &Ring {
        &self.ring
    }

    pub fn ring_mut(&mut self) -> &mut Ring {
        &mut self.ring
    }

    /// The installed ring's id and members.
    pub fn memb_id(&self) -> MembId {
        self.ring.old_ring_id()
    }

    /// Messages waiting to be sent.
    pub fn backlog(&self) -> usize {
        self.ring.backlog()
    }

    fn me(&self) -> u32 {
        self.cfg.me
    }

    /// Configuration position of daemon `id`.
    fn position(&self, id: u32) -> Option<usize> {
        self.cfg.daemons.iter().position(|d| d.id == id)
    }

    fn segment_of(&self, id: u32) -> Option<i16> {
        self.cfg
            .daemons
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.segment)
    }

    fn same_segment(&self, id: u32) -> bool {
        self.segment_of(id).is_some() && self.segment_of(id) == self.segment_of(self.me())
    }

    /// Sorts ids into configuration order.
    fn in_config_order(&self, ids: impl IntoIterator<Item = u32>) -> Vec<u32> {
        let mut v: Vec<u32> = ids.into_iter().collect();
        v.sort_by_key(|&id| self.position(id).unwrap_or(usize::MAX));
        v.dedup();
        v
    }

    /// A fresh seconds value for an id: now, or one past the last used.
    fn fresh_time(&mut self, now: u64) -> i32 {
        let t = (self.cfg.epoch_secs + (now / 1_000_000) as i64).max(self.last_time + 1);
        self.last_time = t;
        t as i32
    }

    /// Queues a client message; it is sent once the ring runs.
    pub fn submit(&mut self, message: Bytes, service: u32, now: u64) -> Result<(), PacketError> {
        self.submit_in_lane(message, service, None, now)
    }

    /// As [`Membership::submit`], for a data message of sender `lane`.
    pub fn submit_in_lane(
        &mut self,
        message: Bytes,
        service: u32,
        lane: Option<u64>,
        now: u64,
    ) -> Result<(), PacketError> {
        if self.state == State::Op || self.ring_alive {
            self.ring.submit_in_lane(message, service, lane, now)
        } else {
            self.ring.queue(message, service, lane)
        }
    }

    pub fn poll_send(&mut self) -> Option<Send> {
        self.sends.pop_front().or_else(|| self.ring.poll_send())
    }

    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        self.ring.poll_delivery()
    }

    fn ring_runs(&self) -> bool {
        self.ring_alive || self.state == State::Evs
    }

    pub fn poll_timeout(&self) -> u64 {
        let mine = self.timers.earliest().unwrap_or(u64::MAX);
        if self.ring_runs() {
            mine.min(self.ring.poll_timeout())
        } else {
            mine
        }
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.ring_runs() && self.ring.poll_timeout() <= now {
            self.ring.handle_timeout(now);
        }
        if self.ring.take_token_loss() && self.ring_runs() {
            self.token_loss(now);
            return;
        }
        let due = |t: Option<u64>| t.is_some_and(|t| t <= now);
        if due(self.timers.form) {
            self.token_loss(now);
            return;
        }
        if due(self.timers.alive) {
            self.timers.alive = Some(now + self.cfg.timeouts.alive);
            self.send_alive();
        }
        if due(self.timers.join) {
            self.timers.join = Some(now + self.cfg.timeouts.join);
            self.send_join();
        }
        if due(self.timers.seg) {
            self.seg_timeout(now);
        }
        if due(self.timers.rep) {
            self.enter_seg(now);
        }
        if due(self.timers.gather) {
            self.gather_timeout(now);
        }
        if due(self.timers.lookup) {
            self.timers.lookup = None;
            self.lookup(now);
        }
    }

    /// Takes a reloaded configuration (`cfg.epoch_secs` is kept: ids stay
    /// on this daemon's clock) and leaves the ring for a new membership
    /// under it; with `alone`, first for a ring of this daemon only. Only
    /// in OP: a membership under way finishes first (the caller waits).
    pub fn reconfigure(&mut self, cfg: MembershipConfig, alone: bool, now: u64) {
        let epoch_secs = self.cfg.epoch_secs;
        self.cfg = MembershipConfig { epoch_secs, ..cfg };
        let seg_index = self.segment_of(self.me()).unwrap_or(0);
        self.ring.reconfigure(
            self.cfg.conf_hash,
            seg_index,
            self.cfg.window,
            self.cfg.personal_window,
            self.cfg.accelerated_window,
        );
        self.ring
            .set_message_limits(self.cfg.max_message_len, self.cfg.packet_body);
        self.alone = alone;
        self.token_loss(now);
    }

    /// Hearing nobody until a ring of one is installed (see `alone`).
    pub fn is_alone(&self) -> bool {
        self.alone
    }

    /// A datagram from another configured daemon (its source checked).
    pub fn handle_packet(&mut self, packet: Packet, now: u64) {
        if self.alone {
            self.refused += 1;
            return;
        }
        match packet {
            Packet::Data(p) => {
                if p.header.conf_hash != self.cfg.conf_hash {
                    self.refused += 1;
                    return;
                }
                let foreign = self.state == State::Op
                    && p.header.memb_id != self.memb_id()
                    && !self.ring.members().contains(&p.header.proc_id);
                if foreign {
                    self.foreign(now);
                }
                // Once FORM1 took this daemon's highest sequence number,
                // later packets of the old ring must not be delivered: the
                // new ring forgets them (delivery is blocked until FORM2).
                if self.state != State::Form {
                    self.ring.handle_data(p, now);
                }
            }
            Packet::Token(t) => {
                if self.ring_runs() {
                    self.ring.handle_token(t, now);
                    self.after_ring(now);
                }
            }
            Packet::Membership(m) => {
                if m.header.conf_hash != self.cfg.conf_hash {
                    self.refused += 1;
                    return;
                }
                let from = m.header.proc_id;
                match m.body {
                    MembershipBody::Hurry => {
                        if self.state == State::Op {
                            self.ring.handle_hurry(from, now)
                        }
                    }
                    MembershipBody::Alive(_) => self.on_alive(from, now),
                    MembershipBody::Join { reps, .. } => self.on_join(from, &reps.reps, now),
                    MembershipBody::Refer => {
                        if self.state == State::Gather {
                            self.on_refer(m.refer_target(), m.refer_kind());
                        }
                    }
                }
            }
            Packet::Form(f) => {
                if f.header.conf_hash != self.cfg.conf_hash {
                    self.refused += 1;
                    return;
                }
                self.on_form(f, now);
            }
            Packet::Monitor(_) => self.refused += 1,
        }
    }

    /// After the ring handled a token: the ring may have given up (a
    /// recovery or a sequence that cannot complete), the EVS state may have
    /// ended.
    fn after_ring(&mut self, now: u64) {
        if self.ring.take_token_loss() {
            self.token_loss(now);
            return;
        }
        if self.state != State::Evs {
            return;
        }
        if self.ring.is_committed() && !self.pending_commit.is_empty() {
            self.commit = std::mem::take(&mut self.pending_commit);
        }
        if !self.ring.is_recovering() {
            self.installed(now);
        }
    }

    /// The new ring is installed: operational.
    fn installed(&mut self, now: u64) {
        debug!(target: "spread::membership", "{} -> OP: the new ring is installed", self.state.name());
        self.state = State::Op;
        self.ring_alive = true;
        self.commit = vec![self.me()];
        self.pending_commit.clear();
        self.changes += 1;
        self.timers = Timers::default();
        self.arm_lookup(now);
        if self.alone && self.ring.members() == [self.me()] {
            // The ring of one after a reload: now look for the others.
            self.alone = false;
            self.lookup(now);
        }
    }

    fn arm_lookup(&mut self, now: u64) {
        let leader = self.ring.members().first() == Some(&self.me());
        self.timers.lookup = leader.then_some(now + self.cfg.timeouts.lookup);
    }

    /// Token loss from OP, GATHER, FORM or EVS: to SEG.
    fn token_loss(&mut self, now: u64) {
        // Who to send JOINs to: the reps gathered with the ring running
        // (they answered), then the first member of every other segment
        // in the ring (or configured, if none was in it). After FORM the
        // list stays as the form token left it.
        let mut potential = Vec::new();
        if self.state == State::Gather && self.ring_alive {
            potential.extend(self.reps.iter().filter(|r| r.proc_id != self.me()).copied());
        }
        if self.state != State::Form {
            let mine = self.segment_of(self.me());
            let ring = self.ring.members().to_vec();
            let mut segments: Vec<i16> = self.cfg.daemons.iter().map(|d| d.segment).collect();
            segments.dedup();
            for seg in segments.into_iter().filter(|&s| Some(s) != mine) {
                let of_seg = |id: &u32| self.segment_of(*id) == Some(seg);
                let first = ring.iter().find(|id| of_seg(id)).copied().or_else(|| {
                    self.cfg
                        .daemons
                        .iter()
                        .find(|d| d.segment == seg)
                        .map(|d| d.id)
                });
                if let Some(proc_id) = first {
                    potential.push(Rep {
                        proc_id,
                        kind: crate::packet::POTENTIAL_REP,
                        seg_index: seg,
                    });
                }
            }
            self.potential.clear();
            for rep in potential {
                self.insert_potential(rep);
            }
        }
        debug!(target: "spread::membership", "token lost in {} (ring of {} daemons): forming a new membership", self.state.name(), self.ring.members().len());
        self.ring.abort_recovery();
        self.ring.take_token_loss();
        self.ring_alive = false;
        self.enter_seg(now);
    }

    /// A packet of another ring of this configuration: the leader looks
    /// for a merge at once.
    fn foreign(&mut self, now: u64) {
        if self.ring.members().first() == Some(&self.me()) {
            debug!(target: "spread::membership", "a packet of another ring: looking for a merge");
            self.lookup(now);
        }
    }

    /// The leader's merge probe, if a configured daemon is missing from
    /// the ring: a ring rep's JOIN (no members) to the segment when there
    /// is one segment, else to each missing daemon, as 5.0.1 sends it;
    /// then gather with the ring running. (5.0.1 probes and gathers on
    /// every lookup with one segment, even with nobody missing; nobody
    /// answers such a probe, so this daemon spares the GATHER.)
    fn lookup(&mut self, now: u64) {
        if self.state != State::Op {
            return;
        }
        self.potential.clear();
        let missing: Vec<u32> = self
            .cfg
            .daemons
            .iter()
            .map(|d| d.id)
            .filter(|id| !self.ring.members().contains(id))
            .collect();
        if missing.is_empty() {
            self.arm_lookup(now);
            return;
        }
        let mut probe = MembershipPacket::join(self.me(), Vec::new(), vec![self.rep_as(RING_REP)]);
        probe.header.conf_hash = self.cfg.conf_hash;
        let bytes = probe.encode();
        let first_segment = self.cfg.daemons[0].segment;
        if self.cfg.daemons.iter().all(|d| d.segment == first_segment) {
            self.sends.push_back(Send::Broadcast(bytes));
        } else {
            for to in missing {
                self.sends.push_back(Send::Unicast {
                    to,
                    bytes: bytes.clone(),
                });
            }
        }
        self.enter_gather(now);
    }

    /// A rep entry for this daemon in its current situation.
    fn my_rep(&self) -> Rep {
        self.rep_as(if self.ring_alive { RING_REP } else { SEG_REP })
    }

    fn rep_as(&self, kind: i16) -> Rep {
        Rep {
            proc_id: self.me(),
            kind,
            seg_index: self.segment_of(self.me()).unwrap_or(0),
        }
    }
}
