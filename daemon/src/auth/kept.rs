//! A file of ours read again on reload (the group access rules, the
//! shared secrets): reached through a descriptor of its directory opened
//! at start, as the configuration is, so that a daemon that has chrooted
//! since still finds it.

use crate::sessions::socket_file::open_dir;
use std::ffi::CString;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct KeptFile {
    dir: OwnedFd,
    name: CString,
    /// As configured (for messages, and to tell a changed path).
    pub path: PathBuf,
}

/// What was read: the bytes, and the file's mode and owner.
pub struct Contents {
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
}

impl KeptFile {
    pub fn open(path: &Path) -> io::Result<KeptFile> {
        let parent = crate::sessions::socket_file::dir_of(path);
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("not a file name"))?;
        Ok(KeptFile {
            dir: open_dir(parent)?,
            name: CString::new(name.as_bytes()).map_err(io::Error::other)?,
            path: path.to_path_buf(),
        })
    }

    /// Reads the file as it is now.
    pub fn read(&self) -> io::Result<Contents> {
        let mut file = crate::reload::open_at(&self.dir, &self.name)?;
        let meta = file.metadata()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(Contents {
            bytes,
            mode: meta.mode() & 0o7777,
            uid: meta.uid(),
        })
    }
}

/// Keeps the file at `path`, unless the one kept is that path already.
pub fn keep(kept: &mut Option<KeptFile>, path: &Path) -> io::Result<()> {
    if kept.as_ref().is_some_and(|k| k.path == path) {
        return Ok(());
    }
    *kept = Some(KeptFile::open(path)?);
    Ok(())
}

/// Reads `GroupAccessFile` if the configuration names one (keeping its
/// way in `kept`); none: no rules. Errors say `file:line`.
pub fn load_group_rules(
    config: &crate::config::Config,
    kept: &mut Option<KeptFile>,
) -> Result<super::GroupRules, String> {
    let Some(w) = &config.client_access.group_access_file else {
        *kept = None;
        return Ok(super::GroupRules::default());
    };
    let shown = w.value.display().to_string();
    let at = format!("{}:{}: GroupAccessFile {shown}", config.source, w.line);
    keep(kept, &w.value).map_err(|e| format!("{at}: {e}"))?;
    let file = kept.as_ref().expect("kept").read();
    let bytes = file.map_err(|e| format!("{at}: {e}"))?.bytes;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        format!("{shown}: not UTF-8 (byte {at})")
    })?;
    super::GroupRules::parse(&text, &shown)
}
