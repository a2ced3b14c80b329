//! Whole daemons in simulation: each is the production [`Node`] (the
//! membership protocol with its ring, the group layer, the sessions'
//! logical state), its clients are sessions of that node, and the network
//! is [`Net`]. Only the I/O and the clock are the simulator's. Daemons crash and restart,
//! the network partitions and heals; what every client sees is logged for
//! the EVS checker. One seed decides everything.

use super::checker::{ClientLog, Event, MsgId};
use super::net::{Faults, Net};
use super::wiring::{decode, next_event, route};
use crate::engine::membership::{Daemon, MembershipConfig, State, Timeouts};
use crate::engine::node::{Node, NodeConfig};
use crate::engine::{DaemonInfo, Identity, Output, SessionId, SessionInfo};
use bytes::Bytes;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::{split_frame, ByteOrder, Header, Limits, Message};
use spread_core::GroupName;

/// 5.0.1's LAN timeouts, with a 5 s lookup so that heals are found soon.
pub const SIM_TIMEOUTS: Timeouts =
    Timeouts::from_ms([1250, 500, 250, 250, 625, 500, 1250, 1250, 5000]);

struct SimDaemon {
    node: Node,
    up: bool,
}

struct Client {
    node: usize,
    session: SessionId,
    name: GroupName,
    log: ClientLog,
    sent: u64,
    connected: bool,
}

pub struct Cluster {
    nodes: Vec<SimDaemon>,
    clients: Vec<Client>,
    ids: Vec<u32>,
    /// The daemons (node numbers, in configuration order) each daemon is
    /// configured with, and that configuration's hash: all of them and
    /// one hash unless a test reloads.
    configs: Vec<(Vec<usize>, u32)>,
    accelerated: bool,
    /// MaxMessageSize of every daemon (None: 5.0.1's limit).
    max_message_size: Option<usize>,
    /// Every daemon's packet body (a sealed ring's is smaller).
    packet_body: usize,
    timeouts: Timeouts,
    /// Restarts so far (names the clients of restarted daemons).
    restarts: usize,
    pub net: Net,
    pub now: u64,
    /// The longest frame a client was handed (that large messages were
    /// sent and delivered).
    pub largest_delivered: usize,
}

const FIRST_ID: u32 = 7001;

/// The largest body a client may send to one group (what sessions admit).
pub const LARGEST_BODY: usize = crate::sessions::validate::MAX_RING_PAYLOAD - MAX_GROUP_NAME;

/// The body of forged messages, before the number of the daemon posed as.
const FORGED: &[u8] = b"forged by ";

impl Cluster {
    /// `daemons` daemons, all starting now, with `clients` clients each;
    /// Accelerated Ring with window 15 if `accelerated`.
    pub fn new(
        daemons: usize,
        clients: usize,
        faults: Faults,
        seed: u64,
        accelerated: bool,
    ) -> Cluster {
        let body = crate::packet::MAX_BODY_LEN;
        Cluster::with_max_message_size(daemons, clients, faults, seed, accelerated, None, body)
    }

    /// As [`Cluster::new`], every daemon with `MaxMessageSize` (its
    /// clients take it) and packets of `packet_body` bytes at most.
    pub fn with_max_message_size(
        daemons: usize,
        clients: usize,
        faults: Faults,
        seed: u64,
        accelerated: bool,
        max_message_size: Option<usize>,
        packet_body: usize,
    ) -> Cluster {
        let ids: Vec<u32> = (0..daemons as u32).map(|i| FIRST_ID + i).collect();
        let mut c = Cluster {
            nodes: Vec::new(),
            clients: Vec::new(),
            ids,
            configs: vec![((0..daemons).collect(), 99); daemons],
            accelerated,
            max_message_size,
            packet_body,
            timeouts: SIM_TIMEOUTS,
            restarts: 0,
            net: Net::new(daemons, faults, seed),
            now: 0,
            largest_delivered: 0,
        };
        for i in 0..daemons {
            let node = c.new_node(i);
            c.nodes.push(node);
            for k in 0..clients {
                c.connect(i, &format!("c{k}"));
            }
        }
        c
    }

