//! Several real daemons in one ring over UDP on loopback, with real clients
//! on each; what the clients saw is checked against EVS.

mod scenarios;

#[allow(unused_imports)]
use scenarios::check_ring;
use scenarios::{client, run};
use spread_daemon::sim::checker::{check, ClientLog};
use spread_testkit::TestRing;

#[test]
fn three_daemons_give_every_client_one_order() {
    run(3, 300, &[]);
}

#[test]
fn five_daemons_give_every_client_one_order() {
    run(5, 100, &[]);
}

#[test]
fn lost_packets_are_recovered() {
    run(3, 300, &[("SPREAD_TEST_DROP", "0.05")]);
}

#[test]
fn accelerated_ring_gives_every_client_one_order() {
    let ring = TestRing::start(3, "AcceleratedRing = true", &[("SPREAD_TEST_DROP", "0.02")]);
    let handles: Vec<_> = (1..=3)
        .map(|i| {
            let daemon = ring.tcp_name(i);
            std::thread::spawn(move || client(daemon, format!("a{i}"), 3, 300))
        })
        .collect();
    let logs: Vec<ClientLog> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    if let Err(v) = check(&logs) {
        panic!("EVS violation: {v}");
    }
}

/// Membership messages across daemons are those 5.0.1 sends: members in
/// configuration order of their daemons (then by name), one group id at
/// every daemon, the changed member in the vs-set.
#[test]
fn views_across_daemons_are_ordered_by_daemon_then_name() {
    use spread_core::client::Mailbox;
    use spread_core::consts::*;
    use spread_core::wire::{MembershipMessage, Message};
    use std::time::Duration;

    fn view(m: &Mailbox) -> MembershipMessage {
        loop {
            match m
                .receive_timeout(Duration::from_secs(10))
                .unwrap()
                .expect("a view")
            {
                Message::Membership(v) => return v,
                Message::Data(_) => {}
                other => panic!("{other:?}"),
            }
        }
    }

    let ring = TestRing::start(3, "", &[]);
    // Join in an order unlike the configuration's: d3, then d1, then d2.
    let z3 = Mailbox::connect(&ring.tcp_name(3), Some("a"), 0, true).unwrap();
    z3.join("g").unwrap();
    assert_eq!(view(&z3).members.len(), 1);
    let y1 = Mailbox::connect(&ring.tcp_name(1), Some("z"), 0, true).unwrap();
    y1.join("g").unwrap();
    view(&z3);
    view(&y1);
    let x2 = Mailbox::connect(&ring.tcp_name(2), Some("m"), 0, true).unwrap();
    x2.join("g").unwrap();
    let views = [view(&z3), view(&y1), view(&x2)];
    let names: Vec<String> = views[0].members.iter().map(|m| m.to_string()).collect();
    assert_eq!(names, ["#z#d1", "#m#d2", "#a#d3"]);
    for v in &views {
        assert_eq!(v.members, views[0].members);
        assert_eq!(v.group_id, views[0].group_id);
        assert_eq!(v.group_id.index, 3);
        assert_eq!(v.cause(), CAUSED_BY_JOIN);
        assert_eq!(v.changed_member().unwrap().to_string(), "#m#d2");
    }
    // A disconnect at d2 is seen at d1 and d3 with the same next id.
    x2.disconnect().unwrap();
    let (a, b) = (view(&z3), view(&y1));
    assert_eq!(
        (a.cause(), b.cause()),
        (CAUSED_BY_DISCONNECT, CAUSED_BY_DISCONNECT)
    );
    assert_eq!(a.group_id, b.group_id);
    assert_eq!(a.group_id.index, 4);
    assert_eq!(a.changed_member().unwrap().to_string(), "#m#d2");
}

/// Garbage, truncated and foreign datagrams on a daemon's ports are dropped
/// and the ring goes on.
#[test]
fn garbage_on_the_daemon_ports_harms_nobody() {
    use std::net::UdpSocket;
    let ring = TestRing::start(3, "", &[]);
    let junk = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rng = spread_daemon::rng::Rng::new(0x9e37_79b9);
    for i in 0..2000 {
        let seed = rng.next_u64();
        let len = (seed % 200) as usize;
        let mut d: Vec<u8> = (0..len).map(|k| (seed >> (k % 56)) as u8).collect();
        if i % 3 == 0 && d.len() >= 4 {
            // A plausible little-endian header: marker set, data or token type.
            d[..4]
                .copy_from_slice(&(0x8000_0080u32 | [0x8, 0x0, 0x100][i % 3] as u32).to_le_bytes());
        }
        let port = ring.port + (i % 2) as u16;
        let _ = junk.send_to(&d, (ring.ip(1 + i % 3).as_str(), port));
    }
    // Everyone still gets everything, in one order.
    scenarios::check_ring(&ring, 3, 50);
    // And the daemons said what they dropped.
    for i in 1..=3 {
        assert!(
            ring.log(i).contains("datagrams (malformed"),
            "d{i}: {}",
            ring.log(i)
        );
    }
}

#[test]
fn the_largest_message_admitted_is_the_largest_a_ring_carries() {
    use spread_core::consts::*;
    use spread_core::wire::Message;
    use spread_testkit::{request, Raw};
    let ring = TestRing::start(3, "", &[]);
    let raw = |i: usize, name: &str| {
        let mut c = Raw::unix(&ring.dir.join(format!("d{i}")).join(ring.port.to_string()));
        c.handshake(name, true);
        c
    };
    let (mut a, mut b) = (raw(1, "a"), raw(3, "b"));
    let pa = "#a#d1";
    a.send(&request(JOIN_MESS, pa, &["g"], 0, b""));
    b.send(&request(JOIN_MESS, "#b#d3", &["g"], 0, b""));
    for c in [&mut a, &mut b] {
        while !matches!(c.message(), Message::Membership(m) if m.members.len() == 2) {}
    }
    // The largest that is admitted crosses the ring to the other daemon.
    let largest = vec![5u8; MAX_INTEROPERABLE_PAYLOAD - MAX_GROUP_NAME];
    a.send(&request(AGREED_MESS, pa, &["g"], 1, &largest));
    match b.message() {
        Message::Data(d) => assert_eq!(d.data.len(), largest.len()),
        other => panic!("{other:?}"),
    }
    assert!(matches!(a.message(), Message::Data(_)));
    // One byte more is refused to its sender, not dropped on the ring.
    for extra in [1, 800] {
        let over = vec![5u8; largest.len() + extra];
        a.send(&request(AGREED_MESS, pa, &["g"], 2, &over));
        assert!(matches!(a.message(), Message::Reject(r) if r.mess_type == 2));
    }
    a.send(&request(AGREED_MESS, pa, &["g"], 3, b"after"));
    match b.message() {
        Message::Data(d) => assert_eq!(d.data, b"after"),
        other => panic!("{other:?}"),
    }
}
