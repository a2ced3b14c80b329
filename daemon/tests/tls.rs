//! TLS for TCP clients (issue 16): a daemon with `TlsAddress` serves TLS
//! clients on a port of its own while its plain port serves 5.0.1's as
//! before; client certificates (`TlsClientCAFile`) are required and give
//! the `cert:` identity of the group access rules; failed TLS handshakes
//! are counted and logged, never fatal; bad files stop the start with
//! their names. Certificates are made in the test.

use spread_core::client::{ConnectOptions, Mailbox, TlsOptions};
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_testkit::tls::{ServerFiles, TestPki};
use spread_testkit::{free_port, scrape, TempDir, TestDaemon};
use std::path::Path;
use std::time::Duration;

fn opts(name: &str, tls: Option<TlsOptions>) -> ConnectOptions {
    ConnectOptions {
        private_name: name.into(),
        timeout: Some(Duration::from_secs(5)),
        tls,
        ..ConnectOptions::default()
    }
}

fn trusting(ca: &Path) -> TlsOptions {
    TlsOptions::from_files(ca, None, None).unwrap()
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

/// Waits for the view of `group` with `n` members.
fn view(m: &Mailbox, group: &str, n: usize) {
    loop {
        match m.receive_timeout(Duration::from_secs(5)).unwrap() {
            Some(Message::Membership(v))
                if v.group.to_string() == group && v.members.len() == n =>
            {
                return
            }
            Some(_) => continue,
            None => panic!("no view of {group} with {n} members"),
        }
    }
}

struct TlsDaemon {
    d: TestDaemon,
    tls_name: String,
    metrics: String,
    files: ServerFiles,
    _dir: TempDir,
}

fn start(pki: &TestPki, dir: TempDir, extra: &str) -> TlsDaemon {
    let files = pki.write_server(&dir);
    let port = free_port();
    let metrics = format!("127.0.0.1:{}", free_port());
    let d = TestDaemon::start(&format!(
        "TlsAddress = 127.0.0.1:{port}\nTlsCertificateFile = {}\nTlsKeyFile = {}\n\
         MetricsAddress = {metrics}\n{extra}",
        files.cert.display(),
        files.key.display()
    ));
    TlsDaemon {
        d,
        tls_name: format!("{port}@127.0.0.1"),
        metrics,
        files,
        _dir: dir,
    }
}

fn tls_failures(t: &TlsDaemon) -> u64 {
    scrape(&t.metrics)["spread_auth_refused_total{reason=\"tls\"}"]
}

#[test]
fn tls_and_plain_clients_share_groups() {
    let pki = TestPki::new();
    let t = start(&pki, TempDir::new("spread-tls-basic"), "");
    let secure =
        Mailbox::connect_with(&t.tls_name, &opts("secure", Some(trusting(&t.files.ca)))).unwrap();
    // 5.0.1's way, on the plain port: unchanged.
    let plain = Mailbox::connect_with(&t.d.tcp_name(), &opts("plain", None)).unwrap();
    secure.join("chat").unwrap();
    view(&secure, "chat", 1);
    plain.join("chat").unwrap();
    view(&secure, "chat", 2);
    view(&plain, "chat", 2);
    secure
        .multicast(AGREED_MESS, "chat", 3, b"over TLS")
        .unwrap();
    for m in [&secure, &plain] {
        match next(m) {
            Message::Data(d) => assert_eq!(d.data, b"over TLS"),
            other => panic!("{other:?}"),
        }
    }
    // Large enough to cross the pump in many records, both ways.
    let big: Vec<u8> = (0..120_000u32).map(|i| i as u8).collect();
    for (from, kind) in [(&plain, 4), (&secure, 5)] {
        from.multicast(SAFE_MESS, "chat", kind, &big).unwrap();
        for m in [&secure, &plain] {
            match next(m) {
                Message::Data(d) => {
                    assert_eq!((d.mess_type, d.data.len()), (kind, big.len()));
                    assert!(d.data == big);
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // A burst to a TLS reader that is not reading: the daemon's writes and
    // the pump wait, then everything arrives.
    let burst = 40;
    for i in 0..burst {
        plain.multicast(RELIABLE_MESS, "chat", i, &big).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    for i in 0..burst {
        match next(&secure) {
            Message::Data(d) => assert_eq!((d.mess_type, d.data.len()), (i, big.len())),
            other => panic!("{other:?}"),
        }
    }
    for _ in 0..burst {
        assert!(matches!(next(&plain), Message::Data(_)));
    }
    // Readiness on the one descriptor: nothing, then a message.
    assert!(secure.try_receive().unwrap().is_none());
    plain.multicast(AGREED_MESS, "chat", 6, b"poke").unwrap();
    assert!(matches!(next(&secure), Message::Data(_)));
    secure.leave("chat").unwrap();
    view(&plain, "chat", 1);
    // The daemon's refusals reach a TLS client as a plain one.
    let e = Mailbox::connect_with(&t.tls_name, &opts("secure", Some(trusting(&t.files.ca))))
        .unwrap_err();
    assert_eq!(e.code(), REJECT_NOT_UNIQUE, "{e}");
    drop(secure);
    assert_eq!(tls_failures(&t), 0);
}

#[test]
fn a_daemon_not_trusted_is_refused_and_counted() {
    let pki = TestPki::new();
    let t = start(&pki, TempDir::new("spread-tls-wrong-ca"), "");
    let other = TestPki::new();
    let dir = TempDir::new("spread-tls-other-ca");
    let other_ca = dir.join("other.pem");
    std::fs::write(&other_ca, other.ca_pem()).unwrap();
    let e = Mailbox::connect_with(&t.tls_name, &opts("x", Some(trusting(&other_ca)))).unwrap_err();
    assert_eq!(e.code(), COULD_NOT_CONNECT, "{e}");
    assert!(e.to_string().contains("invalid peer certificate"), "{e}");
    // The wrong name for the certificate.
    let mut named = trusting(&t.files.ca);
    named.server_name = Some("spread.example.org".into());
    let e = Mailbox::connect_with(&t.tls_name, &opts("y", Some(named))).unwrap_err();
    assert!(e.to_string().contains("invalid peer certificate"), "{e}");
    // A plain client on the TLS port: its bytes are no TLS.
    let e = Mailbox::connect_with(&t.tls_name, &opts("z", None)).unwrap_err();
    assert!(e.code() < 0, "{e}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tls_failures(&t) < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tls_failures(&t), 3);
    let log = t.d.log_text();
    let lines = log
        .lines()
        .filter(|l| l.contains("TLS handshake with"))
        .count();
    assert_eq!(lines, 1, "once a minute:\n{log}");
    // The daemon serves on.
    let ok = Mailbox::connect_with(&t.tls_name, &opts("ok", Some(trusting(&t.files.ca)))).unwrap();
    ok.join("g").unwrap();
    view(&ok, "g", 1);
}

#[test]
fn client_certificates_are_required_and_name_the_client() {
    let pki = TestPki::new();
    let dir = TempDir::new("spread-tls-clients");
    let acl = dir.join("groups.acl");
    std::fs::write(
        &acl,
        "allow join,send ops  cert:alice\ndeny  join,send ops  any\n",
    )
    .unwrap();
    let alice = pki.write_client(&dir, "alice");
    let bob = pki.write_client(&dir, "bob");
    let ca = dir.join("ca.pem");
    let extra = format!(
        "TlsClientCAFile = {}\nGroupAccessFile = {}\n",
        ca.display(),
        acl.display()
    );
    let t = start(&pki, dir, &extra);
    // No certificate: refused, counted.
    let e =
        Mailbox::connect_with(&t.tls_name, &opts("anon", Some(trusting(&t.files.ca)))).unwrap_err();
    assert_eq!(e.code(), COULD_NOT_CONNECT, "{e}");
    assert!(
        e.to_string()
            .contains("TLS: received fatal alert: CertificateRequired"),
        "{e}"
    );
    // A certificate of another CA: refused too.
    let stranger = TestPki::new();
    let (c, k) = stranger.client_pem("alice");
    let mut forged = trusting(&t.files.ca);
    forged.client_cert = Some((c.into_bytes(), k.into_bytes()));
    let e = Mailbox::connect_with(&t.tls_name, &opts("forged", Some(forged))).unwrap_err();
    assert_eq!(e.code(), COULD_NOT_CONNECT, "{e}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while tls_failures(&t) < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(tls_failures(&t), 2);

    let as_alice = TlsOptions::from_files(&t.files.ca, Some(&alice.0), Some(&alice.1)).unwrap();
    let as_bob = TlsOptions::from_files(&t.files.ca, Some(&bob.0), Some(&bob.1)).unwrap();
    let a = Mailbox::connect_with(&t.tls_name, &opts("a", Some(as_alice))).unwrap();
    let b = Mailbox::connect_with(&t.tls_name, &opts("b", Some(as_bob))).unwrap();
    a.join("ops").unwrap();
    view(&a, "ops", 1);
    b.join("ops").unwrap();
    match next(&b) {
        Message::Reject(r) => {
            assert_eq!(r.groups[0].to_string(), "ops");
            assert_eq!(r.old_type & CAUSED_BY_JOIN, CAUSED_BY_JOIN, "{r:?}");
        }
        other => panic!("expected a REJECT, got {other:?}"),
    }
    b.multicast(AGREED_MESS, "ops", 1, b"bob").unwrap();
    assert!(matches!(next(&b), Message::Reject(_)));
    a.multicast(AGREED_MESS, "ops", 1, b"alice").unwrap();
    match next(&a) {
        Message::Data(d) => assert_eq!(d.data, b"alice"),
        other => panic!("{other:?}"),
    }
    let log = t.d.log_text();
    assert!(
        log.contains("(cert bob)") || log.contains("#b#localhost"),
        "{log}"
    );
}

#[test]
fn bad_tls_files_stop_the_start_with_their_names() {
    let pki = TestPki::new();
    let dir = TempDir::new("spread-tls-bad");
    let files = pki.write_server(&dir);
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = dir.join("missing.crt");
    let port = free_port();
    let conf = |cert: &Path, key: &Path, more: &str| {
        format!(
            "TlsAddress = 127.0.0.1:{port}\nTlsCertificateFile = {}\nTlsKeyFile = {}\n{more}",
            cert.display(),
            key.display()
        )
    };
    for (extra, want) in [
        (
            conf(&missing, &files.key, ""),
            format!(
                "spread.conf:6: TlsCertificateFile {}: No such file",
                missing.display()
            ),
        ),
        (
            conf(&garbage, &files.key, ""),
            format!(
                "spread.conf:6: TlsCertificateFile {}: holds no certificate",
                garbage.display()
            ),
        ),
        (
            conf(&files.cert, &garbage, ""),
            format!(
                "spread.conf:7: TlsKeyFile {}: no PEM private key",
                garbage.display()
            ),
        ),
        (
            conf(&files.cert, &files.cert, ""),
            format!(
                "spread.conf:7: TlsKeyFile {}: no PEM private key",
                files.cert.display()
            ),
        ),
        (
            conf(
                &files.cert,
                &files.key,
                &format!("TlsClientCAFile = {}\n", garbage.display()),
            ),
            format!(
                "spread.conf:8: TlsClientCAFile {}: holds no certificate",
                garbage.display()
            ),
        ),
        (
            format!("TlsCertificateFile = {}\n", files.cert.display()),
            "spread.conf:5: TlsCertificateFile needs TlsAddress".to_string(),
        ),
        (
            format!("TlsAddress = 127.0.0.1:{port}\n"),
            "spread.conf:5: TlsAddress needs TlsCertificateFile and TlsKeyFile".to_string(),
        ),
    ] {
        let err = TestDaemon::start_failing(&extra);
        assert!(err.contains(&want), "{extra}\nwanted {want}\ngot {err}");
    }
    // A key that is not the certificate's.
    let other_dir = TempDir::new("spread-tls-bad-other");
    let other = TestPki::new().write_server(&other_dir);
    let err = TestDaemon::start_failing(&conf(&files.cert, &other.key, ""));
    assert!(
        err.contains("TlsCertificateFile") && err.contains("TlsKeyFile"),
        "{err}"
    );
}

#[test]
fn a_reload_leaves_tls_as_it_is() {
    let pki = TestPki::new();
    let t = start(&pki, TempDir::new("spread-tls-reload"), "");
    let conf = t.d.dir.join("spread.conf");
    let text = std::fs::read_to_string(&conf).unwrap();
    // TLS options gone from the file: the running listener stays.
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("Tls"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&conf, without).unwrap();
    // SAFETY: kill with the pid of the daemon this test started.
    unsafe { libc::kill(t.d.pid() as i32, libc::SIGHUP) };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let want =
        "the TLS options (TlsAddress and its files) stay as they were until the daemon restarts";
    while !t.d.log_text().contains(want) {
        assert!(std::time::Instant::now() < deadline, "{}", t.d.log_text());
        std::thread::sleep(Duration::from_millis(20));
    }
    let m =
        Mailbox::connect_with(&t.tls_name, &opts("after", Some(trusting(&t.files.ca)))).unwrap();
    m.join("g").unwrap();
    view(&m, "g", 1);
}