    fn new_node(&self, i: usize) -> SimDaemon {
        SimDaemon {
            node: Node::new(self.node_config(i), self.now),
            up: true,
        }
    }

    /// Daemon `i`'s configuration as `configs` says.
    fn node_config(&self, i: usize) -> NodeConfig {
        let (members, conf_hash) = &self.configs[i];
        let cfg = MembershipConfig {
            me: self.ids[i],
            daemons: members
                .iter()
                .map(|&j| Daemon {
                    id: self.ids[j],
                    segment: 0,
                })
                .collect(),
            conf_hash: *conf_hash,
            window: 160,
            personal_window: 20,
            accelerated_window: self.accelerated.then_some(15),
            max_message_len: crate::packet::ring_message_limit(self.max_message_size),
            packet_body: self.packet_body,
            timeouts: self.timeouts,
            epoch_secs: 1_000_000,
        };
        NodeConfig {
            identity: Identity {
                proc_id: self.ids[i],
                daemon_index: members.iter().position(|&j| j == i).unwrap_or(0),
                membership_time: 0,
            },
            // Named by node number whatever the position, as the clients'
            // private groups are.
            daemons: members
                .iter()
                .map(|&j| DaemonInfo {
                    id: self.ids[j],
                    name: format!("d{j}"),
                })
                .collect(),
            membership: cfg,
            max_groups_per_session: 10_000,
        }
    }

    /// Daemon `node` starts over (before anything happened) configured
    /// with `members` under `hash`; its clients stay its clients.
    pub fn start_as(&mut self, node: usize, members: &[usize], hash: u32) {
        self.configs[node] = (members.to_vec(), hash);
        self.nodes[node] = self.new_node(node);
        for c in self.clients.iter().filter(|c| c.node == node) {
            self.nodes[node].node.handle_open(
                c.session,
                SessionInfo {
                    private_group: c.name,
                    membership: true,
                },
            );
        }
    }

    /// Daemon `node` reloads its configuration: now `members` under
    /// `hash` (`alone`: as when some daemon's identity changed).
    pub fn reload(&mut self, node: usize, members: &[usize], hash: u32, alone: bool) {
        self.trace(node, &format!("reload: {members:?} hash {hash}"));
        self.configs[node] = (members.to_vec(), hash);
        let cfg = self.node_config(node);
        let now = self.now;
        self.nodes[node].node.reconfigure(cfg, alone, now);
        self.flush(node);
    }

