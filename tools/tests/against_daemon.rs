//! spuser and spflooder driven end to end against a real daemon.

use spread_testkit::TestDaemon;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);

/// Output collected from a child's pipe by a background thread.
#[derive(Clone, Default)]
struct Collected(Arc<(Mutex<String>, Condvar)>);

impl Collected {
    fn spawn(pipe: impl Read + Send + 'static) -> Collected {
        let c = Collected::default();
        let c2 = c.clone();
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let (text, cv) = &*c2.0;
                let mut t = text.lock().unwrap();
                t.push_str(&line);
                t.push('\n');
                cv.notify_all();
            }
        });
        c
    }

    fn text(&self) -> String {
        self.0 .0.lock().unwrap().clone()
    }

    /// Waits until `needle` has appeared `times` times in total.
    fn wait_for_n(&self, needle: &str, times: usize) {
        let (text, cv) = &*self.0;
        let deadline = Instant::now() + PATIENCE;
        let mut t = text.lock().unwrap();
        while t.matches(needle).count() < times {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "timed out waiting for {needle:?} x{times}; output so far:\n{t}"
            );
            t = cv.wait_timeout(t, left).unwrap().0;
        }
    }

    fn wait_for(&self, needle: &str) {
        self.wait_for_n(needle, 1);
    }
}

/// A running spuser with its stdin at hand.
struct User {
    child: Child,
    stdin: Option<ChildStdin>,
    out: Collected,
}

