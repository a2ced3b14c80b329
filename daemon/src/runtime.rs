//! The daemon at run time: binds the listeners and the UDP ports, and runs
//! the core task, a thin loop of sockets and timers around the sans-IO
//! [`Node`] that holds the daemon's logic: it feeds the node requests,
//! datagrams and time, sends what the node wants sent and hands frames to
//! the sessions' writers.

use crate::auth::{Action, AuthPolicy, GroupRules, Who};
use crate::control::{Control, ControlSettings, Imposed, Windows};
use crate::engine::node::{Node, NodeConfig, Refused};
use crate::engine::{Output, SessionId};
use crate::metrics::{Counters, MetricsListener, Sample, Scrape};
use crate::net_io::{NetIo, NetSettings};
use crate::packet::{DataHeader, MonitorBody, MonitorPacket, Port, CONTROL_TYPE};
use crate::reload::{judge, Change, Reloader};
use crate::sessions::backlog::{Over, QueueLimits};
use crate::sessions::listen::{accept_tcp, accept_unix, bind_tcp};
use crate::sessions::pacing::{Hold, Pacing, STALL};
use crate::sessions::refusals::{tell_held_periodically, Refusal};
use crate::sessions::registry::Registry;
use crate::sessions::socket_file::{bind_unix, Occupant, SocketFile, UnixBinding};
use crate::sessions::tls::accept_tls;
use crate::sessions::{Cmd, Outbound, Shared};
use crate::status::{status_reply, StatusInfo};
use crate::transport::Received;
use spread_core::consts::{
    is_membership, is_regular, HEADER_LEN, JOIN_MESS, MAX_GROUP_NAME, MAX_INTEROPERABLE_PAYLOAD,
};
use spread_core::wire::Header;
use spread_core::GroupName;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, Notify};
use tracing::{debug, error, info, warn};

/// How often the log may repeat that forged ordered messages were dropped.
const FORGED_REPORT_EVERY: Duration = Duration::from_secs(60);

/// Everything the runtime needs, resolved from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub daemon_name: String,
    pub tcp: Vec<SocketAddr>,
    /// The Unix socket's path (`/tmp/<port>` unless `SPREAD_SOCKET_DIR`
    /// says otherwise).
    pub unix: Option<PathBuf>,
    /// The uids whose daemon may hold the Unix socket's path: this daemon
    /// shares it with them rather than take it over.
    pub trusted_uids: Vec<u32>,
    /// Who the daemon becomes after binding (it is started as root): the
    /// Unix socket's file is given to them.
    pub socket_owner: Option<(u32, u32)>,
    /// SocketPortReuse, for the TCP listeners.
    pub port_reuse: crate::config::TriState,
    pub max_sessions: usize,
    /// MaxSessionMessages, MaxSessionBytes, MaxQueuedBytes.
    pub queue: QueueLimits,
    pub auth: AuthPolicy,
    pub step_timeout: Duration,
    /// MaxMessageSize (None: 5.0.1's limit).
    pub max_message_size: Option<usize>,
    /// The daemon's logic (its `epoch_secs` is set when it starts).
    pub node: NodeConfig,
    /// The configured daemons' addresses.
    pub net: NetSettings,
    pub status: StatusInfo,
    /// What a monitor may impose (DangerousMonitor).
    pub control: ControlSettings,
    /// MetricsAddress, and where the configuration set it (for errors).
    pub metrics: Option<(SocketAddr, String)>,
    /// `GroupAccessFile`'s rules (none: every join and send is allowed).
    pub group_rules: GroupRules,
    /// The TLS listener (TlsAddress and its files), read at start.
    pub tls: Option<crate::sessions::tls::TlsSettings>,
}

/// Clients are not read while this many messages wait to be sent on the
/// ring (5.0.1's water mark), so a flood slows its senders instead of
/// filling memory.
const WATER_MARK: usize = 500;

/// How often, while a reader is behind, the core looks whether it stalled.
const PACING_REVIEW: Duration = Duration::from_millis(500);

/// A bound daemon, not yet serving.
pub struct Bound {
    settings: Settings,
    tcp: Vec<tokio::net::TcpListener>,
    tls: Option<(tokio::net::TcpListener, tokio_rustls::TlsAcceptor)>,
    unix: Option<tokio::net::UnixListener>,
    socket_file: Option<Arc<SocketFile>>,
    net: NetIo,
    reloader: Option<Reloader>,
    reload_now: Arc<Notify>,
    metrics: Option<MetricsListener>,
}

