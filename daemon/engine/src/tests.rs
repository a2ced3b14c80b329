use super::exchange::DaemonInfo;
use super::*;
use crate::packet::MembId;
use spread_core::wire::encode::request_head;
use spread_core::wire::{split_frame, Limits, Message};

const ME: Identity = Identity {
    proc_id: 482711334,
    daemon_index: 0,
    membership_time: 1000,
};

struct Harness {
    engine: Engine,
}

fn pg(name: &str) -> GroupName {
    GroupName::from(format!("#{name}#localhost").as_str())
}

impl Harness {
    fn new(clients: &[(&str, bool)]) -> Harness {
        let mut engine = Engine::new(ME);
        for (i, (name, membership)) in clients.iter().enumerate() {
            engine.open(
                SessionId(i as u64),
                SessionInfo {
                    private_group: pg(name),
                    membership: *membership,
                },
            );
        }
        Harness { engine }
    }

    fn send(
        &mut self,
        from: u64,
        service: u32,
        groups: &[&str],
        body: &[u8],
        order: ByteOrder,
    ) -> Vec<(u64, Message)> {
        let sender = self.engine.sessions[&SessionId(from)].private_group;
        let groups: Vec<GroupName> = groups.iter().map(|g| GroupName::from(*g)).collect();
        let mut frame = request_head(service, &sender, &groups, 3, body.len(), order);
        frame.extend_from_slice(body);
        let header = Header::decode(frame[..HEADER_LEN].try_into().unwrap());
        let mut out = Vec::new();
        self.engine
            .request(SessionId(from), &header, Bytes::from(frame), &mut out);
        decode(out)
    }
}

fn decode(out: Vec<Output>) -> Vec<(u64, Message)> {
    out.into_iter()
        .filter_map(|o| match o {
            Output::Deliver { session, frame } => {
                let (f, used) = split_frame(&frame, &Limits::CLIENT).unwrap().unwrap();
                assert_eq!(used, frame.len());
                Some((session.0, Message::from_frame(&f).unwrap()))
            }
            Output::Close { .. } | Output::Order { .. } => None,
        })
        .collect()
}

fn data(m: &Message) -> &spread_core::wire::DataMessage {
    match m {
        Message::Data(d) => d,
        other => panic!("expected data, got {other:?}"),
    }
}

fn memb(m: &Message) -> &spread_core::wire::MembershipMessage {
    match m {
        Message::Membership(d) => d,
        other => panic!("expected membership, got {other:?}"),
    }
}

const LE: ByteOrder = ByteOrder::Little;

#[test]
fn join_then_own_message_in_that_order() {
    let mut h = Harness::new(&[("a", true)]);
    let out = h.send(0, JOIN_MESS, &["g"], b"", LE);
    assert_eq!(out.len(), 1);
    let v = memb(&out[0].1);
    assert_eq!(v.cause(), CAUSED_BY_JOIN);
    assert_eq!(
        v.group_id,
        spread_core::wire::GroupId {
            proc_id: ME.proc_id,
            time: 1000,
            index: 1
        }
    );
    let out = h.send(0, AGREED_MESS, &["g"], b"hi", LE);
    assert_eq!(data(&out[0].1).data, b"hi");
    assert_eq!(data(&out[0].1).mess_type, 3);
}

#[test]
fn one_copy_per_receiver_with_the_full_list() {
    let mut h = Harness::new(&[("a", true), ("b", false)]);
    h.send(1, JOIN_MESS, &["g1"], b"", LE);
    h.send(1, JOIN_MESS, &["g2"], b"", LE);
    let out = h.send(
        0,
        SAFE_MESS,
        &["g1", "g2", "#b#localhost", "nobody"],
        b"x",
        LE,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, 1);
    assert_eq!(data(&out[0].1).groups.len(), 4);
}

