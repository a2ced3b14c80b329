//! Starts real `spread` daemons for tests and speaks raw bytes to them.
//!
//! The daemon binary is `$SPREAD_DAEMON_BIN`, else `spread` in the cargo
//! target directory of the running test (built by `cargo build --bins`,
//! which `cargo test --workspace` does before running any test).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub mod tls;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Stops a daemon as its operator would (SIGTERM, so that it removes its
/// Unix socket), and with SIGKILL if it has not exited within 3 s.
pub fn stop_child(child: &mut Child) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    // SAFETY: kill(2) with a pid we spawned and a valid signal.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A directory of a test under the system's temporary directory, removed
/// with everything in it when dropped (also when the test fails: what a
/// failing test needs is printed).
pub struct TempDir(PathBuf);

impl TempDir {
    /// `<tmp>/<name>-<pid>`, empty.
    pub fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A daemon process on a free port with its own directory (for its Unix
/// socket and access file); killed and cleaned up on drop.
pub struct TestDaemon {
    child: Child,
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
    /// RLIMIT_NOFILE for the daemon, if the test sets one.
    fd_limit: Option<u64>,
    /// Where its Unix socket is: its own directory, or `/tmp` (the
    /// default, where unchanged clients look).
    pub socket_dir: PathBuf,
}

/// The `spread` binary under test.
pub fn daemon_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SPREAD_DAEMON_BIN") {
        return PathBuf::from(p);
    }
    sibling_binary("spread")
}

/// A binary of this workspace, next to the running test's directory.
pub fn sibling_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// `GET path` over HTTP/1.1 at `addr` (a daemon's MetricsAddress): the
/// status code and the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let code = head.split(' ').nth(1).unwrap().parse().unwrap();
    (code, body.to_string())
}

/// Every sample of a daemon's `/metrics` at `addr`, by its name with the
/// labels as written (`spread_dropped_total{reason="ring"}`).
pub fn scrape(addr: &str) -> std::collections::HashMap<String, u64> {
    let (code, body) = http_get(addr, "/metrics");
    assert_eq!(code, 200, "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (name, v) = l.rsplit_once(' ').unwrap();
            (name.to_string(), v.parse().unwrap())
        })
        .collect()
}

