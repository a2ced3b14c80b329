//! The pieces of `spflooder` that need no daemon: options, the multi-sender
//! flow-control counters, the progress line and the final statistics.

use crate::cli::{is_help_flag, is_version_flag, ArgCursor, Invocation, UsageError};
use spread_core::consts::*;
use spread_core::name::check_group_name;
use spread_core::GroupName;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The largest `-b`: what one message to one group may carry.
pub const MAX_NUM_BYTES: usize = MAX_INTEROPERABLE_PAYLOAD - MAX_GROUP_NAME;
/// The most members `-n` may wait for (as in Spread's flooder).
pub const MAX_MEMBERS: usize = 100;

/// Who sends and who receives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Send, and read the group's messages back as it goes (the default).
    SendAndReceive,
    /// `-ro`: join and receive `-m` messages, send nothing.
    ReadOnly,
    /// `-wo`: send without joining, receive nothing.
    WriteOnly,
}

/// spflooder's command-line options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlooderOptions {
    pub user: String,
    pub spread_name: String,
    pub num_messages: u64,
    pub num_bytes: usize,
    /// `-n`: members to wait for before sending; > 0 also turns on the
    /// multi-sender flow control and membership messages.
    pub num_members: usize,
    pub mode: Mode,
    /// `-g` (extension): the group flooded; Spread's flooder uses "flooder".
    pub group: String,
    /// `-t` (extension): the service; `None` = Spread's flooder's choice
    /// (RELIABLE, or FIFO with `-n`).
    pub service: Option<u32>,
    /// `-w` (extension): how many own messages may be in flight.
    pub window: u64,
    /// `-q` (extension): no progress line.
    pub quiet: bool,
}

impl Default for FlooderOptions {
    fn default() -> Self {
        FlooderOptions {
            user: "flooder".into(),
            spread_name: "4803".into(),
            num_messages: 10_000,
            num_bytes: 1000,
            num_members: 0,
            mode: Mode::SendAndReceive,
            group: "flooder".into(),
            service: None,
            window: 200,
            quiet: false,
        }
    }
}

impl FlooderOptions {
    /// The service type the messages are sent with.
    pub fn service_type(&self) -> u32 {
        self.service.unwrap_or(if self.num_members > 0 {
            FIFO_MESS
        } else {
            RELIABLE_MESS
        })
    }

    /// Whether to connect with membership messages.
    pub fn wants_membership(&self) -> bool {
        self.num_members > 0
    }
}

pub const USAGE: &str = "Usage: spflooder
\t[-u <user name>]     : unique (in this machine) user name
\t[-m <num messages>]  : number of messages (default 10000)
\t[-n <num members>]   : number of group members to wait for (also turn on multi-sender FC)
\t[-b <num bytes>]     : number of bytes per message 0-143119 (default 1000)
\t[-s <spread name>]   : either port or port@machine (also host:port or a socket path)
\t[-ro]                : read  only (no multicast)
\t[-wo]                : write only (no receive)
\t[-g <group>]         : group to flood (default flooder)
\t[-t <service>]       : unreliable|reliable|fifo|causal|agreed|safe
\t                       (default reliable, fifo with -n)
\t[-w <window>]        : own messages in flight before reading back (default 200)
\t[-q]                 : no progress line on stderr
\t[-h]                 : this help
\t[-V]                 : the version";

/// A service type by its name (`agreed`, `AGREED_MESS`, ...).
pub fn parse_service(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix("_mess").unwrap_or(&lower);
    match base {
        "unreliable" => Some(UNRELIABLE_MESS),
        "reliable" => Some(RELIABLE_MESS),
        "fifo" => Some(FIFO_MESS),
        "causal" => Some(CAUSAL_MESS),
        "agreed" => Some(AGREED_MESS),
        "safe" => Some(SAFE_MESS),
        _ => None,
    }
}

fn apply_flag<I: Iterator<Item = String>>(
    opts: &mut FlooderOptions,
    flag: &str,
    cursor: &mut ArgCursor<I>,
) -> Result<(), UsageError> {
    match flag {
        "-u" => opts.user = cursor.value(flag)?,
        "-m" => opts.num_messages = cursor.number(flag)?,
        "-b" => opts.num_bytes = cursor.number(flag)?,
        "-n" => opts.num_members = cursor.number(flag)?,
        "-s" => opts.spread_name = cursor.value(flag)?,
        "-ro" => opts.mode = Mode::ReadOnly,
        "-wo" => opts.mode = Mode::WriteOnly,
        "-g" => opts.group = cursor.value(flag)?,
        "-w" => opts.window = cursor.number(flag)?,
        "-q" => opts.quiet = true,
        "-t" => {
            let name = cursor.value(flag)?;
            let service = parse_service(&name)
                .ok_or_else(|| UsageError(format!("-t: unknown service {name:?}")))?;
            opts.service = Some(service);
        }
        other => return Err(UsageError(format!("unknown argument {other:?}"))),
    }
    Ok(())
}

