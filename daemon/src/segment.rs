//! The segment address: one send reaches every daemon of the segment
//! (an IPv4 multicast group, or a broadcast address), as 5.0.1 sends data
//! packets. Several daemons on one host each bind the segment address with
//! SO_REUSEADDR, so every one of them receives the packet.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};

/// How a daemon reaches its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Send to this multicast group, joined on the daemon's own address.
    Multicast(SocketAddrV4),
    /// Send to this broadcast address.
    Broadcast(SocketAddrV4),
}

impl Segment {
    /// The way to use a configured segment address, if it can be used:
    /// loopback "broadcast" addresses reach nobody but their own socket
    /// (observed with 5.0.1), so they mean unicast to each daemon.
    pub fn from_config(addr: Ipv4Addr, port: u16) -> Option<Segment> {
        let a = SocketAddrV4::new(addr, port);
        if addr.is_multicast() {
            Some(Segment::Multicast(a))
        } else if addr.is_loopback() || addr.is_unspecified() {
            None
        } else {
            Some(Segment::Broadcast(a))
        }
    }

    pub fn addr(self) -> SocketAddrV4 {
        match self {
            Segment::Multicast(a) | Segment::Broadcast(a) => a,
        }
    }

    /// A socket that receives what is sent to the segment, on the host's
    /// interface with address `local`.
    pub fn receiver(self, local: Ipv4Addr) -> io::Result<UdpSocket> {
        let s = reusable_socket(self.addr())?;
        if let Segment::Multicast(a) = self {
            s.join_multicast_v4(a.ip(), &local)?;
        }
        Ok(s)
    }

    /// Prepares the sending socket (bound to the daemon's address).
    pub fn prepare_sender(self, s: &UdpSocket, local: Ipv4Addr) -> io::Result<()> {
        match self {
            Segment::Multicast(_) => {
                s.set_multicast_loop_v4(true)?;
                s.set_multicast_ttl_v4(1)?;
                set_multicast_interface(s, local)
            }
            Segment::Broadcast(_) => s.set_broadcast(true),
        }
    }
}

/// A non-blocking UDP socket bound to `addr` with SO_REUSEADDR set before
/// the bind (std cannot), so other daemons of this host can bind it too.
fn reusable_socket(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&std::net::SocketAddr::V4(addr).into())
        .map_err(|e| io::Error::new(e.kind(), format!("UDP {addr}: {e}")))?;
    Ok(s.into())
}

/// Multicast leaves through the interface of `local` (std has no call).
fn set_multicast_interface(s: &UdpSocket, local: Ipv4Addr) -> io::Result<()> {
    socket2::SockRef::from(s).set_multicast_if_v4(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_addresses_mean_what() {
        assert_eq!(
            Segment::from_config(Ipv4Addr::new(225, 0, 0, 7), 8803),
            Some(Segment::Multicast(SocketAddrV4::new(
                Ipv4Addr::new(225, 0, 0, 7),
                8803
            )))
        );
        assert!(matches!(
            Segment::from_config(Ipv4Addr::new(192, 168, 1, 255), 1),
            Some(Segment::Broadcast(_))
        ));
        assert_eq!(Segment::from_config(Ipv4Addr::new(127, 0, 0, 255), 1), None);
    }

    #[test]
    fn two_sockets_share_a_segment_address() {
        let a = reusable_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0)).unwrap();
        let port = a.local_addr().unwrap().port();
        drop(a);
        let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
        let _one = reusable_socket(addr).unwrap();
        let _two = reusable_socket(addr).expect("SO_REUSEADDR lets a second daemon bind");
    }
}
