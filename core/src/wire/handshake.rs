//! The connection handshake: connect message, auth list, auth choice, accept.

use crate::consts::*;
use crate::name::GroupName;

/// A version as `major*10000 + minor*100 + patch`, the form 5.0.1 compares.
pub fn version_number(major: u8, minor: u8, patch: u8) -> u32 {
    major as u32 * 10000 + minor as u32 * 100 + patch as u32
}

/// Clients at or above 3.15 send (and get) a patch byte.
pub fn has_patch_byte(major: u8, minor: u8) -> bool {
    version_number(major, minor, 0) > 31400
}

/// Clients at or above 3.16.0 run the auth exchange.
pub const AUTH_EXCHANGE_VERSION: u32 = 31600;
/// Clients below 3.1.0 are refused.
pub const OLDEST_CLIENT_VERSION: u32 = 30100;

/// The first thing a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectMessage {
    /// The client library's major version.
    pub major: u8,
    /// Its minor version.
    pub minor: u8,
    /// Its patch version; sent only from 3.15 on ([`has_patch_byte`]).
    pub patch: u8,
    /// The client wants membership messages (`SP_connect`'s
    /// `group_membership`).
    pub membership: bool,
    /// `SP_connect`'s priority; only "≥ 1 or not" reaches the wire.
    pub priority: i32,
    /// The private name; at most 10 bytes are sent.
    pub name: Vec<u8>,
}

impl ConnectMessage {
    /// What 5.0.1's libspread sends: version 5.0.1, `name` cut to 10 bytes.
    pub fn libspread(name: &[u8], membership: bool, priority: i32) -> ConnectMessage {
        ConnectMessage {
            major: SP_MAJOR_VERSION,
            minor: SP_MINOR_VERSION,
            patch: SP_PATCH_VERSION,
            membership,
            priority,
            name: name[..name.len().min(MAX_PRIVATE_NAME)].to_vec(),
        }
    }

    /// The version as [`version_number`] gives it.
    pub fn version(&self) -> u32 {
        version_number(self.major, self.minor, self.patch)
    }

    /// The flags byte: bit 0 membership, bit 4 priority ≥ 1.
    pub fn flags(&self) -> u8 {
        let mut f = u8::from(self.membership);
        if self.priority >= 1 {
            f |= 0x10;
        }
        f
    }

    /// The bytes on the wire: major, minor, (patch), flags, name length,
    /// name (cut to 10 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let name = &self.name[..self.name.len().min(MAX_PRIVATE_NAME)];
        let mut out = vec![self.major, self.minor];
        if has_patch_byte(self.major, self.minor) {
            out.push(self.patch);
        }
        out.push(self.flags());
        out.push(name.len() as u8);
        out.extend_from_slice(name);
        out
    }
}

/// What a daemon makes of the bytes it has of a connect message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectParse {
    /// More bytes are needed.
    Incomplete,
    /// A whole message of `len` bytes.
    Complete(ConnectMessage, usize),
    /// The name length byte is above 10 (or ≥ 0x80): `REJECT_ILLEGAL_NAME`.
    IllegalNameLength,
}

/// Parses a connect message from the start of `buf`, whatever the split.
pub fn parse_connect(buf: &[u8]) -> ConnectParse {
    if buf.len() < 2 {
        return ConnectParse::Incomplete;
    }
    let (major, minor) = (buf[0], buf[1]);
    let mut at = 2;
    let patch = if has_patch_byte(major, minor) {
        let Some(&p) = buf.get(at) else {
            return ConnectParse::Incomplete;
        };
        at += 1;
        p
    } else {
        0
    };
    let (Some(&flags), Some(&len)) = (buf.get(at), buf.get(at + 1)) else {
        return ConnectParse::Incomplete;
    };
    at += 2;
    let len = len as usize;
    if len > MAX_PRIVATE_NAME {
        return ConnectParse::IllegalNameLength;
    }
    if buf.len() < at + len {
        return ConnectParse::Incomplete;
    }
    ConnectParse::Complete(
        ConnectMessage {
            major,
            minor,
            patch,
            membership: flags % 2 == 1,
            priority: i32::from(flags / 16),
            name: buf[at..at + len].to_vec(),
        },
        at + len,
    )
}

/// The daemon's list of enabled auth methods: a length byte, then each name
/// followed by a space; the text is cut to 90 bytes.
pub fn encode_auth_list(methods: &[&str]) -> Vec<u8> {
    let mut text = String::new();
    for m in methods {
        text.push_str(m);
        text.push(' ');
    }
    let mut out = Vec::with_capacity(text.len() + 1);
    out.push(text.len().min(AUTH_CHOICE_LEN) as u8);
    out.extend_from_slice(&text.as_bytes()[..text.len().min(AUTH_CHOICE_LEN)]);
    out
}

/// The auth-list word by which a daemon of ours offers messages of up to
/// `max_body` bytes ([`LARGE_MESSAGES_WORD`]).
pub fn large_messages_word(max_body: usize) -> String {
    format!("{LARGE_MESSAGES_WORD}{max_body}")
}

