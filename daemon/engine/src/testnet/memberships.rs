//! Whole membership engines (SEG to OP and on) on the simulated network,
//! with every datagram they send kept: for tests of what goes on the wire
//! while rings form, and of how a daemon copes with a peer that misbehaves
//! (a `tamper` hook may rewrite what one daemon sends, as a peer of another
//! implementation would send it).

use super::net::{Datagram, Faults, Net, Port};
use super::wiring::decode;
use crate::membership::{Daemon, Membership, MembershipConfig, State, Timeouts};
use crate::order::{Delivery, Send};

/// One datagram a daemon sent, and the state it was in before the event
/// that made it send.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: u64,
    pub from: usize,
    pub to: usize,
    pub state: State,
    pub port: Port,
    pub bytes: Vec<u8>,
}

/// Rewrites (or, returning false, drops) a datagram daemon `from` sends.
pub type Tamper = Box<dyn FnMut(&mut Datagram) -> bool>;

pub struct Memberships {
    pub ids: Vec<u32>,
    pub daemons: Vec<Membership>,
    pub net: Net,
    pub now: u64,
    pub sent: Vec<Sent>,
    pub deliveries: Vec<Vec<Delivery>>,
    pub tamper: Option<Tamper>,
}

impl Memberships {
    /// Daemons `ids` of one segment, configured with `conf_hash`, all
    /// started at time 0 (wall clock `epoch_secs`).
    pub fn new(ids: &[u32], conf_hash: u32, faults: Faults, seed: u64) -> Memberships {
        let daemons: Vec<Daemon> = ids.iter().map(|&id| Daemon { id, segment: 0 }).collect();
        Memberships::configured(daemons, conf_hash, faults, seed)
    }

    /// Daemons as configured (in configuration order, with segments).
    pub fn configured(
        daemons: Vec<Daemon>,
        conf_hash: u32,
        faults: Faults,
        seed: u64,
    ) -> Memberships {
        let ids: Vec<u32> = daemons.iter().map(|d| d.id).collect();
        let ids = &ids[..];
        let nodes = ids
            .iter()
            .map(|&me| {
                Membership::new(
                    MembershipConfig {
                        me,
                        daemons: daemons.clone(),
                        conf_hash,
                        window: 160,
                        personal_window: 20,
                        accelerated_window: None,
                        max_message_len: crate::packet::MAX_MESSAGE_LEN,
                        packet_body: crate::packet::MAX_BODY_LEN,
                        timeouts: Timeouts::LAN,
                        epoch_secs: 1_700_000_000,
                    },
                    0,
                )
            })
            .collect();
        let mut m = Memberships {
            ids: ids.to_vec(),
            daemons: nodes,
            net: Net::new(ids.len(), faults, seed),
            now: 0,
            sent: Vec::new(),
            deliveries: vec![Vec::new(); ids.len()],
            tamper: None,
        };
        for i in 0..ids.len() {
            m.flush(i, State::Seg);
        }
        m
    }

    fn flush(&mut self, i: usize, state: State) {
        let n = self.ids.len();
        while let Some(send) = self.daemons[i].poll_send() {
            let (targets, port, bytes) = match send {
                Send::Broadcast(b) => ((0..n).filter(|&j| j != i).collect(), Port::Data, b),
                Send::Unicast { to, bytes } => (self.index_of(to), Port::Data, bytes),
                Send::Token { to, bytes } => (self.index_of(to), Port::Token, bytes),
            };
            for to in targets {
                let mut d = Datagram {
                    from: i,
                    to,
                    port,
                    bytes: bytes.clone(),
                };
                if let Some(tamper) = self.tamper.as_mut() {
                    if !tamper(&mut d) {
                        continue;
                    }
                }
                self.sent.push(Sent {
                    at: self.now,
                    from: i,
                    to,
                    state,
                    port,
                    bytes: d.bytes.clone(),
                });
                self.net.send(self.now, d);
            }
        }
        while let Some(d) = self.daemons[i].poll_delivery() {
            self.deliveries[i].push(d);
        }
    }

    /// The node of daemon `id` (none for an id not configured).
    fn index_of(&self, id: u32) -> Vec<usize> {
        self.ids.iter().position(|&x| x == id).into_iter().collect()
    }

    /// Runs until `until` in virtual time.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next = self.net.next_arrival().unwrap_or(u64::MAX).min(
                self.daemons
                    .iter()
                    .map(|d| d.poll_timeout())
                    .min()
                    .unwrap_or(u64::MAX),
            );
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            while let Some(d) = self.net.pop_due(self.now) {
                let state = self.daemons[d.to].state();
                let packet = decode(&d);
                self.daemons[d.to].handle_packet(packet, self.now);
                self.flush(d.to, state);
            }
            for i in 0..self.daemons.len() {
                if self.daemons[i].poll_timeout() <= self.now {
                    let state = self.daemons[i].state();
                    self.daemons[i].handle_timeout(self.now);
                    self.flush(i, state);
                }
            }
        }
    }

    /// Every daemon is in OP on one ring of all of them.
    pub fn one_ring(&self) -> bool {
        let id = self.daemons[0].memb_id();
        self.daemons.iter().all(|d| {
            d.state() == State::Op
                && d.memb_id() == id
                && d.ring().members().len() == self.ids.len()
        })
    }
}
