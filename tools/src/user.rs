//! The pieces of `spuser` that need no daemon: its options, its menu and
//! the parsing of its interactive commands.

use crate::cli::{is_help_flag, is_version_flag, ArgCursor, Invocation, UsageError};

/// The largest message `m` and `b` build, as in Spread's spuser.
pub const MAX_MESSLEN: usize = 102_400;
/// At most this many destination groups are taken from an `s` or `m` line.
pub const MAX_SEND_GROUPS: usize = 10;
/// Where `b` sends when no group is given.
pub const DEFAULT_BURST_GROUP: &str = "dummy_group_name";
/// Messages per `b` burst.
pub const BURST_COUNT: u32 = 10;
/// `mess_type` of messages sent with `s` and `m`.
pub const SEND_MESS_TYPE: i16 = 1;
/// `mess_type` of messages sent with `b`.
pub const BURST_MESS_TYPE: i16 = 2;

/// spuser's command-line options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserOptions {
    /// Private name; empty lets the daemon pick a random one (`-r`).
    pub user: String,
    /// The daemon: `port`, `port@host`, `host:port` or a socket path.
    pub spread_name: String,
    /// `-n` / `-p`: accepted for compatibility; password authentication is
    /// not built in (as in Spread's default build).
    pub pword_user: Option<String>,
    pub pword_password: Option<String>,
}

impl Default for UserOptions {
    fn default() -> Self {
        UserOptions {
            user: "user".into(),
            spread_name: "4803".into(),
            pword_user: None,
            pword_password: None,
        }
    }
}

pub const USAGE: &str = "Usage: spuser
\t[-u <user name>]  : unique (in this machine) user name
\t[-s <address>]    : either port or port@machine (also host:port or a socket path)
\t[-n <username>]   : username for authentication (accepted, not supported)
\t[-p <password>]   : users password (accepted, not supported)
\t[-r ]             : use random user name
\t[-t ]             : threaded variant (accepted and ignored: always threaded)
\t[-h ]             : this help
\t[-V ]             : the version";

/// Parses spuser's arguments (without the program name).
pub fn parse_user_args<I: IntoIterator<Item = String>>(
    args: I,
) -> Result<Invocation<UserOptions>, UsageError> {
    let mut opts = UserOptions::default();
    let mut cursor = ArgCursor::new(args.into_iter());
    while let Some(arg) = cursor.next_arg() {
        match arg.as_str() {
            "-u" => opts.user = cursor.value("-u")?,
            "-r" => opts.user.clear(),
            "-s" => opts.spread_name = cursor.value("-s")?,
            "-n" => opts.pword_user = Some(cursor.value("-n")?),
            "-p" => opts.pword_password = Some(cursor.value("-p")?),
            "-t" => {}
            a if is_help_flag(a) => return Ok(Invocation::Help),
            a if is_version_flag(a) => return Ok(Invocation::Version),
            other => return Err(UsageError(format!("unknown argument {other:?}"))),
        }
    }
    Ok(Invocation::Run(opts))
}

/// One line typed at the `User>` prompt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `j <group>`
    Join(String),
    /// `l <group>`
    Leave(String),
    /// `s <group>...`: the message is the next line.
    Send(Vec<String>),
    /// `m <group>...`: the message is the following lines up to an empty one.
    MultiLineSend(Vec<String>),
    /// `b [group]`: the size is the next line.
    Burst(String),
    /// `r`: receive one message, blocking.
    Receive,
    /// `p`: how many bytes are waiting.
    Poll,
    /// `e`: print messages as they arrive (the default).
    EnableAsync,
    /// `d`: stop printing messages as they arrive.
    DisableAsync,
    /// `q`
    Quit,
    /// A known letter without the group it needs.
    InvalidGroup,
    /// Anything else (an empty line included).
    Unknown,
}

fn words(rest: &str) -> Vec<String> {
    rest.split_whitespace().map(str::to_string).collect()
}

fn one_group(rest: &str, make: fn(String) -> Command) -> Command {
    words(rest)
        .into_iter()
        .next()
        .map_or(Command::InvalidGroup, make)
}

fn some_groups(rest: &str, make: fn(Vec<String>) -> Command) -> Command {
    let mut groups = words(rest);
    groups.truncate(MAX_SEND_GROUPS);
    if groups.is_empty() {
        Command::InvalidGroup
    } else {
        make(groups)
    }
}

/// Parses a command line: its first character is the command, the words
/// after it its arguments.
pub fn parse_command(line: &str) -> Command {
    let line = line.trim_start();
    let mut chars = line.chars();
    let Some(letter) = chars.next() else {
        return Command::Unknown;
    };
    let rest = chars.as_str();
    match letter {
        'j' => one_group(rest, Command::Join),
        'l' => one_group(rest, Command::Leave),
        's' => some_groups(rest, Command::Send),
        'm' => some_groups(rest, Command::MultiLineSend),
        'b' => Command::Burst(
            words(rest)
                .into_iter()
                .next()
                .unwrap_or_else(|| DEFAULT_BURST_GROUP.into()),
        ),
        'r' => Command::Receive,
        'p' => Command::Poll,
        'e' => Command::EnableAsync,
        'd' => Command::DisableAsync,
        'q' => Command::Quit,
        _ => Command::Unknown,
    }
}

