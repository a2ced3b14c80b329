//! The Unix socket's file (`/tmp/<port>` as in 5.0.1): who holds the path
//! before we bind it, and removing it at exit even from inside a chroot.
//!
//! A path held by a live Spread daemon (another daemon of the same file on
//! this host) is left to it: this daemon serves TCP only. Anything else
//! at the path (a stale socket, a regular file, a listener that does not
//! speak Spread) is replaced, so that nobody can create `/tmp/<port>` first
//! and receive the local clients' connections.

use spread_core::wire::handshake::ConnectMessage;
use std::ffi::{CString, OsStr};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use tokio::net::UnixListener;

/// How long a listener at the path has to answer like a Spread daemon.
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// What was at the socket path.
#[derive(Debug, PartialEq, Eq)]
pub enum Occupant {
    Nothing,
    /// A socket nobody listens on (a daemon that died), or a file that is
    /// not a socket.
    Stale,
    /// A listener that answered the handshake as a Spread daemon does, or
    /// a process named `spread` (one that has not begun to answer yet: it
    /// is starting), run by `uid`.
    Spread {
        uid: u32,
    },
    /// A listener that is not a Spread daemon, or runs as another user.
    Squatter {
        uid: Option<u32>,
    },
}

/// The outcome of binding the Unix socket.
pub enum UnixBinding {
    Bound(UnixListener, SocketFile),
    /// Another daemon serves the path; clients of this one use TCP.
    LeftTo(Occupant),
}

/// Binds the Unix socket at `path`, taking the path over unless a live
/// Spread daemon run by one of `trusted` uids (or root) holds it. Logs
/// what it replaced. With `owner`, the file is given to the user the
/// daemon becomes, so that it can still remove the file at exit (in a
/// sticky directory like `/tmp` only the owner may).
pub fn bind_unix(
    path: &Path,
    trusted: &[u32],
    owner: Option<(u32, u32)>,
) -> io::Result<UnixBinding> {
    let err =
        |e: io::Error| io::Error::new(e.kind(), format!("Unix socket {}: {e}", path.display()));
    // Twice: a daemon started at the same moment may bind between our
    // look and our bind; the second look sees it.
    let mut tries = 2;
    let listener = loop {
        tries -= 1;
        let occupant = probe(path);
        match &occupant {
            Occupant::Nothing => {}
            Occupant::Spread { uid } if *uid == 0 || trusted.contains(uid) => {
                return Ok(UnixBinding::LeftTo(occupant))
            }
            Occupant::Stale | Occupant::Spread { .. } | Occupant::Squatter { .. } => {
                if !matches!(occupant, Occupant::Stale) {
                    tracing::warn!(target: "spread::session", "{} was held by a process that is not a trusted Spread daemon ({occupant:?}); taking it over", path.display());
                }
                std::fs::remove_file(path).map_err(err)?;
            }
        }
        match UnixListener::bind(path) {
            Ok(l) => break l,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries > 0 => {}
            Err(e) => return Err(err(e)),
        }
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(err)?;
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::lchown(path, Some(uid), Some(gid)).map_err(err)?;
    }
    let file = SocketFile::new(path).map_err(err)?;
    Ok(UnixBinding::Bound(listener, file))
}

/// Who listens at `path`: connects, sends a client's connect message and
/// expects the list of authentication methods a Spread daemon answers with.
pub fn probe(path: &Path) -> Occupant {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Occupant::Nothing;
    };
    if !std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) {
        return Occupant::Stale;
    }
    let Ok(mut s) = UnixStream::connect(path) else {
        return Occupant::Stale;
    };
    let (pid, uid) = match peer_cred(&s) {
        Some((pid, uid)) => (Some(pid), Some(uid)),
        None => (None, None),
    };
    if let (Some(pid), Some(uid)) = (pid, uid) {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == "spread" {
            return Occupant::Spread { uid };
        }
    }
    let _ = s.set_read_timeout(Some(PROBE_TIMEOUT));
    let _ = s.set_write_timeout(Some(PROBE_TIMEOUT));
    let hello = ConnectMessage::libspread(b"", false, 0).encode();
    let mut len = [0u8; 1];
    if s.write_all(&hello).is_err() || s.read_exact(&mut len).is_err() {
        return Occupant::Squatter { uid };
    }
    let mut methods = vec![0u8; usize::from(len[0])];
    let spread_like = (1..=90).contains(&len[0])
        && s.read_exact(&mut methods).is_ok()
        && methods
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b' ' || *b == b'_');
    match (spread_like, uid) {
        (true, Some(uid)) => Occupant::Spread { uid },
        _ => Occupant::Squatter { uid },
    }
}

/// The pid and uid of the process at the other end of a Unix socket.
fn peer_cred(s: &UnixStream) -> Option<(i32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` and `len` are valid for the call and sized as it expects.
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some((cred.pid, cred.uid))
}

/// The socket file this daemon created. It is removed at exit only if it
/// is still the one we bound (another daemon may have replaced it), and
/// through a descriptor of its directory, which still works after a chroot.
#[derive(Debug)]
pub struct SocketFile {
    dir: OwnedFd,
    name: CString,
    dev: u64,
    ino: u64,
}

impl SocketFile {
    fn new(path: &Path) -> io::Result<SocketFile> {
        let parent = dir_of(path);
        let name = path.file_name().unwrap_or(OsStr::new(""));
        let dir = open_dir(parent)?;
        let meta = std::fs::symlink_metadata(path)?;
        Ok(SocketFile {
            dir,
            name: CString::new(name.as_bytes()).map_err(io::Error::other)?,
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Removes the file if it is still ours.
    pub fn remove(&self) {
        // SAFETY: an all-zero `stat` is a valid value to be overwritten.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: the descriptor is open, the name is NUL-terminated and
        // `st` is valid for writing.
        let rc = unsafe {
            libc::fstatat(
                self.dir.as_raw_fd(),
                self.name.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc == 0 && st.st_dev == self.dev && st.st_ino == self.ino {
            // SAFETY: as above.
            unsafe { libc::unlinkat(self.dir.as_raw_fd(), self.name.as_ptr(), 0) };
        }
    }
}

/// A descriptor of a directory, to reach entries in it by name later.
/// The directory `path` is in (`.` for a bare name).
pub fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

pub fn open_dir(dir: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: `c` is NUL-terminated; the result is checked.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}