fn check(opts: &FlooderOptions) -> Result<(), UsageError> {
    if opts.num_bytes > MAX_NUM_BYTES {
        return Err(UsageError(format!(
            "-b: at most {MAX_NUM_BYTES} bytes per message"
        )));
    }
    if opts.num_members > MAX_MEMBERS {
        return Err(UsageError(format!(
            "Too many members. The max is {MAX_MEMBERS}"
        )));
    }
    if opts.num_members > 0 && opts.mode == Mode::WriteOnly {
        return Err(UsageError(
            "-wo never joins, so it cannot wait for members (-n)".into(),
        ));
    }
    if let Err(e) = check_group_name(opts.group.as_bytes()) {
        return Err(UsageError(format!("-g: {e}")));
    }
    if opts.window == 0 {
        return Err(UsageError("-w: the window must be at least 1".into()));
    }
    Ok(())
}

/// Parses spflooder's arguments (without the program name). The last of
/// `-ro` / `-wo` wins, as in Spread's flooder.
pub fn parse_flooder_args<I: IntoIterator<Item = String>>(
    args: I,
) -> Result<Invocation<FlooderOptions>, UsageError> {
    let mut opts = FlooderOptions::default();
    let mut cursor = ArgCursor::new(args.into_iter());
    while let Some(arg) = cursor.next_arg() {
        if is_help_flag(&arg) {
            return Ok(Invocation::Help);
        }
        if is_version_flag(&arg) {
            return Ok(Invocation::Version);
        }
        apply_flag(&mut opts, &arg, &mut cursor)?;
    }
    check(&opts)?;
    Ok(Invocation::Run(opts))
}

/// The body of every flooded message: the sender's index in the group
/// (little-endian, in the first 4 bytes if there is room, which is how
/// Spread's flooder tags messages for its multi-sender flow control), then
/// zeros.
pub fn flood_payload(num_bytes: usize, my_index: u32) -> Vec<u8> {
    let mut body = vec![0u8; num_bytes];
    if num_bytes >= 4 {
        body[..4].copy_from_slice(&my_index.to_le_bytes());
    }
    body
}

/// Messages received from each sender, for the multi-sender flow control.
#[derive(Clone, Debug, Default)]
pub struct SenderCounters {
    counts: HashMap<GroupName, u64>,
}

impl SenderCounters {
    pub fn record(&mut self, sender: &GroupName) -> u64 {
        let c = self.counts.entry(*sender).or_insert(0);
        *c += 1;
        *c
    }

    pub fn count(&self, sender: &GroupName) -> u64 {
        self.counts.get(sender).copied().unwrap_or(0)
    }

    /// The fewest messages received from any sender heard from so far
    /// (members that never sent do not hold the others back); 0 if none.
    pub fn lowest_active(&self) -> u64 {
        self.counts.values().copied().min().unwrap_or(0)
    }

    /// True when every active sender is within `window` messages of
    /// `sent` (the number this process has sent).
    pub fn caught_up(&self, sent: u64, window: u64) -> bool {
        self.lowest_active() + window >= sent
    }
}

/// The progress line: printed at each tenth of the work and at least once
/// a second; on a terminal it is redrawn in place with `\r`.
#[derive(Clone, Debug)]
pub struct Progress {
    verb: &'static str,
    total: u64,
    terminal: bool,
    next_tenth: u64,
    last_shown: Instant,
}

impl Progress {
    pub fn new(verb: &'static str, total: u64, terminal: bool, start: Instant) -> Self {
        Progress {
            verb,
            total,
            terminal,
            next_tenth: 1,
            last_shown: start,
        }
    }

    fn line(&self, done: u64) -> String {
        let pct = (done * 100).checked_div(self.total).unwrap_or(100);
        let text = format!(
            "spflooder: {} {done}/{} messages ({pct}%)",
            self.verb, self.total
        );
        if self.terminal {
            format!("\r{text}")
        } else {
            format!("{text}\n")
        }
    }

    /// The text to write to stderr after `done` messages, if any is due.
    pub fn update(&mut self, done: u64, now: Instant) -> Option<String> {
        let tenth_due = self.next_tenth <= 10 && done * 10 >= self.next_tenth * self.total;
        let second_due = now.duration_since(self.last_shown) >= Duration::from_secs(1);
        if !tenth_due && !second_due {
            return None;
        }
        while self.next_tenth <= 10 && done * 10 >= self.next_tenth * self.total {
            self.next_tenth += 1;
        }
        self.last_shown = now;
        Some(self.line(done))
    }

    /// What to write when the work is over (ends the redrawn line).
    pub fn finish(&self) -> Option<&'static str> {
        self.terminal.then_some("\n")
    }
}

