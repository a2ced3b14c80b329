//! Spread's flooder as a reader (`-ro`) and a writer (`-wo`) on one daemon:
//! a reader that keeps reading is never cut off by a local writer, however
//! fast it writes; a reader that stops reading still is.

use spread_core::client::Mailbox;
use spread_testkit::TestDaemon;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

fn flooder(daemon: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_spflooder"))
        .args(["-s", daemon, "-q", "-b", "1000"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(mut child: Child) -> Output {
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Waits until `n` members are in the flooder's group, as a member with
/// membership messages sees it.
fn await_members(watch: &Mailbox, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "no view of {n}");
        if let Some(spread_core::wire::Message::Membership(v)) =
            watch.receive_timeout(Duration::from_secs(10)).unwrap()
        {
            if v.members.len() == n {
                return;
            }
        }
    }
}

/// A small MaxSessionMessages makes the race certain: before, a writer
/// filled the reader's queue long before the reader drained it.
#[test]
fn a_reader_that_keeps_reading_is_never_cut_off_by_a_local_writer() {
    let d = TestDaemon::start("MaxSessionMessages = 100");
    let unix = d.unix_name();
    for daemon in [unix.as_str(), &d.tcp_name()] {
        for round in 0..3 {
            let watch = Mailbox::connect(&d.tcp_name(), Some("watch"), 0, true).unwrap();
            watch.join("flooder").unwrap();
            await_members(&watch, 1);
            let reader = flooder(daemon, &["-ro", "-m", "10000", "-u", &format!("r{round}")]);
            await_members(&watch, 2);
            // The watcher reads no more: it leaves before the flood.
            watch.leave("flooder").unwrap();
            let writer = finish(flooder(
                daemon,
                &["-wo", "-m", "10000", "-u", &format!("w{round}")],
            ));
            let read = finish(reader);
            assert!(writer.status.success(), "{daemon}: {}", text(&writer));
            assert!(
                read.status.success() && text(&read).contains("10000 messages"),
                "{daemon} round {round}: {}\n{}",
                text(&read),
                d.log_text()
            );
        }
    }
    assert!(!d.log_text().contains("disconnecting"), "{}", d.log_text());
}

/// A member that reads nothing is not waited for long: the writer goes on
/// and MaxSessionMessages cuts the member off, naming it in the log.
#[test]
fn a_reader_that_stops_reading_is_still_cut_off() {
    let d = TestDaemon::start("MaxSessionMessages = 100");
    let stuck = Mailbox::connect(&d.unix_name(), Some("stuck"), 0, true).unwrap();
    stuck.join("flooder").unwrap();
    await_members(&stuck, 1);
    let started = Instant::now();
    let writer = finish(flooder(&d.tcp_name(), &["-wo", "-m", "20000", "-u", "w"]));
    assert!(writer.status.success(), "{}", text(&writer));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let log = d.log_text();
    assert!(
        log.contains("disconnecting stuck") && log.contains("MaxSessionMessages"),
        "{log}"
    );
}
