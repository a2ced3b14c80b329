//! spflooder: floods a group with messages and reports the throughput.

use spread_core::client::Mailbox;
use spread_core::consts::LOW_PRIORITY;
use spread_core::wire::{Message, RejectMessage};
use spread_core::{Error, GroupName};
use spread_tools::cli::VERSION;
use spread_tools::flooder::*;
use spread_tools::format::{error_text, message_lines};
use spread_tools::Invocation;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Why a flood stopped early.
enum Failure {
    Spread(Error),
    Rejected(RejectMessage),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Spread(e)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Spread(e) => f.write_str(&error_text(e)),
            Failure::Rejected(r) => write!(
                f,
                "the daemon rejected a message (service {:#x}, {} bytes) to {}",
                r.old_type,
                r.data.len(),
                r.groups
                    .iter()
                    .map(GroupName::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }
}

type Outcome<T> = Result<T, Failure>;

/// What one receive brought: data of ours, data of others, or no data.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Got {
    Mine,
    Others,
    Nothing,
}

/// What a flood did, for the closing line.
struct Tally {
    messages: u64,
    bytes: u64,
    elapsed: Duration,
}

struct Flooder {
    mbox: Mailbox,
    me: GroupName,
    opts: FlooderOptions,
    counters: SenderCounters,
    received_bytes: u64,
    progress: Option<Progress>,
}

impl Flooder {
    fn start_progress(&mut self, verb: &'static str) {
        if !self.opts.quiet && self.opts.num_messages > 0 {
            let terminal = std::io::stderr().is_terminal();
            self.progress = Some(Progress::new(
                verb,
                self.opts.num_messages,
                terminal,
                Instant::now(),
            ));
        }
    }

    fn tick(&mut self, done: u64) {
        if let Some(text) = self
            .progress
            .as_mut()
            .and_then(|p| p.update(done, Instant::now()))
        {
            eprint!("{text}");
        }
    }

    fn end_progress(&mut self) {
        if let Some(text) = self.progress.take().and_then(|p| p.finish()) {
            eprint!("{text}");
        }
    }

    /// Joins unless write-only, and says what is about to happen.
    fn announce(&self) -> Outcome<()> {
        let (m, b) = (self.opts.num_messages, self.opts.num_bytes);
        match self.opts.mode {
            Mode::ReadOnly => println!("flooder: Only receiving messages"),
            Mode::WriteOnly => println!(
                "flooder: starting  multicast of {m} messages, {b} bytes each (write only)."
            ),
            Mode::SendAndReceive => {
                println!("flooder: starting  multicast of {m} messages, {b} bytes each.")
            }
        }
        if self.opts.mode != Mode::WriteOnly {
            self.mbox.join(&self.opts.group)?;
        }
        Ok(())
    }

    /// Waits until the group has `-n` members; returns this member's index.
    fn wait_for_members(&self) -> Outcome<u32> {
        let group = GroupName::from(self.opts.group.as_str());
        let (mut joined, mut index) = (0, 0);
        while joined < self.opts.num_members {
            let msg = self.mbox.receive()?;
            for line in message_lines(&msg, &self.me) {
                println!("{line}");
            }
            if let Message::Membership(m) = &msg {
                if m.group == group {
                    joined = m.members.len();
                    index = m.index_of(&self.me).unwrap_or(0) as u32;
                }
            }
        }
        Ok(index)
    }

    /// Receives one message and counts it if it carries data.
    fn receive_one(&mut self) -> Outcome<Got> {
        match self.mbox.receive()? {
            Message::Data(d) => {
                self.counters.record(&d.sender);
                self.received_bytes += d.data.len() as u64;
                Ok(if d.sender == self.me {
                    Got::Mine
                } else {
                    Got::Others
                })
            }
            Message::Reject(r) => Err(Failure::Rejected(r)),
            _ => Ok(Got::Nothing),
        }
    }