/// The closing statistics line. MB are 10^6 bytes.
pub fn stats_line(messages: u64, bytes: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let rates = if secs > 0.0 {
        format!(
            "{:.1} msgs/s, {:.3} MB/s",
            messages as f64 / secs,
            bytes as f64 / secs / 1e6
        )
    } else {
        "rates n/a".to_string()
    };
    format!(
        "flooder: {messages} messages, {bytes} bytes in {secs:.3} s: {rates} (1 MB = 10^6 bytes)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Result<Invocation<FlooderOptions>, UsageError> {
        parse_flooder_args(words.iter().map(|s| s.to_string()))
    }

    fn run(words: &[&str]) -> FlooderOptions {
        match parse(words) {
            Ok(Invocation::Run(o)) => o,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults_are_spreads() {
        let o = run(&[]);
        assert_eq!(
            (o.user.as_str(), o.spread_name.as_str(), o.group.as_str()),
            ("flooder", "4803", "flooder")
        );
        assert_eq!(
            (o.num_messages, o.num_bytes, o.num_members, o.window),
            (10_000, 1000, 0, 200)
        );
        assert_eq!(o.mode, Mode::SendAndReceive);
        assert_eq!(o.service_type(), RELIABLE_MESS);
        assert!(!o.wants_membership());
    }

    #[test]
    fn all_flags() {
        let o = run(&[
            "-u",
            "fl1",
            "-m",
            "500",
            "-b",
            "64",
            "-n",
            "3",
            "-s",
            "4803@localhost",
            "-g",
            "g2",
            "-t",
            "agreed",
            "-w",
            "50",
            "-q",
        ]);
        assert_eq!(o.user, "fl1");
        assert_eq!(
            (o.num_messages, o.num_bytes, o.num_members, o.window),
            (500, 64, 3, 50)
        );
        assert_eq!(
            (o.spread_name.as_str(), o.group.as_str()),
            ("4803@localhost", "g2")
        );
        assert_eq!(o.service_type(), AGREED_MESS);
        assert!(o.quiet && o.wants_membership());
    }

    #[test]
    fn members_default_to_fifo() {
        assert_eq!(run(&["-n", "2"]).service_type(), FIFO_MESS);
    }

    #[test]
    fn last_mode_wins() {
        assert_eq!(run(&["-ro"]).mode, Mode::ReadOnly);
        assert_eq!(run(&["-ro", "-wo"]).mode, Mode::WriteOnly);
        assert_eq!(run(&["-wo", "-ro"]).mode, Mode::ReadOnly);
    }

    #[test]
    fn refusals() {
        assert_eq!(parse(&["-h"]), Ok(Invocation::Help));
        for bad in [
            &["-m"][..],
            &["-m", "ten"],
            &["-b", "-1"],
            &["-b", "143120"],
            &["-n", "101"],
            &["-n", "2", "-wo"],
            &["-t", "bogus"],
            &["-w", "0"],
            &["-g", "has space"],
            &["-g", ""],
            &["-x"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(run(&["-b", "143119"]).num_bytes, MAX_NUM_BYTES);
        assert_eq!(run(&["-n", "2", "-b", "0"]).num_bytes, 0);
    }

    #[test]
    fn service_names() {
        assert_eq!(parse_service("SAFE"), Some(SAFE_MESS));
        assert_eq!(parse_service("causal_mess"), Some(CAUSAL_MESS));
        assert_eq!(parse_service("Unreliable"), Some(UNRELIABLE_MESS));
        assert_eq!(parse_service("fast"), None);
    }

    #[test]
    fn payload_carries_the_index() {
        assert_eq!(flood_payload(6, 2), [2, 0, 0, 0, 0, 0]);
        assert_eq!(flood_payload(3, 2), [0, 0, 0]);
    }

    #[test]
    fn counters_ignore_silent_members() {
        let (a, b) = (GroupName::from("#a#h"), GroupName::from("#b#h"));
        let mut c = SenderCounters::default();
        assert_eq!(c.lowest_active(), 0);
        for _ in 0..5 {
            c.record(&a);
        }
        c.record(&b);
        assert_eq!((c.count(&a), c.count(&b), c.lowest_active()), (5, 1, 1));
        assert!(c.caught_up(201, 200));
        assert!(!c.caught_up(202, 200));
    }

    #[test]
    fn progress_every_tenth_on_a_pipe() {
        let t0 = Instant::now();
        let mut p = Progress::new("sent", 100, false, t0);
        let shown: Vec<u64> = (1..=100).filter(|&i| p.update(i, t0).is_some()).collect();
        assert_eq!(shown, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        assert_eq!(p.finish(), None);
        let mut p = Progress::new("sent", 100, false, t0);
        assert_eq!(
            p.update(55, t0).as_deref(),
            Some("spflooder: sent 55/100 messages (55%)\n")
        );
        assert_eq!(p.update(56, t0), None);
    }

    #[test]
    fn progress_once_a_second_on_a_terminal() {
        let t0 = Instant::now();
        let mut p = Progress::new("received", 1000, true, t0);
        assert_eq!(p.update(1, t0), None);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            p.update(2, later).as_deref(),
            Some("\rspflooder: received 2/1000 messages (0%)")
        );
        assert_eq!(p.update(3, later), None);
        assert_eq!(p.finish(), Some("\n"));
    }

    #[test]
    fn stats() {
        let line = stats_line(10_000, 10_000_000, Duration::from_secs(2));
        assert_eq!(
            line,
            "flooder: 10000 messages, 10000000 bytes in 2.000 s: 5000.0 msgs/s, 5.000 MB/s (1 MB = 10^6 bytes)"
        );
        assert!(stats_line(0, 0, Duration::ZERO).contains("rates n/a"));
    }
}
