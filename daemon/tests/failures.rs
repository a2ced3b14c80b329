//! Real daemons failing under traffic: kill -9 and restart (with 5.0.1's
//! timeouts and with the faster profile), two changes in quick succession. Clients on every daemon send
//! all along; each run ends with the EVS checker over all client logs. The
//! times from the failure to what clients see are printed (README figures).

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_daemon::sim::checker::{check, ClientLog, Event, MsgId, View};
use spread_testkit::TestRing;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A client sending to `g` every few milliseconds (AGREED and SAFE in
/// turn) while it runs, logging what it sees; its views are also shared,
/// time-stamped, for the test to wait on.
struct Traffic {
    stop: Arc<AtomicBool>,
    views: Arc<Mutex<Vec<(Instant, View)>>>,
    handle: JoinHandle<ClientLog>,
}

impl Traffic {
    fn start(daemon: String, name: &str) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let views = Arc::new(Mutex::new(Vec::new()));
        let (s, v, name) = (stop.clone(), views.clone(), name.to_string());
        let handle = std::thread::spawn(move || run_client(&daemon, &name, &s, &v));
        Traffic {
            stop,
            views,
            handle,
        }
    }

    /// When this client first saw a view of `g` for which `pred` holds,
    /// waiting up to `t`.
    fn wait_view(&self, t: Duration, pred: impl Fn(&View) -> bool) -> Instant {
        let deadline = Instant::now() + t;
        loop {
            if let Some((at, _)) = self.views.lock().unwrap().iter().find(|(_, v)| pred(v)) {
                return *at;
            }
            assert!(
                Instant::now() < deadline,
                "no such view in {t:?}; views: {:?}",
                self.views.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Stops every client's sending, then collects the logs once each has
/// been quiet for a while.
fn finish(clients: Vec<Traffic>) -> Vec<ClientLog> {
    for c in &clients {
        c.stop.store(true, Ordering::SeqCst);
    }
    clients
        .into_iter()
        .map(|c| c.handle.join().expect("client thread"))
        .collect()
}

fn run_client(
    daemon: &str,
    name: &str,
    stop: &AtomicBool,
    views: &Mutex<Vec<(Instant, View)>>,
) -> ClientLog {
    let m = Mailbox::connect(daemon, Some(name), 0, true)
        .unwrap_or_else(|e| panic!("{name} at {daemon}: {e}"));
    let me = m.private_group().to_string();
    let mut log = ClientLog {
        name: me.clone(),
        survived: true,
        ..ClientLog::default()
    };
    m.join("g").unwrap();
    let mut counter = 0u64;
    let mut next_send = Instant::now();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if !stopping && !views.lock().unwrap().is_empty() && Instant::now() >= next_send {
            let service = if counter.is_multiple_of(2) {
                AGREED_MESS
            } else {
                SAFE_MESS
            };
            let body = format!("{me}:{counter}");
            if m.multicast(service, "g", 0, body.as_bytes()).is_err() {
                log.survived = false;
                return log;
            }
            log.sent.push((
                MsgId {
                    sender: me.clone(),
                    counter,
                },
                "g".into(),
            ));
            counter += 1;
            next_send = Instant::now() + Duration::from_millis(4);
        }
        let msg = match m.receive_timeout(Duration::from_millis(2)) {
            Ok(Some(msg)) => msg,
            Ok(None) => {
                if stopping {
                    let since = *quiet_since.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_millis(1500) {
                        break;
                    }
                }
                continue;
            }
            Err(_) => {
                // Its daemon died.
                log.survived = false;
                return log;
            }
        };
        quiet_since = None;
        let event = Event::from_message(&msg).unwrap_or_else(|| panic!("{me}: unexpected {msg:?}"));
        if let Event::View(v) = &event {
            views.lock().unwrap().push((Instant::now(), v.clone()));
        }
        log.events.push(event);
    }
    let _ = m.disconnect();
    log
}

fn check_logs(logs: &[ClientLog]) {
    if let Err(v) = check(logs) {
        panic!("EVS violation: {v}");
    }
    for l in logs.iter().filter(|l| l.survived) {
        let got = l
            .events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
        assert!(got > 0, "{} delivered nothing", l.name);
    }
}

fn members(v: &View) -> Vec<&str> {
    v.members.iter().map(String::as_str).collect()
}

fn is_network(v: &View) -> bool {
    v.cause & CAUSED_BY_NETWORK != 0
}

const T: Duration = Duration::from_secs(20);

/// The faster profile of the README: a crash is acted on in under 0.5 s.
const FAST: &str = "TokenTimeout = 200\nHurryTimeout = 80\nAliveTimeout = 40\nJoinTimeout = 40\nRepTimeout = 120\nSegTimeout = 80\nGatherTimeout = 150\nFormTimeout = 200\nLookupTimeout = 5000\n";

#[test]
fn kill9_mid_traffic_then_restart() {
    kill9_then_restart("", "default timeouts");
}

#[test]
fn kill9_with_the_fast_profile() {
    kill9_then_restart(FAST, "fast profile");
}

fn kill9_then_restart(extra: &str, profile: &str) {
    let mut ring = TestRing::start(3, extra, &[]);
    let c: Vec<Traffic> = (1..=3)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("c{i}")))
        .collect();
    for t in &c {
        t.wait_view(T, |v| v.members.len() == 3);
    }
    std::thread::sleep(Duration::from_millis(1500));
    // Under traffic, nothing changed before the crash.
    for t in &c {
        let views = t.views.lock().unwrap();
        assert!(
            views.iter().all(|(_, v)| !is_network(v)),
            "a membership change without a failure: {views:?}"
        );
    }
    let killed = Instant::now();
    ring.kill9(3);
    let mut seen = Vec::new();
    for t in &c[..2] {
        seen.push(t.wait_view(T, |v| is_network(v) && members(v) == ["#c1#d1", "#c2#d2"]));
    }
    let detect = seen.iter().max().unwrap().duration_since(killed);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    ring.restart(3);
    let c4 = Traffic::start(ring.tcp_name(3), "c4");
    let mut seen = Vec::new();
    for t in c[..2].iter().chain([&c4]) {
        seen.push(t.wait_view(T, |v| {
            v.members.len() == 3 && v.members.contains(&"#c4#d3".into())
        }));
    }
    let rejoin = seen.iter().max().unwrap().duration_since(started);
    std::thread::sleep(Duration::from_millis(800));
    let logs = finish(c.into_iter().chain([c4]).collect());
    assert!(!logs[2].survived, "c3's daemon was killed");
    check_logs(&logs);
    eprintln!(
        "FIGURE {profile}: kill -9 -> survivors' network view: {} ms; restart -> a client of the restarted daemon in everyone's view: {} ms",
        detect.as_millis(),
        rejoin.as_millis()
    );
}

#[test]
fn two_changes_in_quick_succession() {
    let mut ring = TestRing::start(5, "", &[]);
    let c: Vec<Traffic> = (1..=5)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("c{i}")))
        .collect();
    for t in &c {
        t.wait_view(T, |v| v.members.len() == 5);
    }
    std::thread::sleep(Duration::from_millis(500));
    // The second failure lands while the survivors gather for the first.
    ring.kill9(5);
    std::thread::sleep(Duration::from_millis(1500));
    ring.kill9(4);
    for t in &c[..3] {
        t.wait_view(T, |v| is_network(v) && v.members.len() == 3);
    }
    // Both come back at once.
    ring.restart(4);
    ring.restart(5);
    let back: Vec<Traffic> = (4..=5)
        .map(|i| Traffic::start(ring.tcp_name(i), &format!("r{i}")))
        .collect();
    for t in c[..3].iter().chain(&back) {
        t.wait_view(T, |v| v.members.len() == 5);
    }
    std::thread::sleep(Duration::from_millis(500));
    let logs = finish(c.into_iter().chain(back).collect());
    check_logs(&logs);
}
