//! Sealed rings (`RingKeyFile`): real daemons on loopback whose datagrams
//! are encrypted and authenticated; what is plain, forged, replayed or
//! sealed under another key is dropped and counted; a daemon without the
//! key, or with another, stays out of the ring and the logs say why; a key
//! is rotated with reloads and no restart; bad key files stop the daemon
//! with the file's name.

use spread_core::client::Mailbox;
use spread_core::consts::AGREED_MESS;
use spread_core::wire::Message;
use spread_testkit::{free_port, scrape, TempDir, TestDaemon, TestRing};
use std::collections::HashMap;
use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What no datagram on the wire may contain.
const SECRET_TEXT: &[u8] = b"attack at dawn, bring the big ladder";

fn write_key(dir: &Path, name: &str, byte: u8) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, [byte; 32]).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    give_to_daemon_user(&path);
    path
}

/// Started as root, test daemons run as the default DaemonUser after
/// start, and a reload reads the key files as that user.
fn give_to_daemon_user(path: &Path) {
    // SAFETY: geteuid cannot fail; getpwnam gets a NUL-terminated name and
    // its result is checked before use; chown gets a NUL-terminated path.
    unsafe {
        if libc::geteuid() != 0 {
            return;
        }
        let pw = libc::getpwnam(c"spread".as_ptr());
        assert!(
            !pw.is_null(),
            "running as root, the tests need the user spread"
        );
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(libc::chown(c.as_ptr(), (*pw).pw_uid, (*pw).pw_gid), 0);
    }
}

/// A ring of `n` whose daemons seal with `key` and serve metrics on their
/// own address.
fn sealed_ring(n: usize, key: &Path, metrics_port: u16) -> TestRing {
    let extra = format!(
        "RingKeyFile = {}\nMetricsAddress = {{ip}}:{metrics_port}",
        key.display()
    );
    TestRing::start(n, &extra, &[])
}

fn metrics(ring: &TestRing, i: usize, port: u16) -> HashMap<String, u64> {
    scrape(&format!("{}:{port}", ring.ip(i)))
}

fn dropped(m: &HashMap<String, u64>, reason: &str) -> u64 {
    m.get(&format!("spread_dropped_total{{reason=\"{reason}\"}}"))
        .copied()
        .unwrap_or_else(|| panic!("no drop reason {reason} in {m:?}"))
}

/// Scrapes daemon `i` until `ok` holds (60 s at most: a merge may wait
/// for the leader's next lookup, 30 s as in 5.0.1), and returns the last
/// scrape.
fn until(
    ring: &TestRing,
    i: usize,
    port: u16,
    ok: impl Fn(&HashMap<String, u64>) -> bool,
) -> HashMap<String, u64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = metrics(ring, i, port);
        if ok(&m) || Instant::now() > deadline {
            return m;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn ring_size(m: &HashMap<String, u64>) -> u64 {
    m["spread_membership_size"]
}

/// A client on each of `daemons` joins `group`; once every view has them
/// all, each sends one AGREED message and every client must receive all
/// of them in one order.
fn exchange(ring: &TestRing, daemons: &[usize], group: &str, body: &[u8]) {
    let clients: Vec<Mailbox> = daemons
        .iter()
        .map(|&i| {
            let m = Mailbox::connect(&ring.tcp_name(i), Some(&format!("c{i}")), 0, true).unwrap();
            m.join(group).unwrap();
            m
        })
        .collect();
    for m in &clients {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(
                Instant::now() < deadline,
                "no view of {} members",
                daemons.len()
            );
            match m.receive_timeout(Duration::from_secs(30)).unwrap() {
                Some(Message::Membership(v)) if v.members.len() == daemons.len() => break,
                _ => {}
            }
        }
    }
    for m in &clients {
        m.multicast(AGREED_MESS, group, 1, body).unwrap();
    }
    let mut orders = Vec::new();
    for m in &clients {
        let mut senders = Vec::new();
        while senders.len() < daemons.len() {
            match m.receive_timeout(Duration::from_secs(30)).unwrap() {
                Some(Message::Data(d)) => {
                    assert_eq!(d.data, body);
                    senders.push(d.sender.to_string());
                }
                Some(_) => {}
                None => panic!(
                    "{} of {} messages within 30 s",
                    senders.len(),
                    daemons.len()
                ),
            }
        }
        orders.push(senders);
    }
    assert!(orders.windows(2).all(|w| w[0] == w[1]), "{orders:?}");
}

