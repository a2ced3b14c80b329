//! Real daemons failing under traffic: kill -9 and restart (with 5.0.1's
//! timeouts and with the faster profile), two changes in quick succession.
//! Clients on every daemon send all along; each run ends with the EVS checker over all client logs. The
//! times from the failure to what clients see are printed (README figures).

mod scenarios;

use scenarios::traffic::{check_logs, finish, is_network, members, Traffic};
use spread_testkit::TestRing;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

/// The faster profile of the README: a crash is acted on in under 0.5 s.
const FAST: &str = "TokenTimeout = 200\nHurryTimeout = 80\nAliveTimeout = 40\nJoinTimeout = 40\nRepTimeout = 120\nSegTimeout = 80\nGatherTimeout = 150\nFormTimeout = 200\nLookupTimeout = 5000\n";

#[test]
fn kill9_mid_traffic_then_restart() {
    kill9_then_restart("", "default timeouts");
}

#[test]
fn kill9_with_the_fast_profile() {
    kill9_then_restart(FAST, "fast profile");
}

fn kill9_then_restart(extra: &str, profile: &str) {
    let mut ring = TestRing::start(3, extra, &[]);
    let c: Vec<Traffic> = (1..=3)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("c{i}")))
        .collect();
    for t in &c {
        t.wait_view(T, |v| v.members.len() == 3);
    }
    std::thread::sleep(Duration::from_millis(1500));
    // Under traffic, nothing changed before the crash.
    for t in &c {
        let views = t.views();
        assert!(
            views.iter().all(|v| !is_network(v)),
            "a membership change without a failure: {views:?}"
        );
    }
    let killed = Instant::now();
    ring.kill9(3);
    let mut seen = Vec::new();
    for t in &c[..2] {
        seen.push(t.wait_view(T, |v| is_network(v) && members(v) == ["#c1#d1", "#c2#d2"]));
    }
    let detect = seen.iter().max().unwrap().duration_since(killed);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    ring.restart(3);
    let c4 = Traffic::start(ring.tcp_name(3), "c4");
    let mut seen = Vec::new();
    for t in c[..2].iter().chain([&c4]) {
        seen.push(t.wait_view(T, |v| {
            v.members.len() == 3 && v.members.contains(&"#c4#d3".into())
        }));
    }
    let rejoin = seen.iter().max().unwrap().duration_since(started);
    std::thread::sleep(Duration::from_millis(800));
    let logs = finish(c.into_iter().chain([c4]).collect());
    assert!(!logs[2].survived, "c3's daemon was killed");
    check_logs(&logs);
    eprintln!(
        "FIGURE {profile}: kill -9 -> survivors' network view: {} ms; restart -> a client of the restarted daemon in everyone's view: {} ms",
        detect.as_millis(),
        rejoin.as_millis()
    );
}

#[test]
fn two_changes_in_quick_succession() {
    let mut ring = TestRing::start(5, "", &[]);
    let c: Vec<Traffic> = (1..=5)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("c{i}")))
        .collect();
    for t in &c {
        t.wait_view(T, |v| v.members.len() == 5);
    }
    std::thread::sleep(Duration::from_millis(500));
    // The second failure lands while the survivors gather for the first.
    ring.kill9(5);
    std::thread::sleep(Duration::from_millis(1500));
    ring.kill9(4);
    for t in &c[..3] {
        t.wait_view(T, |v| is_network(v) && v.members.len() == 3);
    }
    // Both come back at once.
    ring.restart(4);
    ring.restart(5);
    let back: Vec<Traffic> = (4..=5)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("r{i}")))
        .collect();
    for t in c[..3].iter().chain(&back) {
        t.wait_view(T, |v| v.members.len() == 5);
    }
    std::thread::sleep(Duration::from_millis(500));
    let logs = finish(c.into_iter().chain(back).collect());
    check_logs(&logs);
}
