//! The form tokens (§3.4). FORM1 body: fixed 516-byte `members_info`,
//! fixed 204-byte `reps_info`, ring list. FORM2 body: the same
//! `members_info`, the new ring id (8 bytes), ring list.
//!
//! The fixed arrays are a daemon's static buffers sent whole, so the slots
//! past the counts hold whatever an earlier, longer list left there (seen in
//! vectors-daemon/04 and 07). 5.0.1 neither converts nor clears them; they
//! are kept raw in [`StaleSlots`] so a token re-encodes byte for byte. The
//! FORM2 new-ring id is likewise stale until the new leader writes it; it is
//! read as the id it will become (5.0.1 converts it like one) and not
//! validated.

use super::error::{PacketError, Result};
use super::membership::Rep;
use super::token::TokenHeader;
use super::type_bits::FORM1_TYPE;
use super::wire::{count16, Reader, Writer};
use super::MembId;
use spread_core::wire::ByteOrder;

/// Ids in a form token's `members_info` (MAX_PROCS_RING).
pub const MAX_FORM_MEMBERS: usize = 128;
/// Entries in a form token's `reps_info` (MAX_REPS).
pub const MAX_REPS: usize = 25;
/// Rings 5.0.1 lets a FORM1 collect (MAX_FORM_REPS); not a wire limit.
pub const MAX_FORM_RINGS: usize = 20;
/// 2 + 2 + 128 × 4.
pub const FORM_MEMBERS_LEN: usize = 4 + 4 * MAX_FORM_MEMBERS;
/// 2 + 2 + 25 × 8.
pub const FORM_REPS_LEN: usize = 4 + Rep::LEN * MAX_REPS;
/// memb_id 8, trans_time, aru, highest_seq, num_holes 4 each, two int16.
pub const RING_INFO_LEN: usize = 28;
/// The most holes 5.0.1 accepts in a ring entry (MAX_SEQ_GAP).
pub const MAX_HOLES: usize = 1600;

/// The raw bytes of a fixed array's slots past its counted entries. Empty
/// when they are all zero; otherwise the whole slot area with the counted
/// prefix zeroed, so every stale byte keeps its position.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaleSlots(Vec<u8>);

impl StaleSlots {
    fn capture(area: &[u8], used: usize) -> StaleSlots {
        if area[used..].iter().all(|&b| b == 0) {
            return StaleSlots::default();
        }
        let mut v = area.to_vec();
        v[..used].fill(0);
        StaleSlots(v)
    }

    /// Writes the stale bytes past `used` into `area` (same length as the
    /// captured one; a mismatched capture is ignored, leaving zeros).
    fn apply(&self, area: &mut [u8], used: usize) {
        if self.0.len() == area.len() && used <= area.len() {
            area[used..].copy_from_slice(&self.0[used..]);
        }
    }

    pub fn is_clear(&self) -> bool {
        self.0.is_empty()
    }

    /// The captured slot area (empty when clear).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

fn count(value: i16, max: usize, what: &'static str) -> Result<usize> {
    if value < 0 || value as usize > max {
        return Err(PacketError::OutOfRange {
            what,
            value: value.into(),
        });
    }
    Ok(value as usize)
}

/// The fixed `members_info`: `done` (visited) then `pending` (still to be
/// visited), in one 128-slot array.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormMembers {
    pub done: Vec<u32>,
    pub pending: Vec<u32>,
    pub stale: StaleSlots,
}

impl FormMembers {
    fn read(r: &mut Reader) -> Result<FormMembers> {
        let num_members = r.i16("form num_members")?;
        let num_pending = r.i16("form num_pending")?;
        let area = r.take(FORM_MEMBERS_LEN - 4, "form members array")?;
        let done = count(num_members, MAX_FORM_MEMBERS, "form num_members")?;
        let pending = count(num_pending, MAX_FORM_MEMBERS - done, "form num_pending")?;
        let mut ids = Reader::new(area, r.order());
        Ok(FormMembers {
            done: ids.u32s(done, "form members")?,
            pending: ids.u32s(pending, "form pending")?,
            stale: StaleSlots::capture(area, 4 * (done + pending)),
        })
    }

