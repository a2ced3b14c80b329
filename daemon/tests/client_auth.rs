//! Client authentication beyond 5.0.1's NULL and IP (issue 16): the
//! PEERCRED method on the Unix socket, with real daemons and clients.
//!
//! The tests that need a second user (a client running as `nobody`) are
//! root-only: `scripts/test.sh` runs them as root, and they are reported
//! as ignored otherwise.

use spread_core::client::{AuthMethod, ConnectOptions, Mailbox};
use spread_core::consts::*;
use spread_testkit::{free_port, scrape, Raw, TestDaemon};
use std::time::Duration;

fn opts(name: &str, methods: Vec<AuthMethod>) -> ConnectOptions {
    ConnectOptions {
        private_name: name.into(),
        timeout: Some(Duration::from_secs(5)),
        auth_methods: methods,
        ..ConnectOptions::default()
    }
}

fn connect(daemon: &str, name: &str, methods: Vec<AuthMethod>) -> Result<Mailbox, i32> {
    Mailbox::connect_with(daemon, &opts(name, methods)).map_err(|e| e.code())
}

fn my_uid() -> u32 {
    // SAFETY: getuid cannot fail.
    unsafe { libc::getuid() }
}

/// A 5.0.1 client's hello (version 5.0.1, membership, `name`).
fn hello(name: &[u8]) -> Vec<u8> {
    let mut v = vec![5, 0, 1, 1, name.len() as u8];
    v.extend_from_slice(name);
    v
}

fn choice(methods: &[&str]) -> Vec<u8> {
    let mut c = vec![0u8; 90];
    for (i, m) in methods.iter().enumerate() {
        c[i * 30..i * 30 + m.len()].copy_from_slice(m.as_bytes());
    }
    c
}

#[test]
fn peercred_lets_allowed_users_in_on_the_unix_socket_only() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let d = TestDaemon::start(&format!(
        "AllowedAuthMethods = \"NULL PEERCRED\"\nAllowUsers = {}\nMetricsAddress = {metrics}",
        my_uid()
    ));
    // Offered after 5.0.1's methods.
    let mut raw = Raw::unix(&d.unix_path());
    raw.send(&hello(b"raw"));
    assert_eq!(raw.read_exact(15), b"\x0eNULL PEERCRED ");
    raw.send(&choice(&["PEERCRED"]));
    assert_eq!(raw.read_exact(1), [ACCEPT_SESSION as u8]);

    let m = connect(&d.unix_name(), "pc", vec![AuthMethod::peercred()]).expect("PEERCRED");
    assert_eq!(m.private_group().to_string(), "#pc#localhost");
    // Over TCP there are no kernel credentials: refused, with the reason.
    assert_eq!(
        connect(&d.tcp_name(), "pctcp", vec![AuthMethod::peercred()]).err(),
        Some(REJECT_AUTH)
    );
    // NULL is still allowed (PEERCRED is not required).
    connect(&d.tcp_name(), "nul", vec![AuthMethod::null()]).expect("NULL over TCP");
    let log = d.log_text();
    assert!(
        log.contains("PEERCRED refused the client: it needs the Unix socket"),
        "{log}"
    );
    let m = scrape(&metrics);
    assert_eq!(m["spread_auth_refused_total{reason=\"peercred\"}"], 1);
    assert_eq!(m["spread_auth_refused_total{reason=\"method\"}"], 0);
}