#[test]
fn self_discard_skips_only_the_sender() {
    let mut h = Harness::new(&[("a", true), ("b", true)]);
    h.send(0, JOIN_MESS, &["g"], b"", LE);
    h.send(1, JOIN_MESS, &["g"], b"", LE);
    let out = h.send(0, RELIABLE_MESS | SELF_DISCARD, &["g"], b"x", LE);
    assert_eq!(out.iter().map(|o| o.0).collect::<Vec<_>>(), [1]);
    assert_eq!(data(&out[0].1).service_type, RELIABLE_MESS | SELF_DISCARD);
}

#[test]
fn big_endian_sender_is_remarked_but_its_hint_kept() {
    let mut h = Harness::new(&[("a", true), ("b", true)]);
    h.send(1, JOIN_MESS, &["g"], b"", LE);
    let out = h.send(0, AGREED_MESS, &["g"], b"be", ByteOrder::Big);
    let d = data(&out[0].1);
    assert_eq!(d.service_type, AGREED_MESS);
    assert_eq!(d.mess_type, 3);
    assert_eq!(d.endian_mismatch, ByteOrder::NATIVE != ByteOrder::Big);
}

#[test]
fn memberships_only_with_the_flag_and_self_leave_first() {
    let mut h = Harness::new(&[("a", true), ("b", false), ("c", true)]);
    for s in 0..3 {
        h.send(s, JOIN_MESS, &["g"], b"", LE);
    }
    let out = h.send(0, LEAVE_MESS, &["g"], b"", LE);
    assert!(matches!(out[0], (0, Message::SelfLeave { .. })));
    assert_eq!(out.len(), 2);
    let v = memb(&out[1].1);
    assert_eq!(out[1].0, 2);
    assert_eq!(v.cause(), CAUSED_BY_LEAVE);
    assert_eq!(v.members, vec![pg("b"), pg("c")]);
    assert_eq!(v.changed_member(), Some(&pg("a")));
    assert_eq!(v.group_id.index, 4);
}

#[test]
fn kill_sends_disconnect_views_then_closes() {
    let mut h = Harness::new(&[("a", true), ("b", true)]);
    for g in ["g1", "g2"] {
        h.send(0, JOIN_MESS, &[g], b"", LE);
        h.send(1, JOIN_MESS, &[g], b"", LE);
    }
    let mut out = Vec::new();
    h.engine.kill(SessionId(0), &mut out);
    assert_eq!(
        out.last(),
        Some(&Output::Close {
            session: SessionId(0)
        })
    );
    let views = decode(out);
    assert_eq!(views.len(), 2);
    for (to, v) in &views {
        assert_eq!(*to, 1);
        assert_eq!(memb(v).cause(), CAUSED_BY_DISCONNECT);
    }
    // The name is free again and messages to it go nowhere.
    assert!(h.send(1, FIFO_MESS, &["#a#localhost"], b"x", LE).is_empty());
}

