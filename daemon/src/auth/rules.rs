//! Group access rules (`GroupAccessFile`): who may join and who may send
//! to which groups. One rule a line:
//!
//! ```text
//! # verdict  actions    groups          who
//! allow      join,send  chat,ops.*      user:alice group:wheel
//! allow      send       news            net:10.0.0.0/8
//! deny       join,send  chat,ops.*      any
//! ```
//!
//! The first rule whose action, group and one of whose subjects match
//! decides; a join or send no rule matches is allowed (so a file of
//! `allow` lines restricts nothing until a `deny` follows them). Groups
//! are exact names, `prefix*` or `*` (private groups, the targets of
//! unicasts, are named `#user#daemon`: `#*` matches them all). Subjects:
//! `any`; `unix` (any client on the Unix socket); `user:NAME|UID` and
//! `group:NAME|GID` (the kernel's credentials of a Unix-socket client:
//! its uid, its primary gid or a group listing it); `net:ADDR[/LEN]`
//! (IPv4 or IPv6, a TCP client's address); `secret:ID` (a client that
//! passed SECRET as identity ID); `cert:NAME` (a TLS client whose
//! certificate, verified against `TlsClientCAFile`, has common name NAME).

use super::users::{group_of, uid_of, Group};
use super::{Peer, Who};
use spread_core::wire::secret::is_valid_identity;
use std::net::IpAddr;

/// What a client asks to do with a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Join,
    Send,
}

/// The `action` labels of the refusal counters, in [`Action::index`] order.
pub const ACTIONS: [&str; 2] = ["join", "send"];

impl Action {
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        ACTIONS[self.index()]
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(Vec<u8>),
    /// `prefix*`; `*` is the empty prefix.
    Prefix(Vec<u8>),
}