    fn write(&self, w: &mut Writer, order: ByteOrder) {
        w.i16(count16(self.done.len()));
        w.i16(count16(self.pending.len()));
        let mut area = Writer::with_capacity(order, FORM_MEMBERS_LEN - 4);
        for &id in self.done.iter().chain(&self.pending).take(MAX_FORM_MEMBERS) {
            area.u32(id);
        }
        let used = area.out.len();
        area.out.resize(FORM_MEMBERS_LEN - 4, 0);
        self.stale.apply(&mut area.out, used);
        w.bytes(&area.out);
    }
}

/// The fixed `reps_info` of FORM1: the reps and the index of the next rep
/// to visit, in one 25-slot array.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormReps {
    pub rep_index: i16,
    pub reps: Vec<Rep>,
    pub stale: StaleSlots,
}

impl FormReps {
    fn read(r: &mut Reader) -> Result<FormReps> {
        let num_reps = r.i16("form num_reps")?;
        let rep_index = r.i16("form rep_index")?;
        let area = r.take(FORM_REPS_LEN - 4, "form reps array")?;
        let n = count(num_reps, MAX_REPS, "form num_reps")?;
        let mut slots = Reader::new(area, r.order());
        let reps = (0..n)
            .map(|_| Rep::read(&mut slots))
            .collect::<Result<_>>()?;
        Ok(FormReps {
            rep_index,
            reps,
            stale: StaleSlots::capture(area, Rep::LEN * n),
        })
    }

    fn write(&self, w: &mut Writer, order: ByteOrder) {
        w.i16(count16(self.reps.len()));
        w.i16(self.rep_index);
        let mut area = Writer::with_capacity(order, FORM_REPS_LEN - 4);
        for rep in self.reps.iter().take(MAX_REPS) {
            rep.write(&mut area);
        }
        let used = area.out.len();
        area.out.resize(FORM_REPS_LEN - 4, 0);
        self.stale.apply(&mut area.out, used);
        w.bytes(&area.out);
    }
}

/// One old ring in the ring list: its `ring_info`, its holes, then its
/// commit set whose first `num_trans` ids are the transitional set.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RingInfo {
    pub memb_id: MembId,
    pub trans_time: i32,
    pub aru: i32,
    pub highest_seq: i32,
    pub holes: Vec<i32>,
    /// Kept as read; see [`RingInfo::transitional`].
    pub num_trans: i16,
    pub commit: Vec<u32>,
}

impl RingInfo {
    fn read(r: &mut Reader) -> Result<RingInfo> {
        let memb_id = r.memb_id("ring_info memb_id")?;
        let trans_time = r.i32("ring_info trans_time")?;
        let aru = r.i32("ring_info aru")?;
        let highest_seq = r.i32("ring_info highest_seq")?;
        let num_holes = r.i32("ring_info num_holes")?;
        let num_commit = r.i16("ring_info num_commit")?;
        let num_trans = r.i16("ring_info num_trans")?;
        if num_holes < 0 {
            return Err(PacketError::OutOfRange {
                what: "ring_info num_holes",
                value: num_holes.into(),
            });
        }
        let num_commit = count(num_commit, i16::MAX as usize, "ring_info num_commit")?;
        Ok(RingInfo {
            memb_id,
            trans_time,
            aru,
            highest_seq,
            holes: r.i32s(num_holes as usize, "ring_info holes")?,
            num_trans,
            commit: r.u32s(num_commit, "ring_info commit set")?,
        })
    }

    fn write(&self, w: &mut Writer) {
        w.memb_id(self.memb_id);
        w.i32(self.trans_time);
        w.i32(self.aru);
        w.i32(self.highest_seq);
        w.i32(self.holes.len() as i32);
        w.i16(count16(self.commit.len()));
        w.i16(self.num_trans);
        for &h in &self.holes {
            w.i32(h);
        }
        for &id in &self.commit {
            w.u32(id);
        }
    }