#[test]
fn illegal_join_is_refused_to_the_sender() {
    let mut h = Harness::new(&[("a", true)]);
    let out = h.send(0, JOIN_MESS, &["has space"], b"", LE);
    match &out[0].1 {
        Message::Reject(r) => {
            assert_eq!(r.old_type, CAUSED_BY_JOIN);
            assert_eq!(r.groups.last(), Some(&pg("a")));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.engine.group_count(), 0);
}

#[test]
fn many_groups_are_all_delivered() {
    let mut h = Harness::new(&[("a", true), ("b", true)]);
    let names: Vec<String> = (0..100).map(|i| format!("g{i}")).collect();
    h.send(1, JOIN_MESS, &["g99"], b"", LE);
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = h.send(0, AGREED_MESS, &refs, b"x", LE);
    assert_eq!(out.len(), 1);
    assert_eq!(data(&out[0].1).groups.len(), 100);
}

#[test]
fn members_of_other_daemons_are_ordered_and_named_in_views() {
    let mut h = Harness::new(&[("a", true)]);
    h.send(0, JOIN_MESS, &["g"], b"", LE);
    // A client of the daemon at configuration position 1 joins.
    let remote = GroupName::from("#r#other");
    let mut frame = request_head(JOIN_MESS, &remote, &[GroupName::from("g")], 0, 0, LE);
    let header = Header::decode(frame[..HEADER_LEN].try_into().unwrap());
    let mut out = Vec::new();
    h.engine.ordered(
        1,
        &header,
        &Bytes::from(std::mem::take(&mut frame)),
        &mut out,
    );
    let view = decode(out);
    let v = memb(&view[0].1);
    assert_eq!(v.members, vec![pg("a"), remote]);
    // Its data reaches the local member; its disconnect is a view here.
    let mut data = request_head(AGREED_MESS, &remote, &[GroupName::from("g")], 0, 2, LE);
    data.extend_from_slice(b"hi");
    let header = Header::decode(data[..HEADER_LEN].try_into().unwrap());
    let mut out = Vec::new();
    h.engine.ordered(1, &header, &Bytes::from(data), &mut out);
    assert_eq!(data_of(&decode(out)[0].1), b"hi");
    let kill = request_head(KILL_MESS, &remote, &[], 0, 0, LE);
    let header = Header::decode(kill[..HEADER_LEN].try_into().unwrap());
    let mut out = Vec::new();
    h.engine.ordered(1, &header, &Bytes::from(kill), &mut out);
    assert!(
        !out.iter().any(|o| matches!(o, Output::Close { .. })),
        "no local session to close"
    );
    let v = decode(out);
    assert_eq!(memb(&v[0].1).cause(), CAUSED_BY_DISCONNECT);
    assert_eq!(memb(&v[0].1).members, vec![pg("a")]);
}

fn data_of(m: &Message) -> Vec<u8> {
    data(m).data.clone()
}

/// The partition half of vector 15: X at n1 (position 0) and Y at n2
/// (position 1) in `ngrp`; n2 is lost. X gets the transitional signal with
/// the old group id, then a network view with only itself — the bytes
/// 5.0.1 sent, but for the membership times.
#[test]
fn a_lost_daemon_gives_a_transitional_signal_then_a_network_view_as_501() {
    let steps = spread_core::vectors::load_all().expect("vectors");
    let (_, steps) = steps.iter().find(|(n, _)| n.starts_with("15-")).unwrap();
    let step = |n: u32| steps.iter().find(|s| s.number == n).unwrap().bytes.clone();
    let n1 = 1249384167u32;
    let mut engine = Engine::new(Identity {
        proc_id: n1,
        daemon_index: 0,
        membership_time: 1000,
    });
    engine.open(
        SessionId(1),
        SessionInfo {
            private_group: GroupName::from("#netX#n1"),
            membership: true,
        },
    );
    let ordered = |e: &mut Engine, origin: usize, sender: &str, service: u32| {
        let frame = request_head(
            service,
            &GroupName::from(sender),
            &[GroupName::from("ngrp")],
            0,
            0,
            LE,
        );
        let header = Header::decode(frame[..HEADER_LEN].try_into().unwrap());
        let mut out = Vec::new();
        e.ordered(origin, &header, &Bytes::from(frame), &mut out);
        out
    };
    ordered(&mut engine, 0, "#netX#n1", JOIN_MESS);
    ordered(&mut engine, 1, "#netY#n2", JOIN_MESS);
    let mut out = Vec::new();
    engine.transitional(&[0].into_iter().collect(), MembId::new(n1, 2000), &mut out);
    engine.regular_after_loss(MembId::new(n1, 2001), &mut out);
    let frames: Vec<Vec<u8>> = out
        .into_iter()
        .map(|o| match o {
            Output::Deliver { session, frame } => {
                assert_eq!(session, SessionId(1));
                frame.to_vec()
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(frames.len(), 2);
    // Same bytes as 5.0.1's, the group ids' time fields aside.
    let mask = |mut v: Vec<u8>, body_at: usize| {
        v[body_at + 4..body_at + 8].fill(0);
        v
    };
    assert_eq!(
        mask(frames[0].clone(), 48),
        mask(step(19), 48),
        "transitional signal"
    );
    assert_eq!(
        mask(frames[1].clone(), 48 + 32),
        mask(step(20), 48 + 32),
        "network view"
    );
    // The old id in the signal is the join view's (index 2); the view's id
    // is the new ring's with index 1.
    assert_eq!(&frames[0][48..52], &n1.to_le_bytes());
    assert_eq!(&frames[0][56..60], &2i32.to_le_bytes());
    assert_eq!(&frames[1][80..84], &n1.to_le_bytes());
    assert_eq!(&frames[1][88..92], &1i32.to_le_bytes());
    // Y is gone from the group: a later join of Z makes it two members.
    engine.open(
        SessionId(2),
        SessionInfo {
            private_group: GroupName::from("#z#n1"),
            membership: false,
        },
    );
    let out = ordered(&mut engine, 0, "#z#n1", JOIN_MESS);
    assert_eq!(memb(&decode(out)[0].1).members.len(), 2);
}

/// All of vector 15 in the group layer: X at n1 and Y at n2 in `ngrp`; n2
/// freezes, n1 installs a ring of itself (transitional signal, network
/// view with X); n2 resumes: its transitional configuration is itself (Y
/// gets a signal), then both join one ring; the representatives' GROUPS
/// messages are ordered, and both clients get a network view with two
/// vs-sets, [X] then [Y], each pointing at its own — 5.0.1's bytes.
#[test]
fn a_merge_exchanges_group_state_and_gives_two_vs_sets_as_501() {
    let steps = spread_core::vectors::load_all().expect("vectors");
    let (_, steps) = steps.iter().find(|(n, _)| n.starts_with("15-")).unwrap();
    let step = |n: u32| steps.iter().find(|s| s.number == n).unwrap().bytes.clone();
    let (n1, n2) = (1249384167u32, 3002951344u32);
    let daemons = vec![
        DaemonInfo {
            id: n1,
            name: "n1".into(),
        },
        DaemonInfo {
            id: n2,
            name: "n2".into(),
        },
    ];
    let mut e1 = Engine::new(Identity {
        proc_id: n1,
        daemon_index: 0,
        membership_time: 1000,
    });
    let mut e2 = Engine::new(Identity {
        proc_id: n1,
        daemon_index: 1,
        membership_time: 1000,
    });
    e1.configure(daemons.clone());
    e2.configure(daemons);
    e1.open(
        SessionId(1),
        SessionInfo {
            private_group: GroupName::from("#netX#n1"),
            membership: true,
        },
    );
    e2.open(
        SessionId(2),
        SessionInfo {
            private_group: GroupName::from("#netY#n2"),
            membership: true,
        },
    );
    let frame = |sender: &str, service: u32| {
        request_head(
            service,
            &GroupName::from(sender),
            &[GroupName::from("ngrp")],
            0,
            0,
            LE,
        )
    };
    let order_at = |e: &mut Engine, origin: usize, f: &[u8]| {
        let header = Header::decode(f[..HEADER_LEN].try_into().unwrap());
        let mut out = Vec::new();
        e.ordered(origin, &header, &Bytes::copy_from_slice(f), &mut out);
        out
    };
    for (origin, f) in [
        (0, frame("#netX#n1", JOIN_MESS)),
        (1, frame("#netY#n2", JOIN_MESS)),
    ] {
        order_at(&mut e1, origin, &f);
        order_at(&mut e2, origin, &f);
    }
    // n1 alone.
    let mut out1 = Vec::new();
    e1.transitional(&[0].into_iter().collect(), MembId::new(n1, 2000), &mut out1);
    e1.regular(&[0].into_iter().collect(), MembId::new(n1, 2001), &mut out1);
    assert_eq!(out1.len(), 2, "signal and view for X");
    // n2 resumes; then the merged ring {n1, n2}.
    let both: std::collections::BTreeSet<usize> = [0, 1].into_iter().collect();
    let mut out2 = Vec::new();
    e2.transitional(&[1].into_iter().collect(), MembId::new(n2, 2002), &mut out2);
    let mut out1 = Vec::new();
    e1.transitional(&[0].into_iter().collect(), MembId::new(n1, 2003), &mut out1);
    assert!(
        out1.is_empty(),
        "a merge that loses nobody sends no transitional signal"
    );
    e1.regular(&both, MembId::new(n1, 2004), &mut out1);
    e2.regular(&both, MembId::new(n1, 2004), &mut out2);
    let take_orders = |out: &mut Vec<Output>| -> Vec<Bytes> {
        let mut orders = Vec::new();
        out.retain(|o| match o {
            Output::Order { frame, .. } => {
                orders.push(frame.clone());
                false
            }
            _ => true,
        });
        orders
    };
    let mut groups_msgs: Vec<(usize, Bytes)> =
        take_orders(&mut out1).into_iter().map(|m| (0, m)).collect();
    groups_msgs.extend(take_orders(&mut out2).into_iter().map(|m| (1, m)));
    assert_eq!(groups_msgs.len(), 2, "one GROUPS message per synced set");
    // Agreed order: the same sequence at both daemons.
    for (origin, m) in &groups_msgs {
        out1.extend(order_at(&mut e1, *origin, m));
        out2.extend(order_at(&mut e2, *origin, m));
    }
    let frames = |out: Vec<Output>| -> Vec<Vec<u8>> {
        out.into_iter()
            .filter_map(|o| match o {
                Output::Deliver { frame, .. } => Some(frame.to_vec()),
                _ => None,
            })
            .collect()
    };
    let (f1, f2) = (frames(out1), frames(out2));
    let mask = |mut v: Vec<u8>, body_at: usize| {
        v[body_at + 4..body_at + 8].fill(0);
        v
    };
    assert_eq!(f2.len(), 2, "Y: transitional signal, then the view");
    assert_eq!(
        mask(f2[0].clone(), 48),
        mask(step(21), 48),
        "Y's transitional signal"
    );
    assert_eq!(f1.len(), 1, "X: the view");
    let view_body = 48 + 2 * 32;
    assert_eq!(
        mask(f1[0].clone(), view_body),
        mask(step(22), view_body),
        "X's network view"
    );
    assert_eq!(
        mask(f2[1].clone(), view_body),
        mask(step(23), view_body),
        "Y's network view"
    );
    // The same groups at both daemons afterwards.
    assert_eq!(
        e1.groups().get(&GroupName::from("ngrp")).unwrap().id,
        e2.groups().get(&GroupName::from("ngrp")).unwrap().id
    );
}

/// A merge whose state is larger than one GROUPS message (issue 12,
/// item 3): n1 alone knows 3,500 members of `big` (more than one record
/// holds) and 600 groups of eleven; n2 knows one member of `big`. n1 sends
/// its state as a sequence, as 5.0.1 does: every message at most 100,000
/// bytes, the one with the synced set last and alone AGREED. Both daemons
/// collect n1's records until that message, ignore messages of another
/// configuration or that name another daemon, and end with the same groups.
#[test]
fn a_state_larger_than_one_message_goes_as_a_sequence_as_501_sends_it() {
    use crate::packet::{groups_sender_name, groups_synced_set_size, GroupsBody};
    let (n1, n2) = (1249384167u32, 3002951344u32);
    let daemons = vec![
        DaemonInfo {
            id: n1,
            name: "n1".into(),
        },
        DaemonInfo {
            id: n2,
            name: "n2".into(),
        },
    ];
    let mut e1 = Engine::new(Identity {
        proc_id: n1,
        daemon_index: 0,
        membership_time: 1000,
    });
    let mut e2 = Engine::new(Identity {
        proc_id: n1,
        daemon_index: 1,
        membership_time: 1000,
    });
    e1.configure(daemons.clone());
    e2.configure(daemons);
    e2.open(
        SessionId(7),
        SessionInfo {
            private_group: GroupName::from("#y#n2"),
            membership: true,
        },
    );
    let order_at = |e: &mut Engine, origin: usize, f: &[u8]| {
        let header = Header::decode(f[..HEADER_LEN].try_into().unwrap());
        let mut out = Vec::new();
        e.ordered(origin, &header, &Bytes::copy_from_slice(f), &mut out);
        out
    };
    let join = |sender: &str, group: &str| {
        request_head(
            JOIN_MESS,
            &GroupName::from(sender),
            &[GroupName::from(group)],
            0,
            0,
            LE,
        )
    };
    // Apart: each daemon alone, then its own members join.
    let mut out = Vec::new();
    e1.transitional(&[0].into_iter().collect(), MembId::new(n1, 2000), &mut out);
    e1.regular(&[0].into_iter().collect(), MembId::new(n1, 2001), &mut out);
    e2.transitional(&[1].into_iter().collect(), MembId::new(n2, 2000), &mut out);
    e2.regular(&[1].into_iter().collect(), MembId::new(n2, 2001), &mut out);
    for k in 0..3_500 {
        order_at(&mut e1, 0, &join(&format!("#m{k:04}#n1"), "big"));
    }
    for g in 0..600 {
        for k in 0..11 {
            order_at(&mut e1, 0, &join(&format!("#s{k}#n1"), &format!("g{g:03}")));
        }
    }
    order_at(&mut e2, 1, &join("#y#n2", "big"));
    // Together again.
    let both: std::collections::BTreeSet<usize> = [0, 1].into_iter().collect();
    let reg = MembId::new(n1, 2010);
    let mut out1 = Vec::new();
    let mut out2 = Vec::new();
    e1.transitional(&[0].into_iter().collect(), MembId::new(n1, 2009), &mut out1);
    e2.transitional(&[1].into_iter().collect(), MembId::new(n2, 2009), &mut out2);
    e1.regular(&both, reg, &mut out1);
    e2.regular(&both, reg, &mut out2);
    let orders = |out: Vec<Output>| -> Vec<(Bytes, u32)> {
        out.into_iter()
            .filter_map(|o| match o {
                Output::Order { frame, service } => Some((frame, service)),
                _ => None,
            })
            .collect()
    };
    let (seq1, seq2) = (orders(out1), orders(out2));
    assert_eq!(seq2.len(), 1, "n2's small state is one message");
    // 3,500 × 32 + 6,600 × 32 bytes of names: four messages.
    assert_eq!(seq1.len(), 4);
    let mut bodies = Vec::new();
    for (i, (frame, service)) in seq1.iter().enumerate() {
        assert!(frame.len() <= 100_000, "message {i}: {} bytes", frame.len());
        let h = Header::decode(frame[..HEADER_LEN].try_into().unwrap());
        let last = i == seq1.len() - 1;
        let want = if last { AGREED_MESS } else { RELIABLE_MESS };
        assert_eq!(*service, want, "message {i}");
        assert_eq!(h.service_type, GROUPS_MESS | want, "message {i}");
        assert_eq!(groups_sender_name(&h.sender), b"n1");
        assert_eq!(groups_synced_set_size(&h.sender, h.order), 1);
        let body = GroupsBody::decode(&frame[HEADER_LEN..], h.order).unwrap();
        // The message with the synced set (built first) goes last.
        assert_eq!(body.synced_set.is_some(), last, "message {i}");
        bodies.push(body);
    }
    // Built first, sent last: `big`'s 3,500 members are cut between the
    // message sent last and the one sent third.
    let big = GroupName::from("big");
    assert_eq!(bodies[3].groups[0].name, big);
    assert_eq!(bodies[2].groups[0].name, big);
    let part = |b: &GroupsBody| b.groups[0].daemons[0].members.len();
    assert_eq!(part(&bodies[3]) + part(&bodies[2]), 3_500);
    // The agreed order: n2's message among n1's, and n1's last message
    // out of place — of another configuration, or sent by n2 — which
    // would end the exchange too soon.
    let last = &seq1[3].0;
    let mut stale = last.to_vec();
    stale[HEADER_LEN + 4..HEADER_LEN + 8].copy_from_slice(&2001i32.to_le_bytes());
    let mut delivered1 = Vec::new();
    let mut delivered2 = Vec::new();
    let mut deliver = |origin: usize, f: &[u8], e1: &mut Engine, e2: &mut Engine| {
        delivered1.extend(order_at(e1, origin, f));
        delivered2.extend(order_at(e2, origin, f));
    };
    deliver(0, &seq1[0].0, &mut e1, &mut e2);
    deliver(1, last, &mut e1, &mut e2);
    deliver(1, &seq2[0].0, &mut e1, &mut e2);
    deliver(0, &stale, &mut e1, &mut e2);
    for (frame, _) in &seq1[1..] {
        assert!(e1.exchanging() && e2.exchanging());
        deliver(0, frame, &mut e1, &mut e2);
    }
    assert!(!e1.exchanging() && !e2.exchanging(), "the exchange is over");
    for e in [&e1, &e2] {
        assert_eq!(e.group_count(), 601);
        let members: usize = e.groups().iter().map(|g| g.members.len()).sum();
        assert_eq!(members, 3_501 + 6_600);
    }
    let names = |e: &Engine| -> Vec<GroupName> {
        let g = e.groups().get(&big).unwrap();
        g.members.iter().map(|m| m.name).collect()
    };
    assert_eq!(names(&e1), names(&e2));
    assert_eq!(names(&e1)[0], GroupName::from("#m0000#n1"));
    assert_eq!(names(&e1)[3_499], GroupName::from("#m3499#n1"));
    assert_eq!(names(&e1)[3_500], GroupName::from("#y#n2"));
    // y's view: everyone, n1's members and itself in two vs-sets.
    let views = decode(delivered2);
    let (_, view) = views.last().expect("a view for y");
    let v = memb(view);
    assert_eq!(v.cause(), CAUSED_BY_NETWORK);
    assert_eq!(v.members.len(), 3_501);
    assert_eq!(v.vs_sets.len(), 2);
    assert!(decode(delivered1).is_empty(), "n1 has no sessions");
}

/// An ordered message speaks only for clients of the daemon that sent it:
/// a forged data message "from" another daemon's client, or a forged KILL
/// of it, changes nothing and is counted.
#[test]
fn ordered_messages_of_another_daemons_clients_are_dropped() {
    let mut e = Engine::new(ME);
    e.configure(vec![
        DaemonInfo {
            id: ME.proc_id,
            name: "localhost".into(),
        },
        DaemonInfo {
            id: ME.proc_id + 1,
            name: "other".into(),
        },
    ]);
    e.open(
        SessionId(0),
        SessionInfo {
            private_group: pg("a"),
            membership: true,
        },
    );
    let ordered = |e: &mut Engine, origin: usize, sender: GroupName, service: u32| {
        let mut frame = request_head(service, &sender, &[GroupName::from("g")], 0, 2, LE);
        frame.extend_from_slice(b"hi");
        let header = Header::decode(frame[..HEADER_LEN].try_into().unwrap());
        let mut out = Vec::new();
        e.ordered(origin, &header, &Bytes::from(frame), &mut out);
        out
    };
    assert_eq!(ordered(&mut e, 0, pg("a"), JOIN_MESS).len(), 1);
    // Daemon 1 claims a message and a disconnect of daemon 0's client.
    assert!(ordered(&mut e, 1, pg("a"), AGREED_MESS).is_empty());
    assert!(ordered(&mut e, 1, pg("a"), KILL_MESS).is_empty());
    // Or a client of a daemon that does not exist, or a malformed name.
    assert!(ordered(&mut e, 1, GroupName::from("#x#nowhere"), JOIN_MESS).is_empty());
    assert!(ordered(&mut e, 1, GroupName::from("#x#other#y"), JOIN_MESS).is_empty());
    assert_eq!(e.forged(), 4);
    // Its own client's message is delivered, and a's session is still open.
    let out = ordered(&mut e, 1, GroupName::from("#r#other"), AGREED_MESS);
    assert_eq!(data_of(&decode(out)[0].1), b"hi");
    let out = ordered(&mut e, 0, pg("a"), AGREED_MESS);
    assert_eq!(data_of(&decode(out)[0].1), b"hi");
}