/// Three daemons with one key carry messages; a fourth configured
/// address, taken by the test, receives what the ring sends to every
/// configured daemon: sealed datagrams, none of which holds the message.
/// Sent back to a daemon they are refused as replayed; plain, forged,
/// truncated and other-key datagrams are refused and counted by reason.
#[test]
fn a_sealed_ring_carries_messages_and_refuses_the_rest() {
    let keys = TempDir::new("spread-ring-keys-1");
    let key = write_key(&keys, "ring.key", 0x11);
    let port = free_port();
    let ring = sealed_ring(3, &key, port);
    let log = ring.log(1);
    assert!(log.contains("sealed with ring key"), "{log}");
    // The test listens where a fourth daemon would, and the three are told
    // of it: they send it every broadcast from then on.
    let d4 = ring.ip(4);
    let listener = UdpSocket::bind((d4.as_str(), ring.port)).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    for i in 1..=3 {
        ring.write_conf(i, &[1, 2, 3, 4]);
        ring.hangup(i);
    }
    let m = until(&ring, 1, port, |m| {
        ring_size(m) == 3 && m["spread_membership_changes_total"] >= 2
    });
    assert_eq!(ring_size(&m), 3);
    exchange(&ring, &[1, 2, 3], "g", SECRET_TEXT);
    // A large message, cut into full packets: sealed, each is still no
    // longer than 5.0.1's largest datagram (no IP fragments on a LAN).
    exchange(&ring, &[1, 2, 3], "big", &SECRET_TEXT.repeat(600));

    let mut captured = Vec::new();
    let mut buf = [0u8; 65536];
    while let Ok((n, from)) = listener.recv_from(&mut buf) {
        captured.push((from, buf[..n].to_vec()));
    }
    assert!(
        !captured.is_empty(),
        "the ring sends to every configured daemon"
    );
    for (from, d) in &captured {
        assert_eq!(&d[..3], b"SK\x01", "from {from}: not sealed");
        assert!(
            !d.windows(SECRET_TEXT.len()).any(|w| w == SECRET_TEXT),
            "the message is readable on the wire"
        );
    }

    // What the ring sent d4 comes back to d2 from a socket of the test.
    let before = metrics(&ring, 2, port);
    let sender = UdpSocket::bind((ring.ip(5).as_str(), 0)).unwrap();
    let d2 = (ring.ip(2), ring.port);
    // Changed copies of a datagram of d1 or d3 (d2 drops its own unopened)
    // carry numbers not yet taken (a copy with a number taken is refused
    // as replayed before it is opened).
    let (_, sample) = captured
        .iter()
        .find(|(from, _)| from.ip().to_string() != ring.ip(2))
        .expect("datagrams of d1 or d3");
    let renumbered = |n: u64| {
        let mut d = sample.clone();
        d[24..32].copy_from_slice(&n.to_be_bytes());
        d
    };
    let mut flipped = renumbered(u64::MAX - 1);
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let truncated = renumbered(u64::MAX - 2);
    let mut other_key = sample.clone();
    other_key[4] ^= 0xff;
    let plain = b"\x02\x00\x00\x80 a datagram as 5.0.1 sends one, unsealed".to_vec();
    for d in [
        &flipped[..],
        &truncated[..truncated.len() - 20],
        &other_key[..],
        &plain[..],
    ] {
        sender.send_to(d, (d2.0.as_str(), d2.1)).unwrap();
    }
    // Twice each: what d2 had not seen (datagrams meant for d4 alone, and
    // its own) is taken the first time; every second copy is a replay.
    for (_, d) in captured.iter().chain(&captured) {
        sender.send_to(d, (d2.0.as_str(), d2.1)).unwrap();
        // Paced, so that d2's socket buffer loses none.
        std::thread::sleep(Duration::from_micros(300));
    }
    // d2's own come back to it unopened; each of the others' is replayed
    // at least once (the second copy), twice if d2 had it already.
    let others = captured
        .iter()
        .filter(|(from, _)| from.ip().to_string() != ring.ip(2))
        .count();
    let after = until(&ring, 2, port, |m| {
        dropped(m, "unsealed") > dropped(&before, "unsealed")
            && dropped(m, "forged_seal") >= dropped(&before, "forged_seal") + 2
            && dropped(m, "other_key") > dropped(&before, "other_key")
            && dropped(m, "replayed") >= dropped(&before, "replayed") + others as u64
    });
    let delta = |r: &str| dropped(&after, r) - dropped(&before, r);
    assert_eq!(delta("unsealed"), 1);
    assert_eq!(delta("forged_seal"), 2);
    assert_eq!(delta("other_key"), 1);
    let replays = delta("replayed") as usize;
    assert!(
        (others..=2 * others).contains(&replays),
        "{replays} replays of {others} datagrams"
    );
    assert_eq!(delta("stale_run"), 0);
    // Nothing of this disturbs the ring.
    assert_eq!(ring_size(&after), 3);
    exchange(&ring, &[1, 2, 3], "h", b"still one ring");
    let log = ring.log(2);
    assert!(log.contains("refused datagrams for their sealing"), "{log}");
}

