//! Many datagrams in one system call (Linux recvmmsg): what arrived while
//! the daemon was busy (a token visit's packets, the token behind them) is
//! taken in one go and reaches the core as one batch, with one wake-up.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Datagrams taken per system call at most.
pub const BATCH: usize = 32;
/// The largest datagram (UDP's own limit): nothing is ever cut short.
const SLOT: usize = 65_536;

/// Buffers for one socket's batches, allocated once.
pub struct RecvBatch {
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    lens: Vec<usize>,
    addr_lens: Vec<libc::socklen_t>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch {
            bufs: vec![0; BATCH * SLOT],
            // SAFETY: an all-zero sockaddr_storage is a valid value.
            addrs: vec![unsafe { std::mem::zeroed() }; BATCH],
            lens: vec![0; BATCH],
            addr_lens: vec![0; BATCH],
        }
    }
}

impl RecvBatch {
    /// Takes up to [`BATCH`] datagrams from the non-blocking socket `fd`
    /// without waiting; `WouldBlock` when none is there.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .chunks_mut(SLOT)
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        let mut msgs: Vec<libc::mmsghdr> = iovs
            .iter_mut()
            .zip(self.addrs.iter_mut())
            .map(|(iov, addr)| {
                // SAFETY: an all-zero msghdr is valid; we set the fields used.
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_name = (addr as *mut libc::sockaddr_storage).cast();
                h.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_iov = iov;
                h.msg_iovlen = 1;
                libc::mmsghdr {
                    msg_hdr: h,
                    msg_len: 0,
                }
            })
            .collect();
        let n = loop {
            // SAFETY: every mmsghdr points at an address and an iovec (of
            // this batch's buffers) that live until this function returns;
            // the count matches the vector.
            let n = unsafe {
                libc::recvmmsg(
                    fd,
                    msgs.as_mut_ptr(),
                    msgs.len() as libc::c_uint,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        };
        for (i, m) in msgs.iter().take(n).enumerate() {
            self.lens[i] = m.msg_len as usize;
            self.addr_lens[i] = m.msg_hdr.msg_namelen;
        }
        Ok(n)
    }

    /// Datagram `i` of the last batch: its source (None for a family other
    /// than IPv4 and IPv6) and its bytes.
    pub fn get(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        let bytes = &self.bufs[i * SLOT..i * SLOT + self.lens[i]];
        (socket_addr(&self.addrs[i], self.addr_lens[i]), bytes)
    }
}

fn socket_addr(s: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    match i32::from(s.ss_family) {
        libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the kernel wrote a sockaddr_in (family and length say
            // so); sockaddr_storage is large and aligned enough for it.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for sockaddr_in6.
            let a = unsafe { &*(s as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn a_batch_takes_every_waiting_datagram_with_its_source() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_nonblocking(true).unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut batch = RecvBatch::default();
        assert_eq!(
            batch.recv(rx.as_raw_fd()).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let big = vec![9u8; 60_000];
        for i in 0..BATCH + 3 {
            let msg: &[u8] = if i == 1 { &big } else { &[i as u8; 3] };
            tx.send_to(msg, rx.local_addr().unwrap()).unwrap();
        }
        let n = batch.recv(rx.as_raw_fd()).unwrap();
        assert_eq!(n, BATCH);
        for i in 0..n {
            let (from, bytes) = batch.get(i);
            assert_eq!(from, Some(tx.local_addr().unwrap()));
            if i == 1 {
                assert_eq!(bytes, &big[..]);
            } else {
                assert_eq!(bytes, &[i as u8; 3]);
            }
        }
        assert_eq!(batch.recv(rx.as_raw_fd()).unwrap(), 3);
        assert_eq!(batch.get(2).1, &[(BATCH + 2) as u8; 3]);
    }
}