impl Bound {
    /// Binds every listener; fails before serving anyone if one cannot be.
    pub async fn bind(settings: Settings) -> std::io::Result<Bound> {
        let mut tcp = Vec::new();
        for a in &settings.tcp {
            tcp.push(bind_tcp(*a, settings.port_reuse)?);
        }
        let tls = match &settings.tls {
            Some(t) => {
                let l = bind_tcp(t.addr, settings.port_reuse).map_err(|e| {
                    std::io::Error::new(e.kind(), format!("{}: TlsAddress: {e}", t.set_at))
                })?;
                Some((l, t.acceptor.clone()))
            }
            None => None,
        };
        // Before the Unix socket: a port in use leaves no file behind.
        let metrics = match &settings.metrics {
            Some((addr, set)) => Some(MetricsListener::bind(*addr, set)?),
            None => None,
        };
        let (unix, socket_file) = match settings.unix.as_deref() {
            None => (None, None),
            Some(path) => match bind_unix(path, &settings.trusted_uids, settings.socket_owner) {
                Ok(UnixBinding::Bound(l, file)) => (Some(l), Some(Arc::new(file))),
                Ok(UnixBinding::LeftTo(other)) => {
                    let uid = match other {
                        Occupant::Spread { uid } => uid.to_string(),
                        _ => "?".into(),
                    };
                    warn!(target: "spread", "another Spread daemon (uid {uid}) serves the Unix socket {}; this daemon's clients connect over TCP", path.display());
                    (None, None)
                }
                // Never fatal: the daemon still serves TCP.
                Err(e) => {
                    error!(target: "spread", "{e}; this daemon's clients connect over TCP");
                    (None, None)
                }
            },
        };
        let net = NetIo::bind(&settings.net).await?;
        Ok(Bound {
            settings,
            tcp,
            tls,
            unix,
            socket_file,
            net,
            reloader: None,
            reload_now: Arc::new(Notify::new()),
            metrics,
        })
    }

    /// What a reload reads again (without it a reload is refused).
    pub fn with_reloader(mut self, reloader: Reloader) -> Bound {
        self.reloader = Some(reloader);
        self
    }

    /// Notified (SIGHUP), the daemon reloads its configuration.
    pub fn reload_trigger(&self) -> Arc<Notify> {
        self.reload_now.clone()
    }

    /// The Unix socket file this daemon created, to remove at exit.
    pub fn socket_file(&self) -> Option<Arc<SocketFile>> {
        self.socket_file.clone()
    }

    /// Serves until the process ends.
    pub async fn serve(self) {
        let Bound {
            settings,
            tcp,
            tls,
            unix,
            socket_file,
            net,
            reloader,
            reload_now,
            metrics,
        } = self;
        let (core_tx, core_rx) = mpsc::channel(4096);
        let shared = Arc::new(Shared {
            daemon_name: settings.daemon_name.clone(),
            auth: RwLock::new(Arc::new(settings.auth.clone())),
            auth_refused: Default::default(),
            handshakes_failed: AtomicU64::new(0),
            registry: Registry::new(settings.max_sessions),
            backlogs: Default::default(),
            refusals: Default::default(),
            admission: crate::sessions::admission::Admission::new(),
            core: core_tx,
            next_id: AtomicU64::new(1),
            step_timeout: settings.step_timeout,
            max_message_size: AtomicUsize::new(settings.max_message_size.unwrap_or(0)),
        });
        tokio::spawn(tell_held_periodically(shared.clone()));
        for l in tcp {
            tokio::spawn(accept_tcp(l, shared.clone()));
        }
        if let Some((l, acceptor)) = tls {
            tokio::spawn(accept_tls(l, acceptor, shared.clone()));
        }
        if let (Some(l), Some(path)) = (unix, settings.unix.clone()) {
            tokio::spawn(accept_unix(l, path, shared.clone()));
        }
        let (net_tx, net_rx) = mpsc::channel::<Vec<Received>>(256);
        net.transport().spawn_receivers(net_tx);
        let scrapes = metrics.map(|listener| {
            let (tx, rx) = mpsc::channel::<Scrape>(16);
            tokio::spawn(listener.serve(tx));
            rx
        });
        let mut node_config = settings.node.clone();
        node_config.membership.epoch_secs = NetIo::epoch_secs();
        let core = Core {
            node: Node::new(node_config, net.now()),
            net,
            sessions: HashMap::new(),
            by_group: HashMap::new(),
            pacing: Pacing::new(settings.queue),
            shared,
            queue: settings.queue,
            status: settings.status.clone(),
            started: std::time::Instant::now(),
            forged_reported: Default::default(),
            control: Control::new(settings.control.clone()),
            socket_file,
            reloader,
            counters: Counters::default(),
            access: settings.group_rules.clone(),
        };
        core.run(core_rx, net_rx, reload_now, scrapes).await;
    }
}