    pub fn encoded_len(&self) -> usize {
        RING_INFO_LEN + 4 * (self.holes.len() + self.commit.len())
    }

    /// The transitional set: the first `num_trans` ids of the commit set
    /// (clamped to what is there).
    pub fn transitional(&self) -> &[u32] {
        let n = usize::try_from(self.num_trans).unwrap_or(0);
        &self.commit[..n.min(self.commit.len())]
    }

    /// The bounds 5.0.1 checks before accepting a FORM2 (Read_form2):
    /// 1 ≤ num_trans ≤ num_commit ≤ 128 and num_holes ≤ 1600.
    pub fn is_well_formed(&self) -> bool {
        self.num_trans >= 1
            && self.num_trans as usize <= self.commit.len()
            && self.commit.len() <= MAX_FORM_MEMBERS
            && self.holes.len() <= MAX_HOLES
    }
}

fn read_rings(r: &mut Reader) -> Result<Vec<RingInfo>> {
    let num_rings = r.i32("num_rings")?;
    if num_rings < 0 {
        return Err(PacketError::OutOfRange {
            what: "num_rings",
            value: num_rings.into(),
        });
    }
    r.check_room(num_rings as usize, RING_INFO_LEN, "ring list")?;
    (0..num_rings).map(|_| RingInfo::read(r)).collect()
}

