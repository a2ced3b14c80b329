//! The C test suite: every `tests/c/*.c` program, compiled as an
//! application would be (`cc ... $(pkg-config --cflags --libs libspread)`)
//! against libspread installed by `scripts/install-libspread.sh --debug`
//! into a fresh prefix, and run against a real daemon. Each program exits
//! 0 or prints `FAIL: file:line: what`.
//!
//! Each program runs plain and built with AddressSanitizer and
//! UndefinedBehaviorSanitizer (LeakSanitizer on: it reports nothing for
//! the Rust library); a few short ones also under valgrind (no errors, no
//! definite leaks) and linked with libspread.a.
//!
//! Needs gcc (with its libasan/libubsan), pkg-config, valgrind and
//! readelf (binutils), and the daemon binary (`cargo build --workspace
//! --bins`).

use spread::types::*;
use spread_testkit::TestDaemon;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A program is killed (and fails) after this long.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// This run's directory under target/: prefix, binaries. Per process, so
/// that two test runs at once do not wipe each other's files; directories
/// of runs that are gone are removed.
fn run_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-suite");
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.flatten() {
                let pid = e.file_name().to_string_lossy().parse::<u32>().ok();
                if pid.is_some_and(|p| !Path::new(&format!("/proc/{p}")).exists()) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// Installs libspread once; returns `pkg-config --cflags --libs libspread`.
fn pkg_config_flags() -> &'static [String] {
    static FLAGS: OnceLock<Vec<String>> = OnceLock::new();
    FLAGS.get_or_init(|| {
        let prefix = run_dir().join("prefix");
        let out = Command::new("bash")
            .arg(workspace().join("scripts/install-libspread.sh"))
            .arg("--debug")
            .arg(&prefix)
            .current_dir(workspace())
            .output()
            .expect("run scripts/install-libspread.sh");
        assert!(
            out.status.success(),
            "install-libspread.sh failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for link in ["libspread.so", "libspread.so.3", "libspread.a"] {
            assert!(
                prefix.join("lib").join(link).exists(),
                "{link} not installed"
            );
        }
        let out = Command::new("pkg-config")
            .args(["--cflags", "--libs", "libspread"])
            .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
            .output()
            .expect("pkg-config (install the pkg-config package)");
        assert!(
            out.status.success(),
            "pkg-config failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .map(String::from)
            .collect()
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Build {
    Plain,
    Sanitized,
    /// Linked with libspread.a instead of the shared library.
    Static,
}

/// `pkg-config --static --libs libspread`, with libspread.a itself in the
/// place of `-lspread` (the linker would take the .so otherwise).
fn static_link_flags() -> Vec<String> {
    pkg_config_flags();
    let prefix = run_dir().join("prefix");
    let out = Command::new("pkg-config")
        .args(["--static", "--cflags", "--libs", "libspread"])
        .env("PKG_CONFIG_PATH", prefix.join("lib/pkgconfig"))
        .output()
        .expect("pkg-config");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|f| match f {
            "-lspread" => prefix.join("lib/libspread.a").display().to_string(),
            _ => f.to_string(),
        })
        .collect()
}

/// Compiles tests/c/NAME.c (once per build kind); returns the binary.
fn compile(name: &str, build: Build) -> PathBuf {
    static DONE: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let flags = match build {
        Build::Static => static_link_flags(),
        _ => pkg_config_flags().to_vec(),
    };
    let (dir, extra): (&str, &[&str]) = match build {
        Build::Plain => ("bin", &[]),
        Build::Static => ("bin-static", &[]),
        Build::Sanitized => (
            "bin-asan",
            &[
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=undefined",
                "-fno-omit-frame-pointer",
            ],
        ),
    };
    let key = format!("{dir}/{name}");
    // Held while compiling, so a program is built once.
    let mut done = DONE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = done.get(&key) {
        return p.clone();
    }
    let out_dir = run_dir().join(dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let bin = out_dir.join(name);
    let src = workspace().join("tests/c").join(format!("{name}.c"));
    let out = Command::new("cc")
        .args(["-Wall", "-Wextra", "-Werror", "-std=c11", "-g", "-O1"])
        .args(extra)
        .arg("-o")
        .arg(&bin)
        .arg(&src)
        .args(&flags)
        .arg("-lpthread")
        .output()
        .expect("run cc (install gcc)");
    assert!(
        out.status.success(),
        "compiling {}:\n{}",
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    done.insert(key, bin.clone());
    bin
}

/// What a program needs around it.
struct Setup {
    /// Extra spread.conf text and the access file, if a daemon is needed.
    daemon: Option<(&'static str, Option<&'static str>)>,
    /// Its arguments, given the daemon.
    args: fn(&TestDaemon) -> Vec<String>,
    /// Arguments after those.
    more_args: &'static [String],
    /// Kill the daemon when the program prints "ready", then write a line
    /// to its stdin.
    kill_daemon_when_ready: bool,
    /// The daemon's Unix socket where it is by default (`/tmp/<port>`) and
    /// the program without `SPREAD_SOCKET_DIR`, as an unchanged one runs.
    default_socket: bool,
}

fn tcp(d: &TestDaemon) -> Vec<String> {
    vec![d.tcp_name()]
}

fn unix(d: &TestDaemon) -> Vec<String> {
    vec![d.unix_name()]
}

fn tcp_and_unix(d: &TestDaemon) -> Vec<String> {
    vec![d.tcp_name(), d.unix_name()]
}

const PLAIN: Setup = Setup {
    daemon: Some(("", None)),
    args: tcp,
    more_args: &[],
    kill_daemon_when_ready: false,
    default_socket: false,
};

fn setup(name: &str) -> Setup {
    match name {
        "connect" => Setup {
            args: tcp_and_unix,
            ..PLAIN
        },
        "auth" => Setup {
            daemon: Some(("AllowedAuthMethods = \"NULL IP\"", Some("127.0.0.1\n"))),
            args: tcp_and_unix,
            ..PLAIN
        },
        // A small MaxSessionMessages, so that a session that does not read
        // is dropped soon.
        "slow_reader" => Setup {
            daemon: Some(("MaxSessionMessages = 100", None)),
            args: tcp_and_unix,
            ..PLAIN
        },
        // Over the Unix socket, to cover that transport under load.
        "threads" | "short_buffers" => Setup {
            args: unix,
            ..PLAIN
        },
        // Messages above 5.0.1's limit, which this daemon allows.
        "large" => Setup {
            daemon: Some(("MaxMessageSize = 2097152", None)),
            ..PLAIN
        },
        "daemon_death" => Setup {
            kill_daemon_when_ready: true,
            ..PLAIN
        },
        "flooder_bench" => Setup {
            args: |d| vec![d.tcp_name(), "2000".into(), "100".into()],
            ..PLAIN
        },
        "layout" => Setup {
            daemon: None,
            args: |_| vec![],
            ..PLAIN
        },
        _ => PLAIN,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    Asan,
    Valgrind,
    Static,
}

struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Spawns `cmd`, kills it after RUN_TIMEOUT; on "ready" (if asked) kills
/// the daemon and answers on stdin.
fn run_program(
    mut cmd: Command,
    mut daemon: Option<&mut TestDaemon>,
    kill_on_ready: bool,
) -> Outcome {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the C program");
    let (ready_tx, ready_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line == "ready" {
                let _ = ready_tx.send(());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut stdin = child.stdin.take();
    let status = loop {
        if kill_on_ready && ready_rx.try_recv().is_ok() {
            if let Some(d) = daemon.as_deref_mut() {
                d.kill9();
            }
            if let Some(s) = stdin.as_mut() {
                let _ = s.write_all(b"go\n");
                let _ = s.flush();
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    drop(stdin);
    let stdout = out_thread.join().unwrap();
    let mut stderr = err_thread.join().unwrap();
    if status.is_none() {
        stderr.push_str(&format!("\n(killed after {RUN_TIMEOUT:?})\n"));
    }
    Outcome {
        success: status.is_some_and(|s| s.success()),
        stdout,
        stderr,
        elapsed: start.elapsed(),
    }
}

/// Builds and runs one program in one mode; panics with its output if it
/// does not exit 0. Returns its stdout.
fn run(name: &str, mode: Mode) -> String {
    run_with(name, mode, setup(name))
}

/// As [`run`], with the setup given.
fn run_with(name: &str, mode: Mode, s: Setup) -> String {
    let bin = compile(
        name,
        match mode {
            Mode::Asan => Build::Sanitized,
            Mode::Static => Build::Static,
            Mode::Plain | Mode::Valgrind => Build::Plain,
        },
    );
    let mut daemon = s.daemon.map(|(extra, access)| {
        if s.default_socket {
            assert!(access.is_none());
            TestDaemon::start_with_default_socket(extra)
        } else {
            TestDaemon::start_with(extra, access)
        }
    });
    let mut args = match &daemon {
        Some(d) => (s.args)(d),
        None => vec![],
    };
    args.extend(s.more_args.iter().cloned());
    let mut cmd = match mode {
        Mode::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args([
                "-q",
                "--error-exitcode=99",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
            ])
            .arg(&bin);
            c
        }
        _ => Command::new(&bin),
    };
    cmd.args(&args);
    match &daemon {
        // For connect.c's bare "port" daemon name.
        Some(d) if !s.default_socket => {
            cmd.env("SPREAD_SOCKET_DIR", &d.socket_dir);
        }
        _ => {
            cmd.env_remove("SPREAD_SOCKET_DIR");
        }
    }
    if mode == Mode::Asan {
        cmd.env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=98",
        )
        .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        .env("LSAN_OPTIONS", "exitcode=97");
    }
    let o = run_program(cmd, daemon.as_mut(), s.kill_daemon_when_ready);
    let label = match mode {
        Mode::Plain => "",
        Mode::Asan => " (ASan+UBSan)",
        Mode::Valgrind => " (valgrind)",
        Mode::Static => " (static libspread.a)",
    };
    if !o.success {
        let log = daemon.as_ref().map(|d| d.log_text()).unwrap_or_default();
        panic!(
            "tests/c/{name}.c{label} {args:?} failed after {:.1?}\n--- stdout ---\n{}--- stderr ---\n{}--- daemon log (tail) ---\n{}",
            o.elapsed,
            o.stdout,
            o.stderr,
            tail(&log, 30)
        );
    }
    eprintln!("tests/c/{name}.c{label}: ok in {:.1?}", o.elapsed);
    o.stdout
}

fn tail(text: &str, lines: usize) -> String {
    let v: Vec<&str> = text.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

/// Every tests/c program has a test below (flooder_bench as a smoke test).
#[test]
fn every_c_program_has_a_test() {
    let this = include_str!("c_suite.rs");
    let mut missing = Vec::new();
    for e in std::fs::read_dir(workspace().join("tests/c")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "c") {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            if !this.contains(&format!("c_programs! {{ {name} }}"))
                && !this.contains(&format!("fn c_{name}()"))
            {
                missing.push(name);
            }
        }
    }
    assert!(missing.is_empty(), "C programs without a test: {missing:?}");
}

/// A plain and a sanitized test for each program.
macro_rules! c_programs {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[test]
            fn plain() {
                super::run(stringify!($name), super::Mode::Plain);
            }

            #[test]
            fn asan() {
                super::run(stringify!($name), super::Mode::Asan);
            }
        })*
    };
}

c_programs! { misc }
c_programs! { connect }
c_programs! { groups }
c_programs! { multicast }
c_programs! { short_buffers }
c_programs! { threads }
c_programs! { ordering }
c_programs! { events }
c_programs! { select_mailbox }
c_programs! { auth }
c_programs! { daemon_death }
c_programs! { flooder_bench }
c_programs! { foreign_endian }
c_programs! { large }
c_programs! { slow_reader }
c_programs! { descriptors }

/// Our daemon's methods (PEERCRED, SECRET) from C: the daemon's
/// configuration names this process's uid and a secrets file of its own.
fn auth_ours_setup(dir: &Path) -> Setup {
    use std::os::unix::fs::PermissionsExt;
    let secrets = dir.join("secrets");
    std::fs::write(&secrets, "backup the shared secret of the backup service\n").unwrap();
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o600)).unwrap();
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let extra = format!(
        "AllowedAuthMethods = \"NULL PEERCRED SECRET\"\nAllowUsers = {uid}\nAuthSecretFile = {}",
        secrets.display()
    );
    Setup {
        daemon: Some((Box::leak(extra.into_boxed_str()), None)),
        args: tcp_and_unix,
        ..PLAIN
    }
}

#[test]
fn c_auth_ours() {
    let dir = spread_testkit::TempDir::new("spread-c-auth-ours");
    run_with("auth_ours", Mode::Plain, auth_ours_setup(&dir));
    run_with("auth_ours", Mode::Asan, auth_ours_setup(&dir));
}

/// TLS from C (SP_set_tls): a daemon with a TLS port that asks for client
/// certificates; certificates made here.
fn tls_setup(dir: &Path) -> Setup {
    let pki = spread_testkit::tls::TestPki::new();
    let files = pki.write_server(dir);
    let (cert, key) = pki.write_client(dir, "c-client");
    let other = dir.join("other-ca.pem");
    std::fs::write(&other, spread_testkit::tls::TestPki::new().ca_pem()).unwrap();
    let port = spread_testkit::free_port();
    let extra = format!(
        "TlsAddress = 127.0.0.1:{port}\nTlsCertificateFile = {}\nTlsKeyFile = {}\nTlsClientCAFile = {}",
        files.cert.display(),
        files.key.display(),
        files.ca.display()
    );
    let more: Vec<String> = [&files.ca, &cert, &key, &other]
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    Setup {
        daemon: Some((Box::leak(extra.into_boxed_str()), None)),
        args: tcp,
        more_args: Box::leak(
            [vec![format!("{port}@127.0.0.1")], more]
                .concat()
                .into_boxed_slice(),
        ),
        ..PLAIN
    }
}

#[test]
fn c_tls() {
    let dir = spread_testkit::TempDir::new("spread-c-tls");
    run_with("tls", Mode::Plain, tls_setup(&dir));
    run_with("tls", Mode::Asan, tls_setup(&dir));
}

/// Flush Spread (fl.h) in the same library; FL_error prints 5.0.1's text.
#[test]
fn c_flush() {
    let out = run("flush", Mode::Plain);
    for line in [
        "FL_error: (-24) Illegal parameter (eg a negative size) passed to a function.",
        "FL_error: (-28) Illegal receivers specified.",
        "SP_error: (-14) Illegal group",
    ] {
        assert!(out.contains(line), "{line:?} not in stdout:\n{out}");
    }
}

#[test]
fn c_flush_asan() {
    run("flush", Mode::Asan);
}

#[test]
fn c_flush_static() {
    run("flush", Mode::Static);
}

/// Short programs under valgrind: no memory errors, no definite leaks.
mod valgrind {
    #[test]
    fn misc() {
        super::run("misc", super::Mode::Valgrind);
    }

    #[test]
    fn short_buffers() {
        super::run("short_buffers", super::Mode::Valgrind);
    }

    #[test]
    fn groups() {
        super::run("groups", super::Mode::Valgrind);
    }

    /// Every FL_* call, with its threads' Flush state.
    #[test]
    fn flush() {
        super::run("flush", super::Mode::Valgrind);
    }
}

/// Programs linked with libspread.a work alike and need no libspread.so.
mod static_lib {
    #[test]
    fn groups() {
        super::run("groups", super::Mode::Static);
        let bin = super::compile("groups", super::Build::Static);
        let out = std::process::Command::new("readelf")
            .arg("-d")
            .arg(&bin)
            .output()
            .expect("readelf");
        let dynamic = String::from_utf8_lossy(&out.stdout);
        assert!(
            !dynamic.contains("libspread"),
            "statically linked program still needs libspread:\n{dynamic}"
        );
    }

    #[test]
    fn threads() {
        super::run("threads", super::Mode::Static);
    }
}

/// The flooder prints its figures in the agreed format.
/// The daemon's RuntimeDir is not /tmp, as in most packaged spread.conf
/// files, and the program connects to the bare port as an unchanged one
/// does: the daemon's Unix socket is at /tmp/<port>, where it looks.
#[test]
fn c_connect_by_port_whatever_runtime_dir_says() {
    let out = run_with(
        "connect",
        Mode::Plain,
        Setup {
            default_socket: true,
            ..setup("connect")
        },
    );
    assert!(out.contains("bare port: connected"), "{out}");
}

#[test]
fn c_flooder_bench_output() {
    let out = run("flooder_bench", Mode::Plain);
    assert!(
        out.lines()
            .any(|l| l.starts_with("c-flooder: 2000 msgs, ") && l.ends_with(" msgs/s")),
        "unexpected output: {out}"
    );
}

/// The C structs' layouts, as the C compiler sees sp.h, equal the Rust
/// #[repr(C)] types of spread::types.
#[test]
fn c_layout() {
    let out = run("layout", Mode::Plain);
    let c: BTreeMap<&str, usize> = out
        .lines()
        .map(|l| {
            let (k, v) = l.split_once(' ').expect("name value");
            (k, v.parse().expect("a number"))
        })
        .collect();
    macro_rules! layout {
        ($c:literal, $t:ty; $($cf:literal => $f:ident),*) => {
            vec![
                (concat!($c, ".size"), size_of::<$t>()),
                (concat!($c, ".align"), align_of::<$t>()),
                $((concat!($c, ".", $cf), offset_of!($t, $f)),)*
            ]
        };
    }
    let rust: BTreeMap<&str, usize> = [
        layout!("scat_element", ScatElement; "buf" => buf, "len" => len),
        layout!("scatter", Scatter; "num_elements" => num_elements, "elements" => elements),
        layout!("group_id", GroupIdC; "id" => id),
        layout!("vs_set_info", VsSetInfo; "num_members" => num_members, "members_offset" => members_offset),
        layout!("membership_info", MembershipInfo;
            "gid" => gid, "changed_member" => changed_member,
            "num_vs_sets" => num_vs_sets, "my_vs_set" => my_vs_set),
        layout!("sp_time", SpTime; "sec" => sec, "usec" => usec),
        layout!("sp_secret", SecretC;
            "identity" => identity, "secret" => secret, "secret_len" => secret_len),
        vec![
            ("mailbox.size", size_of::<Mailbox>()),
            ("service.size", size_of::<Service>()),
            ("int16.size", size_of::<i16>()),
        ],
    ]
    .into_iter()
    .flatten()
    .collect();
    assert_eq!(
        c, rust,
        "C layout (left) differs from the Rust types (right)"
    );
}
