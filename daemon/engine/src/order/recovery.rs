//! The EVS state (daemon-protocol.md §3.5): a new ring's token circulates
//! while every daemon recovers the messages of its old ring, then all
//! install the new ring, delivering what is left of the old one around the
//! transitional configuration.
//!
//! During recovery the ring's members and id are the new ring's, while the
//! sequence state (store, `highest_seq`, `my_aru`, `aru`, delivered and
//! discarded lines) is still the old ring's. Retransmission requests carry
//! the old ring's id, so daemons of several old rings recover in parallel.
//!
//! The token is handled as 5.0.1 handles it, so that rings mixing this
//! daemon and 5.0.1 install together: its `seq` stays as its creator wrote
//! it (0: sequence numbers of the old rings mean nothing on the new ring,
//! and 5.0.1 asks for every number up to the token's seq), a daemon that
//! holds its old ring's packets up to the agreed highest raises its aru to
//! `Last_seq`, and each daemon installs at the end of the visit on which
//! the token it sent had aru `Last_seq` for the second time in a row (the
//! smaller of the two is its ring-wide aru). All daemons thereby install
//! within one pass of the token, beginning after the daemon that raised
//! the aru last, before anyone sends on the new ring.

use super::*;
use std::collections::BTreeSet;

/// What a FORM2 token told this daemon about its old ring and the new one.
#[derive(Clone, Debug)]
pub struct RecoveryPlan {
    pub new_members: Vec<u32>,
    pub new_id: MembId,
    /// The old ring's entry: ring-wide aru and highest sequence number, and
    /// the sequence numbers nobody in the new ring has.
    pub aru: i32,
    pub highest: i32,
    pub holes: Vec<i32>,
    /// Members of the old ring in the new one (configuration order), and
    /// their transitional membership id.
    pub trans: Vec<u32>,
    pub trans_id: MembId,
    /// Above every old sequence number: the aru a committed daemon reports.
    pub last_seq: i32,
}

pub(super) struct Recovery {
    old_id: MembId,
    old_members: Vec<u32>,
    highest: i32,
    placeholders: BTreeSet<i32>,
    last_seq: i32,
    trans: Vec<u32>,
    trans_id: MembId,
    /// Token visits since FORM2.
    rounds: u32,
}

/// Token visits after which a recovery that has not finished is given up.
const MAX_RECOVERY_ROUNDS: u32 = 500;

impl Recovery {
    pub(super) fn is_placeholder(&self, seq: i32) -> bool {
        self.placeholders.contains(&seq)
    }
}

impl Ring {
    /// The ring this daemon belongs to for the membership protocol: the one
    /// it recovers if a recovery was interrupted, else the current one.
    pub fn old_ring_id(&self) -> MembId {
        match &self.recovery {
            Some(r) => r.old_id,
            None => self.cfg.memb_id.unwrap_or_default(),
        }
    }

    /// The members of that ring.
    pub fn old_members(&self) -> &[u32] {
        match &self.recovery {
            Some(r) => &r.old_members,
            None => &self.cfg.members,
        }
    }

    /// (aru, highest_seq) of that ring as this daemon knows them.
    pub fn old_sequence(&self) -> (i32, i32) {
        (self.aru, self.highest_seq)
    }

    /// Whether this daemon holds (or has delivered and freed) packet `seq`.
    pub fn has(&self, seq: i32) -> bool {
        seq <= self.last_discarded || self.store.contains_key(&seq)
    }

    /// The sequence numbers this daemon lacks up to its highest.
    pub fn missing(&self) -> Vec<i32> {
        (self.my_aru + 1..=self.highest_seq)
            .filter(|s| !self.store.contains_key(s))
            .collect()
    }

    pub fn is_recovering(&self) -> bool {
        self.recovery.is_some()
    }