impl User {
    fn start(d: &TestDaemon, name: &str) -> User {
        let mut child = Command::new(env!("CARGO_BIN_EXE_spuser"))
            .args(["-u", name, "-s", &d.tcp_name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = Collected::spawn(child.stdout.take().unwrap());
        let u = User {
            stdin: child.stdin.take(),
            child,
            out,
        };
        u.out
            .wait_for(&format!("with private group #{name}#localhost"));
        u
    }

    fn type_in(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes stdin (or sends `q`) and waits for the exit.
    fn finish(mut self, quit: bool) -> (ExitStatus, String) {
        if quit {
            self.type_in("q\n");
        }
        drop(self.stdin.take());
        let status = wait_or_kill(&mut self.child);
        self.out.wait_for("Bye.");
        (status, self.out.text())
    }
}

fn wait_or_kill(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("child {} did not exit in time", child.id());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn flooder(d: &TestDaemon, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spflooder"))
        .args(["-s", &d.tcp_name()])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(mut child: Child) -> Output {
    wait_or_kill(&mut child);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn spuser_joins_sends_bursts_and_leaves() {
    let d = TestDaemon::start("");
    let mut u = User::start(&d, "alice");
    u.type_in("j grp\n");
    u.out.wait_for("Received REGULAR membership for group grp with 1 members, where I am member 0:\n\t#alice#localhost\ngrp id is ");
    u.out.wait_for("Due to the JOIN of #alice#localhost");
    u.type_in("s grp\nhello world\n");
    u.out.wait_for("received SAFE message from #alice#localhost, of type 1, (endian 0) to 1 groups\n(12 bytes): hello world\n");
    u.type_in("m grp\nline one\nline two\n\n");
    u.out.wait_for("(18 bytes): line one\nline two\n");
    u.type_in("b grp\n20\n");
    u.out.wait_for("sending 10 messages of 20 bytes");
    u.out.wait_for("sent message 10 (total 12)");
    u.out.wait_for("received FIFO message from #alice#localhost, of type 2, (endian 0) to 1 groups\n(20 bytes): mess num 12 \n");
    u.type_in("l grp\n");
    u.out
        .wait_for("received membership message that left group grp");
    let (status, out) = u.finish(true);
    assert!(status.success(), "{out}");
    assert!(
        out.starts_with("Spread library version is 5.0.1\n"),
        "{out}"
    );
    assert!(out.contains("User Menu:"));
}

#[test]
fn spuser_sees_others_join_and_disconnect() {
    let d = TestDaemon::start("");
    let mut a = User::start(&d, "alice");
    a.type_in("j grp\n");
    a.out.wait_for("Due to the JOIN of #alice#localhost");
    let mut b = User::start(&d, "bob");
    b.type_in("j grp\n");
    a.out
        .wait_for("for group grp with 2 members, where I am member 0:\n\t#alice#localhost\n\t#bob#localhost\n");
    a.out.wait_for("Due to the JOIN of #bob#localhost");
    b.out.wait_for("where I am member 1:");
    b.type_in("s grp #alice#localhost\nto both\n");
    a.out.wait_for("received SAFE message from #bob#localhost, of type 1, (endian 0) to 2 groups\n(8 bytes): to both");
    let (status, _) = b.finish(false);
    assert!(status.success());
    a.out.wait_for("Due to the DISCONNECT of #bob#localhost");
    let (status, _) = a.finish(true);
    assert!(status.success());
}

#[test]
fn spuser_reads_on_demand_when_asynchronous_reading_is_off() {
    let d = TestDaemon::start("");
    let mut a = User::start(&d, "alice");
    a.type_in("d\n");
    thread::sleep(Duration::from_millis(300));
    let mut b = User::start(&d, "bob");
    b.type_in("s #alice#localhost\nping\n");
    let deadline = Instant::now() + PATIENCE;
    let mut polls = 0;
    loop {
        a.type_in("p\n");
        polls += 1;
        a.out.wait_for_n("Polling says: ", polls);
        if !a.out.text().ends_with("Polling says: 0\n") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the message never became pending"
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !a.out.text().contains("ping"),
        "printed while reading was off"
    );
    a.type_in("r\n");
    a.out.wait_for("(5 bytes): ping");
    a.type_in("e\n");
    b.type_in("s #alice#localhost\npong\n");
    a.out.wait_for("(5 bytes): pong");
    assert!(b.finish(true).0.success());
    assert!(a.finish(true).0.success());
}

#[test]
fn spuser_reports_bad_groups_and_unknown_commands() {
    let d = TestDaemon::start("");
    let mut u = User::start(&d, "carol");
    u.type_in("j\nx\nj bad#name\n");
    u.out.wait_for("invalid group");
    u.out.wait_for("Unknown command");
    u.out.wait_for("Spread error -14");
    let (status, _) = u.finish(true);
    assert!(status.success());
}

#[test]
fn spuser_exits_non_zero_when_the_daemon_goes_away() {
    let mut d = TestDaemon::start("");
    let mut u = User::start(&d, "dave");
    d.kill9();
    let status = wait_or_kill(&mut u.child);
    assert!(!status.success());
    // In Spread's words, and what happened.
    u.out.wait_for(
        "connection closed by spread: the daemon closed the connection (it exited, or cut this session off) (Spread error -8)",
    );
    u.out.wait_for("Bye.");
}

#[test]
fn connect_failures_exit_non_zero() {
    let missing = "/nonexistent-dir-for-spread-tools/4803";
    let out = Command::new(env!("CARGO_BIN_EXE_spuser"))
        .args(["-s", missing])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Spread error -2"),
        "{}",
        text(&out.stderr)
    );
    let out = Command::new(env!("CARGO_BIN_EXE_spflooder"))
        .args(["-s", missing])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Spread error -2"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_spflooder"))
        .arg("-x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("Usage: spflooder"));
    let out = Command::new(env!("CARGO_BIN_EXE_spflooder"))
        .arg("-h")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("[-ro]"));
    let out = Command::new(env!("CARGO_BIN_EXE_spuser"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("[-r ]"));
}

#[test]
fn flooder_alone_reads_its_messages_back() {
    let d = TestDaemon::start("");
    let out = finish(flooder(&d, &["-m", "3000", "-b", "1000"]));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains("flooder: completed multicast of 3000 messages, 1000 bytes each."),
        "{stdout}"
    );
    assert!(
        stdout.contains("flooder: 3000 messages, 3000000 bytes in "),
        "{stdout}"
    );
    assert!(stdout.contains("msgs/s") && stdout.contains("MB/s (1 MB = 10^6 bytes)"));
    assert!(
        stderr.contains("spflooder: sent 3000/3000 messages (100%)\n"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("spflooder: sent ").count(), 10, "{stderr}");
}

#[test]
fn flooders_with_members_and_a_reader() {
    let d = TestDaemon::start("");
    let reader = flooder(&d, &["-u", "r", "-n", "3", "-m", "2000", "-ro", "-q"]);
    let a = flooder(
        &d,
        &[
            "-u", "a", "-n", "3", "-m", "1000", "-b", "100", "-q", "-t", "agreed",
        ],
    );
    let b = flooder(
        &d,
        &[
            "-u", "b", "-n", "3", "-m", "1000", "-b", "100", "-q", "-t", "agreed", "-w", "50",
        ],
    );
    for (who, out) in [
        ("a", finish(a)),
        ("b", finish(b)),
        ("reader", finish(reader)),
    ] {
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{who}: {stdout}{stderr}");
        assert!(stdout.contains("with group membership"), "{who}: {stdout}");
        assert!(stderr.is_empty(), "{who}: -q left {stderr:?}");
    }
}

#[test]
fn read_only_counts_data_and_write_only_sends_blind() {
    let d = TestDaemon::start("");
    let reader = flooder(&d, &["-u", "r", "-n", "2", "-m", "500", "-ro", "-q"]);
    let writer = flooder(&d, &["-u", "w", "-n", "2", "-m", "500", "-b", "10", "-q"]);
    let out = finish(reader);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("flooder: received 500 messages, 5000 bytes in all."),
        "{}",
        text(&out.stdout)
    );
    assert!(finish(writer).status.success());
    let out = finish(flooder(&d, &["-wo", "-m", "200", "-q"]));
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("(write only)"));
}
