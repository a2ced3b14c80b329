//! spmonitor control packets (§6), sent to a daemon's data port with the
//! data packet header: STATUS (request: header only, `seq` = the monitor's
//! reply port; reply: header + the 96-byte status struct), PARTITION
//! (int16 per configured daemon, 128 slots), FC (int16 pairs, 128 slots)
//! and RELOAD (header only). Every integer is in the sender's order.

use super::data::{split_datagram, DataHeader};
use super::error::{PacketError, Result};
use super::type_bits::{FC_TYPE, PARTITION_TYPE, RELOAD_TYPE, STATUS_TYPE};
use super::wire::{Reader, Writer};
use spread_core::wire::ByteOrder;

/// 18 int32 + 12 int16.
pub const STATUS_LEN: usize = 18 * 4 + 12 * 2;
/// int16[128]: a component number per daemon, in configuration order.
pub const PARTITION_LEN: usize = 128 * 2;
/// int16[128][2]: per daemon (personal window, accelerated window); entry
/// [number of daemons][0] is the ring Window. −1 = leave unchanged.
pub const FC_LEN: usize = 128 * 2 * 2;

pub type PartitionTable = [i16; 128];
pub type FlowControlTable = [[i16; 2]; 128];

/// The daemon's `status` struct, field for field in 5.0.1's order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub sec: i32,
    pub state: i32,
    pub gstate: i32,
    pub packet_sent: i32,
    pub packet_recv: i32,
    pub packet_delivered: i32,
    pub retrans: i32,
    pub u_retrans: i32,
    pub s_retrans: i32,
    pub b_retrans: i32,
    pub aru: i32,
    pub my_aru: i32,
    pub highest_seq: i32,
    pub token_hurry: i32,
    pub token_rounds: i32,
    pub my_id: u32,
    pub leader_id: u32,
    pub message_delivered: i32,
    pub membership_changes: i16,
    pub num_procs: i16,
    pub num_segments: i16,
    pub window: i16,
    pub personal_window: i16,
    pub accelerated_ring: i16,
    pub accelerated_window: i16,
    pub num_sessions: i16,
    pub num_groups: i16,
    pub major_version: i16,
    pub minor_version: i16,
    pub patch_version: i16,
}

impl Status {
    pub fn decode(b: &[u8], order: ByteOrder) -> Result<Status> {
        let mut r = Reader::new(b, order);
        let s = Status {
            sec: r.i32("status sec")?,
            state: r.i32("status state")?,
            gstate: r.i32("status gstate")?,
            packet_sent: r.i32("status packet_sent")?,
            packet_recv: r.i32("status packet_recv")?,
            packet_delivered: r.i32("status packet_delivered")?,
            retrans: r.i32("status retrans")?,
            u_retrans: r.i32("status u_retrans")?,
            s_retrans: r.i32("status s_retrans")?,
            b_retrans: r.i32("status b_retrans")?,
            aru: r.i32("status aru")?,
            my_aru: r.i32("status my_aru")?,
            highest_seq: r.i32("status highest_seq")?,
            token_hurry: r.i32("status token_hurry")?,
            token_rounds: r.i32("status token_rounds")?,
            my_id: r.u32("status my_id")?,
            leader_id: r.u32("status leader_id")?,
            message_delivered: r.i32("status message_delivered")?,
            membership_changes: r.i16("status membership_changes")?,
            num_procs: r.i16("status num_procs")?,
            num_segments: r.i16("status num_segments")?,
            window: r.i16("status window")?,
            personal_window: r.i16("status personal_window")?,
            accelerated_ring: r.i16("status accelerated_ring")?,
            accelerated_window: r.i16("status accelerated_window")?,
            num_sessions: r.i16("status num_sessions")?,
            num_groups: r.i16("status num_groups")?,
            major_version: r.i16("status major_version")?,
            minor_version: r.i16("status minor_version")?,
            patch_version: r.i16("status patch_version")?,
        };
        r.finish("status")?;
        Ok(s)
    }

