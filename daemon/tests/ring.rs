//! Several real daemons in one ring over UDP on loopback, with real clients
//! on each; what the clients saw is checked against EVS.

mod scenarios;

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
