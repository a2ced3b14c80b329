//! Messages above 5.0.1's limit between our clients and our daemons
//! (`MaxMessageSize`): 16 MB messages across a ring of three, small ones
//! of other senders among them; what a 5.0.1 client gets.

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::{MembershipMessage, Message};
use spread_core::Error;
use spread_testkit::{request, TestDaemon, TestRing};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIG: usize = 16 << 20;
const BIG_MESSAGES: u8 = 3;
const SMALL_MESSAGES: u8 = 20;

/// The bytes of message `k`: every byte depends on its place and on `k`.
fn pattern(k: u8, len: usize) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ k)
        .collect()
}

fn view(m: &Mailbox) -> MembershipMessage {
    loop {
        match m.receive_timeout(Duration::from_secs(20)).unwrap() {
            Some(Message::Membership(v)) => return v,
            Some(_) => {}
            None => panic!("no view within 20 s"),
        }
    }
}

/// What a receiver saw: (sender, mess_type, length) in delivery order,
/// and when each arrived.
type Seen = Vec<(String, i16, usize, Instant)>;

fn receive_all(m: Mailbox, expected: usize) -> Seen {
    let mut seen = Vec::new();
    while seen.len() < expected {
        let msg = m
            .receive_timeout(Duration::from_secs(120))
            .unwrap()
            .expect("every message within 120 s");
        let Message::Data(d) = msg else { continue };
        let k = d.mess_type as u8;
        if d.data.len() == BIG {
            assert!(d.data == pattern(k, BIG), "big message {k} differs");
        } else {
            assert_eq!(d.data, pattern(k, 1000), "small message {k}");
        }
        seen.push((
            d.sender.to_string(),
            d.mess_type,
            d.data.len(),
            Instant::now(),
        ));
    }
    seen
}