/// The size typed after `b`: a number (capped at [`MAX_MESSLEN`]), or
/// `previous` if the line holds none.
pub fn parse_burst_size(line: &str, previous: usize) -> usize {
    line.split_whitespace()
        .next()
        .and_then(|w| w.parse::<usize>().ok())
        .unwrap_or(previous)
        .min(MAX_MESSLEN)
}

/// The body of burst message number `num`: `"mess num <num> "` NUL-padded
/// (or cut) to `len` bytes.
pub fn burst_payload(num: u32, len: usize) -> Vec<u8> {
    let mut body = format!("mess num {num} ").into_bytes();
    body.resize(len, 0);
    body
}

/// Collects the body of an `m` message from lines as read (each with its
/// newline); stops at an empty line, which is not part of the body.
/// Returns true when the body is complete.
pub fn add_multiline(body: &mut Vec<u8>, line: &[u8]) -> bool {
    if line == b"\n" || line == b"\r\n" || body.len() >= MAX_MESSLEN {
        return true;
    }
    let room = MAX_MESSLEN - body.len();
    body.extend_from_slice(&line[..line.len().min(room)]);
    body.len() >= MAX_MESSLEN
}

/// The menu printed at start and after an unknown command.
pub const MENU: &str = "
==========
User Menu:
----------

\tj <group> -- join a group
\tl <group> -- leave a group

\ts <group> -- send a message
\tm <group> -- send a multiline message to group. Terminate with empty line
\tb <group> -- send a burst of messages

\tr -- receive a message (stuck)
\tp -- poll for a message
\te -- enable asynchronous read (default)
\td -- disable asynchronous read

\tq -- quit";

#[cfg(test)]
mod tests {
    use super::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    fn run(words: &[&str]) -> UserOptions {
        match parse_user_args(args(words)) {
            Ok(Invocation::Run(o)) => o,
            other => panic!("{words:?} gave {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        assert_eq!(run(&[]), UserOptions::default());
        assert_eq!(run(&[]).user, "user");
        assert_eq!(run(&[]).spread_name, "4803");
    }

    #[test]
    fn flags() {
        let o = run(&["-u", "alice", "-s", "4803@127.0.0.1", "-t"]);
        assert_eq!(
            (o.user.as_str(), o.spread_name.as_str()),
            ("alice", "4803@127.0.0.1")
        );
        assert_eq!(run(&["-u", "alice", "-r"]).user, "");
        let o = run(&["-n", "bob", "-p", "secret"]);
        assert_eq!(
            (o.pword_user.as_deref(), o.pword_password.as_deref()),
            (Some("bob"), Some("secret"))
        );
    }

    #[test]
    fn help_and_errors() {
        assert_eq!(parse_user_args(args(&["-h"])), Ok(Invocation::Help));
        assert_eq!(
            parse_user_args(args(&["-u", "a", "--help"])),
            Ok(Invocation::Help)
        );
        assert!(parse_user_args(args(&["-u"])).is_err());
        assert!(parse_user_args(args(&["-x"])).is_err());
        assert!(parse_user_args(args(&["alice"])).is_err());
    }

    #[test]
    fn commands() {
        assert_eq!(parse_command("j grp\n"), Command::Join("grp".into()));
        assert_eq!(parse_command("l  grp extra"), Command::Leave("grp".into()));
        assert_eq!(parse_command("j\n"), Command::InvalidGroup);
        assert_eq!(
            parse_command("s a b c"),
            Command::Send(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            parse_command("m a"),
            Command::MultiLineSend(vec!["a".into()])
        );
        assert_eq!(parse_command("s"), Command::InvalidGroup);
        assert_eq!(
            parse_command("b"),
            Command::Burst(DEFAULT_BURST_GROUP.into())
        );
        assert_eq!(parse_command("b g"), Command::Burst("g".into()));
        assert_eq!(parse_command("r"), Command::Receive);
        assert_eq!(parse_command("p"), Command::Poll);
        assert_eq!(parse_command("e"), Command::EnableAsync);
        assert_eq!(parse_command("d"), Command::DisableAsync);
        assert_eq!(parse_command("q\n"), Command::Quit);
        assert_eq!(parse_command("\n"), Command::Unknown);
        assert_eq!(parse_command("x"), Command::Unknown);
    }

    #[test]
    fn at_most_ten_destinations() {
        let line = format!(
            "s {}",
            (0..12)
                .map(|i| format!("g{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        match parse_command(&line) {
            Command::Send(groups) => assert_eq!(groups.len(), MAX_SEND_GROUPS),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn burst_sizes_and_bodies() {
        assert_eq!(parse_burst_size("100\n", 7), 100);
        assert_eq!(parse_burst_size("\n", 7), 7);
        assert_eq!(parse_burst_size("x", 7), 7);
        assert_eq!(parse_burst_size("999999999", 7), MAX_MESSLEN);
        assert_eq!(burst_payload(3, 14), b"mess num 3 \0\0\0");
        assert_eq!(burst_payload(12, 4), b"mess");
    }

    #[test]
    fn multiline_bodies_end_at_an_empty_line() {
        let mut body = Vec::new();
        assert!(!add_multiline(&mut body, b"one\n"));
        assert!(!add_multiline(&mut body, b"two\n"));
        assert!(add_multiline(&mut body, b"\n"));
        assert_eq!(body, b"one\ntwo\n");
    }

    #[test]
    fn multiline_bodies_are_capped() {
        let mut body = vec![b'x'; MAX_MESSLEN - 2];
        assert!(add_multiline(&mut body, b"abcd\n"));
        assert_eq!(body.len(), MAX_MESSLEN);
    }
}
