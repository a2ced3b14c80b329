//! The client side of the handshake, byte for byte as 5.0.1's libspread.

use super::addr::DaemonAddr;
use super::stream::Stream;
use super::tls::{self, TlsOptions};
use crate::consts::*;
use crate::error::{Error, Result};
use crate::name::GroupName;
use crate::wire::handshake::{
    encode_auth_choice, offered_large_messages, parse_auth_list, ConnectMessage,
};
use crate::wire::secret;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The name of the PEERCRED method (ours).
pub const PEERCRED_METHOD: &str = "PEERCRED";

/// A client-side authentication method: its name, and the exchange it runs
/// on the socket after the choice is sent (true = success).
#[derive(Clone)]
pub struct AuthMethod {
    /// The name the daemon lists and the choice carries (at most 29 bytes
    /// are sent), e.g. `"NULL"` or `"IP"`.
    pub name: String,
    /// Runs the method's exchange on the session's socket descriptor after
    /// the choice is sent; `false` fails the connect with `REJECT_AUTH`.
    pub authenticate: Arc<dyn Fn(RawFd) -> bool + Send + Sync>,
}

impl AuthMethod {
    /// The NULL method: no bytes, always succeeds.
    pub fn null() -> AuthMethod {
        AuthMethod::trivial("NULL")
    }

    /// PEERCRED (a daemon of ours): no bytes; on the Unix socket the daemon
    /// asks the kernel which user and group this process runs as, and
    /// checks them against its `AllowUsers` / `AllowGroups`. Over TCP the
    /// daemon refuses it (`REJECT_AUTH`).
    pub fn peercred() -> AuthMethod {
        AuthMethod::trivial(PEERCRED_METHOD)
    }

    /// SECRET (a daemon of ours): answers the daemon's challenge with an
    /// HMAC of `secret` (which never crosses the wire) under `identity`,
    /// the name the daemon's `AuthSecretFile` knows it by (1 to 64 bytes
    /// of letters, digits, `.`, `_`, `-`, `@`). See [`crate::wire::secret`].
    pub fn secret(identity: &str, secret: impl Into<Vec<u8>>) -> Result<AuthMethod> {
        let identity = identity.as_bytes().to_vec();
        if !secret::is_valid_identity(&identity) {
            return Err(Error::RejectAuth(format!(
                "SECRET identity {:?}: 1 to 64 letters, digits, '.', '_', '-' or '@'",
                String::from_utf8_lossy(&identity)
            )));
        }
        let secret: Vec<u8> = secret.into();
        if secret.is_empty() {
            return Err(Error::RejectAuth("an empty SECRET".into()));
        }
        Ok(AuthMethod {
            name: secret::SECRET_METHOD.to_string(),
            authenticate: Arc::new(move |fd| secret_exchange(fd, &identity, &secret).is_ok()),
        })
    }

    /// [`AuthMethod::secret`] with the secret read from `path` (its bytes,
    /// without a final newline). The file must not be readable or writable
    /// by group or others (mode 0600 or 0400).
    pub fn secret_file(identity: &str, path: &std::path::Path) -> Result<AuthMethod> {
        use std::os::unix::fs::PermissionsExt;
        let bad = |e: String| Error::RejectAuth(format!("{}: {e}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| bad(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(bad(format!(
                "mode {mode:04o}: a secret must not be open to group or others (chmod 600)"
            )));
        }
        let mut bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        AuthMethod::secret(identity, bytes)
    }

    /// A method whose exchange has no bytes (NULL, IP, PEERCRED).
    pub fn trivial(name: &str) -> AuthMethod {
        AuthMethod {
            name: name.to_string(),
            authenticate: Arc::new(|_| true),
        }
    }
}

/// SECRET's exchange on the session's socket: the challenge in, the
/// answer out (the socket's timeouts bound both). For callers that run
/// methods on a descriptor themselves (libspread's `SP_auth_secret`).
pub fn secret_exchange(fd: RawFd, identity: &[u8], secret: &[u8]) -> io::Result<()> {
    use std::os::fd::FromRawFd;
    // SAFETY: `fd` is the session's socket, open for the whole handshake;
    // ManuallyDrop keeps this borrowed File from closing it.
    let mut sock = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let mut nonce = [0u8; secret::NONCE_LEN];
    sock.read_exact(&mut nonce)?;
    sock.write_all(&secret::answer(secret, &nonce, identity))
}