pub fn free_port() -> u16 {
    // Keep clear of ports other tests may hold; the kernel picks.
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Creates a daemon's directory: its `RuntimeDir` (where, started as root,
/// it chroots) and its socket directory (`SPREAD_SOCKET_DIR`, so that
/// tests do not share `/tmp/<port>`). Writable by all and sticky like
/// `/tmp`, so that a daemon that gave up root still removes its socket.
pub fn runtime_dir(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
}

/// Writes `dir/spread.conf` for one daemon, `localhost` on a free port
/// (returned), with `dir` as its RuntimeDir and `extra` from line 5.
fn write_single_conf(dir: &Path, extra: &str) -> u16 {
    let port = free_port();
    let conf = format!(
        "Spread_Segment 127.0.0.255:{port} {{\n\tlocalhost 127.0.0.1\n}}\nRuntimeDir = {}\n{extra}\n",
        dir.display()
    );
    std::fs::write(dir.join("spread.conf"), conf).unwrap();
    port
}

impl TestDaemon {
    /// Starts a daemon named `localhost` with `extra` appended to its config.
    pub fn start(extra: &str) -> TestDaemon {
        TestDaemon::start_with(extra, None)
    }

    /// Runs a daemon whose configuration (`extra` from line 5) must stop it
    /// at start; returns what it wrote to stderr. Panics if it serves, or
    /// exits with 0.
    pub fn start_failing(extra: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = TempDir::new(&format!("spread-failing-{n}"));
        runtime_dir(&dir);
        write_single_conf(&dir, extra);
        let log = dir.join("daemon.log");
        let mut child = Command::new(daemon_binary())
            .args(["-n", "localhost", "-c", "spread.conf"])
            .current_dir(&dir)
            .env("SPREAD_SOCKET_DIR", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("run spread");
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                stop_child(&mut child);
                panic!(
                    "the daemon did not stop at start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let err = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(status.code(), Some(1), "{err}");
        err
    }

    /// Also writes `access` as the daemon's `spread.access_ip`.
    pub fn start_with(extra: &str, access: Option<&str>) -> TestDaemon {
        TestDaemon::start_opts(extra, access, None)
    }

    /// Starts a daemon that may hold at most `fd_limit` descriptors
    /// (RLIMIT_NOFILE), so that a test can make its accepts fail.
    pub fn start_with_fd_limit(extra: &str, fd_limit: u64) -> TestDaemon {
        TestDaemon::start_opts(extra, None, Some(fd_limit))
    }

    /// Starts a daemon whose Unix socket is where it is by default,
    /// `/tmp/<port>` (its `RuntimeDir` is still its own directory).
    pub fn start_with_default_socket(extra: &str) -> TestDaemon {
        TestDaemon::start_in(extra, None, None, Some(PathBuf::from("/tmp")))
    }

    fn start_opts(extra: &str, access: Option<&str>, fd_limit: Option<u64>) -> TestDaemon {
        TestDaemon::start_in(extra, access, fd_limit, None)
    }

    fn start_in(
        extra: &str,
        access: Option<&str>,
        fd_limit: Option<u64>,
        socket_dir: Option<PathBuf>,
    ) -> TestDaemon {
        let dir = std::env::temp_dir().join(format!(
            "spread-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        runtime_dir(&dir);
        if let Some(a) = access {
            std::fs::write(dir.join("spread.access_ip"), a).unwrap();
        }
        let port = write_single_conf(&dir, extra);
        let log = dir.join("daemon.log");
        let socket_dir = socket_dir.unwrap_or_else(|| dir.clone());
        let child = TestDaemon::spawn(&dir, &socket_dir, &log, fd_limit);
        let mut d = TestDaemon {
            child,
            port,
            dir,
            log,
            fd_limit,
            socket_dir,
        };
        d.wait_ready();
        d
    }

    fn spawn(dir: &Path, socket_dir: &Path, log: &Path, fd_limit: Option<u64>) -> Child {
        let mut cmd = Command::new(daemon_binary());
        if let Some(n) = fd_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs
            // between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n as libc::rlim_t,
                        rlim_max: n as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        if socket_dir != Path::new("/tmp") {
            cmd.env("SPREAD_SOCKET_DIR", socket_dir);
        } else {
            cmd.env_remove("SPREAD_SOCKET_DIR");
        }
        cmd.args(["-n", "localhost", "-c", "spread.conf"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .unwrap(),
            )
            .spawn()
            .expect("start spread")
    }

    /// Kills the daemon with SIGKILL (leaving its socket file behind) and
    /// starts it again on the same configuration.
    pub fn kill9_and_restart(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        assert!(self.unix_path().exists(), "SIGKILL leaves the socket file");
        self.child = TestDaemon::spawn(&self.dir, &self.socket_dir, &self.log, self.fd_limit);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("daemon exited with {status}: {}", self.log_text());
            }
            // The Unix socket's file exists from bind(), before listen() and
            // after a SIGKILL: only a connection says that it serves.
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && std::os::unix::net::UnixStream::connect(self.unix_path()).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon did not start: {}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn unix_path(&self) -> PathBuf {
        self.socket_dir.join(self.port.to_string())
    }

    /// The daemon name a client uses for TCP: `port@127.0.0.1`.
    pub fn tcp_name(&self) -> String {
        format!("{}@127.0.0.1", self.port)
    }

    /// The daemon name a client uses for the Unix socket (its path).
    pub fn unix_name(&self) -> String {
        self.unix_path().display().to_string()
    }

    pub fn raw(&self) -> Raw {
        Raw::tcp(self.port)
    }

    /// The daemon's process id (for /proc/<pid>/...).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A line of /proc/<pid>/status in kB (VmRSS, VmHWM, ...).
    pub fn status_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{}/status", self.pid()))
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Sends SIGTERM and waits for the daemon to exit; returns its status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) with a pid we spawned and a valid signal.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        self.child.wait().unwrap()
    }

    /// Kills the daemon with SIGKILL: every client loses its connection.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        stop_child(&mut self.child);
        if std::thread::panicking() {
            eprintln!("daemon log:\n{}", self.log_text());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A raw byte connection to a daemon.
pub struct Raw {
    pub s: Box<dyn ReadWrite>,
}

pub trait ReadWrite: Read + Write + Send {
    fn shutdown_write(&self);
    fn set_timeout(&self, t: Duration);
}

impl ReadWrite for TcpStream {
    fn shutdown_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
    fn set_timeout(&self, t: Duration) {
        self.set_read_timeout(Some(t)).unwrap();
    }
}

impl ReadWrite for std::os::unix::net::UnixStream {
    fn shutdown_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
    fn set_timeout(&self, t: Duration) {
        self.set_read_timeout(Some(t)).unwrap();
    }
}

impl Raw {
    pub fn tcp(port: u16) -> Raw {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_timeout(Duration::from_secs(5));
        Raw { s: Box::new(s) }
    }

    /// A TCP connection to the daemon on 127.0.0.1 from source address
    /// `from` (another loopback address stands for another host).
    pub fn tcp_from(from: std::net::Ipv4Addr, port: u16) -> Raw {
        use std::os::fd::FromRawFd;
        let sockaddr = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: port.to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(ip).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: plain socket calls on a descriptor this function owns;
        // the addresses live across the calls.
        let s = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let s = TcpStream::from_raw_fd(fd);
            let src = sockaddr(from, 0);
            let r = libc::bind(fd, &src as *const _ as *const libc::sockaddr, len);
            assert_eq!(r, 0, "bind {from}: {}", std::io::Error::last_os_error());
            let dst = sockaddr(std::net::Ipv4Addr::LOCALHOST, port);
            let r = libc::connect(fd, &dst as *const _ as *const libc::sockaddr, len);
            assert_eq!(r, 0, "connect: {}", std::io::Error::last_os_error());
            s
        };
        s.set_nodelay(true).unwrap();
        s.set_timeout(Duration::from_secs(5));
        Raw { s: Box::new(s) }
    }

    pub fn unix(path: &Path) -> Raw {
        let s = std::os::unix::net::UnixStream::connect(path).unwrap();
        s.set_timeout(Duration::from_secs(5));
        Raw { s: Box::new(s) }
    }

    pub fn send(&mut self, b: &[u8]) {
        self.s.write_all(b).unwrap();
    }

    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.s
            .read_exact(&mut v)
            .unwrap_or_else(|e| panic!("reading {n} bytes: {e}"));
        v
    }

    /// Everything until EOF (or a reset), failing if the peer stays open.
    pub fn read_to_close(&mut self) -> Vec<u8> {
        let mut v = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => return v,
                Ok(n) => v.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return v,
                Err(e) => panic!("expected the daemon to close, got {e} after {v:?}"),
            }
        }
    }

    /// How many bytes arrive until the daemon closes (EOF or a reset); an
    /// error if it stays open past the read timeout. For streams too long
    /// to keep or to print.
    pub fn count_to_close(&mut self) -> std::io::Result<usize> {
        let mut n = 0;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.s.read(&mut buf) {
                Ok(0) => return Ok(n),
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Ok(n),
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs the libspread 5.0.1 handshake for `name`; returns the accept.
    /// The daemon must offer NULL first (a daemon with MaxMessageSize
    /// offers one more word, which 5.0.1's library passes over, as this
    /// does).
    pub fn handshake(&mut self, name: &str, membership: bool) -> Vec<u8> {
        let mut hello = vec![5, 0, 1, u8::from(membership), name.len() as u8];
        hello.extend_from_slice(name.as_bytes());
        self.send(&hello);
        let n = self.read_exact(1)[0] as usize;
        let list = self.read_exact(n);
        assert!(list.starts_with(b"NULL "), "auth list {list:?}");
        let mut choice = [0u8; 90];
        choice[..4].copy_from_slice(b"NULL");
        self.send(&choice);
        let head = self.read_exact(5);
        assert_eq!(head[..4], [1, 5, 0, 1], "accept");
        let mut accept = head.clone();
        accept.extend(self.read_exact(head[4] as usize));
        accept
    }

    /// Reads one whole daemon frame.
    pub fn read_frame(&mut self) -> Vec<u8> {
        use spread_core::wire::{frame::rest_len, Header, Limits};
        let head = self.read_exact(48);
        let h = Header::decode(head[..].try_into().unwrap());
        let n = rest_len(&h, &Limits::CLIENT).unwrap();
        let mut v = head;
        v.extend(self.read_exact(n));
        v
    }

    pub fn message(&mut self) -> spread_core::wire::Message {
        use spread_core::wire::{split_frame, Limits, Message};
        let f = self.read_frame();
        let (frame, _) = split_frame(&f, &Limits::CLIENT).unwrap().unwrap();
        Message::from_frame(&frame).unwrap()
    }

    /// True if nothing arrives within `t`.
    pub fn quiet_for(&mut self, t: Duration) -> bool {
        self.s.set_timeout(t);
        let mut b = [0u8; 1];
        let r = match self.s.read(&mut b) {
            Err(e) => matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            Ok(_) => false,
        };
        self.s.set_timeout(Duration::from_secs(5));
        r
    }
}

/// A client request frame as libspread (little-endian) builds it.
pub fn request(
    service: u32,
    sender: &str,
    groups: &[&str],
    mess_type: i16,
    body: &[u8],
) -> Vec<u8> {
    use spread_core::wire::{encode::request_head, ByteOrder};
    let groups: Vec<_> = groups
        .iter()
        .map(|g| spread_core::GroupName::from(*g))
        .collect();
    let mut f = request_head(
        service,
        &sender.into(),
        &groups,
        mess_type,
        body.len(),
        ByteOrder::Little,
    );
    f.extend_from_slice(body);
    f
}

/// Several daemons of one configuration (d1..dN on 127.0.X.1..N, one
/// segment), each with its own directory; killed on drop.
pub struct TestRing {
    children: Vec<Option<Child>>,
    env: Vec<(String, String)>,
    pub port: u16,
    pub dir: PathBuf,
    subnet: u8,
    /// The segment address and the text appended to every configuration.
    segment: String,
    extra: String,
}

impl TestRing {
    /// Starts `n` daemons; `extra` is appended to every configuration and
    /// `env` set for every daemon.
    pub fn start(n: usize, extra: &str, env: &[(&str, &str)]) -> TestRing {
        TestRing::start_on_segment(n, None, extra, env)
    }

    /// As `start`, with `segment` (e.g. a multicast group) as the segment
    /// address instead of the loopback one (which means unicast).
    pub fn start_on_segment(
        n: usize,
        segment: Option<&str>,
        extra: &str,
        env: &[(&str, &str)],
    ) -> TestRing {
        let id = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("spread-ring-{}-{id}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let subnet = 10 + ((std::process::id() as usize + id * 7) % 200) as u8;
        let port = free_port();
        let mut ring = TestRing {
            children: Vec::new(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            port,
            dir,
            subnet,
            segment: segment.map_or(format!("127.0.{subnet}.255"), str::to_string),
            extra: extra.to_string(),
        };
        let all: Vec<usize> = (1..=n).collect();
        for i in 1..=n {
            ring.write_conf(i, &all);
        }
        for i in 1..=n {
            let child = ring.spawn(i);
            ring.children.push(Some(child));
        }
        for i in 1..=n {
            ring.wait_ready(i);
        }
        ring
    }

    fn spawn(&self, i: usize) -> Child {
        let d = self.dir.join(format!("d{i}"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(d.join("daemon.log"))
            .unwrap();
        let mut cmd = Command::new(daemon_binary());
        cmd.args(["-n", &format!("d{i}"), "-c", "spread.conf"])
            .env("SPREAD_SOCKET_DIR", &d)
            .current_dir(&d)
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.spawn().expect("start spread")
    }

    fn wait_ready(&mut self, i: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Some(c)) = self.children.get_mut(i - 1) {
                if let Some(status) = c.try_wait().unwrap() {
                    panic!("daemon d{i} exited with {status}: {}", self.log(i));
                }
            }
            if TcpStream::connect((self.ip(i).as_str(), self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon d{i} did not start: {}", self.log(i));
    }

    /// Writes daemon `i`'s spread.conf (creating its directory) with the
    /// daemons `members` (dJ on 127.0.X.J, in that order). `{ip}` in the
    /// extra text stands for daemon `i`'s own address.
    pub fn write_conf(&self, i: usize, members: &[usize]) {
        let d = self.dir.join(format!("d{i}"));
        if !d.exists() {
            runtime_dir(&d);
        }
        let subnet = self.subnet;
        let daemons: String = members
            .iter()
            .map(|j| {
                format!(
                    "\td{j} 127.0.{subnet}.{j} {{ D 127.0.{subnet}.{j} C 127.0.{subnet}.{j} }}\n"
                )
            })
            .collect();
        let conf = format!(
            "Spread_Segment {}:{} {{\n{daemons}}}\nRuntimeDir = {}\n{}\n",
            self.segment,
            self.port,
            d.display(),
            self.extra.replace("{ip}", &self.ip(i))
        );
        std::fs::write(d.join("spread.conf"), conf).unwrap();
    }

    /// Writes `text` as daemon `i`'s spread.conf.
    pub fn write_conf_text(&self, i: usize, text: &str) {
        std::fs::write(self.dir.join(format!("d{i}")).join("spread.conf"), text).unwrap();
    }

    /// Starts daemon `i`, not started before, with the configuration
    /// written for it (`write_conf`), and waits until it serves.
    pub fn start_new(&mut self, i: usize) {
        if self.children.len() < i {
            self.children.resize_with(i, || None);
        }
        self.restart(i);
    }

    /// Sends SIGHUP to daemon `i`.
    pub fn hangup(&self, i: usize) {
        // SAFETY: kill(2) with a pid we spawned and a valid signal.
        unsafe { libc::kill(self.pid(i) as libc::pid_t, libc::SIGHUP) };
    }

    /// The process id of daemon `i` (it must be running).
    pub fn pid(&self, i: usize) -> u32 {
        self.children[i - 1].as_ref().expect("running").id()
    }

    pub fn ip(&self, i: usize) -> String {
        format!("127.0.{}.{i}", self.subnet)
    }

    /// The TCP daemon name of daemon `i` (1-based).
    pub fn tcp_name(&self, i: usize) -> String {
        format!("{}@{}", self.port, self.ip(i))
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.join(format!("d{i}")).join("daemon.log"))
            .unwrap_or_default()
    }

    /// Waits up to `t` for daemon `i` to exit by itself; its exit status,
    /// or None if it is still running.
    pub fn wait_exit(&mut self, i: usize, t: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + t;
        let child = self.children[i - 1].as_mut()?;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts daemon `i` again (after `kill9`) and waits until it serves.
    pub fn restart(&mut self, i: usize) {
        let child = self.spawn(i);
        self.children[i - 1] = Some(child);
        self.wait_ready(i);
    }

    /// Sends SIGTERM to daemon `i` and waits for it to exit.
    pub fn terminate(&mut self, i: usize) -> Option<std::process::ExitStatus> {
        let mut c = self.children[i - 1].take()?;
        // SAFETY: kill(2) with a pid we spawned and a valid signal.
        unsafe { libc::kill(c.id() as libc::pid_t, libc::SIGTERM) };
        c.wait().ok()
    }

    /// SIGKILLs daemon `i`.
    pub fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.children[i - 1].take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for TestRing {
    fn drop(&mut self) {
        for c in self.children.iter_mut().flatten() {
            stop_child(c);
        }
        if std::thread::panicking() {
            for i in 1..=self.children.len() {
                eprintln!("--- d{i} log:\n{}", self.log(i));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
