//! The daemon at run time: binds the listeners, runs the core task that
//! owns the engine, and routes the engine's outputs to sessions.

use crate::auth::AuthPolicy;
use crate::control::{Control, ControlSettings, Imposed, Windows};
use crate::engine::{Engine, Identity, Output, SessionId};
use crate::packet::{DataHeader, MonitorBody, MonitorPacket, Port, CONTROL_TYPE};
use crate::ring_driver::{kill_request, RingDriver, RingEvent, RingSettings};
use crate::sessions::backlog::{Over, QueueLimits};
use crate::sessions::group_cap::GroupCap;
use crate::sessions::listen::{accept_tcp, accept_unix, bind_tcp, bind_unix};
use crate::sessions::refusals::{tell_held_periodically, Refusal};
use crate::sessions::registry::Registry;
use crate::sessions::{Cmd, Outbound, Shared};
use crate::status::{status_reply, StatusInfo};
use crate::transport::{Peer, Received, Transport};
use spread_core::consts::{HEADER_LEN, KILL_MESS, MAX_GROUP_NAME, SAFE_MESS};
use spread_core::name::GroupName;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, warn};

/// How often the log may repeat that forged ordered messages were dropped.
const FORGED_REPORT_EVERY: Duration = Duration::from_secs(60);

/// Everything the runtime needs, resolved from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub daemon_name: String,
    pub identity: Identity,
    pub tcp: Vec<SocketAddr>,
    pub unix: Option<PathBuf>,
    pub max_sessions: usize,
    /// MaxSessionMessages, MaxSessionBytes, MaxQueuedBytes.
    pub queue: QueueLimits,
    pub max_groups_per_session: usize,
    pub auth: AuthPolicy,
    pub step_timeout: Duration,
    /// The ring with the other configured daemons; None when alone.
    pub ring: Option<RingSettings>,
    /// This daemon's addresses (a daemon alone answers monitors there).
    pub me: Peer,
    pub status: StatusInfo,
    /// Every configured daemon, in configuration order.
    pub daemons: Vec<crate::engine::DaemonInfo>,
    /// What a monitor may impose (DangerousMonitor).
    pub control: ControlSettings,
}

/// Clients are not read while this many messages wait to be sent on the
/// ring (5.0.1's water mark), so a flood slows its senders instead of
/// filling memory.
const WATER_MARK: usize = 500;

/// A bound daemon, not yet serving.
pub struct Bound {
    settings: Settings,
    tcp: Vec<tokio::net::TcpListener>,
    unix: Option<tokio::net::UnixListener>,
    ring: Option<RingDriver>,
    /// The UDP ports of a daemon that is alone (for monitors).
    alone: Option<Transport>,
}

impl Bound {
    /// Binds every listener; fails before serving anyone if one cannot be.
    pub async fn bind(settings: Settings) -> std::io::Result<Bound> {
        let mut tcp = Vec::new();
        for a in &settings.tcp {
            tcp.push(bind_tcp(*a).await?);
        }
        let unix = settings.unix.as_deref().map(bind_unix).transpose()?;
        let ring = match &settings.ring {
            Some(r) => Some(RingDriver::bind(r).await?),
            None => None,
        };
        let alone = match ring {
            None => Some(
                Transport::bind(
                    settings.me.id,
                    std::slice::from_ref(&settings.me),
                    0.0,
                    None,
                )
                .await?,
            ),
            Some(_) => None,
        };
        Ok(Bound {
            settings,
            tcp,
            unix,
            ring,
            alone,
        })
    }

