//! Metrics for Prometheus (`MetricsAddress`): the core task counts in plain
//! integers ([`Counters`]); when scraped, the HTTP task asks the core for a
//! [`Sample`] over a channel and renders it in the text exposition format.
//! Nothing is shared or locked per message. Not configured, nothing here
//! runs.

use crate::sealing::SealRefusals;
use spread_core::consts::*;
use spread_core::wire::Header;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

/// The `service` label of a message, by its type: the six services, the
/// membership notices and the control requests (join, leave, kill).
pub const SERVICES: [&str; 8] = [
    "unreliable",
    "reliable",
    "fifo",
    "causal",
    "agreed",
    "safe",
    "membership",
    "control",
];

/// The label index of a service type: the strongest service bit (as the
/// daemon orders it), else membership, else control (as are REJECTs).
pub fn service_index(service_type: u32) -> usize {
    if service_type & REJECT_MESS != 0 {
        return 7;
    }
    if service_type & MEMBERSHIP_MESS != 0 && service_type & REGULAR_MESS == 0 {
        return 6;
    }
    for (i, bit) in [
        SAFE_MESS,
        AGREED_MESS,
        CAUSAL_MESS,
        FIFO_MESS,
        RELIABLE_MESS,
        UNRELIABLE_MESS,
    ]
    .into_iter()
    .enumerate()
    {
        if service_type & bit != 0 {
            return 5 - i;
        }
    }
    7
}

/// Messages and their body bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flow {
    pub messages: u64,
    pub bytes: u64,
}

/// What only the core task counts (the engine counts the rest).
#[derive(Clone, Debug, Default)]
pub struct Counters {
    /// Requests of local clients taken for ordering, by service.
    pub from_clients: [Flow; SERVICES.len()],
    /// Frames handed to local clients, by service.
    pub to_clients: [Flow; SERVICES.len()],
    /// Client messages refused (REJECT): bad names, sizes, services.
    pub rejected_messages: u64,
    /// Joins past MaxGroupsPerSession.
    pub refused_joins: u64,
    /// Sessions disconnected for what they had queued and not read.
    pub sessions_cut_off: u64,
    /// Joins and sends the group access rules refused, in
    /// [`crate::auth::ACTIONS`] order.
    pub access_refused: [u64; crate::auth::ACTIONS.len()],
}

impl Counters {
    /// A local client's request, taken for ordering.
    pub fn from_client(&mut self, h: &Header) {
        let f = &mut self.from_clients[service_index(h.service_type)];
        f.messages += 1;
        f.bytes += h.data_len.max(0) as u64;
    }

    /// A frame handed to a local client's writer.
    pub fn to_client(&mut self, frame: &[u8]) {
        let Some(head) = frame.get(..HEADER_LEN) else {
            return;
        };
        let Ok(head) = head.try_into() else {
            return;
        };
        let h = Header::decode(head);
        let f = &mut self.to_clients[service_index(h.service_type)];
        f.messages += 1;
        f.bytes += h.data_len.max(0) as u64;
    }
}

/// Everything a scrape shows, taken from the core at once.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub counters: Counters,
    pub sessions: usize,
    pub groups: usize,
    /// Members of all groups, on every daemon.
    pub members: usize,
    /// The membership state's name (OP, SEG, GATHER, ...).
    pub state: &'static str,
    /// Daemons in the installed ring.
    pub ring_size: usize,
    pub membership_changes: u64,
    pub packets_sent: u64,
    pub packets_received: u64,
    pub retransmissions: u64,
    pub tokens: u64,
    pub token_rounds: u64,
    pub token_hurries: u64,
    /// Packets delivered by the ring in order.
    pub packets_delivered: u64,
    /// Drops by reason, in [`DROPS`] order.
    pub drops: [u64; DROPS.len()],
    /// Datagrams refused for their sealing (RingKeyFile), in
    /// [`SealRefusals::REASONS`] order.
    pub seal_drops: [u64; SealRefusals::REASONS.len()],
    /// Messages waiting to be sent on the ring.
    pub ring_backlog: usize,
    pub session_backlog_messages: usize,
    pub session_backlog_bytes: usize,
    pub uptime_secs: u64,
    /// Connections an authentication method refused, in
    /// [`crate::auth::AUTH_REASONS`] order.
    pub auth_refused: [u64; crate::auth::AUTH_REASONS.len()],
    /// Handshakes that failed otherwise.
    pub handshakes_failed: u64,
}

