//! The daemon's answer to a monitor's STATUS request (spmonitor): the
//! 96-byte status structure of 5.0.1.

use crate::engine::membership::Membership;
use crate::packet::{DataHeader, MonitorBody, MonitorPacket, Status, STATUS_TYPE};
use spread_core::consts::*;
use std::time::Instant;

/// What does not change while the daemon runs.
#[derive(Clone, Debug)]
pub struct StatusInfo {
    pub my_id: u32,
    pub num_procs: i16,
    pub num_segments: i16,
    pub window: i16,
    pub personal_window: i16,
    /// The Accelerated Ring's window when it is on.
    pub accelerated_window: Option<i16>,
}

/// 5.0.1's membership state OP and group states GOP / GGATHER (a daemon
/// alone is always operational).
const OP: i32 = 1;
const GOP: i32 = 1;
const GGATHER: i32 = 2;

fn clamp(v: u64) -> i32 {
    v.min(i32::MAX as u64) as i32
}

/// The STATUS reply of this daemon.
pub fn status_reply(
    info: &StatusInfo,
    started: Instant,
    memb: Option<&Membership>,
    sessions: usize,
    groups: usize,
    exchanging: bool,
    delivered: u64,
) -> Vec<u8> {
    let mut s = Status {
        sec: clamp(started.elapsed().as_secs()),
        state: OP,
        gstate: if exchanging { GGATHER } else { GOP },
        my_id: info.my_id,
        leader_id: info.my_id,
        message_delivered: clamp(delivered),
        num_procs: info.num_procs,
        num_segments: info.num_segments,
        window: info.window,
        personal_window: info.personal_window,
        accelerated_ring: i16::from(info.accelerated_window.is_some()),
        accelerated_window: info.accelerated_window.unwrap_or(0),
        num_sessions: sessions.min(i16::MAX as usize) as i16,
        num_groups: groups.min(i16::MAX as usize) as i16,
        major_version: i16::from(SP_MAJOR_VERSION),
        minor_version: i16::from(SP_MINOR_VERSION),
        patch_version: i16::from(SP_PATCH_VERSION),
        ..Status::default()
    };
    if let Some(m) = memb {
        let r = m.ring();
        s.state = m.state() as i32;
        s.membership_changes = m.changes.min(i16::MAX as u32) as i16;
        // As 5.0.1: the number of daemons in the current membership.
        s.num_procs = r.old_members().len().min(i16::MAX as usize) as i16;
        let (highest, my_aru, aru, _) = r.sequence_state();
        s.packet_sent = clamp(r.stats.packets_sent);
        s.packet_recv = clamp(r.stats.packets_received);
        s.packet_delivered = clamp(r.stats.delivered);
        s.retrans = clamp(r.stats.retransmitted);
        s.aru = aru;
        s.my_aru = my_aru;
        s.highest_seq = highest;
        s.token_hurry = clamp(r.stats.hurries);
        s.token_rounds = r.token_rounds();
        s.leader_id = r.old_members().first().copied().unwrap_or(info.my_id);
    }
    let mut header = DataHeader::new(STATUS_TYPE, info.my_id);
    header.transmiter_id = info.my_id;
    MonitorPacket {
        header,
        body: MonitorBody::StatusReply(s),
    }
    .encode()
}
