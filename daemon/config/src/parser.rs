//! The spread.conf grammar: top level, end-of-file checks and the parser's
//! plumbing. Option statements are in `options.rs`, segments in `segment.rs`.

use std::io;
use std::path::Path;

use super::error::ConfigError;
use super::lexer::{Lexer, Opt, Tok, Token};
use super::model::{Config, IpVersion, Timeouts};

pub(crate) const MAX_NAME_LEN: usize = 19;
const EMBEDDED_DEFAULT: &str = "Spread_Segment 127.0.0.255:4803 {\n\tlocalhost 127.0.0.1\n}\n";
pub(super) const TIMEOUTS: [Opt; 9] = [
    Opt::TokenTimeout,
    Opt::HurryTimeout,
    Opt::AliveTimeout,
    Opt::JoinTimeout,
    Opt::RepTimeout,
    Opt::SegTimeout,
    Opt::GatherTimeout,
    Opt::FormTimeout,
    Opt::LookupTimeout,
];

impl Config {
    /// Parses spread.conf text; `source` names it in error messages.
    pub fn parse(text: &str, source: &str) -> Result<Config, ConfigError> {
        let mut p = Parser {
            lexer: Lexer::new(text),
            pushed_back: None,
            cfg: Config::empty(source),
            family: None,
            family_source: String::new(),
            timeouts: [None; 9],
        };
        p.config()?;
        Ok(p.cfg)
    }

    /// Reads and parses a file (which must be UTF-8).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let io_err = |source| ConfigError::Io {
            file: file.clone(),
            source,
        };
        let text = String::from_utf8(std::fs::read(path).map_err(io_err)?).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            io_err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not UTF-8 (byte {at})"),
            ))
        })?;
        Config::parse(&text, &file)
    }

    /// The configuration a daemon or a tool runs with, as 5.0.1 finds it:
    /// the file given (`-c`), else `./spread.conf`, else
    /// `/etc/spread.conf`, else the embedded default.
    pub fn locate(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        Config::locate_in(explicit, &Config::PLACES.map(Path::new))
    }

    /// As [`Config::locate`], with the places to look in given.
    pub fn locate_in(explicit: Option<&Path>, places: &[&Path]) -> Result<Config, ConfigError> {
        match Config::located(explicit, places) {
            Some(p) => Config::load(&p),
            None => Ok(Config::embedded_default()),
        }
    }

    /// The file [`Config::locate_in`] reads, if any (None: the embedded
    /// default); a reload reads the same file again.
    pub fn located(explicit: Option<&Path>, places: &[&Path]) -> Option<std::path::PathBuf> {
        explicit
            .or_else(|| places.iter().copied().find(|p| p.exists()))
            .map(Path::to_path_buf)
    }

    /// Where [`Config::locate`] looks when no file is given.
    pub const PLACES: [&'static str; 2] = ["./spread.conf", "/etc/spread.conf"];

    /// The embedded default: `Spread_Segment 127.0.0.255:4803 { localhost 127.0.0.1 }`
    /// (one daemon named "localhost", id = hash of "localhost" = 482711334).
    pub fn embedded_default() -> Config {
        let mut c =
            Config::parse(EMBEDDED_DEFAULT, "<embedded default>").expect("embedded default parses");
        // Its lone daemon never sends to the (loopback) segment address, so
        // the warning about it would only be noise.
        c.warnings.clear();
        c
    }
}

/// 5.0.1 keeps names and formats in fixed-size C buffers; cut the same
/// way, but at a character boundary.
pub(crate) fn truncate(name: &str, max: usize) -> &str {
    let mut end = name.len().min(max);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

pub(super) struct Parser<'a> {
    lexer: Lexer<'a>,
    pushed_back: Option<Token>,
    pub(super) cfg: Config,
    /// ActiveIPVersion, or else the family of the first daemon.
    pub(super) family: Option<IpVersion>,
    /// What set `family`, for messages: "ActiveIPVersion on line 3".
    pub(super) family_source: String,
    pub(super) timeouts: [Option<u32>; 9],
}

pub(super) type Res<T> = Result<T, ConfigError>;