    pub fn encode(&self, order: ByteOrder) -> Vec<u8> {
        let mut w = Writer::with_capacity(order, STATUS_LEN);
        for v in [
            self.sec,
            self.state,
            self.gstate,
            self.packet_sent,
            self.packet_recv,
            self.packet_delivered,
            self.retrans,
            self.u_retrans,
            self.s_retrans,
            self.b_retrans,
            self.aru,
            self.my_aru,
            self.highest_seq,
            self.token_hurry,
            self.token_rounds,
        ] {
            w.i32(v);
        }
        w.u32(self.my_id);
        w.u32(self.leader_id);
        w.i32(self.message_delivered);
        for v in [
            self.membership_changes,
            self.num_procs,
            self.num_segments,
            self.window,
            self.personal_window,
            self.accelerated_ring,
            self.accelerated_window,
            self.num_sessions,
            self.num_groups,
            self.major_version,
            self.minor_version,
            self.patch_version,
        ] {
            w.i16(v);
        }
        w.into_vec()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MonitorBody {
    /// Header only; the reply goes to the monitor's IP, port `seq`.
    StatusRequest,
    /// The daemon's answer (5.0.1 fills only `type`, `proc_id` and
    /// `data_len` of its header; the rest is zero).
    StatusReply(Status),
    Partition(Box<PartitionTable>),
    FlowControl(Box<FlowControlTable>),
    Reload,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorPacket {
    pub header: DataHeader,
    pub body: MonitorBody,
}

fn wrong_len(what: &'static str, declared: usize, actual: usize) -> PacketError {
    PacketError::LengthMismatch {
        what,
        declared,
        actual,
    }
}

impl MonitorPacket {
    /// Decodes by type in 5.0.1's order: PARTITION (handled by the network
    /// layer first), then STATUS, FC, RELOAD.
    pub fn decode(b: &[u8]) -> Result<MonitorPacket> {
        let (header, body) = split_datagram(b)?;
        let order = header.order;
        let body = if header.ty & PARTITION_TYPE != 0 {
            if body.len() != PARTITION_LEN {
                return Err(wrong_len("partition body", PARTITION_LEN, body.len()));
            }
            let mut r = Reader::new(body, order);
            let mut table = Box::new([0i16; 128]);
            for slot in table.iter_mut() {
                *slot = r.i16("partition entry")?;
            }
            MonitorBody::Partition(table)
        } else if header.ty & STATUS_TYPE != 0 {
            match body.len() {
                0 => MonitorBody::StatusRequest,
                STATUS_LEN => MonitorBody::StatusReply(Status::decode(body, order)?),
                n => return Err(wrong_len("status body", STATUS_LEN, n)),
            }
        } else if header.ty & FC_TYPE != 0 {
            if body.len() != FC_LEN {
                return Err(wrong_len("flow control body", FC_LEN, body.len()));
            }
            let mut r = Reader::new(body, order);
            let mut table = Box::new([[0i16; 2]; 128]);
            for pair in table.iter_mut() {
                pair[0] = r.i16("flow control entry")?;
                pair[1] = r.i16("flow control entry")?;
            }
            MonitorBody::FlowControl(table)
        } else if header.ty & RELOAD_TYPE != 0 {
            if !body.is_empty() {
                return Err(wrong_len("reload body", 0, body.len()));
            }
            MonitorBody::Reload
        } else {
            return Err(PacketError::WrongType {
                ty: header.ty,
                expected: "a monitor control packet",
            });
        };
        Ok(MonitorPacket { header, body })
    }

    /// The datagram in the header's order, `data_len` set to the body.
    pub fn encode(&self) -> Vec<u8> {
        let order = self.header.order;
        let body = match &self.body {
            MonitorBody::StatusRequest | MonitorBody::Reload => Vec::new(),
            MonitorBody::StatusReply(s) => s.encode(order),
            MonitorBody::Partition(t) => {
                let mut w = Writer::with_capacity(order, PARTITION_LEN);
                t.iter().for_each(|&v| w.i16(v));
                w.into_vec()
            }
            MonitorBody::FlowControl(t) => {
                let mut w = Writer::with_capacity(order, FC_LEN);
                t.iter().flatten().for_each(|&v| w.i16(v));
                w.into_vec()
            }
        };
        let mut header = self.header;
        header.data_len = body.len() as u16;
        let mut out = header.encode().to_vec();
        out.extend_from_slice(&body);
        out
    }

    /// STATUS request: the port the reply must go to.
    pub fn reply_port(&self) -> u16 {
        self.header.seq as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            sec: 12,
            state: 1,
            gstate: 1,
            highest_seq: 539,
            my_id: 1552775919,
            leader_id: u32::MAX,
            window: 160,
            personal_window: 20,
            accelerated_ring: 1,
            accelerated_window: 15,
            major_version: 5,
            patch_version: 1,
            ..Status::default()
        }
    }

    fn round_trip(p: &MonitorPacket) -> Vec<u8> {
        let b = p.encode();
        let mut d = MonitorPacket::decode(&b).unwrap();
        d.header.data_len = p.header.data_len;
        assert_eq!(&d, p);
        b
    }

    #[test]
    fn sizes_and_round_trips_both_orders() {
        assert_eq!(STATUS_LEN, 96);
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let mut h = DataHeader::new(STATUS_TYPE, 1);
            h.order = order;
            h.seq = 6543;
            let req = MonitorPacket {
                header: h,
                body: MonitorBody::StatusRequest,
            };
            assert_eq!(round_trip(&req).len(), 40);
            assert_eq!(
                MonitorPacket::decode(&req.encode()).unwrap().reply_port(),
                6543
            );
            let rep = MonitorPacket {
                header: h,
                body: MonitorBody::StatusReply(status()),
            };
            assert_eq!(round_trip(&rep).len(), 136);

            let mut table = Box::new([0i16; 128]);
            table[0] = 1;
            table[2] = -1;
            let mut ph = h;
            ph.ty = PARTITION_TYPE;
            let part = MonitorPacket {
                header: ph,
                body: MonitorBody::Partition(table),
            };
            assert_eq!(round_trip(&part).len(), 40 + 256);

            let mut fc = Box::new([[-1i16; 2]; 128]);
            fc[3][0] = 160;
            fc[0] = [20, 15];
            let mut fh = h;
            fh.ty = FC_TYPE;
            let fcp = MonitorPacket {
                header: fh,
                body: MonitorBody::FlowControl(fc),
            };
            assert_eq!(round_trip(&fcp).len(), 40 + 512);

            let mut rh = h;
            rh.ty = RELOAD_TYPE;
            let reload = MonitorPacket {
                header: rh,
                body: MonitorBody::Reload,
            };
            assert_eq!(round_trip(&reload).len(), 40);
        }
    }

    #[test]
    fn status_field_positions() {
        let b = status().encode(ByteOrder::Little);
        assert_eq!(&b[48..52], &[27, 2, 0, 0], "highest_seq is the 13th int32");
        assert_eq!(&b[78..80], &[160, 0], "window is the 4th int16");
        assert_eq!(&b[84..86], &[15, 0], "accelerated_window follows the flag");
        assert_eq!(&b[90..92], &[5, 0]);
    }

    #[test]
    fn wrong_sizes() {
        let mut h = DataHeader::new(PARTITION_TYPE, 1);
        h.data_len = 4;
        let mut b = h.encode().to_vec();
        b.extend_from_slice(&[0; 4]);
        assert!(MonitorPacket::decode(&b).is_err());
        let mut s = DataHeader::new(STATUS_TYPE, 1);
        s.data_len = 95;
        let mut b = s.encode().to_vec();
        b.extend_from_slice(&[0; 95]);
        assert!(MonitorPacket::decode(&b).is_err());
    }
}