    /// Enters the EVS state with what FORM2 said (§3.4 step 3).
    pub fn begin_recovery(&mut self, plan: RecoveryPlan, now: u64) {
        let old_id = self.old_ring_id();
        let old_members = self.old_members().to_vec();
        self.recovery = None;
        // Packets the token does not know of are forgotten.
        let _ = self.store.split_off(&(plan.highest + 1));
        self.highest_seq = plan.highest.max(self.last_discarded);
        self.aru = self.aru.max(plan.aru).min(self.highest_seq);
        // A copy of a packet nobody else in the new ring has came from a
        // daemon that is not in it: dropped, as everyone else lacks it.
        let holes: BTreeSet<i32> = plan
            .holes
            .iter()
            .copied()
            .filter(|&s| s > self.last_delivered)
            .collect();
        for s in &holes {
            self.store.remove(s);
        }
        self.my_aru = self.last_discarded.max(self.last_delivered);
        self.set_ring(plan.new_members, plan.new_id);
        self.holding = false;
        self.held_back.clear();
        self.token_counter = 0;
        self.last_num_sent = 0;
        self.last_num_retrans = 0;
        self.token_rounds = 0;
        self.just_installed = None;
        self.hurry_deadline = None;
        self.token_deadline = now + self.cfg.token_timeout_us;
        self.token_lost = false;
        self.recovery = Some(Recovery {
            old_id,
            old_members,
            highest: self.highest_seq,
            placeholders: holes,
            last_seq: plan.last_seq,
            trans: plan.trans,
            trans_id: plan.trans_id,
            rounds: 0,
        });
        self.advance_my_aru();
        // Stable packets of the old ring are delivered at once.
        self.deliver();
        if self.cfg.members.len() == 1 {
            // Alone: nobody else can help, everything missing is a hole.
            self.install(now);
            self.just_installed = None;
            self.start_first_token(now);
        }
    }

    /// A token loss in the EVS state: back to the old ring's state (holes
    /// are gaps again) for the next attempt.
    pub fn abort_recovery(&mut self) {
        let Some(r) = self.recovery.take() else {
            return;
        };
        self.set_ring(r.old_members, r.old_id);
        self.hurry_deadline = None;
        self.my_aru = self.last_discarded.max(self.last_delivered);
        self.advance_my_aru();
    }

    /// Recovering, and holding every packet of the old ring that anyone
    /// in the new ring has.
    pub fn is_committed(&self) -> bool {
        self.committed()
    }

    /// Runs on the ring `members` (with this daemon) named `id`, with no
    /// token yet (the ARQ count starts again).
    fn set_ring(&mut self, members: Vec<u32>, id: MembId) {
        self.position = members.iter().position(|&m| m == self.cfg.me).unwrap_or(0);
        self.cfg.members = members;
        self.cfg.memb_id = Some(id);
        self.last_token = None;
        self.stuck_visits = 0;
        self.stalled_visits = 0;
        self.last_arrival_aru = 0;
    }

    fn committed(&self) -> bool {
        self.recovery
            .as_ref()
            .is_some_and(|r| self.my_aru >= r.highest)
    }

    /// The last member of the new ring sent its first token: that counts
    /// as a visit (the packets' `token_round` starts from it).
    pub fn sent_first_token(&mut self) {
        self.token_rounds = 1;
    }

    /// A token of the new ring while recovering (§2.2 in the EVS state).
    pub(super) fn recovery_token(&mut self, mut token: RegularToken, now: u64) {
        let Some(r) = self.recovery.as_ref() else {
            return;
        };
        let (old_id, last_seq, highest) = (r.old_id, r.last_seq, r.highest);
        self.stats.tokens += 1;
        let answered = self.answer_requests(&mut token, old_id, true);
        self.advance_my_aru();
        let committed = self.committed();
        if !committed {
            let seqs: Vec<i32> = (self.my_aru + 1..=highest)
                .filter(|s| !self.store.contains_key(s) && !self.is_hole(*s))
                .take(MAX_RTR_SEQS)
                .collect();
            if !seqs.is_empty() {
                token.rtr.push(RtrBlock {
                    memb_id: old_id,
                    proc_id: answered.proc_id,
                    seg_index: answered.seg_index,
                    seqs,
                });
            }
        }
        let mine = if committed { last_seq } else { self.my_aru };
        let leader = self.position == 0;
        let t = &mut token.header;
        // No raising to the token's seq here: it is not a sequence number
        // of any old ring.
        if t.aru > mine || t.aru_last_id == self.cfg.me {
            t.aru = mine;
            t.aru_last_id = self.cfg.me;
        }
        t.proc_id = self.cfg.me;
        t.transmiter_id = self.cfg.me;
        let fc = i32::from(t.flow_control) + answered.resent
            - self.last_num_retrans
            - self.last_num_sent;
        t.flow_control = fc.clamp(i16::MIN.into(), i16::MAX.into()) as i16;
        self.last_num_retrans = answered.resent;
        self.last_num_sent = 0;
        if leader {
            t.ty = with_retrans(with_arq(t.ty, arq(t.ty) + 1), 0);
            self.hurry_deadline = Some(now + self.cfg.hurry_timeout_us);
        }
        self.token_deadline = now + self.cfg.token_timeout_us;
        self.token_rounds += 1;
        self.sends.push_back(Send::Token {
            to: self.successor(),
            bytes: token.encode(),
        });
        let previous_aru = self.last_token.as_ref().map_or(0, |l| l.header.aru);
        let ring_aru = previous_aru.min(token.header.aru);
        self.last_token = Some(token);
        self.deliver();
        if ring_aru == last_seq {
            // Every member has committed: install now that the token left.
            self.install(now);
            return;
        }
        if let Some(r) = self.recovery.as_mut() {
            r.rounds += 1;
            if r.rounds > MAX_RECOVERY_ROUNDS {
                self.token_lost = true;
            }
        }
    }