/// The `reason` label of `spread_dropped_total`.
pub const DROPS: [&str; 9] = [
    // Datagrams that do not decode.
    "malformed",
    // Datagrams from no configured daemon's address.
    "unknown_source",
    // Membership packets of another configuration or out of place.
    "membership",
    // Ring packets out of place (duplicates, old rings).
    "ring",
    // Data and tokens numbered beyond what the ring can have sent.
    "ahead",
    // Ordered messages whose sender is no client of the daemon that sent it.
    "forged_sender",
    // Ordered messages whose origin could not be placed.
    "undeliverable",
    // Client messages refused with a REJECT.
    "rejected_client_message",
    // Joins past MaxGroupsPerSession.
    "refused_join",
];

impl Sample {
    /// The daemon is in OP with an installed ring.
    pub fn healthy(&self) -> bool {
        self.state == "OP" && self.ring_size > 0
    }

    /// The Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut o = Out(String::with_capacity(8192));
        let c = &self.counters;
        o.gauge(
            "spread_sessions",
            "Client sessions of this daemon.",
            self.sessions as u64,
        );
        o.gauge(
            "spread_groups",
            "Groups with members anywhere in the ring.",
            self.groups as u64,
        );
        o.gauge(
            "spread_group_members",
            "Members of all groups, on every daemon.",
            self.members as u64,
        );
        o.head(
            "spread_client_messages_received_total",
            "counter",
            "Messages taken from this daemon's clients, by service.",
        );
        for (i, s) in SERVICES.iter().enumerate() {
            o.line(
                "spread_client_messages_received_total",
                &[("service", s)],
                c.from_clients[i].messages,
            );
        }
        o.head(
            "spread_client_bytes_received_total",
            "counter",
            "Body bytes of messages taken from this daemon's clients, by service.",
        );
        for (i, s) in SERVICES.iter().enumerate() {
            o.line(
                "spread_client_bytes_received_total",
                &[("service", s)],
                c.from_clients[i].bytes,
            );
        }
        o.head(
            "spread_client_messages_delivered_total",
            "counter",
            "Messages handed to this daemon's clients, by service.",
        );
        for (i, s) in SERVICES.iter().enumerate() {
            o.line(
                "spread_client_messages_delivered_total",
                &[("service", s)],
                c.to_clients[i].messages,
            );
        }
        o.head(
            "spread_client_bytes_delivered_total",
            "counter",
            "Body bytes of messages handed to this daemon's clients, by service.",
        );
        for (i, s) in SERVICES.iter().enumerate() {
            o.line(
                "spread_client_bytes_delivered_total",
                &[("service", s)],
                c.to_clients[i].bytes,
            );
        }
        o.counter(
            "spread_packets_sent_total",
            "Data packets this daemon sent on the ring.",
            self.packets_sent,
        );
        o.counter(
            "spread_packets_received_total",
            "Data packets this daemon received from the ring.",
            self.packets_received,
        );
        o.counter(
            "spread_packets_delivered_total",
            "Data packets the ring delivered in order.",
            self.packets_delivered,
        );
        o.counter(
            "spread_retransmissions_total",
            "Data packets this daemon sent again on request.",
            self.retransmissions,
        );
        o.counter(
            "spread_tokens_total",
            "Tokens this daemon handled.",
            self.tokens,
        );
        o.gauge(
            "spread_token_rounds",
            "Token rounds of the current ring (as the status reply).",
            self.token_rounds,
        );
        o.counter(
            "spread_token_hurries_total",
            "Tokens sent again after the hurry timeout.",
            self.token_hurries,
        );
        o.counter(
            "spread_membership_changes_total",
            "Rings installed since start.",
            self.membership_changes,
        );
        o.gauge(
            "spread_membership_size",
            "Daemons in the installed ring.",
            self.ring_size as u64,
        );
        o.head(
            "spread_membership_state",
            "gauge",
            "1 for the membership state the daemon is in.",
        );
        for s in ["OP", "SEG", "REPRESENTED", "GATHER", "FORM", "EVS"] {
            o.line(
                "spread_membership_state",
                &[("state", s)],
                u64::from(self.state == s),
            );
        }
        o.head(
            "spread_dropped_total",
            "counter",
            "What the daemon dropped or refused, by reason.",
        );
        for (i, r) in DROPS.iter().enumerate() {
            o.line("spread_dropped_total", &[("reason", r)], self.drops[i]);
        }
        for (i, (r, _)) in SealRefusals::REASONS.iter().enumerate() {
            o.line("spread_dropped_total", &[("reason", r)], self.seal_drops[i]);
        }
        o.head(
            "spread_auth_refused_total",
            "counter",
            "Connections refused by an authentication method, by reason.",
        );
        for (i, r) in crate::auth::AUTH_REASONS.iter().enumerate() {
            let v = self.auth_refused[i];
            o.line("spread_auth_refused_total", &[("reason", r)], v);
        }
        o.head(
            "spread_access_refused_total",
            "counter",
            "Joins and sends refused by GroupAccessFile, by action.",
        );
        for (i, a) in crate::auth::ACTIONS.iter().enumerate() {
            let v = c.access_refused[i];
            o.line("spread_access_refused_total", &[("action", a)], v);
        }
        o.counter(
            "spread_handshakes_failed_total",
            "Handshakes that failed for other causes (names, versions, timeouts, closed).",
            self.handshakes_failed,
        );
        o.counter(
            "spread_sessions_cut_off_total",
            "Sessions disconnected past MaxSessionMessages, MaxSessionBytes or MaxQueuedBytes.",
            c.sessions_cut_off,
        );
        o.gauge(
            "spread_ring_backlog_messages",
            "Messages of this daemon's clients waiting to be sent on the ring.",
            self.ring_backlog as u64,
        );
        o.gauge(
            "spread_session_backlog_messages",
            "Messages queued for clients and not yet written, all sessions.",
            self.session_backlog_messages as u64,
        );
        o.gauge(
            "spread_session_backlog_bytes",
            "Bytes queued for clients and not yet written, all sessions.",
            self.session_backlog_bytes as u64,
        );
        o.gauge(
            "spread_uptime_seconds",
            "Seconds since the daemon started.",
            self.uptime_secs,
        );
        o.0
    }
}

