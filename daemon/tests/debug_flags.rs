//! `DebugFlags` turn on the log lines of what each flag names, and only
//! those: GROUPS (joins, leaves, state exchanges), MEMBERSHIP (the
//! membership protocol's states), PROTOCOL (retransmissions, lost and
//! hurried tokens), FLOW_CONTROL (packets held back, clients not read),
//! STATUS (monitors' requests).

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_testkit::{sibling_binary, TestDaemon, TestRing};
use std::time::{Duration, Instant};

const TARGETS: [&str; 6] = [
    "spread::groups",
    "spread::membership",
    "spread::protocol",
    "spread::flow_control",
    "spread::status",
    "spread::session",
];

fn debug_lines<'a>(log: &'a str, target: &str) -> Vec<&'a str> {
    let tag = format!("DEBUG {target}:");
    log.lines().filter(|l| l.contains(&tag)).collect()
}

/// Waits up to 20 s until `log()` has a DEBUG line of `target` containing
/// `text`.
fn wait_debug(log: impl Fn() -> String, target: &str, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = log();
        if debug_lines(&l, target).iter().any(|x| x.contains(text)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no DEBUG {target} line with {text:?}:\n{l}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn next(m: &Mailbox) -> Message {
    m.receive_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("a message within 5 s")
}

#[test]
fn groups_alone_says_joins_and_leaves_and_nothing_else() {
    let d = TestDaemon::start("DebugFlags = { GROUPS }\n");
    let a = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    a.join("dbg").unwrap();
    assert!(matches!(next(&a), Message::Membership(_)));
    a.leave("dbg").unwrap();
    next(&a);
    let log = || d.log_text();
    wait_debug(log, "spread::groups", "#a#localhost joined dbg: 1 members");
    wait_debug(
        log,
        "spread::groups",
        "#a#localhost left dbg: the group is gone",
    );
    let text = log();
    for other in TARGETS.iter().filter(|t| **t != "spread::groups") {
        assert_eq!(debug_lines(&text, other), Vec::<&str>::new(), "{other}");
    }
}

#[test]
fn ring_flags_say_membership_protocol_flow_control_and_status() {
    let ring = TestRing::start(
        2,
        "DebugFlags = { MEMBERSHIP PROTOCOL FLOW_CONTROL STATUS }\nWindow = 30\nPersonalWindow = 10\n",
        &[("SPREAD_TEST_DROP", "0.05")],
    );
    let log = || ring.log(1);
    wait_debug(
        log,
        "spread::membership",
        "-> OP: the new ring is installed",
    );
    // A flood from d1 to a reader on d2: more than a visit's window, with
    // loss to repair.
    // The reader is in the group before the flood starts (its join, sent
    // from d2, could otherwise be ordered after the first messages).
    let reader = Mailbox::connect(&ring.tcp_name(2), Some("r"), 0, true).unwrap();
    reader.join("flood").unwrap();
    assert!(matches!(next(&reader), Message::Membership(_)));
    let sender = Mailbox::connect(&ring.tcp_name(1), Some("s"), 0, false).unwrap();
    let body = vec![7u8; 1000];
    for _ in 0..2000 {
        sender.multicast(AGREED_MESS, "flood", 0, &body).unwrap();
    }
    let mut got = 0;
    while got < 2000 {
        if let Message::Data(_) = next(&reader) {
            got += 1;
        }
    }
    wait_debug(log, "spread::flow_control", "holding packets back");
    wait_debug(
        log,
        "spread::flow_control",
        "every waiting packet has gone out",
    );
    let either = || ring.log(1) + &ring.log(2);
    wait_debug(either, "spread::protocol", "retransmitted");
    let out = std::process::Command::new(sibling_binary("spmonitor"))
        .arg("-c")
        .arg(ring.dir.join("d1/spread.conf"))
        .args(["-n", "d1", "-p", "0", "-d", "d1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    wait_debug(log, "spread::status", "status request from");
    let text = log();
    for off in ["spread::groups", "spread::session"] {
        assert_eq!(debug_lines(&text, off), Vec::<&str>::new(), "{off}");
    }
}

#[test]
fn all_includes_sessions_and_the_flags_of_parts_we_lack_are_silent() {
    let d = TestDaemon::start("DebugFlags = { ALL }\n");
    let a = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    a.join("dbg").unwrap();
    next(&a);
    let log = || d.log_text();
    wait_debug(log, "spread::session", "#a#localhost connected");
    wait_debug(log, "spread::groups", "#a#localhost joined dbg");
    wait_debug(log, "spread::membership", "-> OP");
    let d = TestDaemon::start("DebugFlags = { EVENTS MEMORY SKIPLIST DEBUG }\n");
    let a = Mailbox::connect(&d.tcp_name(), Some("a"), 0, true).unwrap();
    a.join("dbg").unwrap();
    next(&a);
    a.disconnect().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(!d.log_text().contains("DEBUG"), "{}", d.log_text());
}
