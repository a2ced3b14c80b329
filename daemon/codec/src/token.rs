//! The 40-byte token header (§2.1.2) and the regular token: header plus
//! retransmission-request blocks. Form tokens share the header (form.rs).

use super::error::{PacketError, Result};
use super::rtr::RtrBlock;
use super::type_bits::{arq, retrans, with_arq, with_retrans, FORM_TYPE};
use super::wire::{open_header, Writer};
use super::{MembId, HEADER_LEN};
use spread_core::wire::ByteOrder;

/// Largest token body: a token may grow to one maximal UDP datagram
/// (65535 − 20 IP − 8 UDP bytes) including its header.
pub const MAX_TOKEN_BODY: usize = 65535 - 20 - 8 - HEADER_LEN;

/// Every field of `token_header`. `ty` excludes the endian marker (implied
/// by `order`) but includes the ARQ and RETRANS counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenHeader {
    pub order: ByteOrder,
    pub ty: u32,
    pub transmiter_id: u32,
    pub proc_id: u32,
    pub memb_id: MembId,
    pub seq: i32,
    pub aru: i32,
    pub aru_last_id: u32,
    pub flow_control: i16,
    pub rtr_len: u16,
    pub conf_hash: u32,
}

impl TokenHeader {
    /// A little-endian header of type `ty`, everything else zero.
    pub fn new(ty: u32) -> TokenHeader {
        TokenHeader {
            order: ByteOrder::Little,
            ty,
            transmiter_id: 0,
            proc_id: 0,
            memb_id: MembId::default(),
            seq: 0,
            aru: 0,
            aru_last_id: 0,
            flow_control: 0,
            rtr_len: 0,
            conf_hash: 0,
        }
    }

    /// Reads the header at the start of `b`.
    pub fn decode(b: &[u8]) -> Result<TokenHeader> {
        let (order, ty, mut r) = open_header(b, "token header")?;
        Ok(TokenHeader {
            order,
            ty,
            transmiter_id: r.u32("transmiter_id")?,
            proc_id: r.u32("proc_id")?,
            memb_id: r.memb_id("memb_id")?,
            seq: r.i32("seq")?,
            aru: r.i32("aru")?,
            aru_last_id: r.u32("aru_last_id")?,
            flow_control: r.i16("flow_control")?,
            rtr_len: r.u16("rtr_len")?,
            conf_hash: r.u32("conf_hash")?,
        })
    }

    pub fn encode(&self) -> [u8; HEADER_LEN] {
        self.encode_in(self.order)
    }

    pub fn encode_in(&self, order: ByteOrder) -> [u8; HEADER_LEN] {
        let mut w = Writer::with_capacity(order, HEADER_LEN);
        w.u32(self.ty | order.marker());
        w.u32(self.transmiter_id);
        w.u32(self.proc_id);
        w.memb_id(self.memb_id);
        w.i32(self.seq);
        w.i32(self.aru);
        w.u32(self.aru_last_id);
        w.i16(self.flow_control);
        w.u16(self.rtr_len);
        w.u32(self.conf_hash);
        let mut out = [0u8; HEADER_LEN];
        out.copy_from_slice(&w.out);
        out
    }

    /// The header and body of a token datagram that must be a form token
    /// (`form`) or a regular one, with exactly `rtr_len` body bytes (as
    /// 5.0.1 requires); `what` names the length in errors.
    pub(crate) fn split<'a>(
        b: &'a [u8],
        form: bool,
        what: &'static str,
    ) -> Result<(TokenHeader, &'a [u8])> {
        let header = TokenHeader::decode(b)?;
        if header.is_form() != form {
            return Err(PacketError::WrongType {
                ty: header.ty,
                expected: if form {
                    "a form token"
                } else {
                    "a regular token"
                },
            });
        }
        let body = &b[HEADER_LEN..];
        if body.len() != usize::from(header.rtr_len) {
            return Err(PacketError::LengthMismatch {
                what,
                declared: header.rtr_len.into(),
                actual: body.len(),
            });
        }
        Ok((header, body))
    }

    pub fn is_form(&self) -> bool {
        self.ty & FORM_TYPE != 0
    }

    pub fn arq(&self) -> u8 {
        arq(self.ty)
    }

    pub fn set_arq(&mut self, value: u8) {
        self.ty = with_arq(self.ty, value);
    }

    pub fn retrans(&self) -> u8 {
        retrans(self.ty)
    }

    pub fn set_retrans(&mut self, value: u8) {
        self.ty = with_retrans(self.ty, value);
    }
}

/// A regular token. The hurry resend is the same structure with no blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegularToken {
    pub header: TokenHeader,
    pub rtr: Vec<RtrBlock>,
}

impl RegularToken {
    /// Decodes a token-port datagram that is not a form token. Like 5.0.1
    /// it requires the datagram to be exactly 40 + `rtr_len` bytes.
    pub fn decode(b: &[u8]) -> Result<RegularToken> {
        let (header, body) = TokenHeader::split(b, false, "rtr_len")?;
        let rtr = RtrBlock::decode_list(body, header.order)?;
        Ok(RegularToken { header, rtr })
    }

    /// The datagram in the header's order, `rtr_len` set to the real length.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new(self.header.order);
        for b in &self.rtr {
            b.write(&mut w);
        }
        let body = w.into_vec();
        let mut header = self.header;
        header.rtr_len = body.len() as u16;
        let mut out = header.encode().to_vec();
        out.extend_from_slice(&body);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_counters() {
        let mut h = TokenHeader::new(0);
        h.set_arq(1);
        h.set_retrans(1);
        h.seq = 3;
        h.aru = i32::MAX;
        h.aru_last_id = u32::MAX;
        h.flow_control = -2;
        let b = h.encode();
        assert_eq!(&b[..4], &[0x80, 0x00, 0x11, 0x80]);
        assert_eq!(TokenHeader::decode(&b).unwrap(), h);
        let mut big = h;
        big.order = ByteOrder::Big;
        let bb = big.encode();
        assert_eq!(&bb[..4], &[0x00, 0x11, 0x00, 0x00]);
        let back = TokenHeader::decode(&bb).unwrap();
        assert_eq!((back.arq(), back.retrans(), back.flow_control), (1, 1, -2));
    }

    #[test]
    fn token_length_must_match_rtr_len() {
        let t = RegularToken {
            header: TokenHeader::new(0),
            rtr: vec![RtrBlock {
                memb_id: MembId::new(1, 2),
                proc_id: 3,
                seg_index: 0,
                seqs: vec![4, 5],
            }],
        };
        let mut b = t.encode();
        assert_eq!(b.len(), 40 + 24);
        let mut decoded = RegularToken::decode(&b).unwrap();
        decoded.header.rtr_len = 0;
        let mut expected = t.clone();
        expected.header.rtr_len = 0;
        assert_eq!(decoded, expected);
        b.push(0);
        assert!(RegularToken::decode(&b).is_err());
        assert!(RegularToken::decode(&b[..20]).is_err());
    }
}
