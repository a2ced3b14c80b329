//! The daemon's side of the network at run time: the UDP transport, the
//! clock that turns tokio time into the node's microseconds, and the checks
//! a datagram passes before the node sees it (it decodes, and it comes from
//! the configured address of the daemon it names).

use crate::engine::node::Node;
use crate::logging::ReportedCount;
use crate::packet::seal::{claimed_sender, looks_sealed, wall_us, Opener, Refusal};
use crate::packet::{DataHeader, Packet, HEADER_LEN, ROUTED_TYPE};
use crate::ring_keys::RingKeys;
use crate::sealing::{refusal_index, SealRefusals, SEALED_WITHOUT_KEY};
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
    /// RingKeyFile (and AcceptRingKeyFile): every datagram sealed.
    pub keys: Option<RingKeys>,
}

pub struct NetIo {
    transport: Transport,
    start: Instant,
    me: u32,
    /// Datagrams dropped as undecodable.
    pub malformed: u64,
    /// Datagrams dropped as from no configured daemon's address.
    pub unknown_source: u64,
    /// Dropped datagrams as far as the log has told of them.
    reported: ReportedCount,
    /// The same for data and tokens numbered beyond the possible.
    reported_ahead: ReportedCount,
    /// Rings given up for packets nobody had, as far as logged.
    stuck_logged: u64,
    /// With a ring key: what opens the datagrams that come.
    opener: Option<Opener>,
    /// Datagrams not taken for their sealing, by reason.
    pub seal_refused: SealRefusals,
    reported_seal: ReportedCount,
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
            s.keys.as_ref(),
        )
        .await?;
        Ok(NetIo {
            transport,
            start: Instant::now(),
            me: s.me,
            malformed: 0,
            unknown_source: 0,
            reported: ReportedCount::default(),
            reported_ahead: ReportedCount::default(),
            stuck_logged: 0,
            opener: s.keys.as_ref().map(|k| Opener::new(k.open.clone())),
            seal_refused: SealRefusals::default(),
            reported_seal: ReportedCount::default(),
        })
    }

    /// A reloaded configuration's daemons (see [`Transport::reconfigure`])
    /// and keys.
    pub fn reconfigure(&mut self, s: &NetSettings) -> Result<(), String> {
        self.transport.reconfigure(&s.peers, s.segment)?;
        self.transport.rekey(s.keys.as_ref());
        match (&mut self.opener, &s.keys) {
            (Some(o), Some(k)) => o.rekey(k.open.clone()),
            (o, k) => *o = k.as_ref().map(|k| Opener::new(k.open.clone())),
        }
        Ok(())
    }

    /// Whether datagrams are sealed.
    pub fn sealed(&self) -> bool {
        self.opener.is_some()
    }

    /// With a ring key, opens `d` in place (its bytes become what was
    /// sealed, `d.sealed_by` the daemon id it was sealed as); false if it
    /// is not taken. Without one, refuses what is sealed.
    pub fn unseal(&mut self, d: &mut Received) -> bool {
        let Some(opener) = &mut self.opener else {
            if looks_sealed(&d.bytes) {
                self.seal_refused.count(SEALED_WITHOUT_KEY, d.from);
                return false;
            }
            return true;
        };
        if claimed_sender(&d.bytes) == Some(self.me) {
            // Our own, back from the segment address: dropped unopened, as
            // `decode` drops it plain. (A forgery naming us goes with it.)
            return false;
        }
        let mono = self.start.elapsed().as_micros() as u64;
        match opener.open_in_place(&mut d.bytes, mono, wall_us()) {
            Ok((_, sender)) => {
                d.sealed_by = Some(sender);
                true
            }
            Err(r) => {
                self.seal_refused.count(refusal_index(r), d.from);
                false
            }
        }
    }

    /// Whether a datagram that claims to come from daemon `claimed` was
    /// sealed as that daemon (always, without a ring key). A key holder
    /// posing as another daemon is counted as forged.
    pub fn sealed_as(&mut self, d: &Received, claimed: u32) -> bool {
        if self.opener.is_none() || d.sealed_by == Some(claimed) {
            return true;
        }
        self.seal_refused
            .count(refusal_index(Refusal::Forged), d.from);
        false
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
                self.malformed += 1;
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
                self.malformed += 1;
                return None;
            }
        };
        if claimed == self.me {
            // Our own packet, back from the segment address.
            return None;
        }
        if !self.sealed_as(r, claimed) {
            return None;
        }
        let Some(peer) = self.transport.sender_of(r.from.ip(), claimed) else {
            self.unknown_source += 1;
            debug!(target: "spread::network", "dropped a datagram from {} claiming daemon {claimed}", r.from);
            return None;
        };
        if !admits(peer.index) {
            return None;
        }
        if let Packet::Data(p) = &packet {
            if p.header.ty & ROUTED_TYPE != 0 {
                self.pass_on_routed(&p.header, &r.bytes);
            }
        }
        Some(packet)
    }

    /// A data packet sent to this daemon for its whole segment goes on to
    /// the other daemons there, as this daemon's own transmission.
    fn pass_on_routed(&self, header: &DataHeader, datagram: &[u8]) {
        let mut h = *header;
        h.ty &= !ROUTED_TYPE;
        h.transmiter_id = self.me;
        let mut bytes = Vec::with_capacity(datagram.len());
        bytes.extend_from_slice(&h.encode());
        bytes.extend_from_slice(&datagram[HEADER_LEN.min(datagram.len())..]);
        self.transport.pass_on_routed(&bytes);
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
        let dropped =
            self.malformed + self.unknown_source + memb.refused + node.stats.undeliverable;
        if let Some(new) = self.reported.due(dropped, REPORT_EVERY) {
            warn!(target: "spread::network", "dropped {new} datagrams (malformed, from unknown sources or other configurations, or out of place in the membership protocol)");
        }
        let stats = &memb.ring().stats;
        if let Some(new) = self.reported_ahead.due(stats.refused_ahead, REPORT_EVERY) {
            warn!(target: "spread::network", "refused {new} data packets or tokens numbered beyond what the ring can have sent (forged?)");
        }
        if self
            .reported_seal
            .due(self.seal_refused.total(), REPORT_EVERY)
            .is_some()
        {
            let what = self.seal_refused.since_reported();
            warn!(target: "spread::network", "refused datagrams for their sealing: {what}");
        }
        if stats.stuck > self.stuck_logged {
            self.stuck_logged = stats.stuck;
            warn!(target: "spread::membership", "the ring lacks packets that no daemon has (forged sequence numbers?): forming a new membership");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{DataPacket, Port, AGREED_TYPE};
    use std::net::{SocketAddr, UdpSocket};

    fn peer(id: u32, index: usize, segment: usize, data: SocketAddr) -> Peer {
        Peer {
            id,
            index,
            segment,
            data,
            token: SocketAddr::new(data.ip(), data.port() + 1),
        }
    }

    /// A packet a 5.0.1 daemon of another segment routed to this daemon
    /// reaches the other daemons of this one's segment, as this daemon's
    /// transmission and no longer marked routed; a packet not routed does
    /// not, and nothing goes back to the other segment.
    #[tokio::test]
    async fn a_routed_packet_goes_on_to_the_segment() {
        let free = || {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            let a = s.local_addr().unwrap();
            drop(s);
            a
        };
        let me = free();
        let mate = UdpSocket::bind("127.0.0.1:0").unwrap();
        let remote = UdpSocket::bind("127.0.0.1:0").unwrap();
        for s in [&mate, &remote] {
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
        }
        let settings = NetSettings {
            me: 1,
            peers: vec![
                peer(1, 0, 0, me),
                peer(2, 1, 0, mate.local_addr().unwrap()),
                peer(3, 2, 1, remote.local_addr().unwrap()),
            ],
            drop_rate: 0.0,
            segment: None,
            ignore_multicast_join_errors: false,
            keys: None,
        };
        let mut net = NetIo::bind(&settings).await.unwrap();
        for routed in [true, false] {
            let mut header = DataHeader::new(AGREED_TYPE, 3);
            header.transmiter_id = 3;
            if routed {
                header.ty |= ROUTED_TYPE;
            }
            let packet = DataPacket {
                header,
                body: b"0123456789".to_vec(),
            };
            let bytes = packet.encode();
            let r = Received {
                port: Port::Data,
                from: remote.local_addr().unwrap(),
                bytes: bytes.clone(),
                sealed_by: None,
            };
            assert!(net.decode(&r, |_| true).is_some());
            let mut buf = [0u8; 2048];
            match (routed, mate.recv(&mut buf)) {
                (true, Ok(n)) => {
                    let got = DataPacket::decode(&buf[..n]).unwrap();
                    assert_eq!(got.header.ty & ROUTED_TYPE, 0);
                    assert_eq!((got.header.transmiter_id, got.header.proc_id), (1, 3));
                    assert_eq!(got.body, packet.body);
                    assert_eq!(buf[8..n], bytes[8..], "only type and transmitter change");
                }
                (false, Err(_)) => {}
                (routed, other) => panic!("routed {routed}: {other:?}"),
            }
            assert!(remote.recv(&mut buf).is_err(), "nothing goes back");
        }
    }
}