struct Out(String);

impl Out {
    fn head(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn line(&mut self, name: &str, labels: &[(&str, &str)], v: u64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, l)) in labels.iter().enumerate() {
                let sep = if i > 0 { "," } else { "" };
                let _ = write!(self.0, "{sep}{k}=\"{l}\"");
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {v}");
    }

    fn counter(&mut self, name: &str, help: &str, v: u64) {
        self.head(name, "counter", help);
        self.line(name, &[], v);
    }

    fn gauge(&mut self, name: &str, help: &str, v: u64) {
        self.head(name, "gauge", help);
        self.line(name, &[], v);
    }
}

/// A scrape's request to the core: the answer goes back on `reply`.
pub type Scrape = oneshot::Sender<Sample>;

/// How long a scraper may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Scrapes served at once; more connections are closed at once.
const MAX_CONNECTIONS: usize = 16;
/// The longest request head read.
const MAX_REQUEST: usize = 8192;

/// The bound metrics listener, not yet serving.
pub struct MetricsListener {
    listener: TcpListener,
}

impl MetricsListener {
    /// Binds `addr`; `set` says where it was configured, for the error.
    pub fn bind(addr: SocketAddr, set: &str) -> std::io::Result<MetricsListener> {
        let fail = |e: std::io::Error| {
            std::io::Error::new(e.kind(), format!("MetricsAddress {addr} ({set}): {e}"))
        };
        let socket = match addr {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .map_err(fail)?;
        socket.set_reuseaddr(true).map_err(fail)?;
        socket.bind(addr).map_err(fail)?;
        let listener = socket.listen(64).map_err(fail)?;
        Ok(MetricsListener { listener })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves scrapes, asking the core for each sample on `core`.
    pub async fn serve(self, core: mpsc::Sender<Scrape>) {
        let open = Arc::new(AtomicUsize::new(0));
        loop {
            let stream = match self.listener.accept().await {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of descriptors and the like: try again shortly.
                    tracing::debug!(target: "spread::status", "metrics: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
                open.fetch_sub(1, Ordering::AcqRel);
                continue;
            }
            let open = open.clone();
            let core = core.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(REQUEST_TIMEOUT, answer(stream, core)).await;
                open.fetch_sub(1, Ordering::AcqRel);
            });
        }
    }
}

/// Reads one request and answers it; the connection then closes.
async fn answer(mut s: TcpStream, core: mpsc::Sender<Scrape>) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let n = s.read(&mut chunk).await?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let response = match (method, path) {
        ("GET", "/metrics") => match sample(&core).await {
            Some(sample) => response(
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &sample.render(),
            ),
            None => response("503 Service Unavailable", "text/plain", "stopping\n"),
        },
        ("GET", "/health") => match sample(&core).await {
            Some(s) if s.healthy() => response(
                "200 OK",
                "text/plain",
                &format!("OP: a ring of {} daemons\n", s.ring_size),
            ),
            Some(s) => response(
                "503 Service Unavailable",
                "text/plain",
                &format!("{}: no ring installed\n", s.state),
            ),
            None => response("503 Service Unavailable", "text/plain", "stopping\n"),
        },
        ("GET", _) => response("404 Not Found", "text/plain", "try /metrics or /health\n"),
        _ => response("405 Method Not Allowed", "text/plain", "GET only\n"),
    };
    s.write_all(response.as_bytes()).await?;
    s.shutdown().await
}