    /// Serves until the process ends.
    pub async fn serve(self) {
        let Bound {
            settings,
            tcp,
            unix,
            ring,
            alone,
        } = self;
        let (core_tx, core_rx) = mpsc::channel(4096);
        let shared = Arc::new(Shared {
            daemon_name: settings.daemon_name.clone(),
            auth: settings.auth.clone(),
            registry: Registry::new(settings.max_sessions),
            backlogs: Default::default(),
            refusals: Default::default(),
            admission: crate::sessions::admission::Admission::new(),
            core: core_tx,
            next_id: AtomicU64::new(1),
            step_timeout: settings.step_timeout,
        });
        tokio::spawn(tell_held_periodically(shared.clone()));
        for l in tcp {
            tokio::spawn(accept_tcp(l, shared.clone()));
        }
        if let (Some(l), Some(path)) = (unix, settings.unix.clone()) {
            tokio::spawn(accept_unix(l, path, shared.clone()));
        }
        let (net_tx, net_rx) = mpsc::channel::<Received>(4096);
        if let Some(t) = ring.as_ref().map(|r| r.transport()).or(alone.as_ref()) {
            t.spawn_receivers(net_tx);
        }
        let core = Core {
            engine: {
                let mut e = Engine::new(settings.identity.clone());
                e.configure(settings.daemons.clone());
                e
            },
            sessions: HashMap::new(),
            shared,
            queue: settings.queue,
            group_cap: GroupCap::new(
                settings.max_groups_per_session,
                settings.identity.daemon_index,
            ),
            ring,
            alone,
            dying: HashSet::new(),
            status: settings.status.clone(),
            started: std::time::Instant::now(),
            delivered: 0,
            forged_reported: Default::default(),
            control: Control::new(settings.control.clone()),
            socket_file: settings.unix.clone(),
        };
        core.run(core_rx, net_rx).await;
    }
}

struct Handle {
    name: Vec<u8>,
    peer: String,
    out: Outbound,
}

struct Core {
    engine: Engine,
    sessions: HashMap<SessionId, Handle>,
    shared: Arc<Shared>,
    queue: QueueLimits,
    group_cap: GroupCap,
    ring: Option<RingDriver>,
    /// Sessions whose disconnect is on its way through the order.
    dying: HashSet<SessionId>,
    alone: Option<Transport>,
    status: StatusInfo,
    started: std::time::Instant,
    /// Messages handed to sessions.
    delivered: u64,
    /// Forged ordered messages, as far as the log has told of them.
    forged_reported: crate::logging::ReportedCount,
    /// Partitions and windows a monitor imposed.
    control: Control,
    /// Removed when a monitor terminates the daemon.
    socket_file: Option<PathBuf>,
}

impl Core {
    async fn run(mut self, mut rx: mpsc::Receiver<Cmd>, mut net: mpsc::Receiver<Received>) {
        let mut out = Vec::new();
        loop {
            let deadline = self.ring.as_ref().map(|r| r.deadline());
            let accept_clients = self.ring.as_ref().is_none_or(|r| r.backlog() < WATER_MARK);
            tokio::select! {
                cmd = rx.recv(), if accept_clients => match cmd {
                    Some(cmd) => {
                        self.handle(cmd, &mut out);
                        // Take what else is waiting before yielding, so
                        // bursts are handled with few wake-ups.
                        for _ in 0..256 {
                            match rx.try_recv() {
                                Ok(cmd) => self.handle(cmd, &mut out),
                                Err(_) => break,
                            }
                        }
                    }
                    None => return,
                },
                Some(d) = net.recv() => {
                    self.on_datagram(d);
                    for _ in 0..256 {
                        match net.try_recv() {
                            Ok(d) => self.on_datagram(d),
                            Err(_) => break,
                        }
                    }
                }
                _ = sleep_until(deadline) => {
                    if let Some(r) = self.ring.as_mut() {
                        r.on_timer();
                    }
                }
            }
            self.pump_ring(&mut out);
        }
    }

    /// A datagram from another daemon or from a monitor. While a monitor's
    /// partition is in force, what comes from daemons of other components
    /// is dropped before the ring sees it.
    fn on_datagram(&mut self, d: Received) {
        let now = std::time::Instant::now();
        if let Some(m) = monitor_packet(&d) {
            self.on_monitor(m, &d, now);
            return;
        }
        // Lifts a partition whose time is up.
        self.control.partitioned(now);
        if let Some(r) = self.ring.as_mut() {
            let control = &mut self.control;
            r.on_datagram(d, |index| control.admits(index));
        }
    }

    fn transport(&self) -> Option<&Transport> {
        self.ring
            .as_ref()
            .map(|r| r.transport())
            .or(self.alone.as_ref())
    }

