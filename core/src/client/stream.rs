//! One stream type over TCP and Unix-domain sockets.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The send and receive buffer of every client connection, on both ends
/// (5.0.1's daemon and libspread ask for as much): a burst to a reader is
/// held by the kernel rather than by the daemon's queue for it.
pub const CLIENT_SOCKET_BUFFER: usize = 200 * 1024;

/// Asks the kernel for [`CLIENT_SOCKET_BUFFER`] bytes of send and receive
/// buffer on socket `fd`; it may give less (its limits), which is no error.
pub fn set_client_socket_buffers(fd: RawFd) {
    let size = CLIENT_SOCKET_BUFFER as libc::c_int;
    for opt in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        // SAFETY: `size` is a valid c_int for the call; a bad descriptor
        // only makes setsockopt fail.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

/// A connected socket to a daemon, TCP or Unix-domain.
#[derive(Debug)]
pub enum Stream {
    /// A TCP connection.
    Tcp(TcpStream),
    /// A Unix-domain socket connection.
    Unix(UnixStream),
}

impl Stream {
    /// A second handle on the same socket (a duplicated descriptor).
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
        })
    }

    /// Shuts both directions down: reads blocked in other threads return.
    /// The descriptor stays open until the stream is dropped.
    pub fn shutdown(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(Shutdown::Both),
            Stream::Unix(s) => s.shutdown(Shutdown::Both),
        }
    }

    /// Sets the timeout of blocking reads (`None`: wait for ever).
    pub fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }

    /// Sets the timeout of blocking writes (`None`: wait for ever).
    pub fn set_write_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_write_timeout(t),
            Stream::Unix(s) => s.set_write_timeout(t),
        }
    }

    /// Bytes the kernel holds for reading now (FIONREAD).
    pub fn readable_bytes(&self) -> io::Result<usize> {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer we own.
        let rc = unsafe { libc::ioctl(self.as_raw_fd(), libc::FIONREAD, &mut n) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n.max(0) as usize)
    }

    /// Bytes that can be written now without blocking: the send buffer's
    /// free room, read in one call (Linux's SO_MEMINFO), less a margin for
    /// the kernel's bookkeeping. 0 when the platform cannot tell.
    pub fn send_room(&self) -> usize {
        send_room(self.as_raw_fd())
    }

    /// Holds (`true`) or releases written data on a TCP socket (TCP_CORK):
    /// frames written while held leave together, in as few segments as fit.
    /// False when the socket cannot hold (a Unix socket, another platform).
    pub fn set_cork(&self, on: bool) -> bool {
        match self {
            Stream::Tcp(s) => set_cork(s.as_raw_fd(), on),
            Stream::Unix(_) => false,
        }
    }

    /// Reads what the socket holds now without blocking (and without
    /// making the socket non-blocking for the threads that share it).
    pub fn recv_nonblocking(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: recv writes at most buf.len() bytes into the buffer we own.
        let rc = unsafe {
            libc::recv(
                self.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(rc as usize)
    }

    /// Waits until the socket is readable (or closed); false on timeout.
    pub fn wait_readable(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as i32);
        let mut pfd = libc::pollfd {
            fd: self.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one pollfd that lives on our stack for the call.
            let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
            if rc >= 0 {
                return Ok(rc > 0);
            }
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        }
    }
}

impl AsRawFd for Stream {
    fn as_raw_fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }
}

// Reads and writes go through shared references, so one socket (one
// descriptor, as in libspread) serves a sending and a receiving thread.
impl Read for &Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).read(buf),
            Stream::Unix(s) => (&*s).read(buf),
        }
    }
}

impl Write for &Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&*s).write(buf),
            Stream::Unix(s) => (&*s).write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Unix(s) => s.write_vectored(bufs),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
fn send_room(fd: RawFd) -> usize {
    // <asm-generic/socket.h>; the libc crate names it only for some targets.
    const SO_MEMINFO: libc::c_int = 55;
    const WMEM_ALLOC: usize = libc::SK_MEMINFO_WMEM_ALLOC as usize;
    const SNDBUF: usize = libc::SK_MEMINFO_SNDBUF as usize;
    const WMEM_QUEUED: usize = libc::SK_MEMINFO_WMEM_QUEUED as usize;
    let mut info = [0u32; 9];
    let mut size = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: `info` is writable for `size` bytes and outlives the call.
    let r = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut size,
        )
    };
    if r != 0 || (size as usize) <= WMEM_QUEUED * 4 {
        return 0;
    }
    let used = info[WMEM_ALLOC].max(info[WMEM_QUEUED]) as usize;
    (info[SNDBUF] as usize).saturating_sub(used + 8192)
}

#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
fn send_room(_fd: RawFd) -> usize {
    0
}

#[cfg(target_os = "linux")]
fn set_cork(fd: RawFd, on: bool) -> bool {
    let v: libc::c_int = on.into();
    // SAFETY: `v` is a live c_int for the duration of the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_CORK,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    r == 0
}

#[cfg(not(target_os = "linux"))]
fn set_cork(_fd: RawFd, _on: bool) -> bool {
    false
}