impl std::fmt::Debug for AuthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthMethod({:?})", self.name)
    }
}

/// How to connect; the default is what `SP_connect` does with no private
/// name: low priority, membership messages, no timeout, the NULL method.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Private name (at most 10 bytes are sent); empty = the daemon picks.
    pub private_name: String,
    /// One of the `*_PRIORITY` constants; only "≥ 1 or not" reaches the
    /// daemon, which does not act on it.
    pub priority: i32,
    /// Receive membership messages.
    pub membership: bool,
    /// Covers the connect and the whole handshake; `None` = no limit.
    pub timeout: Option<Duration>,
    /// Methods to run, in order (at most 3 go into the choice); each must be
    /// among those the daemon offers.
    pub auth_methods: Vec<AuthMethod>,
    /// Take messages larger than 5.0.1's limit when the daemon offers them
    /// (a daemon of ours with `MaxMessageSize`; a 5.0.1 daemon never
    /// does, and then nothing on the wire differs). Needs a free slot in
    /// the auth choice: at most two `auth_methods`.
    pub large_messages: bool,
    /// Speak TLS to the daemon (its `TlsAddress`, a daemon of ours; the
    /// daemon name must be a TCP one). `None`: plain, as 5.0.1.
    pub tls: Option<TlsOptions>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            private_name: String::new(),
            priority: LOW_PRIORITY,
            membership: true,
            timeout: None,
            auth_methods: vec![AuthMethod::null()],
            large_messages: true,
            tls: None,
        }
    }
}

/// A failure after the connection was made is CONNECTION_CLOSED, as in
/// libspread 5.0.1, whether the daemon closed or the timeout ran out.
fn closed(what: &str, e: io::Error) -> Error {
    if matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    ) {
        Error::ConnectionClosed(format!("timed out waiting for {what}"))
    } else {
        Error::ConnectionClosed(format!("while exchanging {what}: {e}"))
    }
}

/// The connection to the daemon, and with TLS where its pump notes what
/// went wrong.
fn open(
    addr: &DaemonAddr,
    opts: &ConnectOptions,
    host: Option<&str>,
) -> Result<(Stream, Option<tls::Failure>)> {
    let s = connect_to(addr, opts.timeout)?;
    super::stream::set_client_socket_buffers(s.as_raw_fd());
    let Some(t) = &opts.tls else {
        return Ok((s, None));
    };
    let Stream::Tcp(tcp) = s else {
        return Err(Error::CouldNotConnect(
            "TLS needs a TCP daemon name (4813@host), not the Unix socket".into(),
        ));
    };
    let name = t.server_name.as_deref().or(host).ok_or_else(|| {
        Error::CouldNotConnect("TLS: no server name for the daemon's certificate".into())
    })?;
    let (app, failure) = tls::start(tcp, t, name, opts.timeout)?;
    super::stream::set_client_socket_buffers(app.as_raw_fd());
    Ok((Stream::Unix(app), Some(failure)))
}

fn connect_to(addr: &DaemonAddr, timeout: Option<Duration>) -> Result<Stream> {
    match addr {
        DaemonAddr::Unix(path) => UnixStream::connect(path)
            .map(Stream::Unix)
            .map_err(|e| Error::CouldNotConnect(format!("{}: {e}", path.display()))),
        DaemonAddr::Tcp(addrs) => {
            let mut last = None;
            for a in addrs {
                let r = match timeout {
                    Some(t) => TcpStream::connect_timeout(a, t),
                    None => TcpStream::connect(a),
                };
                match r {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => last = Some(format!("{a}: {e}")),
                }
            }
            Err(Error::CouldNotConnect(
                last.unwrap_or_else(|| "no address".into()),
            ))
        }
    }
}

fn read_byte(s: &mut Stream, what: &str) -> Result<u8> {
    let mut b = [0u8; 1];
    s.read_exact(&mut b).map_err(|e| closed(what, e))?;
    Ok(b[0])
}

