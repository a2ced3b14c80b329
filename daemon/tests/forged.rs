//! A real ring under forged datagrams: what an attacker on the same host
//! can build from spread.conf and the daemons' log (the ring's id) must not
//! stop the ring, grow a daemon without bound or speak for a client.

mod scenarios;

use bytes::Bytes;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::ByteOrder;
use spread_core::GroupName;
use spread_daemon::config::Config;
use spread_daemon::packet::{DataHeader, MembId, OutMessage, Packer, AGREED_TYPE};
use spread_testkit::TestRing;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

/// Sends what the attacker builds to ring daemons, from the address of
/// daemon `as_daemon` (any 127/8 address is ours on loopback).
struct Forger {
    socket: UdpSocket,
    conf_hash: u32,
    ids: Vec<u32>,
    memb_id: MembId,
    as_daemon: usize,
}

impl Forger {
    fn new(ring: &TestRing, as_daemon: usize) -> Forger {
        let conf = Config::load(&ring.dir.join("d1").join("spread.conf")).unwrap();
        Forger {
            socket: UdpSocket::bind((ring.ip(as_daemon).as_str(), 0)).unwrap(),
            conf_hash: conf.hash(),
            ids: conf.daemons().map(|d| d.id).collect(),
            memb_id: current_ring(ring),
            as_daemon,
        }
    }

    /// A data packet of the current ring from the forged daemon, numbered
    /// `seq`, carrying `message`.
    fn data(&self, seq: i32, message: Vec<u8>) -> Vec<u8> {
        let me = self.ids[self.as_daemon - 1];
        let mut packer = Packer::new();
        packer
            .push(OutMessage {
                service: AGREED_TYPE,
                bytes: Bytes::from(message),
            })
            .unwrap();
        let mut h = DataHeader::new(0, me);
        h.transmiter_id = me;
        h.memb_id = self.memb_id;
        h.seq = seq;
        h.conf_hash = self.conf_hash;
        packer.next_packet(&h).unwrap().encode()
    }

    fn send(&self, ring: &TestRing, to: usize, bytes: &[u8]) {
        self.socket
            .send_to(bytes, (ring.ip(to).as_str(), ring.port))
            .unwrap();
    }
}

/// The ring's id as the daemons' log says it.
fn current_ring(ring: &TestRing) -> MembId {
    let log = ring.log(1);
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("membership ("))
        .expect("a membership in the log");
    let inner = line.split("membership (").nth(1).unwrap();
    let (proc_id, rest) = inner.split_once(", ").unwrap();
    let time = rest.split_once(')').unwrap().0;
    MembId::new(proc_id.parse().unwrap(), time.parse().unwrap())
}

/// A message of `sender` to `group`. Forgeries posing as one of d2's own
/// clients go to `h`, which no client joins: without keys on the links they
/// cannot be told from d2's.
fn message_to(group: &str, sender: &str, body: &[u8]) -> Vec<u8> {
    let mut m = request_head(
        AGREED_MESS,
        &GroupName::from(sender),
        &[GroupName::from(group)],
        0,
        body.len(),
        ByteOrder::NATIVE,
    );
    m.extend_from_slice(body);
    m
}

/// Three daemons in one ring.
fn formed_ring() -> TestRing {
    let ring = TestRing::start(3, "", &[]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ring.log(1).contains("of 3 daemons") {
        assert!(Instant::now() < deadline, "no ring: {}", ring.log(1));
        std::thread::sleep(Duration::from_millis(50));
    }
    ring
}

/// The daemon's resident memory in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Data far ahead of the ring (one packet, or many) is refused: the ring
/// goes on delivering and no daemon grows.
#[test]
fn data_far_ahead_of_the_ring_is_refused() {
    let ring = formed_ring();
    let forger = Forger::new(&ring, 2);
    let before: Vec<u64> = (1..=3).map(|i| rss_kib(ring.pid(i))).collect();
    for to in [1, 3] {
        forger.send(
            &ring,
            to,
            &forger.data(1_000_000, message_to("h", "#x#d2", b"x")),
        );
    }
    for seq in 0..150_000 {
        let to = [1, 3][seq % 2];
        forger.send(
            &ring,
            to,
            &forger.data(2_000 + seq as i32 * 7, message_to("h", "#x#d2", b"x")),
        );
    }
    scenarios::check_ring(&ring, 3, 20);
    for i in 1..=3 {
        let grown = rss_kib(ring.pid(i)).saturating_sub(before[i - 1]);
        assert!(grown < 32 * 1024, "d{i} grew by {grown} KiB");
    }
}

/// Data a little ahead of the ring (within what a member could have sent)
/// leaves packets that nobody has: the ring gives up on them, forms a new
/// membership and goes on, instead of spinning.
#[test]
fn a_sequence_nobody_can_complete_ends_in_a_new_membership() {
    let ring = formed_ring();
    let forger = Forger::new(&ring, 2);
    for to in [1, 3] {
        forger.send(&ring, to, &forger.data(400, message_to("h", "#x#d2", b"x")));
    }
    scenarios::check_ring(&ring, 3, 20);
    let said = (1..=3).any(|i| ring.log(i).contains("lacks packets that no daemon has"));
    assert!(said, "{}", ring.log(1));
}

/// Ordered messages that name a client of another daemon than the one they
/// come from are dropped: a forged message "from" a client of d1 and a
/// forged KILL of it, both sent as d2's, reach nobody and end nothing.
#[test]
fn a_daemon_speaks_only_for_its_own_clients() {
    use spread_core::client::Mailbox;
    use spread_core::wire::Message;
    let ring = formed_ring();
    let (a, _) = scenarios::member_of_g(&ring.tcp_name(1), "a");
    let (b, _) = scenarios::member_of_g(&ring.tcp_name(3), "b");
    let full = |m: &Mailbox| loop {
        if let Message::Membership(v) = m.receive().unwrap() {
            if v.members.len() == 2 {
                return;
            }
        }
    };
    full(&a);
    full(&b);
    let forger = Forger::new(&ring, 2);
    let kill = request_head(
        KILL_MESS | SAFE_MESS,
        &GroupName::from("#a#d1"),
        &[],
        0,
        0,
        ByteOrder::NATIVE,
    );
    // Numbered above anything honest here (a forgery that takes an honest
    // packet's number is a fork no check can see without keys): they reach
    // the group layer when the ring, lacking what comes before them, forms
    // a new membership and delivers them after the hole.
    let injected = message_to("g", "#a#d1", b"injected");
    for (seq, forged) in [(300, &kill), (301, &injected)] {
        for to in [1, 3] {
            forger.send(&ring, to, &forger.data(seq, forged.clone()));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let said = |ring: &TestRing| {
        (1..=3).any(|i| {
            ring.log(i)
                .contains("not a client of the daemon that sent them")
        })
    };
    while !said(&ring) {
        assert!(Instant::now() < deadline, "{}", ring.log(1));
        std::thread::sleep(Duration::from_millis(50));
    }
    a.multicast(AGREED_MESS, "g", 0, b"after").unwrap();
    for m in [&a, &b] {
        match m.receive_timeout(Duration::from_secs(20)).unwrap() {
            Some(Message::Data(d)) => assert_eq!(d.data, b"after"),
            other => panic!("{other:?}"),
        }
    }
}
