//! splatency: message latency through Spread, one message in flight at a
//! time. Alone (`-s`), a client times its own messages coming back; with a
//! responder (`-r`, a client on another daemon that echoes), it times the
//! round trip between two daemons. Prints p50/p90/p99/max in microseconds.

use clap::Parser;
use spread_core::client::Mailbox;
use spread_core::wire::Message;
use spread_tools::flooder::parse_service;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// splatency: message latency through Spread, one message in flight at a time;
/// prints p50/p90/p99/max in microseconds.
#[derive(Parser, Debug)]
#[command(name = "splatency", version = spread_tools::cli::VERSION, args_override_self = true)]
struct Opts {
    /// The measuring client's daemon
    #[arg(short = 's', value_name = "daemon", default_value = "4803")]
    daemon: String,
    /// Run a responder on this daemon and time round trips to it
    #[arg(short = 'r', value_name = "responder_daemon")]
    responder: Option<String>,
    /// Messages
    #[arg(short = 'm', value_name = "count", default_value_t = 10_000, value_parser = at_least_one)]
    count: usize,
    /// Message size
    #[arg(short = 'b', value_name = "bytes", default_value_t = 100)]
    bytes: usize,
    /// agreed, safe, fifo, reliable, causal or unreliable
    #[arg(short = 't', value_name = "service", default_value = "agreed", value_parser = service)]
    service: u32,
    /// Pause between messages, so that each finds the ring idle (its token held)
    #[arg(short = 'g', value_name = "milliseconds", default_value_t = 0)]
    gap_ms: u64,
}

/// `-m`: a count, at least 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .map(|n| n.max(1))
        .map_err(|_| format!("{text:?} is not a valid number"))
}

/// `-t`: a service name, as spflooder takes it.
fn service(name: &str) -> Result<u32, String> {
    parse_service(name).ok_or(format!("unknown service {name:?}"))
}

/// Waits for the next data message (membership messages pass by).
fn next_data(m: &Mailbox) -> Result<Vec<u8>, String> {
    loop {
        match m.receive().map_err(|e| e.to_string())? {
            Message::Data(d) => return Ok(d.data),
            Message::Reject(r) => {
                return Err(format!("message rejected by the daemon: {:#x}", r.old_type))
            }
            _ => {}
        }
    }
}

fn wait_members(m: &Mailbox, group: &str, n: usize) -> Result<(), String> {
    loop {
        if let Message::Membership(v) = m.receive().map_err(|e| e.to_string())? {
            if v.group.to_string() == group && v.members.len() >= n {
                return Ok(());
            }
        }
    }
}

fn run(o: &Opts) -> Result<Vec<Duration>, String> {
    let me = Mailbox::connect(&o.daemon, Some("lat-a"), 0, true)
        .map_err(|e| format!("{}: {e}", o.daemon))?;
    me.join("lat-a").map_err(|e| e.to_string())?;
    wait_members(&me, "lat-a", 1)?;
    let target = match &o.responder {
        None => "lat-a",
        Some(d) => {
            let r = Mailbox::connect(d, Some("lat-b"), 0, true).map_err(|e| format!("{d}: {e}"))?;
            r.join("lat-b").map_err(|e| e.to_string())?;
            wait_members(&r, "lat-b", 1)?;
            let (count, service) = (o.count, o.service);
            std::thread::spawn(move || {
                for _ in 0..count {
                    let Ok(body) = next_data(&r) else { return };
                    if r.multicast(service, "lat-a", 1, &body).is_err() {
                        return;
                    }
                }
            });
            "lat-b"
        }
    };
    let body = vec![0x5au8; o.bytes];
    let mut samples = Vec::with_capacity(o.count);
    let mut last_report = Instant::now();
    for i in 0..o.count {
        if o.gap_ms > 0 {
            std::thread::sleep(Duration::from_millis(o.gap_ms));
        }
        let t = Instant::now();
        me.multicast(o.service, target, 0, &body)
            .map_err(|e| e.to_string())?;
        next_data(&me)?;
        samples.push(t.elapsed());
        if last_report.elapsed() > Duration::from_secs(1) {
            eprintln!("splatency: {i}/{} messages", o.count);
            last_report = Instant::now();
        }
    }
    me.disconnect().map_err(|e| e.to_string())?;
    Ok(samples)
}

fn main() -> ExitCode {
    let o = match Opts::try_parse() {
        Ok(o) => o,
        Err(e) => {
            // Help on stdout and 0; a usage error on stderr and 1.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match run(&o) {
        Ok(mut s) => {
            s.sort();
            let at = |q: f64| s[((s.len() as f64 * q) as usize).min(s.len() - 1)].as_micros();
            println!(
                "splatency: {} messages of {} bytes: p50 {} us, p90 {} us, p99 {} us, max {} us",
                s.len(),
                o.bytes,
                at(0.5),
                at(0.9),
                at(0.99),
                s.last().map_or(0, |d| d.as_micros())
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("splatency: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Opts;
    use clap::{CommandFactory, Parser};
    use spread_core::consts::{AGREED_MESS, SAFE_MESS};

    fn parse(args: &[&str]) -> Result<Opts, clap::Error> {
        Opts::try_parse_from(std::iter::once("splatency").chain(args.iter().copied()))
    }

    #[test]
    fn options_are_consistent() {
        Opts::command().debug_assert();
    }

    #[test]
    fn defaults_and_flags() {
        let o = parse(&[]).unwrap();
        assert_eq!(
            (o.daemon.as_str(), o.count, o.bytes, o.service),
            ("4803", 10_000, 100, AGREED_MESS)
        );
        assert!(o.responder.is_none());
        let o = parse(&[
            "-s",
            "4803@h1",
            "-r",
            "4803@h3",
            "-m",
            "0",
            "-b",
            "7",
            "-t",
            "SAFE_MESS",
        ])
        .unwrap();
        assert_eq!(o.daemon, "4803@h1");
        assert_eq!(o.responder.as_deref(), Some("4803@h3"));
        assert_eq!((o.count, o.bytes, o.service), (1, 7, SAFE_MESS));
        for bad in [&["-t", "bogus"][..], &["-m", "x"], &["--long"]] {
            assert!(parse(bad).unwrap_err().use_stderr(), "{bad:?}");
        }
    }
}
