//! The handshake (client-protocol §3) against a real daemon: every reject
//! code, bad input, and where we do better than 5.0.1.

use spread_testkit::{Raw, TestDaemon};
use std::time::{Duration, Instant};

fn hello(version: &[u8], flags: u8, name: &[u8]) -> Vec<u8> {
    let mut v = version.to_vec();
    v.push(flags);
    v.push(name.len() as u8);
    v.extend_from_slice(name);
    v
}

const V501: &[u8] = &[5, 0, 1];

fn null_choice() -> Vec<u8> {
    let mut c = vec![0u8; 90];
    c[..4].copy_from_slice(b"NULL");
    c
}

#[test]
fn accept_is_libspreads_bytes() {
    let d = TestDaemon::start("");
    let mut c = d.raw();
    let accept = c.handshake("vecA", true);
    assert_eq!(accept, b"\x01\x05\x00\x01\x0f#vecA#localhost");
}

#[test]
fn duplicate_name_is_refused_until_the_first_leaves() {
    let d = TestDaemon::start("");
    let mut a = d.raw();
    a.handshake("dup", true);
    let mut b = d.raw();
    b.send(&hello(V501, 1, b"dup"));
    assert_eq!(b.read_to_close(), [0xfa]);
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    let mut c = d.raw();
    c.handshake("dup", true);
}

#[test]
fn illegal_names_get_0xfb() {
    let d = TestDaemon::start("");
    for name in [
        &b"bad name"[..],
        b"#hash",
        b"ex!",
        b"q\"",
        b"\x7f",
        "é".as_bytes(),
    ] {
        let mut c = d.raw();
        c.send(&hello(V501, 1, name));
        assert_eq!(c.read_to_close(), [0xfb], "{name:?}");
    }
    let mut c = d.raw();
    c.send(&[5, 0, 1, 1, 11]);
    c.send(b"abcdefghijk");
    assert_eq!(c.read_to_close(), [0xfb], "11 bytes");
    for ok in ["$", "~~", "aZ09$%&'()"] {
        d.raw().handshake(ok, true);
    }
}

#[test]
fn empty_name_gets_a_daemon_chosen_one() {
    let d = TestDaemon::start("");
    let mut c = d.raw();
    c.send(&hello(V501, 0, b""));
    assert_eq!(c.read_exact(6), b"\x05NULL ");
    c.send(&null_choice());
    let head = c.read_exact(5);
    let name = String::from_utf8(c.read_exact(head[4] as usize)).unwrap();
    let private = name
        .strip_prefix('#')
        .unwrap()
        .strip_suffix("#localhost")
        .unwrap();
    assert!(
        private.starts_with('r') && private.contains('-') && private.len() <= 9,
        "{name}"
    );
}

#[test]
fn old_versions() {
    let d = TestDaemon::start("");
    let mut c = d.raw();
    c.send(&hello(&[3, 0], 1, b"v301"));
    assert_eq!(c.read_to_close(), [0xf9]);
    let mut c = d.raw();
    c.send(&hello(&[3, 14], 1, b"v314"));
    assert_eq!(c.read_exact(4 + 15), b"\x01\x05\x00\x0f#v314#localhost");
    let mut c = d.raw();
    c.send(&hello(&[3, 15, 0], 1, b"v315"));
    assert_eq!(c.read_exact(5 + 15), b"\x01\x05\x00\x01\x0f#v315#localhost");
}

#[test]
fn auth_choices_that_fail() {
    let d = TestDaemon::start("");
    let mut ip = vec![0u8; 90];
    ip[..2].copy_from_slice(b"IP");
    let mut foo = vec![0u8; 90];
    foo[..3].copy_from_slice(b"FOO");
    for choice in [ip, foo, vec![0u8; 90]] {
        let mut c = d.raw();
        c.send(&hello(V501, 1, b"x"));
        assert_eq!(c.read_exact(6), b"\x05NULL ");
        c.send(&choice);
        assert_eq!(c.read_to_close(), [0xf7]);
    }
}

#[test]
fn pipelined_choice_is_refused_as_501_does() {
    let d = TestDaemon::start("");
    let mut c = d.raw();
    let mut both = hello(V501, 1, b"pipe");
    both.extend(null_choice());
    c.send(&both);
    assert_eq!(c.read_to_close(), [0xfb]);
}

