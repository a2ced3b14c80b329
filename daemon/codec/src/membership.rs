//! The membership packets of the data port (§3.2): ALIVE, JOIN, REFER and
//! HURRY. They use the data packet header; only `type`, `transmiter_id`,
//! `proc_id`, `conf_hash`, `data_len` (and REFER's `memb_id`) mean
//! anything, but every header field is kept so re-encoding is exact.

use super::data::{split_datagram, DataHeader};
use super::error::{PacketError, Result};
use super::type_bits::{ALIVE_TYPE, HURRY_TYPE, JOIN_TYPE, REFER_TYPE};
use super::wire::{count16, Reader, Writer};
use spread_core::wire::ByteOrder;

/// Representative kinds in a reps list (and in REFER's `memb_id.time`).
pub const POTENTIAL_REP: i16 = 0;
pub const SEG_REP: i16 = 1;
pub const RING_REP: i16 = 2;

/// The variable-size `members_info` of ALIVE and JOIN: the counts and
/// `num_members` ids (me first, then the daemons heard). `num_pending` is 0
/// in everything 5.0.1 sends and is kept as read; 5.0.1 locates the reps
/// after `num_members` ids only, so pending ids are never on the wire here.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberList {
    pub num_pending: i16,
    pub ids: Vec<u32>,
}

impl MemberList {
    pub fn new(ids: Vec<u32>) -> MemberList {
        MemberList {
            num_pending: 0,
            ids,
        }
    }

    fn read(r: &mut Reader) -> Result<MemberList> {
        let num_members = r.i16("members_info num_members")?;
        let num_pending = r.i16("members_info num_pending")?;
        if num_members < 0 {
            return Err(PacketError::OutOfRange {
                what: "members_info num_members",
                value: num_members.into(),
            });
        }
        let ids = r.u32s(num_members as usize, "members_info members")?;
        Ok(MemberList { num_pending, ids })
    }

    fn write(&self, w: &mut Writer) {
        w.i16(count16(self.ids.len()));
        w.i16(self.num_pending);
        for &id in &self.ids {
            w.u32(id);
        }
    }
}

/// One `rep_info`: a representative and its kind and segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rep {
    pub proc_id: u32,
    /// [`POTENTIAL_REP`], [`SEG_REP`] or [`RING_REP`].
    pub kind: i16,
    pub seg_index: i16,
}

impl Rep {
    pub const LEN: usize = 8;

    pub(crate) fn read(r: &mut Reader) -> Result<Rep> {
        Ok(Rep {
            proc_id: r.u32("rep proc_id")?,
            kind: r.i16("rep type")?,
            seg_index: r.i16("rep seg_index")?,
        })
    }

    pub(crate) fn write(&self, w: &mut Writer) {
        w.u32(self.proc_id);
        w.i16(self.kind);
        w.i16(self.seg_index);
    }
}

/// The variable-size `reps_info` of a JOIN; entry 0 is the sender.
/// `rep_index` is stale (left from the last FORM1 the sender built) and is
/// kept only to re-encode it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepList {
    pub rep_index: i16,
    pub reps: Vec<Rep>,
}

impl RepList {
    fn read(r: &mut Reader) -> Result<RepList> {
        let num_reps = r.i16("reps_info num_reps")?;
        let rep_index = r.i16("reps_info rep_index")?;
        if num_reps < 0 {
            return Err(PacketError::OutOfRange {
                what: "reps_info num_reps",
                value: num_reps.into(),
            });
        }
        r.check_room(num_reps as usize, Rep::LEN, "reps_info reps")?;
        let reps = (0..num_reps).map(|_| Rep::read(r)).collect::<Result<_>>()?;
        Ok(RepList { rep_index, reps })
    }

