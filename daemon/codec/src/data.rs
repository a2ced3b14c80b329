//! The 40-byte data packet header (§2.1.1) and the data packet: header plus
//! body. Membership, HURRY and monitor packets share this header.

use super::error::{PacketError, Result};
use super::fragment::{FragHeader, Fragments};
use super::type_bits::REGULAR_TYPE;
use super::wire::{open_header, Writer};
use super::{MembId, HEADER_LEN, MAX_BODY_LEN};
use spread_core::wire::ByteOrder;

/// Every field of `packet_header`. `ty` is the type word without the
/// endian marker; the marker is implied by `order`, the order the header
/// was (or will be) written in.
///
/// `padding` keeps its raw bytes: 5.0.1 never writes it and never converts
/// it. `first_frag` is read in the header's order; 5.0.1 converts it only
/// for regular data packets, but in the other packets it is never read, so
/// the round trip is exact either way (a REFER built on the stack may carry
/// garbage in `seq`, `token_round`, `padding` and `first_frag`, and all of
/// it is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataHeader {
    pub order: ByteOrder,
    pub ty: u32,
    pub transmiter_id: u32,
    pub proc_id: u32,
    pub memb_id: MembId,
    pub seq: i32,
    pub token_round: i32,
    pub conf_hash: u32,
    pub data_len: u16,
    pub padding: [u8; 2],
    pub first_frag: FragHeader,
}

impl DataHeader {
    /// A little-endian header of type `ty` from `proc_id`, everything else
    /// zero (the network layer fills `transmiter_id` and `conf_hash`).
    pub fn new(ty: u32, proc_id: u32) -> DataHeader {
        DataHeader {
            order: ByteOrder::Little,
            ty,
            transmiter_id: 0,
            proc_id,
            memb_id: MembId::default(),
            seq: 0,
            token_round: 0,
            conf_hash: 0,
            data_len: 0,
            padding: [0; 2],
            first_frag: FragHeader::default(),
        }
    }

    /// Reads the header at the start of `b` (the rest is not looked at).
    pub fn decode(b: &[u8]) -> Result<DataHeader> {
        let (order, ty, mut r) = open_header(b, "packet header")?;
        Ok(DataHeader {
            order,
            ty,
            transmiter_id: r.u32("transmiter_id")?,
            proc_id: r.u32("proc_id")?,
            memb_id: r.memb_id("memb_id")?,
            seq: r.i32("seq")?,
            token_round: r.i32("token_round")?,
            conf_hash: r.u32("conf_hash")?,
            data_len: r.u16("data_len")?,
            padding: r.raw2("padding")?,
            first_frag: FragHeader::decode(r.raw4("first_frag_header")?, order),
        })
    }

    /// The 40 bytes in `self.order`.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        self.encode_in(self.order)
    }

    /// The 40 bytes in `order`, marker included (`padding` stays raw).
    pub fn encode_in(&self, order: ByteOrder) -> [u8; HEADER_LEN] {
        let mut w = Writer::with_capacity(order, HEADER_LEN);
        w.u32(self.ty | order.marker());
        w.u32(self.transmiter_id);
        w.u32(self.proc_id);
        w.memb_id(self.memb_id);
        w.i32(self.seq);
        w.i32(self.token_round);
        w.u32(self.conf_hash);
        w.u16(self.data_len);
        w.bytes(&self.padding);
        w.bytes(&self.first_frag.encode(order));
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(&w.out);
        out
    }

    /// A regular data packet (some service bit set).
    pub fn is_regular(&self) -> bool {
        self.ty & REGULAR_TYPE != 0
    }
}

/// Reads the header and checks that exactly `data_len` bytes follow it
/// (the receive filter of 5.0.1); returns the header and the body.
pub(crate) fn split_datagram(b: &[u8]) -> Result<(DataHeader, &[u8])> {
    let header = DataHeader::decode(b)?;
    let body = &b[HEADER_LEN..];
    if body.len() != usize::from(header.data_len) {
        return Err(PacketError::LengthMismatch {
            what: "data_len",
            declared: header.data_len.into(),
            actual: body.len(),
        });
    }
    Ok((header, body))
}

/// A regular data packet. The body is kept as written: its fragment headers
/// in the header's order, its message bytes in their clients' forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataPacket {
    pub header: DataHeader,
    pub body: Vec<u8>,
}

