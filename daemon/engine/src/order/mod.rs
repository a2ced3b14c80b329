//! The ordering protocol of one ring (daemon-protocol.md §2): a token
//! circulates among the daemons; its holder sends new packets numbered
//! after the token's `seq`, answers retransmission requests and adjusts the
//! ring-wide `aru`; every daemon delivers in sequence order — AGREED once it
//! has everything before, SAFE once the ring-wide aru shows that everyone
//! has it.
//!
//! Sans-IO, in the manner of quinn-proto: time comes in as microseconds,
//! datagrams come in as bytes, and what to send, what to deliver and when
//! to be woken up are taken out with `poll_*`.

mod reassembly;
mod recovery;
#[cfg(test)]
mod tests;

pub use recovery::RecoveryPlan;
mod windows;

use crate::packet::{
    arq, retrans, with_arq, with_retrans, DataHeader, DataPacket, MembId, MembershipPacket,
    OutMessage, Packer, RegularToken, RtrBlock, TokenHeader, AGREED_TYPE, FIFO_TYPE, HURRY_TYPE,
    RELIABLE_TYPE, SAFE_TYPE,
};
use bytes::Bytes;
use reassembly::Reassembly;
use std::collections::{BTreeMap, VecDeque};
use tracing::debug;

/// Most sequence numbers one retransmission request asks for.
const MAX_RTR_SEQS: usize = 300;
/// Sequence numbers above this are refused (5.0.1 forces a new ring before
/// they are reached), which also keeps all arithmetic far from overflow.
const MAX_SEQ: i32 = 1 << 30;
/// The sender stops when it is this far ahead of the ring-wide aru (keeps
/// 5.0.1's 8192-slot store from wrapping).
const MAX_SEQ_GAP: i32 = 1600;
/// Token visits in a row on which this daemon missed packets and got none
/// of them: nobody has them (a forged sequence number, or a packet whose
/// only holder is gone), and only a new membership gets past them.
const MAX_STUCK_VISITS: u32 = 500;

/// How one ring runs.
#[derive(Clone, Debug)]
pub struct RingConfig {
    /// This daemon's id.
    pub me: u32,
    /// This daemon's segment (configuration index), named in its
    /// retransmission requests.
    pub seg_index: i16,
    /// The ring's daemons in ring order (configuration order).
    pub members: Vec<u32>,
    /// The ring's id; a daemon that is not the leader may start without it
    /// and take it from the first token its predecessor sends.
    pub memb_id: Option<MembId>,
    pub conf_hash: u32,
    pub window: i32,
    pub personal_window: i32,
    /// Accelerated Ring's window, if it is on.
    pub accelerated_window: Option<i32>,
    pub hurry_timeout_us: u64,
    pub token_timeout_us: u64,
    /// The most bytes of one message, header and names included
    /// (`packet::ring_message_limit`): 5.0.1's 143,200, or more with a
    /// MaxMessageSize.
    pub max_message_len: usize,
    /// The most bytes of one packet's body (`packet::packet_body`).
    pub packet_body: usize,
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Send {
    /// A data packet for every other member.
    Broadcast(Vec<u8>),
    /// A data-port packet for one daemon.
    Unicast { to: u32, bytes: Vec<u8> },
    /// A token for one daemon's token port.
    Token { to: u32, bytes: Vec<u8> },
}

/// A client message in the agreed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    /// The daemon whose client sent it.
    pub origin: u32,
    /// Its packet service (`*_TYPE`).
    pub service: u32,
    /// The stored client message: 48-byte header, names, payload.
    pub message: Bytes,
}

/// What the ring hands to the group layer, in order: client messages and,
/// when a new ring is installed, the transitional and regular
/// configurations between them (§3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Message(Delivered),
    /// The members of the old ring that moved on together, and their
    /// transitional membership id.
    Transitional {
        members: Vec<u32>,
        id: MembId,
    },
    /// The new ring.
    Regular {
        members: Vec<u32>,
        id: MembId,
    },
}

