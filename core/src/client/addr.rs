//! Spread's daemon-name forms and where they lead.

use crate::consts::DEFAULT_SPREAD_PORT;
use crate::error::{Error, Result};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Where a daemon listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DaemonAddr {
    /// A Unix-domain socket at this path.
    Unix(PathBuf),
    /// TCP at one of these addresses, tried in order.
    Tcp(Vec<SocketAddr>),
}

/// The directory of daemons' Unix sockets: `$SPREAD_SOCKET_DIR` when set and
/// not empty, else `/tmp` (5.0.1's build default).
pub fn unix_socket_dir() -> PathBuf {
    std::env::var_os("SPREAD_SOCKET_DIR")
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from)
}

fn port(text: &str, whole: &str) -> Result<u16> {
    text.parse::<u16>()
        .map_err(|_| Error::IllegalSpread(format!("{whole:?}: {text:?} is not a port")))
}

fn resolve(host: &str, port: u16, whole: &str) -> Result<DaemonAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| Error::IllegalSpread(format!("{whole:?}: cannot resolve {host:?}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(Error::IllegalSpread(format!(
            "{whole:?}: {host:?} has no address"
        )));
    }
    Ok(DaemonAddr::Tcp(addrs))
}

/// Parses a daemon name: `""` or `"4803"` (Unix socket `/tmp/4803`),
/// `"4803@host"` (TCP), and also `"host:port"`, `"[v6]:port"` and an
/// absolute socket path. Host names are resolved here.
///
/// # Errors
///
/// [`Error::IllegalSpread`] for a form not listed, a port that is not a
/// `u16`, or a host that does not resolve.
pub fn parse_daemon_name(name: &str) -> Result<DaemonAddr> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(DaemonAddr::Unix(
            unix_socket_dir().join(DEFAULT_SPREAD_PORT.to_string()),
        ));
    }
    if name.starts_with('/') {
        return Ok(DaemonAddr::Unix(PathBuf::from(name)));
    }
    if let Some((p, host)) = name.split_once('@') {
        if host.is_empty() {
            return Err(Error::IllegalSpread(format!("{name:?}: no host after '@'")));
        }
        // Only a bracketed pair encloses an address; a lone bracket is
        // left for the resolver to refuse.
        let host = (host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))).unwrap_or(host);
        return resolve(host, port(p, name)?, name);
    }
    if name.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(DaemonAddr::Unix(
            unix_socket_dir().join(port(name, name)?.to_string()),
        ));
    }
    if let Some(rest) = name.strip_prefix('[') {
        let (host, p) = rest
            .split_once("]:")
            .ok_or_else(|| Error::IllegalSpread(format!("{name:?}: expected [address]:port")))?;
        return resolve(host, port(p, name)?, name);
    }
    if let Some((host, p)) = name.rsplit_once(':') {
        if !host.contains(':') {
            return resolve(host, port(p, name)?, name);
        }
    }
    Err(Error::IllegalSpread(format!(
        "{name:?}: expected \"port\", \"port@host\", \"host:port\" or \"[address]:port\""
    )))
}

/// The host a TCP daemon name names (`"4813@spread.example.org"`,
/// `"host:port"`, `"[::1]:port"`), as written: the name a TLS daemon's
/// certificate must carry unless another is given. None for the Unix
/// socket's forms.
pub fn daemon_host(name: &str) -> Option<String> {
    let name = name.trim();
    let unbracket = |h: &str| {
        (h.strip_prefix('[').and_then(|h| h.strip_suffix(']')))
            .unwrap_or(h)
            .to_string()
    };
    if let Some((_, host)) = name.split_once('@') {
        return Some(unbracket(host)).filter(|h| !h.is_empty());
    }
    if let Some(rest) = name.strip_prefix('[') {
        return rest.split_once("]:").map(|(h, _)| h.to_string());
    }
    match name.rsplit_once(':') {
        Some((host, _)) if !host.contains(':') && !name.starts_with('/') => Some(host.into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_tcp_names() {
        assert_eq!(
            daemon_host("4813@spread.example.org").as_deref(),
            Some("spread.example.org")
        );
        assert_eq!(daemon_host("4813@[::1]").as_deref(), Some("::1"));
        assert_eq!(daemon_host("[fe80::1]:4813").as_deref(), Some("fe80::1"));
        assert_eq!(daemon_host("localhost:4813").as_deref(), Some("localhost"));
        assert_eq!(daemon_host("4803"), None);
        assert_eq!(daemon_host("/tmp/4803"), None);
    }

    #[test]
    fn forms() {
        assert_eq!(
            parse_daemon_name("4803").unwrap(),
            DaemonAddr::Unix(unix_socket_dir().join("4803"))
        );
        assert_eq!(
            parse_daemon_name("").unwrap(),
            DaemonAddr::Unix(unix_socket_dir().join("4803"))
        );
        assert_eq!(
            parse_daemon_name("/run/s/4803").unwrap(),
            DaemonAddr::Unix("/run/s/4803".into())
        );
        let tcp = DaemonAddr::Tcp(vec!["127.0.0.1:4803".parse().unwrap()]);
        assert_eq!(parse_daemon_name("4803@127.0.0.1").unwrap(), tcp);
        assert_eq!(parse_daemon_name("127.0.0.1:4803").unwrap(), tcp);
        assert_eq!(
            parse_daemon_name("[::1]:4803").unwrap(),
            DaemonAddr::Tcp(vec!["[::1]:4803".parse().unwrap()])
        );
        assert!(matches!(
            parse_daemon_name("4803@localhost").unwrap(),
            DaemonAddr::Tcp(_)
        ));
    }

    #[test]
    fn ipv6_forms() {
        // 5.0.1 hands what follows '@' to getaddrinfo, so "4803@::1" is its
        // form; brackets are ours too.
        let v6 = DaemonAddr::Tcp(vec!["[::1]:4803".parse().unwrap()]);
        for name in [
            "4803@::1",
            "4803@[::1]",
            "[::1]:4803",
            "4803@0:0:0:0:0:0:0:1",
        ] {
            assert_eq!(parse_daemon_name(name).unwrap(), v6, "{name}");
        }
        // A link-local address names its interface, as getaddrinfo reads it.
        let DaemonAddr::Tcp(addrs) = parse_daemon_name("4803@fe80::1%lo").unwrap() else {
            panic!("not TCP");
        };
        let std::net::SocketAddr::V6(a) = addrs[0] else {
            panic!("not IPv6: {addrs:?}");
        };
        assert_eq!((a.ip().segments()[0], a.port()), (0xfe80, 4803));
        assert_ne!(a.scope_id(), 0, "lo has an index");
        for bad in ["4803@fd00::1::2", "4803@[fd00::1", "70000@::1"] {
            assert_eq!(parse_daemon_name(bad).unwrap_err().code(), -1, "{bad}");
        }
    }

    #[test]
    fn illegal_forms() {
        for bad in ["abc", "99999", "x@127.0.0.1", "4803@", "[::1]", "::1"] {
            assert_eq!(parse_daemon_name(bad).unwrap_err().code(), -1, "{bad}");
        }
    }
}
