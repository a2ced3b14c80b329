//! The key files a configuration names, read at start and on every reload
//! through their directories, opened at start (before any chroot).

use crate::config::Config;
use crate::packet::seal::{KeyError, RingKey};
use crate::reload::open_at;
use crate::sessions::socket_file::{dir_of as parent, open_dir};
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The keys in force: one seals, all open (the sealing one first).
#[derive(Clone, Debug)]
pub struct RingKeys {
    pub seal: RingKey,
    pub open: Vec<RingKey>,
}

/// Where key files are read from.
#[derive(Debug, Default)]
pub struct KeyFiles {
    dirs: Vec<(PathBuf, OwnedFd)>,
}

impl KeyFiles {
    /// Holds the directories of the key files `config` names. One that
    /// cannot be opened is left out: reading the file says why.
    pub fn open(config: &Config) -> KeyFiles {
        let mut dirs: Vec<(PathBuf, OwnedFd)> = Vec::new();
        for path in paths(config) {
            let dir = parent(Path::new(path)).to_path_buf();
            if dirs.iter().any(|(d, _)| *d == dir) {
                continue;
            }
            if let Ok(fd) = open_dir(&dir) {
                dirs.push((dir, fd));
            }
        }
        KeyFiles { dirs }
    }

    /// The keys `config` names, read now. A reload may name other files
    /// in the directories held (after a chroot nothing else is reachable).
    pub fn load(&self, config: &Config) -> Result<Option<RingKeys>, KeyError> {
        let Some(seal) = &config.ring_key_file else {
            if config.accept_ring_key_files.is_empty() {
                return Ok(None);
            }
            return Err(KeyError::AcceptWithoutSeal {
                at: config.where_set("AcceptRingKeyFile"),
            });
        };
        let seal = self.read(seal)?;
        let mut open = vec![seal.clone()];
        for path in &config.accept_ring_key_files {
            let key = self.read(path)?;
            if !open.contains(&key) {
                open.push(key);
            }
        }
        Ok(Some(RingKeys { seal, open }))
    }

    fn read(&self, path: &str) -> Result<RingKey, KeyError> {
        let p = Path::new(path);
        let held = self.dirs.iter().find(|(d, _)| d == parent(p));
        let (Some((_, dir)), Some(name)) = (held, p.file_name()) else {
            return RingKey::read(p);
        };
        let name = CString::new(name.as_bytes()).map_err(|_| KeyError::NotAFile {
            path: path.to_string(),
        })?;
        let file = open_at(dir, &name).map_err(|source| KeyError::Io {
            path: path.to_string(),
            source: explain(source),
        })?;
        RingKey::read_open(file, path)
    }
}

/// A key file a reload cannot read is most often one only root reads,
/// while the daemon runs as DaemonUser by then.
fn explain(e: std::io::Error) -> std::io::Error {
    if e.kind() != std::io::ErrorKind::PermissionDenied {
        return e;
    }
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    std::io::Error::new(
        e.kind(),
        format!("{e}; the daemon now runs as uid {uid} (DaemonUser): give the file to that user, mode 600"),
    )
}

fn paths(config: &Config) -> impl Iterator<Item = &String> {
    config
        .ring_key_file
        .iter()
        .chain(&config.accept_ring_key_files)
}
