//! Operating a daemon: the metrics endpoint (`MetricsAddress`), JSON logs
//! (`EventLogFormat = json`), systemd's readiness protocol (`NOTIFY_SOCKET`)
//! and SIGTERM, against real daemons.

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_testkit::{
    daemon_binary, free_port, request, runtime_dir, scrape, TempDir, TestDaemon, TestRing,
};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn get(addr: &str, path: &str) -> (u16, String) {
    spread_testkit::http_get(addr, path)
}

fn value(m: &HashMap<String, u64>, name: &str) -> u64 {
    *m.get(name).unwrap_or_else(|| panic!("no {name} in {m:?}"))
}

/// Scrapes until `ok` holds (a ring forming, a loss noticed), and returns
/// that scrape.
fn scrape_until(addr: &str, ok: impl Fn(&HashMap<String, u64>) -> bool) -> HashMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = scrape(addr);
        if ok(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn data(m: &Mailbox) -> spread_core::wire::DataMessage {
    loop {
        match m.receive().unwrap() {
            Message::Data(d) => return d,
            Message::Membership(_) | Message::Transition(_) => {}
            other => panic!("expected data, got {other:?}"),
        }
    }
}

fn view(m: &Mailbox, cause: u32, members: usize) {
    loop {
        match m.receive().unwrap() {
            Message::Membership(v) if v.cause() == cause && v.members.len() == members => return,
            Message::Membership(_) | Message::Transition(_) => {}
            other => panic!("expected a view, got {other:?}"),
        }
    }
}

/// Messages and bytes from and to clients, counted by service; the
/// sessions, groups and members gauges; /health in OP.
#[test]
fn a_scrape_counts_messages_and_bytes_by_service() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = TestDaemon::start(&format!("MetricsAddress = {addr}"));
    let a = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    let b = Mailbox::connect(&d.tcp_name(), Some("b"), 0, true).unwrap();
    a.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 1);
    b.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 2);
    view(&b, CAUSED_BY_JOIN, 2);
    let before = scrape(&addr);
    assert_eq!(value(&before, "spread_sessions"), 2);
    assert_eq!(value(&before, "spread_groups"), 1);
    assert_eq!(value(&before, "spread_group_members"), 2);
    let sent = [
        (AGREED_MESS, 10usize, 3u64),
        (SAFE_MESS, 5, 2),
        (FIFO_MESS, 7, 1),
        (RELIABLE_MESS, 1, 4),
        (CAUSAL_MESS, 100, 1),
    ];
    let mut total = 0;
    for (service, len, n) in sent {
        for _ in 0..n {
            a.multicast(service, "g", 0, &vec![1u8; len]).unwrap();
            total += 1;
        }
    }
    // Both members get every message (a its own too).
    for _ in 0..total {
        data(&a);
        data(&b);
    }
    let after = scrape(&addr);
    let delta = |name: &str| value(&after, name) - value(&before, name);
    for (service, len, n) in sent {
        let label = match service {
            AGREED_MESS => "agreed",
            SAFE_MESS => "safe",
            FIFO_MESS => "fifo",
            RELIABLE_MESS => "reliable",
            _ => "causal",
        };
        let l = format!("{{service=\"{label}\"}}");
        assert_eq!(
            delta(&format!("spread_client_messages_received_total{l}")),
            n,
            "{label}"
        );
        assert_eq!(
            delta(&format!("spread_client_bytes_received_total{l}")),
            n * len as u64,
            "{label}"
        );
        assert_eq!(
            delta(&format!("spread_client_messages_delivered_total{l}")),
            2 * n,
            "{label}"
        );
        assert_eq!(
            delta(&format!("spread_client_bytes_delivered_total{l}")),
            2 * n * len as u64,
            "{label}"
        );
    }
    let l = "{service=\"unreliable\"}";
    assert_eq!(
        delta(&format!("spread_client_messages_received_total{l}")),
        0
    );
    // A daemon alone orders at once: no packets on the network.
    assert_eq!(value(&after, "spread_membership_size"), 1);
    assert_eq!(value(&after, "spread_membership_state{state=\"OP\"}"), 1);
    let (code, body) = get(&addr, "/health");
    assert_eq!((code, body.as_str()), (200, "OP: a ring of 1 daemons\n"));
    assert_eq!(get(&addr, "/nothing").0, 404);
    // A refused message is counted by its reason.
    let mut r = d.raw();
    r.handshake("r", true);
    r.send(&request(
        AGREED_MESS,
        "#r#localhost",
        &["g"],
        0,
        &[0u8; 200_000],
    ));
    match r.message() {
        Message::Reject(_) => {}
        other => panic!("expected a reject, got {other:?}"),
    }
    let rejected = "spread_dropped_total{reason=\"rejected_client_message\"}";
    assert_eq!(value(&scrape(&addr), rejected) - value(&after, rejected), 1);
    drop((b, r));
    // Sessions gone leave their groups (once their disconnects are ordered).
    let m = scrape_until(&addr, |m| {
        value(m, "spread_group_members") == 1 && value(m, "spread_sessions") == 1
    });
    assert_eq!(value(&m, "spread_group_members"), 1);
    assert_eq!(value(&m, "spread_sessions"), 1);
}

