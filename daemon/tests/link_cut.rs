//! A real network partition: three daemons, each in a network namespace
//! of its own, joined by a bridge in a fourth (10.77.0.0/24, the segment's
//! broadcast address for data). Cutting daemon 1's link on the bridge
//! splits the ring into {1} | {2, 3}; bringing it back merges it. Clients
//! (through the daemons' Unix sockets) send all along; the EVS checker
//! reads their logs. Needs root (CI runs as root).

mod scenarios;

use scenarios::traffic::{check_logs, finish, is_network, members, Traffic};
use scenarios::{ip, require_root};
use spread_testkit::daemon_binary;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DAEMONS: usize = 3;
const PORT: u16 = 4803;

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

    fn start() -> Hosts {
        let prefix = format!("spcut{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        let mut hosts = Hosts {
            prefix,
            dir,
            daemons: Vec::new(),
        };
        let hub = hosts.hub();
        ip(&["netns", "add", &hub]);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        let mut conf = format!("Spread_Segment 10.77.0.255:{PORT} {{\n");
        for i in 1..=DAEMONS {
            conf += &format!("\td{i} 10.77.0.{i}\n");
        }
        conf += "}\n";
        for i in 1..=DAEMONS {
            let host = hosts.host(i);
            ip(&["netns", "add", &host]);
            ip(&[
                "link",
                "add",
                "eth0",
                "netns",
                &host,
                "type",
                "veth",
                "peer",
                "name",
                &format!("port{i}"),
                "netns",
                &hub,
            ]);
            ip(&[
                "-n",
                &host,
                "addr",
                "add",
                &format!("10.77.0.{i}/24"),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &host, "link", "set", "eth0", "up"]);
            ip(&["-n", &host, "link", "set", "lo", "up"]);
            ip(&[
                "-n",
                &hub,
                "link",
                "set",
                &format!("port{i}"),
                "master",
                "br0",
            ]);
            ip(&["-n", &hub, "link", "set", &format!("port{i}"), "up"]);
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

    /// The daemon name of daemon `i` for clients: its Unix socket.
    fn socket(&self, i: usize) -> String {
        self.dir
            .join(format!("d{i}"))
            .join(PORT.to_string())
            .display()
            .to_string()
    }

    fn wait_ready(&self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(self.socket(i)).is_err() {
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

    /// Daemon `i`'s link on the bridge goes down (`false`) or up.
    fn link(&self, i: usize, up: bool) {
        let state = if up { "up" } else { "down" };
        ip(&["-n", &self.hub(), "link", "set", &format!("port{i}"), state]);
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

const T: Duration = Duration::from_secs(20);

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_cut_link_splits_the_ring_and_its_repair_merges_it() {
    require_root();
    let hosts = Hosts::start();
    let c: Vec<Traffic> = (1..=DAEMONS)
        .map(|i| Traffic::start(hosts.socket(i), &format!("c{i}")))
        .collect();
    for t in &c {
        t.wait_view(T, |v| v.members.len() == DAEMONS);
    }
    std::thread::sleep(Duration::from_millis(500));
    let cut = Instant::now();
    hosts.link(1, false);
    let mut seen = vec![c[0].wait_view(T, |v| is_network(v) && members(v) == ["#c1#d1"])];
    for t in &c[1..] {
        seen.push(t.wait_view(T, |v| is_network(v) && members(v) == ["#c2#d2", "#c3#d3"]));
    }
    let split = seen.iter().max().unwrap().duration_since(cut);
    std::thread::sleep(Duration::from_millis(800));
    let repaired = Instant::now();
    hosts.link(1, true);
    let mut seen = Vec::new();
    for t in &c {
        seen.push(t.wait_view(Duration::from_secs(60), |v| {
            is_network(v) && v.members.len() == DAEMONS && v.vs_sets.len() == 2
        }));
    }
    let merged = seen.iter().max().unwrap().duration_since(repaired);
    std::thread::sleep(Duration::from_millis(500));
    let logs = finish(c);
    check_logs(&logs);
    eprintln!(
        "FIGURE link cut -> both sides' network views: {} ms; link repaired -> merged view: {} ms",
        split.as_millis(),
        merged.as_millis()
    );
}