/// Three 16 MB AGREED messages from a client of d1, small ones from
/// clients of d2 and d3 (and of d1, behind its own daemon's big ones)
/// sent meanwhile: every receiver, one per daemon, gets every byte, all
/// in one order. Prints the throughput and what the small messages
/// waited (no time is asserted).
#[test]
fn sixteen_megabyte_messages_cross_a_ring_of_three() {
    let ring = TestRing::start(3, "MaxMessageSize = 16777216", &[]);
    let receivers: Vec<Mailbox> = (1..=3)
        .map(|i| {
            let m = Mailbox::connect(&ring.tcp_name(i), Some(&format!("r{i}")), 0, true).unwrap();
            assert_eq!(
                m.max_message_len(1),
                BIG,
                "the daemon offered MaxMessageSize"
            );
            m.join("g").unwrap();
            m
        })
        .collect();
    for m in &receivers {
        while view(m).members.len() < 3 {}
    }
    let expected = BIG_MESSAGES as usize + 3 * SMALL_MESSAGES as usize;
    let handles: Vec<_> = receivers
        .into_iter()
        .map(|m| std::thread::spawn(move || receive_all(m, expected)))
        .collect();

    let big = Mailbox::connect(&ring.tcp_name(1), Some("big"), 0, false).unwrap();
    let smalls: Vec<Mailbox> = (1..=3)
        .map(|i| Mailbox::connect(&ring.tcp_name(i), Some(&format!("s{i}")), 0, false).unwrap())
        .collect();
    let (started, go) = mpsc::channel::<()>();
    let start = Instant::now();
    let big_sender = std::thread::spawn(move || {
        let mut sent = Vec::new();
        for k in 0..BIG_MESSAGES {
            let data = pattern(k, BIG);
            big.multicast(AGREED_MESS, "g", i16::from(k), &data)
                .unwrap();
            sent.push(Instant::now());
            let _ = started.send(());
        }
        sent
    });
    // The small ones start once the first big message is with d1.
    go.recv().unwrap();
    let mut small_sent = Vec::new();
    for k in 0..SMALL_MESSAGES {
        let data = pattern(k, 1000);
        small_sent.push(Instant::now());
        for s in &smalls {
            s.multicast(AGREED_MESS, "g", i16::from(k), &data).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let big_sent = big_sender.join().unwrap();
    let logs: Vec<Seen> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let order = |s: &Seen| -> Vec<(String, i16, usize)> {
        s.iter().map(|(a, b, c, _)| (a.clone(), *b, *c)).collect()
    };
    for log in &logs[1..] {
        assert_eq!(order(log), order(&logs[0]), "one AGREED order");
    }
    // FIFO per sender, and every message once.
    for sender in ["#big#d1", "#s1#d1", "#s2#d2", "#s3#d3"] {
        let types: Vec<i16> = (logs[0].iter())
            .filter(|(s, ..)| s == sender)
            .map(|(_, t, ..)| *t)
            .collect();
        let n = if sender == "#big#d1" {
            BIG_MESSAGES
        } else {
            SMALL_MESSAGES
        };
        assert_eq!(types, (0..i16::from(n)).collect::<Vec<_>>(), "{sender}");
    }

    // The figures, at the receiver of d3.
    let at_d3 = &logs[2];
    let big_done: Vec<Instant> = (at_d3.iter())
        .filter(|(_, _, len, _)| *len == BIG)
        .map(|e| e.3)
        .collect();
    let total = big_done.last().unwrap().duration_since(start);
    let mb = (BIG * BIG_MESSAGES as usize) as f64 / 1e6;
    println!(
        "{BIG_MESSAGES} x 16 MiB across 3 daemons in {:.2} s: {:.1} MB/s (first one sent to d1 in {:.2} s)",
        total.as_secs_f64(),
        mb / total.as_secs_f64(),
        big_sent[0].duration_since(start).as_secs_f64()
    );
    for sender in ["#s2#d2", "#s3#d3", "#s1#d1"] {
        let waits: Vec<f64> = (at_d3.iter())
            .filter(|(s, ..)| s == sender)
            .map(|(_, t, _, at)| at.duration_since(small_sent[*t as usize]).as_secs_f64() * 1e3)
            .collect();
        let before_first_big = (at_d3.iter())
            .take_while(|(_, _, len, _)| *len != BIG)
            .filter(|(s, ..)| s == sender)
            .count();
        let mut sorted = waits.clone();
        sorted.sort_by(f64::total_cmp);
        println!(
            "small messages of {sender}: median wait {:.1} ms, longest {:.1} ms; {before_first_big} of {SMALL_MESSAGES} delivered before the first 16 MiB one",
            sorted[sorted.len() / 2],
            sorted[sorted.len() - 1]
        );
    }
}

/// A daemon with MaxMessageSize and a 5.0.1 client (a raw socket speaking
/// libspread's bytes): its large message is refused with a REJECT, it
/// still gets messages up to 5.0.1's limit, and a large message to its
/// group cuts it off (it leaves the group as a disconnect) rather than
/// leave a silent gap in what it received.
#[test]
fn a_501_client_gets_a_reject_and_never_a_large_message() {
    let d = TestDaemon::start("MaxMessageSize = 1048576");
    let ours = Mailbox::connect(&d.tcp_name(), Some("ours"), 0, true).unwrap();
    assert_eq!(ours.max_message_len(1), 1 << 20);
    ours.join("g").unwrap();
    view(&ours);
    let mut old = d.raw();
    let accept = old.handshake("old", true);
    let me = String::from_utf8(accept[5..].to_vec()).unwrap();
    old.send(&request(JOIN_MESS, &me, &["g"], 0, &[]));
    let joined = old.message();
    assert!(matches!(joined, Message::Membership(_)), "{joined:?}");
    view(&ours);

    let large = pattern(1, 200_000);
    old.send(&request(AGREED_MESS, &me, &["g"], 7, &large));
    match old.message() {
        Message::Reject(r) => assert_eq!(r.old_type & AGREED_MESS, AGREED_MESS),
        other => panic!("expected a REJECT, got {other:?}"),
    }

    let fits = pattern(2, MAX_INTEROPERABLE_BODY);
    ours.multicast(AGREED_MESS, "g", 2, &fits).unwrap();
    match old.message() {
        Message::Data(m) => assert_eq!(m.data, fits),
        other => panic!("{other:?}"),
    }
    ours.multicast(AGREED_MESS, "g", 3, &large).unwrap();
    old.read_to_close();
    let mut got = Vec::new();
    while got.len() < 2 {
        if let Message::Data(m) = ours.receive().unwrap() {
            got.push(m.data.len());
        }
    }
    assert_eq!(got, [MAX_INTEROPERABLE_BODY, 200_000]);
    let left = view(&ours);
    assert_eq!(
        left.service_type & CAUSED_BY_DISCONNECT,
        CAUSED_BY_DISCONNECT
    );
    assert!(d.log_text().contains("above what its client takes"));
}

/// Without MaxMessageSize nothing changes: our client keeps 5.0.1's limit
/// (refused before it is sent), and the daemon offers only NULL.
#[test]
fn a_default_daemon_keeps_501s_limit() {
    let d = TestDaemon::start("");
    let m = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    assert_eq!(m.max_message_len(1), MAX_INTEROPERABLE_BODY);
    let err = m
        .multicast(AGREED_MESS, "g", 0, &vec![0; MAX_INTEROPERABLE_BODY + 1])
        .unwrap_err();
    assert!(matches!(err, Error::MessageTooLong { .. }), "{err:?}");
    let mut raw = d.raw();
    raw.send(&[5, 0, 1, 1, 1, b'x']);
    assert_eq!(raw.read_exact(6), b"\x05NULL ");
}

/// A daemon with MaxMessageSize refuses our client's message above it
/// with a REJECT (our client checks first; a raw client that took the
/// offer finds the daemon's own check).
#[test]
fn above_max_message_size_is_refused() {
    let d = TestDaemon::start("MaxMessageSize = 1048576");
    let m = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    let err = m
        .multicast(AGREED_MESS, "g", 0, &vec![0; (1 << 20) + 1])
        .unwrap_err();
    assert!(matches!(err, Error::MessageTooLong { .. }), "{err:?}");
    let mut raw = d.raw();
    raw.send(&[5, 0, 1, 1, 1, b'x']);
    let n = raw.read_exact(1)[0] as usize;
    assert_eq!(raw.read_exact(n), b"NULL MaxMessageSize=1048576 ");
    let mut choice = [0u8; 90];
    choice[..4].copy_from_slice(b"NULL");
    choice[30..53].copy_from_slice(b"MaxMessageSize=1048576\0");
    raw.send(&choice);
    let head = raw.read_exact(5);
    let me = String::from_utf8(raw.read_exact(head[4] as usize)).unwrap();
    raw.send(&request(
        AGREED_MESS,
        &me,
        &["g"],
        0,
        &vec![1; (1 << 20) + 1],
    ));
    assert!(matches!(raw.message(), Message::Reject(_)));
    raw.send(&request(AGREED_MESS, &me, &[&me], 0, &vec![1; 1 << 20]));
    match raw.message() {
        Message::Data(m) => assert_eq!(m.data.len(), 1 << 20),
        other => panic!("{other:?}"),
    }
}

/// A reload that drops MaxMessageSize holds the sessions that took it to
/// 5.0.1's limit again (a REJECT), and new sessions are not offered it.
#[test]
fn a_reload_without_max_message_size_returns_to_501s_limit() {
    let d = TestDaemon::start("MaxMessageSize = 1048576");
    let a = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    assert_eq!(a.max_message_len(1), 1 << 20);
    let me = a.private_group().to_string();
    a.multicast(AGREED_MESS, &me, 1, &pattern(1, 200_000))
        .unwrap();
    match a.receive().unwrap() {
        Message::Data(m) => assert_eq!(m.data.len(), 200_000),
        other => panic!("{other:?}"),
    }
    let conf_path = d.dir.join("spread.conf");
    let conf = std::fs::read_to_string(&conf_path).unwrap();
    std::fs::write(&conf_path, conf.replace("MaxMessageSize = 1048576", "")).unwrap();
    // SAFETY: kill has no memory preconditions; the pid is our child's.
    assert_eq!(unsafe { libc::kill(d.pid() as i32, libc::SIGHUP) }, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.log_text().contains("now running") {
        assert!(Instant::now() < deadline, "no reload: {}", d.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    a.multicast(AGREED_MESS, &me, 2, &pattern(2, 200_000))
        .unwrap();
    match a.receive().unwrap() {
        Message::Reject(r) => assert_eq!(r.mess_type, 2),
        other => panic!("expected a REJECT, got {other:?}"),
    }
    let b = Mailbox::connect(&d.tcp_name(), Some("b"), 0, true).unwrap();
    assert_eq!(b.max_message_len(1), MAX_INTEROPERABLE_BODY);
}
