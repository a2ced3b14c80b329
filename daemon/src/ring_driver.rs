//! The ring at run time: the membership protocol and its ring, their UDP
//! transport, and the clock that turns tokio time into the engine's
//! microseconds.

use crate::engine::membership::{Membership, MembershipConfig};
use crate::engine::order::{Delivered, Delivery};
use crate::logging::ReportedCount;
use crate::packet::{Packet, AGREED_TYPE, FIFO_TYPE, RELIABLE_TYPE, SAFE_TYPE};
use crate::transport::{Peer, Received, Transport};
use bytes::Bytes;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::{ByteOrder, Header};
use spread_core::GroupName;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// How the ring of this daemon is set up.
#[derive(Clone, Debug)]
pub struct RingSettings {
    /// The membership protocol's configuration (its `epoch_secs` is set
    /// when the ring starts).
    pub engine: MembershipConfig,
    /// Every configured daemon's addresses, in configuration order.
    pub peers: Vec<Peer>,
    /// Test only: the fraction of received data packets to drop.
    pub drop_rate: f64,
    /// The segment address data packets are sent to, if usable.
    pub segment: Option<crate::segment::Segment>,
}

/// What the ring hands to the group layer, in order.
pub enum RingEvent {
    /// A client message: its origin's configuration position, its header.
    Message(usize, Header, Bytes),
    /// A transitional configuration: the daemons (positions) that stay,
    /// and its id.
    Transitional(BTreeSet<usize>, (u32, i32)),
    /// A regular configuration: its daemons (positions) and id.
    Regular(BTreeSet<usize>, (u32, i32)),
}

pub struct RingDriver {
    memb: Membership,
    transport: Transport,
    start: Instant,
    index_of: HashMap<u32, usize>,
    me: u32,
    /// Datagrams dropped: undecodable, from an unknown source or another
    /// configuration, or not for this daemon yet (membership packets).
    packets_refused: u64,
    /// The count last reported in the log, and when.
    reported: ReportedCount,
    /// The same for data and tokens numbered beyond the possible.
    reported_ahead: ReportedCount,
    /// Rings given up for packets nobody had, as far as logged.
    stuck_logged: u64,
}

/// Dropped datagrams are reported at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(60);

/// The packet service a client message travels with (§8 of the daemon
/// reference): UNRELIABLE and RELIABLE as RELIABLE, CAUSAL and the group
/// requests as AGREED.
pub fn packet_service(service_type: u32) -> u32 {
    if service_type & SAFE_MESS != 0 {
        SAFE_TYPE
    } else if service_type & FIFO_MESS != 0 {
        FIFO_TYPE
    } else if service_type & (UNRELIABLE_MESS | RELIABLE_MESS) != 0 {
        RELIABLE_TYPE
    } else {
        AGREED_TYPE
    }
}

/// The KILL a daemon orders for a client whose socket died (SAFE, as 5.0.1).
pub fn kill_request(member: &GroupName) -> Bytes {
    Bytes::from(request_head(
        KILL_MESS | SAFE_MESS,
        member,
        &[],
        0,
        0,
        ByteOrder::NATIVE,
    ))
}

impl RingDriver {
    pub async fn bind(s: &RingSettings) -> std::io::Result<RingDriver> {
        let me = s.engine.me;
        let transport = Transport::bind(me, &s.peers, s.drop_rate, s.segment).await?;
        let start = Instant::now();
        let cfg = MembershipConfig {
            epoch_secs: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_secs() as i64),
            ..s.engine.clone()
        };
        Ok(RingDriver {
            memb: Membership::new(cfg, 0),
            transport,
            start,
            index_of: s.peers.iter().map(|p| (p.id, p.index)).collect(),
            me,
            packets_refused: 0,
            reported: ReportedCount::default(),
            reported_ahead: ReportedCount::default(),
            stuck_logged: 0,
        })
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn membership(&self) -> &Membership {
        &self.memb
    }

