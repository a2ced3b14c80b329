//! spmonitor: shows the status of a configuration's daemons and, with
//! `DangerousMonitor = true` in their configuration, imposes and lifts
//! partitions, terminates daemons and changes flow-control windows; it
//! also makes the daemons reload their configuration (which needs no
//! DangerousMonitor). All as Spread's spmonitor does (packets to each daemon's data port, from the
//! address of a configured daemon whose identity the monitor takes).
//!
//! Without an action it asks for status once (or every `-t` seconds);
//! `--menu` runs Spread's interactive menu on stdin; the action flags do
//! the same from a script.

use clap::Parser;
use spread_codec::{FlowControlTable, PartitionTable, Status};
use spread_config::Config;
use spread_tools::monitor::menu::{menu_text, Action, Menu, PROMPT};
use spread_tools::monitor::report::render;
use spread_tools::monitor::tables::{
    describe_fc, describe_partition, parse_partition, set_fc, set_window, terminate_table,
    window_value, FcSlot, NO_PARTITION, UNCHANGED_FC,
};
use spread_tools::monitor::{Monitor, PARTITION_RESEND};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

const ACTIONS: &str = "Actions (the daemons need DangerousMonitor = true)";

/// spmonitor: the status of a configuration's daemons; with actions, partitions,
/// terminations and flow-control windows (as Spread's spmonitor).
#[derive(Parser, Debug)]
#[command(
    name = "spmonitor",
    version = spread_tools::cli::VERSION,
    args_override_self = true,
    after_help = "With actions and without -t, spmonitor exits after sending them, except that an\n\
                  imposed partition keeps being resent until spmonitor is stopped or --once is given."
)]
struct Opts {
    /// spread.conf (default ./spread.conf, then /etc/spread.conf, then the embedded default)
    #[arg(short = 'c', value_name = "conf")]
    config: Option<PathBuf>,
    /// The configured daemon whose identity and address the monitor uses
    /// (default: the daemon whose address is one of this host's)
    #[arg(short = 'n', value_name = "name")]
    name: Option<String>,
    /// The monitor's UDP port (0 = any free port)
    #[arg(short = 'p', value_name = "port", default_value_t = 6543)]
    port: u16,
    /// Ask only this daemon for status (repeatable; default: all)
    #[arg(short = 'd', value_name = "daemon")]
    only: Vec<String>,
    /// Ask for status every this many seconds (default: once; in the menu, 10)
    #[arg(short = 't', value_name = "seconds", value_parser = seconds)]
    every: Option<u64>,
    /// Say every packet sent
    #[arg(short = 'v')]
    verbose: bool,
    /// Spread's interactive menu, commands read line by line from stdin
    #[arg(long)]
    menu: bool,
    /// Send the actions once and exit (no partition resends)
    #[arg(long, help_heading = ACTIONS)]
    once: bool,
    /// Impose a partition: 'd1,d2|d3' puts d1 and d2 in one component and d3 in
    /// another (daemons not named: component 0); resent every 25 s until
    /// spmonitor stops (daemons drop it 60 s after the last)
    #[arg(long, value_name = "SPEC", help_heading = ACTIONS)]
    partition: Option<String>,
    /// Lift a partition at once
    #[arg(long = "cancel-partition", conflicts_with = "partition", help_heading = ACTIONS)]
    cancel: bool,
    /// Make a daemon exit (repeatable)
    #[arg(long, value_name = "daemon", help_heading = ACTIONS)]
    terminate: Vec<String>,
    /// The ring's Window
    #[arg(long, value_name = "N", help_heading = ACTIONS)]
    window: Option<String>,
    /// Every daemon's PersonalWindow, or daemon=N for one (repeatable)
    #[arg(long = "personal-window", value_name = "[daemon=]N", help_heading = ACTIONS)]
    personal: Vec<String>,
    /// Likewise AcceleratedWindow
    #[arg(long = "accelerated-window", value_name = "[daemon=]N", help_heading = ACTIONS)]
    accelerated: Vec<String>,
    /// Make every daemon of the configuration read its spread.conf again
    /// (no DangerousMonitor needed); change the files first, and give the
    /// monitor the configuration as it was
    #[arg(long)]
    reload: bool,
    /// Also show the metrics a daemon serves (its MetricsAddress) after each
    /// status round: at ADDR (host:port, repeatable), or without ADDR at the
    /// configuration's MetricsAddress
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    metrics: Vec<String>,
}

/// `-t`: whole seconds, at least 1.
fn seconds(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map(|n| n.max(1))
        .map_err(|_| format!("{text:?} is not a valid number"))
}

