//! Telling datagrams apart: which structure a datagram is depends on the
//! port it arrived on (data port P or token port P+1) and its type bits,
//! tested in the order 5.0.1 tests them.

use super::data::{DataHeader, DataPacket};
use super::error::{PacketError, Result};
use super::form::FormToken;
use super::membership::MembershipPacket;
use super::monitor::MonitorPacket;
use super::token::{RegularToken, TokenHeader};
use super::type_bits::{CONTROL_TYPE, HURRY_TYPE, MEMBERSHIP_TYPE, REGULAR_TYPE};

/// The socket a datagram was received on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// Port P: data, membership, HURRY and monitor packets.
    Data,
    /// Port P+1: regular and form tokens.
    Token,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Packet {
    Data(DataPacket),
    /// ALIVE, JOIN, REFER or HURRY.
    Membership(MembershipPacket),
    Monitor(MonitorPacket),
    Token(RegularToken),
    Form(FormToken),
}

impl Packet {
    /// Decodes a datagram received on `port`. Data port: monitor control
    /// bits first, then membership, HURRY, regular service bits (the order
    /// of Net_recv / Prot_handle_bcast). Token port: form bits, else a
    /// regular token.
    pub fn decode(port: Port, datagram: &[u8]) -> Result<Packet> {
        match port {
            Port::Data => {
                let ty = DataHeader::decode(datagram)?.ty;
                if ty & CONTROL_TYPE != 0 {
                    MonitorPacket::decode(datagram).map(Packet::Monitor)
                } else if ty & (MEMBERSHIP_TYPE | HURRY_TYPE) != 0 {
                    MembershipPacket::decode(datagram).map(Packet::Membership)
                } else if ty & REGULAR_TYPE != 0 {
                    DataPacket::decode(datagram).map(Packet::Data)
                } else {
                    Err(PacketError::WrongType {
                        ty,
                        expected: "a data-port packet",
                    })
                }
            }
            Port::Token => {
                if TokenHeader::decode(datagram)?.is_form() {
                    FormToken::decode(datagram).map(Packet::Form)
                } else {
                    RegularToken::decode(datagram).map(Packet::Token)
                }
            }
        }
    }

    /// The port this packet is sent to.
    pub fn port(&self) -> Port {
        match self {
            Packet::Token(_) | Packet::Form(_) => Port::Token,
            _ => Port::Data,
        }
    }

    /// The datagram, in the order of the packet's header.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Packet::Data(p) => p.encode(),
            Packet::Membership(p) => p.encode(),
            Packet::Monitor(p) => p.encode(),
            Packet::Token(t) => t.encode(),
            Packet::Form(f) => f.encode(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::MembershipBody;
    use crate::type_bits::{AGREED_TYPE, FORM2_TYPE};

    #[test]
    fn classification_by_port_and_type() {
        let hurry = MembershipPacket::hurry(3).encode();
        match Packet::decode(Port::Data, &hurry).unwrap() {
            Packet::Membership(m) => assert_eq!(m.body, MembershipBody::Hurry),
            other => panic!("{other:?}"),
        }
        let mut none = DataHeader::new(0, 1).encode().to_vec();
        assert!(Packet::decode(Port::Data, &none).is_err());
        none[0] |= AGREED_TYPE as u8;
        assert!(matches!(
            Packet::decode(Port::Data, &none),
            Ok(Packet::Data(_))
        ));
        let tok = TokenHeader::new(0).encode();
        assert!(matches!(
            Packet::decode(Port::Token, &tok),
            Ok(Packet::Token(_))
        ));
        let form = TokenHeader::new(FORM2_TYPE).encode();
        assert!(
            Packet::decode(Port::Token, &form).is_err(),
            "a form token needs a body"
        );
        assert!(Packet::decode(Port::Token, &[0x80; 12]).is_err());
    }
}
