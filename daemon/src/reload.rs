//! Dynamic configuration (5.0.1's `docs/DynamicConfiguration.txt`): on
//! SIGHUP or a monitor's RELOAD the daemon reads its spread.conf again and
//! judges the change. Daemons added or removed only need a new membership;
//! a daemon that is in both files but whose name, id, address, interfaces
//! or segment changed needs every daemon to form a ring alone first (its
//! group state cannot be matched with the old one); a change of this
//! daemon's own entry or segment, or its absence, makes it exit, since its
//! sockets are bound to what the old file said.
//!
//! The file is read through a descriptor of its directory opened at start:
//! started as root, the daemon has chrooted since. A file that does not
//! parse leaves the running configuration in force.

use crate::config::{Config, ConfigError, DaemonEntry, Segment};
use crate::sessions::socket_file::open_dir;
use std::ffi::{CStr, CString};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the configuration is read again from.
#[derive(Debug)]
pub enum ConfigFile {
    /// A file, reached through its directory.
    File {
        dir: OwnedFd,
        name: CString,
        /// As given, for messages (`file:line`).
        shown: String,
    },
    /// No file was found at start: the embedded default, which a reload
    /// cannot change.
    Embedded,
}

impl ConfigFile {
    /// Keeps a way to `path` (None: the embedded default).
    pub fn open(path: Option<&Path>) -> io::Result<ConfigFile> {
        let Some(path) = path else {
            return Ok(ConfigFile::Embedded);
        };
        let parent = crate::sessions::socket_file::dir_of(path);
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other(format!("{}: not a file name", path.display())))?;
        Ok(ConfigFile::File {
            dir: open_dir(parent)?,
            name: CString::new(name.as_bytes()).map_err(io::Error::other)?,
            shown: path.display().to_string(),
        })
    }

    /// Reads and parses the file as it is now.
    pub fn read(&self) -> Result<Config, ConfigError> {
        let (dir, name, shown) = match self {
            ConfigFile::Embedded => return Ok(Config::embedded_default()),
            ConfigFile::File { dir, name, shown } => (dir, name, shown),
        };
        let io_err = |source| ConfigError::Io {
            file: shown.clone(),
            source,
        };
        let mut file = open_at(dir, name).map_err(io_err)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            io_err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not UTF-8 (byte {at})"),
            ))
        })?;
        Config::parse(&text, shown)
    }

    pub fn shown(&self) -> &str {
        match self {
            ConfigFile::File { shown, .. } => shown,
            ConfigFile::Embedded => "<embedded default>",
        }
    }
}

/// Opens `name` in the directory `dir` (a descriptor kept from before a
/// chroot) for reading.
pub fn open_at(dir: &OwnedFd, name: &CStr) -> io::Result<std::fs::File> {
    // SAFETY: the descriptor is open and the name NUL-terminated; the
    // result is checked.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            libc::O_RDONLY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// What a reloaded configuration means for this daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// This daemon is no longer what it was: it exits (why).
    Exit(String),
    /// Some daemon in both files changed (why): every daemon forms a ring
    /// alone before they merge again.
    Alone(String),
    /// Only daemons added or removed (by name), if any.
    Members {
        added: Vec<String>,
        removed: Vec<String>,
    },
}

/// Whether `new` daemon `n` (of segment `ns`) is no longer the `old`
/// daemon `o` (of segment `os`): what differs, if anything.
fn differs(n: &DaemonEntry, ns: &Segment, o: &DaemonEntry, os: &Segment) -> Option<String> {
    if n.name != o.name || n.id != o.id || n.addr != o.addr || ns.port != os.port {
        return Some(format!(
            "daemon {} (id {}, {}:{}) is now {} (id {}, {}:{})",
            o.name, o.id, o.addr, os.port, n.name, n.id, n.addr, ns.port
        ));
    }
    if n.interfaces != o.interfaces || n.zone != o.zone {
        return Some(format!("the interfaces of daemon {} changed", n.name));
    }
    if ns.addrs != os.addrs || ns.zones != os.zones {
        return Some(format!("the segment address of daemon {} changed", n.name));
    }
    None
}

fn entries(c: &Config) -> impl Iterator<Item = (&DaemonEntry, &Segment)> {
    c.segments
        .iter()
        .flat_map(|s| s.daemons.iter().map(move |d| (d, s)))
}

