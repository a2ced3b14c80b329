//! Client authentication: the methods (NULL and IP as in 5.0.1; PEERCRED
//! and SECRET, ours), which are enabled, which are required, and what each
//! checks.
//!
//! As in 5.0.1 the methods a client chose run in its order, then every
//! required method it did not choose. Methods without an exchange (NULL,
//! IP, PEERCRED) judge what the daemon already knows of the connection,
//! so a required one also applies to clients that never heard of it (a
//! 5.0.1 client choosing NULL on the Unix socket is still checked by its
//! kernel credentials when PEERCRED is required). SECRET has an exchange
//! (`sessions/handshake.rs` runs it): a client must choose it, a required
//! SECRET not chosen refuses the client.

pub mod cert;
pub mod ip;
pub mod kept;
pub mod peercred;
pub mod rules;
pub mod secret;
pub mod users;

pub use ip::IpRules;
pub use peercred::AllowList;
pub use rules::{Action, GroupRules, ACTIONS};
pub use secret::Secrets;
pub use users::Creds;

use std::net::IpAddr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Null,
    Ip,
    PeerCred,
    Secret,
}

impl Method {
    /// Every method this daemon knows, in the order they are registered
    /// (the order of the auth list): 5.0.1's first.
    pub const ALL: [Method; 4] = [Method::Null, Method::Ip, Method::PeerCred, Method::Secret];

    pub fn name(self) -> &'static str {
        match self {
            Method::Null => "NULL",
            Method::Ip => "IP",
            Method::PeerCred => "PEERCRED",
            Method::Secret => "SECRET",
        }
    }

    pub fn by_name(name: &[u8]) -> Option<Method> {
        Method::ALL
            .into_iter()
            .find(|m| m.name().as_bytes() == name)
    }

    fn known() -> String {
        Method::ALL.map(Method::name).join(", ")
    }
}

/// Where a client connects from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Peer {
    Ip(IpAddr),
    /// The Unix-domain socket: the peer is on this host.
    Unix,
}

/// What the daemon knows of a client: before any method runs, where it
/// is and the kernel's credentials; after SECRET, its identity too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Who {
    pub peer: Peer,
    /// The kernel's word on the Unix socket's peer (None over TCP).
    pub creds: Option<Creds>,
    /// The identity SECRET proved.
    pub secret: Option<std::sync::Arc<str>>,
    /// The common name of the certificate a TLS client showed (verified
    /// against `TlsClientCAFile`).
    pub cert: Option<std::sync::Arc<str>>,
}

impl Who {
    pub fn tcp(ip: IpAddr) -> Who {
        Who {
            peer: Peer::Ip(ip),
            creds: None,
            secret: None,
            cert: None,
        }
    }
}

/// Why a client did not pass (each a `reason` of the refusal counters).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the client chose no method")]
    NoChoice,
    #[error("method {0:?} is not enabled")]
    NotEnabled(String),
    #[error("no method an old client (before 3.16) can pass is enabled")]
    OldClient,
    #[error("no authentication method is enabled")]
    NoneEnabled,
    #[error("method IP refused the client")]
    Ip,
    #[error("method PEERCRED refused the client: {0}")]
    PeerCred(String),
    #[error("method SECRET refused the client: {0}")]
    Secret(String),
}

/// The `reason` labels of refused authentications, in [`AuthError::reason`]
/// order, then `tls`: TLS handshakes that failed ([`TLS_REASON`]).
pub const AUTH_REASONS: [&str; 5] = ["method", "ip", "peercred", "secret", "tls"];

/// The index in [`AUTH_REASONS`] of failed TLS handshakes (a bad or
/// missing client certificate, a client that does not trust ours, ...).
pub const TLS_REASON: usize = 4;

impl AuthError {
    /// Index into [`AUTH_REASONS`].
    pub fn reason(&self) -> usize {
        match self {
            AuthError::NoChoice
            | AuthError::NotEnabled(_)
            | AuthError::OldClient
            | AuthError::NoneEnabled => 0,
            AuthError::Ip => 1,
            AuthError::PeerCred(_) => 2,
            AuthError::Secret(_) => 3,
        }
    }
}

/// What the methods check against.
#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// IP: `spread.access_ip`.
    pub ip: IpRules,
    /// PEERCRED: `AllowUsers`, `AllowGroups`.
    pub peercred: AllowList,
    /// SECRET: `AuthSecretFile`.
    pub secrets: Option<std::sync::Arc<Secrets>>,
}

/// Which methods clients may use and which they must pass.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    enabled: Vec<Method>,
    required: Vec<Method>,
    checks: Checks,
}