    fn is_hole(&self, seq: i32) -> bool {
        self.recovery
            .as_ref()
            .is_some_and(|r| r.is_placeholder(seq))
    }

    /// A data packet while recovering: only the old ring's retransmissions.
    pub(super) fn recovery_data(&mut self, packet: DataPacket, now: u64) {
        let Some(r) = self.recovery.as_ref() else {
            return;
        };
        let h = &packet.header;
        let seq = h.seq;
        if h.memb_id != r.old_id
            || h.conf_hash != self.cfg.conf_hash
            || !r.old_members.contains(&h.proc_id)
            || seq > r.highest
            || r.is_placeholder(seq)
        {
            self.stats.dropped += 1;
            return;
        }
        self.token_deadline = now + self.cfg.token_timeout_us;
        if seq <= self.last_discarded || self.store.contains_key(&seq) {
            return;
        }
        self.stats.packets_received += 1;
        self.store.insert(
            seq,
            Stored {
                packet,
                delivered: false,
            },
        );
        self.advance_my_aru();
        self.deliver();
    }

    /// Installs the new ring (§3.5): the old ring's packets up to the
    /// first hole or unstable SAFE packet, the transitional configuration,
    /// the rest (after a hole only those of transitional members), the
    /// regular configuration; then the new ring's sequence starts at 0.
    fn install(&mut self, now: u64) {
        let Some(r) = self.recovery.take() else {
            return;
        };
        let mut seq = self.last_delivered + 1;
        while seq <= r.highest && !r.is_placeholder(seq) {
            let Some(stored) = self.store.get(&seq) else {
                break;
            };
            if stored.packet.header.ty & SAFE_TYPE != 0 && seq > self.aru {
                break;
            }
            deliver_packet(
                &stored.packet,
                &mut self.reassembly,
                &mut self.deliveries,
                &mut self.stats,
            );
            seq += 1;
        }
        self.deliveries.push_back(Delivery::Transitional {
            members: r.trans.clone(),
            id: r.trans_id,
        });
        let mut after_hole = false;
        while seq <= r.highest {
            match self.store.get(&seq) {
                Some(stored) if !after_hole || r.trans.contains(&stored.packet.header.proc_id) => {
                    deliver_packet(
                        &stored.packet,
                        &mut self.reassembly,
                        &mut self.deliveries,
                        &mut self.stats,
                    );
                }
                Some(_) => {}
                None => after_hole = true,
            }
            seq += 1;
        }
        // Messages cut by a hole, or by the end of the old ring, are never
        // completed: receivers start them afresh, and so does this
        // daemon's message that was partly sent.
        self.reassembly = Reassembly::new(self.cfg.max_message_len, self.cfg.packet_body);
        self.packer.restart_head();
        self.deliveries.push_back(Delivery::Regular {
            members: self.cfg.members.clone(),
            id: self.cfg.memb_id.unwrap_or_default(),
        });
        self.store.clear();
        self.highest_seq = 0;
        self.my_aru = 0;
        self.aru = 0;
        self.last_delivered = 0;
        self.last_discarded = 0;
        self.token_counter = 0;
        self.stuck_visits = 0;
        self.stalled_visits = 0;
        self.last_arrival_aru = 0;
        // The last token's aru (`Last_seq`) is lowered only when the next
        // token is accepted: resent before that, it must still tell the
        // daemons not yet installed to install.
        self.just_installed = Some(r.last_seq);
        self.token_deadline = now + self.cfg.token_timeout_us;
    }
}
