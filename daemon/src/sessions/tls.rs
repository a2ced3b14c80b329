//! TLS for TCP clients (`TlsAddress`, `TlsCertificateFile`, `TlsKeyFile`,
//! `TlsClientCAFile`): a listener of its own, so that 5.0.1's clients keep
//! the plain port. Each connection hands shake TLS first (bounded in time
//! and in number), then is a session as any other: the TLS stream is a
//! [`Connection`]. A client certificate's common name is the client's
//! `cert:` identity in the group access rules.
//!
//! The files are read at start (before any chroot); a bad one stops the
//! daemon with `file:line` and the file's name. A reload leaves TLS as it
//! is: changing it needs a restart.

use super::refusals::Refusal;
use super::session::{admit, Connection};
use super::Shared;
use crate::auth::{cert::common_name, Who, TLS_REASON};
use crate::config::{Config, Written};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use spread_core::client::set_client_socket_buffers;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// How long a client has for its TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// TLS handshakes in progress at once; a connection beyond is closed.
pub const MAX_TLS_HANDSHAKES: usize = 256;

/// The TLS listener's settings, read from the configuration.
#[derive(Clone)]
pub struct TlsSettings {
    pub addr: SocketAddr,
    /// Where TlsAddress was set, for errors.
    pub set_at: String,
    pub acceptor: TlsAcceptor,
    /// Clients must show a certificate (TlsClientCAFile).
    pub client_certificates: bool,
}

impl std::fmt::Debug for TlsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsSettings")
            .field("addr", &self.addr)
            .field("client_certificates", &self.client_certificates)
            .finish_non_exhaustive()
    }
}

/// `file:line: Option path`, for errors about a file option.
fn at(config: &Config, option: &str, w: &Written<PathBuf>) -> String {
    format!(
        "{}:{}: {option} {}",
        config.source,
        w.line,
        w.value.display()
    )
}

fn read(config: &Config, option: &str, w: &Written<PathBuf>) -> Result<Vec<u8>, String> {
    std::fs::read(&w.value).map_err(|e| format!("{}: {e}", at(config, option, w)))
}

/// Certificates of a PEM file (at least one).
fn certificates(
    config: &Config,
    option: &str,
    w: &Written<PathBuf>,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = read(config, option, w)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: not PEM: {e}", at(config, option, w)))?;
    if certs.is_empty() {
        return Err(format!(
            "{}: holds no certificate (-----BEGIN CERTIFICATE-----)",
            at(config, option, w)
        ));
    }
    Ok(certs)
}

/// The TLS settings the configuration asks for (None: no TLS listener).
/// Errors name the option, its `file:line` and the file.
pub fn load(config: &Config) -> Result<Option<TlsSettings>, String> {
    let a = &config.client_access;
    let files = [
        ("TlsCertificateFile", &a.tls_certificate_file),
        ("TlsKeyFile", &a.tls_key_file),
        ("TlsClientCAFile", &a.tls_client_ca_file),
    ];
    let Some(addr) = &a.tls_address else {
        if let Some((name, Some(w))) = files.iter().find(|(_, w)| w.is_some()) {
            return Err(format!(
                "{}:{}: {name} needs TlsAddress (where TLS clients connect)",
                config.source, w.line
            ));
        }
        return Ok(None);
    };
    let set_at = format!("{}:{}", config.source, addr.line);
    let (Some(cert), Some(key)) = (&a.tls_certificate_file, &a.tls_key_file) else {
        return Err(format!(
            "{set_at}: TlsAddress needs TlsCertificateFile and TlsKeyFile"
        ));
    };
    let chain = certificates(config, "TlsCertificateFile", cert)?;
    let key_bytes = read(config, "TlsKeyFile", key)?;
    let private = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| {
        format!(
            "{}: no PEM private key (PKCS#8, PKCS#1 or SEC1): {e}",
            at(config, "TlsKeyFile", key)
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("{set_at}: TLS: {e}"))?;
    let builder = match &a.tls_client_ca_file {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in certificates(config, "TlsClientCAFile", ca)? {
                roots
                    .add(c)
                    .map_err(|e| format!("{}: {e}", at(config, "TlsClientCAFile", ca)))?;
            }
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .map_err(|e| format!("{}: {e}", at(config, "TlsClientCAFile", ca)))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let server = builder.with_single_cert(chain, private).map_err(|e| {
        format!(
            "{} and TlsKeyFile {}: {e}",
            at(config, "TlsCertificateFile", cert),
            key.value.display()
        )
    })?;
    Ok(Some(TlsSettings {
        addr: addr.value,
        set_at,
        acceptor: TlsAcceptor::from(Arc::new(server)),
        client_certificates: a.tls_client_ca_file.is_some(),
    }))
}

/// Writes what a TCP socket takes at once, never waiting.
struct WriteNow<'a>(&'a TcpStream);

impl Write for WriteNow<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Connection for TlsStream<TcpStream> {
    type Reader = tokio::io::ReadHalf<TlsStream<TcpStream>>;
    type Writer = tokio::io::WriteHalf<TlsStream<TcpStream>>;
    fn split(self) -> (Self::Reader, Self::Writer) {
        tokio::io::split(self)
    }
    fn write_now(&mut self, bytes: &[u8]) {
        let (tcp, conn) = self.get_mut();
        if conn.writer().write_all(bytes).is_err() {
            return;
        }
        let mut out = WriteNow(tcp);
        while conn.wants_write() {
            if !matches!(conn.write_tls(&mut out), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

/// A TLS handshake that failed: counted, and logged once a minute.
fn failed(shared: &Shared, line: String) {
    shared.auth_refused[TLS_REASON].fetch_add(1, Ordering::Relaxed);
    shared.refusals.note(Refusal::Auth(TLS_REASON), line);
}

/// Accepts TLS clients on `listener` for as long as the daemon runs.
pub async fn accept_tls(listener: TcpListener, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_TLS_HANDSHAKES));
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                let line = format!("accept on TLS failed: {e}");
                shared.refusals.note(Refusal::Accept, line);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        set_client_socket_buffers(stream.as_raw_fd());
        let Ok(permit) = handshakes.clone().try_acquire_owned() else {
            let line =
                format!("refused TLS {addr}: {MAX_TLS_HANDSHAKES} TLS handshakes are in progress");
            failed(&shared, line);
            continue;
        };
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
            drop(permit);
            let conn = match r {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => return failed(&shared, format!("TLS handshake with {addr}: {e}")),
                Err(_) => {
                    let line = format!(
                        "TLS handshake with {addr}: not done within {TLS_HANDSHAKE_TIMEOUT:?}"
                    );
                    return failed(&shared, line);
                }
            };
            let cert = (conn.get_ref().1.peer_certificates())
                .and_then(|chain| chain.first())
                .and_then(|c| common_name(c));
            let text = match &cert {
                Some(name) => format!("tls:{addr} (cert {name})"),
                None => format!("tls:{addr}"),
            };
            let who = Who {
                cert: cert.map(Arc::from),
                ..Who::tcp(addr.ip().to_canonical())
            };
            admit(conn, who, text, &shared);
        });
    }
}
