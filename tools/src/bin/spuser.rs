//! spuser: an interactive Spread client for trying groups and messages by
//! hand (or from a script on stdin).

use spread_core::client::{ConnectOptions, Mailbox};
use spread_core::consts::*;
use spread_core::wire::Message;
use spread_core::{Error, GroupName};
use spread_tools::cli::VERSION;
use spread_tools::format::{error_text, message_lines, SEPARATOR};
use spread_tools::user::*;
use spread_tools::Invocation;
use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the reader thread looks up from the socket to notice `d` or `q`.
const READER_TICK: Duration = Duration::from_millis(100);

/// The connection and what both threads need to know about it.
struct Session {
    mbox: Mailbox,
    me: GroupName,
    /// Print `User>` and the other prompts (only when stdin is a terminal).
    prompts: bool,
    /// Asynchronous reading on (`e`) or off (`d`).
    reading: Mutex<bool>,
    reading_changed: Condvar,
    quitting: AtomicBool,
    num_sent: AtomicU32,
}

impl Session {
    /// Writes `lines` as one block (on a terminal: on a fresh line, and
    /// followed by the prompt again).
    fn print_block(&self, lines: &[String]) {
        let mut text = String::new();
        if self.prompts {
            text.push('\n');
        }
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        if self.prompts {
            text.push_str("User> ");
        }
        let mut out = io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// The prompt after a command (on a terminal only).
    fn prompt(&self) {
        let mut out = io::stdout().lock();
        if self.prompts {
            let _ = out.write_all(b"\nUser> ");
        }
        let _ = out.flush();
    }

    /// Asks for the rest of a command (`enter message: ` ...).
    fn ask(&self, question: &str) {
        if self.prompts {
            let mut out = io::stdout().lock();
            let _ = out.write_all(question.as_bytes());
            let _ = out.flush();
        }
    }

    fn say(&self, line: &str) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    fn show(&self, msg: &Message) {
        let mut lines = vec![SEPARATOR.to_string()];
        lines.extend(message_lines(msg, &self.me));
        lines.push(String::new());
        self.print_block(&lines);
    }

    fn set_reading(&self, on: bool) {
        *self.reading.lock().unwrap_or_else(|p| p.into_inner()) = on;
        self.reading_changed.notify_all();
    }

    /// Blocks while asynchronous reading is off; false once quitting.
    fn wait_for_reading(&self) -> bool {
        let mut on = self.reading.lock().unwrap_or_else(|p| p.into_inner());
        while !*on && !self.quitting.load(Ordering::Acquire) {
            on = self
                .reading_changed
                .wait_timeout(on, READER_TICK)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        !self.quitting.load(Ordering::Acquire)
    }

    /// The connection failed under a receive or a send: report and exit.
    fn lost(&self, e: &Error) -> ! {
        if self.quitting.load(Ordering::Acquire) {
            std::process::exit(0);
        }
        self.say(&format!("\n{SEPARATOR}\nspuser: {}\n\nBye.", error_text(e)));
        std::process::exit(1);
    }
}

/// The reader thread: prints every message while asynchronous reading is on.
fn read_messages(s: &Session) {
    while s.wait_for_reading() {
        match s.mbox.receive_timeout(READER_TICK) {
            Ok(Some(msg)) => s.show(&msg),
            Ok(None) => {}
            Err(_) if s.quitting.load(Ordering::Acquire) => return,
            Err(e) => s.lost(&e),
        }
    }
}

/// Lines from stdin, as bytes, newline included.
struct Input<R> {
    reader: R,
}

impl<R: BufRead> Input<R> {
    fn line(&mut self) -> Option<Vec<u8>> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(buf),
        }
    }
}

/// What the command loop does next.
enum Flow {
    Continue,
    Quit,
}

struct Shell<R> {
    s: Arc<Session>,
    input: Input<R>,
    previous_burst_len: usize,
}

