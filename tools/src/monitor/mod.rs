//! spmonitor's pieces: the daemons of a configuration as a monitor sees
//! them and the packets it sends them (daemon-protocol.md §6), the tables
//! of partitions and flow control, the rendering of status replies and the
//! interactive menu of Spread's spmonitor.
//!
//! A monitor takes the identity of a configured daemon: its packets come
//! from that daemon's address and carry its id and the configuration hash,
//! which is what a daemon checks before it answers or obeys.

pub mod menu;
pub mod metrics;
pub mod report;
pub mod tables;

use spread_codec::seal::{wall_us, Kind, Opener, RingKey, Sealer};
use spread_codec::{
    DataHeader, FlowControlTable, MonitorBody, MonitorPacket, PartitionTable, Status, FC_TYPE,
    PARTITION_TYPE, RELOAD_TYPE, STATUS_TYPE,
};
use spread_config::Config;
use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

/// A monitor resends an active partition this often; daemons drop it a
/// minute after the last one.
pub const PARTITION_RESEND: Duration = Duration::from_secs(25);

/// A configured daemon as the monitor addresses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Daemon {
    pub name: String,
    pub id: u32,
    /// Its data port.
    pub addr: SocketAddr,
    /// Its segment's position in the configuration.
    pub segment: usize,
}

/// The configured daemons in configuration order (the order of the
/// partition and flow-control tables).
pub fn daemons_of(config: &Config) -> Vec<Daemon> {
    config
        .segments
        .iter()
        .enumerate()
        .flat_map(|(segment, s)| {
            s.daemons.iter().map(move |d| Daemon {
                name: d.name.clone(),
                id: d.id,
                addr: SocketAddr::new(d.addr, s.port),
                segment,
            })
        })
        .collect()
}

pub struct Monitor {
    socket: UdpSocket,
    pub daemons: Vec<Daemon>,
    /// The configuration runs the Accelerated Ring (it has accelerated
    /// windows to set).
    pub accelerated: bool,
    /// Every packet's header: my identity, the hash, my reply port.
    header: DataHeader,
    /// With RingKeyFile: requests are sealed, replies opened.
    sealing: Option<(Sealer, RefCell<Opener>)>,
    started: std::time::Instant,
}

/// The sealing of a configuration with RingKeyFile (the monitor must be
/// able to read the key files).
fn sealing_of(config: &Config, me: u32) -> Result<Option<(Sealer, RefCell<Opener>)>, String> {
    let Some(path) = &config.ring_key_file else {
        return Ok(None);
    };
    let read = |p: &String| RingKey::read(Path::new(p)).map_err(|e| e.to_string());
    let seal = read(path)?;
    let mut open = vec![seal.clone()];
    for p in &config.accept_ring_key_files {
        open.push(read(p)?);
    }
    Ok(Some((
        Sealer::new(Kind::Monitor, me, seal),
        RefCell::new(Opener::new(open)),
    )))
}

impl Monitor {
    /// Binds `port` (0: any) on the address of configured daemon `name`
    /// (default: the one whose address is this host's).
    pub fn bind(config: &Config, name: Option<&str>, port: u16) -> Result<Monitor, String> {
        let (seg, idx) = config.find_me(name).map_err(|e| e.to_string())?;
        let me = &config.segments[seg].daemons[idx];
        let socket = UdpSocket::bind(SocketAddr::new(me.addr, port))
            .map_err(|e| format!("UDP {}:{port}: {e}", me.addr))?;
        let local_port = socket.local_addr().map_err(|e| e.to_string())?.port();
        let mut header = DataHeader::new(0, me.id);
        header.transmiter_id = me.id;
        header.conf_hash = config.hash();
        header.seq = i32::from(local_port);
        Ok(Monitor {
            socket,
            daemons: daemons_of(config),
            accelerated: config.accelerated_ring == Some(true),
            header,
            sealing: sealing_of(config, me.id)?,
            started: std::time::Instant::now(),
        })
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.daemons.iter().position(|d| d.name == name)
    }

