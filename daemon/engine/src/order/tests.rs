//! Rings of engines on the simulated network.

use super::*;
use crate::rng::Rng;
use crate::testnet::net::{Faults, Net};
use crate::testnet::wiring::{feed, next_event, route};

pub const IDS: [u32; 5] = [1001, 1002, 1003, 1004, 1005];

pub fn config_with(n: usize, me: usize, accelerated_window: Option<i32>) -> RingConfig {
    RingConfig {
        me: IDS[me],
        seg_index: 0,
        members: IDS[..n].to_vec(),
        memb_id: (me == 0).then_some(MembId::new(IDS[0], 7)),
        conf_hash: 42,
        window: 160,
        personal_window: 20,
        accelerated_window,
        hurry_timeout_us: 500_000,
        token_timeout_us: 1_250_000,
        max_message_len: crate::packet::MAX_MESSAGE_LEN,
        packet_body: crate::packet::MAX_BODY_LEN,
    }
}

/// A client message as the sessions hand it over: `sender` and counter.
fn message(origin: usize, counter: u32, len: usize) -> Bytes {
    let mut v = vec![(origin as u8) ^ 0x5a; len.max(8)];
    v[..4].copy_from_slice(&(origin as u32).to_le_bytes());
    v[4..8].copy_from_slice(&counter.to_le_bytes());
    Bytes::from(v)
}

fn index_of(id: u32) -> usize {
    IDS.iter().position(|&x| x == id).expect("a test daemon id")
}

pub struct World {
    pub rings: Vec<Ring>,
    pub net: Net,
    pub now: u64,
    pub delivered: Vec<Vec<Delivered>>,
}

impl World {
    pub fn new(n: usize, faults: Faults, seed: u64) -> World {
        World::accelerated(n, faults, seed, None)
    }

    pub fn accelerated(n: usize, faults: Faults, seed: u64, window: Option<i32>) -> World {
        let rings = (0..n)
            .map(|i| Ring::new(config_with(n, i, window), 0))
            .collect();
        World {
            rings,
            net: Net::new(n, faults, seed),
            now: 0,
            delivered: vec![Vec::new(); n],
        }
    }

    fn flush(&mut self, i: usize) {
        let n = self.rings.len();
        while let Some(send) = self.rings[i].poll_send() {
            route(&mut self.net, self.now, i, n, send, index_of);
        }
        while let Some(d) = self.rings[i].poll_delivery() {
            if let Delivery::Message(d) = d {
                self.delivered[i].push(d);
            }
        }
    }

    pub fn submit(&mut self, i: usize, message: Bytes, service: u32) {
        self.rings[i].submit(message, service, self.now).unwrap();
        self.flush(i);
    }

    /// Runs until `until` in virtual time.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next = next_event(&self.net, self.rings.iter().map(|r| r.poll_timeout()));
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            while let Some(d) = self.net.pop_due(self.now) {
                feed(&mut self.rings[d.to], &d, self.now);
                self.flush(d.to);
            }
            for i in 0..self.rings.len() {
                if self.rings[i].poll_timeout() <= self.now {
                    self.rings[i].handle_timeout(self.now);
                    self.flush(i);
                }
            }
        }
    }
}

/// Every daemon delivered the same messages in the same order, each sent
/// message exactly once.
fn assert_agreed(w: &World, sent: usize) {
    let first: Vec<&Bytes> = w.delivered[0].iter().map(|d| &d.message).collect();
    assert_eq!(
        first.len(),
        sent,
        "daemon 0 delivered {} of {sent}",
        first.len()
    );
    for (i, d) in w.delivered.iter().enumerate() {
        let mine: Vec<&Bytes> = d.iter().map(|d| &d.message).collect();
        assert_eq!(mine, first, "daemon {i} differs from daemon 0");
    }
}

#[test]
fn three_daemons_agree_on_one_order() {
    let mut w = World::new(3, Faults::NONE, 1);
    let mut sent = 0;
    for round in 0..50u32 {
        for i in 0..3 {
            w.submit(i, message(i, round, 100), AGREED_TYPE);
            sent += 1;
        }
        w.run_until(w.now + 300);
    }
    w.run_until(w.now + 2_000_000);
    assert_agreed(&w, sent);
    // Per-origin FIFO.
    for i in 0..3u32 {
        let counters: Vec<u32> = w.delivered[0]
            .iter()
            .filter(|d| d.message[..4] == i.to_le_bytes())
            .map(|d| u32::from_le_bytes(d.message[4..8].try_into().unwrap()))
            .collect();
        assert_eq!(counters, (0..50).collect::<Vec<_>>());
    }
}

#[test]
fn large_messages_are_fragmented_and_reassembled() {
    let mut w = World::new(3, Faults::NONE, 2);
    w.submit(1, message(1, 0, 5000), SAFE_TYPE);
    w.submit(2, message(2, 0, 100_000), AGREED_TYPE);
    w.submit(0, message(0, 0, 10), RELIABLE_TYPE);
    w.run_until(3_000_000);
    assert_agreed(&w, 3);
    assert!(w.delivered[0].iter().any(|d| d.message.len() == 100_000));
}