impl DataPacket {
    /// Decodes a datagram of the data port whose type has a service bit.
    /// The fragment chain is not validated here (5.0.1 keeps a packet with
    /// a broken chain and stops at the break when delivering); walk it with
    /// [`DataPacket::fragments`].
    pub fn decode(b: &[u8]) -> Result<DataPacket> {
        let (header, body) = split_datagram(b)?;
        if !header.is_regular() {
            return Err(PacketError::WrongType {
                ty: header.ty,
                expected: "a regular data packet",
            });
        }
        if body.len() > MAX_BODY_LEN {
            return Err(PacketError::OutOfRange {
                what: "data packet body length",
                value: body.len() as i64,
            });
        }
        Ok(DataPacket {
            header,
            body: body.to_vec(),
        })
    }

    /// The datagram in the header's order; `data_len` is written as the
    /// body's real length.
    pub fn encode(&self) -> Vec<u8> {
        let mut header = self.header;
        header.data_len = self.body.len() as u16;
        let mut out = header.encode().to_vec();
        out.extend_from_slice(&self.body);
        out
    }

    /// The fragments of the body, first one first.
    pub fn fragments(&self) -> Fragments<'_> {
        Fragments::new(&self.body, self.header.first_frag, self.header.order)
    }

    /// The packet rewritten in `order`, as a retransmitter re-encodes a
    /// stored packet: header and fragment headers converted, message bytes
    /// untouched. Fails if the fragment chain is broken.
    pub fn to_order(&self, order: ByteOrder) -> Result<DataPacket> {
        let mut body = self.body.clone();
        for frag in self.fragments() {
            let frag = frag?;
            if let Some(at) = frag.header_offset {
                body[at..at + 4].copy_from_slice(&frag.header.encode(order));
            }
        }
        let mut header = self.header;
        header.order = order;
        Ok(DataPacket { header, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::type_bits::{AGREED_TYPE, ALIVE_TYPE};

    fn sample() -> DataPacket {
        let mut header = DataHeader::new(AGREED_TYPE, 7);
        header.memb_id = MembId::new(7, 100);
        header.seq = 5;
        header.token_round = -2;
        header.conf_hash = 0xdead_beef;
        header.padding = [1, 2];
        header.first_frag = FragHeader { index: -1, len: 5 };
        let mut body = vec![1, 2, 3, 4, 5, 0, 0, 0];
        body.extend_from_slice(&FragHeader { index: -1, len: 3 }.encode(ByteOrder::Little));
        body.extend_from_slice(&[7, 8, 9]);
        header.data_len = body.len() as u16;
        DataPacket { header, body }
    }

    #[test]
    fn round_trip_and_reorder() {
        let p = sample();
        let bytes = p.encode();
        assert_eq!(bytes.len(), 40 + 15);
        assert_eq!(&bytes[..4], &[0x88, 0, 0, 0x80]);
        assert_eq!(DataPacket::decode(&bytes).unwrap(), p);

        let big = p.to_order(ByteOrder::Big).unwrap();
        let bb = big.encode();
        assert_eq!(&bb[..4], &[0, 0, 0, 0x08]);
        assert_eq!(&bb[34..36], &[1, 2], "padding is never converted");
        let back = DataPacket::decode(&bb).unwrap();
        assert_eq!(back.header.seq, 5);
        assert_eq!(back.header.token_round, -2);
        let frags: Vec<_> = back
            .fragments()
            .map(|f| f.unwrap().bytes.to_vec())
            .collect();
        assert_eq!(frags, vec![vec![1, 2, 3, 4, 5], vec![7, 8, 9]]);
        assert_eq!(back.to_order(ByteOrder::Little).unwrap().encode(), bytes);
    }

    #[test]
    fn rejects_bad_lengths_and_types() {
        let p = sample();
        let mut bytes = p.encode();
        bytes.push(0);
        assert!(matches!(
            DataPacket::decode(&bytes),
            Err(PacketError::LengthMismatch { .. })
        ));
        assert!(DataPacket::decode(&bytes[..39]).is_err());
        let mut alive = DataHeader::new(ALIVE_TYPE, 1).encode().to_vec();
        assert!(matches!(
            DataPacket::decode(&alive),
            Err(PacketError::WrongType { .. })
        ));
        alive[0] = 0x00; // keep only the high marker bit
        assert!(matches!(
            DataHeader::decode(&alive),
            Err(PacketError::BadMarker(_))
        ));
    }
}