/// Counters for status and tests.
#[derive(Clone, Debug, Default)]
pub struct RingStats {
    pub packets_sent: u64,
    pub packets_received: u64,
    pub retransmitted: u64,
    pub delivered: u64,
    pub tokens: u64,
    pub dropped: u64,
    pub hurries: u64,
    /// Data and tokens numbered beyond what any member can have sent.
    pub refused_ahead: u64,
    /// Times the ring was given up for packets nobody had.
    pub stuck: u64,
}

/// What answering a token's requests left for this daemon's own request.
struct Answered {
    /// Packets resent.
    resent: i32,
    /// Who the own request is made for: me, or several daemons.
    proc_id: u32,
    /// And which segment: mine, or several.
    seg_index: i16,
}

struct Stored {
    packet: DataPacket,
    delivered: bool,
}

pub struct Ring {
    cfg: RingConfig,
    position: usize,
    highest_seq: i32,
    my_aru: i32,
    /// Ring-wide stable line: everything up to it is everywhere.
    aru: i32,
    last_delivered: i32,
    last_discarded: i32,
    store: BTreeMap<i32, Stored>,
    packer: Packer,
    /// The token this daemon last sent (or holds).
    last_token: Option<RegularToken>,
    holding: bool,
    /// Flow control held packets back on the last visit (for the log).
    fc_limited: bool,
    /// Accelerated Ring: this visit's packets that leave after the token.
    held_back: Vec<i32>,
    token_rounds: i32,
    last_num_sent: i32,
    last_num_retrans: i32,
    /// Rounds in a row the token came back with nothing new (idle hold).
    token_counter: u32,
    /// Visits in a row with packets missing and `my_aru` standing still.
    stuck_visits: u32,
    /// Visits in a row on which the token came with the ring-wide aru
    /// below its seq and no higher than the visit before.
    stalled_visits: u32,
    /// The aru the token came with on the last visit.
    last_arrival_aru: i32,
    /// Installed from EVS, no token accepted since: the `Last_seq` the
    /// token's aru still shows until the first holder in OP lowers it.
    just_installed: Option<i32>,
    reassembly: Reassembly,
    sends: VecDeque<Send>,
    deliveries: VecDeque<Delivery>,
    /// Recovering the old ring's messages on a new ring (EVS state).
    recovery: Option<recovery::Recovery>,
    /// The token timer expired (taken by the membership layer).
    token_lost: bool,
    token_deadline: u64,
    hurry_deadline: Option<u64>,
    pub stats: RingStats,
}

impl Ring {
    /// Starts a ring at time `now`. The leader holds the first token.
    pub fn new(cfg: RingConfig, now: u64) -> Ring {
        let mut r = Ring::dormant(cfg, now);
        if r.is_leader() {
            r.start_first_token(now);
        }
        r
    }

    /// A ring that does not run yet: no token until a membership installs
    /// one (the daemon's state before its first ring).
    pub fn dormant(cfg: RingConfig, now: u64) -> Ring {
        let position = cfg
            .members
            .iter()
            .position(|&m| m == cfg.me)
            .expect("member of its ring");
        Ring {
            position,
            highest_seq: 0,
            my_aru: 0,
            aru: 0,
            last_delivered: 0,
            last_discarded: 0,
            store: BTreeMap::new(),
            packer: Packer::with_limits(cfg.max_message_len, cfg.packet_body),
            last_token: None,
            holding: false,
            fc_limited: false,
            held_back: Vec::new(),
            token_rounds: 0,
            last_num_sent: 0,
            last_num_retrans: 0,
            token_counter: 0,
            stuck_visits: 0,
            stalled_visits: 0,
            last_arrival_aru: 0,
            just_installed: None,
            reassembly: Reassembly::new(cfg.max_message_len, cfg.packet_body),
            sends: VecDeque::new(),
            deliveries: VecDeque::new(),
            recovery: None,
            token_lost: false,
            token_deadline: now + cfg.token_timeout_us,
            hurry_deadline: None,
            stats: RingStats::default(),
            cfg,
        }
    }

