//! UDP between daemons: each daemon's data port P and token port P+1.
//! Data packets meant for every member go to the segment address when it
//! is a multicast group or a broadcast address (one send, as 5.0.1), and
//! are unicast to each member otherwise (loopback, a segment of one, or a
//! host where the group cannot be joined) and to each daemon of the other
//! segments.

use crate::engine::order::Send as Outgoing;
use crate::packet::seal::{Kind, Sealer};
use crate::packet::Port;
use crate::recvmmsg::RecvBatch;
use crate::ring_keys::RingKeys;
use crate::segment::Segment;
use crate::sendmmsg::{send_batch, Outbound};
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// A member of the ring as the transport sees it.
#[derive(Clone, Debug)]
pub struct Peer {
    pub id: u32,
    /// Its position in the configuration.
    pub index: usize,
    /// Its segment's position in the configuration.
    pub segment: usize,
    pub data: SocketAddr,
    pub token: SocketAddr,
}

/// A datagram received from another daemon.
#[derive(Debug)]
pub struct Received {
    pub port: Port,
    pub from: SocketAddr,
    pub bytes: Vec<u8>,
    /// Set once opened: the daemon id it was sealed as.
    pub sealed_by: Option<u32>,
}

pub struct Transport {
    data: Arc<UdpSocket>,
    token: Arc<UdpSocket>,
    /// Receives what is sent to the segment address, when it is used.
    segment_rx: Option<Arc<UdpSocket>>,
    segment: Option<Segment>,
    /// The segment address the configuration named at start (`segment`
    /// is None if it could not be used).
    configured_segment: Option<Segment>,
    /// The daemons the segment address does not reach.
    off_segment: Vec<SocketAddr>,
    /// The other daemons of this daemon's segment.
    mates: Vec<SocketAddr>,
    peers: HashMap<u32, Peer>,
    me: u32,
    /// Test-only: the fraction of received data packets to drop.
    drop_rate: f64,
    /// With a ring key: what seals every datagram sent.
    sealer: Option<Sealer>,
}

impl Transport {
    pub async fn bind(
        me: u32,
        peers: &[Peer],
        drop_rate: f64,
        segment: Option<Segment>,
        ignore_join_errors: bool,
        keys: Option<&RingKeys>,
    ) -> io::Result<Transport> {
        let mine = peers
            .iter()
            .find(|p| p.id == me)
            .ok_or_else(|| io::Error::other("this daemon is not in its ring"))?;
        let named =
            |a: SocketAddr| move |e: io::Error| io::Error::new(e.kind(), format!("UDP {a}: {e}"));
        let data = std::net::UdpSocket::bind(mine.data).map_err(named(mine.data))?;
        let token = std::net::UdpSocket::bind(mine.token).map_err(named(mine.token))?;
        let local = mine.data.ip();
        let wanted = segment;
        let (segment, segment_rx) = match segment {
            Some(seg) => match seg
                .receiver(local)
                .and_then(|rx| seg.prepare_sender(&data, local).map(|()| rx))
            {
                Ok(rx) => (Some(seg), Some(rx)),
                // As 5.0.1: fatal unless IgnoreMulticastJoinErrors says
                // to go on without the segment address.
                Err(e) if !ignore_join_errors => {
                    return Err(io::Error::new(
                        e.kind(),
                        format!(
                            "cannot join the segment address {}: {e} (IgnoreMulticastJoinErrors = true goes on without it)",
                            seg.addr()
                        ),
                    ))
                }
                Err(e) => {
                    tracing::error!(target: "spread::network", "cannot join the segment address {}: {e}; sending to each daemon instead (IgnoreMulticastJoinErrors)", seg.addr());
                    (None, None)
                }
            },
            None => (None, None),
        };
        let (off_segment, mates) = split_by_segment(peers, mine);
        let tokio_socket = |s: std::net::UdpSocket| -> io::Result<Arc<UdpSocket>> {
            s.set_nonblocking(true)?;
            Ok(Arc::new(UdpSocket::from_std(s)?))
        };
        Ok(Transport {
            data: tokio_socket(data)?,
            token: tokio_socket(token)?,
            segment_rx: segment_rx.map(tokio_socket).transpose()?,
            configured_segment: wanted,
            segment,
            off_segment,
            mates,
            peers: peers.iter().map(|p| (p.id, p.clone())).collect(),
            me,
            drop_rate,
            sealer: keys.map(|k| Sealer::new(Kind::Daemon, me, k.seal.clone())),
        })
    }