#[test]
fn safe_waits_until_everyone_has_it() {
    let mut w = World::new(3, Faults::NONE, 3);
    w.submit(0, message(0, 0, 50), SAFE_TYPE);
    // Right after the sender's visit nobody may deliver it yet.
    w.run_until(w.now + 60);
    assert!(
        w.delivered.iter().all(|d| d.is_empty()),
        "SAFE delivered before the aru covered it"
    );
    w.run_until(2_000_000);
    assert_agreed(&w, 1);
}

#[test]
fn a_ring_of_one_orders_at_once() {
    let mut w = World::new(1, Faults::NONE, 4);
    for c in 0..10 {
        w.submit(0, message(0, c, 10), AGREED_TYPE);
    }
    assert_eq!(w.delivered[0].len(), 10);
}

/// Returns (datagrams lost, packets retransmitted).
fn lossy_run(seed: u64, n: usize) -> (u64, u64) {
    let faults = Faults {
        loss: 0.05,
        duplicate: 0.02,
        min_delay_us: 10,
        max_delay_us: 200,
    };
    // Odd seeds run the Accelerated Ring.
    let mut w = World::accelerated(n, faults, seed, (seed % 2 == 1).then_some(15));
    let mut rng = Rng::new(seed);
    let mut sent = 0;
    for c in 0..60u32 {
        let i = rng.below(n as u64) as usize;
        let service = [RELIABLE_TYPE, FIFO_TYPE, AGREED_TYPE, SAFE_TYPE][rng.below(4) as usize];
        let len = [10, 500, 1500, 4000][rng.below(4) as usize];
        w.submit(i, message(i, c, len), service);
        sent += 1;
        w.run_until(w.now + rng.between(0, 3_000));
    }
    // Loss stops once sending is over, so the ring can finish.
    w.net.set_faults(Faults::NONE);
    w.run_until(w.now + 10_000_000);
    assert_agreed(&w, sent);
    (
        w.net.lost,
        w.rings.iter().map(|r| r.stats.retransmitted).sum(),
    )
}

#[test]
fn lossy_reordering_networks_agree() {
    let (mut lost, mut resent) = (0, 0);
    for seed in 0..2000 {
        let n = 2 + (seed % 4) as usize;
        let r = std::panic::catch_unwind(|| lossy_run(seed, n));
        let (l, r) =
            r.unwrap_or_else(|_| panic!("seed {seed} failed: replay with lossy_run({seed}, {n})"));
        lost += l;
        resent += r;
    }
    assert!(
        lost > 2000 && resent > 2000,
        "the schedules lost {lost} datagrams and resent {resent} packets"
    );
}

#[test]
fn accelerated_ring_sends_the_newest_packets_after_the_token() {
    let mut ring = Ring::new(config_with(3, 0, Some(15)), 0);
    while ring.poll_send().is_some() {}
    for c in 0..20 {
        ring.submit(message(0, c, 1200), AGREED_TYPE, 0).unwrap();
    }
    // Bring the token back around to the leader.
    let mut token = ring.last_token.clone().unwrap();
    token.header.transmiter_id = IDS[2];
    ring.handle_token(token, 10);
    let kinds: Vec<char> = std::iter::from_fn(|| ring.poll_send())
        .map(|s| match s {
            Send::Broadcast(_) => 'p',
            Send::Token { .. } => 'T',
            Send::Unicast { .. } => 'u',
        })
        .collect();
    assert_eq!(
        kinds.iter().collect::<String>(),
        format!("{}T{}", "p".repeat(5), "p".repeat(15))
    );
}

#[test]
fn hostile_packets_from_members_never_panic() {
    let mut rng = Rng::new(77);
    let mut ring = Ring::new(config_with(3, 1, None), 0);
    for i in 0..20_000u64 {
        let mut h = DataHeader::new(AGREED_TYPE, IDS[rng.below(3) as usize]);
        h.memb_id = MembId::new(IDS[0], 7);
        h.conf_hash = 42;
        h.seq = rng.next_u64() as i32;
        h.first_frag = crate::packet::FragHeader {
            index: rng.next_u64() as i16,
            len: rng.below(64) as i16,
        };
        let body = vec![0u8; rng.below(64) as usize];
        ring.handle_data(DataPacket { header: h, body }, i);
        let mut t = TokenHeader::new(crate::packet::with_arq(0, rng.below(16) as u8));
        t.transmiter_id = IDS[0];
        t.memb_id = MembId::new(IDS[0], 7);
        t.conf_hash = 42;
        t.seq = rng.next_u64() as i32;
        t.aru = rng.next_u64() as i32;
        t.flow_control = rng.next_u64() as i16;
        let seqs = (0..rng.below(5)).map(|_| rng.next_u64() as i32).collect();
        let rtr = vec![RtrBlock {
            memb_id: t.memb_id,
            proc_id: IDS[rng.below(3) as usize],
            seg_index: 0,
            seqs,
        }];
        ring.handle_token(RegularToken { header: t, rtr }, i);
        ring.handle_timeout(i * 1000);
        while ring.poll_send().is_some() {}
        while ring.poll_delivery().is_some() {}
    }
}

