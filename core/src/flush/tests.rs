//! The layout of the flush protocol's messages against byte strings built
//! by hand from 5.0.1's libspread (fl.c), and the engine's refusals.

use super::wire::{decode, Incoming, Outgoing};
use super::*;
use crate::consts::*;
use crate::name::GroupName;
use crate::wire::{DataMessage, GroupId, MembershipMessage, Message};

const GID: GroupId = GroupId {
    proc_id: 0x0a00_0001,
    time: 1_700_000_000,
    index: 7,
};

fn gid_ne() -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&0x0a00_0001u32.to_ne_bytes());
    b.extend_from_slice(&1_700_000_000i32.to_ne_bytes());
    b.extend_from_slice(&7i32.to_ne_bytes());
    b
}

fn name32(s: &str) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.resize(32, 0);
    b
}

fn data(service_type: u32, groups: &[&str], mess_type: i16, body: Vec<u8>) -> DataMessage {
    DataMessage {
        service_type,
        sender: "#a#h".into(),
        groups: groups.iter().map(|g| GroupName::from(*g)).collect(),
        mess_type,
        endian_mismatch: false,
        data: body,
    }
}

#[test]
fn control_messages_carry_the_view_id_alone() {
    assert_eq!(wire::control_body(&GID).to_vec(), gid_ne());
    let d = decode(data(FIFO_MESS, &["g"], -32768, gid_ne())).unwrap();
    assert_eq!(d.kind, Incoming::FlushOk(GID));
    assert_eq!(d.dest, GroupName::from("g"));
    let d = decode(data(FIFO_MESS, &["g"], -32767, gid_ne())).unwrap();
    assert_eq!(d.kind, Incoming::FlushRecv(GID));
    assert!(d.msg.data.is_empty());
}

#[test]
fn a_vulnerable_message_appends_its_type_then_the_view_id() {
    let out = Outgoing::new(FIFO_MESS, &"g".into(), None, 42, Some(GID));
    assert_eq!(out.mess_type, -32766);
    assert_eq!(out.service_type, FIFO_MESS);
    assert_eq!(out.groups, vec![GroupName::from("g")]);
    let mut trailer = 42i16.to_ne_bytes().to_vec();
    trailer.extend(gid_ne());
    assert_eq!(out.trailer, trailer);
    let mut body = b"hello".to_vec();
    body.extend(&trailer);
    let d = decode(data(FIFO_MESS, &["g"], -32766, body)).unwrap();
    assert_eq!(d.kind, Incoming::Data { view: Some(GID) });
    assert_eq!(d.msg.mess_type, 42);
    assert_eq!(d.msg.data, b"hello");
}

#[test]
fn a_subgroupcast_names_the_receivers_and_appends_the_group() {
    let rs = [GroupName::from("#b#h"), GroupName::from("#c#h")];
    let out = Outgoing::new(AGREED_MESS, &"grp".into(), Some(&rs), 5, None);
    assert_eq!(out.service_type, AGREED_MESS | 0x4000_0000);
    assert_eq!(out.groups, rs.to_vec());
    assert_eq!(out.mess_type, 5);
    assert_eq!(out.trailer, name32("grp"));
    // Vulnerable and subgroup: type, view id, then the group.
    let out = Outgoing::new(RELIABLE_MESS, &"grp".into(), Some(&rs), -3, Some(GID));
    let mut trailer = (-3i16).to_ne_bytes().to_vec();
    trailer.extend(gid_ne());
    trailer.extend(name32("grp"));
    assert_eq!(out.trailer, trailer);
    let mut body = b"xy".to_vec();
    body.extend(&trailer);
    let d = decode(data(
        RELIABLE_MESS | SUBGROUP_CAST,
        &["#b#h", "#c#h"],
        -32766,
        body,
    ))
    .unwrap();
    assert_eq!(d.dest, GroupName::from("grp"));
    assert_eq!(d.msg.groups.len(), 3);
    assert_eq!(d.msg.groups[2], GroupName::from("grp"));
    assert_eq!(d.msg.mess_type, -3);
    assert_eq!(d.msg.data, b"xy");
}