/// In a ring of two, the ring's counters move, and a daemon killed shows
/// as a membership change and a ring of one.
#[test]
fn a_daemon_lost_is_a_membership_change() {
    let port = free_port();
    let mut ring = TestRing::start(2, &format!("MetricsAddress = {{ip}}:{port}"), &[]);
    let addr = format!("{}:{port}", ring.ip(1));
    let m = scrape_until(&addr, |m| value(m, "spread_membership_size") == 2);
    assert_eq!(value(&m, "spread_membership_size"), 2);
    let a = Mailbox::connect(&ring.tcp_name(1), Some("a"), 0, true).unwrap();
    let b = Mailbox::connect(&ring.tcp_name(2), Some("b"), 0, true).unwrap();
    a.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 1);
    b.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 2);
    let before = scrape(&addr);
    for _ in 0..5 {
        b.multicast(SAFE_MESS, "g", 0, b"12345678").unwrap();
    }
    for _ in 0..5 {
        data(&a);
    }
    let after = scrape(&addr);
    let delta = |name: &str| value(&after, name) - value(&before, name);
    assert_eq!(
        delta("spread_client_messages_delivered_total{service=\"safe\"}"),
        5
    );
    assert_eq!(
        delta("spread_client_bytes_delivered_total{service=\"safe\"}"),
        40
    );
    assert_eq!(
        delta("spread_client_messages_received_total{service=\"safe\"}"),
        0
    );
    assert!(delta("spread_packets_received_total") > 0, "{after:?}");
    assert!(delta("spread_tokens_total") > 0, "{after:?}");
    assert_eq!(get(&addr, "/health").0, 200);
    ring.kill9(2);
    view(&a, CAUSED_BY_NETWORK, 1);
    let lost = scrape(&addr);
    assert_eq!(value(&lost, "spread_membership_size"), 1);
    assert!(
        value(&lost, "spread_membership_changes_total")
            > value(&after, "spread_membership_changes_total")
    );
    assert_eq!(value(&lost, "spread_group_members"), 1);
}