impl<R: BufRead> Shell<R> {
    /// Reports a failed call; a lost connection ends the program.
    fn check<T>(&self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) if e.is_session_lost() => self.s.lost(&e),
            Err(e) => {
                self.s.say(&format!("spuser: {}", error_text(&e)));
                None
            }
        }
    }

    fn send(&self, service: u32, groups: &[String], mess_type: i16, body: &[u8]) -> bool {
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let sent = self.check(
            self.s
                .mbox
                .multigroup_multicast(service, &names, mess_type, body),
        );
        if sent.is_some() {
            self.s.num_sent.fetch_add(1, Ordering::Relaxed);
        }
        sent.is_some()
    }

    fn send_line(&mut self, groups: &[String]) -> Flow {
        self.s.ask("enter message: ");
        let Some(body) = self.input.line() else {
            return Flow::Quit;
        };
        self.send(SAFE_MESS, groups, SEND_MESS_TYPE, &body);
        Flow::Continue
    }

    fn send_lines(&mut self, groups: &[String]) -> Flow {
        self.s.ask("enter message: ");
        let mut body = Vec::new();
        loop {
            let Some(line) = self.input.line() else {
                return Flow::Quit;
            };
            if add_multiline(&mut body, &line) {
                break;
            }
        }
        self.send(SAFE_MESS, groups, SEND_MESS_TYPE, &body);
        Flow::Continue
    }

    fn burst(&mut self, group: &str) -> Flow {
        self.s.ask("enter size of each message: ");
        let Some(line) = self.input.line() else {
            return Flow::Quit;
        };
        let len = parse_burst_size(&String::from_utf8_lossy(&line), self.previous_burst_len);
        self.previous_burst_len = len;
        self.s
            .say(&format!("sending {BURST_COUNT} messages of {len} bytes"));
        let group = [group.to_string()];
        for i in 1..=BURST_COUNT {
            let num = self.s.num_sent.load(Ordering::Relaxed) + 1;
            if !self.send(FIFO_MESS, &group, BURST_MESS_TYPE, &burst_payload(num, len)) {
                break;
            }
            self.s.say(&format!("sent message {i} (total {num})"));
        }
        Flow::Continue
    }

    fn receive(&self) {
        if let Some(msg) = self.check(self.s.mbox.receive()) {
            self.s.show(&msg);
        }
    }

    fn run(&mut self, cmd: Command) -> Flow {
        match cmd {
            Command::Join(g) => {
                self.check(self.s.mbox.join(&g));
            }
            Command::Leave(g) => {
                self.check(self.s.mbox.leave(&g));
            }
            Command::Send(groups) => return self.send_line(&groups),
            Command::MultiLineSend(groups) => return self.send_lines(&groups),
            Command::Burst(group) => return self.burst(&group),
            Command::Receive => self.receive(),
            Command::Poll => {
                if let Some(n) = self.check(self.s.mbox.poll()) {
                    self.s.say(&format!("Polling says: {n}"));
                }
            }
            Command::EnableAsync => self.s.set_reading(true),
            Command::DisableAsync => self.s.set_reading(false),
            Command::Quit => return Flow::Quit,
            Command::InvalidGroup => self.s.say("invalid group"),
            Command::Unknown => self.s.say(&format!("\nUnknown command\n{MENU}")),
        }
        Flow::Continue
    }

    /// Reads and runs commands until `q` or the end of stdin.
    fn repl(&mut self) {
        while let Some(line) = self.input.line() {
            let cmd = parse_command(&String::from_utf8_lossy(&line));
            if let Flow::Quit = self.run(cmd) {
                return;
            }
            self.s.prompt();
        }
    }
}

fn connect(opts: &UserOptions) -> Result<Mailbox, Error> {
    let connect = ConnectOptions {
        private_name: opts.user.clone(),
        priority: LOW_PRIORITY,
        membership: true,
        timeout: Some(CONNECT_TIMEOUT),
        ..ConnectOptions::default()
    };
    Mailbox::connect_with(&opts.spread_name, &connect)
}

fn bye(s: &Session, reader: JoinHandle<()>) {
    s.quitting.store(true, Ordering::Release);
    s.say("\nBye.");
    s.reading_changed.notify_all();
    let _ = s.mbox.disconnect();
    let _ = reader.join();
}

fn parse_args() -> Result<UserOptions, ExitCode> {
    match parse_user_args(std::env::args().skip(1)) {
        Ok(Invocation::Run(opts)) => Ok(opts),
        Ok(Invocation::Help) => {
            println!("{USAGE}");
            Err(ExitCode::SUCCESS)
        }
        Ok(Invocation::Version) => {
            println!("spuser {VERSION}");
            Err(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("spuser: {e}\n{USAGE}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(code) => return code,
    };
    if opts.pword_user.is_some() || opts.pword_password.is_some() {
        eprintln!("spuser: -n/-p ignored: password authentication is not built in");
    }
    println!("Spread library version is {SP_MAJOR_VERSION}.{SP_MINOR_VERSION}.{SP_PATCH_VERSION}");
    let mbox = match connect(&opts) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("spuser: {}", error_text(&e));
            return ExitCode::FAILURE;
        }
    };
    let me = *mbox.private_group();
    println!(
        "User: connected to {} with private group {me}",
        opts.spread_name
    );
    println!("{MENU}");
    let session = Arc::new(Session {
        mbox,
        me,
        prompts: io::stdin().is_terminal(),
        reading: Mutex::new(true),
        reading_changed: Condvar::new(),
        quitting: AtomicBool::new(false),
        num_sent: AtomicU32::new(0),
    });
    session.prompt();
    let reader = {
        let s = Arc::clone(&session);
        thread::spawn(move || read_messages(&s))
    };
    let mut shell = Shell {
        s: Arc::clone(&session),
        input: Input {
            reader: io::stdin().lock(),
        },
        previous_burst_len: 0,
    };
    shell.repl();
    bye(&session, reader);
    ExitCode::SUCCESS
}