impl Pattern {
    fn matches(&self, group: &[u8]) -> bool {
        match self {
            Pattern::Exact(g) => g == group,
            Pattern::Prefix(p) => group.starts_with(p),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Subject {
    Any,
    Unix,
    User(u32),
    Group(Group),
    Net { addr: IpAddr, len: u8 },
    Secret(String),
    Cert(String),
}

impl Subject {
    fn matches(&self, who: &Who) -> bool {
        match self {
            Subject::Any => true,
            Subject::Unix => who.peer == Peer::Unix,
            Subject::User(uid) => who.creds.is_some_and(|c| c.uid == *uid),
            Subject::Group(g) => who.creds.is_some_and(|c| g.contains(&c)),
            Subject::Secret(id) => who.secret.as_deref() == Some(id.as_str()),
            Subject::Cert(name) => who.cert.as_deref() == Some(name.as_str()),
            Subject::Net { addr, len } => match who.peer {
                Peer::Ip(ip) => in_net(ip.to_canonical(), *addr, *len),
                Peer::Unix => false,
            },
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    line: usize,
    allow: bool,
    join: bool,
    send: bool,
    groups: Vec<Pattern>,
    who: Vec<Subject>,
}

/// A refusal: the rule (its line) that denied it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    pub at: String,
}

/// The rules of one file; none: everything is allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupRules {
    rules: Vec<Rule>,
    file: String,
}

impl GroupRules {
    /// Parses `text` (from `file`, for messages); names are resolved now.
    /// The first bad line is the error, as `file:line: what`.
    pub fn parse(text: &str, file: &str) -> Result<GroupRules, String> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let rule = parse_rule(content, line).map_err(|e| format!("{file}:{line}: {e}"))?;
            rules.push(rule);
        }
        Ok(GroupRules {
            rules,
            file: file.to_string(),
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// May `who` do `action` with `group` (its name, without padding)?
    pub fn check(&self, action: Action, group: &[u8], who: &Who) -> Result<(), Denied> {
        let first = self.rules.iter().find(|r| {
            (match action {
                Action::Join => r.join,
                Action::Send => r.send,
            }) && r.groups.iter().any(|p| p.matches(group))
                && r.who.iter().any(|s| s.matches(who))
        });
        match first {
            Some(r) if !r.allow => Err(Denied {
                at: format!("{}:{}", self.file, r.line),
            }),
            _ => Ok(()),
        }
    }
}

fn parse_rule(content: &str, line: usize) -> Result<Rule, String> {
    let mut words = content.split_whitespace();
    let usage = "a rule is: allow|deny join|send|join,send GROUP[,GROUP...] WHO...";
    let (Some(verdict), Some(actions), Some(groups)) = (words.next(), words.next(), words.next())
    else {
        return Err(usage.into());
    };
    let allow = match verdict {
        "allow" => true,
        "deny" => false,
        v => return Err(format!("'{v}' is not allow or deny ({usage})")),
    };
    let (mut join, mut send) = (false, false);
    for a in actions.split(',') {
        match a {
            "join" => join = true,
            "send" => send = true,
            _ => return Err(format!("'{a}' is not an action (join, send)")),
        }
    }
    let groups = groups
        .split(',')
        .map(|g| {
            if g.is_empty() {
                return Err("an empty group name".to_string());
            }
            let (name, prefix) = match g.strip_suffix('*') {
                Some(p) => (p, true),
                None => (g, false),
            };
            if name.contains('*') {
                return Err(format!("'{g}': '*' may only end a group pattern"));
            }
            if name.len() >= spread_core::consts::MAX_GROUP_NAME {
                return Err(format!(
                    "group '{g}' is longer than a group name (31 bytes)"
                ));
            }
            let name = name.as_bytes().to_vec();
            Ok(if prefix {
                Pattern::Prefix(name)
            } else {
                Pattern::Exact(name)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let who = words.map(subject).collect::<Result<Vec<_>, _>>()?;
    if who.is_empty() {
        return Err(format!("the rule names no one ({usage})"));
    }
    Ok(Rule {
        line,
        allow,
        join,
        send,
        groups,
        who,
    })
}

fn subject(word: &str) -> Result<Subject, String> {
    match word {
        "any" => return Ok(Subject::Any),
        "unix" => return Ok(Subject::Unix),
        _ => {}
    }
    let Some((kind, value)) = word.split_once(':') else {
        return Err(format!(
            "'{word}' is not a subject (any, unix, user:, group:, net:, secret:, cert:)"
        ));
    };
    match kind {
        "user" => uid_of(value).map(Subject::User),
        "secret" if is_valid_identity(value.as_bytes()) => Ok(Subject::Secret(value.into())),
        "secret" => Err(format!("'{value}' is not a SECRET identity")),
        "cert" if !value.is_empty() => Ok(Subject::Cert(value.into())),
        "cert" => Err("'cert:' needs a certificate's common name".into()),
        "group" => group_of(value).map(Subject::Group),
        "net" => {
            let (a, len) = match value.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (value, None),
            };
            let addr: IpAddr = a
                .parse()
                .map_err(|_| format!("'{a}' is not an IPv4 or IPv6 address"))?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let len = match len {
                None => max,
                Some(l) => match l.parse::<u8>() {
                    Ok(n) if n <= max => n,
                    _ => return Err(format!("'/{l}' is not a prefix length of {a} (0-{max})")),
                },
            };
            Ok(Subject::Net {
                addr: addr.to_canonical(),
                len,
            })
        }
        _ => Err(format!(
            "'{kind}:' is not a kind of subject (user:, group:, net:, secret:, cert:)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Creds;

    fn unix(uid: u32, gid: u32) -> Who {
        Who {
            peer: Peer::Unix,
            creds: Some(Creds { uid, gid, pid: 1 }),
            secret: None,
            cert: None,
        }
    }

    fn alice_tcp() -> Who {
        Who::tcp("192.0.2.7".parse().unwrap())
    }

    const RULES: &str = "\
# who may do what
allow join,send chat,ops.*  user:1000 group:50
allow send      news        net:10.0.0.0/8 net:::1
deny  join,send chat,ops.*  any   # everyone else
deny  send      news        any
allow join      *           unix
allow send      backups     secret:backup cert:backup.example
deny  send      backups     any
";

    #[test]
    fn first_match_decides_and_unmatched_is_allowed() {
        let r = GroupRules::parse(RULES, "g.acl").unwrap();
        assert_eq!(r.len(), 7);
        let backup = Who {
            secret: Some("backup".into()),
            ..Who::tcp("192.0.2.1".parse().unwrap())
        };
        assert!(r.check(Action::Send, b"backups", &backup).is_ok());
        assert!(r.check(Action::Send, b"backups", &alice_tcp()).is_err());
        let by_cert = |name: &str| Who {
            cert: Some(name.into()),
            ..Who::tcp("192.0.2.1".parse().unwrap())
        };
        assert!(r
            .check(Action::Send, b"backups", &by_cert("backup.example"))
            .is_ok());
        assert!(r
            .check(Action::Send, b"backups", &by_cert("backup"))
            .is_err());
        let alice = unix(1000, 1);
        let staff = unix(7, 50);
        let other = unix(7, 7);
        let lan = Who::tcp("10.1.2.3".parse().unwrap());
        let wan = Who::tcp("192.0.2.1".parse().unwrap());
        let v6 = Who::tcp("::1".parse().unwrap());
        for who in [&alice, &staff] {
            assert!(r.check(Action::Join, b"chat", who).is_ok());
            assert!(r.check(Action::Send, b"ops.db", who).is_ok());
        }
        let e = r.check(Action::Join, b"ops.db", &other).unwrap_err();
        assert_eq!(e.at, "g.acl:4");
        assert!(r.check(Action::Send, b"chat", &lan).is_err());
        assert!(r.check(Action::Join, b"opsx", &other).is_ok(), "no rule");
        assert!(
            r.check(Action::Join, b"ops", &other).is_ok(),
            "ops.* is not ops"
        );
        assert!(r.check(Action::Send, b"news", &lan).is_ok());
        assert!(r.check(Action::Send, b"news", &v6).is_ok());
        assert_eq!(
            r.check(Action::Send, b"news", &wan).unwrap_err().at,
            "g.acl:5"
        );
        assert!(r.check(Action::Join, b"news", &wan).is_ok());
        assert!(GroupRules::default()
            .check(Action::Send, b"x", &wan)
            .is_ok());
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        for (text, want) in [
            ("allow join chat\n", "f:1: the rule names no one"),
            (
                "\n\npermit join chat any\n",
                "f:3: 'permit' is not allow or deny",
            ),
            ("allow leave chat any\n", "f:1: 'leave' is not an action"),
            ("allow join c*t any\n", "f:1: 'c*t': '*' may only end"),
            ("allow join chat,,x any\n", "f:1: an empty group name"),
            (
                "allow join chat user:no-such-user-q\n",
                "f:1: no user named",
            ),
            (
                "allow join chat net:10.0.0.0/33\n",
                "f:1: '/33' is not a prefix length",
            ),
            (
                "allow join chat net:10.0.0\n",
                "f:1: '10.0.0' is not an IPv4",
            ),
            (
                "allow join chat cert:\n",
                "f:1: 'cert:' needs a certificate's common name",
            ),
            (
                "allow join chat tls:x\n",
                "f:1: 'tls:' is not a kind of subject",
            ),
            ("allow join chat bob\n", "f:1: 'bob' is not a subject"),
            (
                "allow join abcdefghijabcdefghijabcdefghij12 any\n",
                "f:1: group 'abcdefghijabcdefghijabcdefghij12' is longer",
            ),
        ] {
            let e = GroupRules::parse(text, "f").unwrap_err();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }
}