    fn send(&self, body: MonitorBody, ty: u32, to: &[usize], copies: usize) -> Result<(), String> {
        let mut header = self.header;
        header.ty = ty;
        let mut bytes = MonitorPacket { header, body }.encode();
        if let Some((sealer, _)) = &self.sealing {
            bytes = sealer.seal(&bytes);
        }
        for &i in to {
            let addr = self.daemons[i].addr;
            for _ in 0..copies {
                self.socket
                    .send_to(&bytes, addr)
                    .map_err(|e| format!("sending to {} at {addr}: {e}", self.daemons[i].name))?;
            }
        }
        Ok(())
    }

    fn everyone(&self) -> Vec<usize> {
        (0..self.daemons.len()).collect()
    }

    /// STATUS requests to the daemons at positions `to`.
    pub fn request_status(&self, to: &[usize]) -> Result<(), String> {
        self.send(MonitorBody::StatusRequest, STATUS_TYPE, to, 1)
    }

    /// A partition table to the daemons at positions `to`, twice each (as
    /// Spread's monitor does: a lost one is not noticed).
    pub fn send_partition(&self, table: &PartitionTable, to: &[usize]) -> Result<(), String> {
        let body = MonitorBody::Partition(Box::new(*table));
        self.send(body, PARTITION_TYPE, to, 2)
    }

    /// A partition table to every daemon.
    pub fn broadcast_partition(&self, table: &PartitionTable) -> Result<(), String> {
        self.send_partition(table, &self.everyone())
    }

    /// A flow-control table to every daemon, twice each.
    pub fn send_flow_control(&self, table: &FlowControlTable) -> Result<(), String> {
        let body = MonitorBody::FlowControl(Box::new(*table));
        self.send(body, FC_TYPE, &self.everyone(), 2)
    }

    /// RELOAD to every daemon of the configuration read, twice each (as
    /// Spread's monitor does), then `config` (the file read again) is the
    /// one the monitor works with: its daemons and hash.
    pub fn reload(&mut self, config: Option<&Config>) -> Result<(), String> {
        self.send(MonitorBody::Reload, RELOAD_TYPE, &self.everyone(), 2)?;
        if let Some(config) = config {
            self.daemons = daemons_of(config);
            self.accelerated = config.accelerated_ring == Some(true);
            self.header.conf_hash = config.hash();
            self.sealing = sealing_of(config, self.header.transmiter_id)?;
        }
        Ok(())
    }

    /// The hash of the configuration the monitor works with.
    pub fn conf_hash(&self) -> u32 {
        self.header.conf_hash
    }

    /// The next status reply within `timeout`: the position of the daemon
    /// that sent it and the status. Other datagrams are skipped.
    pub fn receive(&self, timeout: Duration) -> Option<(usize, Status)> {
        let deadline = std::time::Instant::now() + timeout;
        let mut buf = [0u8; 2048];
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return None;
            }
            self.socket.set_read_timeout(Some(left)).ok()?;
            let (n, _) = self.socket.recv_from(&mut buf).ok()?;
            let opened;
            let bytes = match &self.sealing {
                Some((_, opener)) => {
                    let mono = self.started.elapsed().as_micros() as u64;
                    match opener.borrow_mut().open(&buf[..n], mono, wall_us()) {
                        Ok(o) => {
                            opened = o.plain;
                            &opened[..]
                        }
                        Err(_) => continue,
                    }
                }
                None => &buf[..n],
            };
            if let Ok(MonitorPacket {
                header,
                body: MonitorBody::StatusReply(s),
            }) = MonitorPacket::decode(bytes)
            {
                if let Some(i) = self.daemons.iter().position(|d| d.id == header.proc_id) {
                    return Some((i, s));
                }
            }
        }
    }
}
