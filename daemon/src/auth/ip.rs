//! The IP method's rules (`spread.access_ip`, 5.0.1's format).

use super::Peer;
use std::net::IpAddr;
use std::path::Path;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Net { addr: u32, prefix: u8 },
    Local,
    Unix,
}

/// The IP method's rules, read at start-up.
#[derive(Clone, Debug, Default)]
pub struct IpRules {
    rules: Vec<Rule>,
}

impl IpRules {
    /// Parses an access file; bad lines are returned as `line: text` warnings.
    pub fn parse(text: &str) -> (IpRules, Vec<String>) {
        let mut rules = Vec::new();
        let mut warnings = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("local") {
                rules.push(Rule::Local);
            } else if line.starts_with("unix") {
                rules.push(Rule::Unix);
            } else {
                let (a, p) = line.split_once('/').unwrap_or((line, "32"));
                match (
                    a.trim().parse::<std::net::Ipv4Addr>(),
                    p.trim().parse::<u8>(),
                ) {
                    (Ok(a), Ok(p)) if p <= 32 => rules.push(Rule::Net {
                        addr: u32::from(a),
                        prefix: p,
                    }),
                    _ => warnings.push(format!("{}: not an address rule: {line:?}", i + 1)),
                }
            }
        }
        (IpRules { rules }, warnings)
    }

    /// Reads `spread.access_ip` in the working directory, else
    /// `/etc/spread.access_ip`; no file means no IP check passes.
    pub fn load_default() -> (IpRules, Option<String>, Vec<String>) {
        for path in ["spread.access_ip", "/etc/spread.access_ip"] {
            if let Ok(text) = std::fs::read_to_string(Path::new(path)) {
                let (rules, warnings) = IpRules::parse(&text);
                return (rules, Some(path.to_string()), warnings);
            }
        }
        (IpRules::default(), None, Vec::new())
    }

    pub fn allows(&self, peer: Peer) -> bool {
        let v4 = match peer {
            Peer::Unix => {
                return self
                    .rules
                    .iter()
                    .any(|r| matches!(r, Rule::Unix | Rule::Local))
            }
            Peer::Ip(IpAddr::V4(a)) => a,
            Peer::Ip(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(a) => a,
                None => return a.is_loopback() && self.rules.contains(&Rule::Local),
            },
        };
        let a = u32::from(v4);
        self.rules.iter().any(|r| match *r {
            Rule::Local => v4.is_loopback(),
            Rule::Unix => false,
            Rule::Net { addr, prefix } => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                a & mask == addr & mask
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_rules() {
        let (rules, warnings) = IpRules::parse("# c\n192.168.1.0/24\n10.0.0.7\nlocal\nbogus\n");
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("5:"));
        let ok = |a: &str| rules.allows(Peer::Ip(a.parse().unwrap()));
        assert!(
            ok("192.168.1.77")
                && ok("10.0.0.7")
                && ok("127.0.0.2")
                && ok("::1")
                && ok("::ffff:10.0.0.7")
        );
        assert!(!ok("192.168.2.1") && !ok("10.0.0.8"));
        assert!(
            rules.allows(Peer::Unix),
            "a local peer passes with the local rule"
        );
        assert!(!IpRules::default().allows(Peer::Unix));
        let (unix_only, _) = IpRules::parse("unix\n");
        assert!(
            unix_only.allows(Peer::Unix)
                && !unix_only.allows(Peer::Ip("127.0.0.1".parse().unwrap()))
        );
    }
}
