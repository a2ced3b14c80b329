//! TCP and Unix-domain listeners and their accept loops.

use super::refusals::Refusal;
use super::session::admit;
use super::Shared;
use crate::auth::Peer;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};

pub async fn bind_tcp(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("TCP {addr}: {e}")))
}

/// Binds the Unix socket at `path`, replacing a stale file left by a daemon
/// that died; refuses if a live daemon answers there.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    let err =
        |e: io::Error| io::Error::new(e.kind(), format!("Unix socket {}: {e}", path.display()));
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(err(io::Error::new(
                io::ErrorKind::AddrInUse,
                "another daemon is listening there",
            )));
        }
        std::fs::remove_file(path).map_err(err)?;
    }
    let l = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(err)?;
    Ok(l)
}

pub async fn accept_tcp(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                let _ = stream.set_nodelay(true);
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
            Ok((stream, _)) => admit(stream, Peer::Unix, peer_text.clone(), &shared),
            Err(e) => {
                let line = format!("accept on {} failed: {e}", path.display());
                shared.refusals.note(Refusal::Accept, line);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}
