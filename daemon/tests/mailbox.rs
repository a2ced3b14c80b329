//! The Rust client (`spread_core::client::Mailbox`) against a real daemon.

use spread_core::client::{ConnectOptions, Mailbox};
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_core::{Error, GroupName};
use spread_testkit::TestDaemon;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn connect(d: &TestDaemon, name: &str) -> Mailbox {
    Mailbox::connect(&d.tcp_name(), Some(name), 0, true).unwrap()
}

fn next(m: &Mailbox) -> Message {
    m.receive_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a message within 5 s")
}

fn joined(m: &Mailbox, group: &str) {
    m.join(group).unwrap();
    match next(m) {
        Message::Membership(v) if v.cause() == CAUSED_BY_JOIN => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_daemon_name_form_connects() {
    let d = TestDaemon::start("");
    for (i, name) in [
        d.tcp_name(),
        format!("127.0.0.1:{}", d.port),
        format!("{}@localhost", d.port),
        d.unix_name(),
    ]
    .into_iter()
    .enumerate()
    {
        let m = Mailbox::connect(&name, Some(&format!("f{i}")), 0, true).unwrap();
        assert_eq!(m.private_group().to_string(), format!("#f{i}#localhost"));
        // Only TCP can hold sends back.
        assert_eq!(m.hold_sends(false), name != d.unix_name());
    }
    let err = Mailbox::connect("4803@", None, 0, true).unwrap_err();
    assert_eq!(err.code(), ILLEGAL_SPREAD);
    let err = Mailbox::connect(
        &format!("{}@127.0.0.1", spread_testkit::free_port()),
        None,
        0,
        true,
    )
    .unwrap_err();
    assert_eq!(err.code(), COULD_NOT_CONNECT);
}

#[test]
fn every_service_type_round_trips() {
    let d = TestDaemon::start("");
    let m = connect(&d, "svc");
    joined(&m, "g");
    for (i, st) in [
        UNRELIABLE_MESS,
        RELIABLE_MESS,
        FIFO_MESS,
        CAUSAL_MESS,
        AGREED_MESS,
        SAFE_MESS,
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!("body {i}");
        assert_eq!(
            m.multicast(st, "g", -(i as i16), body.as_bytes()).unwrap(),
            body.len()
        );
        match next(&m) {
            Message::Data(x) => {
                assert_eq!(x.service_type, st);
                assert_eq!(x.mess_type, -(i as i16));
                assert_eq!(x.data, body.as_bytes());
                assert_eq!(&x.sender, m.private_group());
                assert!(!x.endian_mismatch);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn scatter_multigroup_and_self_discard() {
    let d = TestDaemon::start("");
    let a = connect(&d, "a");
    let b = connect(&d, "b");
    joined(&a, "g1");
    joined(&b, "g2");
    a.scat_multicast(AGREED_MESS, "g1", 1, &[b"sc", b"at", b"ter"])
        .unwrap();
    match next(&a) {
        Message::Data(x) => assert_eq!(x.data, b"scatter"),
        other => panic!("{other:?}"),
    }
    a.multigroup_multicast(SAFE_MESS | SELF_DISCARD, &["g1", "g2"], 2, b"both")
        .unwrap();
    match next(&b) {
        Message::Data(x) => {
            assert_eq!(x.groups, vec![GroupName::from("g1"), GroupName::from("g2")]);
            assert_eq!(x.service_type, SAFE_MESS | SELF_DISCARD);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        a.receive_timeout(Duration::from_millis(150))
            .unwrap()
            .is_none(),
        "self-discarded"
    );
    assert_eq!(a.poll().unwrap(), 0);
    b.multicast(
        FIFO_MESS,
        a.private_group().to_string().as_str(),
        3,
        b"direct",
    )
    .unwrap();
    let t = Instant::now();
    while a.poll().unwrap() == 0 && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(a.poll().unwrap() >= 48 + 32 + 6);
    assert!(matches!(next(&a), Message::Data(x) if x.data == b"direct"));
}

#[test]
fn memberships_leave_and_disconnect() {
    let d = TestDaemon::start("");
    let a = connect(&d, "a");
    let b = connect(&d, "b");
    joined(&a, "g");
    b.join("g").unwrap();
    for m in [&a, &b] {
        match next(m) {
            Message::Membership(v) => {
                assert_eq!(v.members.len(), 2);
                assert_eq!(v.group_id.index, 2);
                assert_eq!(
                    v.index_of(m.private_group()),
                    Some(if std::ptr::eq(m, &a) { 0 } else { 1 })
                );
                assert_eq!(v.changed_member(), Some(b.private_group()));
            }
            other => panic!("{other:?}"),
        }
    }
    b.leave("g").unwrap();
    assert!(matches!(next(&b), Message::SelfLeave { group } if group == GroupName::from("g")));
    assert!(
        matches!(next(&a), Message::Membership(v) if v.cause() == CAUSED_BY_LEAVE && v.members.len() == 1)
    );
    b.join("g").unwrap();
    assert!(matches!(next(&a), Message::Membership(v) if v.cause() == CAUSED_BY_JOIN));
    b.disconnect().unwrap();
    match next(&a) {
        Message::Membership(v) => {
            assert_eq!(v.cause(), CAUSED_BY_DISCONNECT);
            assert_eq!(v.members, vec![*a.private_group()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        b.multicast(AGREED_MESS, "g", 0, b"x").unwrap_err().code(),
        ILLEGAL_SESSION
    );
}

#[test]
fn client_side_errors() {
    let d = TestDaemon::start("");
    let m = connect(&d, "err");
    assert_eq!(m.join("").unwrap_err().code(), ILLEGAL_GROUP);
    assert_eq!(m.join("bad name").unwrap_err().code(), ILLEGAL_GROUP);
    assert_eq!(m.join(&"x".repeat(32)).unwrap_err().code(), ILLEGAL_GROUP);
    assert_eq!(
        m.multicast(JOIN_MESS, "g", 0, b"").unwrap_err().code(),
        ILLEGAL_SERVICE
    );
    assert_eq!(
        m.multicast(AGREED_MESS | REJECT_MESS, "g", 0, b"")
            .unwrap_err()
            .code(),
        ILLEGAL_SERVICE
    );
    assert_eq!(
        m.multicast(AGREED_MESS | SAFE_MESS, "g", 0, b"")
            .unwrap_err()
            .code(),
        ILLEGAL_SERVICE
    );
    let big = vec![0u8; MAX_INTEROPERABLE_PAYLOAD];
    assert!(matches!(
        m.multicast(AGREED_MESS, "g", 0, &big),
        Err(Error::MessageTooLong { .. })
    ));
    assert_eq!(
        m.multicast(AGREED_MESS, "g", 0, &big[32..]).unwrap(),
        big.len() - 32
    );
    let dup = Mailbox::connect(&d.tcp_name(), Some("err"), 0, true).unwrap_err();
    assert_eq!(dup, Error::RejectNotUnique);
    let too_many: Vec<String> = (0..101).map(|i| format!("g{i}")).collect();
    let refs: Vec<&str> = too_many.iter().map(String::as_str).collect();
    assert_eq!(
        m.multigroup_multicast(AGREED_MESS, &refs, 0, b"")
            .unwrap_err()
            .code(),
        ILLEGAL_GROUP
    );
}

#[test]
fn connect_timeout_covers_the_handshake() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let opts = ConnectOptions {
        private_name: "t".into(),
        timeout: Some(Duration::from_millis(300)),
        ..ConnectOptions::default()
    };
    let t = Instant::now();
    let err = Mailbox::connect_with(&format!("{port}@127.0.0.1"), &opts).unwrap_err();
    assert_eq!(err.code(), CONNECTION_CLOSED, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn one_thread_receives_while_others_send_and_disconnect_wakes_it() {
    let d = TestDaemon::start("");
    let m = Arc::new(connect(&d, "mt"));
    joined(&m, "g");
    let receiver = {
        let m = m.clone();
        std::thread::spawn(move || {
            let mut n = 0;
            loop {
                match m.receive() {
                    Ok(Message::Data(_)) => n += 1,
                    Ok(other) => panic!("{other:?}"),
                    Err(e) => return (n, e),
                }
            }
        })
    };
    let senders: Vec<_> = (0..4)
        .map(|t| {
            let m = m.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    m.multicast(AGREED_MESS, "g", t, format!("{t}:{i}").as_bytes())
                        .unwrap();
                }
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    // Wait until all 2000 arrived, then disconnect under the receiver's feet.
    let t = Instant::now();
    while m.poll().unwrap() > 0 || t.elapsed() < Duration::from_millis(300) {
        std::thread::sleep(Duration::from_millis(20));
        if t.elapsed() > Duration::from_secs(10) {
            break;
        }
    }
    m.disconnect().unwrap();
    let (n, err) = receiver.join().unwrap();
    assert_eq!(n, 2000);
    // Closed by this process, not lost: even when the daemon's hang-up
    // after the KILL reaches the receiver first.
    assert_eq!(err.code(), ILLEGAL_SESSION, "{err}");
}

#[test]
fn undelivered_messages_stay_in_the_socket_for_select() {
    let d = TestDaemon::start("");
    let m = connect(&d, "sel");
    joined(&m, "g");
    for i in 0..3u8 {
        m.multicast(AGREED_MESS, "g", 0, &[i; 10]).unwrap();
    }
    let frame = 48 + 32 + 10;
    let t = Instant::now();
    while m.poll().unwrap() < 3 * frame && t.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    next(&m);
    // What an application polling the descriptor would see: the rest.
    assert_eq!(m.poll().unwrap(), 2 * frame);
    next(&m);
    assert_eq!(m.poll().unwrap(), frame);
}

#[test]
fn a_lost_session_still_disconnects_once() {
    let mut d = TestDaemon::start("");
    let m = connect(&d, "lost");
    d.kill9();
    assert_eq!(m.receive().unwrap_err().code(), CONNECTION_CLOSED);
    assert_eq!(m.poll().unwrap_err().code(), NET_ERROR_ON_SESSION);
    // Closed although the connection was already gone, as SP_disconnect does.
    m.disconnect().unwrap();
    assert_eq!(m.disconnect().unwrap_err().code(), ILLEGAL_SESSION);
    assert_eq!(m.receive().unwrap_err().code(), ILLEGAL_SESSION);
}
