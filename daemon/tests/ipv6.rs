//! Rings on IPv6. Three daemons, each in a network namespace of its own,
//! joined by a bridge in a fourth; each host has fd00:77::i/64 and
//! fe80::i/64 on its link. One ring sends its data packets to the
//! link-local multicast group ff02::1:7 (the segment address); the other
//! puts each daemon, known by its link-local address, in a segment of its
//! own, so that every packet is unicast (5.0.1's way to do without
//! multicast). On every daemon a client sends and receives over IPv6 TCP:
//! on daemon 1's host to `4803@::1`, on daemon 2's to its own address, and
//! daemon 3's client from the bridge's host, across the link. Needs root
//! (CI runs as root).

mod scenarios;

use scenarios::{check_clients, client, ip, require_root};
use spread_daemon::sim::checker::ClientLog;
use spread_testkit::daemon_binary;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const DAEMONS: usize = 3;
const PORT: u16 = 4803;
const MESSAGES: u64 = 100;
/// A host's own IPv6 multicast in a run without data to a group (neighbour
/// discovery, group reports): about 10, and far below this.
const OWN_MULTICAST: u64 = 30;

/// The namespaces, the bridge and the daemons; all gone on drop.
struct Hosts {
    prefix: String,
    dir: PathBuf,
    daemons: Vec<Child>,
}

impl Hosts {
    fn hub(&self) -> String {
        format!("{}-hub", self.prefix)
    }

    fn host(&self, i: usize) -> String {
        format!("{}-d{i}", self.prefix)
    }

    /// The hosts, and daemons d1..d3 on them, all reading `conf`.
    fn start(tag: &str, conf: &str) -> Hosts {
        let prefix = format!("sp6{tag}{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        let mut hosts = Hosts {
            prefix,
            dir,
            daemons: Vec::new(),
        };
        let hub = hosts.hub();
        ip(&["netns", "add", &hub]);
        // Without snooping the bridge floods multicast to every port, so
        // no MLD querier is needed for the group to get through.
        let bridge = ["-n", &hub, "link", "add", "br0", "type", "bridge"];
        ip(&[&bridge[..], &["mcast_snooping", "0"]].concat());
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        // Fresh addresses would wait for duplicate detection (nodad).
        ip(&[
            "-n",
            &hub,
            "addr",
            "add",
            "fd00:77::100/64",
            "dev",
            "br0",
            "nodad",
        ]);
        for i in 1..=DAEMONS {
            let host = hosts.host(i);
            let port = format!("port{i}");
            ip(&["netns", "add", &host]);
            ip(&[
                "link", "add", "eth0", "netns", &host, "type", "veth", "peer", "name", &port,
                "netns", &hub,
            ]);
            for addr in [format!("fd00:77::{i}/64"), format!("fe80::{i}/64")] {
                ip(&["-n", &host, "addr", "add", &addr, "dev", "eth0", "nodad"]);
            }
            ip(&["-n", &host, "link", "set", "eth0", "up"]);
            ip(&["-n", &host, "link", "set", "lo", "up"]);
            ip(&["-n", &hub, "link", "set", &port, "master", "br0"]);
            ip(&["-n", &hub, "link", "set", &port, "up"]);
            let d = hosts.dir.join(format!("d{i}"));
            spread_testkit::runtime_dir(&d);
            let conf = format!("{conf}RuntimeDir = {}\n", d.display());
            std::fs::write(d.join("spread.conf"), conf).unwrap();
        }
        for i in 1..=DAEMONS {
            let d = hosts.dir.join(format!("d{i}"));
            let log = std::fs::File::create(d.join("daemon.log")).unwrap();
            let child = Command::new("ip")
                .args(["netns", "exec", &hosts.host(i)])
                .arg(daemon_binary())
                .args(["-n", &format!("d{i}"), "-c", "spread.conf"])
                // Namespaces share /tmp: each daemon's socket in its own
                // directory, where wait_ready and the clients look.
                .env("SPREAD_SOCKET_DIR", &d)
                .current_dir(&d)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start spread in its namespace");
            hosts.daemons.push(child);
        }
        for i in 1..=DAEMONS {
            hosts.wait_ready(i);
        }
        hosts
    }

