//! The ring inside a private network namespace that the test creates
//! (`ip netns add`, loopback up), so the daemons' UDP and TCP traffic is
//! isolated from the host. Loopback's 127.0.0.0/8 carries every 127.x
//! address the daemons bind. Needs root: ignored unless asked for
//! (`scripts/test.sh` asks as root, so CI runs it), so that a run without
//! root reports it as ignored, not passed.

mod scenarios;

use scenarios::ip;
use spread_testkit::TestRing;
use std::process::Command;

const INSIDE: &str = "SPREAD_TEST_IN_NETNS";

struct Namespace(String);

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
#[ignore = "needs root to create a network namespace (scripts/test.sh runs it as root)"]
fn rings_of_three_and_five_inside_a_network_namespace() {
    if std::env::var_os(INSIDE).is_some() {
        // Second half: running inside the namespace.
        scenarios::run(3, 200, &[]);
        scenarios::run(5, 60, &[("SPREAD_TEST_DROP", "0.03")]);
        // One send to the segment's multicast group reaches every daemon.
        let ring = TestRing::start_on_segment(3, Some("225.0.0.7"), "", &[]);
        scenarios::check_ring(&ring, 3, 200);
        for i in 1..=3 {
            assert!(
                !ring.log(i).contains("cannot use segment address"),
                "{}",
                ring.log(i)
            );
        }
        return;
    }
    scenarios::require_root();
    let ns = Namespace(format!("spread-test-{}", std::process::id()));
    // A namespace left by an earlier run that was killed goes first.
    let _ = Command::new("ip").args(["netns", "del", &ns.0]).output();
    ip(&["netns", "add", &ns.0]);
    ip(&["-n", &ns.0, "link", "set", "lo", "up"]);
    // Multicast on loopback, so daemons can use a multicast segment address.
    ip(&["-n", &ns.0, "link", "set", "lo", "multicast", "on"]);
    ip(&["-n", &ns.0, "route", "add", "224.0.0.0/4", "dev", "lo"]);
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(&exe)
        .args([
            "--exact",
            "--include-ignored",
            "rings_of_three_and_five_inside_a_network_namespace",
            "--nocapture",
        ])
        .env(INSIDE, "1")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the rings inside namespace {} failed",
        ns.0
    );
}
