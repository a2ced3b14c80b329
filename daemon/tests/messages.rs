//! Messages and groups (client-protocol §4-§7) against a real daemon.

use spread_core::consts::*;
use spread_core::wire::Message;
use spread_testkit::{request, Raw, TestDaemon};
use std::time::{Duration, Instant};

fn client(d: &TestDaemon, name: &str) -> (Raw, String) {
    let mut c = d.raw();
    c.handshake(name, true);
    (c, format!("#{name}#localhost"))
}

fn join(c: &mut Raw, me: &str, group: &str) {
    c.send(&request(JOIN_MESS, me, &[group], 0, b""));
}

fn expect_membership(
    c: &mut Raw,
    cause: u32,
    members: usize,
) -> spread_core::wire::MembershipMessage {
    match c.message() {
        Message::Membership(m) if m.cause() == cause && m.members.len() == members => m,
        other => panic!("expected membership {cause:#x} with {members} members, got {other:?}"),
    }
}

/// Clients a and b of `d`, both members of g, their join views read.
fn two_members_of_g(d: &TestDaemon) -> (Raw, String, Raw) {
    let (mut a, pa) = client(d, "a");
    let (mut b, pb) = client(d, "b");
    join(&mut a, &pa, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 1);
    join(&mut b, &pb, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 2);
    expect_membership(&mut b, CAUSED_BY_JOIN, 2);
    (a, pa, b)
}

fn expect_data(c: &mut Raw) -> spread_core::wire::DataMessage {
    match c.message() {
        Message::Data(d) => d,
        other => panic!("expected data, got {other:?}"),
    }
}

#[test]
fn many_groups_up_to_100_are_delivered() {
    let d = TestDaemon::start("");
    let (mut a, pa) = client(&d, "a");
    let (mut b, pb) = client(&d, "b");
    join(&mut b, &pb, "g99");
    expect_membership(&mut b, CAUSED_BY_JOIN, 1);
    let names: Vec<String> = (0..100).map(|i| format!("g{i}")).collect();
    for n in [44usize, 100] {
        let groups: Vec<&str> = names[100 - n..].iter().map(String::as_str).collect();
        a.send(&request(AGREED_MESS, &pa, &groups, 1, b"wide"));
        let m = expect_data(&mut b);
        assert_eq!(m.groups.len(), n);
        assert_eq!(m.data, b"wide");
    }
}

#[test]
fn oversized_message_is_refused_and_the_session_goes_on() {
    let d = TestDaemon::start("");
    let (mut a, pa, mut b) = two_members_of_g(&d);
    let big = vec![7u8; 200_000];
    a.send(&request(SAFE_MESS, &pa, &["g"], 9, &big));
    match a.message() {
        Message::Reject(r) => {
            assert_eq!(r.old_type, SAFE_MESS);
            assert_eq!(r.mess_type, 9);
            assert_eq!(r.groups.len(), 2);
            assert_eq!(r.groups[1].to_string(), pa);
            assert!(r.data.is_empty());
        }
        other => panic!("expected a reject, got {other:?}"),
    }
    // The largest legal message still goes through, to both members.
    let max = vec![1u8; MAX_INTEROPERABLE_PAYLOAD - 32];
    a.send(&request(AGREED_MESS, &pa, &["g"], 0, &max));
    assert_eq!(expect_data(&mut b).data.len(), max.len());
    assert_eq!(expect_data(&mut a).data.len(), max.len());
    assert!(
        d.log_text().contains("refused a message from #a#localhost"),
        "{}",
        d.log_text()
    );
}

#[test]
fn bad_header_drops_only_that_session() {
    let d = TestDaemon::start("");
    let (mut a, pa) = client(&d, "a");
    let (mut bad, pbad) = client(&d, "bad");
    join(&mut a, &pa, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 1);
    join(&mut bad, &pbad, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 2);
    expect_membership(&mut bad, CAUSED_BY_JOIN, 2);
    // Speaks for someone else.
    bad.send(&request(AGREED_MESS, &pa, &["g"], 0, b"spoof"));
    let m = expect_membership(&mut a, CAUSED_BY_DISCONNECT, 1);
    assert_eq!(m.changed_member().unwrap().to_string(), pbad);
    assert!(bad.read_to_close().iter().all(|_| true));
    for (i, evil) in [
        request(AGREED_MESS | SAFE_MESS, "#e0#localhost", &["g"], 0, b""),
        request(SELF_DISCARD, "#e1#localhost", &["g"], 0, b""),
        {
            let mut f = request(AGREED_MESS, "#e2#localhost", &["g"], 0, b"");
            f[36..40].copy_from_slice(&(-3i32).to_le_bytes());
            f
        },
        {
            let mut f = request(AGREED_MESS, "#e3#localhost", &["g"], 0, b"");
            f[40] = 0x81;
            f
        },
        {
            let mut f = request(AGREED_MESS, "#e4#localhost", &["g"], 0, b"");
            f[36..40].copy_from_slice(&101i32.to_le_bytes());
            f
        },
        request(JOIN_MESS | AGREED_MESS, "#e5#localhost", &["g"], 0, b""),
    ]
    .into_iter()
    .enumerate()
    {
        let (mut e, _) = client(&d, &format!("e{i}"));
        e.send(&evil);
        e.read_to_close();
    }
    // Nobody else noticed anything.
    a.send(&request(FIFO_MESS, &pa, &["g"], 0, b"still here"));
    assert_eq!(expect_data(&mut a).data, b"still here");
}

