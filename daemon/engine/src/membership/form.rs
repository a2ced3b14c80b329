//! Forming the new ring with the form tokens (§3.4): FORM1 visits the
//! members and reps, collecting each old ring's recovery facts; FORM2
//! goes once around the new ring in ring order, naming it; the last member
//! starts the new ring's token.

use super::{Membership, State, Timers, SEQ_MARGIN};
use crate::order::{RecoveryPlan, Send};
use crate::packet::{
    Form1Body, Form2Body, FormBody, FormMembers, FormReps, FormToken, MembId, RegularToken,
    RingInfo, TokenHeader, FORM1_TYPE, FORM2_TYPE, MAX_FORM_MEMBERS, MAX_FORM_RINGS, MAX_HOLES,
    MAX_REPS, RING_REP,
};
use tracing::debug;

/// Ends a ring entry before its `MAX_HOLES + 1`th hole, so that the form
/// token stays what every daemon accepts: what follows so many packets that
/// nobody has is given up (no member can deliver it in order anyway).
fn fit_holes(e: &mut RingInfo) {
    if let Some(&first_dropped) = e.holes.get(MAX_HOLES) {
        e.holes.truncate(MAX_HOLES);
        e.highest_seq = first_dropped - 1;
        e.aru = e.aru.min(e.highest_seq);
    }
}

impl Membership {
    /// This daemon's old ring as a ring-list entry: what it has of it, and
    /// itself as the transitional set.
    fn my_ring_entry(&self) -> RingInfo {
        let (aru, highest) = self.ring.old_sequence();
        let mut commit = vec![self.me()];
        commit.extend(self.commit.iter().filter(|&&id| id != self.me()));
        let mut e = RingInfo {
            memb_id: self.ring.old_ring_id(),
            trans_time: 0,
            aru,
            highest_seq: highest,
            holes: self.ring.missing(),
            num_trans: 1,
            commit,
        };
        fit_holes(&mut e);
        e
    }

    /// Merges this daemon's old ring into the ring list (§3.4 step 2): an
    /// existing entry moves to the end with merged facts.
    fn merge_my_ring(&self, rings: &mut Vec<RingInfo>) -> bool {
        let id = self.ring.old_ring_id();
        let Some(pos) = rings.iter().position(|r| r.memb_id == id) else {
            if rings.len() >= MAX_FORM_RINGS {
                return false;
            }
            rings.push(self.my_ring_entry());
            return true;
        };
        let mut e = rings.remove(pos);
        let (aru, highest) = self.ring.old_sequence();
        let mut holes: Vec<i32> = e
            .holes
            .iter()
            .copied()
            .filter(|&s| !self.ring.has(s))
            .collect();
        holes.extend((e.highest_seq + 1..=highest).filter(|&s| !self.ring.has(s)));
        let trans = e.num_trans.max(0) as usize;
        let mut ids: Vec<u32> = e.commit.iter().take(trans).copied().collect();
        if !ids.contains(&self.me()) {
            ids.push(self.me());
        }
        let num_trans = ids.len();
        for &id in e.commit.iter().skip(trans).chain(&self.commit) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        e.aru = e.aru.max(aru);
        e.highest_seq = e.highest_seq.max(highest);
        e.holes = holes;
        fit_holes(&mut e);
        e.num_trans = num_trans as i16;
        e.commit = ids;
        rings.push(e);
        true
    }