    fn write(&self, w: &mut Writer) {
        w.i16(count16(self.reps.len()));
        w.i16(self.rep_index);
        for rep in &self.reps {
            rep.write(w);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipBody {
    /// The daemons the sender has heard (receivers do not read it).
    Alive(MemberList),
    /// A representative's JOIN: its members, then its known reps.
    Join { members: MemberList, reps: RepList },
    /// Header only: `memb_id` = (daemon to talk to, its rep kind).
    Refer,
    /// Header only: "please release the token".
    Hurry,
}

/// An ALIVE, JOIN, REFER or HURRY packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipPacket {
    pub header: DataHeader,
    pub body: MembershipBody,
}

impl MembershipPacket {
    /// Decodes by type, checked in 5.0.1's order (ALIVE, JOIN, REFER, then
    /// HURRY). The body must be exactly what the counts describe.
    pub fn decode(b: &[u8]) -> Result<MembershipPacket> {
        let (header, body) = split_datagram(b)?;
        let mut r = Reader::new(body, header.order);
        let body = if header.ty & ALIVE_TYPE != 0 {
            MembershipBody::Alive(MemberList::read(&mut r)?)
        } else if header.ty & JOIN_TYPE != 0 {
            let members = MemberList::read(&mut r)?;
            let reps = RepList::read(&mut r)?;
            MembershipBody::Join { members, reps }
        } else if header.ty & REFER_TYPE != 0 {
            MembershipBody::Refer
        } else if header.ty & HURRY_TYPE != 0 {
            MembershipBody::Hurry
        } else {
            return Err(PacketError::WrongType {
                ty: header.ty,
                expected: "ALIVE, JOIN, REFER or HURRY",
            });
        };
        r.finish("membership packet body")?;
        Ok(MembershipPacket { header, body })
    }

    /// The datagram in the header's order, `data_len` set to the body.
    pub fn encode(&self) -> Vec<u8> {
        let body = self.encode_body(self.header.order);
        let mut header = self.header;
        header.data_len = body.len() as u16;
        let mut out = header.encode().to_vec();
        out.extend_from_slice(&body);
        out
    }

    fn encode_body(&self, order: ByteOrder) -> Vec<u8> {
        let mut w = Writer::new(order);
        match &self.body {
            MembershipBody::Alive(m) => m.write(&mut w),
            MembershipBody::Join { members, reps } => {
                members.write(&mut w);
                reps.write(&mut w);
            }
            MembershipBody::Refer | MembershipBody::Hurry => {}
        }
        w.into_vec()
    }

    /// The header 5.0.1 sends these packets with: its network layer writes
    /// the sender as `transmiter_id` (and receivers drop a packet whose
    /// transmitter is not a configured daemon); `memb_id`, `seq` and the
    /// rest are never written (zero).
    fn header(ty: u32, me: u32) -> DataHeader {
        let mut h = DataHeader::new(ty, me);
        h.transmiter_id = me;
        h
    }

    /// An ALIVE from `me` listing the daemons heard (`me` first).
    pub fn alive(me: u32, heard: Vec<u32>) -> MembershipPacket {
        MembershipPacket {
            header: Self::header(ALIVE_TYPE, me),
            body: MembershipBody::Alive(MemberList::new(heard)),
        }
    }

    /// A JOIN from `me` (entry 0 of `reps` must be `me`).
    pub fn join(me: u32, members: Vec<u32>, reps: Vec<Rep>) -> MembershipPacket {
        MembershipPacket {
            header: Self::header(JOIN_TYPE, me),
            body: MembershipBody::Join {
                members: MemberList::new(members),
                reps: RepList { rep_index: 0, reps },
            },
        }
    }

    /// A REFER from `me` pointing at `target`, a rep of kind `kind`. The
    /// other header fields are zero (5.0.1 leaves stack garbage there).
    pub fn refer(me: u32, target: u32, kind: i16) -> MembershipPacket {
        let mut header = Self::header(REFER_TYPE, me);
        header.memb_id = super::MembId::new(target, kind.into());
        MembershipPacket {
            header,
            body: MembershipBody::Refer,
        }
    }

    /// A HURRY from `me` to the leader.
    pub fn hurry(me: u32) -> MembershipPacket {
        MembershipPacket {
            header: Self::header(HURRY_TYPE, me),
            body: MembershipBody::Hurry,
        }
    }

    /// REFER: the daemon the joiner should talk to.
    pub fn refer_target(&self) -> u32 {
        self.header.memb_id.proc_id
    }

    /// REFER: that daemon's rep kind ([`SEG_REP`] or [`RING_REP`]).
    pub fn refer_kind(&self) -> i32 {
        self.header.memb_id.time
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(p: &MembershipPacket) -> Vec<u8> {
        let b = p.encode();
        let mut d = MembershipPacket::decode(&b).unwrap();
        d.header.data_len = p.header.data_len;
        assert_eq!(&d, p);
        b
    }

    #[test]
    fn sizes_match_the_spec() {
        let alive = MembershipPacket::alive(1, vec![1, 2, 3]);
        assert_eq!(round_trip(&alive).len(), 40 + 4 + 12);
        let rep = Rep {
            proc_id: 1,
            kind: SEG_REP,
            seg_index: 0,
        };
        let join = MembershipPacket::join(1, vec![1, 2, 3], vec![rep]);
        let b = round_trip(&join);
        assert_eq!(b.len(), 40 + 16 + 12);
        assert_eq!(&b[56..68], &[1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]);
        let refer = MembershipPacket::refer(1, 2, RING_REP);
        assert_eq!(round_trip(&refer).len(), 40);
        let d = MembershipPacket::decode(&refer.encode()).unwrap();
        assert_eq!((d.refer_target(), d.refer_kind()), (2, 2));
        assert_eq!(round_trip(&MembershipPacket::hurry(5)).len(), 40);
    }

    #[test]
    fn big_endian_join() {
        let mut join = MembershipPacket::join(
            7,
            vec![7, 8],
            vec![Rep {
                proc_id: 7,
                kind: RING_REP,
                seg_index: 3,
            }],
        );
        join.header.order = ByteOrder::Big;
        let b = round_trip(&join);
        assert_eq!(&b[40..44], &[0, 2, 0, 0]);
    }

    #[test]
    fn malformed_bodies() {
        let alive = MembershipPacket::alive(1, vec![1, 2]).encode();
        let mut longer = alive.clone();
        longer.extend_from_slice(&[0; 4]);
        longer[32] += 4;
        assert!(matches!(
            MembershipPacket::decode(&longer),
            Err(PacketError::TrailingBytes { .. })
        ));
        let mut neg = alive.clone();
        neg[41] = 0x80;
        assert!(MembershipPacket::decode(&neg).is_err());
        let mut huge = alive;
        huge[40] = 0x7f;
        assert!(matches!(
            MembershipPacket::decode(&huge),
            Err(PacketError::Truncated { .. })
        ));
    }
}
