//! The daemon where 5.0.1's runs: the Unix socket where clients look,
//! several daemons of one file on one host, privileges given up as root,
//! and the logging options.

use spread_core::client::Mailbox;
use spread_core::wire::Message;
use spread_testkit::{runtime_dir, TempDir, TestDaemon, TestRing};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn is_root() -> bool {
    // SAFETY: geteuid cannot fail.
    unsafe { libc::geteuid() == 0 }
}

fn temp_dir(tag: &str) -> TempDir {
    let d = TempDir::new(&format!("spread-dropin-{tag}"));
    runtime_dir(&d);
    d
}

/// A daemon named `localhost` on 127.0.0.1:`port` with `dir` as its
/// RuntimeDir and `conf` after that (from line 5), run in `dir` with `env`,
/// its stderr in `dir/daemon.log`.
fn spawn(dir: &Path, port: u16, conf: &str, env: &[(&str, &Path)]) -> Child {
    std::fs::write(
        dir.join("spread.conf"),
        format!(
            "Spread_Segment 127.0.0.255:{port} {{\n\tlocalhost 127.0.0.1\n}}\nRuntimeDir = {}\n{conf}",
            dir.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new(spread_testkit::daemon_binary());
    cmd.args(["-n", "localhost", "-c", "spread.conf"])
        .current_dir(dir)
        .env_remove("SPREAD_SOCKET_DIR")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Waits until the daemon serves: its TCP port answers and its log says
/// it has bound everything (the Unix socket may be bound after TCP).
fn wait_tcp(child: &mut Child, port: u16, dir: &Path) {
    wait_serving(child, port, &dir.join("daemon.log"));
}

fn wait_serving(child: &mut Child, port: u16, log_file: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let log = || std::fs::read_to_string(log_file).unwrap_or_default();
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            panic!("daemon exited with {s}: {}", log());
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() && log().contains("clients on TCP") {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("daemon did not start: {}", log());
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default()
}

fn stop(mut child: Child) {
    // SAFETY: kill(2) with a pid we spawned.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let _ = child.wait();
}

fn receive_data(m: &Mailbox) -> Vec<u8> {
    loop {
        match m.receive_timeout(Duration::from_secs(10)).unwrap() {
            Some(Message::Data(d)) => return d.data,
            Some(_) => {}
            None => panic!("no message within 10 s"),
        }
    }
}

/// A socket file at `/tmp/<port>` is where an unchanged client looks; a
/// `RuntimeDir` elsewhere does not move it.
#[test]
fn the_unix_socket_is_at_tmp_port_whatever_runtime_dir_says() {
    let d = TestDaemon::start_with_default_socket("");
    let path = PathBuf::from(format!("/tmp/{}", d.port));
    assert_eq!(d.unix_path(), path);
    assert!(
        std::fs::read_to_string(d.dir.join("spread.conf"))
            .unwrap()
            .contains("RuntimeDir"),
        "the test's point: RuntimeDir is set"
    );
    let m = Mailbox::connect(&d.port.to_string(), Some("bare"), 0, true).unwrap();
    assert_eq!(m.private_group().to_string(), "#bare#localhost");
    drop(m);
    let mut d = d;
    assert!(d.terminate().success());
    assert!(!path.exists(), "removed at exit");
}

/// Three daemons of one file on one host (127.0.0.1-3 of a subnet): one
/// serves the shared Unix socket, the others say so and serve TCP, and
/// every client reaches every other.
#[test]
fn several_daemons_of_one_file_share_a_host() {
    let sockets = temp_dir("shared");
    let ring = TestRing::start(3, "", &[("SPREAD_SOCKET_DIR", sockets.to_str().unwrap())]);
    let path = sockets.join(ring.port.to_string());
    assert!(path.exists());
    // Each has bound everything once it says where its clients connect.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(1..=3).all(|i| ring.log(i).contains("clients on TCP")) {
        assert!(
            Instant::now() < deadline,
            "a daemon did not finish starting"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let deferring: Vec<usize> = (1..=3)
        .filter(|&i| ring.log(i).contains("serves the Unix socket"))
        .collect();
    assert_eq!(
        deferring.len(),
        2,
        "two of three leave the socket to the first: {:?}",
        (1..=3).map(|i| ring.log(i)).collect::<Vec<_>>()
    );
    // Each start line names the Unix socket only if that daemon holds it.
    for i in 1..=3 {
        let log = ring.log(i);
        let start = log.lines().find(|l| l.contains("clients on TCP")).unwrap();
        let names_socket = start.contains(&path.display().to_string());
        assert_eq!(names_socket, !deferring.contains(&i), "d{i}: {start}");
    }
    let local = Mailbox::connect(path.to_str().unwrap(), Some("local"), 0, true).unwrap();
    let others: Vec<Mailbox> = deferring
        .iter()
        .map(|&i| Mailbox::connect(&ring.tcp_name(i), Some(&format!("t{i}")), 0, true).unwrap())
        .collect();
    local.join("g").unwrap();
    for m in &others {
        m.join("g").unwrap();
    }
    // Once everyone's join is in (the views say so), one message reaches all.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match local.receive_timeout(Duration::from_secs(10)).unwrap() {
            Some(Message::Membership(v)) if v.members.len() == 3 => break,
            _ => assert!(Instant::now() < deadline, "no view of 3"),
        }
    }
    local
        .multicast(spread_core::consts::AGREED_MESS, "g", 1, b"to all")
        .unwrap();
    for m in &others {
        assert_eq!(receive_data(m), b"to all");
    }
}

/// A process that is not a Spread daemon cannot keep the path: whatever
/// holds it (a listener that does not answer, a plain file), the daemon
/// takes it over and serves its clients there.
#[test]
fn a_squatted_socket_path_is_taken_over() {
    for squat in ["listener", "file"] {
        let dir = temp_dir(&format!("squat-{squat}"));
        let port = spread_testkit::free_port();
        let path = dir.join(port.to_string());
        let _listener = match squat {
            "listener" => Some(std::os::unix::net::UnixListener::bind(&path).unwrap()),
            _ => {
                std::fs::write(&path, b"not a socket").unwrap();
                None
            }
        };
        let mut child = spawn(&dir, port, "", &[("SPREAD_SOCKET_DIR", &dir)]);
        wait_tcp(&mut child, port, &dir);
        let m = Mailbox::connect(path.to_str().unwrap(), Some("mine"), 0, true)
            .unwrap_or_else(|e| panic!("{squat}: {e}: {}", log(&dir)));
        assert_eq!(m.private_group().to_string(), "#mine#localhost");
        if squat == "listener" {
            assert!(log(&dir).contains("taking it over"), "{}", log(&dir));
        }
        drop(m);
        stop(child);
    }
}

/// `/proc/<pid>/status` line `field` (e.g. `Uid`), its values.
fn proc_ids(pid: u32, field: &str) -> Vec<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field}"))
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect()
}

fn id_of(flag: &str, name: &str) -> u32 {
    let out = Command::new("id").args([flag, name]).output().unwrap();
    assert!(out.status.success(), "id {flag} {name}");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Started as root, the daemon binds, then chroots to RuntimeDir and runs
/// as DaemonUser/DaemonGroup (real, effective and saved ids, and no other
/// groups); its clients are served all the same.
#[test]
#[ignore = "needs root (scripts/test.sh runs it as root)"]
fn as_root_it_chroots_and_becomes_daemon_user() {
    assert!(is_root(), "run as root");
    let dir = temp_dir("root");
    let port = spread_testkit::free_port();
    let mut child = spawn(
        &dir,
        port,
        &format!(
            "DaemonUser = nobody\nDaemonGroup = {}\n",
            String::from_utf8_lossy(
                &Command::new("id")
                    .args(["-gn", "nobody"])
                    .output()
                    .unwrap()
                    .stdout
            )
            .trim()
        ),
        &[("SPREAD_SOCKET_DIR", &dir)],
    );
    wait_tcp(&mut child, port, &dir);
    let pid = child.id();
    let (uid, gid) = (id_of("-u", "nobody"), id_of("-g", "nobody"));
    assert_eq!(proc_ids(pid, "Uid"), vec![uid; 4]);
    assert_eq!(proc_ids(pid, "Gid"), vec![gid; 4]);
    assert_eq!(proc_ids(pid, "Groups"), vec![gid]);
    assert_eq!(
        std::fs::read_link(format!("/proc/{pid}/root")).unwrap(),
        dir.canonicalize().unwrap()
    );
    let m = Mailbox::connect(
        dir.join(port.to_string()).to_str().unwrap(),
        Some("u"),
        0,
        true,
    )
    .unwrap();
    m.join("g").unwrap();
    m.multicast(spread_core::consts::SAFE_MESS, "g", 0, b"after the drop")
        .unwrap();
    assert_eq!(receive_data(&m), b"after the drop");
    drop(m);
    stop(child);
    assert!(
        !dir.join(port.to_string()).exists(),
        "the socket is removed at exit from inside the chroot"
    );
    assert!(log(&dir).contains("chrooted to"), "{}", log(&dir));
}

/// Not root: a warning, and the daemon keeps its user. Root starts it as
/// `nobody` to see that.
#[test]
#[ignore = "needs root to start the daemon as another user (scripts/test.sh runs it as root)"]
fn not_root_it_says_so_and_keeps_its_user() {
    assert!(is_root(), "run as root");
    let dir = temp_dir("notroot");
    let port = spread_testkit::free_port();
    let uid = id_of("-u", "nobody");
    let gid = id_of("-g", "nobody");
    std::fs::write(
        dir.join("spread.conf"),
        format!("Spread_Segment 127.0.0.255:{port} {{\n\tlocalhost 127.0.0.1\n}}\nDaemonUser = no-such-user\n"),
    )
    .unwrap();
    let mut child = Command::new(spread_testkit::daemon_binary())
        .args(["-n", "localhost", "-c", "spread.conf"])
        .current_dir(&dir)
        .env("SPREAD_SOCKET_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
        .uid(uid)
        .gid(gid)
        .spawn()
        .unwrap();
    wait_tcp(&mut child, port, &dir);
    assert_eq!(proc_ids(child.id(), "Uid")[0], uid);
    assert!(log(&dir).contains("not running as root"), "{}", log(&dir));
    stop(child);
}

/// An unknown user or group and a missing RuntimeDir stop a daemon started
/// as root before it serves anyone, naming the line.
#[test]
#[ignore = "needs root (scripts/test.sh runs it as root)"]
fn as_root_bad_privilege_settings_stop_it_with_file_and_line() {
    assert!(is_root(), "run as root");
    let dir = temp_dir("badpriv");
    for (conf, expect) in [
        (
            "DaemonUser = no-such-user\n",
            "spread.conf:5: DaemonUser 'no-such-user': no such user",
        ),
        (
            "DaemonGroup = no-such-group\n",
            "spread.conf:5: DaemonGroup 'no-such-group': no such group",
        ),
        (
            "RuntimeDir = /no/such/dir\nDaemonUser = nobody\n",
            "spread.conf:5: RuntimeDir /no/such/dir: No such file or directory",
        ),
    ] {
        let port = spread_testkit::free_port();
        let mut child = spawn(&dir, port, conf, &[("SPREAD_SOCKET_DIR", &dir)]);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{conf}");
        assert!(log(&dir).contains(expect), "{conf}: {}", log(&dir));
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }
}

/// EventLogFile takes the daemon's lines (appended to what is there),
/// EventTimeStamp and EventPreciseTimeStamp stamp them, and SIGHUP opens
/// the file again by name after logrotate moved it.
#[test]
fn event_log_file_appends_stamps_and_reopens_on_sighup() {
    let dir = temp_dir("logfile");
    let file = dir.join("spread.log");
    std::fs::write(&file, "an older line\n").unwrap();
    let port = spread_testkit::free_port();
    let mut child = spawn(
        &dir,
        port,
        &format!(
            "EventLogFile = {}\nEventTimeStamp = \"[%Y-%m-%d %H:%M:%S]\"\nEventPreciseTimeStamp\nDaemonUser = nobody\nDaemonGroup = {}\n",
            file.display(),
            String::from_utf8_lossy(&Command::new("id").args(["-gn", "nobody"]).output().unwrap().stdout).trim()
        ),
        &[("SPREAD_SOCKET_DIR", &dir)],
    );
    wait_serving(&mut child, port, &file);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("an older line\n"), "{text}");
    let started = text
        .lines()
        .find(|l| l.contains("clients on TCP"))
        .unwrap_or_else(|| panic!("{text}"));
    // "[2026-12-02 15:42:11] 1796226131.123456 ..." (the epoch seconds
    // precede the microseconds when the format does not end with seconds).
    let stamp: Vec<&str> = started.splitn(4, ' ').collect();
    assert!(
        stamp[0].starts_with("[20") && stamp[1].ends_with(']'),
        "{started}"
    );
    let (secs, micros) = stamp[2].split_once('.').unwrap();
    assert!(
        secs.parse::<u64>().is_ok() && micros.len() == 6,
        "{started}"
    );
    assert!(
        log(&dir).is_empty(),
        "stderr went to the file: {}",
        log(&dir)
    );

    let rotated = dir.join("spread.log.1");
    std::fs::rename(&file, &rotated).unwrap();
    // SAFETY: kill(2) with a pid we spawned.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGHUP) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while !std::fs::read_to_string(&file)
        .unwrap_or_default()
        .contains("reopened the log file")
    {
        assert!(Instant::now() < deadline, "no new file after SIGHUP");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "SIGHUP does not end the daemon"
    );
    stop(child);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("exiting on signal"));
    assert!(!std::fs::read_to_string(&rotated)
        .unwrap()
        .contains("exiting on signal"));
}

/// A log file that cannot be opened stops the daemon at start, naming the
/// line.
#[test]
fn an_unwritable_log_file_is_a_start_up_error() {
    let dir = temp_dir("badlog");
    let port = spread_testkit::free_port();
    let mut child = spawn(&dir, port, "EventLogFile = /no/such/dir/spread.log\n", &[]);
    assert_eq!(child.wait().unwrap().code(), Some(1));
    assert!(
        log(&dir).contains(
            "spread.conf:5: EventLogFile /no/such/dir/spread.log: No such file or directory"
        ),
        "{}",
        log(&dir)
    );
}

/// SocketPortReuse: with `on` a daemon restarted at once binds its port
/// while its clients' old connections linger (TIME_WAIT); with `off` (and
/// `auto`, 5.0.1's default, on all interfaces) it cannot, as 5.0.1.
#[test]
fn socket_port_reuse_decides_whether_a_restart_binds_at_once() {
    for (setting, restarts) in [("on", true), ("off", false), ("auto", false)] {
        let dir = temp_dir(&format!("reuse-{setting}"));
        let port = spread_testkit::free_port();
        let conf = format!("SocketPortReuse = {setting}\n");
        let env: [(&str, &Path); 1] = [("SPREAD_SOCKET_DIR", &dir)];
        let mut child = spawn(&dir, port, &conf, &env);
        wait_tcp(&mut child, port, &dir);
        let m = Mailbox::connect(&format!("{port}@127.0.0.1"), Some("c"), 0, false).unwrap();
        // The daemon goes first: its side of the connection lingers.
        child.kill().unwrap();
        child.wait().unwrap();
        drop(m);
        let mut again = spawn(&dir, port, &conf, &env);
        if restarts {
            wait_tcp(&mut again, port, &dir);
            stop(again);
        } else {
            let status = again.wait().unwrap();
            assert_eq!(status.code(), Some(1), "{setting}: {}", log(&dir));
            // Said once, not once by the log and once more on stderr.
            assert_eq!(
                log(&dir).matches("Address already in use").count(),
                1,
                "{setting}: {}",
                log(&dir)
            );
        }
    }
}

/// Runs `cmd` in a new network namespace with only `lo` up, where no
/// multicast group can be joined (igmp_max_memberships = 0).
fn in_namespace_without_multicast(tag: &str) -> (String, impl Drop) {
    struct Netns(String);
    impl Drop for Netns {
        fn drop(&mut self) {
            let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
        }
    }
    let ns = format!("spjoin-{tag}-{}", std::process::id());
    let ip = |args: &[&str]| assert!(Command::new("ip").args(args).status().unwrap().success());
    let _ = Command::new("ip")
        .args(["netns", "del", &ns])
        .stderr(Stdio::null())
        .status();
    ip(&["netns", "add", &ns]);
    let guard = Netns(ns.clone());
    ip(&["-n", &ns, "link", "set", "lo", "up"]);
    assert!(Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns,
            "sysctl",
            "-qw",
            "net.ipv4.igmp_max_memberships=0"
        ])
        .status()
        .unwrap()
        .success());
    (ns, guard)
}

