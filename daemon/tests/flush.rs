//! Flush Spread (`spread_core::flush::FlushMailbox`) against a real daemon.

use spread_core::consts::*;
use spread_core::flush::{FlushMailbox, FlushMessage, Received};
use spread_testkit::TestDaemon;
use std::time::Duration;

fn next(m: &FlushMailbox) -> Received {
    m.receive_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a message within 5 s")
}

/// Receives until a view of `group` arrives, flushing on each request.
fn until_view(m: &FlushMailbox, group: &str) -> Vec<String> {
    loop {
        match next(m).message {
            FlushMessage::FlushRequest { group: g } => m.flush(&g.to_string()).unwrap(),
            FlushMessage::View(v) if v.group.to_string() == group => {
                return v.members.iter().map(|x| x.to_string()).collect()
            }
            _ => {}
        }
    }
}

#[test]
fn two_members_flush_send_unicast_and_leave() {
    let d = TestDaemon::start("");
    let a = FlushMailbox::connect(&d.tcp_name(), Some("fa"), 0).unwrap();
    let b = FlushMailbox::connect(&d.tcp_name(), Some("fb"), 0).unwrap();
    a.join("fg").unwrap();
    assert_eq!(until_view(&a, "fg"), vec!["#fa#localhost"]);
    // Not a member yet: closed group.
    assert_eq!(
        b.multicast(AGREED_MESS, "fg", 1, b"x").unwrap_err().code(),
        ILLEGAL_GROUP
    );
    b.join("fg").unwrap();
    // a gets a flush request, flushes; both install the view of two.
    let want = vec!["#fa#localhost", "#fb#localhost"];
    let ta = std::thread::scope(|s| {
        let h = s.spawn(|| until_view(&a, "fg"));
        let vb = until_view(&b, "fg");
        (h.join().unwrap(), vb)
    });
    assert_eq!(ta.0, want);
    assert_eq!(ta.1, want);
    assert_eq!(a.multicast(AGREED_MESS, "fg", 3, b"hello").unwrap(), 5);
    for m in [&a, &b] {
        match next(m).message {
            FlushMessage::Data(x) => {
                assert_eq!(x.data, b"hello");
                assert_eq!(x.mess_type, 3);
            }
            other => panic!("{other:?}"),
        }
    }
    // A unicast reaches only its receiver, with the group after it.
    assert_eq!(
        a.unicast(FIFO_MESS, "fg", "#fz#localhost", 0, b"no")
            .unwrap_err()
            .code(),
        ILLEGAL_RECEIVERS
    );
    assert_eq!(
        a.unicast(FIFO_MESS, "fg", "#fb#localhost", 4, b"hi")
            .unwrap(),
        2
    );
    match next(&b).message {
        FlushMessage::Data(x) => {
            assert_eq!(x.service_type, FIFO_MESS | SUBGROUP_CAST);
            assert_eq!(x.data, b"hi");
            assert_eq!(x.mess_type, 4);
            let g: Vec<String> = x.groups.iter().map(|g| g.to_string()).collect();
            assert_eq!(g, vec!["#fb#localhost", "fg"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(a.try_receive().unwrap().is_none());
    // b leaves: b sees its leave, a gets a request and then a view of one.
    b.leave("fg").unwrap();
    assert_eq!(b.leave("fg").unwrap_err().code(), ILLEGAL_GROUP);
    loop {
        if let FlushMessage::SelfLeave { .. } = next(&b).message {
            break;
        }
    }
    assert_eq!(until_view(&a, "fg"), vec!["#fa#localhost"]);
    // Disconnect of a member.
    b.join("fg").unwrap();
    std::thread::scope(|s| {
        s.spawn(|| until_view(&a, "fg"));
        until_view(&b, "fg");
    });
    b.disconnect().unwrap();
    assert_eq!(until_view(&a, "fg"), vec!["#fa#localhost"]);
    assert_eq!(a.more_msgs(), 0);
}

#[test]
fn kill_ends_a_blocked_receive_and_the_others_see_a_disconnect() {
    let d = TestDaemon::start("");
    let a = FlushMailbox::connect(&d.tcp_name(), Some("ka"), 0).unwrap();
    let b = FlushMailbox::connect(&d.tcp_name(), Some("kb"), 0).unwrap();
    a.join("kg").unwrap();
    assert_eq!(until_view(&a, "kg"), vec!["#ka#localhost"]);
    b.join("kg").unwrap();
    std::thread::scope(|s| {
        s.spawn(|| until_view(&a, "kg"));
        until_view(&b, "kg");
    });
    std::thread::scope(|s| {
        let blocked = s.spawn(|| b.receive());
        std::thread::sleep(Duration::from_millis(200));
        b.kill();
        let got = blocked.join().unwrap();
        assert!(got.is_err(), "the blocked receive ended with {got:?}");
    });
    b.kill();
    assert_eq!(b.join("other").unwrap_err().code(), ILLEGAL_SESSION);
    assert_eq!(b.disconnect().unwrap_err().code(), ILLEGAL_SESSION);
    // No goodbye was said: the daemon sees the connection drop.
    loop {
        match next(&a).message {
            FlushMessage::FlushRequest { group } => a.flush(&group.to_string()).unwrap(),
            FlushMessage::View(v) => {
                assert_ne!(v.service_type & CAUSED_BY_DISCONNECT, 0, "{v:?}");
                assert_eq!(v.members.len(), 1);
                assert_eq!(v.vs_set[0].to_string(), "#kb#localhost");
                break;
            }
            _ => {}
        }
    }
}
