//! Users and groups named in the configuration and in the group access
//! rules, resolved to ids when they are read (at start and on reload), so
//! that no lookup runs while clients connect.

use std::ffi::{CStr, CString};

/// What the kernel says about the process at the other end of a Unix
/// socket (SO_PEERCRED).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Creds {
    pub uid: u32,
    pub gid: u32,
    pub pid: i32,
}

impl std::fmt::Display for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "uid {} gid {} pid {}", self.uid, self.gid, self.pid)
    }
}

/// A group: its id and the users listed as its members (their primary
/// group is matched through [`Creds::gid`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub gid: u32,
    pub members: Vec<u32>,
}

impl Group {
    pub fn contains(&self, c: &Creds) -> bool {
        c.gid == self.gid || self.members.contains(&c.uid)
    }
}

/// A user name or a number.
pub fn uid_of(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(n);
    }
    let c = CString::new(name).map_err(|_| format!("user name {name:?} holds a NUL byte"))?;
    // SAFETY: `c` is a C string; the result is NULL or points to a static
    // record that is read at once, before any other lookup (names are only
    // resolved by the thread reading the configuration).
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return Err(format!("no user named '{name}' on this host"));
    }
    // SAFETY: not NULL, as checked.
    Ok(unsafe { (*pw).pw_uid })
}

/// A group name or a number, with its listed members.
pub fn group_of(name: &str) -> Result<Group, String> {
    let gr = match name.parse::<u32>() {
        // SAFETY: as getgrnam below; a gid no group has gives NULL.
        Ok(gid) => unsafe { libc::getgrgid(gid) },
        Err(_) => {
            let c =
                CString::new(name).map_err(|_| format!("group name {name:?} holds a NUL byte"))?;
            // SAFETY: `c` is a C string; the static record is read at once.
            unsafe { libc::getgrnam(c.as_ptr()) }
        }
    };
    if gr.is_null() {
        return match name.parse::<u32>() {
            Ok(gid) => Ok(Group {
                gid,
                members: Vec::new(),
            }),
            Err(_) => Err(format!("no group named '{name}' on this host")),
        };
    }
    // SAFETY: not NULL; gr_mem is a NULL-terminated array of C strings.
    let (gid, names) = unsafe {
        let mut names = Vec::new();
        let mut p = (*gr).gr_mem;
        while !p.is_null() && !(*p).is_null() {
            names.push(CStr::from_ptr(*p).to_string_lossy().into_owned());
            p = p.add(1);
        }
        ((*gr).gr_gid, names)
    };
    // Members that are not users (stale entries) are passed over.
    let members = names.iter().filter_map(|n| uid_of(n).ok()).collect();
    Ok(Group { gid, members })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        assert_eq!(uid_of("1234"), Ok(1234));
        assert_eq!(uid_of("root"), Ok(0));
        assert!(uid_of("no-such-user-here")
            .unwrap_err()
            .contains("no user named"));
        assert_eq!(group_of("root").unwrap().gid, 0);
        assert_eq!(group_of("54321").unwrap().gid, 54321);
        assert!(group_of("no-such-group-here").is_err());
        let g = Group {
            gid: 7,
            members: vec![1000],
        };
        let c = |uid, gid| Creds { uid, gid, pid: 1 };
        assert!(g.contains(&c(5, 7)) && g.contains(&c(1000, 1)) && !g.contains(&c(5, 1)));
    }
}
