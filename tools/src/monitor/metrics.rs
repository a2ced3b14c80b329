//! `spmonitor --metrics`: a daemon's metrics endpoint (`MetricsAddress`),
//! read over HTTP and shown beside the status replies. The status reply
//! keeps 5.0.1's fixed layout; the numbers it has no room for are here.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// How long a daemon may take to answer.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Where to read: an unspecified address (the daemon listens on every
/// interface) is read on loopback.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(v6) if v6.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// `GET path` at `addr`: the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> Result<(u16, String), String> {
    let fail = |e: std::io::Error| format!("metrics at {addr}: {e}");
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(fail)?;
    s.set_read_timeout(Some(TIMEOUT)).map_err(fail)?;
    s.set_write_timeout(Some(TIMEOUT)).map_err(fail)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(fail)?;
    let mut bytes = Vec::new();
    s.take(16 << 20).read_to_end(&mut bytes).map_err(fail)?;
    let text = String::from_utf8_lossy(&bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("metrics at {addr}: not an HTTP response"))?;
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("metrics at {addr}: no status code in {head:?}"))?;
    Ok((code, body.to_string()))
}

/// The health and every sample of `addr`'s metrics, as text: a line for
/// the health, then one a sample (`name{labels} value`), indented.
pub fn report(addr: SocketAddr) -> String {
    let mut out = format!("metrics at {addr}:");
    match get(addr, "/health") {
        Ok((code, body)) => out += &format!(" health {code} {}\n", body.trim()),
        Err(e) => return format!("{out} {e}\n"),
    }
    match get(addr, "/metrics") {
        Ok((200, body)) => out += &samples(&body),
        Ok((code, body)) => out += &format!("  {code} {}\n", body.trim()),
        Err(e) => out += &format!("  {e}\n"),
    }
    out
}

/// The sample lines of a scrape, indented; comments left out.
pub fn samples(body: &str) -> String {
    body.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| format!("  {l}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_go_and_samples_stay() {
        let body = "# HELP spread_sessions S.\n# TYPE spread_sessions gauge\nspread_sessions 2\nspread_x{a=\"b\"} 0\n";
        assert_eq!(
            samples(body),
            "  spread_sessions 2\n  spread_x{a=\"b\"} 0\n"
        );
        assert_eq!(
            reachable("0.0.0.0:9464".parse().unwrap()),
            "127.0.0.1:9464".parse().unwrap()
        );
        assert_eq!(
            reachable("[::]:1".parse().unwrap()),
            "[::1]:1".parse().unwrap()
        );
    }
}
