//! Finding the daemons (§3.1-§3.3): SEG (ALIVE to the segment),
//! REPRESENTED (another daemon of the segment speaks for me), GATHER (reps
//! exchange JOINs until the smallest forms the ring).

use super::{Membership, State, Timers};
use crate::order::Send;
use crate::packet::{MembershipPacket, Rep, MAX_REPS, POTENTIAL_REP, RING_REP, SEG_REP};
use std::cmp::Ordering;
use tracing::debug;

impl Membership {
    /// To SEG: my view is just me; ALIVE now and every Alive timeout.
    pub(super) fn enter_seg(&mut self, now: u64) {
        debug!(target: "spread::membership", "-> SEG (from {}): looking for the daemons of my segment", self.state.name());
        self.state = State::Seg;
        self.my_seg_rep = None;
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
        debug!(target: "spread::membership", "{} -> REPRESENTED: another daemon of my segment speaks for it", self.state.name());
        self.state = State::Represented;
        self.timers = Timers {
            rep: Some(now + self.cfg.timeouts.rep),
            ..Timers::default()
        };
    }

    /// To GATHER as a rep: a segment's (ring not running) or a running
    /// ring's leader (the ring keeps running until FORM1).
    pub(super) fn enter_gather(&mut self, now: u64) {
        debug!(target: "spread::membership", "{} -> GATHER: exchanging JOINs with the other representatives", self.state.name());
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
        let bytes = p.encode();
        // A running ring's leader asks only the reps it knows of; every
        // rep also asks the potential reps directly (other segments, or
        // daemons a REFER pointed at).
        let me = self.me();
        for rep in self.potential.iter().filter(|r| r.proc_id != me) {
            self.sends.push_back(Send::Unicast {
                to: rep.proc_id,
                bytes: bytes.clone(),
            });
        }
        if !self.ring_alive {
            self.sends.push_back(Send::Broadcast(bytes));
        }
    }

    /// Adds a rep to the potential reps as 5.0.1 merges them: one entry
    /// per segment unless the segment has several reps that formed or
    /// gathered (a potential rep is only a guess at who to ask there).
    pub(super) fn insert_potential(&mut self, rep: Rep) {
        let Some(seg) = self.segment_of(rep.proc_id) else {
            return;
        };
        let mut same = self.potential.iter_mut().filter(|r| {
            self.cfg
                .daemons
                .iter()
                .any(|d| d.id == r.proc_id && d.segment == seg)
        });
        match rep.kind {
            POTENTIAL_REP => {
                if same.next().is_some() {
                    return;
                }
            }
            SEG_REP | RING_REP => {
                for r in same {
                    if r.kind == POTENTIAL_REP {
                        *r = Rep {
                            seg_index: seg,
                            ..rep
                        };
                        return;
                    }
                    if r.proc_id == rep.proc_id {
                        // A ring rep that lost its ring is a segment rep
                        // now; a segment rep that formed one, a ring rep.
                        if r.kind != rep.kind && !(r.kind == SEG_REP && rep.kind == SEG_REP) {
                            r.kind = rep.kind;
                        }
                        return;
                    }
                }
            }
            _ => return,
        }
        if self.potential.len() < MAX_REPS {
            self.potential.push(Rep {
                seg_index: seg,
                ..rep
            });
        }
    }

    /// A REFER in GATHER: the daemon to ask (`target`, a rep of `kind`).
    pub(super) fn on_refer(&mut self, target: u32, kind: i32) {
        let Ok(kind) = i16::try_from(kind) else {
            return;
        };
        if matches!(kind, SEG_REP | RING_REP | POTENTIAL_REP) {
            self.insert_potential(Rep {
                proc_id: target,
                kind,
                seg_index: 0,
            });
        }
    }

    /// Points a daemon whose JOIN reached me at the rep it should ask.
    fn send_refer(&mut self, to: u32, target: u32, kind: i16) {
        let mut p = MembershipPacket::refer(self.me(), target, kind);
        p.header.conf_hash = self.cfg.conf_hash;
        self.sends.push_back(Send::Unicast {
            to,
            bytes: p.encode(),
        });
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
                let members = self.ring.members();
                let leader = members.first().copied();
                if members.contains(&from) {
                    return;
                }
                if leader == Some(self.me()) {
                    self.potential = vec![sender];
                    self.enter_gather(now);
                    self.add_rep(sender, now);
                } else if let Some(leader) = leader {
                    // The joiner cannot hear my ring's leader where it is,
                    // or I speak for my segment: point it at the leader.
                    let mine = self.segment_of(self.me());
                    let seg_leader = members
                        .iter()
                        .find(|&&id| self.segment_of(id) == mine)
                        .copied();
                    if Some(sender.seg_index) != mine || seg_leader == Some(self.me()) {
                        self.send_refer(from, leader, RING_REP);
                    }
                }
            }
            State::Seg => {
                if seg_rep_of_mine {
                    self.my_seg_rep = Some(from);
                    self.enter_represented(now);
                    self.send_alive();
                }
            }
            State::Represented => {
                if seg_rep_of_mine {
                    self.my_seg_rep = Some(from);
                    self.send_alive();
                    self.timers.rep = Some(now + self.cfg.timeouts.rep);
                } else if let Some(rep) = self.my_seg_rep {
                    self.send_refer(from, rep, SEG_REP);
                }
            }
            State::Gather => {
                if self.ring_alive && self.ring.members().contains(&from) {
                    return;
                }
                self.add_rep(sender, now);
                for &rep in reps {
                    if rep.proc_id != self.me() {
                        self.insert_potential(rep);
                    }
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
            debug!(target: "spread::membership", "GATHER -> OP: nobody to merge with; the ring goes on");
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
