//! Name fields and the rules for private, daemon and group names.

use crate::consts::{
    MAX_GROUP_NAME, MAX_PRIVATE_NAME, MAX_PROC_NAME, NAME_CHAR_MAX, NAME_CHAR_MIN,
};
use crate::error::{Error, Result};
use std::fmt;

/// One 32-byte name field as it travels on the wire.
///
/// The bytes are kept verbatim (the daemon forwards destination fields byte
/// for byte, garbage after the NUL included); every comparison and every
/// rendering looks only at the bytes before the first NUL.
#[derive(Clone, Copy)]
pub struct GroupName(
    /// The field's bytes, verbatim.
    pub [u8; MAX_GROUP_NAME],
);

impl GroupName {
    /// The all-NUL field: no name.
    pub const EMPTY: GroupName = GroupName([0; MAX_GROUP_NAME]);

    /// A field holding `name` NUL-padded; names of 32 bytes or more are cut
    /// to 31 so that the field always ends in a NUL.
    pub fn new(name: &[u8]) -> GroupName {
        let mut field = [0u8; MAX_GROUP_NAME];
        let n = name.len().min(MAX_GROUP_NAME - 1);
        field[..n].copy_from_slice(&name[..n]);
        GroupName(field)
    }

    /// A field taken verbatim from the wire: the first 32 bytes of `bytes`,
    /// NUL-padded if there are fewer.
    pub fn from_field(bytes: &[u8]) -> GroupName {
        let mut field = [0u8; MAX_GROUP_NAME];
        let n = bytes.len().min(MAX_GROUP_NAME);
        field[..n].copy_from_slice(&bytes[..n]);
        GroupName(field)
    }

    /// The name: the bytes before the first NUL (all 32 if there is none).
    pub fn as_bytes(&self) -> &[u8] {
        let end = self
            .0
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(MAX_GROUP_NAME);
        &self.0[..end]
    }

    /// The name as text (lossy for bytes that are not UTF-8).
    pub fn to_string_lossy(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }

    /// The name has no bytes (the field starts with a NUL).
    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    /// A private group name (`#priv#daemon`) rather than a group.
    pub fn is_private(&self) -> bool {
        self.0[0] == b'#'
    }

    /// The same name with byte 31 forced to NUL and everything after the
    /// first NUL cleared: the canonical form used as a map key.
    pub fn canonical(&self) -> GroupName {
        let n = self.as_bytes().len().min(MAX_GROUP_NAME - 1);
        GroupName::new(&self.0[..n])
    }
}

impl PartialEq for GroupName {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
impl Eq for GroupName {}

impl std::hash::Hash for GroupName {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state)
    }
}

impl PartialOrd for GroupName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for GroupName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string_lossy())
    }
}

impl fmt::Display for GroupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl From<&str> for GroupName {
    fn from(s: &str) -> Self {
        GroupName::new(s.as_bytes())
    }
}

fn legal_chars(name: &[u8]) -> bool {
    name.iter()
        .all(|&b| (NAME_CHAR_MIN..=NAME_CHAR_MAX).contains(&b))
}

/// Checks a group name a client may join or leave: 1..=31 bytes, each in
/// `$`..`~` (so it cannot start with `#`), as 5.0.1's `SP_join` and
/// `SP_leave` check.
///
/// # Errors
///
/// [`Error::IllegalGroup`] naming the rule broken.
pub fn check_group_name(name: &[u8]) -> Result<()> {
    if name.is_empty() {
        return Err(Error::IllegalGroup("empty group name".into()));
    }
    if name.len() >= MAX_GROUP_NAME {
        return Err(Error::IllegalGroup(format!(
            "group name of {} bytes (at most {})",
            name.len(),
            MAX_GROUP_NAME - 1
        )));
    }
    if !legal_chars(name) {
        return Err(Error::IllegalGroup(format!(
            "{:?} has a byte outside '$'..'~'",
            String::from_utf8_lossy(name)
        )));
    }
    Ok(())
}

/// A private name the daemon accepts: 0..=10 bytes in `$`..`~` (none = the
/// daemon picks one). A daemon refuses others with `REJECT_ILLEGAL_NAME`.
pub fn is_legal_private_name(name: &[u8]) -> bool {
    name.len() <= MAX_PRIVATE_NAME && legal_chars(name)
}

/// A legal daemon name: 1..=19 bytes in `$`..`~`.
pub fn is_legal_daemon_name(name: &[u8]) -> bool {
    !name.is_empty() && name.len() < MAX_PROC_NAME && legal_chars(name)
}

/// The private group name `#private#daemon` that a daemon gives a session,
/// cut to 31 bytes as 5.0.1 does.
pub fn private_group_name(private_name: &[u8], daemon_name: &[u8]) -> GroupName {
    let mut v = Vec::with_capacity(2 + private_name.len() + daemon_name.len());
    v.push(b'#');
    v.extend_from_slice(private_name);
    v.push(b'#');
    v.extend_from_slice(daemon_name);
    GroupName::new(&v)
}

/// Splits `#private#daemon` into its parts, if it has that shape with legal
/// parts of legal lengths.
pub fn split_private_group(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = name.strip_prefix(b"#")?;
    let sep = rest.iter().position(|&b| b == b'#')?;
    let (private, daemon) = (&rest[..sep], &rest[sep + 1..]);
    let ok = !private.is_empty() && is_legal_private_name(private) && is_legal_daemon_name(daemon);
    ok.then_some((private, daemon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_up_to_the_nul() {
        let mut a = [0u8; 32];
        a[..4].copy_from_slice(b"vgrp");
        a[10] = 0x55; // garbage after the NUL
        assert_eq!(GroupName(a), GroupName::from("vgrp"));
        assert_eq!(GroupName(a).canonical().0, GroupName::from("vgrp").0);
    }

    #[test]
    fn a_full_field_without_nul_is_all_32_bytes() {
        let g = GroupName([b'a'; 32]);
        assert_eq!(g.as_bytes().len(), 32);
        assert_eq!(g.canonical().as_bytes().len(), 31);
    }

    #[test]
    fn group_name_rules() {
        assert!(check_group_name(b"ok$~").is_ok());
        assert!(check_group_name(b"").is_err());
        assert!(check_group_name(b"has space").is_err());
        assert!(check_group_name(b"#hash").is_err());
        assert!(check_group_name(&[b'a'; 31]).is_ok());
        assert!(check_group_name(&[b'a'; 32]).is_err());
        assert_eq!(check_group_name("é".as_bytes()).unwrap_err().code(), -14);
    }

    #[test]
    fn private_group_names() {
        let g = private_group_name(b"vecA", b"localhost");
        assert_eq!(g.as_bytes(), b"#vecA#localhost");
        assert_eq!(
            split_private_group(g.as_bytes()),
            Some((&b"vecA"[..], &b"localhost"[..]))
        );
        assert_eq!(split_private_group(b"#a#"), None);
        assert_eq!(split_private_group(b"##d"), None);
        assert_eq!(split_private_group(b"plain"), None);
        let long = private_group_name(b"0123456789", b"abcdefghijklmnopqrs");
        assert_eq!(long.as_bytes().len(), 31);
    }
}