    /// Flow control: reads until the window is respected again. With `-n`
    /// every active sender must be within the window of `sent`; without,
    /// reading stops at the next message of our own.
    fn catch_up(&mut self, sent: u64) -> Outcome<()> {
        loop {
            let got = self.receive_one()?;
            let done = if self.opts.num_members > 0 {
                self.counters.caught_up(sent, self.opts.window)
            } else {
                got == Got::Mine
            };
            if done {
                return Ok(());
            }
        }
    }

    /// Reads until every message we sent has come back.
    fn drain(&mut self, sent: u64) -> Outcome<()> {
        while self.counters.count(&self.me) < sent {
            self.receive_one()?;
        }
        Ok(())
    }

    fn send_all(&mut self, my_index: u32) -> Outcome<Tally> {
        let payload = flood_payload(self.opts.num_bytes, my_index);
        let (service, total) = (self.opts.service_type(), self.opts.num_messages);
        let reads_back = self.opts.mode == Mode::SendAndReceive;
        self.start_progress("sent");
        let start = Instant::now();
        for i in 1..=total {
            self.mbox
                .multicast(service, &self.opts.group, 0, &payload)?;
            if reads_back && i > self.opts.window {
                self.catch_up(i)?;
            }
            self.tick(i);
        }
        if reads_back {
            self.drain(total)?;
        }
        let elapsed = start.elapsed();
        self.end_progress();
        println!(
            "flooder: completed multicast of {total} messages, {} bytes each.",
            self.opts.num_bytes
        );
        Ok(Tally {
            messages: total,
            bytes: total * self.opts.num_bytes as u64,
            elapsed,
        })
    }

    /// Read-only: receives `-m` data messages; timed from the first.
    fn receive_all(&mut self) -> Outcome<Tally> {
        let total = self.opts.num_messages;
        self.start_progress("received");
        let mut start = None;
        let mut got = 0;
        while got < total {
            if self.receive_one()? == Got::Nothing {
                continue;
            }
            start.get_or_insert_with(Instant::now);
            got += 1;
            self.tick(got);
        }
        let elapsed = start.map_or(Duration::ZERO, |s| s.elapsed());
        self.end_progress();
        println!(
            "flooder: received {got} messages, {} bytes in all.",
            self.received_bytes
        );
        Ok(Tally {
            messages: got,
            bytes: self.received_bytes,
            elapsed,
        })
    }

    fn run(&mut self) -> Outcome<Tally> {
        self.announce()?;
        let my_index = self.wait_for_members()?;
        let tally = match self.opts.mode {
            Mode::ReadOnly => self.receive_all()?,
            _ => self.send_all(my_index)?,
        };
        let _ = self.mbox.disconnect();
        Ok(tally)
    }
}

fn parse_args() -> Result<FlooderOptions, ExitCode> {
    match parse_flooder_args(std::env::args().skip(1)) {
        Ok(Invocation::Run(opts)) => Ok(opts),
        Ok(Invocation::Help) => {
            println!("{USAGE}");
            Err(ExitCode::SUCCESS)
        }
        Ok(Invocation::Version) => {
            println!("spflooder {VERSION}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("spflooder: {e}\n{USAGE}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn connect(opts: &FlooderOptions) -> Result<Mailbox, Error> {
    let membership = opts.wants_membership();
    let with = if membership {
        " with group membership"
    } else {
        ""
    };
    println!("flooder: connecting to {}{with}", opts.spread_name);
    Mailbox::connect(
        &opts.spread_name,
        Some(&opts.user),
        LOW_PRIORITY,
        membership,
    )
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    let mbox = match connect(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("spflooder: {}", error_text(&e));
            return ExitCode::FAILURE;
        }
    };
    let me = *mbox.private_group();
    let mut flooder = Flooder {
        mbox,
        me,
        opts,
        counters: SenderCounters::default(),
        received_bytes: 0,
        progress: None,
    };
    match flooder.run() {
        Ok(t) => {
            println!("{}", stats_line(t.messages, t.bytes, t.elapsed));
            let _ = std::io::stdout().flush();
            ExitCode::SUCCESS
        }
        Err(f) => {
            flooder.end_progress();
            eprintln!("spflooder: {f}");
            ExitCode::FAILURE
        }
    }
}
