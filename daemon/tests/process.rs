//! The daemon as a process: command line, configuration errors, sockets.

use spread_testkit::{TempDir, TestDaemon};
use std::process::Command;
use std::time::Duration;

fn spread(args: &[&str], dir: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_spread"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn temp_dir(tag: &str) -> TempDir {
    TempDir::new(&format!("spread-proc-{tag}"))
}

#[test]
fn help_and_bad_arguments() {
    let dir = temp_dir("help");
    let out = spread(&["--help"], &dir);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("-c <config file>"));
    let out = spread(&["-q"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument \"-q\""));
}

#[test]
fn config_errors_name_file_and_line_and_exit_1() {
    let dir = temp_dir("conf");
    for (text, expect) in [
        (
            "Spread_Segment 127.0.0.255:4803 {\n  d1 127.0.0.1\n}\nWindw = 3\n",
            "bad.conf:4:",
        ),
        (
            "Spread_Segment 127.0.0.255:4803 {\n  d1 127.0.0.1\n",
            "bad.conf:",
        ),
        ("# only a comment\n", "bad.conf"),
    ] {
        std::fs::write(dir.join("bad.conf"), text).unwrap();
        let out = spread(&["-c", "bad.conf"], &dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{text:?}: {err}");
        assert!(err.contains(expect), "{text:?}: {err}");
    }
    let out = spread(&["-c", "missing.conf"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.conf"));
    std::fs::write(
        dir.join("ok.conf"),
        "Spread_Segment 127.0.0.255:4803 {\n  d1 127.0.0.1\n}\n",
    )
    .unwrap();
    let out = spread(&["-c", "ok.conf", "-n", "nobody"], &dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
}

/// Every option of 5.0.1's acts: none is "parsed but not supported".
#[test]
fn every_option_of_5_0_1_is_taken_without_a_not_supported_warning() {
    let d = TestDaemon::start(
        "SocketPortReuse = on\nDangerousMonitor = true\nIgnoreMulticastJoinErrors = false\n\
         EventTimeStamp\nEventPreciseTimeStamp\nAccessControlPolicy = PERMIT\nActiveIPVersion = IPv4",
    );
    std::thread::sleep(Duration::from_millis(100));
    let log = d.log_text();
    assert!(!log.contains("not supported"), "{log}");
    assert!(log.contains("clients on TCP"), "{log}");
}

#[test]
fn stale_socket_file_is_replaced_after_a_crash() {
    let mut d = TestDaemon::start("");
    d.kill9_and_restart();
    let mut c = spread_testkit::Raw::unix(&d.unix_path());
    c.handshake("again", true);
}

#[test]
fn a_live_daemons_socket_is_not_stolen() {
    let d = TestDaemon::start("");
    // Same directory and configuration: the TCP port and the socket are taken.
    let out = spread(&["-n", "localhost", "-c", "spread.conf"], &d.dir);
    assert_eq!(out.status.code(), Some(1));
    let mut c = spread_testkit::Raw::unix(&d.unix_path());
    c.handshake("still", true);
}

#[test]
fn debug_flags_turn_on_their_log_targets() {
    let quiet = TestDaemon::start("");
    let loud = TestDaemon::start("DebugFlags = { PRINT EXIT SESSION }");
    for d in [&quiet, &loud] {
        let mut c = d.raw();
        c.handshake("talker", true);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !quiet.log_text().contains("#talker#localhost connected"),
        "{}",
        quiet.log_text()
    );
    assert!(
        loud.log_text().contains("#talker#localhost connected"),
        "{}",
        loud.log_text()
    );
    assert!(loud.log_text().contains("spread::session"));
}

#[test]
fn sigterm_exits_cleanly_and_removes_the_socket() {
    let mut d = TestDaemon::start("");
    let path = d.unix_path();
    assert!(path.exists());
    let status = d.terminate();
    assert!(status.success(), "{status}");
    assert!(!path.exists(), "the Unix socket file was left behind");
    assert!(
        d.log_text().contains("exiting on signal"),
        "{}",
        d.log_text()
    );
}
