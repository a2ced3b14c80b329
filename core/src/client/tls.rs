//! TLS to a daemon's `TlsAddress` (a daemon of ours), as a transport under
//! the [`Mailbox`](super::Mailbox).
//!
//! The Mailbox keeps its one socket: one end of a Unix socket pair. A
//! thread of the connection (`spread-tls`) pumps between the pair's other
//! end and the TLS connection over TCP, so readiness on the descriptor,
//! blocking and non-blocking reads, one thread receiving while others
//! send, all work as over a plain socket. The pump ends, closing both
//! ways, when either side closes or fails; what the daemon sent before it
//! closed is delivered first. It buffers at most [`TO_APP_LIMIT`] bytes on
//! their way to the application: a client that stops reading stops reading
//! the daemon, as over plain TCP.
//!
//! The daemon's certificate is verified against the CAs of
//! [`TlsOptions::ca_pem`] for the server name (by default the host of the
//! daemon name, `4813@spread.example.org`). A client certificate is shown
//! if given (a daemon with `TlsClientCAFile` requires one).

use crate::error::{Error, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes the pump holds for the application before it stops reading the
/// daemon.
pub const TO_APP_LIMIT: usize = 256 * 1024;

/// How to speak TLS to a daemon: what to trust, which name its
/// certificate must carry, and the client's own certificate if any.
#[derive(Clone, Default)]
pub struct TlsOptions {
    /// PEM certificates of the CAs trusted to sign the daemon's certificate.
    pub ca_pem: Vec<u8>,
    /// The name the daemon's certificate must carry (DNS name or IP
    /// address); `None`: the host of the daemon name.
    pub server_name: Option<String>,
    /// A PEM certificate chain and its PEM private key, shown to the daemon.
    pub client_cert: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("TlsOptions")
            .field("server_name", &self.server_name)
            .field("client_cert", &self.client_cert.is_some())
            .finish_non_exhaustive()
    }
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::CouldNotConnect(format!("TLS: {what}"))
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| bad(format!("{}: {e}", path.display())))
}

impl TlsOptions {
    /// Trusts the CAs of the PEM file `ca`; shows the certificate `cert`
    /// with its key `key` when both are given (one without the other is
    /// an error).
    pub fn from_files(ca: &Path, cert: Option<&Path>, key: Option<&Path>) -> Result<TlsOptions> {
        let client_cert = match (cert, key) {
            (Some(c), Some(k)) => Some((read_file(c)?, read_file(k)?)),
            (None, None) => None,
            _ => {
                return Err(bad(
                    "a client certificate needs its key, and a key its certificate",
                ))
            }
        };
        let opts = TlsOptions {
            ca_pem: read_file(ca)?,
            server_name: None,
            client_cert,
        };
        // Bad files are told now, with their names.
        opts.config().map_err(|e| match e {
            Error::CouldNotConnect(m) => Error::CouldNotConnect(format!(
                "{m} ({}{})",
                ca.display(),
                cert.map(|c| format!(", {}", c.display()))
                    .unwrap_or_default()
            )),
            e => e,
        })?;
        Ok(opts)
    }

    /// The rustls configuration these options make.
    fn config(&self) -> Result<Arc<rustls::ClientConfig>> {
        let mut roots = rustls::RootCertStore::empty();
        let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&self.ca_pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(format!("the CA certificates are not PEM: {e}")))?;
        if cas.is_empty() {
            return Err(bad(
                "no CA certificate (-----BEGIN CERTIFICATE-----) to trust",
            ));
        }
        for c in cas {
            roots
                .add(c)
                .map_err(|e| bad(format!("a CA certificate: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(bad)?
            .with_root_certificates(roots);
        let config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert, key)) => {
                let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| bad(format!("the client certificate is not PEM: {e}")))?;
                if chain.is_empty() {
                    return Err(bad("no client certificate (-----BEGIN CERTIFICATE-----)"));
                }
                let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
                    bad(format!(
                        "no PEM private key for the client certificate: {e}"
                    ))
                })?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| bad(format!("the client certificate and key: {e}")))?
            }
        };
        Ok(Arc::new(config))
    }
}

/// What the pump saw go wrong, for the connect's error.
pub(super) type Failure = Arc<Mutex<Option<String>>>;

fn note(failure: &Failure, what: String) {
    let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
    f.get_or_insert(what);
}

