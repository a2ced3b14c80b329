//! Whole daemons in simulation: each node is the ordering engine and the
//! group layer of one daemon, its clients are sessions of that group layer,
//! and the network is [`Net`]. What every client sees is logged for the
//! EVS checker. One seed decides everything.

use super::checker::{ClientLog, Event, MsgId, View};
use super::net::{Faults, Net};
use super::rng::Rng;
use super::wiring::{feed, next_event, route};
use crate::engine::order::{Ring, RingConfig};
use crate::engine::{Engine, Identity, Output, SessionId, SessionInfo};
use crate::packet::MembId;
use crate::ring_driver::packet_service;
use bytes::Bytes;
use spread_core::consts::*;
use spread_core::wire::encode::request_head;
use spread_core::wire::{split_frame, ByteOrder, Header, Limits, Message};
use spread_core::GroupName;

struct Node {
    ring: Ring,
    engine: Engine,
}

struct Client {
    node: usize,
    session: SessionId,
    name: GroupName,
    log: ClientLog,
    sent: u64,
}

pub struct Cluster {
    nodes: Vec<Node>,
    clients: Vec<Client>,
    pub net: Net,
    pub now: u64,
}

const FIRST_ID: u32 = 7001;

impl Cluster {
    /// `daemons` daemons with `clients` clients each; Accelerated Ring with
    /// window 15 if `accelerated`.
    pub fn new(
        daemons: usize,
        clients: usize,
        faults: Faults,
        seed: u64,
        accelerated: bool,
    ) -> Cluster {
        let ids: Vec<u32> = (0..daemons as u32).map(|i| FIRST_ID + i).collect();
        let nodes = ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                let cfg = RingConfig {
                    me: id,
                    members: ids.clone(),
                    memb_id: (i == 0).then_some(MembId::new(ids[0], 100)),
                    conf_hash: 99,
                    window: 160,
                    personal_window: 20,
                    accelerated_window: accelerated.then_some(15),
                    hurry_timeout_us: 500_000,
                    token_timeout_us: 1_250_000,
                };
                let engine = Engine::new(Identity {
                    proc_id: ids[0],
                    daemon_index: i,
                    membership_time: 100,
                });
                Node {
                    ring: Ring::new(cfg, 0),
                    engine,
                }
            })
            .collect();
        let mut c = Cluster {
            nodes,
            clients: Vec::new(),
            net: Net::new(daemons, faults, seed),
            now: 0,
        };
        for node in 0..daemons {
            for k in 0..clients {
                let name = GroupName::from(format!("#c{k}#d{node}").as_str());
                let session = SessionId((node * 1000 + k) as u64);
                c.nodes[node].engine.open(
                    session,
                    SessionInfo {
                        private_group: name,
                        membership: true,
                    },
                );
                let log = ClientLog {
                    name: name.to_string(),
                    survived: true,
                    ..ClientLog::default()
                };
                c.clients.push(Client {
                    node,
                    session,
                    name,
                    log,
                    sent: 0,
                });
            }
        }
        c
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    fn request(&mut self, client: usize, service_type: u32, groups: &[&str], body: &[u8]) {
        let c = &self.clients[client];
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
        let node = c.node;
        self.nodes[node]
            .ring
            .submit(Bytes::from(frame), packet_service(service_type), self.now)
            .expect("fits");
        self.flush(node);
    }

    pub fn join(&mut self, client: usize, group: &str) {
        self.request(client, JOIN_MESS, &[group], b"");
    }

    /// Sends the client's next numbered message to `group`.
    pub fn send(&mut self, client: usize, group: &str, service_type: u32) {
        let c = &mut self.clients[client];
        let id = MsgId {
            sender: c.name.to_string(),
            counter: c.sent,
        };
        c.sent += 1;
        c.log.sent.push((id.clone(), group.to_string()));
        let body = format!("{}:{}", id.sender, id.counter);
        self.request(client, service_type, &[group], body.as_bytes());
    }

    fn index_of(&self, id: u32) -> usize {
        (id - FIRST_ID) as usize
    }

    /// Sends what node `i` produced and applies what it delivered.
    fn flush(&mut self, i: usize) {
        let n = self.nodes.len();
        while let Some(send) = self.nodes[i].ring.poll_send() {
            route(&mut self.net, self.now, i, n, send, |id| {
                (id - FIRST_ID) as usize
            });
        }
        let mut out = Vec::new();
        while let Some(d) = self.nodes[i].ring.poll_delivery() {
            let origin = self.index_of(d.origin);
            let header =
                Header::decode(d.message[..HEADER_LEN].try_into().expect("a client header"));
            self.nodes[i]
                .engine
                .ordered(origin, &header, &d.message, &mut out);
        }
        for o in out {
            if let Output::Deliver { session, frame } = o {
                self.record(i, session, &frame);
            }
        }
    }

    fn record(&mut self, node: usize, session: SessionId, frame: &[u8]) {
        let Some(c) = self
            .clients
            .iter_mut()
            .find(|c| c.node == node && c.session == session)
        else {
            return;
        };
        let (f, _) = split_frame(frame, &Limits::CLIENT)
            .expect("frame")
            .expect("whole frame");
        match Message::from_frame(&f).expect("message") {
            Message::Membership(v) => c.log.events.push(Event::View(View::from_membership(&v))),
            Message::Transition(t) => c.log.events.push(Event::Transition {
                group: t.group.to_string(),
                id: (t.group_id.proc_id, t.group_id.time, t.group_id.index),
            }),
            Message::SelfLeave { group } => c.log.events.push(Event::Left {
                group: group.to_string(),
            }),
            Message::Data(d) => {
                let text = String::from_utf8(d.data).expect("text body");
                let (sender, counter) = text.rsplit_once(':').expect("sender:counter");
                c.log.events.push(Event::Message {
                    id: MsgId {
                        sender: sender.into(),
                        counter: counter.parse().expect("counter"),
                    },
                    service: d.service_type,
                    group: d.groups.first().map(|g| g.to_string()).unwrap_or_default(),
                });
            }
            other => panic!("client {} got {other:?}", c.name),
        }
    }

    /// Runs the network and the timers until virtual time `until`.
    pub fn run_until(&mut self, until: u64) {
        loop {
            let next = next_event(&self.net, self.nodes.iter().map(|n| &n.ring));
            if next > until {
                self.now = until;
                return;
            }
            self.now = next;
            while let Some(d) = self.net.pop_due(self.now) {
                feed(&mut self.nodes[d.to].ring, &d, self.now);
                self.flush(d.to);
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].ring.poll_timeout() <= self.now {
                    self.nodes[i].ring.handle_timeout(self.now);
                    self.flush(i);
                }
            }
        }
    }

    pub fn logs(&self) -> Vec<ClientLog> {
        self.clients.iter().map(|c| c.log.clone()).collect()
    }
}