struct Handle {
    name: Vec<u8>,
    /// Its private group, as senders are named in frames.
    group: GroupName,
    peer: String,
    out: Outbound,
    /// It took the daemon's MaxMessageSize: it may receive messages above
    /// 5.0.1's limit.
    large_messages: bool,
    /// Cut off for what it had queued (counted once).
    cut_off: bool,
    /// Who it is, for the group access rules.
    who: Who,
}

/// A regular message above what a 5.0.1 client takes (body and names
/// above 143,151 bytes): only sessions that took MaxMessageSize get it.
fn beyond_interoperable(frame: &[u8]) -> bool {
    if frame.len() <= HEADER_LEN + MAX_INTEROPERABLE_PAYLOAD {
        return false;
    }
    let Some(head) = frame.get(..HEADER_LEN) else {
        return false;
    };
    let h = Header::decode(head.try_into().expect("48 bytes"));
    is_regular(h.service_type) && !is_membership(h.service_type)
}

struct Core {
    node: Node,
    net: NetIo,
    sessions: HashMap<SessionId, Handle>,
    /// The local sessions by private group.
    by_group: HashMap<GroupName, SessionId>,
    /// Local senders waiting for local readers that are behind.
    pacing: Pacing,
    shared: Arc<Shared>,
    queue: QueueLimits,
    status: StatusInfo,
    started: std::time::Instant,
    /// Forged ordered messages, as far as the log has told of them.
    forged_reported: crate::logging::ReportedCount,
    /// Partitions and windows a monitor imposed.
    control: Control,
    /// Removed when a monitor terminates the daemon.
    socket_file: Option<Arc<SocketFile>>,
    reloader: Option<Reloader>,
    /// What the metrics show beyond the engine's counts.
    counters: Counters,
    /// `GroupAccessFile`'s rules in force.
    access: GroupRules,
}