    /// The smallest rep at gather timeout creates FORM1.
    pub(super) fn create_form1(&mut self, now: u64) {
        let time = self.fresh_time(now);
        let id = MembId::new(self.me(), time);
        let mut reps = self.reps.clone();
        reps.sort_by(|a, b| self.compare_reps(a, b));
        reps.retain(|r| r.proc_id != self.me());
        reps.insert(0, self.my_rep());
        reps.truncate(MAX_REPS);
        let base: Vec<u32> = if self.ring_alive {
            self.ring.members().to_vec()
        } else {
            self.in_config_order(self.heard.iter().copied())
        };
        let pending: Vec<u32> = base
            .into_iter()
            .filter(|&m| m != self.me() && !reps.iter().any(|r| r.proc_id == m))
            .take(MAX_FORM_MEMBERS - 1)
            .collect();
        let mut header = TokenHeader::new(FORM1_TYPE);
        header.memb_id = id;
        header.seq = self.ring.old_sequence().1 + SEQ_MARGIN;
        header.proc_id = self.me();
        header.transmiter_id = self.me();
        header.conf_hash = self.cfg.conf_hash;
        let token = FormToken {
            header,
            body: FormBody::Form1(Form1Body {
                members: FormMembers {
                    done: vec![self.me()],
                    pending,
                    stale: Default::default(),
                },
                reps: FormReps {
                    rep_index: 1,
                    reps,
                    stale: Default::default(),
                },
                rings: vec![self.my_ring_entry()],
            }),
        };
        self.form_id = Some(id);
        self.enter_form(now);
        self.forward_form1(token, now);
    }

    fn enter_form(&mut self, now: u64) {
        debug!(target: "spread::membership", "{} -> FORM: the form token goes round", self.state.name());
        self.state = State::Form;
        self.ring_alive = false;
        self.timers = Timers {
            form: Some(now + self.cfg.timeouts.form),
            ..Timers::default()
        };
    }

    pub(super) fn on_form(&mut self, token: FormToken, now: u64) {
        // Ids made here must be newer than every old ring's: a daemon that
        // restarted soon after leading a ring would otherwise make its old
        // ring id again from the clock.
        for r in token.rings() {
            self.last_time = self
                .last_time
                .max(r.memb_id.time.into())
                .max(r.trans_time.into());
        }
        match token.body {
            FormBody::Form1(_) => self.on_form1(token, now),
            FormBody::Form2(_) => self.on_form2(token, now),
        }
    }

    fn on_form1(&mut self, mut token: FormToken, now: u64) {
        let me = self.me();
        let FormBody::Form1(f) = &mut token.body else {
            return;
        };
        let next_pending = f.members.pending.first() == Some(&me);
        let leader = self.ring.members().first() == Some(&me);
        let accepted = match self.state {
            // A running ring's leader swallows FORM1 (it gathers instead).
            State::Op if leader => false,
            State::Op | State::Represented => {
                if next_pending {
                    f.members.pending.remove(0);
                    f.members.done.push(me);
                }
                next_pending
            }
            State::Gather => {
                let index = f.reps.rep_index.max(0) as usize;
                let mine =
                    f.reps.reps.get(index).is_some_and(|r| {
                        r.proc_id == me && (r.kind == RING_REP) == self.ring_alive
                    });
                if mine && f.members.pending.is_empty() {
                    let listed = |id: u32, f: &Form1Body| {
                        f.members.done.contains(&id)
                            || f.members.pending.contains(&id)
                            || f.reps.reps.iter().any(|r| r.proc_id == id)
                    };
                    f.members.done.push(me);
                    let mine: Vec<u32> = if self.ring_alive {
                        self.ring.members().to_vec()
                    } else {
                        self.in_config_order(self.heard.iter().copied())
                    };
                    for id in mine {
                        let room = f.members.done.len() + f.members.pending.len();
                        if !listed(id, f) && room < MAX_FORM_MEMBERS {
                            f.members.pending.push(id);
                        }
                    }
                    f.reps.rep_index += 1;
                    true
                } else {
                    false
                }
            }
            State::Seg | State::Form | State::Evs => false,
        };
        if !accepted {
            // Not for me now (or the second copy): dropped, as 5.0.1 does.
            return;
        }
        if !self.merge_my_ring(&mut f.rings) {
            // No room for my ring: I leave the new ring.
            f.members.done.retain(|&m| m != me);
        }
        let h = &mut token.header;
        h.seq = h.seq.max(self.ring.old_sequence().1 + SEQ_MARGIN);
        h.proc_id = me;
        h.transmiter_id = me;
        self.form_id = Some(token.header.memb_id);
        self.enter_form(now);
        self.forward_form1(token, now);
    }

