//! Connecting engines to the simulated network: where their sends go, and
//! how a datagram reaches an engine.

use super::net::{Datagram, Net, Port};
use crate::order::{Ring, Send};
use crate::packet::{MembershipBody, Packet, Port as PacketPort};

/// Puts what node `from` of `nodes` wants sent on the network;
/// `index_of` turns a daemon id into a node number.
pub fn route(
    net: &mut Net,
    now: u64,
    from: usize,
    nodes: usize,
    send: Send,
    index_of: impl Fn(u32) -> usize,
) {
    let (targets, port, bytes) = match send {
        Send::Broadcast(b) => (
            (0..nodes).filter(|&j| j != from).collect::<Vec<_>>(),
            Port::Data,
            b,
        ),
        Send::Unicast { to, bytes } => (vec![index_of(to)], Port::Data, bytes),
        Send::Token { to, bytes } => (vec![index_of(to)], Port::Token, bytes),
    };
    for to in targets {
        net.send(
            now,
            Datagram {
                from,
                to,
                port,
                bytes: bytes.clone(),
            },
        );
    }
}

/// The packet in a datagram an engine sent.
pub fn decode(d: &Datagram) -> Packet {
    let port = if d.port == Port::Data {
        PacketPort::Data
    } else {
        PacketPort::Token
    };
    Packet::decode(port, &d.bytes)
        .unwrap_or_else(|e| panic!("an engine sent something undecodable: {e}"))
}

/// Hands a datagram to a ring engine, as the daemon's network layer would.
pub fn feed(ring: &mut Ring, d: &Datagram, now: u64) {
    match decode(d) {
        Packet::Data(p) => ring.handle_data(p, now),
        Packet::Token(t) => ring.handle_token(t, now),
        Packet::Membership(m) if matches!(m.body, MembershipBody::Hurry) => {
            ring.handle_hurry(m.header.proc_id, now)
        }
        other => panic!("a static ring sent something it should not: {other:?}"),
    }
}

/// The time of the next thing that happens: a datagram or a timer.
pub fn next_event(net: &Net, timers: impl Iterator<Item = u64>) -> u64 {
    net.next_arrival()
        .unwrap_or(u64::MAX)
        .min(timers.min().unwrap_or(u64::MAX))
}