/// The next scrape, if metrics are served.
async fn next_scrape(scrapes: &mut Option<mpsc::Receiver<Scrape>>) -> Option<Scrape> {
    match scrapes {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

impl Core {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Cmd>,
        mut net: mpsc::Receiver<Vec<Received>>,
        reload_now: Arc<Notify>,
        mut scrapes: Option<mpsc::Receiver<Scrape>>,
    ) {
        let mut was_accepting = true;
        loop {
            let deadline = self.net.deadline(&self.node);
            let accept_clients = self.node.backlog() < WATER_MARK;
            if accept_clients != was_accepting {
                was_accepting = accept_clients;
                if accept_clients {
                    debug!(target: "spread::flow_control", "the ring caught up: reading clients again");
                } else {
                    debug!(target: "spread::flow_control", "{} messages wait for the ring: not reading clients until they go out", self.node.backlog());
                }
            }
            let pacing = self.pacing.active();
            let shared = self.shared.clone();
            tokio::select! {
                cmd = rx.recv(), if accept_clients => match cmd {
                    Some(cmd) => {
                        self.handle(cmd);
                        // Take what else is waiting before yielding, so
                        // bursts are handled with few wake-ups.
                        for _ in 0..256 {
                            match rx.try_recv() {
                                Ok(cmd) => self.handle(cmd),
                                Err(_) => break,
                            }
                        }
                    }
                    None => return,
                },
                Some(batch) = net.recv() => {
                    self.on_datagrams(batch);
                    for _ in 0..16 {
                        match net.try_recv() {
                            Ok(batch) => self.on_datagrams(batch),
                            Err(_) => break,
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => {
                    let now = self.net.now();
                    self.node.handle_timeout(now);
                }
                // A reader caught up, or time to see whether one stalled.
                _ = shared.backlogs.caught_up(), if pacing => {}
                _ = tokio::time::sleep(PACING_REVIEW), if pacing => {}
                _ = reload_now.notified() => self.reload("SIGHUP"),
                Some(scrape) = next_scrape(&mut scrapes) => {
                    let _ = scrape.send(self.sample());
                    continue;
                }
            }
            self.net.flush(&mut self.node);
            self.dispatch();
            self.pace();
            self.report_forged();
        }
    }

    /// A datagram from another daemon or from a monitor. While a monitor's
    /// partition is in force, what comes from daemons of other components
    /// is dropped before the node sees it.
    fn on_datagrams(&mut self, batch: Vec<Received>) {
        // One reading of the clocks serves the batch (taken at once).
        let now = std::time::Instant::now();
        let node_now = self.net.now();
        for mut d in batch {
            if !self.net.unseal(&mut d) {
                continue;
            }
            if let Some(m) = monitor_packet(&d) {
                if self.net.sealed_as(&d, m.header.transmiter_id) {
                    self.on_monitor(m, &d, now);
                }
                continue;
            }
            // Lifts a partition whose time is up.
            self.control.partitioned(now);
            let control = &mut self.control;
            if let Some(p) = self.net.decode(&d, |index| control.admits(index)) {
                self.node.handle_packet(p, node_now);
            }
        }
    }

    /// A monitor's packet. Only what comes from the address of the
    /// configured daemon it names as transmitter counts (as 5.0.1 checks):
    /// STATUS is answered always, PARTITION and FC need DangerousMonitor.
    fn on_monitor(&mut self, m: MonitorPacket, d: &Received, now: std::time::Instant) {
        let sender = self
            .net
            .transport()
            .sender_of(d.from.ip(), m.header.transmiter_id)
            .map(|p| p.index);
        match m.body {
            MonitorBody::StatusRequest => {
                if sender.is_some() {
                    let to = SocketAddr::new(d.from.ip(), m.reply_port());
                    debug!(target: "spread::status", "status request from {}: answered to {to}", d.from);
                    self.status_reply(to);
                } else {
                    debug!(target: "spread::status", "ignored a status request from {}: not the address of the configured daemon {} it names", d.from, m.header.transmiter_id);
                }
            }
            MonitorBody::Partition(_) | MonitorBody::FlowControl(_) => {
                match self.control.request(&m, d.from, sender, now) {
                    Imposed::Nothing => {}
                    Imposed::Windows(w) => self.set_windows(w),
                    Imposed::Exit => self.exit_by_monitor(),
                }
            }
            MonitorBody::Reload => {
                // As 5.0.1: no DangerousMonitor needed, but the sender
                // must be a configured daemon's address, and the hash
                // ours (the monitor read the file before it was changed;
                // its second copy, after this reload, no longer matches).
                if sender.is_none() {
                    debug!(target: "spread::status", "ignored a reload request from {}: not the address of the configured daemon {} it names", d.from, m.header.transmiter_id);
                } else if m.header.conf_hash != self.control.conf_hash() {
                    debug!(target: "spread::status", "ignored a reload request from {}: configuration hash {} is not ours ({})", d.from, m.header.conf_hash, self.control.conf_hash());
                } else {
                    self.reload(&format!("reload request from monitor {}", d.from));
                }
            }
            MonitorBody::StatusReply(_) => {}
        }
    }

    /// Reads the configuration file again and takes it (see `reload.rs`);
    /// `why` says who asked, for the log.
    fn reload(&mut self, why: &str) {
        let Some(r) = self.reloader.as_mut() else {
            warn!(target: "spread::config", "{why}: this daemon cannot reload its configuration");
            return;
        };
        let new = match r.file.read() {
            Ok(c) => c,
            Err(e) => {
                error!(target: "spread::config", "{why}: {e}; the running configuration (hash {}) stays in force", r.config.hash());
                return;
            }
        };
        for (line, text) in &new.warnings {
            warn!(target: "spread::config", "{}:{line}: {text}", new.source);
        }
        if (new.metrics_address, new.event_log_format)
            != (r.config.metrics_address, r.config.event_log_format)
        {
            warn!(target: "spread::config", "{why}: MetricsAddress and EventLogFormat stay as they were until the daemon restarts");
        }
        let tls_options = |c: &crate::config::ClientAccess| {
            let path =
                |w: &Option<crate::config::Written<PathBuf>>| w.as_ref().map(|w| w.value.clone());
            (
                c.tls_address.as_ref().map(|w| w.value),
                path(&c.tls_certificate_file),
                path(&c.tls_key_file),
                path(&c.tls_client_ca_file),
            )
        };
        if tls_options(&new.client_access) != tls_options(&r.config.client_access) {
            warn!(target: "spread::config", "{why}: the TLS options (TlsAddress and its files) stay as they were until the daemon restarts");
        }
        let new_me = new.find_me(r.name.as_deref()).ok();
        let alone = match judge(&r.config, r.me, &new, new_me) {
            Change::Exit(reason) => self.exit_by_reload(&format!("{why}: {reason}")),
            Change::Alone(reason) => {
                info!(target: "spread::config", "{why}: {reason}: every daemon forms a ring alone before they merge again");
                true
            }
            Change::Members { added, removed } => {
                info!(target: "spread::config", "{why}: daemons added: [{}], removed: [{}]", added.join(", "), removed.join(", "));
                false
            }
        };
        let Some(me) = new_me else {
            return;
        };
        let secrets = match crate::auth::secret::load_secrets(&new, &mut r.secret_file) {
            Ok(s) => s,
            Err(e) => {
                error!(target: "spread::config", "{why}: {e}; the running configuration (hash {}) stays in force", r.config.hash());
                return;
            }
        };
        let mut settings = match crate::setup::settings_from(&new, me, r.rules.clone(), secrets, 0)
        {
            Ok(s) => s,
            Err(e) => {
                error!(target: "spread::config", "{why}: {e}; the running configuration (hash {}) stays in force", r.config.hash());
                return;
            }
        };
        settings.net.keys = match r.key_files.load(&new) {
            Ok(k) => k,
            Err(e) => {
                error!(target: "spread::config", "{why}: {e}; the running configuration (hash {}) stays in force", r.config.hash());
                return;
            }
        };
        if let Some(k) = &settings.net.keys {
            info!(target: "spread::network", "{why}: sealing with ring key {:08x}, accepting {}", k.seal.id(), k.open.iter().map(|k| format!("{:08x}", k.id())).collect::<Vec<_>>().join(", "));
        } else if self.net.sealed() {
            warn!(target: "spread::network", "{why}: no RingKeyFile any more: datagrams between daemons go out plain");
        }
        if let Err(e) = self.net.reconfigure(&settings.net) {
            self.exit_by_reload(&format!("{why}: {e}"));
        }
        info!(target: "spread::config", "{why}: now running {} (hash {} was {}), {} daemons", new.source, new.hash(), r.config.hash(), new.daemons().count());
        r.config = new;
        r.me = me;
        self.status = settings.status;
        self.queue = settings.queue;
        // Clients that come from now on meet the new methods and lists.
        self.shared.set_auth_policy(settings.auth);
        // Joins and sends from now on meet the new group rules; a file
        // that cannot be read or parsed leaves the old ones in force.
        match crate::auth::kept::load_group_rules(&r.config, &mut r.group_file) {
            Ok(rules) => {
                if rules != self.access {
                    info!(target: "spread::auth", "{why}: {} group access rules in force", rules.len());
                }
                self.access = rules;
            }
            Err(e) => {
                error!(target: "spread::auth", "{why}: {e}; the group access rules in force stay")
            }
        }
        // Sessions that took MaxMessageSize follow the new one (none: back
        // to 5.0.1's limit); the ring takes it with the new membership.
        let max = settings.max_message_size.unwrap_or(0);
        self.shared.max_message_size.store(max, Ordering::Relaxed);
        // A monitor's partition names daemons by their old positions.
        self.control = Control::new(settings.control);
        let now = self.net.now();
        self.node.reconfigure(settings.node, alone, now);
    }

    /// A reload found that this daemon can no longer run (already said
    /// why): it exits as 5.0.1 does, its clients lose their sessions.
    fn exit_by_reload(&self, why: &str) -> ! {
        error!(target: "spread::config", "{why}: exiting");
        if let Some(file) = &self.socket_file {
            file.remove();
        }
        std::process::exit(1)
    }

    /// Answers a monitor's STATUS request.
    fn status_reply(&self, to: SocketAddr) {
        let engine = self.node.engine();
        let reply = status_reply(
            &self.status,
            self.started,
            Some(self.node.membership()),
            self.sessions.len(),
            engine.group_count(),
            engine.exchanging(),
            self.node.stats.delivered,
        );
        self.net.transport().send_to(to, &reply);
    }

    /// What a metrics scrape shows.
    fn sample(&self) -> Sample {
        let memb = self.node.membership();
        let ring = memb.ring();
        let engine = self.node.engine();
        let backlogs = self.sessions.values().map(|h| &h.out.backlog);
        Sample {
            counters: self.counters.clone(),
            sessions: self.sessions.len(),
            groups: engine.group_count(),
            members: engine.groups().iter().map(|g| g.members.len()).sum(),
            state: memb.state().name(),
            ring_size: ring.old_members().len(),
            membership_changes: u64::from(memb.changes),
            packets_sent: ring.stats.packets_sent,
            packets_received: ring.stats.packets_received,
            retransmissions: ring.stats.retransmitted,
            tokens: ring.stats.tokens,
            token_rounds: ring.token_rounds().max(0) as u64,
            token_hurries: ring.stats.hurries,
            packets_delivered: ring.stats.delivered,
            drops: [
                self.net.malformed,
                self.net.unknown_source,
                memb.refused,
                ring.stats.dropped,
                ring.stats.refused_ahead,
                engine.forged(),
                self.node.stats.undeliverable,
                self.counters.rejected_messages,
                self.counters.refused_joins,
            ],
            seal_drops: self.net.seal_refused.counts(),
            ring_backlog: self.node.backlog(),
            session_backlog_messages: backlogs.clone().map(|b| b.messages()).sum(),
            session_backlog_bytes: backlogs.map(|b| b.bytes()).sum(),
            uptime_secs: self.started.elapsed().as_secs(),
            auth_refused: (self.shared.auth_refused.each_ref()).map(|a| a.load(Ordering::Relaxed)),
            handshakes_failed: self.shared.handshakes_failed.load(Ordering::Relaxed),
        }
    }

    /// New flow-control windows from a monitor, for the ring and for the
    /// STATUS replies.
    fn set_windows(&mut self, w: Windows) {
        self.node.set_windows(w.window, w.personal, w.accelerated);
        let small = |v: i32| v.min(i32::from(i16::MAX)) as i16;
        if let Some(v) = w.window {
            self.status.window = small(v);
        }
        if let Some(v) = w.personal {
            self.status.personal_window = small(v);
        }
        if let (Some(v), Some(a)) = (w.accelerated, self.status.accelerated_window.as_mut()) {
            *a = small(v);
        }
    }

    /// A monitor put this daemon in component −1 (already logged).
    fn exit_by_monitor(&self) -> ! {
        if let Some(file) = &self.socket_file {
            file.remove();
        }
        std::process::exit(0)
    }

    /// Says in the log, at most once a minute, how many ordered messages
    /// were dropped for naming a client of another daemon.
    fn report_forged(&mut self) {
        let forged = self.node.engine().forged();
        if let Some(new) = self.forged_reported.due(forged, FORGED_REPORT_EVERY) {
            warn!(target: "spread::network", "dropped {new} ordered messages whose sender is not a client of the daemon that sent them (forged?)");
        }
    }

    /// A request of a local session, for the node to order.
    fn order(&mut self, id: SessionId, header: &spread_core::wire::Header, frame: bytes::Bytes) {
        if !self.access.is_empty() && !self.access_allows(id, header, &frame) {
            return;
        }
        let now = self.net.now();
        match self.node.handle_request(id, header, frame, now) {
            Ok(()) => self.counters.from_client(header),
            Err(Refused::GroupCap { group, groups, cap }) => {
                self.counters.refused_joins += 1;
                let line = format!(
                    "refused a join of {group} by {}: it is in {groups} groups (MaxGroupsPerSession = {cap})",
                    header.sender
                );
                self.shared.refusals.note(Refusal::Join, line);
            }
            Err(Refused::TooLarge) => {
                warn!(target: "spread::session", "dropped a message from {} too large for the ring", header.sender);
            }
        }
    }

    /// Checks a join or a message against the group access rules; a
    /// refusal goes back to the sender as a REJECT (as a join past
    /// MaxGroupsPerSession does), is counted, and logged once a minute.
    fn access_allows(
        &mut self,
        id: SessionId,
        header: &spread_core::wire::Header,
        frame: &[u8],
    ) -> bool {
        let action = if header.service_type & JOIN_MESS != 0 {
            Action::Join
        } else if is_regular(header.service_type) {
            Action::Send
        } else {
            return true;
        };
        let Some(h) = self.sessions.get(&id) else {
            return true;
        };
        let n = header.num_groups.max(0) as usize;
        let names = frame
            .get(HEADER_LEN..HEADER_LEN + n * MAX_GROUP_NAME)
            .unwrap_or_default();
        for name in names.chunks(MAX_GROUP_NAME) {
            let group = name.split(|&b| b == 0).next().unwrap_or_default();
            if let Err(denied) = self.access.check(action, group, &h.who) {
                self.counters.access_refused[action.index()] += 1;
                let line = format!(
                    "refused a {} of {} to {} ({}): denied by {}",
                    action.name(),
                    header.sender,
                    String::from_utf8_lossy(group),
                    h.peer,
                    denied.at
                );
                self.shared.refusals.note(Refusal::Access(action), line);
                self.node.handle_refused(id, header, names);
                return false;
            }
        }
        true
    }

    fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Open {
                id,
                info,
                name,
                peer,
                out: outbound,
                large_messages,
                who,
            } => {
                debug!(target: "spread::session", "{} connected ({peer})", info.private_group);
                let group = info.private_group;
                self.node.handle_open(id, info);
                self.by_group.insert(group, id);
                self.sessions.insert(
                    id,
                    Handle {
                        name,
                        group,
                        peer,
                        out: outbound,
                        large_messages,
                        cut_off: false,
                        who,
                    },
                );
            }
            Cmd::Request { id, header, frame } => self.order(id, &header, frame),
            Cmd::Refuse {
                id,
                header,
                names,
                why,
            } => {
                self.counters.rejected_messages += 1;
                if let Some(h) = self.sessions.get(&id) {
                    let line = format!(
                        "refused a message from {} ({}): {why}",
                        header.sender, h.peer
                    );
                    self.shared.refusals.note(Refusal::Message, line);
                }
                self.node.handle_refused(id, &header, &names);
            }
            Cmd::Gone { id, reason } => {
                if let Some(h) = self.sessions.get(&id) {
                    let name = String::from_utf8_lossy(&h.name);
                    if reason.starts_with("connection closed") {
                        debug!(target: "spread::session", "{name} ({}): {reason}", h.peer);
                    } else {
                        warn!(target: "spread::session", "disconnecting {name} ({}): {reason}", h.peer);
                    }
                }
                let now = self.net.now();
                self.node.handle_gone(id, now);
            }
        }
    }

    /// Hands the node's frames to the sessions' writers and closes the
    /// sessions it is done with; a session past a limit on its queued
    /// output is cut off and its disconnect ordered.
    fn dispatch(&mut self) {
        loop {
            let mut slow = Vec::new();
            let shared = self.shared.clone();
            let mut charges = shared.backlogs.charger();
            while let Some(o) = self.node.poll_output() {
                match o {
                    Output::Deliver { session, frame } => {
                        if slow.contains(&session) {
                            continue;
                        }
                        let Some(h) = self.sessions.get(&session) else {
                            continue;
                        };
                        if !h.large_messages && beyond_interoperable(&frame) {
                            // It cannot take it, and leaving it out would
                            // break the group's guarantee (every member
                            // gets every message of its view) in silence:
                            // it leaves the group as a disconnect instead.
                            let why = format!("a message of {} bytes is above what its client takes (5.0.1's limit; MaxMessageSize needs a client of ours)", frame.len() - HEADER_LEN);
                            self.cut_off(session, why);
                            slow.push(session);
                            continue;
                        }
                        // A reader behind on what a local sender sends makes
                        // the sender wait; what the sender had already sent
                        // still reaches the reader, past its own limits.
                        let held = self.pacing.is_behind(&h.out.backlog)
                            && self.hold_sender(session, &frame);
                        let Some(h) = self.sessions.get(&session) else {
                            continue;
                        };
                        let charge = charges.charge(&frame);
                        let total = shared.backlogs.bytes();
                        match self.queue.check(&h.out.backlog, frame.len(), total) {
                            Ok(()) => {}
                            Err(Over::Messages(_) | Over::Bytes(_)) if held => {}
                            Err(over) => {
                                // Past the daemon's limit the session with
                                // the most queued goes, which need not be
                                // this one.
                                let victim = match over {
                                    Over::Total(_) => shared.backlogs.victim(
                                        self.sessions.iter().map(|(id, h)| (*id, &h.out.backlog)),
                                    ),
                                    _ => Some(session),
                                };
                                if let Some(v) = victim {
                                    self.cut_off(v, over);
                                    slow.push(v);
                                    if v == session {
                                        continue;
                                    }
                                }
                            }
                        }
                        if let Some(h) = self.sessions.get(&session) {
                            self.counters.to_client(&frame);
                            h.out.send(frame, charge);
                        }
                    }
                    Output::Close { session } => self.close(session),
                    Output::Order { .. } => {}
                }
            }
            if slow.is_empty() {
                return;
            }
            let now = self.net.now();
            for id in slow {
                self.node.handle_gone(id, now);
            }
            self.net.flush(&mut self.node);
        }
    }

    /// `reader` is behind and `frame` is for it: if another local session
    /// sent it, that session is not read from until the reader has caught
    /// up (or stalled). True when the sender is held for the reader.
    fn hold_sender(&mut self, reader: SessionId, frame: &[u8]) -> bool {
        let Some(sender) = frame.get(4..4 + MAX_GROUP_NAME) else {
            return false;
        };
        let Some(&sender) = self.by_group.get(&GroupName::from_field(sender)) else {
            return false;
        };
        let (Some(r), Some(s)) = (self.sessions.get(&reader), self.sessions.get(&sender)) else {
            return false;
        };
        match self
            .pacing
            .hold(reader, &r.out.backlog, sender, std::time::Instant::now())
        {
            Hold::Started => {
                debug!(target: "spread::flow_control", "not reading from {} while {} is behind ({} messages, {} bytes queued)", s.group, r.group, r.out.backlog.messages(), r.out.backlog.bytes());
                let _ = s.out.pause.send(true);
                true
            }
            Hold::Already => true,
            Hold::No => false,
        }
    }

    /// Senders whose readers caught up, or stopped reading altogether, are
    /// read from again.
    fn pace(&mut self) {
        if !self.pacing.active() {
            return;
        }
        let sessions = &self.sessions;
        let review = self.pacing.review(
            |id| sessions.get(&id).map(|h| &h.out.backlog),
            std::time::Instant::now(),
        );
        for id in review.resume {
            if let Some(h) = self.sessions.get(&id) {
                debug!(target: "spread::flow_control", "reading from {} again", h.group);
                let _ = h.out.pause.send(false);
            }
        }
        // What its senders had sent before they were held may have taken a
        // stalled reader past its limits: it goes now, as it would have.
        let mut cut = Vec::new();
        for id in review.stalled {
            let Some(h) = self.sessions.get(&id) else {
                continue;
            };
            debug!(target: "spread::flow_control", "{} read nothing for {STALL:?}: its senders no longer wait for it ({} messages, {} bytes queued)", h.group, h.out.backlog.messages(), h.out.backlog.bytes());
            if let Err(over) = self.queue.check(&h.out.backlog, 0, 0) {
                self.cut_off(id, over);
                cut.push(id);
            }
        }
        if cut.is_empty() {
            return;
        }
        let now = self.net.now();
        for id in cut {
            self.node.handle_gone(id, now);
        }
        self.net.flush(&mut self.node);
        self.dispatch();
    }

    /// Disconnects a session past a limit on its queued output.
    fn cut_off(&mut self, id: SessionId, over: impl std::fmt::Display) {
        if let Some(h) = self.sessions.get_mut(&id) {
            if !h.cut_off {
                h.cut_off = true;
                self.counters.sessions_cut_off += 1;
            }
            let name = String::from_utf8_lossy(&h.name);
            warn!(target: "spread::session", "disconnecting {name} ({}): {over}", h.peer);
            h.out.cut_off(&self.shared.backlogs);
        }
    }

    fn close(&mut self, id: SessionId) {
        self.pacing.forget_sender(id);
        if let Some(h) = self.sessions.remove(&id) {
            self.by_group.remove(&h.group);
            debug!(target: "spread::session", "{id} closed");
            let _ = h.out.abort.send(true);
            self.shared.registry.release_name(&h.name);
            self.shared.registry.release_slot();
        }
    }
}

/// A monitor's packet, if `d` is one (data port, a control type bit, a
/// well-formed body).
fn monitor_packet(d: &Received) -> Option<MonitorPacket> {
    if d.port != Port::Data || DataHeader::decode(&d.bytes).ok()?.ty & CONTROL_TYPE == 0 {
        return None;
    }
    MonitorPacket::decode(&d.bytes).ok()
}
