//! Flush Spread over rings of real daemons: one Flush member per daemon,
//! sending all along while members join, leave, crash with their daemon,
//! and (as root) while a network partition splits and merges the ring.
//! Every member's log is checked for view synchrony: messages are delivered
//! in the view they were sent in; members that move together from a view to
//! the next delivered the same messages in it; a sender that survives into
//! the next view delivered its own messages in the view it sent them in;
//! a view caused by the network names, as its vs-set, the members of the
//! previous view that came with it.

mod scenarios;

use scenarios::hosts::Hosts;
use scenarios::require_root;
use spread_core::consts::*;
use spread_core::flush::{FlushMailbox, FlushMessage, FlushView};
use spread_testkit::TestRing;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const G: &str = "fg";
const T: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
enum Ev {
    View {
        id: String,
        members: Vec<String>,
        vs_set: Vec<String>,
        service: u32,
    },
    /// A message delivered: its sender, the view it says it was sent in,
    /// the sender's counter.
    Data {
        sender: String,
        sent_in: String,
        n: u64,
    },
    /// One of this member's own messages went out in view `view`.
    Sent { view: String, n: u64 },
}

/// A Flush member of `G` with a thread that receives, flushes on each
/// request (after sending a last message or two in the old view), and
/// sends a message every few milliseconds while the view allows it.
struct Member {
    name: String,
    fl: Arc<FlushMailbox>,
    log: Arc<Mutex<Vec<Ev>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Member {
    fn start(daemon: &str, name: &str) -> Member {
        let fl = Arc::new(
            FlushMailbox::connect(daemon, Some(name), 0)
                .unwrap_or_else(|e| panic!("{name} at {daemon}: {e}")),
        );
        let name = fl.private_group().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        fl.join(G).unwrap();
        let thread = {
            let (fl, log, stop) = (fl.clone(), log.clone(), stop.clone());
            Some(std::thread::spawn(move || run(&fl, &log, &stop)))
        };
        Member {
            name,
            fl,
            log,
            stop,
            thread,
        }
    }

    fn events(&self) -> Vec<Ev> {
        self.log.lock().unwrap().clone()
    }

    fn last_view(&self) -> Option<(Vec<String>, Vec<String>, u32)> {
        self.events().iter().rev().find_map(|e| match e {
            Ev::View {
                members,
                vs_set,
                service,
                ..
            } => Some((members.clone(), vs_set.clone(), *service)),
            _ => None,
        })
    }

    /// Waits until this member's view has exactly `members` (sorted names)
    /// and gives the view's vs-set and service type.
    fn wait_members(&self, members: &[&String]) -> (Vec<String>, u32) {
        let mut want: Vec<String> = members.iter().map(|s| s.to_string()).collect();
        want.sort();
        let deadline = Instant::now() + T;
        loop {
            if let Some((mut m, vs, service)) = self.last_view() {
                m.sort();
                if m == want {
                    return (vs, service);
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no view of {want:?}; events: {:?}",
                self.name,
                self.events()
                    .iter()
                    .filter(|e| matches!(e, Ev::View { .. }))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until this member has delivered `n` more messages than now.
    fn wait_traffic(&self, n: usize) {
        let count = |m: &Member| {
            m.events()
                .iter()
                .filter(|e| matches!(e, Ev::Data { .. }))
                .count()
        };
        let want = count(self) + n;
        let deadline = Instant::now() + T;
        while count(self) < want {
            assert!(Instant::now() < deadline, "{}: traffic stopped", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the thread and gives the log.
    fn finish(mut self) -> (String, Vec<Ev>) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().expect("member thread");
        (self.name.clone(), self.events())
    }
}

fn view_event(v: &FlushView) -> Ev {
    Ev::View {
        id: v.group_id.to_string(),
        members: v.members.iter().map(|m| m.to_string()).collect(),
        vs_set: v.vs_set.iter().map(|m| m.to_string()).collect(),
        service: v.service_type,
    }
}

fn run(fl: &FlushMailbox, log: &Mutex<Vec<Ev>>, stop: &AtomicBool) {
    let mut view: Option<String> = None;
    let mut flushed = false;
    let mut n = 0u64;
    let mut send = |view: &str, log: &Mutex<Vec<Ev>>| {
        let payload = format!("{view}|{n}");
        let service = [AGREED_MESS, FIFO_MESS, SAFE_MESS, CAUSAL_MESS][(n % 4) as usize];
        match fl.multicast(service, G, 0, payload.as_bytes()) {
            Ok(_) => {
                log.lock().unwrap().push(Ev::Sent {
                    view: view.to_string(),
                    n,
                });
                n += 1;
                true
            }
            Err(_) => false,
        }
    };
    let mut last_send = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        // A message every 5 ms while the view allows it, however busy.
        if let (Some(v), false) = (&view, flushed) {
            if last_send.elapsed() >= Duration::from_millis(5) {
                last_send = Instant::now();
                if !send(v, log) {
                    return;
                }
            }
        }
        let got = match fl.receive_timeout(Duration::from_millis(5)) {
            Ok(got) => got,
            // The daemon died or we left: the log so far is the record.
            Err(_) => return,
        };
        let Some(got) = got else { continue };
        match got.message {
            FlushMessage::FlushRequest { group } => {
                // Still the old view: what goes out now must be delivered
                // in it, to everyone who comes along.
                if let Some(v) = &view {
                    send(v, log);
                }
                if fl.flush(&group.to_string()).is_err() {
                    return;
                }
                flushed = true;
            }
            FlushMessage::View(v) => {
                view = Some(v.group_id.to_string());
                flushed = false;
                log.lock().unwrap().push(view_event(&v));
            }
            FlushMessage::Data(d) => {
                let text = String::from_utf8(d.data).unwrap();
                let (sent_in, n) = text.split_once('|').unwrap();
                log.lock().unwrap().push(Ev::Data {
                    sender: d.sender.to_string(),
                    sent_in: sent_in.to_string(),
                    n: n.parse().unwrap(),
                });
            }
            FlushMessage::SelfLeave { .. } => return,
            FlushMessage::Transition { .. } => {}
            FlushMessage::Reject(r) => panic!("rejected: {r:?}"),
        }
    }
}

type Delivered = BTreeSet<(String, u64)>;

/// One member's history: each view it installed, with the messages it
/// delivered in it.
fn views_of(name: &str, log: &[Ev]) -> Vec<(String, Delivered)> {
    let mut out: Vec<(String, Delivered)> = Vec::new();
    for e in log {
        match e {
            Ev::View { id, .. } => out.push((id.clone(), BTreeSet::new())),
            Ev::Data { sender, sent_in, n } => {
                let (id, set) = out
                    .last_mut()
                    .unwrap_or_else(|| panic!("{name}: a message before any view"));
                assert_eq!(
                    sent_in, id,
                    "{name}: {sender}'s message {n} sent in view {sent_in} delivered in view {id}"
                );
                set.insert((sender.clone(), *n));
            }
            Ev::Sent { .. } => {}
        }
    }
    out
}

/// View synchrony over every member's log; returns the messages delivered.
fn check(logs: &[(String, Vec<Ev>)]) -> usize {
    let histories: HashMap<&str, Vec<(String, Delivered)>> = logs
        .iter()
        .map(|(name, log)| (name.as_str(), views_of(name, log)))
        .collect();
    // Members that move from a view to the same next view delivered the
    // same messages in the first.
    let mut moved: HashMap<(String, String), (&str, &Delivered)> = HashMap::new();
    for (name, h) in &histories {
        for w in h.windows(2) {
            let key = (w[0].0.clone(), w[1].0.clone());
            if let Some((other, set)) = moved.get(&key) {
                assert_eq!(
                    *set, &w[0].1,
                    "{other} and {name} moved together from view {} to {} having delivered different messages",
                    key.0, key.1
                );
            } else {
                moved.insert(key, (name, &w[0].1));
            }
        }
    }
    // A sender that installed a next view delivered its own messages in
    // the view it sent them in.
    for (name, log) in logs {
        let h = &histories[name.as_str()];
        for e in log {
            if let Ev::Sent { view, n } = e {
                let at = h.iter().position(|(id, _)| id == view).unwrap();
                if at + 1 < h.len() {
                    assert!(
                        h[at].1.contains(&(name.clone(), *n)),
                        "{name} sent {n} in view {view}, went on to the next view, and never delivered it"
                    );
                }
            }
        }
    }
    histories
        .values()
        .flat_map(|h| h.iter().map(|(_, s)| s.len()))
        .sum()
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

#[test]
fn members_on_three_daemons_join_leave_and_lose_a_daemon_in_view_synchrony() {
    let mut ring = TestRing::start(3, "", &[]);
    let a = Member::start(&ring.tcp_name(1), "fa");
    a.wait_members(&[&a.name]);
    let b = Member::start(&ring.tcp_name(2), "fb");
    let c = Member::start(&ring.tcp_name(3), "fc");
    let all = [&a.name, &b.name, &c.name];
    for m in [&a, &b, &c] {
        m.wait_members(&all);
    }
    for m in [&a, &b, &c] {
        m.wait_traffic(30);
    }
    // A fourth member joins and leaves again while the others send.
    let d = Member::start(&ring.tcp_name(1), "fd");
    let four = [&a.name, &b.name, &c.name, &d.name];
    for m in [&a, &b, &c, &d] {
        m.wait_members(&four);
    }
    d.wait_traffic(20);
    d.fl.leave(G).unwrap();
    for m in [&a, &b, &c] {
        let (vs, service) = m.wait_members(&all);
        assert_ne!(service & CAUSED_BY_LEAVE, 0, "{}: {service:#x}", m.name);
        assert_eq!(
            vs,
            vec![d.name.clone()],
            "{}: the vs-set of a leave",
            m.name
        );
        m.wait_traffic(20);
    }
    // Daemon 3 dies with c: a and b go on in a view caused by the network
    // whose vs-set is the two of them.
    ring.kill9(3);
    for m in [&a, &b] {
        let (vs, service) = m.wait_members(&[&a.name, &b.name]);
        assert_ne!(service & CAUSED_BY_NETWORK, 0, "{}: {service:#x}", m.name);
        assert_eq!(sorted(&vs), sorted(&[a.name.clone(), b.name.clone()]));
        m.wait_traffic(20);
    }
    let logs: Vec<_> = [a, b, c, d].into_iter().map(Member::finish).collect();
    let delivered = check(&logs);
    assert!(delivered > 200, "only {delivered} deliveries");
    eprintln!("FIGURE flush ring (join, leave, daemon crash): {delivered} deliveries checked");
}

#[test]
#[ignore = "needs root to create network namespaces (scripts/test.sh runs it as root)"]
fn a_partition_splits_flush_views_and_the_merge_joins_them_in_view_synchrony() {
    require_root();
    const PORT: u16 = 4803;
    let mut conf = format!("Spread_Segment 10.78.0.255:{PORT} {{\n");
    for i in 1..=3 {
        conf += &format!("\td{i} 10.78.0.{i}\n");
    }
    conf += "}\n";
    let hosts = Hosts::start(
        "spfl",
        3,
        PORT,
        &conf,
        |i| vec![format!("10.78.0.{i}/24")],
        &[],
    );
    let m: Vec<Member> = (1..=3)
        .map(|i| Member::start(&hosts.socket(i), &format!("f{i}")))
        .collect();
    let names: Vec<&String> = m.iter().map(|x| &x.name).collect();
    for x in &m {
        x.wait_members(&names);
        x.wait_traffic(30);
    }
    hosts.link(1, false);
    let (vs, service) = m[0].wait_members(&names[..1]);
    assert_ne!(service & CAUSED_BY_NETWORK, 0);
    assert_eq!(vs, vec![m[0].name.clone()]);
    for x in &m[1..] {
        let (vs, service) = x.wait_members(&names[1..]);
        assert_ne!(service & CAUSED_BY_NETWORK, 0);
        assert_eq!(sorted(&vs), sorted(&[m[1].name.clone(), m[2].name.clone()]));
    }
    for x in &m {
        x.wait_traffic(20);
    }
    hosts.link(1, true);
    for (i, x) in m.iter().enumerate() {
        let (vs, service) = x.wait_members(&names);
        assert_ne!(service & CAUSED_BY_NETWORK, 0);
        let side: Vec<String> = if i == 0 {
            vec![m[0].name.clone()]
        } else {
            sorted(&[m[1].name.clone(), m[2].name.clone()])
        };
        assert_eq!(sorted(&vs), side, "{}: the vs-set of a merge", x.name);
    }
    for x in &m {
        x.wait_traffic(20);
    }
    let logs: Vec<_> = m.into_iter().map(Member::finish).collect();
    let delivered = check(&logs);
    eprintln!("FIGURE flush partition and merge: {delivered} deliveries checked");
}

/// The checker itself: each of these histories breaks view synchrony.
mod checker {
    use super::*;

    fn view(id: &str) -> Ev {
        Ev::View {
            id: id.into(),
            members: vec![],
            vs_set: vec![],
            service: REG_MEMB_MESS,
        }
    }

    fn data(sender: &str, sent_in: &str, n: u64) -> Ev {
        Ev::Data {
            sender: sender.into(),
            sent_in: sent_in.into(),
            n,
        }
    }

    #[test]
    fn a_synchronous_history_passes() {
        let a = vec![view("1"), data("a", "1", 0), view("2")];
        let b = vec![view("1"), data("a", "1", 0), view("2")];
        assert_eq!(check(&[("a".into(), a), ("b".into(), b)]), 2);
    }

    #[test]
    #[should_panic(expected = "delivered in view 2")]
    fn a_message_delivered_in_a_later_view_fails() {
        let a = vec![view("1"), view("2"), data("b", "1", 0)];
        check(&[("a".into(), a)]);
    }

    #[test]
    #[should_panic(expected = "moved together")]
    fn members_moving_together_with_different_messages_fail() {
        let a = vec![view("1"), data("c", "1", 0), view("2")];
        let b = vec![view("1"), view("2")];
        check(&[("a".into(), a), ("b".into(), b)]);
    }

    #[test]
    #[should_panic(expected = "never delivered it")]
    fn a_sender_missing_its_own_message_fails() {
        let a = vec![
            view("1"),
            Ev::Sent {
                view: "1".into(),
                n: 0,
            },
            view("2"),
        ];
        check(&[("a".into(), a)]);
    }
}
