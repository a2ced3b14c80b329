//! Retransmission-request blocks, the body of a regular token (§2.1.2,
//! §2.4): `memb_id` (8), `proc_id` (4), `seg_index` (2), `num_seq` (2), then
//! `num_seq` int32 sequence numbers, blocks back to back without padding.

use super::error::{PacketError, Result};
use super::wire::{count16, Reader, Writer};
use super::MembId;
use spread_core::wire::ByteOrder;

pub const RTR_BLOCK_HEADER_LEN: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtrBlock {
    /// The ring whose packets are requested (in EVS: the requester's old
    /// ring, so several old rings can recover at once).
    pub memb_id: MembId,
    /// The requester, or [`RtrBlock::SEVERAL_PROCS`].
    pub proc_id: u32,
    /// The requester's segment, or [`RtrBlock::SEVERAL_SEGS`].
    pub seg_index: i16,
    pub seqs: Vec<i32>,
}

impl RtrBlock {
    /// `proc_id` −1: several daemons miss these, answer by broadcast.
    pub const SEVERAL_PROCS: u32 = u32::MAX;
    /// `seg_index` −1: requesters in several segments.
    pub const SEVERAL_SEGS: i16 = -1;

    pub fn encoded_len(&self) -> usize {
        RTR_BLOCK_HEADER_LEN + 4 * self.seqs.len()
    }

    /// Decodes a whole rtr list (a token body of `rtr_len` bytes).
    pub fn decode_list(body: &[u8], order: ByteOrder) -> Result<Vec<RtrBlock>> {
        let mut r = Reader::new(body, order);
        let mut blocks = Vec::new();
        while r.remaining() > 0 {
            let memb_id = r.memb_id("rtr memb_id")?;
            let proc_id = r.u32("rtr proc_id")?;
            let seg_index = r.i16("rtr seg_index")?;
            let num_seq = r.i16("rtr num_seq")?;
            if num_seq < 0 {
                return Err(PacketError::OutOfRange {
                    what: "rtr num_seq",
                    value: num_seq.into(),
                });
            }
            let seqs = r.i32s(num_seq as usize, "rtr seqs")?;
            blocks.push(RtrBlock {
                memb_id,
                proc_id,
                seg_index,
                seqs,
            });
        }
        Ok(blocks)
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.memb_id(self.memb_id);
        w.u32(self.proc_id);
        w.i16(self.seg_index);
        w.i16(count16(self.seqs.len()));
        for &s in &self.seqs {
            w.i32(s);
        }
    }

    /// Encodes a whole rtr list in `order`.
    pub fn encode_list(blocks: &[RtrBlock], order: ByteOrder) -> Vec<u8> {
        let mut w = Writer::new(order);
        for b in blocks {
            b.write(&mut w);
        }
        w.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trip_both_orders() {
        let blocks = vec![
            RtrBlock {
                memb_id: MembId::new(1552775919, 1795771045),
                proc_id: 4014350958,
                seg_index: 0,
                seqs: vec![15],
            },
            RtrBlock {
                memb_id: MembId::new(2, -1),
                proc_id: RtrBlock::SEVERAL_PROCS,
                seg_index: RtrBlock::SEVERAL_SEGS,
                seqs: vec![],
            },
        ];
        for o in [ByteOrder::Little, ByteOrder::Big] {
            let b = RtrBlock::encode_list(&blocks, o);
            assert_eq!(b.len(), 20 + 16);
            assert_eq!(RtrBlock::decode_list(&b, o).unwrap(), blocks);
        }
    }

    #[test]
    fn bad_lists() {
        let mut b = RtrBlock::encode_list(
            &[RtrBlock {
                memb_id: MembId::default(),
                proc_id: 1,
                seg_index: 0,
                seqs: vec![1, 2],
            }],
            ByteOrder::Little,
        );
        assert!(RtrBlock::decode_list(&b[..b.len() - 1], ByteOrder::Little).is_err());
        assert!(RtrBlock::decode_list(&b[..10], ByteOrder::Little).is_err());
        b[14] = 0xff;
        b[15] = 0xff; // num_seq -1
        assert!(matches!(
            RtrBlock::decode_list(&b, ByteOrder::Little),
            Err(PacketError::OutOfRange { .. })
        ));
    }
}
