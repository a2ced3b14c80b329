//! Rings of real daemons with real clients on each daemon, the clients'
//! logs checked against EVS; shared by the ring tests.
#![allow(dead_code)]

pub mod hosts;
pub mod traffic;

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_daemon::sim::checker::{check, ClientLog, Event, MsgId};
use spread_testkit::TestRing;
use std::time::{Duration, Instant};

const SERVICES: [u32; 4] = [AGREED_MESS, SAFE_MESS, FIFO_MESS, CAUSAL_MESS];

/// A client `name` of `daemon`, member of `g`, with an empty log.
pub fn member_of_g(daemon: &str, name: &str) -> (Mailbox, ClientLog) {
    let m = Mailbox::connect(daemon, Some(name), 0, true)
        .unwrap_or_else(|e| panic!("{name} at {daemon}: {e}"));
    let log = ClientLog {
        name: m.private_group().to_string(),
        survived: true,
        ..ClientLog::default()
    };
    m.join("g").unwrap();
    (m, log)
}

/// Runs `ip` (iproute2) with `args`; it must succeed.
pub fn ip(args: &[&str]) {
    let out = std::process::Command::new("ip")
        .args(args)
        .output()
        .expect("the ip tool (iproute2)");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Tests that create network namespaces are `#[ignore]`d with the reason
/// and run only when asked for; asked for without root, they say why they
/// cannot run instead of passing.
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    assert_eq!(
        uid, 0,
        "this test creates network namespaces: run it as root"
    );
}

/// One client: joins `g`, waits until all `n` are in, sends `count`
/// messages, then receives until it has everyone's.
pub fn client(daemon: String, name: String, n: usize, count: u64) -> ClientLog {
    let (m, mut log) = member_of_g(&daemon, &name);
    let me = log.name.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut full = false;
    let mut got = 0u64;
    let want = n as u64 * count;
    while got < want {
        assert!(
            Instant::now() < deadline,
            "{me} timed out with {got} of {want} messages; full view: {full}; events: {:?}",
            log.events
        );
        let Some(msg) = m.receive_timeout(Duration::from_millis(200)).unwrap() else {
            continue;
        };
        let event = Event::from_message(&msg).unwrap_or_else(|| panic!("{me}: unexpected {msg:?}"));
        if let (Message::Data(d), Event::Message { id, .. }) = (&msg, &event) {
            assert_eq!(id.sender, d.sender.to_string());
        }
        match &event {
            Event::View(v) if v.members.len() == n && !full => {
                full = true;
                for c in 0..count {
                    let service = SERVICES[(c % 4) as usize];
                    m.multicast(service, "g", 0, format!("{me}:{c}").as_bytes())
                        .unwrap();
                    log.sent.push((
                        MsgId {
                            sender: me.clone(),
                            counter: c,
                        },
                        "g".into(),
                    ));
                }
            }
            Event::Message { .. } => got += 1,
            _ => {}
        }
        log.events.push(event);
    }
    m.disconnect().unwrap();
    log
}

pub fn run(n: usize, count: u64, env: &[(&str, &str)]) {
    check_ring(&TestRing::start(n, "", env), n, count);
}

/// One client per daemon of `ring` (of `n` daemons), `count` messages each;
/// everyone gets everything and the logs keep EVS.
pub fn check_ring(ring: &TestRing, n: usize, count: u64) {
    let handles: Vec<_> = (1..=n)
        .map(|i| {
            let daemon = ring.tcp_name(i);
            std::thread::spawn(move || client(daemon, format!("c{i}"), n, count))
        })
        .collect();
    let logs: Vec<ClientLog> = handles
        .into_iter()
        .map(|h| h.join().expect("client"))
        .collect();
    check_clients(&logs, n, count);
}

/// The logs of [`client`]s, one on each of `n` daemons: everyone got
/// everything and the logs keep EVS.
pub fn check_clients(logs: &[ClientLog], n: usize, count: u64) {
    for l in logs {
        let delivered = l
            .events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
        assert_eq!(delivered as u64, n as u64 * count, "{}", l.name);
    }
    if let Err(v) = check(logs) {
        panic!("EVS violation: {v}");
    }
}