impl Opts {
    fn has_actions(&self) -> bool {
        self.partition.is_some()
            || self.cancel
            || !self.terminate.is_empty()
            || self.window.is_some()
            || !self.personal.is_empty()
            || !self.accelerated.is_empty()
            || self.reload
    }
}

/// Says what the monitor does, on stderr.
fn note(text: &str) {
    eprintln!("spmonitor: {text}");
}

/// One round of status requests: the answers until all came or a second
/// passed.
struct Round {
    asked: Vec<usize>,
    answers: BTreeMap<usize, Status>,
    until: Instant,
}

struct Runner {
    mon: Monitor,
    verbose: bool,
    /// Daemons asked for status periodically (none: status is off).
    status: Vec<usize>,
    every: Duration,
    next_status: Option<Instant>,
    round: Option<Round>,
    /// The partition being resent, and when next.
    partition: Option<(PartitionTable, Instant)>,
    /// `-c`, read again after a reload.
    config: Option<PathBuf>,
    /// Metrics endpoints shown after each status round.
    metrics: Vec<std::net::SocketAddr>,
}

impl Runner {
    /// Tells every daemon to reload, then reads the configuration again
    /// (as Spread's monitor: status, partition and flow control start
    /// over, their tables now of the new daemons).
    fn reload(&mut self) -> Result<(), String> {
        let old = self.mon.conf_hash();
        let new = Config::locate(self.config.as_deref());
        if let Err(e) = &new {
            note(&format!(
                "{e}; still working with the configuration read before"
            ));
        }
        self.mon.reload(new.as_ref().ok())?;
        note(&format!(
            "reload sent to every daemon; configuration hash {old}, now {}",
            self.mon.conf_hash()
        ));
        note("status, partition and flow control are reset by the reload");
        self.status.clear();
        self.next_status = None;
        self.round = None;
        self.partition = None;
        Ok(())
    }