/// What the handshake settled.
#[derive(Debug)]
pub struct Session {
    pub stream: Stream,
    /// The private group name the daemon assigned.
    pub private_group: GroupName,
    /// The largest body the daemon takes from this session and may send
    /// it: its `MaxMessageSize` if it offered one and we took it.
    pub max_body: Option<usize>,
}

/// Connects and runs the handshake; `host` is the host of the daemon
/// name, the name a TLS daemon's certificate must carry by default.
pub fn handshake(addr: &DaemonAddr, opts: &ConnectOptions, host: Option<&str>) -> Result<Session> {
    let (stream, failure) = open(addr, opts, host)?;
    run(stream, opts).map_err(|e| {
        // A daemon that refused our TLS (our certificate, say) says so
        // only once the handshake is over: tell that, not the close.
        let noted = failure.and_then(|f| f.lock().unwrap_or_else(|p| p.into_inner()).take());
        match noted {
            Some(why) => Error::CouldNotConnect(format!("TLS: {why}")),
            None => e,
        }
    })
}

fn run(stream: Stream, opts: &ConnectOptions) -> Result<Session> {
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let mut s = stream;
    let remaining = || {
        deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        })
    };
    s.set_read_timeout(remaining())
        .map_err(|e| Error::CouldNotConnect(e.to_string()))?;
    s.set_write_timeout(remaining())
        .map_err(|e| Error::CouldNotConnect(e.to_string()))?;

    let hello =
        ConnectMessage::libspread(opts.private_name.as_bytes(), opts.membership, opts.priority);
    s.write_all(&hello.encode())
        .map_err(|e| closed("the connect message", e))?;

    let len = read_byte(&mut s, "the auth list")? as i8;
    if len < 0 {
        return Err(Error::from_reject_code(i32::from(len)));
    }
    let mut list = vec![0u8; len as usize];
    s.read_exact(&mut list)
        .map_err(|e| closed("the auth list", e))?;
    let offered = parse_auth_list(&list);
    for m in &opts.auth_methods {
        if !offered.contains(&m.name) {
            return Err(Error::RejectAuth(format!(
                "the daemon offers {offered:?}, not {:?}",
                m.name
            )));
        }
    }
    let mut names: Vec<&str> = opts.auth_methods.iter().map(|m| m.name.as_str()).collect();
    // Taking large messages is one more word in the choice, after the
    // methods, only when the daemon offered it.
    let large = offered_large_messages(&offered)
        .filter(|_| opts.large_messages && names.len() < MAX_AUTH_METHODS);
    names.extend(large.map(|(word, _)| word));
    s.write_all(&encode_auth_choice(&names))
        .map_err(|e| closed("the auth choice", e))?;
    for m in &opts.auth_methods {
        if !(m.authenticate)(s.as_raw_fd()) {
            return Err(Error::RejectAuth(format!("method {} failed", m.name)));
        }
    }

    s.set_read_timeout(remaining())
        .map_err(|e| Error::CouldNotConnect(e.to_string()))?;
    let code = read_byte(&mut s, "the accept")? as i8;
    if i32::from(code) != ACCEPT_SESSION {
        return Err(Error::from_reject_code(i32::from(code)));
    }
    let mut version = [0u8; 3];
    s.read_exact(&mut version)
        .map_err(|e| closed("the daemon version", e))?;
    if (version[0] as i8) < 3 {
        return Err(Error::RejectVersion(format!(
            "daemon version {}.{}.{}",
            version[0], version[1], version[2]
        )));
    }
    let p = read_byte(&mut s, "the private group")? as i8;
    if p < 0 || p as usize >= MAX_GROUP_NAME {
        return Err(Error::ConnectionClosed(format!(
            "private group name of length {p}"
        )));
    }
    let mut name = vec![0u8; p as usize];
    s.read_exact(&mut name)
        .map_err(|e| closed("the private group", e))?;
    s.set_read_timeout(None)
        .map_err(|e| Error::ConnectionClosed(e.to_string()))?;
    s.set_write_timeout(None)
        .map_err(|e| Error::ConnectionClosed(e.to_string()))?;
    Ok(Session {
        stream: s,
        private_group: GroupName::new(&name),
        max_body: large.map(|(_, n)| n),
    })
}
