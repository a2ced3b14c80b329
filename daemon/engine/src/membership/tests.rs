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
            max_message_len: crate::packet::MAX_MESSAGE_LEN,
            packet_body: crate::packet::MAX_BODY_LEN,
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

// ---------------------------------------------------------------------------
// Whole rings forming, on the simulated network

use crate::packet::{Port as PacketPort, RegularToken, RtrBlock};
use crate::testnet::memberships::Memberships;
use crate::testnet::net::{Datagram, Faults, Port};

/// The daemons of the recordings (`vectors-daemon`): d1, d2, d3.
const IDS: [u32; 3] = [1552775919, 348480928, 4014350958];

fn token_of(bytes: &[u8]) -> Option<RegularToken> {
    match Packet::decode(PacketPort::Token, bytes) {
        Ok(Packet::Token(t)) => Some(t),
        _ => None,
    }
}

fn started_together() -> Memberships {
    let mut m = Memberships::new(&IDS, HASH, Faults::NONE, 1);
    m.run_until(3_000_000);
    assert!(m.one_ring(), "no ring of the three");
    m
}

/// 5.0.1 keeps the token's seq at its creator's 0 during EVS and raises
/// only the aru to `Last_seq` (3333 on a fresh start); a 5.0.1 daemon that
/// sees seq 3333 asks for 3,333 messages that never existed
/// (`vectors-daemon/08-mixed-ring.txt`, packets 34 and 35).
#[test]
fn the_evs_token_keeps_seq_0_and_raises_only_the_aru_to_last_seq() {
    let m = started_together();
    let evs: Vec<RegularToken> = m
        .sent
        .iter()
        .filter(|s| s.port == Port::Token && s.state == State::Evs)
        .filter_map(|s| token_of(&s.bytes))
        .collect();
    assert!(evs.len() >= 6, "{} EVS tokens", evs.len());
    for t in &evs {
        assert_eq!(t.header.seq, 0, "an EVS token: {:?}", t.header);
    }
    assert!(evs.iter().any(|t| t.header.aru == SEQ_MARGIN));
    // The first token, made by the last member on FORM2: seq 0, aru
    // INT32_MAX, set by -1.
    let first = m
        .sent
        .iter()
        .filter(|s| s.port == Port::Token && s.state == State::Form)
        .find_map(|s| token_of(&s.bytes))
        .expect("a first token");
    assert_eq!(
        (first.header.seq, first.header.aru, first.header.aru_last_id),
        (0, i32::MAX, u32::MAX)
    );
    // Once installed, the first holder lowers the aru to 0: seq 0, aru 0.
    let op: Vec<RegularToken> = m
        .sent
        .iter()
        .filter(|s| s.port == Port::Token && s.state == State::Op)
        .filter_map(|s| token_of(&s.bytes))
        .collect();
    assert!(!op.is_empty());
    assert_eq!((op[0].header.seq, op[0].header.aru), (0, 0));
    // Every daemon installed the ring once, with the same configurations.
    let configs: Vec<Vec<&Delivery>> = m
        .deliveries
        .iter()
        .map(|d| {
            d.iter()
                .filter(|d| matches!(d, Delivery::Regular { .. }))
                .collect()
        })
        .collect();
    assert!(configs
        .iter()
        .all(|c| c.len() == 1 && c[0] == configs[0][0]));
}

/// ALIVE and JOIN as 5.0.1 sends them (`vectors-daemon/01`, packets 1-18):
/// the network layer writes the sender as `transmiter_id` (5.0.1 drops a
/// data-port packet whose transmitter is not a configured daemon, so an
/// ALIVE with 0 there is never heard), and `memb_id` is never written.
#[test]
fn alive_and_join_name_the_sender_as_transmitter_and_no_ring() {
    let m = started_together();
    let mut kinds = std::collections::HashSet::new();
    for s in m.sent.iter().filter(|s| s.port == Port::Data) {
        let Ok(Packet::Membership(p)) = Packet::decode(PacketPort::Data, &s.bytes) else {
            continue;
        };
        let h = &p.header;
        assert_eq!(h.transmiter_id, IDS[s.from], "{p:?}");
        assert_eq!(h.proc_id, IDS[s.from], "{p:?}");
        assert_eq!(h.memb_id, MembId::default(), "{p:?}");
        assert_eq!((h.seq, h.token_round, h.conf_hash), (0, 0, HASH), "{p:?}");
        kinds.insert(std::mem::discriminant(&p.body));
    }
    assert!(kinds.len() >= 2, "ALIVE and JOIN seen");
}