#[test]
fn required_peercred_checks_unchanged_clients_too() {
    // Nobody runs as this uid: every Unix client is refused, whatever it
    // chose; the log says who and why, once a minute.
    let d = TestDaemon::start(
        "AllowedAuthMethods = \"NULL\"\nRequiredAuthMethods = \"PEERCRED\"\nAllowUsers = 4000000001",
    );
    let mut raw = Raw::unix(&d.unix_path());
    raw.send(&hello(b"old"));
    assert_eq!(raw.read_exact(15), b"\x0eNULL PEERCRED ");
    raw.send(&choice(&["NULL"]));
    assert_eq!(raw.read_to_close(), [REJECT_AUTH as u8]);
    for name in ["a", "b", "c"] {
        assert_eq!(
            connect(&d.unix_name(), name, vec![AuthMethod::null()]).err(),
            Some(REJECT_AUTH)
        );
    }
    assert_eq!(
        connect(&d.tcp_name(), "t", vec![AuthMethod::null()]).err(),
        Some(REJECT_AUTH),
        "no credentials over TCP"
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = d.log_text();
    let lines = log
        .lines()
        .filter(|l| l.contains("PEERCRED refused"))
        .count();
    assert_eq!(lines, 1, "one line a minute for the cause:\n{log}");
    assert!(
        log.contains(&format!("uid {} gid", my_uid())) && log.contains("is not in AllowUsers"),
        "{log}"
    );
    // The allow-list is read again on reload: let this user in.
    let conf = std::fs::read_to_string(d.dir.join("spread.conf")).unwrap();
    let conf = conf.replace(
        "AllowUsers = 4000000001",
        &format!("AllowUsers = {}", my_uid()),
    );
    std::fs::write(d.dir.join("spread.conf"), conf).unwrap();
    // SAFETY: kill with a valid pid and signal.
    unsafe { libc::kill(d.pid() as i32, libc::SIGHUP) };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match connect(&d.unix_name(), "after", vec![AuthMethod::null()]) {
            Ok(_) => break,
            Err(e) if std::time::Instant::now() > deadline => panic!("still refused: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[test]
fn bad_allow_lists_stop_the_daemon_with_file_and_line() {
    for (extra, want) in [
        (
            "AllowedAuthMethods = \"PEERCRED\"\nAllowUsers = \"root no-such-user-xyz\"",
            "spread.conf:6: AllowUsers: no user named 'no-such-user-xyz' on this host",
        ),
        (
            "AllowedAuthMethods = \"PEERCRED\"",
            "spread.conf:5: PEERCRED is enabled but AllowUsers and AllowGroups name no one",
        ),
    ] {
        let err = spread_testkit::TestDaemon::start_failing(extra);
        assert!(err.contains(want), "{extra}: {err}");
    }
}

/// Runs spflooder (an unchanged client: it chooses NULL) as `uid:gid`
/// against `daemon`, one message; true if it connected and sent.
fn flooder_as(uid: u32, gid: u32, daemon: &str) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = std::process::Command::new(spread_testkit::sibling_binary("spflooder"));
    cmd.args(["-m", "1", "-b", "10", "-s", daemon]);
    // SAFETY: setgroups, setgid and setuid are async-signal-safe; nothing
    // else runs between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(gid) != 0
                || libc::setuid(uid) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run spflooder");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[ignore = "needs root to run a client as another user (scripts/test.sh runs it as root)"]
fn peercred_tells_users_and_groups_apart() {
    const NOBODY: u32 = 65534;
    let d = TestDaemon::start(
        "AllowedAuthMethods = \"NULL\"\nRequiredAuthMethods = \"PEERCRED\"\nAllowUsers = root",
    );
    let unix = d.unix_name();
    assert!(flooder_as(0, 0, &unix).0, "root is allowed");
    let (ok, err) = flooder_as(NOBODY, NOBODY, &unix);
    assert!(
        !ok && err.contains("authentication"),
        "nobody is not: {err}"
    );
    // The client may see its refusal before the daemon's line is written.
    let named = format!("uid {NOBODY} gid {NOBODY}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !d.log_text().contains(&named) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = d.log_text();
    assert!(
        log.contains(&named),
        "the log names the refused user: {log}"
    );
    // By group: nobody's primary group.
    let d = TestDaemon::start(&format!(
        "AllowedAuthMethods = \"NULL\"\nRequiredAuthMethods = \"PEERCRED\"\nAllowGroups = {NOBODY}"
    ));
    assert!(
        flooder_as(NOBODY, NOBODY, &d.unix_name()).0,
        "nobody's group is allowed"
    );
    assert!(!flooder_as(0, 0, &d.unix_name()).0, "root's group is not");
}

const SECRET: &str = "a long and random shared secret";

/// A secrets file (mode 0600) in `dir`.
fn secrets_file(dir: &std::path::Path, text: &str, mode: u32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join("secrets");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

#[test]
fn secret_proves_an_identity_without_sending_it() {
    let metrics = format!("127.0.0.1:{}", free_port());
    let dir = spread_testkit::TempDir::new("spread-secret-ok");
    let file = secrets_file(&dir, &format!("# who\nbackup {SECRET}\n"), 0o600);
    let acl = dir.join("groups.acl");
    std::fs::write(
        &acl,
        "allow join backups secret:backup\ndeny join backups any\n",
    )
    .unwrap();
    let d = TestDaemon::start(&format!(
        "AllowedAuthMethods = \"NULL\"\nRequiredAuthMethods = \"SECRET\"\nAuthSecretFile = {}\n\
         GroupAccessFile = {}\nMetricsAddress = {metrics}",
        file.display(),
        acl.display()
    ));
    let secret = |id: &str, s: &str| AuthMethod::secret(id, s.as_bytes().to_vec()).unwrap();
    for daemon in [d.tcp_name(), d.unix_name()] {
        let m = connect(&daemon, "ok", vec![secret("backup", SECRET)]).expect("SECRET");
        m.disconnect().unwrap();
    }
    // With NULL first, as one more method: both run.
    let m = connect(
        &d.tcp_name(),
        "both",
        vec![AuthMethod::null(), secret("backup", SECRET)],
    )
    .expect("NULL then SECRET");
    // The identity is what the group rules see.
    m.join("backups").unwrap();
    match m.receive_timeout(Duration::from_secs(5)).unwrap() {
        Some(spread_core::wire::Message::Membership(v)) => {
            assert_eq!(v.group.to_string(), "backups");
        }
        other => panic!("expected the join's view, got {other:?}"),
    }
    // From a file (mode 0600), as the bindings and C take it.
    let client_file = dir.join("client-secret");
    std::fs::write(&client_file, format!("{SECRET}\n")).unwrap();
    let refused = AuthMethod::secret_file("backup", &client_file).unwrap_err();
    assert!(refused.to_string().contains("chmod 600"), "{refused}");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&client_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let from_file = AuthMethod::secret_file("backup", &client_file).unwrap();
    connect(&d.tcp_name(), "file", vec![from_file]).expect("a secret from a file");

    for (name, methods) in [
        ("wrong", vec![secret("backup", "not the secret at all!")]),
        ("who", vec![secret("stranger", SECRET)]),
        ("null", vec![AuthMethod::null()]),
    ] {
        assert_eq!(
            connect(&d.tcp_name(), name, methods).err(),
            Some(REJECT_AUTH),
            "{name}"
        );
    }
    // A 5.0.1 client (NULL) is refused at once: SECRET is required.
    let mut raw = d.raw();
    raw.send(&hello(b"old"));
    assert_eq!(raw.read_exact(13), b"\x0cNULL SECRET ");
    raw.send(&choice(&["NULL"]));
    assert_eq!(raw.read_to_close(), [REJECT_AUTH as u8]);
    // A client that never answers the challenge is dropped after the
    // handshake's step limit, not held.
    let mut raw = d.raw();
    raw.send(&hello(b"mute"));
    raw.read_exact(13);
    raw.send(&choice(&["SECRET"]));
    assert_eq!(raw.read_exact(32).len(), 32, "the challenge");
    let t = std::time::Instant::now();
    assert!(raw.read_to_close().is_empty(), "closed without a reply");
    assert!(t.elapsed() < Duration::from_secs(5));
    let m = scrape(&metrics);
    assert_eq!(
        m["spread_auth_refused_total{reason=\"secret\"}"], 4,
        "{m:?}"
    );
    let log = d.log_text();
    // The first refusal, then nothing more this minute for the cause.
    assert!(
        log.contains("identity \"backup\": unknown, or the answer"),
        "{log}"
    );
    assert!(!log.contains("stranger"), "{log}");
    assert!(!log.contains(SECRET), "the secret is never logged");
}

#[test]
fn bad_secret_files_stop_the_daemon() {
    let dir = spread_testkit::TempDir::new("spread-secret-bad");
    let open = secrets_file(&dir, &format!("backup {SECRET}\n"), 0o644);
    let err = TestDaemon::start_failing(&format!(
        "AllowedAuthMethods = \"SECRET\"\nAuthSecretFile = {}",
        open.display()
    ));
    assert!(
        err.contains("mode 0644: the secrets must not be open"),
        "{err}"
    );
    let short = secrets_file(&dir, "\nbackup short\n", 0o600);
    let err = TestDaemon::start_failing(&format!(
        "AllowedAuthMethods = \"SECRET\"\nAuthSecretFile = {}",
        short.display()
    ));
    assert!(
        err.contains(&format!(
            "{}:2: the secret of backup is shorter",
            short.display()
        )),
        "{err}"
    );
    let err = TestDaemon::start_failing("AllowedAuthMethods = \"SECRET\"");
    assert!(
        err.contains("spread.conf:5: SECRET is enabled but no AuthSecretFile"),
        "{err}"
    );
}
