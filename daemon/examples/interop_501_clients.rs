//! Clients on a ring that mixes this daemon and Spread 5.0.1 daemons
//! (started by `scripts/interop-501-ring.sh`, which names them in
//! `SPREAD_INTEROP_DAEMONS` as `port@host,...`): one client per daemon
//! joins a group, sends AGREED, SAFE, FIFO and CAUSAL messages once all
//! are in, and receives everyone's; every client gets every message and
//! the logs are checked against EVS (same views, same total order).
//! A program, not a test: it needs daemons someone else started, so the
//! test suite does not run it.

#[path = "../tests/scenarios/mod.rs"]
mod scenarios;

use spread_daemon::sim::checker::{check, ClientLog, Event};

fn main() {
    let Ok(daemons) = std::env::var("SPREAD_INTEROP_DAEMONS") else {
        eprintln!("SPREAD_INTEROP_DAEMONS: the daemons as port@host, comma-separated");
        std::process::exit(2);
    };
    let daemons: Vec<String> = daemons.split(',').map(str::to_string).collect();
    let count: u64 = std::env::var("SPREAD_INTEROP_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(200);
    let n = daemons.len();
    let handles: Vec<_> = daemons
        .iter()
        .enumerate()
        .map(|(i, daemon)| {
            let daemon = daemon.clone();
            std::thread::spawn(move || scenarios::client(daemon, format!("c{}", i + 1), n, count))
        })
        .collect();
    let logs: Vec<ClientLog> = handles
        .into_iter()
        .map(|h| h.join().expect("a client"))
        .collect();
    for (l, daemon) in logs.iter().zip(&daemons) {
        let delivered = l
            .events
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
        let views = l
            .events
            .iter()
            .filter(|e| matches!(e, Event::View(_)))
            .count();
        println!(
            "client {} at {daemon}: sent {}, delivered {delivered} messages, {views} memberships",
            l.name,
            l.sent.len()
        );
        assert_eq!(delivered as u64, n as u64 * count, "{}", l.name);
    }
    if let Err(v) = check(&logs) {
        panic!("EVS violation: {v}");
    }
    println!("EVS check: passed for {n} clients");
}