    fn wait_ready(&self, i: usize) {
        let socket = self.dir.join(format!("d{i}")).join(PORT.to_string());
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(
                Instant::now() < deadline,
                "d{i} did not start: {}",
                self.log(i)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("d{i}")).join("daemon.log"))
            .unwrap_or_default()
    }

    /// The IPv6 multicast packets daemon `i`'s host has sent.
    fn multicast_sent_by(&self, i: usize) -> u64 {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.host(i), "cat", "/proc/net/snmp6"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("Ip6OutMcastPkts"));
        let value = line.and_then(|l| l.split_whitespace().nth(1));
        value
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{text}"))
    }

    /// A client of daemon `i` on a thread inside namespace `ns`, reaching
    /// the daemon as `daemon` (see [`client`]).
    fn client(&self, ns: String, daemon: &str, i: usize) -> JoinHandle<ClientLog> {
        let daemon = daemon.to_string();
        let path = format!("/var/run/netns/{ns}");
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            // SAFETY: setns is given an open namespace descriptor; it moves
            // only this thread, whose sockets are then made inside.
            let r = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns {path}: {}", std::io::Error::last_os_error());
            client(daemon, format!("c{i}"), DAEMONS, MESSAGES)
        })
    }

    /// Clients on every daemon, over IPv6 TCP: 4803@::1 on daemon 1's host,
    /// the daemon's own address on daemon 2's, across the bridge to daemon 3.
    fn run_clients(&self) {
        let handles = [
            self.client(self.host(1), &format!("{PORT}@::1"), 1),
            self.client(self.host(2), &format!("{PORT}@[fd00:77::2]"), 2),
            self.client(self.hub(), &format!("{PORT}@fd00:77::3"), 3),
        ];
        let logs: Vec<ClientLog> = handles
            .into_iter()
            .map(|h| h.join().expect("client"))
            .collect();
        check_clients(&logs, DAEMONS, MESSAGES);
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for c in &mut self.daemons {
            let _ = c.kill();
            let _ = c.wait();
        }
        if std::thread::panicking() {
            for i in 1..=DAEMONS {
                eprintln!("--- d{i}:\n{}", self.log(i));
            }
        }
        for ns in (1..=DAEMONS).map(|i| self.host(i)).chain([self.hub()]) {
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_ring_on_an_ipv6_multicast_segment() {
    require_root();
    let conf = "ActiveIPVersion = IPv6\n\
        Spread_Segment [ff02::1:7]:4803 {\n\
        \td1 fd00:77::1\n\
        \td2 [fd00:77::2]\n\
        \td3 fd00:77::3\n\
        }\n";
    let hosts = Hosts::start("m", conf);
    hosts.run_clients();
    for i in 1..=DAEMONS {
        let log = hosts.log(i);
        assert!(!log.contains("cannot use segment address"), "d{i}: {log}");
        let sent = hosts.multicast_sent_by(i);
        assert!(sent > OWN_MULTICAST, "d{i} sent {sent} multicast packets");
    }
}

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_ring_of_link_local_daemons_in_segments_of_their_own() {
    require_root();
    // Each daemon reads "eth0" on its own host. Unicast only: a segment of
    // one never sends to its address.
    let conf = "WideAreaNetwork = no\n\
        Spread_Segment [ff02::1:7]:4803 { d1 fe80::1%eth0 }\n\
        Spread_Segment [ff02::1:8]:4803 { d2 fe80::2%eth0 }\n\
        Spread_Segment [ff02::1:9]:4803 { d3 fe80::3%eth0 }\n";
    let hosts = Hosts::start("u", conf);
    hosts.run_clients();
    for i in 1..=DAEMONS {
        let sent = hosts.multicast_sent_by(i);
        assert!(sent < OWN_MULTICAST, "d{i} sent {sent} multicast packets");
    }
}

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_multicast_segment_and_a_segment_of_one_share_a_ring() {
    require_root();
    // d1 and d2 send to ff02::1:7, which d3 has not joined: it must get
    // their packets one by one, as 5.0.1 sends to other segments.
    let conf = "WideAreaNetwork = no\n\
        Spread_Segment [ff02::1:7]:4803 { d1 fd00:77::1 d2 fd00:77::2 }\n\
        Spread_Segment [ff02::1:8]:4803 { d3 fd00:77::3 }\n";
    let hosts = Hosts::start("s", conf);
    hosts.run_clients();
    for (i, many) in [(1, true), (2, true), (3, false)] {
        let sent = hosts.multicast_sent_by(i);
        assert_eq!(
            sent > OWN_MULTICAST,
            many,
            "d{i} sent {sent} multicast packets"
        );
    }
}
