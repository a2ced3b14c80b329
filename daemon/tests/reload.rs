//! Dynamic configuration with real daemons: spread.conf rewritten, then
//! SIGHUP or spmonitor's reload. Daemons added join the running ring and
//! daemons removed leave it while the other daemons' clients keep their
//! sessions (EVS checker over every client's log); a broken file leaves the
//! running configuration in force; a daemon whose own entry changed exits.
//! Started as root, the daemons have chrooted to their directory: the file
//! is read again through the directory they opened before.

mod scenarios;

use scenarios::traffic::{check_logs, finish, Traffic};
use spread_core::client::Mailbox;
use spread_testkit::{sibling_binary, TestRing};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(30);

/// The faster profile: memberships in well under a second.
const FAST: &str = "TokenTimeout = 400\nHurryTimeout = 150\nAliveTimeout = 50\nJoinTimeout = 50\nRepTimeout = 200\nSegTimeout = 150\nGatherTimeout = 300\nFormTimeout = 400\nLookupTimeout = 2000\n";

fn has(v: &spread_daemon::sim::checker::View, member: &str) -> bool {
    v.members.iter().any(|m| m == member)
}

fn wait_log(ring: &TestRing, i: usize, text: &str) {
    let deadline = Instant::now() + T;
    while !ring.log(i).contains(text) {
        assert!(
            Instant::now() < deadline,
            "d{i} never logged {text:?}:\n{}",
            ring.log(i)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_fourth_daemon_joins_and_one_leaves_under_traffic() {
    let mut ring = TestRing::start(3, FAST, &[]);
    let mut clients: Vec<Traffic> = (1..=3)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("c{i}")))
        .collect();
    for c in &clients {
        c.wait_view(T, |v| v.members.len() == 3);
    }
    // d4 starts with the new file: alone (another hash) until the others
    // read it too.
    ring.write_conf(4, &[1, 2, 3, 4]);
    ring.start_new(4);
    clients.push(Traffic::start(ring.tcp_name(4), "c4"));
    clients[3].wait_view(T, |v| v.members.len() == 1);
    std::thread::sleep(Duration::from_millis(300));
    for i in 1..=3 {
        ring.write_conf(i, &[1, 2, 3, 4]);
        ring.hangup(i);
    }
    for c in &clients {
        c.wait_view(T, |v| v.members.len() == 4);
    }
    wait_log(&ring, 1, "daemons added: [d4], removed: []");
    std::thread::sleep(Duration::from_millis(300));
    // d3 leaves the configuration: it exits on its reload, as 5.0.1.
    for i in 1..=4 {
        ring.write_conf(i, &[1, 2, 4]);
        ring.hangup(i);
    }
    let status = ring.wait_exit(3, T).expect("d3 exits");
    assert_eq!(status.code(), Some(1), "{}", ring.log(3));
    assert!(
        ring.log(3).contains("no longer configured"),
        "{}",
        ring.log(3)
    );
    for i in [0, 1, 3] {
        clients[i].wait_view(T, |v| v.members.len() == 3 && !has(v, "#c3#d3"));
    }
    std::thread::sleep(Duration::from_millis(300));
    let logs = finish(clients);
    check_logs(&logs);
    for l in &logs {
        assert_eq!(l.survived, l.name != "#c3#d3", "{}", l.name);
    }
    wait_log(&ring, 1, "daemons added: [], removed: [d3]");
}

/// A client of daemon `i` of `ring`, member of `g`.
fn member(ring: &TestRing, i: usize, name: &str) -> Mailbox {
    let m = Mailbox::connect(&ring.tcp_name(i), Some(name), 0, true).unwrap();
    m.join("g").unwrap();
    m
}

/// Waits for a message with `body` at `m`, skipping views.
fn receive(m: &Mailbox, body: &[u8]) {
    use spread_core::wire::Message;
    let deadline = Instant::now() + T;
    loop {
        assert!(Instant::now() < deadline, "no message {body:?}");
        if let Some(Message::Data(d)) = m.receive_timeout(Duration::from_secs(1)).unwrap() {
            if d.data == body {
                return;
            }
        }
    }
}

/// Waits until `m` saw a view of `n` members of `g`.
fn wait_members(m: &Mailbox, n: usize) {
    use spread_core::wire::Message;
    let deadline = Instant::now() + T;
    loop {
        assert!(Instant::now() < deadline, "no view of {n} members");
        if let Some(Message::Membership(v)) = m.receive_timeout(Duration::from_secs(1)).unwrap() {
            if v.members.len() == n && v.group.to_string() == "g" {
                return;
            }
        }
    }
}

#[test]
fn a_broken_file_leaves_the_running_configuration_in_force() {
    let ring = TestRing::start(2, FAST, &[]);
    let a = member(&ring, 1, "a");
    let b = member(&ring, 2, "b");
    wait_members(&a, 2);
    let conf = std::fs::read_to_string(ring.dir.join("d1/spread.conf")).unwrap();
    ring.write_conf_text(1, &format!("{conf}\nNoSuchOption = 3\n"));
    ring.hangup(1);
    wait_log(&ring, 1, "stays in force");
    let log = ring.log(1);
    let line = log.lines().find(|l| l.contains("stays in force")).unwrap();
    let broken = std::fs::read_to_string(ring.dir.join("d1/spread.conf")).unwrap();
    let at = 1 + broken
        .lines()
        .position(|l| l.contains("NoSuchOption"))
        .unwrap();
    assert!(
        line.contains(&format!("spread.conf:{at}:")),
        "no file:line in {line:?}"
    );
    // Still one ring: nothing was changed.
    b.multicast(spread_core::consts::AGREED_MESS, "g", 0, b"after")
        .unwrap();
    receive(&a, b"after");
}

#[test]
fn a_daemon_whose_own_entry_changed_exits() {
    let mut ring = TestRing::start(2, FAST, &[]);
    let a = member(&ring, 1, "a");
    wait_members(&a, 1);
    // d2 is given another port: its sockets cannot follow.
    let conf = std::fs::read_to_string(ring.dir.join("d2/spread.conf")).unwrap();
    let moved = conf.replace(
        &format!(":{} {{", ring.port),
        &format!(":{} {{", ring.port + 10),
    );
    assert_ne!(moved, conf);
    ring.write_conf_text(2, &moved);
    ring.hangup(2);
    let status = ring.wait_exit(2, T).expect("d2 exits");
    assert_eq!(status.code(), Some(1));
    assert!(
        ring.log(2).contains("this daemon's own entry changed"),
        "{}",
        ring.log(2)
    );
    // d1 and its client carry on.
    a.multicast(spread_core::consts::AGREED_MESS, "g", 0, b"still")
        .unwrap();
    receive(&a, b"still");
}

/// spmonitor's reload (as 5.0.1's `r`): it sends RELOAD to every daemon of
/// the file it read, then reads the file again.
#[test]
fn spmonitor_reload_adds_a_daemon() {
    let mut ring = TestRing::start(2, FAST, &[]);
    let a = member(&ring, 1, "a");
    wait_members(&a, 1);
    ring.write_conf(3, &[1, 2, 3]);
    ring.start_new(3);
    let c = member(&ring, 3, "c");
    wait_members(&c, 1);
    // The monitor reads d1's file before it changes, and takes d1's
    // address (a configured daemon's, or the daemons ignore it).
    let monitor_conf = ring.dir.join("monitor.conf");
    std::fs::copy(ring.dir.join("d1/spread.conf"), &monitor_conf).unwrap();
    for i in 1..=2 {
        ring.write_conf(i, &[1, 2, 3]);
    }
    let out = std::process::Command::new(sibling_binary("spmonitor"))
        .arg("-c")
        .arg(&monitor_conf)
        .args(["-n", "d1", "-p", "0", "--reload"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_members(&a, 2);
    wait_members(&c, 2);
    wait_log(&ring, 2, "reload request from monitor");
}