/// Sets the regular tokens daemon `who` sends in `state` as `f` says
/// (a peer that keeps asking for what nobody has).
fn tamper_tokens(
    m: &mut Memberships,
    who: usize,
    mut f: impl FnMut(&mut RegularToken) -> bool + 'static,
) {
    m.tamper = Some(Box::new(move |d: &mut Datagram| {
        if d.from != who || d.port != Port::Token {
            return true;
        }
        if let Some(mut t) = token_of(&d.bytes) {
            if f(&mut t) {
                d.bytes = t.encode();
            }
        }
        true
    }));
}

/// In OP: a peer that keeps the token's aru down and asks, visit after
/// visit, for a packet it never takes. The others resend it for a bounded
/// number of visits, then the ring is given up for a new membership.
#[test]
fn a_peer_that_keeps_asking_in_op_is_cut_off_by_a_new_membership() {
    let mut m = started_together();
    let ring = m.daemons[0].memb_id();
    m.daemons[0]
        .submit(
            bytes::Bytes::from(vec![7u8; 100]),
            crate::packet::AGREED_TYPE,
            m.now,
        )
        .unwrap();
    let start = m.now;
    tamper_tokens(&mut m, 2, move |t| {
        if t.header.memb_id != ring || t.header.seq == 0 {
            return false;
        }
        t.header.aru = 0;
        t.header.aru_last_id = IDS[2];
        t.rtr = vec![RtrBlock {
            memb_id: ring,
            proc_id: IDS[2],
            seg_index: 0,
            seqs: vec![1],
        }];
        true
    });
    m.run_until(start + 1_000_000);
    let stuck: u64 = m.daemons.iter().map(|d| d.ring().stats.stuck).sum();
    assert!(stuck >= 1, "the ring was never given up");
    let resent: u64 = m.daemons.iter().map(|d| d.ring().stats.retransmitted).sum();
    assert!(
        (500..=1100).contains(&resent),
        "{resent} resends before the ring was given up"
    );
    // The peer asks only on the stalled ring: the next one works.
    m.run_until(start + 4_000_000);
    assert!(m.one_ring(), "no new ring");
    assert_ne!(m.daemons[0].memb_id(), ring, "still on the stalled ring");
}

/// In EVS: a peer that asks for its old ring's packets 1..3333 and never
/// commits (what 5.0.1 did in `08-mixed-ring.txt`) holds the installation
/// for at most 500 rounds, then the attempt is given up.
#[test]
fn a_peer_that_never_commits_holds_evs_for_a_bounded_number_of_rounds() {
    let mut m = Memberships::new(&IDS, HASH, Faults::NONE, 1);
    tamper_tokens(&mut m, 1, |t| {
        if t.header.aru == i32::MAX {
            return false;
        }
        t.header.aru = 0;
        t.header.aru_last_id = IDS[1];
        t.rtr.push(RtrBlock {
            memb_id: MembId::new(IDS[1], -1),
            proc_id: IDS[1],
            seg_index: 0,
            seqs: (1..=3333).collect(),
        });
        true
    });
    m.run_until(3_000_000);
    // (The peer's own engine is not what the tampering makes it say.)
    for i in [0, 2] {
        assert!(m.deliveries[i].is_empty(), "{:?}", m.deliveries[i]);
    }
    // Daemon 0 gave up the attempt (back to SEG, ALIVE) after at most
    // 500 rounds.
    let of_0: Vec<_> = m.sent.iter().filter(|s| s.from == 0).collect();
    let first_evs = of_0
        .iter()
        .position(|s| s.state == State::Evs)
        .expect("an EVS visit");
    let back = first_evs
        + of_0[first_evs..]
            .iter()
            .position(|s| s.state == State::Seg)
            .expect("the attempt given up");
    let visits = of_0[first_evs..back]
        .iter()
        .filter(|s| s.port == Port::Token)
        .count();
    assert!((400..=502).contains(&visits), "{visits} EVS visits");
    assert!(
        [0, 2].iter().all(|&i| m.daemons[i].state() != State::Op),
        "a daemon installed a ring its peer never committed"
    );
}