/// A daemon restarted without the key, then with another key, does not
/// join the two that hold it; each side's log and metrics say why. With
/// the key again it joins.
#[test]
fn a_daemon_without_the_key_or_with_another_stays_out() {
    let keys = TempDir::new("spread-ring-keys-2");
    let key = write_key(&keys, "ring.key", 0x22);
    let other = write_key(&keys, "other.key", 0x33);
    let port = free_port();
    let mut ring = sealed_ring(3, &key, port);
    assert_eq!(ring_size(&until(&ring, 1, port, |m| ring_size(m) == 3)), 3);

    ring.terminate(3);
    set_keys(&ring, 3, "");
    ring.restart(3);
    // Traffic of the two: broadcasts reach every configured daemon.
    let m1 = until(&ring, 1, port, |m| ring_size(m) == 2);
    assert_eq!(ring_size(&m1), 2, "d1 and d2 only");
    exchange(&ring, &[1, 2], "g1", b"without d3");
    let m3 = until(&ring, 3, port, |m| dropped(m, "sealed_without_key") > 0);
    assert!(dropped(&m3, "sealed_without_key") > 0);
    let m1 = until(&ring, 1, port, |m| dropped(m, "unsealed") > 0);
    assert!(dropped(&m1, "unsealed") > 0);
    assert_eq!(ring_size(&m3), 1, "d3 alone");
    let log3 = wait_log(&ring, 3, "while this daemon has no RingKeyFile");
    // It names where they come from: d1 or d2.
    let subnet = ring.ip(1).rsplit_once('.').unwrap().0.to_string();
    assert!(log3.contains(&format!("the last from {subnet}.")), "{log3}");
    wait_log(&ring, 1, "not sealed (a daemon without RingKeyFile");

    ring.terminate(3);
    set_keys(&ring, 3, &format!("RingKeyFile = {}", other.display()));
    ring.restart(3);
    let m1 = until(&ring, 1, port, |m| dropped(m, "other_key") > 0);
    assert!(dropped(&m1, "other_key") > 0);
    exchange(&ring, &[1, 2], "g2", b"still without d3");
    wait_log(&ring, 3, "sealed under a key this daemon does not hold");
    assert_eq!(ring_size(&metrics(&ring, 3, port)), 1);

    ring.terminate(3);
    set_keys(&ring, 3, &format!("RingKeyFile = {}", key.display()));
    ring.restart(3);
    assert_eq!(ring_size(&until(&ring, 1, port, |m| ring_size(m) == 3)), 3);
    exchange(&ring, &[1, 2, 3], "g", b"together again");
}

