//! spmonitor against real daemons: status of a daemon alone and of a ring,
//! daemons that do not answer, requests from an address that is not the
//! daemon claimed; partitions, terminations and flow control, refused
//! without DangerousMonitor and obeyed with it.

use spread_codec::{DataHeader, MonitorBody, MonitorPacket, FC_TYPE, PARTITION_TYPE, STATUS_TYPE};
use spread_config::Config;
use spread_core::client::Mailbox;
use spread_core::consts::{AGREED_MESS, CAUSED_BY_NETWORK};
use spread_core::wire::{MembershipMessage, Message};
use spread_testkit::{TestDaemon, TestRing};
use spread_tools::monitor::daemons_of;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn spmonitor(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spmonitor"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn status_of_a_daemon_alone() {
    let d = TestDaemon::start("");
    let m = Mailbox::connect(&d.tcp_name(), Some("mon"), 0, true).unwrap();
    m.join("g").unwrap();
    // Its view: the join is applied.
    m.receive_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a view");
    let conf = d.dir.join("spread.conf");
    let (code, out) = spmonitor(&["-c", conf.to_str().unwrap(), "-p", "0"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("localhost (id 482711334): up"), "{out}");
    assert!(
        out.contains("state OP") && out.contains("1 sessions, 1 groups"),
        "{out}"
    );
    assert!(out.contains("1 daemons in 1 segments"), "{out}");
}

/// `--metrics` shows the daemon's metrics after its status: at the
/// configuration's MetricsAddress, or at the address given; without it the
/// output is the status alone.
#[test]
fn status_with_the_metrics_of_a_daemon() {
    let port = spread_testkit::free_port();
    let d = TestDaemon::start(&format!("MetricsAddress = 127.0.0.1:{port}"));
    let m = Mailbox::connect(&d.tcp_name(), Some("mon"), 0, true).unwrap();
    m.join("g").unwrap();
    m.receive_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a view");
    let conf = d.dir.join("spread.conf");
    let conf = conf.to_str().unwrap();
    let given = format!("127.0.0.1:{port}");
    for args in [vec!["--metrics"], vec!["--metrics", given.as_str()]] {
        let mut all = vec!["-c", conf, "-p", "0"];
        all.extend(args);
        let (code, out) = spmonitor(&all);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("localhost (id 482711334): up"), "{out}");
        let at = out
            .find(&format!("metrics at 127.0.0.1:{port}: health 200 OP"))
            .expect(&out);
        assert!(at > out.find("localhost (id").unwrap(), "{out}");
        assert!(out.contains("\n  spread_sessions 1\n"), "{out}");
        assert!(out.contains("\n  spread_groups 1\n"), "{out}");
        assert!(!out.contains("# TYPE"), "{out}");
    }
    let (code, out) = spmonitor(&["-c", conf, "-p", "0"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("metrics at"), "{out}");
    // A configuration without MetricsAddress: --metrics alone says so.
    let plain = TestDaemon::start("");
    let conf = plain.dir.join("spread.conf");
    let (code, out) = spmonitor(&["-c", conf.to_str().unwrap(), "-p", "0", "--metrics"]);
    assert_ne!(code, Some(0), "{out}");
    assert!(out.contains("sets no MetricsAddress"), "{out}");
}

#[test]
fn status_of_a_ring_and_of_a_daemon_that_is_down() {
    let mut ring = TestRing::start(3, "", &[]);
    let m = Mailbox::connect(&ring.tcp_name(2), Some("mon"), 0, true).unwrap();
    m.join("g").unwrap();
    for i in 0..10u8 {
        m.multicast(AGREED_MESS, "g", 0, &[i]).unwrap();
    }
    for _ in 0..11 {
        m.receive_timeout(Duration::from_secs(5))
            .unwrap()
            .expect("view and messages");
    }
    let conf = ring.dir.join("d1").join("spread.conf");
    let conf = conf.to_str().unwrap();
    // The three daemons' GROUPS messages when the ring formed, a join and
    // ten small messages (packed into few packets), everywhere: a daemon
    // asked while a retransmission is on its way may still be one short.
    let settled = |out: &str| {
        out.matches("state OP").count() == 3
            && out.matches("delivered 14; retransmitted").count() == 3
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let out = loop {
        let (code, out) = spmonitor(&["-c", conf, "-n", "d1", "-p", "0"]);
        assert_eq!(code, Some(0), "{out}");
        if settled(&out) || std::time::Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    for d in ["d1", "d2", "d3"] {
        assert!(out.contains(&format!("{d} (id ")), "{out}");
    }
    assert!(settled(&out), "{out}");
    assert_eq!(out.matches("3 daemons in 1 segments").count(), 3, "{out}");
    assert!(
        out.contains("1 sessions, 1 groups"),
        "d2 has the client: {out}"
    );
    ring.kill9(3);
    let (code, out) = spmonitor(&["-c", conf, "-n", "d1", "-p", "0", "-d", "d3", "-d", "d2"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("d3 (id 4014350958) at") && out.contains("no answer"),
        "{out}"
    );
    assert!(out.contains("d2 (id 348480928): up"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("d1 ")),
        "only the daemons asked for: {out}"
    );
}

#[test]
fn a_request_from_the_wrong_address_gets_no_answer() {
    let ring = TestRing::start(2, "", &[]);
    // Claims to be d2 but comes from 127.0.0.1, which is not d2's address.
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = s.local_addr().unwrap().port();
    let d2 = 348480928;
    let mut header = DataHeader::new(STATUS_TYPE, d2);
    header.transmiter_id = d2;
    header.seq = i32::from(port);
    let request = MonitorPacket {
        header,
        body: MonitorBody::StatusRequest,
    }
    .encode();
    s.send_to(&request, (ring.ip(1).as_str(), ring.port))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(
        s.recv_from(&mut buf).is_err(),
        "a forged request was answered"
    );
    // From the right address it is answered.
    let (s, request) = plain_request_as_d2(&ring);
    s.send_to(&request, (ring.ip(1).as_str(), ring.port))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let (n, _) = s.recv_from(&mut buf).expect("an answer");
    assert!(matches!(
        MonitorPacket::decode(&buf[..n]).unwrap().body,
        MonitorBody::StatusReply(_)
    ));
}

/// On a sealed ring (RingKeyFile) spmonitor seals its requests and opens
/// the replies; a plain request, even from a daemon's address, gets no
/// answer.
#[test]
fn status_of_a_sealed_ring() {
    use std::os::unix::fs::PermissionsExt;
    let keys = spread_testkit::TempDir::new("spread-monitor-keys");
    let key = keys.join("ring.key");
    std::fs::write(&key, [0x66u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ring = TestRing::start(2, &format!("RingKeyFile = {}", key.display()), &[]);
    let conf = conf_of(&ring);
    let deadline = Instant::now() + Duration::from_secs(10);
    let out = loop {
        let (code, out) = spmonitor(&["-c", &conf, "-n", "d1", "-p", "0"]);
        if (code == Some(0) && out.matches("2 daemons in 1 segments").count() == 2)
            || Instant::now() > deadline
        {
            break out;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(out.contains("d1 (id ") && out.contains("d2 (id "), "{out}");
    assert_eq!(out.matches("state OP").count(), 2, "{out}");

    let (s, request) = plain_request_as_d2(&ring);
    s.send_to(&request, (ring.ip(1).as_str(), ring.port))
        .unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 2048];
    assert!(
        s.recv_from(&mut buf).is_err(),
        "a plain request was answered"
    );
}

/// A socket on d2's address and a plain STATUS request from it as d2.
fn plain_request_as_d2(ring: &TestRing) -> (std::net::UdpSocket, Vec<u8>) {
    let s = std::net::UdpSocket::bind((ring.ip(2).as_str(), 0)).unwrap();
    let d2 = 348480928;
    let mut header = DataHeader::new(STATUS_TYPE, d2);
    header.transmiter_id = d2;
    header.seq = i32::from(s.local_addr().unwrap().port());
    let request = MonitorPacket {
        header,
        body: MonitorBody::StatusRequest,
    }
    .encode();
    (s, request)
}

/// spmonitor with d1's configuration and identity, on any free port.
fn monitor(ring: &TestRing, args: &[&str]) -> (Option<i32>, String) {
    let conf = conf_of(ring);
    let mut all = vec!["-c", conf.as_str(), "-n", "d1", "-p", "0"];
    all.extend_from_slice(args);
    spmonitor(&all)
}

fn conf_of(ring: &TestRing) -> String {
    ring.dir
        .join("d1")
        .join("spread.conf")
        .to_str()
        .unwrap()
        .to_string()
}

/// A client of daemon `i` in group `g`.
fn member(ring: &TestRing, i: usize, name: &str) -> Mailbox {
    let m = Mailbox::connect(&ring.tcp_name(i), Some(name), 0, true).unwrap();
    m.join("g").unwrap();
    m
}

/// The next message that is not a data message.
fn next_event(m: &Mailbox, t: Duration) -> Message {
    let deadline = Instant::now() + t;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match m.receive_timeout(left).unwrap() {
            Some(Message::Data(_)) => {}
            Some(other) => return other,
            None => panic!("no membership event within {t:?}"),
        }
    }
}

/// Views until one with `n` members.
fn view_of(m: &Mailbox, n: usize) -> MembershipMessage {
    loop {
        if let Message::Membership(v) = next_event(m, Duration::from_secs(10)) {
            if v.members.len() == n {
                return v;
            }
        }
    }
}

/// The payload of the next data message.
fn next_data(m: &Mailbox, t: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + t;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match m.receive_timeout(left).unwrap()? {
            Message::Data(d) => return Some(d.data),
            _ => continue,
        }
    }
}

#[test]
fn without_dangerous_monitor_partitions_terminations_and_windows_are_refused() {
    let mut ring = TestRing::start(3, "", &[]);
    let (code, out) = monitor(
        &ring,
        &["--partition", "d1,d2|d3", "--window", "40", "--once"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("partition 1: {d1, d2} | 2: {d3} sent to 3 daemons"),
        "{out}"
    );
    assert!(
        out.contains("flow control sent to 3 daemons: Window 40"),
        "{out}"
    );
    let (code, out) = monitor(&ring, &["--terminate", "d3", "--once"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("told d3 to terminate"), "{out}");

    assert!(ring.wait_exit(3, Duration::from_millis(300)).is_none());
    let (code, out) = monitor(&ring, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.matches("Window 160 PersonalWindow 20").count(),
        3,
        "{out}"
    );
    // Nothing is cut: d3's client reaches d1's.
    let a = member(&ring, 1, "a");
    let c = member(&ring, 3, "c");
    view_of(&a, 2);
    view_of(&c, 2);
    c.multicast(AGREED_MESS, "g", 0, b"still one ring").unwrap();
    assert_eq!(
        next_data(&a, Duration::from_secs(5)).as_deref(),
        Some(&b"still one ring"[..])
    );
    for i in 1..=3 {
        let log = ring.log(i);
        assert_eq!(
            log.matches("DangerousMonitor is not set").count(),
            1,
            "d{i} says it once: {log}"
        );
        assert!(!log.contains("partition imposed"), "d{i}: {log}");
    }
}

#[test]
fn flow_control_changes_show_in_status_and_the_ring_keeps_going() {
    let ring = TestRing::start(2, "DangerousMonitor = true", &[]);
    let (code, out) = monitor(
        &ring,
        &[
            "--window",
            "80",
            "--personal-window",
            "10",
            "--personal-window",
            "d2=5",
            "--once",
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("flow control sent to 2 daemons: Window 80; PersonalWindow d1 10, d2 5"),
        "{out}"
    );
    let (code, out) = monitor(&ring, &[]);
    assert_eq!(code, Some(0), "{out}");
    let d1 = out.split("d2 (id").next().unwrap();
    assert!(d1.contains("Window 80 PersonalWindow 10"), "{out}");
    assert!(out.contains("Window 80 PersonalWindow 5"), "{out}");
    assert!(
        ring.log(2)
            .contains("flow control set by the monitor at 127.0."),
        "{}",
        ring.log(2)
    );
    // Only PersonalWindow: the Window stays.
    let (code, out) = monitor(&ring, &["--personal-window", "d1=7", "--once"]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out) = monitor(&ring, &["-d", "d1"]);
    assert!(out.contains("Window 80 PersonalWindow 7"), "{out}");
    // The smaller windows still carry a burst.
    let a = member(&ring, 1, "a");
    let b = member(&ring, 2, "b");
    view_of(&a, 2);
    view_of(&b, 2);
    for i in 0..200u32 {
        a.multicast(AGREED_MESS, "g", 0, &i.to_le_bytes()).unwrap();
    }
    for i in 0..200u32 {
        assert_eq!(
            next_data(&b, Duration::from_secs(10)),
            Some(i.to_le_bytes().to_vec())
        );
    }
}

/// Reads a child's stdout on a thread, line by line.
fn lines_of(child: &mut Child) -> mpsc::Receiver<String> {
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Lines until one contains `what`; all of them.
fn until(rx: &mpsc::Receiver<String>, what: &str, seen: &mut String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                *seen += &line;
                seen.push('\n');
                if line.contains(what) {
                    return;
                }
            }
            Err(_) => panic!("no {what:?} in:\n{seen}"),
        }
    }
}

#[test]
fn the_menu_driven_through_a_pipe_sets_flow_control_and_shows_status() {
    let ring = TestRing::start(2, "DangerousMonitor = true", &[]);
    let conf = conf_of(&ring);
    let mut child = Command::new(env!("CARGO_BIN_EXE_spmonitor"))
        .args(["-c", &conf, "-n", "d1", "-p", "0", "-t", "1", "--menu"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let mut input = child.stdin.take().unwrap();
    let mut seen = String::new();
    until(&rx, "9. Exit", &mut seen);
    // Window 40, d1 unchanged, d2 7; send; review; status of all.
    for line in ["5", "40", "", "7", "6", "7", "0", "all", ""] {
        writeln!(input, "{line}").unwrap();
    }
    until(&rx, "Window 40 PersonalWindow 7", &mut seen);
    until(&rx, "Window 40 PersonalWindow 20", &mut seen);
    writeln!(input, "q").unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    assert!(seen.contains("\td2 personal window\t7"), "{seen}");
    assert!(seen.contains("Window size:  40"), "{seen}");
}

#[test]
fn requests_from_a_forged_address_are_ignored_and_a_genuine_one_terminates() {
    let mut ring = TestRing::start(3, "DangerousMonitor = true", &[]);
    let config = Config::load(std::path::Path::new(&conf_of(&ring))).unwrap();
    let daemons = daemons_of(&config);
    let d2 = daemons[1].id;
    let packets = |hash: u32| {
        let mut header = DataHeader::new(PARTITION_TYPE, d2);
        header.transmiter_id = d2;
        header.conf_hash = hash;
        let mut kill_all = Box::new([0i16; 128]);
        kill_all[..3].fill(-1);
        let partition = MonitorPacket {
            header,
            body: MonitorBody::Partition(kill_all),
        };
        header.ty = FC_TYPE;
        let mut tiny = Box::new([[1i16; 2]; 128]);
        tiny[3][0] = 1;
        let fc = MonitorPacket {
            header,
            body: MonitorBody::FlowControl(tiny),
        };
        [partition.encode(), fc.encode()]
    };
    let send_all = |from: &std::net::UdpSocket, hash: u32| {
        for p in packets(hash) {
            for d in &daemons {
                from.send_to(&p, d.addr).unwrap();
            }
        }
    };
    // Claims to be d2 from 127.0.0.1, which is not d2's address.
    let forged = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    send_all(&forged, config.hash());
    // From d2's address, but of another configuration.
    let foreign = std::net::UdpSocket::bind((ring.ip(2).as_str(), 0)).unwrap();
    send_all(&foreign, config.hash() ^ 1);
    for i in 1..=3 {
        assert!(
            ring.wait_exit(i, Duration::from_millis(200)).is_none(),
            "d{i} obeyed a forged request: {}",
            ring.log(i)
        );
    }
    let (code, out) = monitor(&ring, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.matches("Window 160 PersonalWindow 20").count(),
        3,
        "{out}"
    );

    let (code, out) = monitor(&ring, &["--terminate", "d3", "--once"]);
    assert_eq!(code, Some(0), "{out}");
    let status = ring
        .wait_exit(3, Duration::from_secs(5))
        .unwrap_or_else(|| panic!("d3 did not exit: {}", ring.log(3)));
    assert!(status.success(), "{status}");
    assert!(
        ring.log(3).contains("terminated by the monitor at 127.0."),
        "{}",
        ring.log(3)
    );
    assert!(ring.wait_exit(1, Duration::ZERO).is_none());
    assert!(ring.wait_exit(2, Duration::ZERO).is_none());
    let (code, out) = monitor(&ring, &["-d", "d1", "-d", "d2"]);
    assert_eq!(code, Some(0), "{out}");
}

/// A background spmonitor, killed on drop.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Transitional signal, then a network view with `members`.
fn network_change(m: &Mailbox, members: &[&Mailbox], t: Duration) -> MembershipMessage {
    match next_event(m, t) {
        Message::Transition(_) => {}
        other => panic!(
            "{}: expected a transitional signal, got {other:?}",
            m.private_group()
        ),
    }
    let Message::Membership(v) = next_event(m, t) else {
        panic!("{}: expected a view", m.private_group());
    };
    assert!(v.service_type & CAUSED_BY_NETWORK != 0, "{v:?}");
    let want: Vec<_> = members.iter().map(|c| *c.private_group()).collect();
    assert_eq!(v.members, want, "{}", m.private_group());
    v
}

/// 5.0.1's behaviour (daemon-protocol.md §10.4): the monitor's partition
/// {d1, d2} | {d3} splits the ring as a network partition would; lifting it
/// merges the two rings again with one network view and no transitional
/// signal.
#[test]
fn a_partition_splits_the_ring_and_lifting_it_merges_the_parts() {
    let ring = TestRing::start(3, "DangerousMonitor = true", &[]);
    let c1 = member(&ring, 1, "c1");
    let c2 = member(&ring, 2, "c2");
    let c3 = member(&ring, 3, "c3");
    for c in [&c1, &c2, &c3] {
        view_of(c, 3);
    }
    let conf = conf_of(&ring);
    let partition = Background(
        Command::new(env!("CARGO_BIN_EXE_spmonitor"))
            .args(["-c", &conf, "-n", "d1", "-p", "0"])
            .args(["--partition", "d1,d2|d3"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let t = Duration::from_secs(30);
    let v1 = network_change(&c1, &[&c1, &c2], t);
    let v2 = network_change(&c2, &[&c1, &c2], t);
    assert_eq!(v1.group_id, v2.group_id);
    assert_eq!(v1.vs_sets, [vec![*c1.private_group(), *c2.private_group()]]);
    let v3 = network_change(&c3, &[&c3], t);
    assert_eq!(v3.vs_sets, [vec![*c3.private_group()]]);

    let (_, out) = monitor(&ring, &[]);
    // A daemon's paragraph: from its line to the next daemon's.
    let at = |d: &str| {
        let start = out
            .lines()
            .position(|l| l.starts_with(&format!("{d} (id")))
            .unwrap_or_else(|| panic!("{d} in {out}"));
        out.lines()
            .skip(start)
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        at("d1").contains("state OP") && at("d1").contains("leader d1"),
        "{out}"
    );
    assert!(
        at("d2").contains("leader d1") && at("d2").contains("2 daemons in"),
        "{out}"
    );
    assert!(
        at("d3").contains("leader d3") && at("d3").contains("1 daemons in"),
        "{out}"
    );
    // Messages stay on their side.
    c3.multicast(AGREED_MESS, "g", 0, b"alone").unwrap();
    c1.multicast(AGREED_MESS, "g", 0, b"pair").unwrap();
    assert_eq!(next_data(&c2, t).as_deref(), Some(&b"pair"[..]));
    assert_eq!(next_data(&c3, t).as_deref(), Some(&b"alone"[..]));
    assert_eq!(next_data(&c3, Duration::from_millis(500)), None);

    drop(partition);
    let (code, out) = monitor(&ring, &["--cancel-partition"]);
    assert_eq!(code, Some(0), "{out}");
    // Traffic from the pair lets d3 see the other ring at once.
    c1.multicast(AGREED_MESS, "g", 0, b"merge").unwrap();
    let t = Duration::from_secs(60);
    let mut ids = Vec::new();
    for c in [&c1, &c2, &c3] {
        let Message::Membership(v) = next_event(c, t) else {
            panic!(
                "{}: a merge gives a view without a transitional signal",
                c.private_group()
            );
        };
        assert!(v.service_type & CAUSED_BY_NETWORK != 0, "{v:?}");
        assert_eq!(v.members.len(), 3, "{v:?}");
        assert_eq!(v.vs_sets.len(), 2, "one vs-set per side: {v:?}");
        ids.push(v.group_id);
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
}

/// What a partition does at the receive filter, whatever the membership
/// protocol makes of it: each daemon says its component, drops what comes
/// from the other one (d3 the tokens and hurries d2 keeps sending it), and
/// stops when the monitor lifts the partition.
#[test]
fn a_partition_drops_traffic_across_components_until_cancelled() {
    let ring = TestRing::start(3, "DangerousMonitor = true", &[]);
    let (code, out) = monitor(&ring, &["--partition", "d1,d2|d3", "--once"]);
    assert_eq!(code, Some(0), "{out}");
    std::thread::sleep(Duration::from_secs(3));
    let (code, out) = monitor(&ring, &["--cancel-partition"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("partition cancelled at 3 daemons"), "{out}");
    let (code, out) = monitor(&ring, &[]);
    assert_eq!(code, Some(0), "every daemon answers the monitor: {out}");
    for (i, component) in [(1, 1), (2, 1), (3, 2)] {
        let log = ring.log(i);
        assert!(
            log.contains(&format!(
                "partition imposed by the monitor at {}:",
                ring.ip(1)
            )) && log.contains(&format!(
                "1: {{d1, d2}} | 2: {{d3}}; I am in component {component}"
            )),
            "d{i}: {log}"
        );
        assert!(
            log.contains("partition lifted by the monitor"),
            "d{i}: {log}"
        );
    }
    let dropped: u64 = ring
        .log(3)
        .split("lifted by the monitor at ")
        .nth(1)
        .and_then(|rest| rest.split("; ").nth(1))
        .and_then(|n| n.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a count of dropped datagrams");
    assert!(dropped > 0, "{}", ring.log(3));
}