    /// Sends FORM1 on: to the next pending member, else the next rep; the
    /// last visited daemon turns it into FORM2 for the new leader.
    fn forward_form1(&mut self, mut token: FormToken, now: u64) {
        let FormBody::Form1(f) = &mut token.body else {
            return;
        };
        let next = f.members.pending.first().copied().or_else(|| {
            f.reps
                .reps
                .get(f.reps.rep_index.max(0) as usize)
                .map(|r| r.proc_id)
        });
        if let Some(to) = next {
            token.header.transmiter_id = self.me();
            self.send_twice(to, token.encode());
            return;
        }
        let members = self.in_config_order(f.members.done.iter().copied());
        let mut header = token.header;
        header.ty = FORM2_TYPE;
        header.transmiter_id = self.me();
        let form2 = FormToken {
            header,
            body: FormBody::Form2(Form2Body {
                members: FormMembers {
                    done: Vec::new(),
                    pending: members.clone(),
                    stale: Default::default(),
                },
                new_ring_id: MembId::default(),
                rings: std::mem::take(&mut f.rings),
            }),
        };
        if members.first() == Some(&self.me()) {
            self.on_form2(form2, now);
        } else if let Some(&leader) = members.first() {
            self.send_twice(leader, form2.encode());
        }
    }

    fn send_twice(&mut self, to: u32, bytes: Vec<u8>) {
        self.sends.push_back(Send::Token {
            to,
            bytes: bytes.clone(),
        });
        self.sends.push_back(Send::Token { to, bytes });
    }

    fn on_form2(&mut self, mut token: FormToken, now: u64) {
        let me = self.me();
        if self.state != State::Form || Some(token.header.memb_id) != self.form_id {
            return;
        }
        let old_id = self.ring.old_ring_id();
        let last_seq = token.header.seq;
        let FormBody::Form2(f) = &mut token.body else {
            return;
        };
        let Some(entry) = f.rings.iter_mut().find(|r| r.memb_id == old_id) else {
            return;
        };
        if f.members.pending.first() != Some(&me) || !entry.is_well_formed() {
            return;
        }
        let fresh = self.fresh_time(now);
        if f.members.done.is_empty() {
            // The new leader names the ring; its old ring's transitional
            // time comes just before.
            f.new_ring_id = MembId::new(me, fresh + 1);
            self.last_time = i64::from(fresh) + 1;
        }
        if entry.trans_time == 0 {
            entry.trans_time = fresh;
        }
        let trans = self.in_config_order(entry.transitional().iter().copied());
        let plan = RecoveryPlan {
            new_members: f
                .members
                .done
                .iter()
                .chain(&f.members.pending)
                .copied()
                .collect(),
            new_id: f.new_ring_id,
            aru: entry.aru,
            highest: entry.highest_seq,
            holes: entry.holes.clone(),
            trans_id: MembId::new(trans.first().copied().unwrap_or(me), entry.trans_time),
            trans,
            last_seq,
        };
        self.pending_commit = entry.commit.clone();
        f.members.pending.remove(0);
        f.members.done.push(me);
        let next = f.members.pending.first().copied();
        let leader = plan.new_members[0];
        let new_id = plan.new_id;
        debug!(target: "spread::membership", "FORM -> EVS: new ring of {} daemons; recovering the old rings' messages", plan.new_members.len());
        self.state = State::Evs;
        self.timers = Timers::default();
        self.ring.begin_recovery(plan, now);
        match next {
            Some(to) => {
                token.header.transmiter_id = me;
                token.header.proc_id = me;
                self.send_twice(to, token.encode());
            }
            None if leader != me => {
                // The last member starts the new ring's token.
                let mut h = TokenHeader::new(0);
                h.memb_id = new_id;
                h.aru = i32::MAX;
                h.aru_last_id = u32::MAX;
                h.proc_id = me;
                h.transmiter_id = me;
                h.conf_hash = self.cfg.conf_hash;
                let first = RegularToken {
                    header: h,
                    rtr: Vec::new(),
                };
                self.send_twice(leader, first.encode());
                self.ring.sent_first_token();
            }
            None => {}
        }
        self.after_ring(now);
    }
}
