//! Group access rules (`GroupAccessFile`, issue 16): who may join and send
//! to which groups, with real daemons and clients; refusals come back as
//! REJECTs, are counted, and logged once a minute; bad files stop the
//! start with `file:line` and leave the rules in force on reload.

use spread_core::client::{AuthMethod, ConnectOptions, Mailbox};
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_core::GroupName;
use spread_testkit::{free_port, scrape, TestDaemon};
use std::time::Duration;

fn my_uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

fn connect(daemon: &str, name: &str) -> Mailbox {
    let opts = ConnectOptions {
        private_name: name.into(),
        timeout: Some(Duration::from_secs(5)),
        auth_methods: vec![AuthMethod::null()],
        ..ConnectOptions::default()
    };
    Mailbox::connect_with(daemon, &opts).unwrap()
}

/// The next message that is not a membership notice.
fn next(m: &Mailbox) -> Message {
    loop {
        match m.receive_timeout(Duration::from_secs(5)).unwrap() {
            Some(Message::Membership(_)) | Some(Message::Transition(_)) => continue,
            Some(msg) => return msg,
            None => panic!("nothing within 5 s"),
        }
    }
}

fn joined(m: &Mailbox, group: &str) {
    loop {
        match m.receive_timeout(Duration::from_secs(5)).unwrap() {
            Some(Message::Membership(v)) if v.group.to_string() == group => return,
            Some(_) => continue,
            None => panic!("no view of {group}"),
        }
    }
}

fn hup(d: &TestDaemon) {
    // SAFETY: kill with a valid pid and signal.
    unsafe { libc::kill(d.pid() as i32, libc::SIGHUP) };
}

#[test]
fn joins_and_sends_follow_the_rules() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let dir = spread_testkit::TempDir::new("spread-acl-rules");
    let acl = dir.join("groups.acl");
    let uid = my_uid();
    std::fs::write(
        &acl,
        format!(
            "# the Unix socket's clients of this user own ops.*; TCP clients may read news\n\
             allow join,send ops.*  user:{uid}\n\
             deny  join,send ops.*  any\n\
             allow join      news   net:127.0.0.0/8\n\
             deny  send      news   net:127.0.0.0/8\n"
        ),
    )
    .unwrap();
    let d = TestDaemon::start(&format!(
        "GroupAccessFile = {}\nMetricsAddress = {metrics}",
        acl.display()
    ));
    let local = connect(&d.unix_name(), "local");
    let remote = connect(&d.tcp_name(), "remote");
    local.join("ops.db").unwrap();
    joined(&local, "ops.db");
    local.join("news").unwrap();
    joined(&local, "news");
    remote.join("news").unwrap();
    joined(&remote, "news");
    // A join over TCP of ops.db: refused, as a REJECT to the joiner.
    remote.join("ops.db").unwrap();
    match next(&remote) {
        Message::Reject(r) => {
            assert_eq!(r.groups[0].to_string(), "ops.db");
            assert_eq!(r.old_type & CAUSED_BY_JOIN, CAUSED_BY_JOIN, "{r:?}");
        }
        other => panic!("expected a REJECT, got {other:?}"),
    }
    // A send to news over TCP: refused; from the Unix socket: delivered.
    remote
        .multicast(AGREED_MESS, "news", 7, b"from remote")
        .unwrap();
    match next(&remote) {
        Message::Reject(r) => assert_eq!(r.groups[0].to_string(), "news"),
        other => panic!("expected a REJECT, got {other:?}"),
    }
    local
        .multicast(AGREED_MESS, "news", 7, b"from local")
        .unwrap();
    match next(&remote) {
        Message::Data(m) => assert_eq!(m.data, b"from local"),
        other => panic!("expected the message, got {other:?}"),
    }
    // A multigroup message one of whose groups is refused: all of it.
    let both = [GroupName::from("free"), GroupName::from("news")];
    remote
        .multigroup_scat_multicast(AGREED_MESS, &both, 1, &[b"both"])
        .unwrap();
    assert!(matches!(next(&remote), Message::Reject(_)));
    // Groups no rule names are free.
    remote.join("free").unwrap();
    joined(&remote, "free");
    remote.multicast(AGREED_MESS, "free", 1, b"ok").unwrap();
    assert!(matches!(next(&remote), Message::Data(_)));

    let m = scrape(&metrics);
    assert_eq!(m["spread_access_refused_total{action=\"join\"}"], 1);
    assert_eq!(m["spread_access_refused_total{action=\"send\"}"], 2);
    let log = d.log_text();
    let sends = log.lines().filter(|l| l.contains("refused a send")).count();
    assert_eq!(sends, 1, "once a minute per action:\n{log}");
    assert!(
        log.contains("refused a join of #remote#localhost to ops.db"),
        "{log}"
    );
    assert!(
        log.contains(&format!("denied by {}:3", acl.display())),
        "{log}"
    );

    // Reload: a file that does not parse keeps the rules in force...
    std::fs::write(&acl, "allow join ops.* nobody-knows\n").unwrap();
    hup(&d);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !d
        .log_text()
        .contains("the group access rules in force stay")
    {
        assert!(std::time::Instant::now() < deadline, "{}", d.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.log_text().contains(&format!(
        "{}:1: 'nobody-knows' is not a subject",
        acl.display()
    )));
    remote.multicast(AGREED_MESS, "news", 1, b"x").unwrap();
    assert!(matches!(next(&remote), Message::Reject(_)));
    // ...and a good one replaces them.
    std::fs::write(&acl, "allow send news any\n").unwrap();
    hup(&d);
    while !d.log_text().contains("1 group access rules in force") {
        assert!(std::time::Instant::now() < deadline, "{}", d.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
    remote.multicast(AGREED_MESS, "news", 1, b"now").unwrap();
    match next(&remote) {
        Message::Data(m) => assert_eq!(m.data, b"now"),
        other => panic!("expected the message, got {other:?}"),
    }
    remote.join("ops.db").unwrap();
    joined(&remote, "ops.db");
}

#[test]
fn bad_rules_files_stop_the_daemon_with_file_and_line() {
    let dir = spread_testkit::TempDir::new("spread-acl-bad");
    let acl = dir.join("bad.acl");
    std::fs::write(&acl, "allow join chat any\n\nallow join,leave chat any\n").unwrap();
    let err = TestDaemon::start_failing(&format!("GroupAccessFile = {}", acl.display()));
    assert!(
        err.contains(&format!("{}:3: 'leave' is not an action", acl.display())),
        "{err}"
    );
    let missing = dir.join("missing.acl");
    let err = TestDaemon::start_failing(&format!("\nGroupAccessFile = {}", missing.display()));
    assert!(
        err.contains(&format!(
            "spread.conf:6: GroupAccessFile {}: No such file",
            missing.display()
        )),
        "{err}"
    );
}