#[test]
fn illegal_group_join_is_rejected_not_created() {
    let d = TestDaemon::start("");
    let (mut a, pa) = client(&d, "a");
    join(&mut a, &pa, "has space");
    match a.message() {
        Message::Reject(r) => assert_eq!(r.old_type, CAUSED_BY_JOIN),
        other => panic!("{other:?}"),
    }
    join(&mut a, &pa, "fine");
    expect_membership(&mut a, CAUSED_BY_JOIN, 1);
}

#[test]
fn open_groups_private_groups_and_empty_groups() {
    let d = TestDaemon::start("");
    let (mut a, pa) = client(&d, "a");
    let (mut b, pb) = client(&d, "b");
    join(&mut b, &pb, "g");
    expect_membership(&mut b, CAUSED_BY_JOIN, 1);
    a.send(&request(RELIABLE_MESS, &pa, &["g"], 1, b"open"));
    assert_eq!(expect_data(&mut b).data, b"open");
    a.send(&request(
        UNRELIABLE_MESS,
        &pa,
        &["nobody", "#zz#localhost"],
        2,
        b"void",
    ));
    a.send(&request(CAUSAL_MESS, &pa, &[&pb], 3, b"p2p"));
    let m = expect_data(&mut b);
    assert_eq!((m.data.as_slice(), m.mess_type), (&b"p2p"[..], 3));
    assert!(
        a.quiet_for(Duration::from_millis(100)),
        "the sender is not in its targets"
    );
}

#[test]
fn slow_reader_is_disconnected_and_nobody_else_slows() {
    let d = TestDaemon::start("MaxSessionMessages = 200");
    let (mut a, pa) = client(&d, "fast");
    let (mut slow, ps) = client(&d, "slow");
    join(&mut a, &pa, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 1);
    join(&mut slow, &ps, "g");
    expect_membership(&mut a, CAUSED_BY_JOIN, 2);
    // `slow` never reads again; `a` sends and reads everything.
    let body = vec![0u8; 20_000];
    let t = Instant::now();
    let mut got = 0;
    let mut saw_disconnect = false;
    for i in 0..2000u32 {
        a.send(&request(AGREED_MESS, &pa, &["g"], 0, &body));
        loop {
            match a.message() {
                Message::Data(_) => {
                    got += 1;
                    break;
                }
                Message::Membership(m) if m.cause() == CAUSED_BY_DISCONNECT => {
                    saw_disconnect = true
                }
                other => panic!("message {i}: {other:?}"),
            }
        }
    }
    assert_eq!(got, 2000);
    assert!(saw_disconnect, "the slow reader was not disconnected");
    assert!(t.elapsed() < Duration::from_secs(30));
    assert!(
        d.log_text().contains("disconnecting slow"),
        "{}",
        d.log_text()
    );
    assert!(d.log_text().contains("MaxSessionMessages"));
}

#[test]
fn no_membership_messages_without_the_flag() {
    let d = TestDaemon::start("");
    let mut a = d.raw();
    a.handshake("quiet", false);
    let pa = "#quiet#localhost";
    join(&mut a, pa, "g");
    a.send(&request(AGREED_MESS, pa, &["g"], 5, b"x"));
    assert_eq!(expect_data(&mut a).data, b"x", "no join membership first");
    a.send(&request(LEAVE_MESS, pa, &["g"], 0, b""));
    a.send(&request(AGREED_MESS, pa, &[pa], 6, b"y"));
    assert_eq!(expect_data(&mut a).data, b"y", "no self-leave");
}

#[test]
fn daemon_survives_garbage() {
    let mut d = TestDaemon::start("");
    let mut seed = 0x1234_5678_u64;
    for _ in 0..30 {
        let mut c = d.raw();
        let mut junk = vec![0u8; 300];
        for b in junk.iter_mut() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            *b = seed as u8;
        }
        c.send(&junk);
    }
    for i in 0..30 {
        let (mut c, me) = client(&d, &format!("junk{i}"));
        let mut f = request(AGREED_MESS, &me, &["g"], 0, b"");
        f[44..48].copy_from_slice(&i32::MIN.to_le_bytes());
        c.send(&f);
        c.read_to_close();
    }
    assert!(d.is_running());
    client(&d, "alive");
}

#[test]
fn bits_a_client_may_not_send_are_refused_not_forwarded() {
    let d = TestDaemon::start("");
    let (mut a, pa, mut b) = two_members_of_g(&d);
    for forged in [
        AGREED_MESS | REJECT_MESS,
        AGREED_MESS | REG_MEMB_MESS | CAUSED_BY_NETWORK,
        SAFE_MESS | TRANSITION_MESS,
    ] {
        a.send(&request(forged, &pa, &["g"], 4, b"forged"));
        match a.message() {
            Message::Reject(r) => assert_eq!(r.old_type, forged),
            other => panic!("expected a reject of {forged:#x}, got {other:?}"),
        }
    }
    // b saw none of them: its next message is the honest one, and its
    // stream is still in step.
    a.send(&request(AGREED_MESS, &pa, &["g"], 0, b"honest"));
    assert_eq!(expect_data(&mut b).data, b"honest");
    assert_eq!(expect_data(&mut a).data, b"honest");
}