/// A daemon started by hand in `dir` with `conf` (appended to a segment of
/// one daemon on `port`) and `env`; stderr goes to `dir/daemon.log`.
fn spawn(dir: &Path, port: u16, conf: &str, env: &[(&str, &str)]) -> Child {
    runtime_dir(dir);
    let text = format!(
        "Spread_Segment 127.0.0.255:{port} {{\n\tlocalhost 127.0.0.1\n}}\nRuntimeDir = {}\n{conf}\n",
        dir.display()
    );
    std::fs::write(dir.join("spread.conf"), text).unwrap();
    let log = std::fs::File::create(dir.join("daemon.log")).unwrap();
    let mut cmd = Command::new(daemon_binary());
    cmd.args(["-n", "localhost", "-c", "spread.conf"])
        .current_dir(dir)
        .env("SPREAD_SOCKET_DIR", dir)
        .env_remove("NOTIFY_SOCKET")
        .stdout(Stdio::null())
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits for a daemon that should stop by itself; kills it if it does not.
fn exit_of(mut child: Child) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// A bad MetricsAddress stops the daemon at start with the file and line;
/// so does a port another program listens on.
#[test]
fn a_bad_metrics_address_stops_the_daemon_at_start() {
    let dir = TempDir::new("spread-metrics-conf");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap();
    for (conf, want) in [
        (
            "MetricsAddress = 127.0.0.1",
            "spread.conf:5: MetricsAddress needs a port",
        ),
        (
            "MetricsAddress = nowhere:1",
            "spread.conf:5: MetricsAddress expects an address with a port",
        ),
        (
            "EventLogFormat = xml",
            "spread.conf:5: EventLogFormat must be text or json",
        ),
        (
            &format!("MetricsAddress = {taken}"),
            &format!("MetricsAddress {taken} (spread.conf:5): Address"),
        ),
    ] {
        let port = free_port();
        let child = spawn(&dir, port, conf, &[]);
        let status = exit_of(child).expect("the daemon stops by itself");
        let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
        assert!(!status.success(), "{conf}: {log}");
        assert!(log.contains(want), "{conf}: expected {want:?} in {log}");
        // Nothing is left behind: the Unix socket is made after.
        assert!(!dir.join(port.to_string()).exists(), "{conf}");
    }
}

/// With `EventLogFormat = json`, every line of the log is a JSON object
/// with time (a time stamp is configured), level, target and message.
#[test]
fn json_logs_are_one_object_a_line() {
    for stamped in [true, false] {
        json_log(stamped);
    }
}

fn json_log(stamped: bool) {
    let stamp = if stamped { "EventTimeStamp" } else { "" };
    let d = TestDaemon::start(&format!(
        "EventLogFormat = json\n{stamp}\nDebugFlags = {{ SESSION }}"
    ));
    let c = Mailbox::connect(&d.tcp_name(), Some("j"), 0, true).unwrap();
    drop(c);
    let mut d = d;
    d.terminate();
    let log = d.log_text();
    let mut lines = 0;
    let mut started = false;
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        for key in ["level", "target", "message"] {
            assert!(v[key].is_string(), "no {key} in {line}");
        }
        assert_eq!(v["time"].is_string(), stamped, "{line}");
        started |=
            v["target"] == "spread" && v["message"].as_str().unwrap().contains("clients on TCP");
        lines += 1;
    }
    assert!(started, "{log}");
    assert!(lines >= 3, "{log}");
}

/// With NOTIFY_SOCKET, READY=1 comes when clients can connect, and
/// STOPPING=1 on SIGTERM; a path and an abstract name both work.
#[test]
fn systemd_hears_ready_and_stopping() {
    use std::os::unix::net::UnixDatagram;
    let dir = TempDir::new("spread-notify");
    for abstract_name in [false, true] {
        let (socket, name) = if abstract_name {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("spread-notify-test-{}", std::process::id());
            let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
            (UnixDatagram::bind_addr(&addr).unwrap(), format!("@{name}"))
        } else {
            let path = dir.join("notify");
            let _ = std::fs::remove_file(&path);
            (
                UnixDatagram::bind(&path).unwrap(),
                path.display().to_string(),
            )
        };
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let port = free_port();
        let daemon_dir = dir.join(format!("d{}", u8::from(abstract_name)));
        let mut child = spawn(&daemon_dir, port, "", &[("NOTIFY_SOCKET", &name)]);
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("READY=1");
        assert_eq!(&buf[..n], b"READY=1");
        // Ready means serving: a client connects at once.
        let c = Mailbox::connect(&format!("{port}@127.0.0.1"), Some("n"), 0, true).unwrap();
        c.join("g").unwrap();
        view(&c, CAUSED_BY_JOIN, 1);
        // SAFETY: kill(2) with a pid we spawned and a valid signal.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let n = socket.recv(&mut buf).expect("STOPPING=1");
        assert_eq!(&buf[..n], b"STOPPING=1");
        assert!(child.wait().unwrap().success());
    }
}

