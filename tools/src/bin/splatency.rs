//! splatency: message latency through Spread, one message in flight at a
//! time. Alone (`-s`), a client times its own messages coming back; with a
//! responder (`-r`, a client on another daemon that echoes), it times the
//! round trip between two daemons. Prints p50/p90/p99/max in microseconds.

use spread_core::client::Mailbox;
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_tools::cli::ArgCursor;
use spread_tools::flooder::parse_service;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str =
    "Usage: splatency [-s daemon] [-r responder_daemon] [-m count] [-b bytes] [-t service]
  -s daemon   the measuring client's daemon (default 4803)
  -r daemon   run a responder on this daemon and time round trips to it
  -m count    messages (default 10000)
  -b bytes    message size (default 100)
  -t service  agreed (default), safe, fifo, reliable, ...";

struct Opts {
    daemon: String,
    responder: Option<String>,
    count: usize,
    bytes: usize,
    service: u32,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        daemon: "4803".into(),
        responder: None,
        count: 10_000,
        bytes: 100,
        service: AGREED_MESS,
    };
    let mut c = ArgCursor::new(std::env::args().skip(1));
    while let Some(a) = c.next_arg() {
        match a.as_str() {
            "-s" => o.daemon = c.value("-s").map_err(|e| e.0)?,
            "-r" => o.responder = Some(c.value("-r").map_err(|e| e.0)?),
            "-m" => o.count = c.number::<usize>("-m").map_err(|e| e.0)?.max(1),
            "-b" => o.bytes = c.number("-b").map_err(|e| e.0)?,
            "-t" => {
                let name = c.value("-t").map_err(|e| e.0)?;
                o.service = parse_service(&name).ok_or(format!("-t: unknown service {name:?}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
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
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("splatency: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 1 });
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
