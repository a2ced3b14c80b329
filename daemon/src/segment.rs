//! The segment address: one send reaches every daemon of the segment
//! (an IPv4 or IPv6 multicast group, or an IPv4 broadcast address), as
//! 5.0.1 sends data packets. Several daemons on one host each bind the
//! segment address with SO_REUSEADDR, so every one of them receives the
//! packet.

use std::io;
use std::net::{IpAddr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};

/// How a daemon reaches its segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// Send to this IPv4 multicast group, joined on the daemon's own address.
    Multicast(SocketAddrV4),
    /// Send to this IPv6 multicast group, joined on the interface its scope
    /// id names (0: the one the system routes the group to).
    Multicast6(SocketAddrV6),
    /// Send to this broadcast address.
    Broadcast(SocketAddrV4),
}

impl Segment {
    /// The way to use a configured segment address, if it can be used:
    /// loopback "broadcast" addresses reach nobody but their own socket
    /// (observed with 5.0.1), so they mean unicast to each daemon, and so
    /// does an IPv6 address that is not a group (IPv6 has no broadcast;
    /// 5.0.1 warns of it and sends to it, reaching at most one daemon).
    /// `interface` is the index an IPv6 group is joined and sent on.
    pub fn from_config(addr: IpAddr, port: u16, interface: u32) -> Option<Segment> {
        match addr {
            IpAddr::V4(a) if a.is_multicast() => {
                Some(Segment::Multicast(SocketAddrV4::new(a, port)))
            }
            IpAddr::V4(a) if a.is_loopback() || a.is_unspecified() => None,
            IpAddr::V4(a) => Some(Segment::Broadcast(SocketAddrV4::new(a, port))),
            IpAddr::V6(a) if a.is_multicast() => Some(Segment::Multicast6(SocketAddrV6::new(
                a, port, 0, interface,
            ))),
            IpAddr::V6(_) => None,
        }
    }

    pub fn addr(self) -> SocketAddr {
        match self {
            Segment::Multicast(a) | Segment::Broadcast(a) => SocketAddr::V4(a),
            Segment::Multicast6(a) => SocketAddr::V6(a),
        }
    }

    /// A socket that receives what is sent to the segment, on the host's
    /// interface with address `local` (IPv4) or the group's interface (IPv6).
    pub fn receiver(self, local: IpAddr) -> io::Result<UdpSocket> {
        let s = reusable_socket(self.addr())?;
        match (self, local) {
            (Segment::Multicast(a), IpAddr::V4(local)) => s.join_multicast_v4(a.ip(), &local)?,
            (Segment::Multicast6(a), _) => s.join_multicast_v6(a.ip(), a.scope_id())?,
            (Segment::Multicast(_), IpAddr::V6(_)) => return Err(family_mismatch()),
            (Segment::Broadcast(_), _) => {}
        }
        Ok(s)
    }

    /// Prepares the sending socket (bound to the daemon's address `local`).
    pub fn prepare_sender(self, s: &UdpSocket, local: IpAddr) -> io::Result<()> {
        let sock = socket2::SockRef::from(s);
        match (self, local) {
            (Segment::Multicast(_), IpAddr::V4(local)) => {
                s.set_multicast_loop_v4(true)?;
                s.set_multicast_ttl_v4(1)?;
                sock.set_multicast_if_v4(&local)
            }
            (Segment::Multicast6(a), IpAddr::V6(_)) => {
                s.set_multicast_loop_v6(true)?;
                // One hop, as 5.0.1: the segment is one link.
                sock.set_multicast_hops_v6(1)?;
                if a.scope_id() != 0 {
                    sock.set_multicast_if_v6(a.scope_id())?;
                }
                Ok(())
            }
            (Segment::Broadcast(_), IpAddr::V4(_)) => s.set_broadcast(true),
            _ => Err(family_mismatch()),
        }
    }
}

fn family_mismatch() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "the segment address and the daemon's address are of different families",
    )
}

/// A non-blocking UDP socket bound to `addr` with SO_REUSEADDR set before
/// the bind (std cannot), so other daemons of this host can bind it too.
fn reusable_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())
        .map_err(|e| io::Error::new(e.kind(), format!("UDP {addr}: {e}")))?;
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn which_addresses_mean_what() {
        let v4 = |a: [u8; 4]| IpAddr::V4(Ipv4Addr::from(a));
        assert_eq!(
            Segment::from_config(v4([225, 0, 0, 7]), 8803, 0),
            Some(Segment::Multicast(SocketAddrV4::new(
                Ipv4Addr::new(225, 0, 0, 7),
                8803
            )))
        );
        assert!(matches!(
            Segment::from_config(v4([192, 168, 1, 255]), 1, 0),
            Some(Segment::Broadcast(_))
        ));
        assert_eq!(Segment::from_config(v4([127, 0, 0, 255]), 1, 0), None);
        let group: Ipv6Addr = "ff02::1:7".parse().unwrap();
        assert_eq!(
            Segment::from_config(IpAddr::V6(group), 4803, 3),
            Some(Segment::Multicast6(SocketAddrV6::new(group, 4803, 0, 3)))
        );
        assert_eq!(
            Segment::from_config("fd00::ff".parse().unwrap(), 4803, 3),
            None
        );
    }

    #[test]
    fn two_sockets_share_a_segment_address() {
        let a = reusable_socket(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0).into()).unwrap();
        let port = a.local_addr().unwrap().port();
        drop(a);
        let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port).into();
        let _one = reusable_socket(addr).unwrap();
        let _two = reusable_socket(addr).expect("SO_REUSEADDR lets a second daemon bind");
    }
}