/// The word of an auth list that offers large messages, and its size.
pub fn offered_large_messages(offered: &[String]) -> Option<(&str, usize)> {
    offered.iter().find_map(|w| {
        let n = w.strip_prefix(LARGE_MESSAGES_WORD)?.parse().ok()?;
        Some((w.as_str(), n))
    })
}

/// The names in an auth list's text.
pub fn parse_auth_list(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(text)
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The client's 90-byte choice: up to three NUL-padded 30-byte slots.
pub fn encode_auth_choice(methods: &[&str]) -> [u8; AUTH_CHOICE_LEN] {
    let mut out = [0u8; AUTH_CHOICE_LEN];
    for (i, m) in methods.iter().take(MAX_AUTH_METHODS).enumerate() {
        let b = m.as_bytes();
        let n = b.len().min(MAX_AUTH_NAME - 1);
        out[i * MAX_AUTH_NAME..i * MAX_AUTH_NAME + n].copy_from_slice(&b[..n]);
    }
    out
}

/// The methods of a choice, up to the first slot that starts with a zero.
pub fn parse_auth_choice(choice: &[u8; AUTH_CHOICE_LEN]) -> Vec<Vec<u8>> {
    choice
        .chunks(MAX_AUTH_NAME)
        .take_while(|slot| slot[0] != 0)
        .map(|slot| {
            let end = slot.iter().position(|&b| b == 0).unwrap_or(slot.len());
            slot[..end].to_vec()
        })
        .collect()
}

/// The daemon's accept message: [`ACCEPT_SESSION`], its version (the patch
/// byte only for a client that sent one), then the private group name with
/// its length byte.
pub fn encode_accept(client_has_patch: bool, private_group: &GroupName) -> Vec<u8> {
    let name = private_group.as_bytes();
    let mut out = vec![ACCEPT_SESSION as u8, SP_MAJOR_VERSION, SP_MINOR_VERSION];
    if client_has_patch {
        out.push(SP_PATCH_VERSION);
    }
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out
}

/// A negative code as the one signed byte the handshake carries.
pub fn code_byte(code: i32) -> u8 {
    code as i8 as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libspread_connect_bytes() {
        let m = ConnectMessage::libspread(b"vecA", true, 0);
        assert_eq!(m.encode(), [5, 0, 1, 1, 4, b'v', b'e', b'c', b'A']);
        assert_eq!(parse_connect(&m.encode()), ConnectParse::Complete(m, 9));
    }

    #[test]
    fn old_versions_have_no_patch_byte() {
        let m = ConnectMessage {
            major: 3,
            minor: 14,
            patch: 0,
            membership: true,
            priority: 1,
            name: b"x".to_vec(),
        };
        assert_eq!(m.encode(), [3, 14, 0x11, 1, b'x']);
        assert!(has_patch_byte(3, 15));
    }

    #[test]
    fn splits_and_bad_lengths() {
        let full = ConnectMessage::libspread(b"abc", false, 2).encode();
        for cut in 0..full.len() {
            assert_eq!(
                parse_connect(&full[..cut]),
                ConnectParse::Incomplete,
                "cut {cut}"
            );
        }
        assert_eq!(
            parse_connect(&[5, 0, 1, 1, 11]),
            ConnectParse::IllegalNameLength
        );
        assert_eq!(
            parse_connect(&[5, 0, 1, 1, 0x80]),
            ConnectParse::IllegalNameLength
        );
    }

    #[test]
    fn auth_choice_round_trip() {
        let c = encode_auth_choice(&["IP", "NULL"]);
        assert_eq!(&c[0..3], b"IP\0");
        assert_eq!(&c[30..35], b"NULL\0");
        assert_eq!(
            parse_auth_choice(&c),
            vec![b"IP".to_vec(), b"NULL".to_vec()]
        );
        assert!(parse_auth_choice(&[0; 90]).is_empty());
        assert_eq!(encode_auth_list(&["NULL", "IP"]), b"\x08NULL IP ");
        assert_eq!(parse_auth_list(b"NULL IP "), vec!["NULL", "IP"]);
        let list = encode_auth_list(&["NULL", &large_messages_word(16 << 20)]);
        assert_eq!(list, b"\x1dNULL MaxMessageSize=16777216 ");
        let offered = parse_auth_list(&list[1..]);
        assert_eq!(
            offered_large_messages(&offered),
            Some(("MaxMessageSize=16777216", 16 << 20))
        );
        assert_eq!(offered_large_messages(&parse_auth_list(b"NULL IP ")), None);
    }

    #[test]
    fn accept_bytes() {
        let g = GroupName::from("#vecA#localhost");
        assert_eq!(encode_accept(true, &g)[..5], [1, 5, 0, 1, 15]);
        assert_eq!(encode_accept(false, &g)[..4], [1, 5, 0, 15]);
        assert_eq!(code_byte(REJECT_AUTH), 0xf7);
    }
}