/// SIGTERM ends the daemon as 5.0.1's does: its clients see their
/// connection close, members on the other daemon a network view without
/// them once the ring has reformed.
#[test]
fn sigterm_closes_sessions_and_the_others_see_the_daemon_leave() {
    let mut ring = TestRing::start(2, "", &[]);
    let a = Mailbox::connect(&ring.tcp_name(1), Some("a"), 0, true).unwrap();
    let b = Mailbox::connect(&ring.tcp_name(2), Some("b"), 0, true).unwrap();
    a.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 1);
    b.join("g").unwrap();
    view(&a, CAUSED_BY_JOIN, 2);
    view(&b, CAUSED_BY_JOIN, 2);
    let status = ring.terminate(2).expect("d2 was running");
    assert!(status.success(), "{status}");
    loop {
        match b.receive() {
            Ok(Message::Data(d)) => panic!("unexpected {d:?}"),
            Ok(_) => {}
            Err(e) => {
                assert!(
                    matches!(e, spread_core::Error::ConnectionClosed(_)),
                    "{e:?}"
                );
                break;
            }
        }
    }
    view(&a, CAUSED_BY_NETWORK, 1);
    assert!(ring.log(2).contains("exiting on signal"), "{}", ring.log(2));
}

/// A reload keeps the metrics where they were (the listener was bound
/// before any chroot) and says so.
#[test]
fn a_reload_keeps_the_metrics_address() {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = TestDaemon::start(&format!("MetricsAddress = {addr}"));
    let conf = d.dir.join("spread.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    let moved = text.replace(&addr, &format!("127.0.0.1:{}", free_port()));
    std::fs::write(&conf, moved).unwrap();
    // SAFETY: kill(2) with the daemon's pid and a valid signal.
    unsafe { libc::kill(d.pid() as libc::pid_t, libc::SIGHUP) };
    let said = "MetricsAddress and EventLogFormat stay as they were until the daemon restarts";
    let deadline = Instant::now() + Duration::from_secs(20);
    while !d.log_text().contains(said) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(d.log_text().contains(said), "{}", d.log_text());
    // The reload takes the daemon through a membership change of its own
    // (503 meanwhile), then it is in OP again, served at the old address.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut health = get(&addr, "/health");
    while health.0 != 200 && Instant::now() < deadline {
        assert_eq!(health.0, 503, "{health:?}");
        assert!(health.1.ends_with(": no ring installed\n"), "{health:?}");
        std::thread::sleep(Duration::from_millis(20));
        health = get(&addr, "/health");
    }
    assert_eq!(health, (200, "OP: a ring of 1 daemons\n".to_string()));
}

/// The TCP ports process `pid` listens on (its sockets in /proc/net/tcp*
/// in state LISTEN).
fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_str()?;
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                let port = f[1].rsplit(':').next().unwrap();
                ports.push(u16::from_str_radix(port, 16).unwrap());
            }
        }
    }
    ports.sort_unstable();
    ports
}

/// An IPv6 MetricsAddress (on a host with ::1; some containers have none).
#[test]
fn metrics_on_ipv6_loopback() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        eprintln!("no ::1 on this host: skipped");
        return;
    };
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let addr = format!("[::1]:{port}");
    let _d = TestDaemon::start(&format!("MetricsAddress = {addr}"));
    assert_eq!(get(&addr, "/health").0, 200);
    assert_eq!(value(&scrape(&addr), "spread_membership_size"), 1);
}

/// Without MetricsAddress the daemon listens for clients only; with it,
/// on the metrics port too.
#[test]
fn no_metrics_address_no_listener() {
    let d = TestDaemon::start("");
    assert_eq!(listening_ports(d.pid()), [d.port]);
    let port = free_port();
    let d = TestDaemon::start(&format!("MetricsAddress = 127.0.0.1:{port}"));
    let mut want = vec![d.port, port];
    want.sort_unstable();
    assert_eq!(listening_ports(d.pid()), want);
}
