//! What keeps clients from exhausting a real daemon (issue 12, item 8):
//! handshakes have their own pool, queued output is bounded in bytes for
//! each session and for the daemon, a session's groups are capped, and
//! repeated log lines are summarised.

use spread_core::consts::*;
use spread_core::wire::Message;
use spread_daemon::sessions::pacing::STALL;
use spread_testkit::{request, Raw, TestDaemon, TestRing};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

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

/// Polls the log until `done` says it holds what is awaited.
fn await_log(d: &TestDaemon, t: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + t;
    loop {
        let log = d.log_text();
        if done(&log) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(100));
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
fn a_handshake_that_finds_the_daemon_full_at_its_end_gets_reject_quota() {
    let d = TestDaemon::start("MaxSessions = 1");
    // a starts first, b finishes first and takes the only slot.
    let mut a = d.raw();
    a.send(&[5, 0, 1, 1, 1, b'a']);
    assert_eq!(a.read_exact(6), b"\x05NULL ");
    let (mut b, pb) = client(d.raw(), "b");
    let mut choice = [0u8; 90];
    choice[..4].copy_from_slice(b"NULL");
    a.send(&choice);
    assert_eq!(a.read_to_close(), [0xfd]);
    b.send(&request(AGREED_MESS, &pb, &[&pb], 0, b"mine"));
    assert_eq!(expect_data(&mut b).data, b"mine");
    // a's name was given back with its refusal.
    drop(b);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut c = d.raw();
        c.send(&[5, 0, 1, 1, 1, b'a']);
        let mut first = [0u8; 1];
        if c.s.read_exact(&mut first).is_ok() && first[0] == 5 {
            c.read_exact(5);
            c.send(&choice);
            assert_eq!(c.read_exact(5)[0], 1, "a accepted");
            break;
        }
        assert!(Instant::now() < deadline, "the slot was not given back");
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let metrics = format!("127.0.0.1:{}", spread_testkit::free_port());
    let d = TestDaemon::start(&format!(
        "MaxSessionBytes = 2000000\nDebugFlags = {{ FLOW_CONTROL }}\nMetricsAddress = {metrics}"
    ));
    let (mut f, pf) = client(d.raw(), "flood");
    // The Unix socket holds little in the kernel, so what the daemon
    // queues is nearly all that is sent.
    let (mut slow, ps) = client(Raw::unix(&d.unix_path()), "slow");
    let body = vec![7u8; 100_000];
    for _ in 0..100 {
        f.send(&request(AGREED_MESS, &pf, &[&ps], 0, &body));
    }
    // It reads nothing for longer than a sender waits for a reader.
    std::thread::sleep(STALL + Duration::from_secs(1));
    let got = slow.count_to_close().unwrap_or_else(|e| {
        panic!(
            "the slow reader was not disconnected ({e}): {}",
            d.log_text()
        )
    });
    assert!(got < 100 * body.len(), "{got} bytes");
    f.send(&request(AGREED_MESS, &pf, &[&pf], 0, b"still here"));
    assert_eq!(expect_data(&mut f).data, b"still here");
    let log = d.log_text();
    assert!(log.contains("disconnecting slow"), "{log}");
    assert!(log.contains("MaxSessionBytes"), "{log}");
    let m = spread_testkit::scrape(&metrics);
    assert_eq!(m["spread_sessions_cut_off_total"], 1, "{m:?}");
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

/// Sends `n` joins of g0.. at once and reads the n answers: the groups
/// whose join view came, and those refused, each in order.
fn join_many(c: &mut Raw, me: &str, n: usize) -> (Vec<String>, Vec<String>) {
    let joins: Vec<u8> = (0..n)
        .flat_map(|i| request(JOIN_MESS, me, &[&format!("g{i}")], 0, b""))
        .collect();
    c.send(&joins);
    let (mut joined, mut refused) = (Vec::new(), Vec::new());
    while joined.len() + refused.len() < n {
        match c.message() {
            Message::Membership(m) if m.cause() == CAUSED_BY_JOIN => {
                joined.push(m.group.to_string())
            }
            Message::Membership(_) => {}
            Message::Reject(r) => {
                assert_eq!(r.old_type, CAUSED_BY_JOIN);
                refused.push(r.groups[0].to_string());
            }
            other => panic!("{other:?}"),
        }
    }
    (joined, refused)
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("g{i}")).collect()
}

#[test]
fn joins_beyond_max_groups_per_session_are_refused() {
    let metrics = format!("127.0.0.1:{}", spread_testkit::free_port());
    let d = TestDaemon::start(&format!(
        "MaxGroupsPerSession = 50\nMetricsAddress = {metrics}"
    ));
    let (mut a, pa) = client(d.raw(), "a");
    let (joined, refused) = join_many(&mut a, &pa, 60);
    assert_eq!(joined, names(0..50));
    assert_eq!(refused, names(50..60));
    let m = spread_testkit::scrape(&metrics);
    assert_eq!(m["spread_dropped_total{reason=\"refused_join\"}"], 10);
    // A leave makes room for one more.
    a.send(&request(LEAVE_MESS, &pa, &["g0"], 0, b""));
    a.send(&request(JOIN_MESS, &pa, &["g50"], 0, b""));
    loop {
        match a.message() {
            Message::Membership(m) if m.cause() == CAUSED_BY_JOIN => {
                assert_eq!(m.group.to_string(), "g50");
                break;
            }
            Message::SelfLeave { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    // Other sessions have their own count.
    let (mut b, pb) = client(d.raw(), "b");
    let (joined, refused) = join_many(&mut b, &pb, 50);
    assert_eq!((joined.len(), refused.len()), (50, 0));
}

#[test]
fn joins_in_flight_on_a_ring_count_against_the_cap() {
    use spread_core::client::Mailbox;
    let ring = TestRing::start(2, "MaxGroupsPerSession = 50", &[]);
    // The ring is up once a client of each daemon sees the other's join.
    let x = Mailbox::connect(&ring.tcp_name(1), Some("x"), 0, true).unwrap();
    let y = Mailbox::connect(&ring.tcp_name(2), Some("y"), 0, true).unwrap();
    x.join("up").unwrap();
    y.join("up").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "the ring did not form");
        match x.receive_timeout(Duration::from_secs(1)).unwrap() {
            Some(Message::Membership(m)) if m.members.len() == 2 => break,
            _ => {}
        }
    }
    // Sixty joins in one write: the daemon reads them together and they
    // are all in flight before the first comes back ordered, so counting
    // only the groups a session is in would let every one through.
    let addr = ring.ip(1);
    let port: u16 = ring.port;
    let mut a = Raw {
        s: Box::new({
            let s = TcpStream::connect((addr.as_str(), port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s
        }),
    };
    a.handshake("a", true);
    let pa = "#a#d1";
    let (joined, refused) = join_many(&mut a, pa, 60);
    assert_eq!(refused, names(50..60));
    let mut joined = joined;
    joined.sort_by_key(|g| g[1..].parse::<usize>().unwrap());
    assert_eq!(joined, names(0..50));
}

#[test]
fn refused_connections_are_logged_a_few_times_then_counted() {
    let d = TestDaemon::start("MaxSessions = 1\nDebugFlags = { SESSION }");
    let (_holder, _) = client(d.raw(), "holder");
    let n = 2000;
    for i in 0..n {
        let mut c = d.raw();
        assert_eq!(c.read_to_close(), [0xfd], "connection {i}");
    }
    // Every refusal is told of, one line each or in a count.
    let quota = |l: &&str| l.contains("refused") && l.contains("session limit");
    let told = |log: &str| -> usize {
        log.lines()
            .filter(quota)
            .map(|l| {
                match l
                    .split_once("refused ")
                    .and_then(|(_, r)| r.split_once(" more"))
                {
                    Some((k, _)) => k.parse::<usize>().unwrap_or(1),
                    None => 1,
                }
            })
            .sum()
    };
    let log = await_log(&d, Duration::from_secs(60), |log| told(log) >= n);
    assert_eq!(told(&log), n, "{log}");
    let lines = log.lines().filter(quota).count();
    // Five a period and a count: a slow machine may take a few periods.
    assert!(lines <= 60, "{lines} lines for {n} refusals:\n{log}");
}

#[test]
fn failing_accepts_are_logged_a_few_times_then_counted() {
    // Descriptors for the daemon's own sockets and a few connections.
    let d = TestDaemon::start_with_fd_limit("", 24);
    let held: Vec<TcpStream> = (0..30)
        .map(|_| TcpStream::connect(("127.0.0.1", d.port)).unwrap())
        .collect();
    // The accepts fail while the connections are held.
    std::thread::sleep(Duration::from_secs(3));
    drop(held);
    let log = await_log(&d, Duration::from_secs(30), |log| {
        log.lines().any(|l| l.contains("more failed accepts"))
    });
    let lines = log
        .lines()
        .filter(|l| l.contains("accept on TCP failed"))
        .count();
    assert!(lines >= 1, "{log}");
    assert!(lines <= 20, "{lines} lines:\n{log}");
    // The daemon serves again once descriptors are free.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut c = d.raw();
        c.s.set_timeout(Duration::from_secs(10));
        let mut hello = vec![5, 0, 1, 1, 2];
        hello.extend_from_slice(b"ok");
        c.send(&hello);
        let mut list = [0u8; 6];
        if c.s.read_exact(&mut list).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the daemon does not serve again");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_frame_queued_for_many_members_counts_once_toward_the_daemons_budget() {
    // 6 MB to forty members who read only afterwards: 240 MB if every
    // queue counted its own copy, 6 MB of memory in fact.
    let d = TestDaemon::start("MaxQueuedBytes = 64000000");
    let (mut a, pa) = client(d.raw(), "a");
    a.send(&request(JOIN_MESS, &pa, &["g"], 0, b""));
    let mut members: Vec<Raw> = (0..40)
        .map(|i| {
            let mut m = Raw::unix(&d.unix_path());
            let name = format!("m{i}");
            m.handshake(&name, false);
            m.send(&request(
                JOIN_MESS,
                &format!("#{name}#localhost"),
                &["g"],
                0,
                b"",
            ));
            m
        })
        .collect();
    loop {
        match a.message() {
            Message::Membership(m) if m.members.len() == 41 => break,
            Message::Membership(_) => {}
            other => panic!("{other:?}"),
        }
    }
    let body = vec![7u8; 20_000];
    for _ in 0..300 {
        a.send(&request(AGREED_MESS | SELF_DISCARD, &pa, &["g"], 0, &body));
    }
    for (i, m) in members.iter_mut().enumerate() {
        for k in 0..300 {
            match m.message() {
                Message::Data(x) => assert_eq!(x.data.len(), body.len()),
                other => panic!("member {i}, message {k}: {other:?}"),
            }
        }
    }
    let log = d.log_text();
    assert!(!log.contains("disconnecting"), "{log}");
}