/// IgnoreMulticastJoinErrors: a segment group that cannot be joined stops
/// the daemon, naming the option; with it the daemon says so and goes on.
#[test]
#[ignore = "needs root for a network namespace (scripts/test.sh runs it as root)"]
fn a_segment_group_that_cannot_be_joined_stops_the_daemon_unless_ignored() {
    assert!(is_root(), "run as root");
    let (ns, _guard) = in_namespace_without_multicast("join");
    for ignore in [false, true] {
        let dir = temp_dir(&format!("join-{ignore}"));
        let port = spread_testkit::free_port();
        std::fs::write(
            dir.join("spread.conf"),
            format!(
                // A second daemon (never started): a segment of one daemon
                // uses no segment address.
                "Spread_Segment 225.9.9.9:{port} {{\n\tlocalhost 127.0.0.1\n\tother 127.0.0.2\n}}\nRuntimeDir = {}\nIgnoreMulticastJoinErrors = {ignore}\n",
                dir.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("ip")
            .args(["netns", "exec", &ns])
            .arg(spread_testkit::daemon_binary())
            .args(["-n", "localhost", "-c", "spread.conf"])
            .current_dir(&dir)
            .env("SPREAD_SOCKET_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("daemon.log")).unwrap())
            .spawn()
            .unwrap();
        if ignore {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !log(&dir).contains("clients on TCP") {
                assert!(child.try_wait().unwrap().is_none(), "{}", log(&dir));
                assert!(Instant::now() < deadline, "{}", log(&dir));
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(
                log(&dir).contains("cannot join the segment address 225.9.9.9"),
                "{}",
                log(&dir)
            );
            // Its clients are served (over the Unix socket: the namespace's
            // TCP is not ours to reach).
            let m = Mailbox::connect(
                dir.join(port.to_string()).to_str().unwrap(),
                Some("c"),
                0,
                true,
            )
            .unwrap();
            m.join("g").unwrap();
            m.multicast(spread_core::consts::AGREED_MESS, "g", 0, b"still here")
                .unwrap();
            assert_eq!(receive_data(&m), b"still here");
            stop(child);
        } else {
            assert_eq!(child.wait().unwrap().code(), Some(1), "{}", log(&dir));
            assert!(
                log(&dir).contains("cannot join the segment address 225.9.9.9")
                    && log(&dir).contains("IgnoreMulticastJoinErrors"),
                "{}",
                log(&dir)
            );
        }
    }
}
