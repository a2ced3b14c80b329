//! Clients that send all along while daemons fail, logging what they see
//! for the EVS checker, with their views time-stamped for the tests.

use spread_core::consts::*;
use spread_daemon::sim::checker::{check, ClientLog, Event, MsgId, View};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A client sending to `g` every few milliseconds (AGREED and SAFE in
/// turn) while it runs, logging what it sees; its views are also shared,
/// time-stamped, for the test to wait on.
pub struct Traffic {
    stop: Arc<AtomicBool>,
    views: Arc<Mutex<Vec<(Instant, View)>>>,
    handle: JoinHandle<ClientLog>,
}

impl Traffic {
    pub fn start(daemon: String, name: &str) -> Traffic {
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
    /// The views seen so far.
    pub fn views(&self) -> Vec<View> {
        self.views
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn wait_view(&self, t: Duration, pred: impl Fn(&View) -> bool) -> Instant {
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
pub fn finish(clients: Vec<Traffic>) -> Vec<ClientLog> {
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
    let (m, mut log) = super::member_of_g(daemon, name);
    let me = log.name.clone();
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

pub fn check_logs(logs: &[ClientLog]) {
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

pub fn members(v: &View) -> Vec<&str> {
    v.members.iter().map(String::as_str).collect()
}

pub fn is_network(v: &View) -> bool {
    v.cause & CAUSED_BY_NETWORK != 0
}
