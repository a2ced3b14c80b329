//! Started as root, the daemon gives up root once every socket and file it
//! needs is open, as 5.0.1 does: it chroots to `RuntimeDir` (default
//! `/var/run/spread`) and becomes `DaemonUser`/`DaemonGroup` (default
//! `spread`/`spread`); if a step fails it does not go on. Not root, it
//! warns and keeps its identity.

use crate::config::Config;
use std::ffi::CString;
use std::path::PathBuf;

/// 5.0.1's defaults (its build-time constants).
pub const DEFAULT_RUNTIME_DIR: &str = "/var/run/spread";
pub const DEFAULT_USER: &str = "spread";
pub const DEFAULT_GROUP: &str = "spread";

/// Whom the daemon becomes, resolved before it binds anything so that a
/// wrong name stops it at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub uid: u32,
    pub group: String,
    pub gid: u32,
    pub root_dir: PathBuf,
}

/// What giving up root means for this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Not root: nothing to give up.
    NotRoot,
    Drop(Target),
}

impl Plan {
    /// The plan for `config`: names and the directory are checked here.
    ///
    /// # Errors
    ///
    /// An unknown user or group, or a `RuntimeDir` that is not a
    /// directory, each named with its `file:line`.
    pub fn for_config(config: &Config) -> Result<Plan, String> {
        // SAFETY: geteuid cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(Plan::NotRoot);
        }
        let user = config.daemon_user.as_deref().unwrap_or(DEFAULT_USER);
        let group = config.daemon_group.as_deref().unwrap_or(DEFAULT_GROUP);
        let root_dir = config
            .runtime_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_RUNTIME_DIR));
        let uid = uid_of(user).map_err(|e| {
            format!(
                "{}: DaemonUser '{user}': {e} (running as root, the daemon switches to this user; create it or name another)",
                config.where_set("DaemonUser")
            )
        })?;
        let gid = gid_of(group).map_err(|e| {
            format!(
                "{}: DaemonGroup '{group}': {e} (running as root, the daemon switches to this group; create it or name another)",
                config.where_set("DaemonGroup")
            )
        })?;
        match std::fs::metadata(&root_dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(format!(
                "{}: RuntimeDir {}: not a directory (running as root, the daemon chroots to it)",
                config.where_set("RuntimeDir"),
                root_dir.display()
            ))
            }
            Err(e) => {
                return Err(format!(
                    "{}: RuntimeDir {}: {e} (running as root, the daemon chroots to it)",
                    config.where_set("RuntimeDir"),
                    root_dir.display()
                ))
            }
        }
        Ok(Plan::Drop(Target {
            user: user.to_string(),
            uid,
            group: group.to_string(),
            gid,
            root_dir,
        }))
    }

    /// The uid the daemon will run as.
    pub fn final_uid(&self) -> u32 {
        match self {
            // SAFETY: geteuid cannot fail.
            Plan::NotRoot => unsafe { libc::geteuid() },
            Plan::Drop(t) => t.uid,
        }
    }
}

/// Chroots to the target's directory and becomes its user and group (the
/// supplementary groups become that one group). Called once everything
/// the daemon needs is open.
///
/// # Errors
///
/// The step that failed; the daemon must not go on.
pub fn drop_to(t: &Target) -> Result<(), String> {
    let dir = CString::new(t.root_dir.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("RuntimeDir {}: contains NUL", t.root_dir.display()))?;
    let os = |what: &str| format!("{what}: {}", std::io::Error::last_os_error());
    // SAFETY: `dir` is NUL-terminated; each result is checked.
    unsafe {
        if libc::chdir(dir.as_ptr()) != 0 || libc::chroot(dir.as_ptr()) != 0 {
            return Err(os(&format!("chroot to {}", t.root_dir.display())));
        }
        if libc::chdir(c"/".as_ptr()) != 0 {
            return Err(os("chdir to / in the chroot"));
        }
        let groups = [t.gid as libc::gid_t];
        if libc::setgroups(1, groups.as_ptr()) != 0 {
            return Err(os(&format!("setgroups to {}", t.group)));
        }
        if libc::setgid(t.gid) != 0 {
            return Err(os(&format!("setgid to {} ({})", t.group, t.gid)));
        }
        if libc::setuid(t.uid) != 0 {
            return Err(os(&format!("setuid to {} ({})", t.user, t.uid)));
        }
        // A process that could become root again has not given it up.
        if t.uid != 0 && libc::setuid(0) == 0 {
            return Err("setuid: root could be regained after the switch".into());
        }
    }
    Ok(())
}

/// The uid of user `name`.
fn uid_of(name: &str) -> Result<u32, String> {
    let c = CString::new(name).map_err(|_| "contains NUL".to_string())?;
    let mut buf = vec![0u8; 16 * 1024];
    // SAFETY: an all-zero passwd is a valid value to be overwritten.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives it.
    let rc = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc).to_string());
    }
    if out.is_null() {
        return Err("no such user".into());
    }
    Ok(pwd.pw_uid)
}

/// The gid of group `name`.
fn gid_of(name: &str) -> Result<u32, String> {
    let c = CString::new(name).map_err(|_| "contains NUL".to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    // SAFETY: an all-zero group is a valid value to be overwritten.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives it.
    let rc = unsafe {
        libc::getgrnam_r(
            c.as_ptr(),
            &mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::from_raw_os_error(rc).to_string());
    }
    if out.is_null() {
        return Err("no such group".into());
    }
    Ok(grp.gr_gid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves_and_unknown_names_are_errors() {
        assert_eq!(uid_of("root"), Ok(0));
        assert_eq!(gid_of("root"), Ok(0));
        assert_eq!(
            uid_of("no-such-user-of-spread"),
            Err("no such user".to_string())
        );
        assert_eq!(
            gid_of("no-such-group-of-spread"),
            Err("no such group".to_string())
        );
    }
}