fn write_rings(w: &mut Writer, rings: &[RingInfo]) {
    w.i32(rings.len() as i32);
    for ring in rings {
        ring.write(w);
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form1Body {
    pub members: FormMembers,
    pub reps: FormReps,
    pub rings: Vec<RingInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form2Body {
    pub members: FormMembers,
    /// Written by the new leader (the first member); stale before that.
    pub new_ring_id: MembId,
    pub rings: Vec<RingInfo>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormBody {
    Form1(Form1Body),
    Form2(Form2Body),
}

/// A FORM1 or FORM2 token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormToken {
    pub header: TokenHeader,
    pub body: FormBody,
}

impl FormToken {
    /// Decodes a form token. The datagram must be 40 + `rtr_len` bytes and
    /// the body exactly what its counts describe (5.0.1 sends nothing else;
    /// it would tolerate trailing bytes).
    pub fn decode(b: &[u8]) -> Result<FormToken> {
        let (header, body) = TokenHeader::split(b, true, "form token rtr_len")?;
        let mut r = Reader::new(body, header.order);
        let members = FormMembers::read(&mut r)?;
        // 5.0.1 tests FORM1 first.
        let body = if header.ty & FORM1_TYPE != 0 {
            let reps = FormReps::read(&mut r)?;
            let rings = read_rings(&mut r)?;
            FormBody::Form1(Form1Body {
                members,
                reps,
                rings,
            })
        } else {
            let new_ring_id = r.memb_id("form2 new ring id")?;
            let rings = read_rings(&mut r)?;
            FormBody::Form2(Form2Body {
                members,
                new_ring_id,
                rings,
            })
        };
        r.finish("form token body")?;
        Ok(FormToken { header, body })
    }

    /// The datagram in the header's order, `rtr_len` set to the body.
    pub fn encode(&self) -> Vec<u8> {
        let order = self.header.order;
        let mut w = Writer::new(order);
        match &self.body {
            FormBody::Form1(f) => {
                f.members.write(&mut w, order);
                f.reps.write(&mut w, order);
                write_rings(&mut w, &f.rings);
            }
            FormBody::Form2(f) => {
                f.members.write(&mut w, order);
                w.memb_id(f.new_ring_id);
                write_rings(&mut w, &f.rings);
            }
        }
        let body = w.into_vec();
        let mut header = self.header;
        header.rtr_len = body.len() as u16;
        let mut out = header.encode().to_vec();
        out.extend_from_slice(&body);
        out
    }

    pub fn members(&self) -> &FormMembers {
        match &self.body {
            FormBody::Form1(f) => &f.members,
            FormBody::Form2(f) => &f.members,
        }
    }

    pub fn rings(&self) -> &[RingInfo] {
        match &self.body {
            FormBody::Form1(f) => &f.rings,
            FormBody::Form2(f) => &f.rings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::membership::SEG_REP;
    use crate::type_bits::FORM2_TYPE;

    fn ring(id: u32) -> RingInfo {
        RingInfo {
            memb_id: MembId::new(id, -1),
            trans_time: 0,
            aru: 3,
            highest_seq: 7,
            holes: vec![5, 6],
            num_trans: 1,
            commit: vec![id, 9],
        }
    }

    fn form1(order: ByteOrder) -> FormToken {
        let mut header = TokenHeader::new(FORM1_TYPE);
        header.order = order;
        header.seq = 3333;
        FormToken {
            header,
            body: FormBody::Form1(Form1Body {
                members: FormMembers {
                    done: vec![1],
                    pending: vec![2, 3],
                    stale: StaleSlots::default(),
                },
                reps: FormReps {
                    rep_index: 1,
                    reps: vec![Rep {
                        proc_id: 1,
                        kind: SEG_REP,
                        seg_index: 0,
                    }],
                    stale: StaleSlots::default(),
                },
                rings: vec![ring(1), ring(2)],
            }),
        }
    }

    #[test]
    fn form1_sizes_and_round_trip() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let t = form1(order);
            let b = t.encode();
            assert_eq!(b.len(), 40 + 516 + 204 + 4 + 2 * (28 + 16));
            let mut d = FormToken::decode(&b).unwrap();
            d.header.rtr_len = 0;
            assert_eq!(d, t);
        }
    }

    #[test]
    fn stale_slots_survive() {
        let b = form1(ByteOrder::Little).encode();
        let mut stale = b.clone();
        stale[40 + 4 + 12..40 + 4 + 16].copy_from_slice(&[0xaa, 0xbb, 0xcc, 0xdd]);
        stale[40 + 516 + 4 + 8 + 3] = 0x11;
        let d = FormToken::decode(&stale).unwrap();
        assert!(!d.members().stale.is_clear());
        assert_eq!(d.encode(), stale);
        // Moving one pending member to done keeps the stale slot in place.
        let mut moved = d.clone();
        if let FormBody::Form1(f) = &mut moved.body {
            let id = f.members.pending.remove(0);
            f.members.done.push(id);
        }
        assert_eq!(&moved.encode()[56..60], &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn form2_layout() {
        let mut header = TokenHeader::new(FORM2_TYPE);
        header.seq = 3333;
        let t = FormToken {
            header,
            body: FormBody::Form2(Form2Body {
                members: FormMembers {
                    done: vec![],
                    pending: vec![1, 2, 3],
                    stale: StaleSlots::default(),
                },
                new_ring_id: MembId::new(65537, 1552775919),
                rings: vec![ring(1)],
            }),
        };
        let b = t.encode();
        assert_eq!(b.len(), 40 + 516 + 8 + 4 + 28 + 16);
        assert_eq!(u16::from_le_bytes([b[34], b[35]]) as usize, b.len() - 40);
        assert_eq!(&b[556..560], &[1, 0, 1, 0]);
        assert_eq!(FormToken::decode(&b).unwrap().encode(), b);
        assert_eq!(t.rings()[0].transitional(), &[1]);
        assert!(t.rings()[0].is_well_formed());
    }

    #[test]
    fn malformed_counts() {
        let b = form1(ByteOrder::Little).encode();
        let mut over = b.clone();
        over[40..42].copy_from_slice(&129i16.to_le_bytes());
        assert!(FormToken::decode(&over).is_err());
        let mut reps = b.clone();
        reps[556..558].copy_from_slice(&26i16.to_le_bytes());
        assert!(FormToken::decode(&reps).is_err());
        let mut rings = b.clone();
        rings[760..764].copy_from_slice(&i32::MAX.to_le_bytes());
        assert!(matches!(
            FormToken::decode(&rings),
            Err(PacketError::Truncated { .. })
        ));
        let mut holes = b;
        holes[764 + 20..764 + 24].copy_from_slice(&(-1i32).to_le_bytes());
        assert!(FormToken::decode(&holes).is_err());
    }
}
