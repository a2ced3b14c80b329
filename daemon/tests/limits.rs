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

#[test]
fn a_client_that_stops_reading_is_cut_off_by_bytes() {
    let d = TestDaemon::start("MaxSessionBytes = 2000000");
    let (mut f, pf) = client(d.raw(), "flood");
    // The Unix socket holds little in the kernel, so what the daemon
    // queues is nearly all that is sent.
    let (mut slow, ps) = client(Raw::unix(&d.unix_path()), "slow");
    let body = vec![7u8; 100_000];
    for _ in 0..100 {
        f.send(&request(AGREED_MESS, &pf, &[&ps], 0, &body));
    }
    let got = slow
        .count_to_close()
        .expect("the slow reader was not disconnected");
    assert!(got < 100 * body.len(), "{got} bytes");
    f.send(&request(AGREED_MESS, &pf, &[&pf], 0, b"still here"));
    assert_eq!(expect_data(&mut f).data, b"still here");
    let log = d.log_text();
    assert!(log.contains("disconnecting slow"), "{log}");
    assert!(log.contains("MaxSessionBytes"), "{log}");
}

#[test]
fn the_daemons_budget_cuts_off_the_session_with_most_queued() {
    let d = TestDaemon::start("MaxSessionBytes = 64000000\nMaxQueuedBytes = 24000000");
    let (mut f, pf) = client(d.raw(), "flood");
    let (mut a, pa) = client(Raw::unix(&d.unix_path()), "a");
    let (mut b, pb) = client(Raw::unix(&d.unix_path()), "b");
    // Neither reads; a is sent three times what b is: 45 MB and 15 MB,
    // so a is the larger whenever the 24 MB are exceeded, and b alone
    // never exceeds them.
    let body = vec![7u8; 100_000];
    for _ in 0..150 {
        for _ in 0..3 {
            f.send(&request(AGREED_MESS, &pf, &[&pa], 0, &body));
        }
        f.send(&request(AGREED_MESS, &pf, &[&pb], 0, &body));
    }
    a.count_to_close().expect("a was not disconnected");
    for i in 0..150 {
        let m = expect_data(&mut b);
        assert_eq!(m.data.len(), body.len(), "message {i} to b");
    }
    f.send(&request(AGREED_MESS, &pf, &[&pb], 0, b"b is fine"));
    assert_eq!(expect_data(&mut b).data, b"b is fine");
    let log = d.log_text();
    assert!(log.contains("disconnecting a "), "{log}");
    assert!(log.contains("MaxQueuedBytes"), "{log}");
    assert!(!log.contains("disconnecting b "), "{log}");
}

#[test]
fn clients_that_stop_reading_leave_the_daemons_memory_bounded() {
    let d = TestDaemon::start("MaxSessionBytes = 8000000\nMaxQueuedBytes = 32000000");
    let (mut f, pf) = client(d.raw(), "flood");
    let (mut reader, pr) = client(d.raw(), "reader");
    let mut slow: Vec<(Raw, String)> = (0..12)
        .map(|i| client(Raw::unix(&d.unix_path()), &format!("slow{i}")))
        .collect();
    // 28 MB for each of twelve: 336 MB, had the daemon kept it.
    let body = vec![7u8; 140_000];
    for _ in 0..200 {
        for (_, p) in &slow {
            f.send(&request(AGREED_MESS, &pf, &[p], 0, &body));
        }
    }
    for (s, p) in slow.iter_mut() {
        s.count_to_close()
            .unwrap_or_else(|e| panic!("{p} was not disconnected: {e}"));
    }
    f.send(&request(AGREED_MESS, &pf, &[&pr], 3, b"after the flood"));
    assert_eq!(expect_data(&mut reader).data, b"after the flood");
    let peak = d.status_kb("VmHWM");
    assert!(peak < 150 * 1024, "the daemon's peak RSS was {peak} kB");
}
