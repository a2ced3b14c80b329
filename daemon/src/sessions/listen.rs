//! TCP and Unix-domain listeners and their accept loops.

use super::refusals::Refusal;
use super::session::admit;
use super::Shared;
use crate::auth::{Creds, Peer, Who};
use crate::config::TriState;
use spread_core::client::set_client_socket_buffers;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};

/// The TCP listener for clients at `addr`. SO_REUSEADDR (a restarted
/// daemon binds while connections of the old one linger in TIME_WAIT) is
/// set as SocketPortReuse says; `auto`, 5.0.1's default, sets it only for
/// a specific address, so that nobody can bind a specific address under a
/// daemon listening on all of them.
pub fn bind_tcp(addr: SocketAddr, reuse: TriState) -> io::Result<TcpListener> {
    let named = |e: io::Error| io::Error::new(e.kind(), format!("TCP {addr}: {e}"));
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )
    .map_err(named)?;
    let reuse = match reuse {
        TriState::On => true,
        TriState::Off => false,
        TriState::Auto => !addr.ip().is_unspecified(),
    };
    socket.set_reuse_address(reuse).map_err(named)?;
    socket.set_cloexec(true).map_err(named)?;
    socket.bind(&addr.into()).map_err(named)?;
    socket.listen(1024).map_err(named)?;
    socket.set_nonblocking(true).map_err(named)?;
    TcpListener::from_std(socket.into()).map_err(named)
}

pub async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                set_client_socket_buffers(stream.as_raw_fd());
                let who = Who::tcp(addr.ip().to_canonical());
                admit(stream, who, addr.to_string(), &shared);
            }
            Err(e) => {
                let line = format!("accept on TCP failed: {e}");
                shared.refusals.note(Refusal::Accept, line);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

pub async fn accept_unix(listener: UnixListener, path: PathBuf, shared: Arc<Shared>) {
    let peer_text = format!("unix:{}", path.display());
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                set_client_socket_buffers(stream.as_raw_fd());
                // SO_PEERCRED: who the kernel says connected.
                let creds = stream.peer_cred().ok().map(|c| Creds {
                    uid: c.uid(),
                    gid: c.gid(),
                    pid: c.pid().unwrap_or(0),
                });
                let who = Who {
                    peer: Peer::Unix,
                    creds,
                    secret: None,
                    cert: None,
                };
                let text = match creds {
                    Some(c) => format!("{peer_text} ({c})"),
                    None => peer_text.clone(),
                };
                admit(stream, who, text, &shared)
            }
            Err(e) => {
                let line = format!("accept on {} failed: {e}", path.display());
                shared.refusals.note(Refusal::Accept, line);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