/// Judges `new` against `old`, where this daemon was `old_me` and is
/// `new_me` (None: not found in `new`).
pub fn judge(
    old: &Config,
    old_me: (usize, usize),
    new: &Config,
    new_me: Option<(usize, usize)>,
) -> Change {
    let os = &old.segments[old_me.0];
    let o = &os.daemons[old_me.1];
    let Some(new_me) = new_me else {
        return Change::Exit(format!("daemon {} is no longer configured", o.name));
    };
    let ns = &new.segments[new_me.0];
    if let Some(why) = differs(&ns.daemons[new_me.1], ns, o, os) {
        return Change::Exit(format!("this daemon's own entry changed: {why}"));
    }
    let mut added = Vec::new();
    for (n, ns) in entries(new) {
        let by_name = entries(old).find(|(o, _)| o.name == n.name);
        let by_id = entries(old).find(|(o, _)| o.id == n.id);
        match (by_name, by_id) {
            (None, None) => added.push(n.name.clone()),
            (Some((a, os)), Some((b, _))) if a.name == b.name => {
                if let Some(why) = differs(n, ns, a, os) {
                    return Change::Alone(why);
                }
            }
            _ => {
                return Change::Alone(format!(
                    "daemon {} (id {}) was another daemon's name or id",
                    n.name, n.id
                ))
            }
        }
    }
    let removed = entries(old)
        .filter(|(o, _)| !entries(new).any(|(n, _)| n.id == o.id))
        .map(|(o, _)| o.name.clone())
        .collect();
    Change::Members { added, removed }
}

/// What the runtime keeps to reload: the file, the configuration in force
/// and which daemon this is in it, the `-n` name it was found by.
#[derive(Debug)]
pub struct Reloader {
    pub file: ConfigFile,
    pub config: Config,
    pub me: (usize, usize),
    pub name: Option<String>,
    pub rules: crate::auth::IpRules,
    /// Where RingKeyFile and AcceptRingKeyFile are read again from.
    pub key_files: crate::ring_keys::KeyFiles,
    /// `GroupAccessFile`, reached through its directory.
    pub group_file: Option<crate::auth::kept::KeptFile>,
    /// `AuthSecretFile`, reached through its directory.
    pub secret_file: Option<crate::auth::kept::KeptFile>,
}

impl Reloader {
    /// The path the daemon read its configuration from, for
    /// [`ConfigFile::open`].
    pub fn path_of(explicit: Option<&Path>) -> Option<PathBuf> {
        Config::located(explicit, &Config::PLACES.map(Path::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(daemons: &str) -> Config {
        Config::parse(
            &format!("Spread_Segment 127.0.0.255:4803 {{\n{daemons}}}\n"),
            "t.conf",
        )
        .unwrap()
    }

    const THREE: &str = "\td1 127.0.0.1\n\td2 127.0.0.2\n\td3 127.0.0.3\n";

    #[test]
    fn adding_and_removing_daemons_needs_only_a_membership() {
        let old = conf(THREE);
        let new = conf("\td1 127.0.0.1\n\td3 127.0.0.3\n\td4 127.0.0.4\n");
        assert_eq!(
            judge(&old, (0, 0), &new, Some((0, 0))),
            Change::Members {
                added: vec!["d4".into()],
                removed: vec!["d2".into()],
            }
        );
    }

    #[test]
    fn another_daemon_changed_means_alone_first() {
        let old = conf(THREE);
        let moved = conf("\td1 127.0.0.1\n\td2 127.0.0.9\n\td3 127.0.0.3\n");
        assert!(matches!(
            judge(&old, (0, 0), &moved, Some((0, 0))),
            Change::Alone(_)
        ));
        // Ids are made of names: a daemon renamed is one removed and one
        // added (as 5.0.1 sees it).
        let renamed = conf("\td1 127.0.0.1\n\tx2 127.0.0.2\n\td3 127.0.0.3\n");
        assert_eq!(
            judge(&old, (0, 0), &renamed, Some((0, 0))),
            Change::Members {
                added: vec!["x2".into()],
                removed: vec!["d2".into()],
            }
        );
    }

    #[test]
    fn my_own_entry_changed_or_gone_means_exit() {
        let old = conf(THREE);
        let moved = conf("\td1 127.0.0.7\n\td2 127.0.0.2\n\td3 127.0.0.3\n");
        assert!(matches!(
            judge(&old, (0, 0), &moved, Some((0, 0))),
            Change::Exit(_)
        ));
        let gone = conf("\td2 127.0.0.2\n\td3 127.0.0.3\n");
        assert!(matches!(judge(&old, (0, 0), &gone, None), Change::Exit(_)));
        let other_segment = Config::parse(
            &format!("Spread_Segment 127.0.0.255:4805 {{\n{THREE}}}\n"),
            "t.conf",
        )
        .unwrap();
        assert!(matches!(
            judge(&old, (0, 0), &other_segment, Some((0, 0))),
            Change::Exit(_)
        ));
    }

    #[test]
    fn a_file_that_does_not_parse_names_its_line() {
        let dir = std::env::temp_dir().join(format!("spread-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("spread.conf");
        std::fs::write(
            &path,
            format!("Spread_Segment 127.0.0.255:4803 {{\n{THREE}}}\n"),
        )
        .unwrap();
        let file = ConfigFile::open(Some(&path)).unwrap();
        assert_eq!(file.read().unwrap().daemons().count(), 3);
        std::fs::write(
            &path,
            "Spread_Segment 127.0.0.255:4803 {\n\td1 127.0.0.1\n\tjunk {\n}\n",
        )
        .unwrap();
        let e = file.read().unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}:", path.display())), "{e}");
        assert!(e.contains(":3:") || e.contains(":4:"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