    /// A monitor's packet. Only what comes from the address of the
    /// configured daemon it names as transmitter counts (as 5.0.1 checks):
    /// STATUS is answered always, PARTITION and FC need DangerousMonitor.
    fn on_monitor(&mut self, m: MonitorPacket, d: &Received, now: std::time::Instant) {
        let sender = self
            .transport()
            .and_then(|t| t.sender_of(d.from.ip(), m.header.transmiter_id))
            .map(|p| p.index);
        match m.body {
            MonitorBody::StatusRequest => {
                if sender.is_some() {
                    self.status_reply(SocketAddr::new(d.from.ip(), m.reply_port()));
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
                if sender.is_some() {
                    warn!(target: "spread::monitor", "ignored a configuration reload request from {}: reloading is not supported", d.from);
                }
            }
            MonitorBody::StatusReply(_) => {}
        }
    }

    /// Answers a monitor's STATUS request.
    fn status_reply(&self, to: SocketAddr) {
        let memb = self.ring.as_ref().map(|r| r.membership());
        let reply = status_reply(
            &self.status,
            self.started,
            memb,
            self.sessions.len(),
            self.engine.group_count(),
            self.engine.exchanging(),
            self.delivered,
        );
        if let Some(t) = self.transport() {
            t.send_to(to, &reply);
        }
    }

    /// New flow-control windows from a monitor, for the ring and for the
    /// STATUS replies.
    fn set_windows(&mut self, w: Windows) {
        if let Some(r) = self.ring.as_mut() {
            r.set_flow_control(w.window, w.personal, w.accelerated);
        }
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
        if let Some(path) = &self.socket_file {
            let _ = std::fs::remove_file(path);
        }
        std::process::exit(0)
    }

    /// Sends what the ring produced and applies what it delivered.
    fn pump_ring(&mut self, out: &mut Vec<Output>) {
        // Dispatching may queue more (KILLs of sessions found dead, GROUPS
        // messages) that a ring of one orders at once: until quiet.
        loop {
            let Some(r) = self.ring.as_mut() else { return };
            let events = r.pump();
            if events.is_empty() {
                return;
            }
            for e in events {
                match e {
                    RingEvent::Message(origin, header, message) => {
                        self.group_cap.ordered(origin, &header);
                        self.engine.ordered(origin, &header, &message, out)
                    }
                    RingEvent::Transitional(members, id) => {
                        self.engine.transitional(&members, id, out)
                    }
                    RingEvent::Regular(members, id) => self.engine.regular(&members, id, out),
                }
            }
            self.dispatch(out);
            self.report_forged();
        }
    }

    /// Says in the log, at most once a minute, how many ordered messages
    /// were dropped for naming a client of another daemon.
    fn report_forged(&mut self) {
        let forged = self.engine.forged();
        if let Some(new) = self.forged_reported.due(forged, FORGED_REPORT_EVERY) {
            warn!(target: "spread::network", "dropped {new} ordered messages whose sender is not a client of the daemon that sent them (forged?)");
        }
    }

    /// A request of a local session: ordered by the ring, or applied at
    /// once when this daemon is alone.
    fn order(
        &mut self,
        id: SessionId,
        header: &spread_core::wire::Header,
        frame: bytes::Bytes,
        out: &mut Vec<Output>,
    ) {
        if header.service_type & KILL_MESS != 0 {
            self.dying.insert(id);
        }
        if let Err(n) = self.group_cap.admit(header, |m| self.engine.groups_of(m)) {
            self.refuse_join(id, header, &frame, n, out);
            return;
        }
        match self.ring.as_mut() {
            Some(r) => r.submit(frame, header.service_type),
            None => {
                self.engine.request(id, header, frame, out);
                self.group_cap.applied(header);
            }
        }
    }

    /// A join past MaxGroupsPerSession goes back to its sender as a REJECT.
    fn refuse_join(
        &mut self,
        id: SessionId,
        header: &spread_core::wire::Header,
        frame: &[u8],
        groups: usize,
        out: &mut Vec<Output>,
    ) {
        let names = header.num_groups.max(0) as usize * MAX_GROUP_NAME;
        let names = frame.get(HEADER_LEN..HEADER_LEN + names).unwrap_or(&[]);
        let group = names.get(..MAX_GROUP_NAME).map(GroupName::from_field);
        let group = group.map(|g| g.to_string()).unwrap_or_default();
        let line = format!(
            "refused a join of {group} by {}: it is in {groups} groups (MaxGroupsPerSession = {})",
            header.sender,
            self.group_cap.cap()
        );
        self.shared.refusals.note(Refusal::Join, line);
        self.engine.refuse(id, header, names, out);
    }

    /// A local session is gone: its disconnect goes through the order.
    fn gone(&mut self, id: SessionId, out: &mut Vec<Output>) {
        // Once: its disconnect is ordered, and nothing more is queued for it.
        if !self.dying.insert(id) {
            return;
        }
        match (self.ring.as_mut(), self.engine.private_group(id)) {
            (Some(r), Some(member)) => r.submit(kill_request(&member), KILL_MESS | SAFE_MESS),
            (Some(_), None) => {}
            (None, _) => self.engine.kill(id, out),
        }
    }

    fn handle(&mut self, cmd: Cmd, out: &mut Vec<Output>) {
        match cmd {
            Cmd::Open {
                id,
                info,
                name,
                peer,
                out: outbound,
            } => {
                debug!(target: "spread::session", "{} connected ({peer})", info.private_group);
                self.group_cap.forget(&info.private_group);
                self.engine.open(id, info);
                self.sessions.insert(
                    id,
                    Handle {
                        name,
                        peer,
                        out: outbound,
                    },
                );
            }
            Cmd::Request { id, header, frame } => self.order(id, &header, frame, out),
            Cmd::Refuse {
                id,
                header,
                names,
                why,
            } => {
                if let Some(h) = self.sessions.get(&id) {
                    let line = format!(
                        "refused a message from {} ({}): {why}",
                        header.sender, h.peer
                    );
                    self.shared.refusals.note(Refusal::Message, line);
                }
                self.engine.refuse(id, &header, &names, out);
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
                self.gone(id, out);
            }
        }
        self.dispatch(out);
    }

    fn dispatch(&mut self, out: &mut Vec<Output>) {
        let mut slow = Vec::new();
        let shared = self.shared.clone();
        let mut charges = shared.backlogs.charger();
        for o in out.drain(..) {
            match o {
                Output::Deliver { session, frame } => {
                    if slow.contains(&session) || self.dying.contains(&session) {
                        continue;
                    }
                    let Some(h) = self.sessions.get(&session) else {
                        continue;
                    };
                    let charge = charges.charge(&frame);
                    let total = shared.backlogs.bytes();
                    if let Err(over) = self.queue.check(&h.out.backlog, frame.len(), total) {
                        // Past the daemon's limit the session with the most
                        // queued goes, which need not be this one.
                        let victim = match over {
                            Over::Total(_) => shared
                                .backlogs
                                .victim(self.sessions.iter().map(|(id, h)| (*id, &h.out.backlog))),
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
                    if let Some(h) = self.sessions.get(&session) {
                        h.out.send(frame, charge);
                        self.delivered += 1;
                    }
                }
                Output::Close { session } => self.close(session),
                Output::Order { frame, service } => {
                    if let Some(r) = self.ring.as_mut() {
                        r.submit(frame, service);
                    }
                }
            }
        }
        for id in slow {
            let mut more = Vec::new();
            self.gone(id, &mut more);
            self.dispatch(&mut more);
        }
    }

    /// Disconnects a session past a limit on its queued output.
    fn cut_off(&self, id: SessionId, over: Over) {
        if let Some(h) = self.sessions.get(&id) {
            let name = String::from_utf8_lossy(&h.name);
            warn!(target: "spread::session", "disconnecting {name} ({}): {over}", h.peer);
            h.out.cut_off(&self.shared.backlogs);
        }
    }

    fn close(&mut self, id: SessionId) {
        self.dying.remove(&id);
        if let Some(h) = self.sessions.remove(&id) {
            debug!(target: "spread::session", "{id} closed");
            let _ = h.out.abort.send(true);
            self.shared.registry.release_name(&h.name);
            self.shared.registry.release_slot();
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
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
