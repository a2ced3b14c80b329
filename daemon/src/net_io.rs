//! The daemon's side of the network at run time: the UDP transport, the
//! clock that turns tokio time into the node's microseconds, and the checks
//! a datagram passes before the node sees it (it decodes, and it comes from
//! the configured address of the daemon it names).

use crate::engine::node::Node;
use crate::logging::ReportedCount;
use crate::packet::Packet;
use crate::transport::{Peer, Received, Transport};
use std::time::Duration;
use tokio::time::Instant;
use tracing::{debug, warn};

/// How this daemon reaches the others.
#[derive(Clone, Debug)]
pub struct NetSettings {
    /// This daemon's id.
    pub me: u32,
    /// Every configured daemon's addresses, in configuration order.
    pub peers: Vec<Peer>,
    /// Test only: the fraction of received data packets to drop.
    pub drop_rate: f64,
    /// The segment address data packets are sent to, if usable.
    pub segment: Option<crate::segment::Segment>,
    /// IgnoreMulticastJoinErrors: a segment group that cannot be joined is
    /// logged and left out (data then goes to each daemon) instead of
    /// stopping the daemon.
    pub ignore_multicast_join_errors: bool,
}

pub struct NetIo {
    transport: Transport,
    start: Instant,
    me: u32,
    /// Datagrams dropped: undecodable, or from an unknown source.
    packets_refused: u64,
    /// Dropped datagrams as far as the log has told of them.
    reported: ReportedCount,
    /// The same for data and tokens numbered beyond the possible.
    reported_ahead: ReportedCount,
    /// Rings given up for packets nobody had, as far as logged.
    stuck_logged: u64,
}

/// Dropped datagrams are reported at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(60);

impl NetIo {
    pub async fn bind(s: &NetSettings) -> std::io::Result<NetIo> {
        let transport = Transport::bind(
            s.me,
            &s.peers,
            s.drop_rate,
            s.segment,
            s.ignore_multicast_join_errors,
        )
        .await?;
        Ok(NetIo {
            transport,
            start: Instant::now(),
            me: s.me,
            packets_refused: 0,
            reported: ReportedCount::default(),
            reported_ahead: ReportedCount::default(),
            stuck_logged: 0,
        })
    }

    /// A reloaded configuration's daemons (see [`Transport::reconfigure`]).
    pub fn reconfigure(&mut self, s: &NetSettings) -> Result<(), String> {
        self.transport.reconfigure(&s.peers, s.segment)
    }

    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Now, in the node's microseconds.
    pub fn now(&self) -> u64 {
        self.start.elapsed().as_micros() as u64
    }

    /// Seconds since the epoch at the node's time 0 (ring ids are made of
    /// seconds).
    pub fn epoch_secs() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_secs() as i64)
    }

    /// When the node wants its timers run.
    pub fn deadline(&self, node: &Node) -> Instant {
        // No timer at all (u64::MAX) is past what an Instant holds.
        self.start
            .checked_add(Duration::from_micros(node.poll_timeout()))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600))
    }

    /// A datagram from the network, decoded and checked: its source must be
    /// the configured address of the daemon it claims to come from, and
    /// `admits` must take that daemon's configuration position.
    pub fn decode(&mut self, r: &Received, admits: impl FnOnce(usize) -> bool) -> Option<Packet> {
        let packet = match Packet::decode(r.port, &r.bytes) {
            Ok(p) => p,
            Err(e) => {
                self.packets_refused += 1;
                debug!(target: "spread::network", "dropped a datagram from {}: {e}", r.from);
                return None;
            }
        };
        let claimed = match &packet {
            Packet::Data(p) => p.header.transmiter_id,
            Packet::Token(t) => t.header.transmiter_id,
            Packet::Membership(m) => m.header.proc_id,
            Packet::Form(f) => f.header.transmiter_id,
            Packet::Monitor(_) => {
                self.packets_refused += 1;
                return None;
            }
        };
        if claimed == self.me {
            // Our own packet, back from the segment address.
            return None;
        }
        let Some(peer) = self.transport.sender_of(r.from.ip(), claimed) else {
            self.packets_refused += 1;
            debug!(target: "spread::network", "dropped a datagram from {} claiming daemon {claimed}", r.from);
            return None;
        };
        admits(peer.index).then_some(packet)
    }

    /// Sends what the node wants sent, and says in the log (at most once a
    /// minute for counts) what it refused.
    pub fn flush(&mut self, node: &mut Node) {
        let mut sends = Vec::new();
        while let Some(s) = node.poll_transmit() {
            sends.push(s);
        }
        if !sends.is_empty() {
            self.transport.send_all(&sends);
        }
        self.report(node);
    }

    fn report(&mut self, node: &Node) {
        let memb = node.membership();
        let dropped = self.packets_refused + memb.refused + node.stats.undeliverable;
        if let Some(new) = self.reported.due(dropped, REPORT_EVERY) {
            warn!(target: "spread::network", "dropped {new} datagrams (malformed, from unknown sources or other configurations, or out of place in the membership protocol)");
        }
        let stats = &memb.ring().stats;
        if let Some(new) = self.reported_ahead.due(stats.refused_ahead, REPORT_EVERY) {
            warn!(target: "spread::network", "refused {new} data packets or tokens numbered beyond what the ring can have sent (forged?)");
        }
        if stats.stuck > self.stuck_logged {
            self.stuck_logged = stats.stuck;
            warn!(target: "spread::membership", "the ring lacks packets that no daemon has (forged sequence numbers?): forming a new membership");
        }
    }
}
