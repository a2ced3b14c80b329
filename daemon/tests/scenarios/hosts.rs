//! Daemons each in a network namespace of its own, joined by a bridge in
//! another (the hub): real links that a test can cut. Each daemon's Unix
//! socket is in its own directory (the namespaces share /tmp). Everything
//! is gone on drop. Needs root.

use super::ip;
use spread_testkit::daemon_binary;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Hosts {
    prefix: String,
    pub dir: PathBuf,
    port: u16,
    count: usize,
    daemons: Vec<Child>,
}

impl Hosts {
    pub fn hub(&self) -> String {
        format!("{}-hub", self.prefix)
    }

    pub fn host(&self, i: usize) -> String {
        format!("{}-d{i}", self.prefix)
    }

    /// `count` hosts on the hub's bridge (multicast snooping off, so that
    /// groups are flooded to every port), host `i` with `addrs(i)` on its
    /// `eth0` (IPv6 ones without duplicate detection), the hub with
    /// `hub_addrs`; daemons d1.. on them, all reading `conf` (which names
    /// `port`) and their own `RuntimeDir`. Returns once each serves.
    pub fn start(
        prefix: &str,
        count: usize,
        port: u16,
        conf: &str,
        addrs: impl Fn(usize) -> Vec<String>,
        hub_addrs: &[&str],
    ) -> Hosts {
        let prefix = format!("{prefix}{}", std::process::id());
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        let mut hosts = Hosts {
            prefix,
            dir,
            port,
            count,
            daemons: Vec::new(),
        };
        let hub = hosts.hub();
        let add = |ns: &str, addr: &str, dev: &str| {
            let mut args = vec!["-n", ns, "addr", "add", addr, "dev", dev];
            if addr.contains(':') {
                args.push("nodad");
            }
            ip(&args);
        };
        ip(&["netns", "add", &hub]);
        ip(&[
            "-n",
            &hub,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        for a in hub_addrs {
            add(&hub, a, "br0");
        }
        for i in 1..=count {
            let host = hosts.host(i);
            let port = format!("port{i}");
            ip(&["netns", "add", &host]);
            ip(&[
                "link", "add", "eth0", "netns", &host, "type", "veth", "peer", "name", &port,
                "netns", &hub,
            ]);
            for a in addrs(i) {
                add(&host, &a, "eth0");
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
        for i in 1..=count {
            let child = hosts.spawn(i);
            hosts.daemons.push(child);
        }
        for i in 1..=count {
            hosts.wait_ready(i);
        }
        hosts
    }

    /// Starts daemon `i` in its namespace (`ip netns exec` execs it, so the
    /// child's pid is the daemon's), its log appended to.
    fn spawn(&self, i: usize) -> Child {
        let d = self.dir.join(format!("d{i}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("daemon.log"))
            .unwrap();
        Command::new("ip")
            .args(["netns", "exec", &self.host(i)])
            .arg(daemon_binary())
            .args(["-n", &format!("d{i}"), "-c", "spread.conf"])
            .env("SPREAD_SOCKET_DIR", &d)
            .current_dir(&d)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start spread in its namespace")
    }

    /// The process id of daemon `i`.
    pub fn pid(&self, i: usize) -> u32 {
        self.daemons[i - 1].id()
    }

    /// Stops daemon `i`: SIGTERM (then SIGKILL after 3 s), or SIGKILL at
    /// once if `kill9`.
    pub fn stop(&mut self, i: usize, kill9: bool) {
        let c = &mut self.daemons[i - 1];
        if kill9 {
            let _ = c.kill();
            let _ = c.wait();
        } else {
            spread_testkit::stop_child(c);
        }
    }

    /// Starts daemon `i` again (after `stop`) and waits until it serves.
    pub fn restart(&mut self, i: usize) {
        self.daemons[i - 1] = self.spawn(i);
        self.wait_ready(i);
    }

    /// The daemon name of daemon `i` for clients: its Unix socket.
    pub fn socket(&self, i: usize) -> String {
        self.dir
            .join(format!("d{i}"))
            .join(self.port.to_string())
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

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("d{i}")).join("daemon.log"))
            .unwrap_or_default()
    }

    /// Daemon `i`'s link on the bridge goes down (`false`) or up.
    pub fn link(&self, i: usize, up: bool) {
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
            for i in 1..=self.count {
                eprintln!("--- d{i}:\n{}", self.log(i));
            }
        }
        for ns in (1..=self.count).map(|i| self.host(i)).chain([self.hub()]) {
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