    /// The leader makes the ring's first token and handles it.
    fn start_first_token(&mut self, now: u64) {
        let mut first = TokenHeader::new(0);
        first.memb_id = self.cfg.memb_id.expect("the leader names the ring");
        first.conf_hash = self.cfg.conf_hash;
        first.aru_last_id = self.cfg.me;
        self.process_token(
            RegularToken {
                header: first,
                rtr: Vec::new(),
            },
            now,
        );
    }

    /// The ring's members in ring order.
    pub fn members(&self) -> &[u32] {
        &self.cfg.members
    }

    /// True once when the token timer expired since the last call.
    pub fn take_token_loss(&mut self) -> bool {
        std::mem::take(&mut self.token_lost)
    }

    fn is_leader(&self) -> bool {
        self.position == 0
    }

    fn successor(&self) -> u32 {
        self.cfg.members[(self.position + 1) % self.cfg.members.len()]
    }

    fn predecessor(&self) -> u32 {
        let n = self.cfg.members.len();
        self.cfg.members[(self.position + n - 1) % n]
    }

    /// Queues a client message for ordering with its packet service.
    pub fn submit(
        &mut self,
        message: Bytes,
        service: u32,
        now: u64,
    ) -> Result<(), crate::packet::PacketError> {
        self.submit_in_lane(message, service, None, now)
    }

    /// As [`Ring::submit`], for a data message of sender `lane`, which may
    /// overtake a large message of another (`Packer`).
    pub fn submit_in_lane(
        &mut self,
        message: Bytes,
        service: u32,
        lane: Option<u64>,
        now: u64,
    ) -> Result<(), crate::packet::PacketError> {
        let was_empty = self.packer.is_empty();
        let out = OutMessage {
            service,
            bytes: message,
        };
        self.packer.push_in_lane(out, lane)?;
        if self.cfg.members.len() == 1 {
            // A ring of one orders at once.
            if let Some(token) = self.last_token.clone() {
                self.process_token(token, now);
            }
            return Ok(());
        }
        if was_empty && self.token_counter > 1 {
            // The ring is idle: ask the leader to let the token go.
            if self.is_leader() {
                self.release_held_token(now);
            } else {
                let mut h = DataHeader::new(HURRY_TYPE, self.cfg.me);
                h.transmiter_id = self.cfg.me;
                h.conf_hash = self.cfg.conf_hash;
                let hurry = MembershipPacket {
                    header: h,
                    body: crate::packet::MembershipBody::Hurry,
                };
                self.sends.push_back(Send::Unicast {
                    to: self.cfg.members[0],
                    bytes: hurry.encode(),
                });
            }
        }
        Ok(())
    }

    /// Queues a client message without sending anything (the ring does
    /// not run: it leaves on the next ring's token).
    pub fn queue(
        &mut self,
        message: Bytes,
        service: u32,
        lane: Option<u64>,
    ) -> Result<(), crate::packet::PacketError> {
        let out = OutMessage {
            service,
            bytes: message,
        };
        self.packer.push_in_lane(out, lane)
    }

    /// Messages waiting to be sent.
    pub fn backlog(&self) -> usize {
        self.packer.len()
    }

