//! The PEERCRED method: a client on the Unix socket passes if the kernel
//! says its process runs as a user of `AllowUsers` or in a group of
//! `AllowGroups`. No byte crosses the wire for it.

use super::users::{group_of, uid_of, Creds, Group};
use crate::config::Config;

/// Who PEERCRED lets in, resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    users: Vec<u32>,
    groups: Vec<Group>,
}

impl AllowList {
    /// Resolves `AllowUsers` and `AllowGroups`; an unknown name is an
    /// error naming its `file:line`.
    pub fn resolve(config: &Config) -> Result<AllowList, String> {
        let access = &config.client_access;
        let at = |line| format!("{}:{line}", config.source);
        let users = (access.allow_users.iter())
            .map(|w| uid_of(&w.value).map_err(|e| format!("{}: AllowUsers: {e}", at(w.line))))
            .collect::<Result<_, _>>()?;
        let groups = (access.allow_groups.iter())
            .map(|w| group_of(&w.value).map_err(|e| format!("{}: AllowGroups: {e}", at(w.line))))
            .collect::<Result<_, _>>()?;
        Ok(AllowList { users, groups })
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }

    pub fn allows(&self, c: &Creds) -> bool {
        self.users.contains(&c.uid) || self.groups.iter().any(|g| g.contains(c))
    }

    #[cfg(test)]
    pub fn of(users: Vec<u32>, groups: Vec<Group>) -> AllowList {
        AllowList { users, groups }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_with_lines() {
        let base = "Spread_Segment 225.1.1.1:4803 {\n a 10.0.0.1\n}\n";
        let parse = |extra: &str| Config::parse(&format!("{base}{extra}"), "s.conf").unwrap();
        let ok =
            AllowList::resolve(&parse("AllowUsers = \"root 4321\"\nAllowGroups = 99\n")).unwrap();
        assert_eq!(ok.users, [0, 4321]);
        let c = |uid, gid| Creds { uid, gid, pid: 1 };
        assert!(ok.allows(&c(4321, 5)) && ok.allows(&c(5, 99)) && !ok.allows(&c(5, 5)));
        let e = AllowList::resolve(&parse("\nAllowUsers = \"root nobody-here-x\"\n")).unwrap_err();
        assert_eq!(
            e,
            "s.conf:5: AllowUsers: no user named 'nobody-here-x' on this host"
        );
        let e = AllowList::resolve(&parse("AllowGroups = no-group-here-x\n")).unwrap_err();
        assert!(
            e.starts_with("s.conf:4: AllowGroups: no group named"),
            "{e}"
        );
        assert!(AllowList::resolve(&parse("")).unwrap().is_empty());
    }
}