    fn names(&self, who: &[usize]) -> String {
        who.iter()
            .map(|&i| self.mon.daemons[i].name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn impose(&mut self, table: PartitionTable, resend: bool) -> Result<(), String> {
        self.mon.broadcast_partition(&table)?;
        note(&format!(
            "partition {} sent to {} daemons{}",
            describe_partition(&table, &self.mon.daemons),
            self.mon.daemons.len(),
            if resend {
                "; resent every 25 s until cancelled or stopped"
            } else {
                ""
            }
        ));
        self.partition = resend.then(|| (table, Instant::now() + PARTITION_RESEND));
        Ok(())
    }

    fn cancel(&mut self) -> Result<(), String> {
        self.partition = None;
        self.mon.broadcast_partition(&NO_PARTITION)?;
        note(&format!(
            "partition cancelled at {} daemons",
            self.mon.daemons.len()
        ));
        Ok(())
    }

    fn terminate(&mut self, table: &PartitionTable, to: &[usize]) -> Result<(), String> {
        self.mon.send_partition(table, to)?;
        note(&format!("told {} to terminate", self.names(to)));
        Ok(())
    }

    fn flow_control(&mut self, table: &FlowControlTable) -> Result<(), String> {
        self.mon.send_flow_control(table)?;
        note(&format!(
            "flow control sent to {} daemons: {}",
            self.mon.daemons.len(),
            describe_fc(table, &self.mon.daemons)
        ));
        Ok(())
    }

    fn start_status(&mut self, who: Vec<usize>) {
        self.status = who;
        self.next_status = (!self.status.is_empty()).then(Instant::now);
    }

    /// Sends what is due; returns a finished status round.
    fn tick(&mut self) -> Result<Option<Round>, String> {
        let now = Instant::now();
        if self.next_status.is_some_and(|t| t <= now) && self.round.is_none() {
            self.mon.request_status(&self.status)?;
            if self.verbose {
                note(&format!(
                    "status requested from {}",
                    self.names(&self.status)
                ));
            }
            self.round = Some(Round {
                asked: self.status.clone(),
                answers: BTreeMap::new(),
                until: now + Duration::from_secs(1),
            });
            self.next_status = Some(now + self.every);
        }
        if let Some((table, next)) = self.partition.as_mut() {
            if *next <= now {
                *next = now + PARTITION_RESEND;
                let table = *table;
                self.mon.broadcast_partition(&table)?;
                if self.verbose {
                    note("partition resent");
                }
            }
        }
        let done = self
            .round
            .as_ref()
            .is_some_and(|r| r.until <= now || r.asked.iter().all(|i| r.answers.contains_key(i)));
        Ok(if done { self.round.take() } else { None })
    }

    /// Waits up to `limit` for a status reply (or less, when something is
    /// due sooner).
    fn wait(&mut self, limit: Duration) {
        let now = Instant::now();
        let mut until = now + limit;
        for t in [
            self.next_status,
            self.partition.map(|(_, t)| t),
            self.round.as_ref().map(|r| r.until),
        ]
        .into_iter()
        .flatten()
        {
            until = until.min(t);
        }
        let left = until
            .saturating_duration_since(now)
            .max(Duration::from_millis(1));
        if let Some((i, s)) = self.mon.receive(left) {
            if let Some(r) = self.round.as_mut() {
                r.answers.insert(i, s);
            }
        }
    }

    /// The round as text; true if everyone asked answered.
    fn report(&self, round: &Round) -> (String, bool) {
        let mut out = String::new();
        for &i in &round.asked {
            let d = &self.mon.daemons[i];
            match round.answers.get(&i) {
                Some(s) => out += &render(&d.name, s, &self.mon.daemons),
                None => out += &format!("{} (id {}) at {}: no answer\n", d.name, d.id, d.addr),
            }
        }
        for &addr in &self.metrics {
            out += &spread_tools::monitor::metrics::report(addr);
        }
        (out, round.answers.len() == round.asked.len())
    }
}

fn fc_table(o: &Opts, mon: &Monitor) -> Result<Option<FlowControlTable>, String> {
    if o.window.is_none() && o.personal.is_empty() && o.accelerated.is_empty() {
        return Ok(None);
    }
    let mut table = UNCHANGED_FC;
    if let Some(w) = &o.window {
        set_window(
            &mut table,
            window_value(w).map_err(|e| format!("--window: {e}"))?,
            &mon.daemons,
        );
    }
    for v in &o.personal {
        set_fc(&mut table, FcSlot::Personal, v, &mon.daemons)
            .map_err(|e| format!("--personal-window: {e}"))?;
    }
    for v in &o.accelerated {
        set_fc(&mut table, FcSlot::Accelerated, v, &mon.daemons)
            .map_err(|e| format!("--accelerated-window: {e}"))?;
    }
    Ok(Some(table))
}

/// `--metrics`: each address given (a name is resolved), or the
/// configuration's MetricsAddress for `--metrics` alone.
fn metrics_addresses(
    given: &[String],
    config: &Config,
) -> Result<Vec<std::net::SocketAddr>, String> {
    use std::net::ToSocketAddrs;
    let mut all = Vec::new();
    for a in given {
        let addr = if a.is_empty() {
            config.metrics_address.ok_or_else(|| {
                format!(
                    "--metrics: {} sets no MetricsAddress; give one (host:port)",
                    config.source
                )
            })?
        } else {
            a.to_socket_addrs()
                .map_err(|e| format!("--metrics {a}: {e}"))?
                .next()
                .ok_or_else(|| format!("--metrics {a}: no address"))?
        };
        all.push(spread_tools::monitor::metrics::reachable(addr));
    }
    Ok(all)
}

fn run(o: &Opts) -> Result<ExitCode, String> {
    let config = Config::locate(o.config.as_deref()).map_err(|e| e.to_string())?;
    let mon = Monitor::bind(&config, o.name.as_deref(), o.port)?;
    let mut asked = Vec::new();
    for name in &o.only {
        asked.push(
            mon.index_of(name)
                .ok_or_else(|| format!("no configured daemon is named {name:?}"))?,
        );
    }
    if asked.is_empty() {
        asked = (0..mon.daemons.len()).collect();
    }
    let partition = o
        .partition
        .as_deref()
        .map(|spec| parse_partition(spec, &mon.daemons))
        .transpose()?;
    let mut killed = vec![false; mon.daemons.len()];
    for name in &o.terminate {
        killed[mon
            .index_of(name)
            .ok_or_else(|| format!("--terminate: no configured daemon is named {name:?}"))?] = true;
    }
    let fc = fc_table(o, &mon)?;
    let metrics = metrics_addresses(&o.metrics, &config)?;
    let accelerated = mon.accelerated;
    let mut r = Runner {
        mon,
        verbose: o.verbose,
        status: Vec::new(),
        every: Duration::from_secs(o.every.unwrap_or(10)),
        next_status: None,
        round: None,
        partition: None,
        config: o.config.clone(),
        metrics,
    };
    if let Some(table) = &fc {
        r.flow_control(table)?;
    }
    if let Some(table) = partition {
        r.impose(table, !o.once)?;
    }
    if o.cancel {
        r.cancel()?;
    }
    if killed.contains(&true) {
        let to: Vec<usize> = (0..killed.len()).filter(|&i| killed[i]).collect();
        let base = r.partition.map_or(NO_PARTITION, |(t, _)| t);
        let table = terminate_table(&base, &killed);
        r.terminate(&table, &to)?;
    }
    if o.reload {
        r.reload()?;
    }
    if o.menu {
        return menu(r, accelerated);
    }
    let status_once = !o.has_actions() && o.every.is_none();
    if o.every.is_some() || status_once {
        r.start_status(asked);
    }
    if r.status.is_empty() && r.partition.is_none() {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        if let Some(round) = r.tick()? {
            let (text, all) = r.report(&round);
            print!("{text}");
            if status_once {
                return Ok(if all {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(2)
                });
            }
            println!();
            let _ = std::io::stdout().flush();
        }
        r.wait(Duration::from_secs(1));
    }
}

/// Spread's interactive menu: commands from stdin, status replies shown
/// as they come.
fn menu(mut r: Runner, accelerated: bool) -> Result<ExitCode, String> {
    let mut m = Menu::new(r.mon.daemons.clone(), accelerated);
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut out = std::io::stdout();
    let _ = write!(out, "{}", menu_text());
    let _ = out.flush();
    loop {
        if let Some(round) = r.tick()? {
            let (text, _) = r.report(&round);
            let _ = write!(out, "\n{text}\n{PROMPT}");
            let _ = out.flush();
        }
        loop {
            let line = match lines.try_recv() {
                Ok(line) => line,
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    let _ = writeln!(out, "Bye.");
                    return Ok(ExitCode::SUCCESS);
                }
            };
            let (text, actions) = m.feed(&line);
            let _ = write!(out, "{text}");
            let _ = out.flush();
            for a in actions {
                match a {
                    Action::Status(marks) => {
                        let who: Vec<usize> = (0..marks.len()).filter(|&i| marks[i]).collect();
                        r.start_status(who);
                    }
                    Action::Partition(table) => r.impose(*table, true)?,
                    Action::CancelPartition => r.cancel()?,
                    Action::FlowControl(table) => r.flow_control(&table)?,
                    Action::Terminate { table, to } => r.terminate(&table, &to)?,
                    Action::Reload => {
                        r.reload()?;
                        m = Menu::new(r.mon.daemons.clone(), r.mon.accelerated);
                    }
                    Action::Exit => return Ok(ExitCode::SUCCESS),
                }
            }
        }
        r.wait(Duration::from_millis(50));
    }
}

fn main() -> ExitCode {
    let o = match Opts::try_parse() {
        Ok(o) => o,
        Err(e) => {
            // Help on stdout and 0; a usage error on stderr and 1 (2 is
            // spmonitor's "some daemon did not answer").
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match run(&o) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spmonitor: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Opts;
    use clap::{CommandFactory, Parser};

    fn parse(args: &[&str]) -> Result<Opts, clap::Error> {
        Opts::try_parse_from(std::iter::once("spmonitor").chain(args.iter().copied()))
    }

    #[test]
    fn options_are_consistent() {
        Opts::command().debug_assert();
    }

    #[test]
    fn flags_defaults_and_repeats() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.port, 6543);
        assert!(o.every.is_none() && !o.has_actions());
        let o = parse(&[
            "-c",
            "a.conf",
            "-c",
            "b.conf",
            "-n",
            "d1",
            "-p",
            "0",
            "-d",
            "d3",
            "-d",
            "d2",
            "-t",
            "0",
            "-v",
            "--once",
            "--terminate",
            "d3",
            "--personal-window",
            "d1=7",
            "--accelerated-window",
            "5",
            "--window",
            "40",
            "--partition",
            "d1,d2|d3",
        ])
        .unwrap();
        assert_eq!(o.config.as_deref(), Some(std::path::Path::new("b.conf")));
        assert_eq!(o.name.as_deref(), Some("d1"));
        assert_eq!(o.port, 0);
        assert_eq!(o.only, ["d3", "d2"]);
        assert_eq!(o.every, Some(1), "-t 0 means every second");
        assert!(o.verbose && o.once && o.has_actions());
        assert_eq!(o.terminate, ["d3"]);
        assert_eq!(o.personal, ["d1=7"]);
        assert_eq!(o.accelerated, ["5"]);
        assert_eq!(o.window.as_deref(), Some("40"));
        assert_eq!(o.partition.as_deref(), Some("d1,d2|d3"));
        assert!(parse(&["--cancel-partition"]).unwrap().cancel);
    }

    #[test]
    fn usage_errors() {
        for bad in [
            &["--partition", "d1|d2", "--cancel-partition"][..],
            &["-t", "x"],
            &["-p", "70000"],
            &["--bogus"],
            &["-d"],
        ] {
            assert!(parse(bad).unwrap_err().use_stderr(), "{bad:?}");
        }
        assert!(!parse(&["--help"]).unwrap_err().use_stderr());
    }
}
