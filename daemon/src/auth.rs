//! Client authentication: the NULL and IP methods, which are enabled, which
//! are required, and the IP access rules (`spread.access_ip`).

use std::net::IpAddr;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Null,
    Ip,
}

impl Method {
    /// Every method this daemon knows, in the order 5.0.1 registers them
    /// (the order of the auth list).
    pub const ALL: [Method; 2] = [Method::Null, Method::Ip];

    pub fn name(self) -> &'static str {
        match self {
            Method::Null => "NULL",
            Method::Ip => "IP",
        }
    }

    pub fn by_name(name: &[u8]) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().as_bytes() == name)
    }
}

/// Where a client connects from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    Ip(IpAddr),
    /// The Unix-domain socket: the peer is on this host.
    Unix,
}

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

/// Which methods clients may use and which they must pass.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    enabled: Vec<Method>,
    required: Vec<Method>,
    rules: IpRules,
}

impl AuthPolicy {
    /// From the config's method lists (`None` = the option is absent). The
    /// first of them present disables the implicit NULL.
    pub fn new(
        allowed: Option<&[String]>,
        required: Option<&[String]>,
        rules: IpRules,
    ) -> Result<AuthPolicy, String> {
        let parse = |names: Option<&[String]>| -> Result<Vec<Method>, String> {
            names
                .unwrap_or_default()
                .iter()
                .map(|n| {
                    Method::by_name(n.as_bytes()).ok_or_else(|| {
                        format!("unknown authentication method {n:?} (known: NULL, IP)")
                    })
                })
                .collect()
        };
        let required = parse(required)?;
        let mut listed = parse(allowed)?;
        if allowed.is_none() && required.is_empty() {
            listed.push(Method::Null);
        }
        listed.extend(required.iter().copied());
        let enabled = Method::ALL
            .into_iter()
            .filter(|m| listed.contains(m))
            .collect();
        Ok(AuthPolicy {
            enabled,
            required,
            rules,
        })
    }

    /// The names of the auth list, in registration order.
    pub fn offered(&self) -> Vec<&'static str> {
        self.enabled.iter().map(|m| m.name()).collect()
    }

    fn run(&self, m: Method, peer: Peer) -> bool {
        match m {
            Method::Null => true,
            Method::Ip => self.rules.allows(peer),
        }
    }

    /// Judges a client's choice: every chosen method must be enabled; the
    /// chosen ones run, then every required one not chosen. Err says why.
    pub fn check_choice(&self, chosen: &[Vec<u8>], peer: Peer) -> Result<(), String> {
        if chosen.is_empty() {
            return Err("the client chose no method".into());
        }
        let mut run = Vec::new();
        for name in chosen {
            match Method::by_name(name) {
                Some(m) if self.enabled.contains(&m) => run.push(m),
                _ => {
                    return Err(format!(
                        "method {:?} is not enabled",
                        String::from_utf8_lossy(name)
                    ))
                }
            }
        }
        let extra: Vec<Method> = self
            .required
            .iter()
            .copied()
            .filter(|m| !run.contains(m))
            .collect();
        run.extend(extra);
        match run.into_iter().find(|&m| !self.run(m, peer)) {
            Some(m) => Err(format!("method {} refused the client", m.name())),
            None => Ok(()),
        }
    }

    /// Clients older than 3.16 have no exchange: IP if it is enabled, else
    /// NULL if it is.
    pub fn check_old_client(&self, peer: Peer) -> Result<(), String> {
        if self.enabled.contains(&Method::Ip) {
            return if self.rules.allows(peer) {
                Ok(())
            } else {
                Err("IP check failed".into())
            };
        }
        if self.enabled.contains(&Method::Null) {
            return Ok(());
        }
        Err("no method an old client can pass is enabled".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_is_null_only() {
        let p = AuthPolicy::new(None, None, IpRules::default()).unwrap();
        assert_eq!(p.offered(), ["NULL"]);
        assert!(p.check_choice(&[b"NULL".to_vec()], Peer::Unix).is_ok());
        assert!(p.check_choice(&[b"IP".to_vec()], Peer::Unix).is_err());
        assert!(p.check_choice(&[b"FOO".to_vec()], Peer::Unix).is_err());
        assert!(p.check_choice(&[], Peer::Unix).is_err());
    }

    #[test]
    fn allowed_list_replaces_null() {
        let p = AuthPolicy::new(Some(&names(&["IP"])), None, IpRules::default()).unwrap();
        assert_eq!(p.offered(), ["IP"]);
        let p = AuthPolicy::new(Some(&names(&["IP", "NULL"])), None, IpRules::default()).unwrap();
        assert_eq!(p.offered(), ["NULL", "IP"]);
        assert!(AuthPolicy::new(Some(&names(&["PASSWORD"])), None, IpRules::default()).is_err());
    }

    #[test]
    fn required_methods_always_run() {
        let (rules, _) = IpRules::parse("10.0.0.0/8\n");
        let p = AuthPolicy::new(Some(&names(&["NULL"])), Some(&names(&["IP"])), rules).unwrap();
        let inside = Peer::Ip("10.1.2.3".parse().unwrap());
        let outside = Peer::Ip("192.0.2.1".parse().unwrap());
        assert!(p.check_choice(&[b"NULL".to_vec()], inside).is_ok());
        assert!(p.check_choice(&[b"NULL".to_vec()], outside).is_err());
    }

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
