//! The membership engine alone, fed packets by hand.

use super::*;
use crate::packet::{
    Form1Body, FormBody, FormMembers, FormReps, FormToken, MembershipPacket, TokenHeader,
    FORM1_TYPE, SEG_REP,
};

const HASH: u32 = 5;

fn daemon(me: u32) -> Membership {
    Membership::new(
        MembershipConfig {
            me,
            daemons: vec![Daemon { id: 1, segment: 0 }, Daemon { id: 2, segment: 0 }],
            conf_hash: HASH,
            window: 160,
            personal_window: 20,
            accelerated_window: None,
            timeouts: Timeouts::LAN,
            epoch_secs: 1000,
        },
        0,
    )
}

fn alive(from: u32, hash: u32) -> Packet {
    let mut p = MembershipPacket::alive(from, vec![from]);
    p.header.conf_hash = hash;
    Packet::Membership(p)
}

/// A FORM1 from daemon 1 that names daemon 2 as the next member.
fn form1(hash: u32) -> Packet {
    let mut header = TokenHeader::new(FORM1_TYPE);
    header.memb_id = MembId::new(1, 1001);
    header.conf_hash = hash;
    header.transmiter_id = 1;
    Packet::Form(FormToken {
        header,
        body: FormBody::Form1(Form1Body {
            members: FormMembers {
                done: vec![1],
                pending: vec![2],
                stale: Default::default(),
            },
            reps: FormReps {
                rep_index: 1,
                reps: vec![Rep {
                    proc_id: 1,
                    kind: SEG_REP,
                    seg_index: 0,
                }],
                stale: Default::default(),
            },
            rings: Vec::new(),
        }),
    })
}

#[test]
fn the_first_daemon_heard_gathers_and_the_others_are_represented() {
    let mut d2 = daemon(2);
    assert_eq!(d2.state(), State::Seg);
    d2.handle_packet(alive(1, HASH), 100);
    d2.handle_timeout(Timeouts::LAN.seg);
    assert_eq!(d2.state(), State::Represented);
    let mut d1 = daemon(1);
    d1.handle_packet(alive(2, HASH), 100);
    d1.handle_timeout(Timeouts::LAN.seg);
    assert_eq!(d1.state(), State::Gather);
}

#[test]
fn packets_of_another_configuration_are_counted_and_ignored() {
    let mut d2 = daemon(2);
    d2.handle_packet(alive(1, HASH + 1), 100);
    d2.handle_timeout(Timeouts::LAN.seg);
    // Daemon 1's ALIVE did not count: daemon 2 heard only itself.
    assert_eq!(d2.state(), State::Gather);
    assert_eq!(d2.refused, 1);

    let mut d2 = daemon(2);
    d2.handle_packet(alive(1, HASH), 100);
    d2.handle_timeout(Timeouts::LAN.seg);
    d2.handle_packet(form1(HASH + 1), 200);
    assert_eq!(d2.state(), State::Represented);
    assert_eq!(d2.refused, 1);
    d2.handle_packet(form1(HASH), 300);
    assert_eq!(d2.state(), State::Form);
    // It sends the token on (twice) to the next: back to daemon 1 as FORM2.
    let mut tokens = 0;
    while let Some(s) = d2.poll_send() {
        if let Send::Token { to, .. } = s {
            assert_eq!(to, 1);
            tokens += 1;
        }
    }
    assert_eq!(tokens, 2);
}

#[test]
fn alive_lists_me_first_then_the_daemons_heard() {
    let mut d2 = daemon(2);
    d2.handle_packet(alive(1, HASH), 100);
    while d2.poll_send().is_some() {}
    d2.handle_timeout(Timeouts::LAN.alive);
    let Some(Send::Broadcast(bytes)) = d2.poll_send() else {
        panic!("an ALIVE")
    };
    let Ok(Packet::Membership(p)) = Packet::decode(crate::packet::Port::Data, &bytes) else {
        panic!("a membership packet")
    };
    let MembershipBody::Alive(list) = p.body else {
        panic!("{:?}", p.body)
    };
    assert_eq!(list.ids, [2, 1]);
}
