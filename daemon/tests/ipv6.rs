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

use scenarios::hosts::Hosts;
use scenarios::{check_clients, client, require_root};
use spread_daemon::sim::checker::ClientLog;
use std::os::fd::AsRawFd;
use std::process::Command;
use std::thread::JoinHandle;

const DAEMONS: usize = 3;
const PORT: u16 = 4803;
const MESSAGES: u64 = 100;
/// A host's own IPv6 multicast in a run without data to a group (neighbour
/// discovery, group reports): about 10, and far below this.
const OWN_MULTICAST: u64 = 30;

/// The hosts, and daemons d1..d3 on them, all reading `conf`: each host
/// has fd00:77::i/64 and fe80::i/64, the bridge fd00:77::100/64.
fn start(tag: &str, conf: &str) -> Hosts {
    Hosts::start(
        &format!("sp6{tag}"),
        DAEMONS,
        PORT,
        conf,
        |i| vec![format!("fd00:77::{i}/64"), format!("fe80::{i}/64")],
        &["fd00:77::100/64"],
    )
}

/// The IPv6 multicast packets daemon `i`'s host has sent.
fn multicast_sent_by(hosts: &Hosts, i: usize) -> u64 {
    let out = Command::new("ip")
        .args(["netns", "exec", &hosts.host(i), "cat", "/proc/net/snmp6"])
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
fn client_in(ns: String, daemon: &str, i: usize) -> JoinHandle<ClientLog> {
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
fn run_clients(hosts: &Hosts) {
    let handles = [
        client_in(hosts.host(1), &format!("{PORT}@::1"), 1),
        client_in(hosts.host(2), &format!("{PORT}@[fd00:77::2]"), 2),
        client_in(hosts.hub(), &format!("{PORT}@fd00:77::3"), 3),
    ];
    let logs: Vec<ClientLog> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    check_clients(&logs, DAEMONS, MESSAGES);
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
    let hosts = start("m", conf);
    run_clients(&hosts);
    for i in 1..=DAEMONS {
        let log = hosts.log(i);
        assert!(
            !log.contains("cannot join the segment address"),
            "d{i}: {log}"
        );
        let sent = multicast_sent_by(&hosts, i);
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
    let hosts = start("u", conf);
    run_clients(&hosts);
    for i in 1..=DAEMONS {
        let sent = multicast_sent_by(&hosts, i);
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
    let hosts = start("s", conf);
    run_clients(&hosts);
    for (i, many) in [(1, true), (2, true), (3, false)] {
        let sent = multicast_sent_by(&hosts, i);
        assert_eq!(
            sent > OWN_MULTICAST,
            many,
            "d{i} sent {sent} multicast packets"
        );
    }
}
