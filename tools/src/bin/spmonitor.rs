//! spmonitor: asks daemons for their status, as Spread's spmonitor does
//! (STATUS packets to each daemon's data port, from the address of a
//! configured daemon whose identity the monitor takes).
//!
//! Partitions and flow-control changes (DangerousMonitor) come with
//! membership changes; this monitor reports status only.

use spread_daemon::config::Config;
use spread_daemon::packet::{DataHeader, MonitorBody, MonitorPacket, Status, STATUS_TYPE};
use spread_tools::cli::ArgCursor;
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "Usage: spmonitor [-c conf] [-n name] [-p port] [-d daemon]... [-t seconds]
  -c conf     spread.conf (default ./spread.conf, then /etc/spread.conf, then the embedded default)
  -n name     the configured daemon whose identity and address the monitor uses
              (default: the daemon whose address is one of this host's)
  -p port     the monitor's UDP port (default 6543; 0 = any free port)
  -d daemon   ask only this daemon (repeatable; default: all)
  -t seconds  ask again every this many seconds (default: once)";

struct Opts {
    config: Option<PathBuf>,
    name: Option<String>,
    port: u16,
    only: Vec<String>,
    every: Option<u64>,
}

fn parse() -> Result<Opts, String> {
    let mut o = Opts {
        config: None,
        name: None,
        port: 6543,
        only: Vec::new(),
        every: None,
    };
    let mut c = ArgCursor::new(std::env::args().skip(1));
    while let Some(a) = c.next_arg() {
        match a.as_str() {
            "-c" => o.config = Some(PathBuf::from(c.value("-c").map_err(|e| e.0)?)),
            "-n" => o.name = Some(c.value("-n").map_err(|e| e.0)?),
            "-p" => o.port = c.number("-p").map_err(|e| e.0)?,
            "-d" => o.only.push(c.value("-d").map_err(|e| e.0)?),
            "-t" => o.every = Some(c.number::<u64>("-t").map_err(|e| e.0)?.max(1)),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn load(explicit: Option<&Path>) -> Result<Config, String> {
    if let Some(p) = explicit {
        return Config::load(p).map_err(|e| e.to_string());
    }
    for candidate in ["./spread.conf", "/etc/spread.conf"] {
        if Path::new(candidate).exists() {
            return Config::load(Path::new(candidate)).map_err(|e| e.to_string());
        }
    }
    Ok(Config::embedded_default())
}

fn state_name(state: i32) -> &'static str {
    ["?", "OP", "SEG", "REPRESENTED", "GATHER", "FORM", "EVS"]
        .get(state as usize)
        .copied()
        .unwrap_or("?")
}

fn print_status(name: &str, s: &Status) {
    println!(
        "{name} (id {}): up {} s, state {}, leader {}, {} sessions, {} groups",
        s.my_id,
        s.sec,
        state_name(s.state),
        s.leader_id,
        s.num_sessions,
        s.num_groups
    );
    println!(
        "  seq: highest {} aru {} my_aru {}; packets sent {} received {} delivered {}; retransmitted {}; token rounds {} hurries {}",
        s.highest_seq, s.aru, s.my_aru, s.packet_sent, s.packet_recv, s.packet_delivered, s.retrans, s.token_rounds, s.token_hurry
    );
    let accel = if s.accelerated_ring != 0 {
        format!("accelerated ring (window {})", s.accelerated_window)
    } else {
        "original ring".into()
    };
    println!(
        "  {} daemons in {} segments; Window {} PersonalWindow {}; {accel}; messages delivered {}; version {}.{}.{}",
        s.num_procs, s.num_segments, s.window, s.personal_window, s.message_delivered, s.major_version, s.minor_version, s.patch_version
    );
}

fn run(o: &Opts) -> Result<bool, String> {
    let config = load(o.config.as_deref())?;
    let (seg, idx) = config
        .find_me(o.name.as_deref())
        .map_err(|e| e.to_string())?;
    let me = &config.segments[seg].daemons[idx];
    let socket = UdpSocket::bind(SocketAddr::new(me.addr, o.port))
        .map_err(|e| format!("UDP {}:{}: {e}", me.addr, o.port))?;
    let local_port = socket.local_addr().map_err(|e| e.to_string())?.port();
    let targets: Vec<(String, u32, SocketAddr)> = config
        .segments
        .iter()
        .flat_map(|s| {
            s.daemons
                .iter()
                .map(move |d| (d.name.clone(), d.id, SocketAddr::new(d.addr, s.port)))
        })
        .filter(|(name, _, _)| o.only.is_empty() || o.only.contains(name))
        .collect();
    if targets.is_empty() {
        return Err(format!("no configured daemon named {:?}", o.only));
    }
    let mut header = DataHeader::new(STATUS_TYPE, me.id);
    header.transmiter_id = me.id;
    header.conf_hash = config.hash();
    header.seq = i32::from(local_port);
    let request = MonitorPacket {
        header,
        body: MonitorBody::StatusRequest,
    }
    .encode();
    loop {
        for (_, _, addr) in &targets {
            socket
                .send_to(&request, addr)
                .map_err(|e| format!("sending to {addr}: {e}"))?;
        }
        let mut answers: HashMap<u32, Status> = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut buf = [0u8; 2048];
        while answers.len() < targets.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            socket
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let Ok((n, _)) = socket.recv_from(&mut buf) else {
                break;
            };
            if let Ok(MonitorPacket {
                header,
                body: MonitorBody::StatusReply(s),
            }) = MonitorPacket::decode(&buf[..n])
            {
                answers.insert(header.proc_id, s);
            }
        }
        for (name, id, addr) in &targets {
            match answers.get(id) {
                Some(s) => print_status(name, s),
                None => println!("{name} (id {id}) at {addr}: no answer"),
            }
        }
        let all = answers.len() == targets.len();
        match o.every {
            None => return Ok(all),
            Some(t) => {
                println!();
                std::thread::sleep(Duration::from_secs(t));
            }
        }
    }
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("spmonitor: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(if e.is_empty() { 0 } else { 1 });
        }
    };
    match run(&o) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("spmonitor: {e}");
            ExitCode::from(1)
        }
    }
}