    pub fn poll_send(&mut self) -> Option<Send> {
        self.sends.pop_front()
    }

    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        self.deliveries.pop_front()
    }

    /// When `handle_timeout` wants to run next.
    pub fn poll_timeout(&self) -> u64 {
        self.hurry_deadline
            .map_or(self.token_deadline, |h| h.min(self.token_deadline))
    }

    pub fn handle_timeout(&mut self, now: u64) {
        if self.hurry_deadline.is_some_and(|h| h <= now) {
            self.hurry(now);
        }
        if self.token_deadline <= now {
            // Token loss: the membership layer takes over (a static ring
            // keeps trying with the leader's hurry resends). A ring of one
            // holds its token: nothing to lose.
            self.token_lost = self.cfg.members.len() > 1;
            if self.token_lost {
                debug!(target: "spread::protocol", "no token within the token timeout ({} ms)", self.cfg.token_timeout_us / 1000);
            }
            self.token_deadline = now + self.cfg.token_timeout_us;
        }
    }

    /// A HURRY from another daemon: let the token go if it is held.
    pub fn handle_hurry(&mut self, from: u32, now: u64) {
        if self.is_leader() && self.cfg.members.contains(&from) {
            self.release_held_token(now);
        }
    }

    /// Lets a held token go. If this daemon has messages waiting, they ride
    /// on it now (the token was never sent, so it can still take them),
    /// instead of waiting a whole round as a plain hurry would make them.
    fn release_held_token(&mut self, now: u64) {
        if !self.holding {
            return;
        }
        self.token_counter = 0;
        if self.packer.is_empty() {
            self.hurry(now);
            return;
        }
        let Some(mut token) = self.last_token.take() else {
            return;
        };
        self.holding = false;
        let before = self.highest_seq;
        let sent = self.send_new_packets(i32::from(token.header.flow_control));
        self.last_num_sent += sent;
        let fc = i32::from(token.header.flow_control) + sent;
        token.header.flow_control = fc.clamp(i16::MIN.into(), i16::MAX.into()) as i16;
        self.advance_my_aru();
        let t = &mut token.header;
        if t.aru_last_id == self.cfg.me || t.aru == before {
            t.aru = self.my_aru;
            t.aru_last_id = self.cfg.me;
        }
        t.seq = self.highest_seq;
        let bytes = token.encode();
        self.sends.push_back(Send::Token {
            to: self.successor(),
            bytes,
        });
        self.last_token = Some(token);
        self.hurry_deadline = Some(now + self.cfg.hurry_timeout_us);
        self.token_deadline = now + self.cfg.token_timeout_us;
        self.send_held_back();
        self.deliver();
    }

    /// The leader's hurry: send its last token again with RETRANS + 1.
    fn hurry(&mut self, now: u64) {
        self.hurry_deadline = Some(now + self.cfg.hurry_timeout_us);
        self.stats.hurries += 1;
        let Some(last) = self.last_token.as_ref() else {
            return;
        };
        let r = retrans(last.header.ty).saturating_add(1).min(15);
        if !self.holding {
            debug!(target: "spread::protocol", "no token back within the hurry timeout: sending token seq {} again (RETRANS {r})", last.header.seq);
        }
        self.holding = false;
        self.resend_last(r);
    }

    /// A datagram from a daemon's token port.
    pub fn handle_token(&mut self, token: RegularToken, now: u64) {
        let h = &token.header;
        if !(0..=MAX_SEQ).contains(&h.seq) || !(0..=MAX_SEQ).contains(&h.aru) && h.aru != i32::MAX {
            self.stats.dropped += 1;
            return;
        }
        // While recovering, the token's seq and aru count above the old
        // ring's; right after the installation its aru is still `Last_seq`.
        let ahead = h.seq > self.furthest_possible()
            || (h.aru > h.seq && Some(h.aru) != self.just_installed);
        if self.recovery.is_none() && ahead {
            self.stats.refused_ahead += 1;
            return;
        }
        if self.cfg.memb_id.is_none()
            && h.transmiter_id == self.predecessor()
            && h.conf_hash == self.cfg.conf_hash
        {
            self.cfg.memb_id = Some(h.memb_id);
        }
        if Some(h.memb_id) != self.cfg.memb_id
            || h.conf_hash != self.cfg.conf_hash
            || h.transmiter_id != self.predecessor()
        {
            self.stats.dropped += 1;
            return;
        }
        let accepted = match &self.last_token {
            None => true,
            Some(last) => {
                let mine = arq(last.header.ty);
                let expected = if self.is_leader() {
                    mine
                } else {
                    (mine + 1) % 16
                };
                if arq(h.ty) == expected {
                    true
                } else {
                    if !self.is_leader()
                        && arq(h.ty) == mine
                        && retrans(h.ty) > retrans(last.header.ty)
                    {
                        // The predecessor lost track of my last token: send it again.
                        self.resend_last(retrans(h.ty));
                    }
                    false
                }
            }
        };
        if accepted {
            if self.just_installed.take().is_some() {
                // Kept until now so that a resend of the last EVS token
                // still told the daemons not yet installed to install.
                if let Some(last) = self.last_token.as_mut() {
                    last.header.aru = 0;
                }
            }
            if self.recovery.is_some() {
                self.recovery_token(token, now);
            } else {
                self.process_token(token, now);
            }
        } else {
            self.stats.dropped += 1;
        }
    }

    /// Sends the last token again, header only (pending requests are asked
    /// again next round), with RETRANS `r`: three copies from RETRANS 2 on.
    fn resend_last(&mut self, r: u8) {
        let Some(last) = self.last_token.as_mut() else {
            return;
        };
        last.header.ty = with_retrans(last.header.ty, r);
        let mut resend = last.header;
        resend.rtr_len = 0;
        resend.transmiter_id = self.cfg.me;
        let bytes = RegularToken {
            header: resend,
            rtr: Vec::new(),
        }
        .encode();
        let copies = if r > 1 { 3 } else { 1 };
        for _ in 0..copies {
            self.sends.push_back(Send::Token {
                to: self.successor(),
                bytes: bytes.clone(),
            });
        }
    }

    fn process_token(&mut self, mut token: RegularToken, now: u64) {
        self.stats.tokens += 1;
        let aru_before = self.my_aru;
        let arrived_seq = token.header.seq;
        self.note_ring_progress(token.header.aru, arrived_seq);
        self.highest_seq = self.highest_seq.max(token.header.seq);
        let ring = self.cfg.memb_id.unwrap_or_default();
        let answered = self.answer_requests(&mut token, ring, false);
        let num_retrans = answered.resent;
        let num_sent = self.send_new_packets(i32::from(token.header.flow_control));
        let fc = i32::from(token.header.flow_control) + num_retrans + num_sent
            - self.last_num_retrans
            - self.last_num_sent;
        token.header.flow_control = fc.clamp(i16::MIN.into(), i16::MAX.into()) as i16;
        self.last_num_sent = num_sent;
        self.last_num_retrans = num_retrans;
        self.advance_my_aru();
        self.note_progress(aru_before);
        let request = self.my_request(&answered);
        if num_retrans > 0 || request.is_some() {
            debug!(target: "spread::protocol", "token seq {arrived_seq} aru {}: retransmitted {num_retrans} packets, asking for {} (my aru {})", token.header.aru, request.as_ref().map_or(0, |b| b.seqs.len()), self.my_aru);
        }
        if let Some(block) = request {
            token.rtr.push(block);
        }
        let t = &mut token.header;
        if t.aru > self.my_aru || t.aru_last_id == self.cfg.me || t.aru == arrived_seq {
            t.aru = self.my_aru;
            t.aru_last_id = self.cfg.me;
        }
        t.proc_id = self.cfg.me;
        t.transmiter_id = self.cfg.me;
        t.seq = self.highest_seq;
        if self.is_leader() {
            t.ty = with_retrans(with_arq(t.ty, arq(t.ty) + 1), 0);
        }
        let previous_aru = self.last_token.as_ref().map_or(0, |l| l.header.aru);
        let idle = self.is_leader()
            && retrans(self.last_token.as_ref().map_or(0, |l| l.header.ty)) <= 1
            && self.packer.is_empty()
            && token.rtr.is_empty()
            && self.aru == self.highest_seq
            && self.token_counter > 1;
        let single = self.cfg.members.len() == 1;
        let new_aru = previous_aru.min(token.header.aru);
        self.token_counter = if self.highest_seq == new_aru {
            self.token_counter + 1
        } else {
            0
        };
        self.aru = self.aru.max(new_aru);
        self.token_rounds += 1;
        self.token_deadline = now + self.cfg.token_timeout_us;
        if self.is_leader() {
            self.hurry_deadline = Some(now + self.cfg.hurry_timeout_us);
        }
        if single {
            // A ring of one: the token never leaves; everything sent is
            // received everywhere at once.
            self.aru = self.highest_seq;
            self.my_aru = self.highest_seq;
            self.last_token = Some(token);
        } else if idle {
            self.holding = true;
            self.last_token = Some(token);
        } else {
            self.holding = false;
            let bytes = token.encode();
            self.sends.push_back(Send::Token {
                to: self.successor(),
                bytes,
            });
            self.last_token = Some(token);
        }
        self.send_held_back();
        self.deliver();
        self.discard();
    }

    /// Answers the requests for `ring` (this ring; in EVS the old one) as
    /// 5.0.1 does: every block of that ring is used up here. Each packet
    /// this daemon holds is resent, to the requester or, when several
    /// daemons asked, to all; a packet it lacks too makes its own request
    /// ask in the name of several (and of several segments if the asker is
    /// in another). Blocks of other rings travel on while `keep_others`
    /// (EVS: their members recover on this ring too); in OP no member can
    /// answer them, so they are dropped instead of growing the token.
    fn answer_requests(
        &mut self,
        token: &mut RegularToken,
        ring: MembId,
        keep_others: bool,
    ) -> Answered {
        let mut answered = Answered {
            resent: 0,
            proc_id: self.cfg.me,
            seg_index: self.cfg.seg_index,
        };
        for block in std::mem::take(&mut token.rtr) {
            if block.memb_id != ring {
                if keep_others {
                    token.rtr.push(block);
                }
                continue;
            }
            for &seq in &block.seqs {
                if seq <= self.last_discarded {
                    // Freed because every member had it: 5.0.1 exits on
                    // such a request; it is not worth a resend nor a loss.
                    continue;
                }
                let Some(stored) = self.store.get(&seq) else {
                    answered.proc_id = RtrBlock::SEVERAL_PROCS;
                    if block.seg_index != self.cfg.seg_index {
                        answered.seg_index = RtrBlock::SEVERAL_SEGS;
                    }
                    continue;
                };
                if block.proc_id == self.cfg.me {
                    // My own request, back after a round: what came since
                    // needs no resend.
                    continue;
                }
                let mut p = stored.packet.clone();
                p.header.transmiter_id = self.cfg.me;
                // Stored under the configuration it was first sent in; a
                // reload since then changed the hash every receiver checks.
                p.header.conf_hash = self.cfg.conf_hash;
                let bytes = p.encode();
                if block.proc_id == RtrBlock::SEVERAL_PROCS {
                    self.sends.push_back(Send::Broadcast(bytes));
                } else if self.cfg.members.contains(&block.proc_id) {
                    self.sends.push_back(Send::Unicast {
                        to: block.proc_id,
                        bytes,
                    });
                } else {
                    // Nobody of this ring: 5.0.1 cannot send there either.
                    continue;
                }
                answered.resent += 1;
                self.stats.retransmitted += 1;
            }
        }
        answered
    }

    /// The highest sequence number an honest member can have sent yet.
    /// Senders stop `MAX_SEQ_GAP` past the ring-wide aru they know, plus
    /// one visit's packets; theirs is at most a round (as much again) ahead
    /// of this daemon's. Anything further is refused: a daemon must not
    /// hold, nor ask for, what no one can have sent.
    fn furthest_possible(&self) -> i32 {
        let round = self
            .cfg
            .window
            .max(0)
            .saturating_add(self.cfg.personal_window.max(0));
        let gap = MAX_SEQ_GAP.saturating_add(round).saturating_mul(2);
        self.aru.saturating_add(gap).min(MAX_SEQ)
    }

    /// Counts visits on which this daemon lacked packets and got none; a
    /// ring stuck so for `MAX_STUCK_VISITS` is lost (a new membership
    /// settles which packets exist).
    fn note_progress(&mut self, aru_before: i32) {
        if self.my_aru < self.highest_seq && self.my_aru == aru_before {
            self.stuck_visits += 1;
            if self.stuck_visits > MAX_STUCK_VISITS {
                self.stuck_visits = 0;
                self.stats.stuck += 1;
                self.token_lost = true;
            }
        } else {
            self.stuck_visits = 0;
        }
    }

    /// Counts visits on which the token's ring-wide aru stayed below its
    /// seq without rising: some member keeps lacking packets it never
    /// gets (asks for what nobody has, or cannot take what it is sent). A
    /// ring stalled so for `MAX_STUCK_VISITS` is lost, as one stuck at
    /// this daemon is: the new membership settles which packets exist,
    /// instead of the ring obeying such a member forever.
    fn note_ring_progress(&mut self, aru: i32, seq: i32) {
        let stalled = self.last_token.is_some()
            && self.just_installed.is_none()
            && aru < seq
            && aru <= self.last_arrival_aru;
        self.last_arrival_aru = aru;
        if !stalled {
            self.stalled_visits = 0;
            return;
        }
        self.stalled_visits += 1;
        if self.stalled_visits > MAX_STUCK_VISITS {
            self.stalled_visits = 0;
            self.stats.stuck += 1;
            self.token_lost = true;
        }
    }

    /// How many new packets flow control allows on this visit.
    fn allowed(&self, token_fc: i32) -> i32 {
        if self.highest_seq > self.aru + MAX_SEQ_GAP {
            return 0;
        }
        self.cfg
            .window
            .saturating_add(self.cfg.personal_window)
            .saturating_sub(token_fc)
            .clamp(0, self.cfg.window.min(self.cfg.personal_window).max(0))
    }

    fn send_new_packets(&mut self, token_fc: i32) -> i32 {
        let allowed = if self.cfg.members.len() == 1 {
            i32::MAX
        } else {
            self.allowed(token_fc)
        };
        let mut sent = 0;
        let mut fresh = Vec::new();
        let limited_before = self.fc_limited;
        while sent < allowed {
            let mut template = DataHeader::new(0, self.cfg.me);
            template.transmiter_id = self.cfg.me;
            template.memb_id = self.cfg.memb_id.unwrap_or_default();
            template.seq = self.highest_seq + 1;
            template.token_round = self.token_rounds;
            template.conf_hash = self.cfg.conf_hash;
            let Some(packet) = self.packer.next_packet(&template) else {
                break;
            };
            self.highest_seq += 1;
            sent += 1;
            self.stats.packets_sent += 1;
            fresh.push(packet.header.seq);
            self.store.insert(
                packet.header.seq,
                Stored {
                    packet,
                    delivered: false,
                },
            );
        }
        if self.cfg.members.len() > 1 {
            // Accelerated Ring: the newest packets of the visit go out only
            // after the token, one token round later.
            let held = self
                .cfg
                .accelerated_window
                .map_or(0, |w| w.max(0) as usize)
                .min(fresh.len());
            let (now, later) = fresh.split_at(fresh.len() - held);
            for seq in now {
                let bytes = self.store[seq].packet.encode();
                self.sends.push_back(Send::Broadcast(bytes));
            }
            self.held_back = later.to_vec();
        }
        // Said when it starts and stops holding packets back, not per visit.
        self.fc_limited = !self.packer.is_empty();
        if self.fc_limited != limited_before {
            if self.fc_limited {
                debug!(target: "spread::flow_control", "holding packets back: {sent} sent on this visit (Window {}, PersonalWindow {}, {token_fc} on the token; {} past the ring's aru {})", self.cfg.window, self.cfg.personal_window, self.highest_seq - self.aru, self.aru);
            } else {
                debug!(target: "spread::flow_control", "every waiting packet has gone out");
            }
        }
        sent
    }

    /// Sends the packets held back until the token left.
    fn send_held_back(&mut self) {
        for seq in std::mem::take(&mut self.held_back) {
            if let Some(stored) = self.store.get_mut(&seq) {
                stored.packet.header.token_round = self.token_rounds;
                let bytes = stored.packet.encode();
                self.sends.push_back(Send::Broadcast(bytes));
            }
        }
    }

    fn advance_my_aru(&mut self) {
        while self.store.contains_key(&(self.my_aru + 1))
            || self.my_aru < self.last_discarded
            || self
                .recovery
                .as_ref()
                .is_some_and(|r| r.is_placeholder(self.my_aru + 1))
        {
            self.my_aru += 1;
        }
    }

    /// This daemon's retransmission request: what it misses up to the
    /// highest sequence number it knows.
    fn my_request(&self, answered: &Answered) -> Option<RtrBlock> {
        // With the accelerated ring, packets after the token I sent last
        // may still be on their way: ask only for what came before it.
        let limit = match (self.cfg.accelerated_window, &self.last_token) {
            (Some(_), Some(last)) => last.header.seq.min(self.highest_seq),
            _ => self.highest_seq,
        };
        if self.my_aru >= limit {
            return None;
        }
        let seqs: Vec<i32> = (self.my_aru + 1..=limit)
            .filter(|s| !self.store.contains_key(s))
            .take(MAX_RTR_SEQS)
            .collect();
        (!seqs.is_empty()).then_some(RtrBlock {
            memb_id: self.cfg.memb_id?,
            proc_id: answered.proc_id,
            seg_index: answered.seg_index,
            seqs,
        })
    }

    /// A data packet of this ring from another daemon.
    pub fn handle_data(&mut self, packet: DataPacket, now: u64) {
        if self.recovery.is_some() {
            self.recovery_data(packet, now);
            return;
        }
        let h = &packet.header;
        if Some(h.memb_id) != self.cfg.memb_id
            || h.conf_hash != self.cfg.conf_hash
            || !self.cfg.members.contains(&h.proc_id)
        {
            self.stats.dropped += 1;
            return;
        }
        self.token_deadline = now + self.cfg.token_timeout_us;
        if self.is_leader() && self.hurry_deadline.is_some() {
            self.hurry_deadline = Some(now + self.cfg.hurry_timeout_us);
        }
        let seq = h.seq;
        if seq > self.furthest_possible() {
            self.stats.refused_ahead += 1;
            return;
        }
        if seq <= self.last_discarded || self.store.contains_key(&seq) {
            return;
        }
        self.stats.packets_received += 1;
        self.highest_seq = self.highest_seq.max(seq);
        self.store.insert(
            seq,
            Stored {
                packet,
                delivered: false,
            },
        );
        if seq == self.my_aru + 1 {
            self.advance_my_aru();
            self.deliver();
        }
    }

    /// Delivers, in sequence order, every packet up to `my_aru`, stopping at
    /// a SAFE packet the ring-wide aru does not cover yet.
    fn deliver(&mut self) {
        while self.last_delivered < self.my_aru {
            let seq = self.last_delivered + 1;
            let Some(stored) = self.store.get_mut(&seq) else {
                break;
            };
            if stored.packet.header.ty & SAFE_TYPE != 0 && seq > self.aru {
                break;
            }
            stored.delivered = true;
            self.last_delivered = seq;
            // Borrow the stored packet (it stays for retransmissions) while
            // the other fields take its messages.
            let packet = &stored.packet;
            deliver_packet(
                packet,
                &mut self.reassembly,
                &mut self.deliveries,
                &mut self.stats,
            );
        }
    }

    /// Frees what every daemon has and this one delivered.
    fn discard(&mut self) {
        let upto = self.aru.min(self.last_delivered);
        while self.last_discarded < upto {
            self.last_discarded += 1;
            self.store.remove(&self.last_discarded);
        }
    }

    /// Tokens processed since the ring formed.
    pub fn token_rounds(&self) -> i32 {
        self.token_rounds
    }

    /// (highest_seq, my_aru, aru, last_delivered) for status and tests.
    pub fn sequence_state(&self) -> (i32, i32, i32, i32) {
        (self.highest_seq, self.my_aru, self.aru, self.last_delivered)
    }
}

/// Reassembles the messages of a packet in sequence and queues them.
fn deliver_packet(
    packet: &DataPacket,
    reassembly: &mut Reassembly,
    deliveries: &mut VecDeque<Delivery>,
    stats: &mut RingStats,
) {
    let origin = packet.header.proc_id;
    let service = packet.header.ty & (RELIABLE_TYPE | FIFO_TYPE | AGREED_TYPE | SAFE_TYPE);
    for fragment in packet.fragments() {
        let Ok(fragment) = fragment else {
            stats.dropped += 1;
            return;
        };
        match reassembly.add(origin, fragment.header, fragment.bytes) {
            Ok(Some(message)) => {
                stats.delivered += 1;
                deliveries.push_back(Delivery::Message(Delivered {
                    origin,
                    service,
                    message: Bytes::from(message),
                }));
            }
            Ok(None) => {}
            Err(_) => stats.dropped += 1,
        }
    }
}