async fn sample(core: &mpsc::Sender<Scrape>) -> Option<Sample> {
    let (tx, rx) = oneshot::channel();
    core.send(tx).await.ok()?;
    rx.await.ok()
}

fn response(status: &str, kind: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_by_their_strongest_bit() {
        let label = |t: u32| SERVICES[service_index(t)];
        assert_eq!(label(SAFE_MESS | SELF_DISCARD), "safe");
        assert_eq!(label(AGREED_MESS), "agreed");
        assert_eq!(label(FIFO_MESS), "fifo");
        assert_eq!(label(CAUSAL_MESS), "causal");
        assert_eq!(label(RELIABLE_MESS), "reliable");
        assert_eq!(label(UNRELIABLE_MESS), "unreliable");
        assert_eq!(label(REG_MEMB_MESS | CAUSED_BY_JOIN), "membership");
        assert_eq!(label(TRANSITION_MESS), "membership");
        assert_eq!(label(JOIN_MESS), "control");
        assert_eq!(label(REJECT_MESS | AGREED_MESS), "control");
    }

    #[test]
    fn healthy_only_in_op_with_a_ring() {
        let s = |state, ring_size| Sample {
            state,
            ring_size,
            ..Sample::default()
        };
        assert!(s("OP", 1).healthy());
        assert!(!s("OP", 0).healthy());
        assert!(!s("GATHER", 2).healthy());
        assert!(!s("EVS", 2).healthy());
    }

    /// Every metric has its HELP and TYPE before its samples, and each
    /// sample line is `name{labels} value`.
    #[test]
    fn the_text_format() {
        let text = Sample {
            state: "OP",
            ring_size: 2,
            ..Sample::default()
        }
        .render();
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "gauge"].contains(&kind), "{line}");
                assert!(typed.insert(name.to_string()), "typed twice: {line}");
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(name.starts_with("spread_"), "{line}");
            assert!(typed.contains(name), "no TYPE before {line}");
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<u64>().is_ok(), "{line}");
        }
        assert!(text.contains("spread_membership_state{state=\"OP\"} 1\n"));
        assert!(text.contains("spread_membership_size 2\n"));
    }
}