/// One random history: every client joins `g`, then clients send with
/// random services at random times on a lossy, reordering network; loss
/// stops at the end so the ring can finish. Returns the client logs.
pub fn random_history(seed: u64) -> Vec<ClientLog> {
    let mut rng = Rng::new(seed);
    let daemons = 2 + rng.below(4) as usize;
    let clients = 1 + rng.below(3) as usize;
    let faults = Faults {
        loss: [0.0, 0.02, 0.1][rng.below(3) as usize],
        duplicate: [0.0, 0.02][rng.below(2) as usize],
        min_delay_us: 10,
        max_delay_us: [20, 300][rng.below(2) as usize],
    };
    let mut c = Cluster::new(daemons, clients, faults, seed, rng.chance(0.5));
    for k in 0..c.client_count() {
        c.join(k, "g");
        c.run_until(c.now + rng.below(200));
    }
    // Everyone's join is ordered before anyone sends.
    c.run_until(c.now + 2_000_000);
    for _ in 0..40 {
        let k = rng.below(c.client_count() as u64) as usize;
        let service = [
            UNRELIABLE_MESS,
            RELIABLE_MESS,
            FIFO_MESS,
            CAUSAL_MESS,
            AGREED_MESS,
            SAFE_MESS,
        ][rng.below(6) as usize];
        c.send(k, "g", service);
        c.run_until(c.now + rng.below(2_000));
    }
    c.net.set_faults(Faults::NONE);
    c.run_until(c.now + 10_000_000);
    c.logs()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::checker::check;

    /// `SPREAD_SIM_SEED=n` runs that one seed; otherwise SPREAD_SIM_SEEDS
    /// seeds (default 2000).
    #[test]
    fn random_histories_keep_evs() {
        let seeds: Vec<u64> = match std::env::var("SPREAD_SIM_SEED") {
            Ok(s) => vec![s.parse().expect("a seed")],
            Err(_) => (0..std::env::var("SPREAD_SIM_SEEDS")
                .ok()
                .and_then(|n| n.parse().ok())
                .unwrap_or(2000))
                .collect(),
        };
        for seed in seeds {
            let replay = format!("SPREAD_SIM_SEED={seed} cargo test -p spread-daemon --lib random_histories_keep_evs");
            let logs = std::panic::catch_unwind(|| random_history(seed))
                .unwrap_or_else(|_| panic!("seed {seed} panicked; replay: {replay}"));
            if let Err(v) = check(&logs) {
                panic!("seed {seed}: {v}; replay: {replay}");
            }
            let total: usize = logs.iter().map(|l| l.sent.len()).sum();
            assert_eq!(total, 40, "seed {seed}");
        }
    }
}