    /// A client `#<name>#d<node>` connects to daemon `node`.
    fn connect(&mut self, node: usize, name: &str) -> usize {
        let name = GroupName::from(format!("#{name}#d{node}").as_str());
        let session = SessionId(self.clients.len() as u64);
        self.nodes[node].node.handle_open(
            session,
            SessionInfo {
                private_group: name,
                membership: true,
            },
        );
        self.clients.push(Client {
            node,
            session,
            name,
            log: ClientLog {
                name: name.to_string(),
                survived: true,
                ..ClientLog::default()
            },
            sent: 0,
            connected: true,
        });
        self.clients.len() - 1
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn is_connected(&self, client: usize) -> bool {
        self.clients[client].connected
    }

    pub fn daemon_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_up(&self, node: usize) -> bool {
        self.nodes[node].up
    }

    /// The group layer of daemon `node`.
    pub fn engine(&self, node: usize) -> &crate::engine::Engine {
        self.nodes[node].node.engine()
    }

    pub fn state(&self, node: usize) -> State {
        self.nodes[node].node.state()
    }

    /// The members (node numbers) of node `node`'s ring.
    pub fn ring_of(&self, node: usize) -> Vec<usize> {
        self.nodes[node]
            .node
            .membership()
            .ring()
            .members()
            .iter()
            .map(|&id| self.index_of(id))
            .collect()
    }

    /// Daemon `node` dies: it stops, its clients are gone.
    pub fn crash(&mut self, node: usize) {
        self.trace(node, "crash");
        self.nodes[node].up = false;
        for c in self.clients.iter_mut().filter(|c| c.node == node) {
            c.connected = false;
            c.log.survived = false;
        }
    }

    /// Daemon `node` starts again, with `clients` new clients that join
    /// `group`; returns their numbers.
    pub fn restart(&mut self, node: usize, clients: usize, group: &str) -> Vec<usize> {
        self.restarts += 1;
        self.trace(node, "restart");
        self.nodes[node] = self.new_node(node);
        let r = self.restarts;
        let new: Vec<usize> = (0..clients)
            .map(|k| self.connect(node, &format!("r{r}c{k}")))
            .collect();
        for &k in &new {
            self.join(k, group);
        }
        new
    }

    fn request(&mut self, client: usize, service_type: u32, groups: &[&str], body: &[u8]) {
        let c = &self.clients[client];
        if !c.connected {
            return;
        }
        let groups: Vec<GroupName> = groups.iter().map(|g| GroupName::from(*g)).collect();
        let mut frame = request_head(
            service_type,
            &c.name,
            &groups,
            0,
            body.len(),
            ByteOrder::NATIVE,
        );
        frame.extend_from_slice(body);
        let (node, session) = (c.node, c.session);
        let header = Header::decode(frame[..HEADER_LEN].try_into().expect("a header"));
        let now = self.now;
        self.nodes[node]
            .node
            .handle_request(session, &header, Bytes::from(frame), now)
            .expect("ordered");
        self.flush(node);
    }

    pub fn join(&mut self, client: usize, group: &str) {
        self.request(client, JOIN_MESS, &[group], b"");
    }

    /// Sends the client's next numbered message to `group`.
    pub fn send(&mut self, client: usize, group: &str, service_type: u32) {
        self.send_sized(client, group, service_type, 0);
    }

    /// As `send`, padded to `len` bytes (at most the largest body a ring
    /// carries to one group).
    pub fn send_sized(&mut self, client: usize, group: &str, service_type: u32, len: usize) {
        let c = &mut self.clients[client];
        if !c.connected {
            return;
        }
        let id = MsgId {
            sender: c.name.to_string(),
            counter: c.sent,
        };
        c.sent += 1;
        c.log.sent.push((id.clone(), group.to_string()));
        let mut body = format!("{}:{}", id.sender, id.counter).into_bytes();
        if len > body.len() {
            body.push(b'|');
            body.resize(len.min(self.largest_body()), b'.');
        }
        self.request(client, service_type, &[group], &body);
    }

    /// The largest body a client may send to one group.
    pub fn largest_body(&self) -> usize {
        self.max_message_size.unwrap_or(LARGEST_BODY)
    }

    fn index_of(&self, id: u32) -> usize {
        (id - FIRST_ID) as usize
    }

    /// Sends what node `i` wants sent and records what its clients got.
    fn flush(&mut self, i: usize) {
        let n = self.nodes.len();
        while let Some(send) = self.nodes[i].node.poll_transmit() {
            route(&mut self.net, self.now, i, n, send, |id| {
                (id - FIRST_ID) as usize
            });
        }
        while let Some(o) = self.nodes[i].node.poll_output() {
            if let Output::Deliver { session, frame } = o {
                self.largest_delivered = self.largest_delivered.max(frame.len());
                self.record(i, session, &frame);
            }
        }
    }

    /// A forged data packet of node `to`'s current ring reaches `to` as if
    /// node `from` had sent it: numbered `seq`, carrying a message of
    /// `sender` to `group` (what an attacker who knows the configuration
    /// and the ring's id can send).
    pub fn forge(&mut self, to: usize, from: usize, seq: i32, sender: &str, group: &str) {
        use crate::packet::{DataHeader, OutMessage, Packer, AGREED_TYPE};
        let mut frame = request_head(
            AGREED_MESS,
            &GroupName::from(sender),
            &[GroupName::from(group)],
            0,
            FORGED.len() + 1,
            ByteOrder::NATIVE,
        );
        frame.extend_from_slice(FORGED);
        frame.push(from as u8);
        let mut packer = Packer::new();
        packer
            .push(OutMessage {
                service: AGREED_TYPE,
                bytes: Bytes::from(frame),
            })
            .expect("fits");
        let mut h = DataHeader::new(0, self.ids[from]);
        h.transmiter_id = self.ids[from];
        h.memb_id = self.nodes[to].node.membership().memb_id();
        h.seq = seq;
        h.conf_hash = 99;
        let bytes = packer.next_packet(&h).expect("a packet").encode();
        self.trace(to, &format!("forged seq {seq} as d{from}"));
        self.net.send(
            self.now,
            super::net::Datagram {
                from,
                to,
                port: super::net::Port::Data,
                bytes,
            },
        );
    }

    pub fn trace_all(&self, what: &str) {
        if std::env::var_os("SPREAD_SIM_TRACE").is_some() {
            eprintln!("{:>10} all: {what}", self.now);
        }
    }

    /// With SPREAD_SIM_TRACE set, says what happened (for replaying a seed).
    fn trace(&self, node: usize, what: &str) {
        if std::env::var_os("SPREAD_SIM_TRACE").is_some() {
            eprintln!("{:>10} d{node}: {what}", self.now);
        }
    }

    fn record(&mut self, node: usize, session: SessionId, frame: &[u8]) {
        let Some(c) = self
            .clients
            .iter_mut()
            .find(|c| c.node == node && c.session == session && c.connected)
        else {
            return;
        };
        let (f, _) = split_frame(frame, &Limits::CLIENT)
            .expect("frame")
            .expect("whole frame");
        let m = Message::from_frame(&f).expect("message");
        if let Message::Data(d) = &m {
            if let Some(&[from]) = d.data.strip_prefix(FORGED) {
                // Without keys on the links, a forged message can pass for
                // one of the posed daemon's clients, but no other's.
                let posed = format!("#d{from}");
                assert!(
                    d.sender.to_string().ends_with(&posed),
                    "{} got a forged message of {} sent as d{from}",
                    c.name,
                    d.sender
                );
                return;
            }
        }
        let e = Event::from_message(&m).unwrap_or_else(|| panic!("client {} got {m:?}", c.name));
        c.log.events.push(e);
    }

    /// Runs the network and the timers until virtual time `until`.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let timers = self
                .nodes
                .iter()
                .filter(|n| n.up)
                .map(|n| n.node.poll_timeout());
            let next = next_event(&self.net, timers);
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            while let Some(d) = self.net.pop_due(self.now) {
                // As the daemon's transport: only configured daemons count.
                if self.nodes[d.to].up && self.configs[d.to].0.contains(&d.from) {
                    self.nodes[d.to].node.handle_packet(decode(&d), self.now);
                    self.flush(d.to);
                }
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].up && self.nodes[i].node.poll_timeout() <= self.now {
                    self.nodes[i].node.handle_timeout(self.now);
                    self.flush(i);
                }
            }
        }
    }

    /// Runs for `us` microseconds more.
    pub fn run_for(&mut self, us: u64) {
        self.run_until(self.now + us);
    }

    /// True when every running daemon is in OP in one ring of exactly the
    /// running daemons (that can reach each other: no partition).
    pub fn converged(&self) -> bool {
        let up: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].up)
            .collect();
        up.iter().all(|&i| {
            self.state(i) == State::Op && {
                let mut ring = self.ring_of(i);
                ring.sort_unstable();
                ring == up
            }
        })
    }

    pub fn logs(&self) -> Vec<ClientLog> {
        self.clients.iter().map(|c| c.log.clone()).collect()
    }
}