    /// Seals with the key in force after a reload (none: datagrams go
    /// out plain from now on).
    pub fn rekey(&mut self, keys: Option<&RingKeys>) {
        match (&mut self.sealer, keys) {
            (Some(s), Some(k)) => s.rekey(k.seal.clone()),
            (_, k) => self.sealer = k.map(|k| Sealer::new(Kind::Daemon, self.me, k.seal.clone())),
        }
    }

    /// `bytes` as they go on the wire.
    fn wire<'a>(&self, bytes: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match &self.sealer {
            Some(s) => s.seal(bytes).into(),
            None => bytes.into(),
        }
    }

    /// A reloaded configuration's daemons. Sockets stay as they are (new
    /// daemons are only addresses to send to); a segment address this
    /// daemon did not join at start cannot be taken up now (5.0.1 exits
    /// then too), one no longer needed (its segment is down to this
    /// daemon) is left for sends to each daemon.
    pub fn reconfigure(&mut self, peers: &[Peer], segment: Option<Segment>) -> Result<(), String> {
        let mine = peers
            .iter()
            .find(|p| p.id == self.me)
            .ok_or("this daemon is not in its ring")?;
        match segment {
            None => self.segment = None,
            Some(seg) if Some(seg) != self.configured_segment => {
                return Err(format!(
                    "the segment address {} is needed now and was not joined at start; restart the daemon",
                    seg.addr()
                ))
            }
            Some(_) => {}
        }
        (self.off_segment, self.mates) = split_by_segment(peers, mine);
        self.peers = peers.iter().map(|p| (p.id, p.clone())).collect();
        Ok(())
    }

    /// Starts the receive loops: each socket's datagrams go to `to` in
    /// batches of what had arrived (one system call, one message each).
    pub fn spawn_receivers(&self, to: mpsc::Sender<Vec<Received>>) {
        let mut sockets = vec![
            (self.data.clone(), Port::Data),
            (self.token.clone(), Port::Token),
        ];
        sockets.extend(self.segment_rx.clone().map(|s| (s, Port::Data)));
        for (socket, port) in sockets {
            let to = to.clone();
            let drop_rate = if port == Port::Data {
                self.drop_rate
            } else {
                0.0
            };
            tokio::spawn(async move {
                let mut batch = RecvBatch::default();
                let mut rng = crate::rng::Rng::new(u64::from(std::process::id()));
                let fd = socket.as_raw_fd();
                loop {
                    let got = match socket.readable().await {
                        Ok(()) => socket.try_io(Interest::READABLE, || batch.recv(fd)),
                        Err(e) => Err(e),
                    };
                    match got {
                        Ok(n) => {
                            let received: Vec<Received> = (0..n)
                                .filter(|_| !(drop_rate > 0.0 && rng.chance(drop_rate)))
                                .filter_map(|i| {
                                    let (from, bytes) = batch.get(i);
                                    Some(Received {
                                        port,
                                        from: from?,
                                        bytes: bytes.to_vec(),
                                        sealed_by: None,
                                    })
                                })
                                .collect();
                            if !received.is_empty() && to.send(received).await.is_err() {
                                return;
                            }
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => {
                            warn!(target: "spread::network", "receive on {port:?} port failed: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                    }
                }
            });
        }
    }

    /// The daemon a datagram's source address belongs to, if any.
    pub fn sender_of(&self, ip: IpAddr, claimed: u32) -> Option<&Peer> {
        self.peers.get(&claimed).filter(|p| p.data.ip() == ip)
    }

    /// Passes a data packet routed to this daemon from another segment on
    /// to the other daemons of its own segment (5.0.1 sends a data packet
    /// to one daemon of each other segment with the ROUTED bit, and that
    /// daemon broadcasts it in its segment as its own transmission). True
    /// if it was passed on; a segment of one has nobody to pass it to.
    pub fn pass_on_routed(&self, bytes: &[u8]) -> bool {
        if self.mates.is_empty() {
            return false;
        }
        let targets: Vec<SocketAddr> = match self.segment {
            Some(seg) => vec![seg.addr()],
            None => self.mates.clone(),
        };
        let bytes = &*self.wire(bytes);
        let batch: Vec<Outbound<'_>> = targets.iter().map(|&to| Outbound { to, bytes }).collect();
        if let Err(e) = send_batch(self.data.as_raw_fd(), &batch) {
            debug!(target: "spread::network", "passing on a routed packet failed: {e}");
        }
        true
    }

    /// One datagram from the data socket (a reply to a monitor).
    pub fn send_to(&self, to: SocketAddr, bytes: &[u8]) {
        if let Err(e) = self.data.try_send_to(&self.wire(bytes), to) {
            debug!(target: "spread::network", "reply to {to} not sent: {e}");
        }
    }

    /// Where a datagram goes.
    fn targets(&self, s: &Outgoing) -> Vec<SocketAddr> {
        match s {
            Outgoing::Broadcast(_) => match self.segment {
                Some(seg) => std::iter::once(seg.addr())
                    .chain(self.off_segment.iter().copied())
                    .collect(),
                None => self
                    .peers
                    .values()
                    .filter(|p| p.id != self.me)
                    .map(|p| p.data)
                    .collect(),
            },
            Outgoing::Unicast { to, .. } => {
                self.peers.get(to).map(|p| p.data).into_iter().collect()
            }
            Outgoing::Token { to, .. } => self.peers.get(to).map(|p| p.token).into_iter().collect(),
        }
    }

    /// Sends `sends` in order in as few system calls as possible, without
    /// waiting: a full socket buffer loses the rest, which the protocol
    /// recovers like any other loss.
    pub fn send_all(&self, sends: &[Outgoing]) {
        // Each datagram is sealed once, whatever number of daemons it goes to.
        let wire: Vec<_> = sends
            .iter()
            .map(|s| match s {
                Outgoing::Broadcast(b)
                | Outgoing::Unicast { bytes: b, .. }
                | Outgoing::Token { bytes: b, .. } => self.wire(b),
            })
            .collect();
        let targets: Vec<(Vec<SocketAddr>, &[u8])> = sends
            .iter()
            .zip(&wire)
            .map(|(s, bytes)| (self.targets(s), &**bytes))
            .collect();
        let batch: Vec<Outbound<'_>> = targets
            .iter()
            .flat_map(|(to, bytes)| to.iter().map(move |&to| Outbound { to, bytes }))
            .collect();
        if batch.is_empty() {
            return;
        }
        match send_batch(self.data.as_raw_fd(), &batch) {
            Ok(n) if n < batch.len() => {
                debug!(target: "spread::network", "socket buffer full: {} of {} datagrams not sent", batch.len() - n, batch.len())
            }
            Ok(_) => {}
            Err(e) => {
                warn!(target: "spread::network", "sending {} datagrams failed: {e}", batch.len())
            }
        }
    }
}

/// The data addresses of the daemons in other segments than `mine`'s, and
/// of the other daemons in `mine`'s.
fn split_by_segment(peers: &[Peer], mine: &Peer) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    let (others, same): (Vec<&Peer>, Vec<&Peer>) =
        peers.iter().partition(|p| p.segment != mine.segment);
    (
        others.iter().map(|p| p.data).collect(),
        same.iter()
            .filter(|p| p.id != mine.id)
            .map(|p| p.data)
            .collect(),
    )
}