#[test]
fn a_sender_of_the_other_byte_order_is_read_in_its_order() {
    let mut body = b"z".to_vec();
    let swap = |v: u32| {
        if cfg!(target_endian = "little") {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    body.extend_from_slice(&if cfg!(target_endian = "little") {
        300i16.to_be_bytes()
    } else {
        300i16.to_le_bytes()
    });
    body.extend_from_slice(&swap(0x0a00_0001));
    body.extend_from_slice(&swap(1_700_000_000));
    body.extend_from_slice(&swap(7));
    let mut m = data(FIFO_MESS, &["g"], -32766, body);
    m.endian_mismatch = true;
    let d = decode(m).unwrap();
    assert_eq!(d.kind, Incoming::Data { view: Some(GID) });
    assert_eq!(d.msg.mess_type, 300);
}

#[test]
fn truncated_trailers_are_dropped() {
    assert!(decode(data(FIFO_MESS, &["g"], -32768, vec![0; 11])).is_none());
    assert!(decode(data(FIFO_MESS | SUBGROUP_CAST, &["#b#h"], 1, vec![0; 31])).is_none());
    assert!(decode(data(FIFO_MESS, &["g"], -32766, vec![0; 13])).is_none());
}

#[test]
fn a_view_body_is_the_id_the_count_and_the_names() {
    let v = FlushView {
        service_type: REG_MEMB_MESS | CAUSED_BY_NETWORK,
        group: "g".into(),
        members: vec!["#a#h".into(), "#b#h".into()],
        my_index: 0,
        group_id: GID,
        vs_set: vec!["#a#h".into(), "#b#h".into()],
    };
    let mut want = gid_ne();
    want.extend_from_slice(&2i32.to_ne_bytes());
    want.extend(name32("#a#h"));
    want.extend(name32("#b#h"));
    assert_eq!(v.body(), want);
    assert_eq!(v.body_len(), want.len());
    let b = v.body();
    assert_eq!(
        b[FlushView::GID_OFFSET..FlushView::NUM_VS_OFFSET],
        gid_ne()[..]
    );
    assert_eq!(
        b[FlushView::NUM_VS_OFFSET..FlushView::VS_SET_OFFSET],
        2i32.to_ne_bytes()
    );
    assert_eq!(
        b[FlushView::VS_SET_OFFSET..FlushView::VS_SET_OFFSET + 32],
        name32("#a#h")[..]
    );
}

#[test]
fn error_codes_are_those_of_fl_h() {
    assert_eq!(FlushError::IllegalParam(String::new()).code(), -24);
    assert_eq!(FlushError::WouldBlock.code(), -25);
    assert_eq!(FlushError::IllegalMessageType(-32766).code(), -26);
    assert_eq!(FlushError::IllegalState(String::new()).code(), -27);
    assert_eq!(FlushError::IllegalReceivers(String::new()).code(), -28);
    assert_eq!(
        FlushError::describe_code(-27),
        "FL_error: (-27) Function call peformed in a prohibited state."
    );
    assert!(FlushError::describe_code(-14).starts_with("SP_error: (-14)"));
    let names: Vec<_> = (-28..=-24).map(FlushError::code_name).collect();
    assert_eq!(
        names,
        [
            "ILLEGAL_RECEIVERS",
            "ILLEGAL_STATE",
            "ILLEGAL_MESSAGE_TYPE",
            "WOULD_BLOCK",
            "ILLEGAL_PARAM"
        ]
    );
    assert_eq!(FlushError::code_name(ILLEGAL_GROUP), "ILLEGAL_GROUP");
    assert_eq!(FlushError::code_name(-99), "UNKNOWN");
}

#[test]
fn a_view_s_cause_is_its_caused_by_bit() {
    let view = |service_type| FlushView {
        service_type,
        group: "g".into(),
        members: vec!["#a#h".into()],
        my_index: 0,
        group_id: GID,
        vs_set: vec![],
    };
    for cause in [
        CAUSED_BY_JOIN,
        CAUSED_BY_LEAVE,
        CAUSED_BY_DISCONNECT,
        CAUSED_BY_NETWORK,
    ] {
        assert_eq!(view(REG_MEMB_MESS | cause).cause(), cause);
    }
    assert_eq!(view(REG_MEMB_MESS).cause(), 0);
}

fn join_view(group: &str, members: &[&str], me_joined: &str, index: i32) -> Message {
    Message::Membership(MembershipMessage {
        service_type: REG_MEMB_MESS | CAUSED_BY_JOIN,
        group: group.into(),
        members: members.iter().map(|m| GroupName::from(*m)).collect(),
        group_id: GroupId {
            proc_id: 1,
            time: 1,
            index,
        },
        vs_sets: vec![vec![me_joined.into()]],
        local_vs_set: 0,
        raw_body: vec![],
        body_order: crate::wire::ByteOrder::NATIVE,
    })
}

#[test]
fn bad_calls_get_the_codes_of_5_0_1() {
    let me = GroupName::from("#a#h");
    let mut e = FlushEngine::new(me);
    let g = GroupName::from("g");
    // Not joined: send, flush, leave refused with ILLEGAL_GROUP.
    let err = e.prepare_send(AGREED_MESS, &g, None, 0, 1).unwrap_err();
    assert_eq!(err.code(), ILLEGAL_GROUP);
    assert_eq!(e.flush(&g).unwrap_err().code(), ILLEGAL_GROUP);
    assert_eq!(e.leave(&g).unwrap_err().code(), ILLEGAL_GROUP);
    // Reserved service bits and message types.
    let err = e
        .prepare_send(AGREED_MESS | FLUSH_REQ_MESS, &g, None, 0, 1)
        .unwrap_err();
    assert_eq!(err.code(), ILLEGAL_SERVICE);
    let err = e
        .prepare_send(AGREED_MESS, &g, None, -32766, 1)
        .unwrap_err();
    assert_eq!(err.code(), ILLEGAL_MESSAGE_TYPE);
    let err = e.prepare_send(AGREED_MESS, &g, None, 0, 100).unwrap_err();
    assert_eq!(err.code(), ILLEGAL_MESSAGE);
    // Joining: auto-consent, still not a member.
    e.handle(join_view("g", &["#a#h"], "#a#h", 1));
    assert_eq!(
        e.group_state(&g),
        Some((JoinState::Joining, ViewState::Agree))
    );
    assert_eq!(e.check_join(&g).unwrap_err().code(), ILLEGAL_GROUP);
    let t = e.poll_transmit().unwrap();
    assert_eq!(t.mess_type, FL_FLUSH_OK_MESS);
    // Its own FLUSH_OK installs the view.
    e.handle(Message::Data(DataMessage {
        service_type: FIFO_MESS,
        sender: me,
        groups: vec![g],
        mess_type: t.mess_type,
        endian_mismatch: false,
        data: t.body,
    }));
    match e.poll_delivery() {
        Some(FlushMessage::View(v)) => {
            assert_eq!(v.members, vec![me]);
            assert_eq!(v.vs_set, vec![me]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.group_state(&g),
        Some((JoinState::Joined, ViewState::Verify))
    );
    // Flush without a request: ILLEGAL_STATE.
    assert_eq!(e.flush(&g).unwrap_err().code(), ILLEGAL_STATE);
    // A receiver outside the view.
    let err = e
        .prepare_send(AGREED_MESS, &g, Some(&["#z#h".into()]), 0, 1)
        .unwrap_err();
    assert_eq!(err.code(), ILLEGAL_RECEIVERS);
    assert!(e.prepare_send(AGREED_MESS, &g, Some(&[me]), 0, 1).is_ok());
    // A second member joins: flush request; after flushing, sends refused.
    e.handle(join_view("g", &["#a#h", "#b#h"], "#b#h", 2));
    assert!(matches!(
        e.poll_delivery(),
        Some(FlushMessage::FlushRequest { .. })
    ));
    e.flush(&g).unwrap();
    assert_eq!(e.flush(&g).unwrap_err().code(), ILLEGAL_STATE);
    let err = e.prepare_send(AGREED_MESS, &g, None, 0, 1).unwrap_err();
    assert_eq!(err.code(), ILLEGAL_STATE);
    // Private groups may be sent to; a subgroupcast only to themselves.
    assert!(e
        .prepare_send(AGREED_MESS, &"#b#h".into(), None, 0, 1)
        .is_ok());
    let err = e
        .prepare_send(AGREED_MESS, &"#b#h".into(), Some(&["#c#h".into()]), 0, 1)
        .unwrap_err();
    assert_eq!(err.code(), ILLEGAL_RECEIVERS);
}
