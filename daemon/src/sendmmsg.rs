//! Many datagrams in one system call (Linux sendmmsg): a token visit's
//! packets and the token leave together, in order, and the receivers are
//! woken once for the batch rather than once per datagram.

use std::io;
use std::net::SocketAddr;
use std::os::fd::RawFd;

/// A datagram for `to`.
pub struct Outbound<'a> {
    pub to: SocketAddr,
    pub bytes: &'a [u8],
}

fn sockaddr(a: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is a valid value; we fill the
    // family-specific prefix below.
    let mut storage: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*v4.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and
            // suitably aligned for it.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above, for sockaddr_in6.
            unsafe { std::ptr::write((&mut storage as *mut libc::sockaddr_storage).cast(), sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (storage, len as libc::socklen_t)
}

/// Sends `batch` on the non-blocking socket `fd`; returns how many went
/// out (a full socket buffer stops the batch, like a lost datagram).
pub fn send_batch(fd: RawFd, batch: &[Outbound<'_>]) -> io::Result<usize> {
    let addrs: Vec<(libc::sockaddr_storage, libc::socklen_t)> =
        batch.iter().map(|o| sockaddr(&o.to)).collect();
    let mut iovs: Vec<libc::iovec> = batch
        .iter()
        .map(|o| libc::iovec {
            iov_base: o.bytes.as_ptr() as *mut libc::c_void,
            iov_len: o.bytes.len(),
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = (0..batch.len())
        .map(|i| {
            // SAFETY: an all-zero msghdr is valid; we set the fields used.
            let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
            h.msg_name = (&addrs[i].0 as *const libc::sockaddr_storage) as *mut libc::c_void;
            h.msg_namelen = addrs[i].1;
            h.msg_iov = &mut iovs[i];
            h.msg_iovlen = 1;
            libc::mmsghdr {
                msg_hdr: h,
                msg_len: 0,
            }
        })
        .collect();
    let mut sent = 0usize;
    while sent < msgs.len() {
        let rest = &mut msgs[sent..];
        // SAFETY: every mmsghdr points at an address and an iovec that live
        // until this function returns; the count matches the slice.
        let n = unsafe {
            libc::sendmmsg(
                fd,
                rest.as_mut_ptr(),
                rest.len() as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => Ok(sent),
                _ if sent > 0 => Ok(sent),
                _ => Err(e),
            };
        }
        sent += n as usize;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_arrives_in_order() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = rx.local_addr().unwrap();
        let bodies: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 10 + i as usize]).collect();
        let batch: Vec<Outbound> = bodies.iter().map(|b| Outbound { to, bytes: b }).collect();
        assert_eq!(send_batch(tx.as_raw_fd(), &batch).unwrap(), 5);
        let mut buf = [0u8; 64];
        for i in 0..5u8 {
            let n = rx.recv(&mut buf).unwrap();
            assert_eq!(&buf[..n], &vec![i; 10 + i as usize][..]);
        }
    }
}