/// Daemon `i`'s configuration with `lines` instead of its key lines.
fn set_keys(ring: &TestRing, i: usize, lines: &str) {
    let path = ring.dir.join(format!("d{i}")).join("spread.conf");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.contains("RingKeyFile"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(path, format!("{kept}{lines}\n")).unwrap();
}

fn wait_log(ring: &TestRing, i: usize, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let log = ring.log(i);
        if log.contains(text) {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "d{i}'s log lacks {text:?}: {log}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A key is rotated on a running ring with three reloads, no restart:
/// the new key accepted everywhere, then sealing with it (the old one
/// still accepted), then the old one dropped. Messages cross the ring
/// after each step, and at the end the old key opens nothing.
#[test]
fn a_key_is_rotated_without_a_restart() {
    let keys = TempDir::new("spread-ring-keys-3");
    let old = write_key(&keys, "old.key", 0x44);
    let new = write_key(&keys, "new.key", 0x55);
    let port = free_port();
    let ring = sealed_ring(2, &old, port);
    assert_eq!(ring_size(&until(&ring, 1, port, |m| ring_size(m) == 2)), 2);
    let pids = [ring.pid(1), ring.pid(2)];
    let steps = [
        format!(
            "RingKeyFile = {}\nAcceptRingKeyFile = {}",
            old.display(),
            new.display()
        ),
        format!(
            "RingKeyFile = {}\nAcceptRingKeyFile = {}",
            new.display(),
            old.display()
        ),
        format!("RingKeyFile = {}", new.display()),
    ];
    for (k, step) in steps.iter().enumerate() {
        let changes: Vec<u64> = (1..=2)
            .map(|i| metrics(&ring, i, port)["spread_membership_changes_total"])
            .collect();
        for i in 1..=2 {
            set_keys(&ring, i, step);
            ring.hangup(i);
        }
        for i in 1..=2 {
            let m = until(&ring, i, port, |m| {
                m["spread_membership_changes_total"] > changes[i - 1] && ring_size(m) == 2
            });
            assert_eq!(ring_size(&m), 2, "step {k}, d{i}");
        }
        exchange(
            &ring,
            &[1, 2],
            &format!("g{k}"),
            format!("step {k}").as_bytes(),
        );
    }
    assert_eq!([ring.pid(1), ring.pid(2)], pids, "no restart");
    let m = metrics(&ring, 1, port);
    assert_eq!(
        dropped(&m, "other_key"),
        0,
        "no datagram was lost to the rotation"
    );
    wait_log(&ring, 1, "sealing with ring key");
}

/// Key files that cannot be a ring key stop the daemon at start, with the
/// file's name and what is wrong.
#[test]
fn bad_key_files_stop_the_daemon_with_their_name() {
    let keys = TempDir::new("spread-ring-keys-4");
    let short = keys.join("short.key");
    std::fs::write(&short, [1u8; 31]).unwrap();
    std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
    let open = write_key(&keys, "open.key", 9);
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
    let good = write_key(&keys, "good.key", 8);
    let missing = &keys.join("missing.key");
    let cases = [
        (
            format!("RingKeyFile = {}", short.display()),
            format!(
                "{}: 31 bytes; a ring key is 32 random bytes",
                short.display()
            ),
        ),
        (
            format!("RingKeyFile = {}", open.display()),
            format!(
                "{}: mode 0644 lets others than its owner read it",
                open.display()
            ),
        ),
        (
            format!("RingKeyFile = {}", missing.display()),
            format!("ring key file {}: No such file", missing.display()),
        ),
        (
            format!(
                "RingKeyFile = {}\nAcceptRingKeyFile = {}",
                good.display(),
                short.display()
            ),
            format!("{}: 31 bytes", short.display()),
        ),
        (
            format!("AcceptRingKeyFile = {}", good.display()),
            "spread.conf:5: AcceptRingKeyFile without RingKeyFile".to_string(),
        ),
    ];
    for (extra, want) in cases {
        // It must stop at start (not serve, not exit with 0).
        let err = TestDaemon::start_failing(&extra);
        assert!(err.contains(&want), "{extra}: wanted {want:?} in {err}");
    }
}