#[test]
fn split_handshake_is_reassembled() {
    let d = TestDaemon::start("");
    let mut c = d.raw();
    for b in hello(V501, 1, b"slowpoke") {
        c.send(&[b]);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(c.read_exact(6), b"\x05NULL ");
    let choice = null_choice();
    c.send(&choice[..45]);
    std::thread::sleep(Duration::from_millis(30));
    c.send(&choice[45..]);
    assert_eq!(c.read_exact(5)[0], 1);
}

#[test]
fn silent_client_is_closed_without_reply_and_blocks_nobody() {
    let d = TestDaemon::start("");
    let mut silent = d.raw();
    let mut half = d.raw();
    half.send(&[5, 0]);
    // While both stall, others connect at once.
    let t = Instant::now();
    for i in 0..5 {
        d.raw().handshake(&format!("q{i}"), true);
    }
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "handshakes waited for the silent ones"
    );
    assert!(silent.read_to_close().is_empty());
    assert!(half.read_to_close().is_empty());
}

#[test]
fn session_quota_gives_0xfd() {
    let d = TestDaemon::start("MaxSessions = 2");
    let mut a = d.raw();
    a.handshake("a", true);
    let mut b = d.raw();
    b.handshake("b", true);
    let mut c = d.raw();
    assert_eq!(c.read_to_close(), [0xfd]);
    drop(a);
    std::thread::sleep(Duration::from_millis(200));
    d.raw().handshake("c", true);
}

#[test]
fn no_enabled_method_gives_0xf7() {
    let d = TestDaemon::start("AllowedAuthMethods = \"IP\"");
    let mut c = d.raw();
    c.send(&hello(V501, 1, b"x"));
    assert_eq!(c.read_exact(4), b"\x03IP ");
    let mut nul = null_choice();
    c.send(&nul);
    assert_eq!(c.read_to_close(), [0xf7], "NULL is not enabled");
    let mut c = d.raw();
    c.send(&hello(V501, 1, b"y"));
    assert_eq!(c.read_exact(4), b"\x03IP ");
    nul[..4].copy_from_slice(b"IP\0\0");
    c.send(&nul);
    assert_eq!(c.read_to_close(), [0xf7], "no access file: IP fails");
}

#[test]
fn ip_auth_works_on_tcp_and_on_the_unix_socket() {
    let d = TestDaemon::start_with("AllowedAuthMethods = \"IP\"", Some("# tests\nlocal\n"));
    let mut ip = vec![0u8; 90];
    ip[..2].copy_from_slice(b"IP");
    for (i, mut c) in [d.raw(), Raw::unix(&d.unix_path())].into_iter().enumerate() {
        let name = format!("ip{i}");
        c.send(&hello(V501, 1, name.as_bytes()));
        assert_eq!(c.read_exact(4), b"\x03IP ");
        c.send(&ip);
        assert_eq!(c.read_exact(5)[0], 1, "IP accepted for {name}");
    }
}

#[test]
fn unix_socket_serves_and_a_stale_file_is_replaced() {
    let d = TestDaemon::start("");
    let mut c = Raw::unix(&d.unix_path());
    assert_eq!(
        c.handshake("ux", true),
        b"\x01\x05\x00\x01\x0d#ux#localhost"
    );
}

/// A flood of failed handshakes writes one line a minute (the first, with
/// its reason; session lines are on with DebugFlags SESSION), and every one
/// is counted in the metrics.
#[test]
fn failed_handshakes_are_logged_once_a_minute_and_counted() {
    let port = spread_testkit::free_port();
    let d = TestDaemon::start(&format!(
        "MetricsAddress = 127.0.0.1:{port}\nDebugFlags = {{ SESSION }}"
    ));
    let failed =
        || spread_testkit::scrape(&format!("127.0.0.1:{port}"))["spread_handshakes_failed_total"];
    // The readiness probes of the test kit count too (connected, closed).
    let before = failed();
    for _ in 0..20 {
        let mut c = d.raw();
        c.send(&hello(V501, 1, b"bad name"));
        assert_eq!(c.read_to_close(), [0xfb]);
    }
    assert_eq!(failed() - before, 20);
    // The first refusal (a probe's, or the first bad name) is written.
    let log = d.log_text();
    let lines = log.lines().filter(|l| l.contains("refused ")).count();
    assert_eq!(lines, 1, "{log}");
}
