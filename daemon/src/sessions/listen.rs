//! TCP and Unix-domain listeners and their accept loops.

use super::refusals::Refusal;
use super::session::admit;
use super::Shared;
use crate::auth::Peer;
use spread_core::client::set_client_socket_buffers;
use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};

pub async fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("TCP {addr}: {e}")))
}

pub async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
                set_client_socket_buffers(stream.as_raw_fd());
                let peer = Peer::Ip(addr.ip().to_canonical());
                admit(stream, peer, addr.to_string(), &shared);
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
                admit(stream, Peer::Unix, peer_text.clone(), &shared)
            }
            Err(e) => {
                let line = format!("accept on {} failed: {e}", path.display());
                shared.refusals.note(Refusal::Accept, line);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