impl Parser<'_> {
    pub(super) fn next(&mut self) -> Res<Token> {
        match self.pushed_back.take() {
            Some(t) => Ok(t),
            None => self
                .lexer
                .next_token()
                .map_err(|(line, m)| self.syntax(line, m)),
        }
    }

    /// The grammar needs one token of lookahead, and only ever one.
    pub(super) fn unread(&mut self, t: Token) {
        self.pushed_back = Some(t);
    }

    /// Consumes the next token if it is `tok`.
    pub(super) fn accept(&mut self, tok: &Tok) -> Res<Option<Token>> {
        let t = self.next()?;
        if t.tok == *tok {
            return Ok(Some(t));
        }
        self.unread(t);
        Ok(None)
    }

    pub(super) fn syntax(&self, line: usize, message: impl Into<String>) -> ConfigError {
        let message = message.into();
        ConfigError::Syntax {
            file: self.cfg.source.clone(),
            line,
            message,
        }
    }

    pub(super) fn semantic(&self, line: usize, message: impl Into<String>) -> ConfigError {
        let message = message.into();
        ConfigError::Semantic {
            file: self.cfg.source.clone(),
            line,
            message,
        }
    }

    pub(super) fn unexpected(&self, t: &Token, expected: &str) -> ConfigError {
        self.syntax(t.line, format!("{expected}, found {}", t.describe()))
    }

    pub(super) fn warn(&mut self, line: usize, message: String) {
        self.cfg.warnings.push((line, message));
    }

    fn config(&mut self) -> Res<()> {
        loop {
            let t = self.next()?;
            match &t.tok {
                Tok::Eof => return self.finish(t.line),
                Tok::Segment => self.segment(t.line)?,
                Tok::Opt(o) => {
                    self.cfg.option_lines.push((t.line, o.keyword()));
                    self.option(*o, t.line)?;
                }
                Tok::VirtualId => {
                    return Err(self.syntax(t.line, "VirtualID is only allowed after a daemon"));
                }
                Tok::Str(s) => {
                    let known = s.split_once('=').is_some_and(|(k, _)| {
                        Opt::ALL.iter().any(|o| o.keyword() == k) || k == "Spread_Segment"
                    });
                    let hint = if known {
                        " (put white space around '=')"
                    } else {
                        ""
                    };
                    let m = format!("unknown option '{s}'{hint}");
                    return Err(self.syntax(t.line, m));
                }
                _ => return Err(self.unexpected(&t, "expected an option or Spread_Segment")),
            }
        }
    }

    /// MaxSessionBytes and MaxQueuedBytes must let a message of
    /// MaxMessageSize through: written, they must hold one with its header
    /// and 100 names; not written, their defaults grow to hold two.
    fn room_for_messages(&mut self, n: usize, eof: usize) -> Res<()> {
        let one = n + 48 + 100 * 32;
        let written = |name: &str| {
            let lines = self.cfg.option_lines.iter().rev();
            lines.clone().find(|(_, o)| *o == name).map(|l| l.0)
        };
        let at = written("MaxMessageSize").unwrap_or(eof);
        let session = written("MaxSessionBytes");
        let queued = written("MaxQueuedBytes");
        for (name, line, have) in [
            ("MaxSessionBytes", session, self.cfg.max_session_bytes),
            ("MaxQueuedBytes", queued, self.cfg.max_queued_bytes),
        ] {
            if let Some(line) = line.filter(|_| have < one) {
                let m = format!(
                    "{name} ({have}) cannot hold one message of MaxMessageSize ({n}, line {at}): at least {one}"
                );
                return Err(self.semantic(line, m));
            }
        }
        if session.is_none() {
            self.cfg.max_session_bytes = self.cfg.max_session_bytes.max(2 * one);
        }
        if queued.is_none() {
            self.cfg.max_queued_bytes = self.cfg.max_queued_bytes.max(2 * one);
        }
        Ok(())
    }

    /// Checks 5.0.1 makes once the whole file is read.
    fn finish(&mut self, eof: usize) -> Res<()> {
        if self.cfg.segments.is_empty() {
            return Err(self.semantic(eof, "no Spread_Segment configured"));
        }
        if self.cfg.daemons().next().is_none() {
            return Err(self.semantic(eof, "no daemon configured"));
        }
        let window = self.cfg.window.unwrap_or(160);
        let personal = self.cfg.personal_window.unwrap_or(20);
        let accelerated = self.cfg.accelerated_window.unwrap_or(15);
        if personal > window {
            let m = format!("PersonalWindow ({personal}) exceeds Window ({window})");
            return Err(self.semantic(eof, m));
        }
        if self.cfg.accelerated_ring == Some(true) && accelerated > personal {
            let (a, p) = (accelerated, personal);
            let m = format!("AcceleratedWindow ({a}) exceeds PersonalWindow ({p})");
            return Err(self.semantic(eof, m));
        }
        if let Some(n) = self.cfg.max_message_size {
            self.room_for_messages(n, eof)?;
        }
        let missing: Vec<&str> = (TIMEOUTS.iter().zip(&self.timeouts))
            .filter(|(_, v)| v.is_none())
            .map(|(o, _)| o.keyword())
            .collect();
        if missing.is_empty() {
            let [token, hurry, alive, join, rep, seg, gather, form, lookup] =
                self.timeouts.map(|v| v.unwrap_or(0));
            let t = Timeouts {
                token,
                hurry,
                alive,
                join,
                rep,
                seg,
                gather,
                form,
                lookup,
            };
            self.cfg.timeouts = Some(t);
        } else if missing.len() < TIMEOUTS.len() {
            let missing = missing.join(", ");
            let m = format!("set all nine timeouts or none; missing: {missing}");
            return Err(self.semantic(eof, m));
        }
        Ok(())
    }
}
