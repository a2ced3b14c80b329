//! UDP between daemons: each daemon's data port P and token port P+1.
//! Data packets meant for every member are unicast to each of them, which
//! works on any network (loopback included) without a segment address.

use crate::engine::order::Send as Outgoing;
use crate::packet::Port;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::warn;

/// A member of the ring as the transport sees it.
#[derive(Clone, Debug)]
pub struct Peer {
    pub id: u32,
    /// Its position in the configuration.
    pub index: usize,
    pub data: SocketAddr,
    pub token: SocketAddr,
}

/// A datagram received from another daemon.
#[derive(Debug)]
pub struct Received {
    pub port: Port,
    pub from: SocketAddr,
    pub bytes: Vec<u8>,
}

pub struct Transport {
    data: Arc<UdpSocket>,
    token: Arc<UdpSocket>,
    peers: HashMap<u32, Peer>,
    me: u32,
    /// Test-only: the fraction of received data packets to drop.
    drop_rate: f64,
}

impl Transport {
    pub async fn bind(me: u32, peers: &[Peer], drop_rate: f64) -> io::Result<Transport> {
        let mine = peers
            .iter()
            .find(|p| p.id == me)
            .ok_or_else(|| io::Error::other("this daemon is not in its ring"))?;
        let bind = |a: SocketAddr| async move {
            UdpSocket::bind(a)
                .await
                .map_err(|e| io::Error::new(e.kind(), format!("UDP {a}: {e}")))
        };
        let data = bind(mine.data).await?;
        let token = bind(mine.token).await?;
        Ok(Transport {
            data: Arc::new(data),
            token: Arc::new(token),
            peers: peers.iter().map(|p| (p.id, p.clone())).collect(),
            me,
            drop_rate,
        })
    }

    /// Starts the receive loops; datagrams go to `to` as (port, from, bytes).
    pub fn spawn_receivers(&self, to: mpsc::Sender<Received>) {
        for (socket, port) in [
            (self.data.clone(), Port::Data),
            (self.token.clone(), Port::Token),
        ] {
            let to = to.clone();
            let drop_rate = if port == Port::Data {
                self.drop_rate
            } else {
                0.0
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                let mut rng = crate::sim::rng::Rng::new(u64::from(std::process::id()));
                loop {
                    match socket.recv_from(&mut buf).await {
                        Ok((n, from)) => {
                            if drop_rate > 0.0 && rng.chance(drop_rate) {
                                continue;
                            }
                            let r = Received {
                                port,
                                from,
                                bytes: buf[..n].to_vec(),
                            };
                            if to.send(r).await.is_err() {
                                return;
                            }
                        }
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

    pub fn peer(&self, id: u32) -> Option<&Peer> {
        self.peers.get(&id)
    }

    /// Sends without waiting: a full socket buffer loses the datagram, which
    /// the protocol recovers like any other loss.
    pub fn send(&self, s: &Outgoing) {
        let (targets, socket, bytes): (Vec<SocketAddr>, &UdpSocket, &[u8]) = match s {
            Outgoing::Broadcast(b) => (
                self.peers
                    .values()
                    .filter(|p| p.id != self.me)
                    .map(|p| p.data)
                    .collect(),
                &self.data,
                b,
            ),
            Outgoing::Unicast { to, bytes } => (
                self.peers.get(to).map(|p| p.data).into_iter().collect(),
                &self.data,
                bytes,
            ),
            Outgoing::Token { to, bytes } => (
                self.peers.get(to).map(|p| p.token).into_iter().collect(),
                &self.data,
                bytes,
            ),
        };
        for t in targets {
            if let Err(e) = socket.try_send_to(bytes, t) {
                if e.kind() != io::ErrorKind::WouldBlock {
                    warn!(target: "spread::network", "send to {t} failed: {e}");
                }
            }
        }
    }
}