impl AuthPolicy {
    /// From the config's method lists (`None` = the option is absent). The
    /// first of them present disables the implicit NULL.
    pub fn new(
        allowed: Option<&[String]>,
        required: Option<&[String]>,
        checks: Checks,
    ) -> Result<AuthPolicy, String> {
        let parse = |names: Option<&[String]>| -> Result<Vec<Method>, String> {
            names
                .unwrap_or_default()
                .iter()
                .map(|n| {
                    Method::by_name(n.as_bytes()).ok_or_else(|| {
                        format!(
                            "unknown authentication method {n:?} (known: {})",
                            Method::known()
                        )
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
        let enabled: Vec<Method> = Method::ALL
            .into_iter()
            .filter(|m| listed.contains(m))
            .collect();
        if enabled.contains(&Method::PeerCred) && checks.peercred.is_empty() {
            return Err("PEERCRED is enabled but AllowUsers and AllowGroups name no one".into());
        }
        if enabled.contains(&Method::Secret) && checks.secrets.is_none() {
            return Err("SECRET is enabled but no AuthSecretFile is configured".into());
        }
        Ok(AuthPolicy {
            enabled,
            required,
            checks,
        })
    }

    /// The names of the auth list, in registration order.
    pub fn offered(&self) -> Vec<&'static str> {
        self.enabled.iter().map(|m| m.name()).collect()
    }

    /// SECRET's secrets (when it is enabled).
    pub fn secrets(&self) -> Option<&Secrets> {
        self.checks.secrets.as_deref()
    }

    /// Runs method `m` on what is known of the client; SECRET, whose
    /// exchange the handshake runs, passes here only if it was proved.
    pub fn run(&self, m: Method, who: &Who) -> Result<(), AuthError> {
        match m {
            Method::Secret if who.secret.is_some() => Ok(()),
            Method::Secret => Err(AuthError::Secret(
                "it is required and the client did not choose it".into(),
            )),
            Method::Null => Ok(()),
            Method::Ip if self.checks.ip.allows(who.peer) => Ok(()),
            Method::Ip => Err(AuthError::Ip),
            Method::PeerCred => match (who.peer, who.creds) {
                (Peer::Ip(ip), _) => Err(AuthError::PeerCred(format!(
                    "it needs the Unix socket; the client came over TCP from {ip}"
                ))),
                (Peer::Unix, None) => Err(AuthError::PeerCred(
                    "the kernel gave no credentials for the socket".into(),
                )),
                (Peer::Unix, Some(c)) if self.checks.peercred.allows(&c) => Ok(()),
                (Peer::Unix, Some(c)) => Err(AuthError::PeerCred(format!(
                    "{c} is not in AllowUsers or AllowGroups"
                ))),
            },
        }
    }

    /// The methods to run for a client's choice, in order: every chosen
    /// method must be enabled; then every required one not chosen.
    pub fn plan(&self, chosen: &[Vec<u8>]) -> Result<Vec<Method>, AuthError> {
        if chosen.is_empty() {
            return Err(AuthError::NoChoice);
        }
        let mut run = Vec::new();
        for name in chosen {
            match Method::by_name(name) {
                Some(m) if self.enabled.contains(&m) => run.push(m),
                _ => {
                    return Err(AuthError::NotEnabled(
                        String::from_utf8_lossy(name).into_owned(),
                    ))
                }
            }
        }
        let extra: Vec<Method> = (self.required.iter().copied())
            .filter(|m| !run.contains(m))
            .collect();
        run.extend(extra);
        Ok(run)
    }

    /// Judges a client's choice: [`AuthPolicy::plan`], then each method.
    pub fn check_choice(&self, chosen: &[Vec<u8>], who: &Who) -> Result<(), AuthError> {
        for m in self.plan(chosen)? {
            self.run(m, who)?;
        }
        Ok(())
    }

    /// Clients older than 3.16 have no exchange: IP if it is enabled, else
    /// NULL if it is (as 5.0.1); then the required methods (PEERCRED can
    /// judge such a client, SECRET cannot: it is refused).
    pub fn check_old_client(&self, who: &Who) -> Result<(), AuthError> {
        let first = if self.enabled.contains(&Method::Ip) {
            Method::Ip
        } else if self.enabled.contains(&Method::Null) {
            Method::Null
        } else {
            return Err(AuthError::OldClient);
        };
        self.run(first, who)?;
        for &m in &self.required {
            if m != first {
                self.run(m, who)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use users::Group;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    const UNIX: Who = Who {
        peer: Peer::Unix,
        creds: None,
        secret: None,
        cert: None,
    };

    fn unix(uid: u32, gid: u32) -> Who {
        Who {
            peer: Peer::Unix,
            creds: Some(Creds { uid, gid, pid: 9 }),
            secret: None,
            cert: None,
        }
    }

    fn ip_checks(text: &str) -> Checks {
        Checks {
            ip: IpRules::parse(text).0,
            ..Checks::default()
        }
    }

    #[test]
    fn default_is_null_only() {
        let p = AuthPolicy::new(None, None, Checks::default()).unwrap();
        assert_eq!(p.offered(), ["NULL"]);
        assert!(p.check_choice(&[b"NULL".to_vec()], &UNIX).is_ok());
        assert!(p.check_choice(&[b"IP".to_vec()], &UNIX).is_err());
        assert!(p.check_choice(&[b"PEERCRED".to_vec()], &UNIX).is_err());
        assert!(p.check_choice(&[b"FOO".to_vec()], &UNIX).is_err());
        assert_eq!(p.check_choice(&[], &UNIX), Err(AuthError::NoChoice));
    }

    #[test]
    fn allowed_list_replaces_null() {
        let p = AuthPolicy::new(Some(&names(&["IP"])), None, Checks::default()).unwrap();
        assert_eq!(p.offered(), ["IP"]);
        let p = AuthPolicy::new(Some(&names(&["IP", "NULL"])), None, Checks::default()).unwrap();
        assert_eq!(p.offered(), ["NULL", "IP"]);
        let e = AuthPolicy::new(Some(&names(&["PASSWORD"])), None, Checks::default());
        assert_eq!(
            e.unwrap_err(),
            "unknown authentication method \"PASSWORD\" (known: NULL, IP, PEERCRED, SECRET)"
        );
    }

    #[test]
    fn required_methods_always_run() {
        let p = AuthPolicy::new(
            Some(&names(&["NULL"])),
            Some(&names(&["IP"])),
            ip_checks("10.0.0.0/8\n"),
        )
        .unwrap();
        let inside = Who::tcp("10.1.2.3".parse().unwrap());
        let outside = Who::tcp("192.0.2.1".parse().unwrap());
        assert!(p.check_choice(&[b"NULL".to_vec()], &inside).is_ok());
        assert_eq!(
            p.check_choice(&[b"NULL".to_vec()], &outside),
            Err(AuthError::Ip)
        );
    }

    #[test]
    fn peercred_checks_the_kernel_credentials() {
        let checks = Checks {
            peercred: AllowList::of(
                vec![1000],
                vec![Group {
                    gid: 50,
                    members: vec![2000],
                }],
            ),
            ..Checks::default()
        };
        let p = AuthPolicy::new(Some(&names(&["PEERCRED"])), None, Checks::default());
        assert!(p.is_err(), "PEERCRED with nobody allowed is refused");
        let allowed = names(&["NULL", "PEERCRED"]);
        let p = AuthPolicy::new(Some(&allowed), None, checks.clone()).unwrap();
        assert_eq!(p.offered(), ["NULL", "PEERCRED"]);
        let pc = [b"PEERCRED".to_vec()];
        assert!(p.check_choice(&pc, &unix(1000, 1)).is_ok());
        assert!(p.check_choice(&pc, &unix(3, 50)).is_ok(), "primary group");
        assert!(p.check_choice(&pc, &unix(2000, 1)).is_ok(), "listed member");
        let e = p.check_choice(&pc, &unix(3, 4)).unwrap_err();
        assert_eq!(e.reason(), 2);
        assert!(
            e.to_string()
                .contains("uid 3 gid 4 pid 9 is not in AllowUsers"),
            "{e}"
        );
        let e = p.check_choice(&pc, &Who::tcp("127.0.0.1".parse().unwrap()));
        assert!(e.unwrap_err().to_string().contains("needs the Unix socket"));
        assert!(p.check_choice(&pc, &UNIX).is_err(), "no credentials");
        // NULL still lets anyone in while PEERCRED is only allowed...
        assert!(p.check_choice(&[b"NULL".to_vec()], &unix(3, 4)).is_ok());
        // ...and not once it is required: a 5.0.1 client choosing NULL is
        // checked by its credentials, and over TCP nobody passes.
        let p =
            AuthPolicy::new(Some(&names(&["NULL"])), Some(&names(&["PEERCRED"])), checks).unwrap();
        let null = [b"NULL".to_vec()];
        assert!(p.check_choice(&null, &unix(1000, 1)).is_ok());
        assert!(p.check_choice(&null, &unix(3, 4)).is_err());
        assert!(p
            .check_choice(&null, &Who::tcp("127.0.0.1".parse().unwrap()))
            .is_err());
        assert!(p.check_old_client(&unix(1000, 1)).is_ok());
        assert!(p.check_old_client(&unix(3, 4)).is_err());
    }
}
