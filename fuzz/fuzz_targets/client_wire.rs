//! Arbitrary bytes as what a client or a daemon reads from a session's TCP
//! stream: a run of frames, a connect message, an auth list or choice, a
//! membership body, and the daemon's ruling on a client's header.
//!
//! Nothing may panic or allocate past what the input holds. Frames must be
//! consumed whole and in bounds; what decodes must re-encode to bytes that
//! decode to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spread_core::consts::{
    AUTH_CHOICE_LEN, HEADER_LEN, MAX_GROUPS_PER_MESSAGE, MAX_GROUP_NAME, MAX_MESSAGE_PAYLOAD,
};
use spread_core::wire::handshake::{
    parse_auth_choice, parse_auth_list, parse_connect, ConnectParse,
};
use spread_core::wire::membership::body_to_native;
use spread_core::wire::{split_frame, ByteOrder, Header, Limits, MembershipBody, Message};
use spread_daemon::sessions::validate::{check_header, Verdict};

const ORDERS: [ByteOrder; 2] = [ByteOrder::Little, ByteOrder::Big];

fuzz_target!(|data: &[u8]| {
    check_frames(data);
    check_request_header(data);
    check_connect(data);
    let _ = parse_auth_list(data);
    if let Some(choice) = data.first_chunk::<AUTH_CHOICE_LEN>() {
        let _ = parse_auth_choice(choice);
    }
    for order in ORDERS {
        check_membership_body(data, order);
    }
});

fn check_frames(mut buf: &[u8]) {
    while let Ok(Some((frame, used))) = split_frame(buf, &Limits::CLIENT) {
        assert!(
            used >= HEADER_LEN && used <= buf.len(),
            "frame length {used}"
        );
        let h = frame.header;
        assert_eq!(Header::decode(&h.encode()), h, "header round trip");
        assert_eq!(frame.names.len(), h.num_groups as usize * MAX_GROUP_NAME);
        assert_eq!(frame.body.len(), h.data_len as usize);
        if let Ok(Message::Membership(m)) = Message::from_frame(&frame) {
            assert!(m.vs_sets.is_empty() || m.local_vs_set < m.vs_sets.len());
            check_membership_body(&m.raw_body, m.body_order);
        }
        buf = &buf[used..];
    }
}

/// The daemon sizes what it reads after a header by this ruling alone.
fn check_request_header(data: &[u8]) {
    let Some(head) = data.first_chunk::<HEADER_LEN>() else {
        return;
    };
    let h = Header::decode(head);
    // The sender as the session's own name, so the ruling goes past it.
    match check_header(&h, &h.sender.canonical()) {
        Verdict::Accept { rest } => assert!(rest <= MAX_MESSAGE_PAYLOAD, "accepted {rest}"),
        Verdict::Refuse { names, .. } => {
            assert!(names <= MAX_GROUPS_PER_MESSAGE * MAX_GROUP_NAME)
        }
        Verdict::Drop(_) => {}
    }
}

fn check_connect(data: &[u8]) {
    let ConnectParse::Complete(m, used) = parse_connect(data) else {
        return;
    };
    assert!(used <= data.len());
    // Only "priority >= 1" reaches the wire: compare once normalised.
    let bytes = m.encode();
    let ConnectParse::Complete(again, n) = parse_connect(&bytes) else {
        panic!("re-encoded connect message does not parse: {m:?}");
    };
    assert_eq!(n, bytes.len());
    assert_eq!(again.encode(), bytes, "connect round trip");
    assert_eq!(
        (again.major, again.minor, again.name),
        (m.major, m.minor, m.name)
    );
}

fn check_membership_body(body: &[u8], order: ByteOrder) {
    let mut native = body.to_vec();
    body_to_native(&mut native, order);
    let Some(m) = MembershipBody::decode(body, order) else {
        return;
    };
    let mut bytes = Vec::new();
    m.encode_into(order, &mut bytes);
    assert_eq!(bytes.len(), m.encoded_len());
    let again = MembershipBody::decode(&bytes, order).expect("re-encoded body decodes");
    assert_eq!(again, m, "membership body round trip");
}
