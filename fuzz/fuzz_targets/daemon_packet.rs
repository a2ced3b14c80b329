//! Arbitrary bytes as a daemon-to-daemon datagram on either port.
//!
//! Decoding must never panic. Whatever decodes must re-encode to the very
//! bytes it came from (the codec keeps every raw byte, daemon/codec),
//! and those must decode to the same value; every walk over a packet
//! (fragments, byte-order conversion, the GROUPS body a whole fragment may
//! carry) must stay in bounds and end.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spread_codec::{DataPacket, GroupsBody, Packet, Port};
use spread_core::consts::HEADER_LEN as MESSAGE_HEADER_LEN;
use spread_core::wire::{ByteOrder, Header};

const ORDERS: [ByteOrder; 2] = [ByteOrder::Little, ByteOrder::Big];

fuzz_target!(|data: &[u8]| {
    for port in [Port::Data, Port::Token] {
        if let Ok(packet) = Packet::decode(port, data) {
            check_packet(port, data, &packet);
        }
    }
    // A GROUPS body may span several fragments once reassembled: read the
    // whole input as one too.
    for order in ORDERS {
        check_groups(data, order);
    }
});

fn check_packet(port: Port, datagram: &[u8], packet: &Packet) {
    assert_eq!(packet.port(), port, "decoded on the wrong port");
    let bytes = packet.encode();
    assert_eq!(bytes, datagram, "re-encoding changed bytes of {packet:?}");
    let again = match Packet::decode(port, &bytes) {
        Ok(p) => p,
        Err(e) => panic!("re-encoded packet does not decode: {e}\n{packet:?}\n{bytes:02x?}"),
    };
    assert_eq!(&again, packet, "round trip changed the packet");
    assert_eq!(again.encode(), bytes, "second encoding differs");
    if let Packet::Data(p) = packet {
        check_data(p);
    }
}

fn check_data(p: &DataPacket) {
    let mut end = 0;
    let mut count = 0;
    for frag in p.fragments() {
        let Ok(frag) = frag else { break };
        count += 1;
        assert!(count <= p.body.len() + 1, "fragment walk does not end");
        let start = frag.bytes.as_ptr() as usize - p.body.as_ptr() as usize;
        assert!(start >= end, "fragments overlap");
        end = start + frag.bytes.len();
        assert!(end <= p.body.len());
        if frag.header.is_whole() {
            check_message(frag.bytes);
        }
    }
    // A retransmitter rewrites stored packets in its own order.
    for order in ORDERS {
        if let Ok(q) = p.to_order(order) {
            assert_eq!(q.header.order, order);
            let back = q
                .to_order(p.header.order)
                .expect("a converted chain converts back");
            assert_eq!(&back, p, "byte-order conversion does not invert");
        }
    }
}

/// A whole client message inside a fragment: what the engine reads when it
/// is a GROUPS state message.
fn check_message(bytes: &[u8]) {
    let Some(head) = bytes.first_chunk::<MESSAGE_HEADER_LEN>() else {
        return;
    };
    let header = Header::decode(head);
    check_groups(&bytes[MESSAGE_HEADER_LEN..], header.order);
}

fn check_groups(body: &[u8], order: ByteOrder) {
    let Ok(groups) = GroupsBody::decode(body, order) else {
        return;
    };
    let bytes = groups.encode(order);
    assert_eq!(bytes, body, "re-encoding changed bytes of {groups:?}");
    let again = match GroupsBody::decode(&bytes, order) {
        Ok(g) => g,
        Err(e) => panic!("re-encoded GROUPS body does not decode: {e}\n{groups:?}"),
    };
    assert_eq!(again, groups, "GROUPS round trip changed the body");
    assert_eq!(again.encode(order), bytes);
}