    fn now(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// When the engine wants its timers run.
    pub fn deadline(&self) -> Instant {
        self.start + Duration::from_micros(self.memb.poll_timeout())
    }

    /// Messages waiting to be sent (the down-queue).
    pub fn backlog(&self) -> usize {
        self.memb.backlog()
    }

    pub fn submit(&mut self, message: Bytes, service_type: u32) {
        let now = self.now();
        if self
            .memb
            .submit(message, packet_service(service_type), now)
            .is_err()
        {
            self.packets_refused += 1;
        }
    }

    pub fn on_timer(&mut self) {
        let now = self.now();
        if self.memb.poll_timeout() <= now {
            self.memb.handle_timeout(now);
        }
    }

    /// Says in the log, at most once a minute, how many datagrams were
    /// dropped since the last report.
    fn report_refused(&mut self) {
        let dropped = self.packets_refused + self.memb.refused;
        if let Some(new) = self.reported.due(dropped, REPORT_EVERY) {
            warn!(target: "spread::network", "dropped {new} datagrams (malformed, from unknown sources or other configurations, or out of place in the membership protocol)");
        }
        let stats = &self.memb.ring().stats;
        if let Some(new) = self.reported_ahead.due(stats.refused_ahead, REPORT_EVERY) {
            warn!(target: "spread::network", "refused {new} data packets or tokens numbered beyond what the ring can have sent (forged?)");
        }
        if stats.stuck > self.stuck_logged {
            self.stuck_logged = stats.stuck;
            warn!(target: "spread::membership", "the ring lacks packets that no daemon has (forged sequence numbers?): forming a new membership");
        }
    }

    /// A datagram from the network: decoded, checked (its source must be
    /// the configured address of the daemon it claims to come from, and
    /// `admits` must take that daemon's configuration position), handed to
    /// the engine.
    pub fn on_datagram(&mut self, r: Received, admits: impl FnOnce(usize) -> bool) {
        let now = self.now();
        let packet = match Packet::decode(r.port, &r.bytes) {
            Ok(p) => p,
            Err(e) => {
                self.packets_refused += 1;
                debug!(target: "spread::network", "dropped a datagram from {}: {e}", r.from);
                return;
            }
        };
        let claimed = match &packet {
            Packet::Data(p) => p.header.transmiter_id,
            Packet::Token(t) => t.header.transmiter_id,
            Packet::Membership(m) => m.header.proc_id,
            Packet::Form(f) => f.header.transmiter_id,
            Packet::Monitor(_) => {
                self.packets_refused += 1;
                return;
            }
        };
        if claimed == self.me {
            // Our own packet, back from the segment address.
            return;
        }
        let Some(peer) = self.transport.sender_of(r.from.ip(), claimed) else {
            self.packets_refused += 1;
            debug!(target: "spread::network", "dropped a datagram from {} claiming daemon {claimed}", r.from);
            return;
        };
        if admits(peer.index) {
            self.memb.handle_packet(packet, now);
        }
    }

    /// Sends what the engine produced; returns what it delivered: client
    /// messages (with their origin's configuration position and decoded
    /// header) and configuration changes.
    pub fn pump(&mut self) -> Vec<RingEvent> {
        self.report_refused();
        let mut sends = Vec::new();
        while let Some(s) = self.memb.poll_send() {
            sends.push(s);
        }
        self.transport.send_all(&sends);
        let positions = |ids: &[u32], index_of: &HashMap<u32, usize>| -> BTreeSet<usize> {
            ids.iter()
                .filter_map(|id| index_of.get(id).copied())
                .collect()
        };
        let mut out = Vec::new();
        while let Some(d) = self.memb.poll_delivery() {
            match d {
                Delivery::Message(Delivered {
                    origin, message, ..
                }) => {
                    let (Some(&index), Some(head)) = (
                        self.index_of.get(&origin),
                        message.first_chunk::<HEADER_LEN>(),
                    ) else {
                        self.packets_refused += 1;
                        continue;
                    };
                    out.push(RingEvent::Message(index, Header::decode(head), message));
                }
                Delivery::Transitional { members, id } => {
                    info!(target: "spread::membership", "transitional configuration {}", describe(&members, id.proc_id, id.time));
                    out.push(RingEvent::Transitional(
                        positions(&members, &self.index_of),
                        (id.proc_id, id.time),
                    ))
                }
                Delivery::Regular { members, id } => {
                    info!(target: "spread::membership", "membership {}", describe(&members, id.proc_id, id.time));
                    out.push(RingEvent::Regular(
                        positions(&members, &self.index_of),
                        (id.proc_id, id.time),
                    ))
                }
            }
        }
        out
    }

    /// New flow-control windows from a monitor (`None` = unchanged).
    pub fn set_flow_control(
        &mut self,
        window: Option<i32>,
        personal: Option<i32>,
        accelerated: Option<i32>,
    ) {
        self.memb
            .ring_mut()
            .set_windows(window, personal, accelerated);
    }
}

/// A configuration for the log: its id and daemons.
fn describe(members: &[u32], proc_id: u32, time: i32) -> String {
    let ids: Vec<String> = members.iter().map(u32::to_string).collect();
    format!(
        "({proc_id}, {time}) of {} daemons: {}",
        members.len(),
        ids.join(" ")
    )
}