/// Two segments: daemons 1 and 2 in segment 0 form a ring while daemon 3
/// of segment 1 is cut off and forms its own. Healed, 3's merge probe
/// (a ring rep's JOIN) reaches both: the leader gathers, the other member
/// answers with a REFER pointing at its leader (the joiner is in another
/// segment), as 5.0.1 does; 3 then asks the leader directly, and one ring
/// of the three forms.
#[test]
fn a_member_refers_a_joiner_of_another_segment_to_its_leader() {
    let mut m = Memberships::configured(
        vec![
            Daemon { id: 1, segment: 0 },
            Daemon { id: 2, segment: 0 },
            Daemon { id: 3, segment: 1 },
        ],
        HASH,
        Faults::NONE,
        3,
    );
    m.net.partition(vec![0, 0, 1]);
    m.run_until(3_000_000);
    assert_eq!(m.daemons[0].ring().members(), [1, 2]);
    assert_eq!(m.daemons[2].ring().members(), [3]);
    m.net.heal();
    let healed = m.sent.len();
    // Daemon 3's merge probe comes with its lookup timeout (WAN: 45 s,
    // but these daemons run the LAN timeouts: 30 s).
    m.run_until(3_000_000 + Timeouts::LAN.lookup + 5_000_000);
    assert!(m.one_ring(), "no ring of the three");
    let refers: Vec<(usize, MembershipPacket)> = m.sent[healed..]
        .iter()
        .filter(|s| s.port == Port::Data)
        .filter_map(|s| match Packet::decode(PacketPort::Data, &s.bytes) {
            Ok(Packet::Membership(p)) if p.body == MembershipBody::Refer => Some((s.to, p)),
            _ => None,
        })
        .collect();
    assert!(!refers.is_empty(), "no REFER");
    for (to, p) in &refers {
        assert_eq!(*to, 2, "a REFER for the joiner");
        let h = &p.header;
        assert_eq!((h.transmiter_id, h.proc_id), (2, 2));
        assert_eq!(
            (p.refer_target(), p.refer_kind()),
            (1, i32::from(crate::packet::RING_REP))
        );
        assert_eq!(
            (h.seq, h.token_round, h.data_len, h.conf_hash),
            (0, 0, 0, HASH)
        );
    }
    // Once referred, daemon 3's JOINs go to the leader itself too.
    let first_refer = m.sent[healed..]
        .iter()
        .position(|s| {
            matches!(Packet::decode(PacketPort::Data, &s.bytes),
                Ok(Packet::Membership(p)) if p.body == MembershipBody::Refer)
        })
        .unwrap();
    let unicast_join_to_leader = m.sent[healed + first_refer..].iter().any(|s| {
        s.from == 2
            && s.to == 0
            && matches!(Packet::decode(PacketPort::Data, &s.bytes),
                Ok(Packet::Membership(p)) if matches!(p.body, MembershipBody::Join { .. }))
    });
    assert!(unicast_join_to_leader, "no JOIN of daemon 3 to the leader");
}

/// The timeouts of spread.conf act: a daemon that hears nobody says ALIVE
/// again after AliveTimeout and gathers after SegTimeout.
#[test]
fn alive_and_seg_timeouts_pace_a_daemon_that_hears_nobody() {
    /// When it sent its first two ALIVEs, and when it began to gather.
    fn run(timeouts: Timeouts) -> (Vec<u64>, Option<u64>) {
        let mut m = Membership::new(
            MembershipConfig {
                me: 1,
                daemons: vec![Daemon { id: 1, segment: 0 }, Daemon { id: 2, segment: 0 }],
                conf_hash: HASH,
                window: 160,
                personal_window: 20,
                accelerated_window: None,
                max_message_len: crate::packet::MAX_MESSAGE_LEN,
                packet_body: crate::packet::MAX_BODY_LEN,
                timeouts,
                epoch_secs: 1000,
            },
            0,
        );
        let (mut alives, mut gathered) = (Vec::new(), None);
        let mut now = 0;
        while now < 1_000_000 {
            while let Some(s) = m.poll_send() {
                let bytes = match &s {
                    Send::Broadcast(b)
                    | Send::Unicast { bytes: b, .. }
                    | Send::Token { bytes: b, .. } => b,
                };
                if let Ok(Packet::Membership(p)) = Packet::decode(crate::packet::Port::Data, bytes)
                {
                    if matches!(p.body, MembershipBody::Alive(_)) {
                        alives.push(now);
                    }
                }
            }
            if gathered.is_none() && m.state() == State::Gather {
                gathered = Some(now);
            }
            now = m.poll_timeout().max(now + 1);
            m.handle_timeout(now);
        }
        (alives, gathered)
    }
    let ms = |alive, seg| Timeouts::from_ms([1250, 500, alive, 250, 625, seg, 1250, 1250, 30000]);
    for (alive, seg) in [(100, 450), (150, 700)] {
        let (alives, gathered) = run(ms(alive, seg));
        assert!(alives.len() >= 2, "{alives:?}");
        assert_eq!(alives[1] - alives[0], alive * 1000, "ALIVEs at {alives:?}");
        assert_eq!(gathered, Some(seg * 1000), "ALIVEs at {alives:?}");
    }
}
