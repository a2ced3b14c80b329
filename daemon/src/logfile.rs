//! `EventLogFile`: the daemon's stdout and stderr go to a file, appended
//! to, as with 5.0.1; SIGHUP reopens it by name so that logrotate can move
//! it away. The file is reopened through a descriptor of its directory,
//! which still works after the daemon chrooted.

use crate::config::Config;
use crate::sessions::socket_file::open_dir;
use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The log file the daemon writes to.
#[derive(Debug)]
pub struct LogFile {
    path: PathBuf,
    dir: OwnedFd,
    name: CString,
}

impl LogFile {
    /// Opens `EventLogFile` (`%h`/`%H` become the host name) and makes it
    /// the process's stdout and stderr; `None` when the option is not set.
    ///
    /// # Errors
    ///
    /// The file cannot be opened for appending, named with its `file:line`.
    pub fn open(config: &Config) -> Result<Option<LogFile>, String> {
        let Some(pattern) = config.event_log_file.as_deref() else {
            return Ok(None);
        };
        let path = PathBuf::from(expand_host_name(pattern, &host_name()));
        let fail = |e: io::Error| {
            format!(
                "{}: EventLogFile {}: {e}",
                config.where_set("EventLogFile"),
                path.display()
            )
        };
        let parent = crate::sessions::socket_file::dir_of(&path);
        let name = path
            .file_name()
            .ok_or_else(|| fail(io::Error::other("not a file name")))?;
        let log = LogFile {
            dir: open_dir(parent).map_err(fail)?,
            name: CString::new(name.as_bytes()).map_err(|e| fail(io::Error::other(e)))?,
            path: path.clone(),
        };
        log.reopen().map_err(fail)?;
        Ok(Some(log))
    }

    /// Opens the file by its name again (creating it if it was moved away)
    /// and points stdout and stderr at it.
    ///
    /// # Errors
    ///
    /// The file could not be opened; the old one is still written to.
    pub fn reopen(&self) -> io::Result<()> {
        // SAFETY: the descriptor is open and the name NUL-terminated; the
        // result is checked.
        let fd = unsafe {
            libc::openat(
                self.dir.as_raw_fd(),
                self.name.as_ptr(),
                libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
                0o644 as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a valid open descriptor; dup2 onto 1 and 2
        // replaces them atomically, and `fd` is closed after.
        unsafe {
            let ok = libc::dup2(fd, 1) >= 0 && libc::dup2(fd, 2) >= 0;
            let err = io::Error::last_os_error();
            libc::close(fd);
            if !ok {
                return Err(err);
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// 5.0.1 replaces `%h` and `%H` in the file name by the host name.
pub fn expand_host_name(pattern: &str, host: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' && matches!(chars.peek(), Some('h' | 'H')) {
            chars.next();
            out.push_str(host);
        } else {
            out.push(c);
        }
    }
    out
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for its length; the result is checked.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::expand_host_name;

    #[test]
    fn host_name_is_put_for_percent_h() {
        assert_eq!(
            expand_host_name("/var/log/spread-%h.log", "a"),
            "/var/log/spread-a.log"
        );
        assert_eq!(expand_host_name("%H%h%x%", "b"), "bb%x%");
    }
}
