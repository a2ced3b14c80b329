//! A real network partition: three daemons, each in a network namespace
//! of its own, joined by a bridge in a fourth (10.77.0.0/24, the segment's
//! broadcast address for data). Cutting daemon 1's link on the bridge
//! splits the ring into {1} | {2, 3}; bringing it back merges it. Clients
//! (through the daemons' Unix sockets) send all along; the EVS checker
//! reads their logs. Needs root (CI runs as root).

mod scenarios;

use scenarios::hosts::Hosts;
use scenarios::require_root;
use scenarios::traffic::{check_logs, finish, is_network, members, Traffic};
use std::time::{Duration, Instant};

const DAEMONS: usize = 3;
const PORT: u16 = 4803;

/// Daemons d1..d3 on hosts 10.77.0.1-3 of one segment (broadcast for
/// data), each in its own namespace on the bridge.
fn start() -> Hosts {
    let mut conf = format!("Spread_Segment 10.77.0.255:{PORT} {{\n");
    for i in 1..=DAEMONS {
        conf += &format!("\td{i} 10.77.0.{i}\n");
    }
    conf += "}\n";
    Hosts::start(
        "spcut",
        DAEMONS,
        PORT,
        &conf,
        |i| vec![format!("10.77.0.{i}/24")],
        &[],
    )
}

const T: Duration = Duration::from_secs(20);

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_cut_link_splits_the_ring_and_its_repair_merges_it() {
    require_root();
    let hosts = start();
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
