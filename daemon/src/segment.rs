//! The segment address: one send reaches every daemon of the segment
//! (an IPv4 multicast group, or a broadcast address), as 5.0.1 sends data
//! packets. Several daemons on one host each bind the segment address with
//! SO_REUSEADDR, so every one of them receives the packet.

use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::FromRawFd;

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

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A non-blocking UDP socket bound to `addr` with SO_REUSEADDR set before
/// the bind (std cannot), so other daemons of this host can bind it too.
fn reusable_socket(addr: SocketAddrV4) -> io::Result<UdpSocket> {
    // SAFETY: plain socket calls on a descriptor we own; the sockaddr_in is
    // fully initialised and outlives the bind call.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        );
        check(fd)?;
        let socket = UdpSocket::from_raw_fd(fd);
        let on: libc::c_int = 1;
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        check(libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&on as *const libc::c_int).cast(),
            len,
        ))?;
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: addr.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*addr.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let sin_len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        check(libc::bind(
            fd,
            (&sin as *const libc::sockaddr_in).cast(),
            sin_len,
        ))
        .map_err(|e| io::Error::new(e.kind(), format!("UDP {addr}: {e}")))?;
        Ok(socket)
    }
}

/// Multicast leaves through the interface of `local` (std has no call).
fn set_multicast_interface(s: &UdpSocket, local: Ipv4Addr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let a = libc::in_addr {
        s_addr: u32::from(local).to_be(),
    };
    // SAFETY: one in_addr passed by pointer with its size.
    check(unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            (&a as *const libc::in_addr).cast(),
            std::mem::size_of::<libc::in_addr>() as libc::socklen_t,
        )
    })
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
