//! What keeps clients from exhausting a real daemon (issue 12, item 8):
//! handshakes have their own pool, queued output is bounded in bytes for
//! each session and for the daemon, a session's groups are capped, and
//! repeated log lines are summarised.

use spread_core::consts::*;
use spread_core::wire::Message;
use spread_testkit::{request, Raw, TestDaemon};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

/// `raw` after a handshake as `name`, and its private group.
fn client(mut raw: Raw, name: &str) -> (Raw, String) {
    raw.handshake(name, true);
    (raw, format!("#{name}#localhost"))
}

fn expect_data(c: &mut Raw) -> spread_core::wire::DataMessage {
    match c.message() {
        Message::Data(d) => d,
        other => panic!("expected data, got {other:?}"),
    }
}

#[test]
fn silent_connections_take_no_session_slots() {
    let d = TestDaemon::start("MaxSessions = 100");
    // Twice as many connections as sessions, none saying a word.
    let silent: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(("127.0.0.1", d.port)).unwrap())
        .collect();
    // Another host, and the Unix socket, still get in and talk.
    let (mut a, pa) = client(Raw::tcp_from(Ipv4Addr::new(127, 0, 0, 2), d.port), "a");
    let (mut b, pb) = client(Raw::unix(&d.unix_path()), "b");
    a.send(&request(AGREED_MESS, &pa, &[&pb], 1, b"hello"));
    assert_eq!(expect_data(&mut b).data, b"hello");
    b.send(&request(AGREED_MESS, &pb, &[&pa], 2, b"hi"));
    assert_eq!(expect_data(&mut a).data, b"hi");
    drop(silent);
}

#[test]
fn a_burst_of_slow_handshakes_from_one_host_all_get_in() {
    // More handshakes at once from one address than it may run at once:
    // the rest wait their turn instead of being turned away.
    let d = TestDaemon::start("");
    let n = 40;
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let port = d.port;
    let clients: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut c = Raw::tcp(port);
                c.s.set_timeout(Duration::from_secs(30));
                let name = format!("burst{i}");
                let mut hello = vec![5, 0, 1, 1, name.len() as u8];
                hello.extend_from_slice(name.as_bytes());
                c.send(&hello);
                let mut list = [0u8; 6];
                c.s.read_exact(&mut list).expect("auth list");
                assert_eq!(&list, b"\x05NULL ", "{name}");
                // Hold the handshake open a while, as a slow client would.
                std::thread::sleep(Duration::from_millis(200));
                let mut choice = [0u8; 90];
                choice[..4].copy_from_slice(b"NULL");
                c.s.write_all(&choice).unwrap();
                let mut head = [0u8; 5];
                c.s.read_exact(&mut head).expect("accept");
                assert_eq!(head[0], 1, "{name} accepted");
                c
            })
        })
        .collect();
    let held: Vec<Raw> = clients.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(held.len(), n);
}
