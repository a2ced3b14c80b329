//! systemd's readiness protocol (`Type=notify`) without libsystemd: when
//! `NOTIFY_SOCKET` names a Unix datagram socket (a path, or `@name` in the
//! abstract namespace), the daemon sends `READY=1` there once it serves and
//! `STOPPING=1` when it stops. The socket is connected before any chroot,
//! so a path outside the new root still works.

use std::os::unix::net::UnixDatagram;

pub struct Notifier {
    socket: UnixDatagram,
}

impl Notifier {
    /// The notifier `NOTIFY_SOCKET` asks for, if any; an error says why it
    /// cannot be reached (the daemon logs it and runs on).
    pub fn from_env() -> Option<Result<Notifier, String>> {
        let name = std::env::var_os("NOTIFY_SOCKET")?;
        Some(
            Notifier::connect(&name)
                .map_err(|e| format!("NOTIFY_SOCKET {}: {e}", name.to_string_lossy())),
        )
    }

    fn connect(name: &std::ffi::OsStr) -> std::io::Result<Notifier> {
        use std::os::unix::ffi::OsStrExt;
        let socket = UnixDatagram::unbound()?;
        let bytes = name.as_bytes();
        if let Some(abstract_name) = bytes.strip_prefix(b"@") {
            use std::os::linux::net::SocketAddrExt;
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(abstract_name)?;
            socket.connect_addr(&addr)?;
        } else {
            socket.connect(name)?;
        }
        Ok(Notifier { socket })
    }

    /// Sends one state line (`READY=1`, `STOPPING=1`).
    pub fn send(&self, state: &str) -> std::io::Result<()> {
        self.socket.send(state.as_bytes()).map(|_| ())
    }
}
