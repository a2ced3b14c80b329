//! Finding the daemons (§3.1-§3.3): SEG (ALIVE to the segment),
//! REPRESENTED (another daemon of the segment speaks for me), GATHER (reps
//! exchange JOINs until the smallest forms the ring).

use super::{Membership, State, Timers};
use crate::order::Send;
use crate::packet::{MembershipPacket, Rep, RING_REP, SEG_REP};
use std::cmp::Ordering;

impl Membership {
    /// To SEG: my view is just me; ALIVE now and every Alive timeout.
    pub(super) fn enter_seg(&mut self, now: u64) {
        self.state = State::Seg;
        self.heard.clear();
        self.heard.insert(self.me());
        self.reps.clear();
        self.timers = Timers {
            alive: Some(now + self.cfg.timeouts.alive),
            seg: Some(now + self.cfg.timeouts.seg),
            ..Timers::default()
        };
        self.send_alive();
    }

    fn enter_represented(&mut self, now: u64) {
        self.state = State::Represented;
        self.timers = Timers {
            rep: Some(now + self.cfg.timeouts.rep),
            ..Timers::default()
        };
    }

    /// To GATHER as a rep: a segment's (ring not running) or a running
    /// ring's leader (the ring keeps running until FORM1).
    pub(super) fn enter_gather(&mut self, now: u64) {
        self.state = State::Gather;
        self.reps = vec![self.my_rep()];
        self.timers = Timers {
            join: Some(now + self.cfg.timeouts.join),
            gather: Some(now + self.cfg.timeouts.gather),
            ..Timers::default()
        };
        self.send_join();
    }

    /// The body's member list: me first, then the daemons heard.
    fn me_and_heard(&self) -> Vec<u32> {
        let me = self.me();
        let mut ids = vec![me];
        ids.extend(
            self.in_config_order(self.heard.iter().copied())
                .into_iter()
                .filter(|&id| id != me),
        );
        ids
    }

    pub(super) fn send_alive(&mut self) {
        let mut p = MembershipPacket::alive(self.me(), self.me_and_heard());
        p.header.conf_hash = self.cfg.conf_hash;
        p.header.memb_id = self.memb_id();
        self.sends.push_back(Send::Broadcast(p.encode()));
    }

    pub(super) fn send_join(&mut self) {
        let members = if self.ring_alive {
            Vec::new()
        } else {
            self.me_and_heard()
        };
        let mut reps = vec![self.my_rep()];
        reps.extend(self.reps.iter().filter(|r| r.proc_id != self.me()));
        let mut p = MembershipPacket::join(self.me(), members, reps);
        p.header.conf_hash = self.cfg.conf_hash;
        p.header.memb_id = self.memb_id();
        self.sends.push_back(Send::Broadcast(p.encode()));
    }

    /// 5.0.1's order of reps: segment reps before ring reps; segment reps
    /// by segment, ring reps by configuration position (ties of one
    /// segment's reps go by position too, so everyone agrees).
    pub(super) fn compare_reps(&self, a: &Rep, b: &Rep) -> Ordering {
        let key = |r: &Rep| {
            let pos = self.position(r.proc_id).unwrap_or(usize::MAX);
            if r.kind == RING_REP {
                (1, 0, pos)
            } else {
                (0, r.seg_index, pos)
            }
        };
        key(a).cmp(&key(b))
    }

    fn smallest_rep(&self) -> Option<Rep> {
        self.reps
            .iter()
            .copied()
            .min_by(|a, b| self.compare_reps(a, b))
    }

    pub(super) fn on_alive(&mut self, from: u32, now: u64) {
        match self.state {
            State::Op => {
                if self.ring.members().contains(&from) {
                    self.token_loss(now);
                }
            }
            State::Seg => {
                if self.same_segment(from) {
                    self.heard.insert(from);
                }
            }
            State::Represented => {
                self.timers.rep = Some(now + self.cfg.timeouts.rep);
            }
            State::Gather => {
                if self.ring_alive {
                    if self.ring.members().contains(&from) {
                        self.token_loss(now);
                    }
                } else if self.same_segment(from) {
                    self.heard.insert(from);
                }
            }
            State::Form => {}
            State::Evs => {
                if self.ring.members().contains(&from) {
                    self.token_loss(now);
                }
            }
        }
    }

    pub(super) fn on_join(&mut self, from: u32, reps: &[Rep], now: u64) {
        let Some(sender) = reps.first().copied().filter(|r| r.proc_id == from) else {
            self.refused += 1;
            return;
        };
        let seg_rep_of_mine = sender.kind == SEG_REP && self.same_segment(from);
        match self.state {
            State::Op => {
                let leader = self.ring.members().first() == Some(&self.me());
                if leader && !self.ring.members().contains(&from) {
                    self.enter_gather(now);
                    self.add_rep(sender, now);
                }
            }
            State::Seg => {
                if seg_rep_of_mine {
                    self.enter_represented(now);
                    self.send_alive();
                }
            }
            State::Represented => {
                if seg_rep_of_mine {
                    self.send_alive();
                    self.timers.rep = Some(now + self.cfg.timeouts.rep);
                }
            }
            State::Gather => {
                if self.ring_alive && self.ring.members().contains(&from) {
                    return;
                }
                self.add_rep(sender, now);
            }
            State::Form => {}
            State::Evs => {
                if self.ring.members().contains(&from) {
                    self.token_loss(now);
                }
            }
        }
    }

    /// Adds (or updates) a rep heard in GATHER; the JOIN of the smallest
    /// rep keeps me waiting for its FORM1.
    fn add_rep(&mut self, rep: Rep, now: u64) {
        match self.reps.iter_mut().find(|r| r.proc_id == rep.proc_id) {
            Some(r) => *r = rep,
            None => self.reps.push(rep),
        }
        if self
            .smallest_rep()
            .is_some_and(|s| s.proc_id == rep.proc_id)
        {
            self.timers.gather = Some(now + self.cfg.timeouts.gather);
        }
    }

    /// Seg timeout: the first daemon heard (configuration order) gathers,
    /// the others are represented.
    pub(super) fn seg_timeout(&mut self, now: u64) {
        let first = self
            .in_config_order(self.heard.iter().copied())
            .first()
            .copied();
        if first == Some(self.me()) {
            self.enter_gather(now);
        } else {
            self.enter_represented(now);
        }
    }

    /// Gather timeout: the smallest rep forms the ring; a running ring's
    /// leader that found nobody, or is not the smallest, goes back to OP.
    pub(super) fn gather_timeout(&mut self, now: u64) {
        let smallest = self.smallest_rep().map(|r| r.proc_id) == Some(self.me());
        if smallest && !(self.ring_alive && self.reps.len() == 1) {
            self.create_form1(now);
        } else if self.ring_alive {
            self.state = State::Op;
            self.timers = Timers::default();
            self.arm_lookup(now);
        } else {
            self.heard.clear();
            self.heard.insert(self.me());
            self.enter_gather(now);
        }
    }
}