/// Hands shake TLS on `tcp` (within `timeout`), then returns the
/// application's end of the pair the pump serves, and where the pump
/// notes a failure.
pub(super) fn start(
    tcp: TcpStream,
    opts: &TlsOptions,
    server_name: &str,
    timeout: Option<Duration>,
) -> Result<(UnixStream, Failure)> {
    let peer = tcp
        .peer_addr()
        .map_or_else(|_| "the daemon".into(), |a| a.to_string());
    let name = ServerName::try_from(server_name.to_string())
        .map_err(|e| bad(format!("server name {server_name:?}: {e}")))?;
    let mut conn = rustls::ClientConnection::new(opts.config()?, name).map_err(bad)?;
    conn.set_buffer_limit(None);
    let mut tcp = tcp;
    let io = |e: io::Error| bad(format!("{peer}: {e}"));
    tcp.set_read_timeout(timeout).map_err(io)?;
    tcp.set_write_timeout(timeout).map_err(io)?;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).map_err(|e| {
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) {
                bad(format!("{peer}: no TLS handshake within {timeout:?}"))
            } else {
                bad(format!("handshake with {peer} ({server_name}): {e}"))
            }
        })?;
    }
    tcp.set_read_timeout(None).map_err(io)?;
    tcp.set_write_timeout(None).map_err(io)?;
    tcp.set_nonblocking(true).map_err(io)?;
    let (app, inner) = UnixStream::pair().map_err(io)?;
    inner.set_nonblocking(true).map_err(io)?;
    super::stream::set_client_socket_buffers(inner.as_raw_fd());
    let failure = Failure::default();
    let noted = failure.clone();
    std::thread::Builder::new()
        .name("spread-tls".into())
        .spawn(move || pump(conn, tcp, inner, &noted))
        .map_err(io)?;
    Ok((app, failure))
}

fn would_block(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Moves bytes between the application's socket and the TLS connection
/// until either side closes or fails.
fn pump(
    mut conn: rustls::ClientConnection,
    mut tcp: TcpStream,
    mut app: UnixStream,
    failure: &Failure,
) {
    let mut to_app: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    // The daemon may still send; the application may still send.
    let mut daemon_open = true;
    let mut app_open = true;
    loop {
        while !to_app.is_empty() {
            match app.write(&to_app) {
                Ok(n) => {
                    to_app.drain(..n);
                }
                Err(e) if would_block(&e) => break,
                // The application closed: nobody to deliver to.
                Err(_) => return,
            }
        }
        while conn.wants_write() {
            match conn.write_tls(&mut tcp) {
                Ok(_) => {}
                Err(e) if would_block(&e) => break,
                Err(e) => {
                    note(failure, format!("sending to the daemon: {e}"));
                    return;
                }
            }
        }
        if !daemon_open && to_app.is_empty() {
            return;
        }
        if !app_open && !conn.wants_write() {
            let _ = tcp.shutdown(std::net::Shutdown::Both);
            return;
        }
        let tcp_events = if daemon_open && to_app.len() < TO_APP_LIMIT {
            libc::POLLIN
        } else {
            0
        } | if conn.wants_write() { libc::POLLOUT } else { 0 };
        let app_events = if app_open && !conn.wants_write() {
            libc::POLLIN
        } else {
            0
        } | if to_app.is_empty() { 0 } else { libc::POLLOUT };
        // A descriptor with nothing asked of it is left out (-1), so that a
        // hang-up we cannot act on yet does not wake us again and again.
        let fd = |fd: i32, events: i16| if events == 0 { -1 } else { fd };
        let mut fds = [
            libc::pollfd {
                fd: fd(tcp.as_raw_fd(), tcp_events),
                events: tcp_events,
                revents: 0,
            },
            libc::pollfd {
                fd: fd(app.as_raw_fd(), app_events),
                events: app_events,
                revents: 0,
            },
        ];
        // SAFETY: two pollfds on our stack for the call.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            note(failure, format!("poll: {e}"));
            return;
        }
        let gone = libc::POLLHUP | libc::POLLERR;
        // A hang-up where only writing was asked shows in the next write.
        if tcp_events & libc::POLLIN != 0 && fds[0].revents & (libc::POLLIN | gone) != 0 {
            daemon_open = from_daemon(&mut conn, &mut tcp, &mut to_app, &mut buf, failure);
        }
        if app_events & libc::POLLIN != 0 && fds[1].revents & (libc::POLLIN | gone) != 0 {
            match app.read(&mut buf) {
                Ok(0) => {
                    app_open = false;
                    conn.send_close_notify();
                }
                Ok(n) => {
                    // Buffered by rustls (no limit set), sent as the
                    // socket takes it; the application is read again only
                    // once it is all out.
                    let _ = conn.writer().write_all(&buf[..n]);
                }
                Err(e) if would_block(&e) => {}
                Err(_) => app_open = false,
            }
        }
    }
}

/// Reads what the daemon sent into `to_app`; false once it closed or
/// failed.
fn from_daemon(
    conn: &mut rustls::ClientConnection,
    tcp: &mut TcpStream,
    to_app: &mut Vec<u8>,
    buf: &mut [u8],
    failure: &Failure,
) -> bool {
    let mut open = true;
    while open && to_app.len() < TO_APP_LIMIT {
        match conn.read_tls(tcp) {
            Ok(0) => open = false,
            Ok(_) => {
                if let Err(e) = conn.process_new_packets() {
                    note(failure, e.to_string());
                    // Tell the daemon why (an alert), if it listens.
                    let _ = conn.write_tls(tcp);
                    open = false;
                }
            }
            Err(e) if would_block(&e) => break,
            Err(e) => {
                note(failure, format!("receiving from the daemon: {e}"));
                open = false;
            }
        }
        loop {
            match conn.reader().read(buf) {
                Ok(0) => {
                    open = false;
                    break;
                }
                Ok(n) => to_app.extend_from_slice(&buf[..n]),
                Err(e) if would_block(&e) => break,
                // Closed without close_notify: the daemon went away.
                Err(_) => {
                    open = false;
                    break;
                }
            }
        }
    }
    open
}