/// A token or data numbered beyond what any member can have sent leaves the
/// sequence state alone; within reach, it is taken.
#[test]
fn what_no_member_can_have_sent_is_refused() {
    let mut ring = Ring::new(config_with(3, 1, None), 0);
    let token = |seq: i32, aru: i32| {
        let mut t = TokenHeader::new(0);
        t.transmiter_id = IDS[0];
        t.memb_id = MembId::new(IDS[0], 7);
        t.conf_hash = 42;
        t.seq = seq;
        t.aru = aru;
        RegularToken {
            header: t,
            rtr: Vec::new(),
        }
    };
    let data = |seq: i32| {
        let mut h = DataHeader::new(AGREED_TYPE, IDS[0]);
        h.memb_id = MembId::new(IDS[0], 7);
        h.conf_hash = 42;
        h.seq = seq;
        DataPacket {
            header: h,
            body: Vec::new(),
        }
    };
    // The ring's first token names it here.
    ring.handle_token(token(0, 0), 1);
    let far = ring.furthest_possible() + 1;
    ring.handle_token(token(far, 0), 1);
    ring.handle_token(token(10, 11), 2);
    ring.handle_data(data(far), 3);
    ring.handle_data(data(1 << 29), 4);
    assert_eq!(ring.sequence_state(), (0, 0, 0, 0));
    assert_eq!(ring.stats.refused_ahead, 4);
    ring.handle_data(data(far - 1), 5);
    assert_eq!(ring.sequence_state().0, far - 1);
}

/// Windows as large as spread.conf allows (nine digits each): flow control
/// and the reach of what a member can have sent saturate instead of
/// overflowing, and packets in reach are still taken.
#[test]
fn the_reach_of_huge_windows_saturates() {
    let mut ring = Ring::new(config_with(3, 0, None), 0);
    ring.set_windows(Some(i32::MAX), Some(i32::MAX), None);
    assert_eq!(ring.furthest_possible(), MAX_SEQ);
    assert_eq!(ring.allowed(-5), i32::MAX);
    let mut h = DataHeader::new(AGREED_TYPE, IDS[1]);
    h.memb_id = MembId::new(IDS[0], 7);
    h.conf_hash = 42;
    h.seq = 10;
    ring.handle_data(
        DataPacket {
            header: h,
            body: Vec::new(),
        },
        1,
    );
    assert_eq!(ring.sequence_state().0, 10);
}

/// Window and PersonalWindow act: a daemon sends at most PersonalWindow new
/// packets on a token visit, and at most Window when that is smaller.
#[test]
fn window_and_personal_window_bound_what_a_visit_sends() {
    fn busiest_visit(window: i32, personal_window: i32) -> usize {
        let n = 3;
        let mut w = World::new(n, Faults::NONE, 1);
        w.rings = (0..n)
            .map(|i| {
                let mut c = config_with(n, i, None);
                c.window = window;
                c.personal_window = personal_window;
                Ring::new(c, 0)
            })
            .collect();
        for i in 0..n {
            for k in 0..60 {
                let m = message(i, k, 100);
                w.rings[i].submit(m, AGREED_TYPE, 0).unwrap();
            }
        }
        // Count each daemon's broadcasts between its token sends.
        let (mut run, mut most) = (vec![0usize; n], 0);
        let mut until = 0;
        while w.delivered[0].len() < 3 * 60 {
            until += 1_000;
            assert!(until < 10_000_000, "not all delivered");
            let next = next_event(&w.net, w.rings.iter().map(|r| r.poll_timeout())).min(until);
            w.now = next;
            while let Some(d) = w.net.pop_due(w.now) {
                feed(&mut w.rings[d.to], &d, w.now);
            }
            for (i, run) in run.iter_mut().enumerate() {
                if w.rings[i].poll_timeout() <= w.now {
                    w.rings[i].handle_timeout(w.now);
                }
                while let Some(send) = w.rings[i].poll_send() {
                    match &send {
                        Send::Broadcast(_) => *run += 1,
                        Send::Token { .. } => {
                            most = most.max(*run);
                            *run = 0;
                        }
                        Send::Unicast { .. } => {}
                    }
                    route(&mut w.net, w.now, i, n, send, index_of);
                }
                while let Some(d) = w.rings[i].poll_delivery() {
                    if let Delivery::Message(d) = d {
                        w.delivered[i].push(d);
                    }
                }
            }
        }
        most
    }
    assert!(busiest_visit(160, 3) <= 3);
    assert!(busiest_visit(2, 20) <= 2);
    assert!(
        busiest_visit(160, 20) > 3,
        "the defaults send more per visit"
    );
}
