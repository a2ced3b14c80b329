//! Tokens of spread.conf. 5.0.1 uses a flex scanner, which always takes the
//! longest match; since almost every character may belong to a word, the
//! practical rule is: a maximal run of word characters is classified as a
//! whole. Hence `Window=160` is one unknown word, `127.0.0.1;` is a name and
//! a word that is exactly a keyword can never be a name unless quoted.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::model::{reserved_words, DebugFlag, EventPriority, TriState};

reserved_words! {
    /// Option names.
    pub(crate) enum Opt {
        DebugFlags = "DebugFlags", EventPriority = "EventPriority", EventLogFile = "EventLogFile",
        EventTimeStamp = "EventTimeStamp", EventPreciseTimeStamp = "EventPreciseTimeStamp",
        DangerousMonitor = "DangerousMonitor", SocketPortReuse = "SocketPortReuse",
        RuntimeDir = "RuntimeDir", DaemonUser = "DaemonUser", DaemonGroup = "DaemonGroup",
        AllowedAuthMethods = "AllowedAuthMethods", RequiredAuthMethods = "RequiredAuthMethods",
        AccessControlPolicy = "AccessControlPolicy", MaxSessionMessages = "MaxSessionMessages",
        MaxSessions = "MaxSessions", MaxSessionBytes = "MaxSessionBytes",
        MaxQueuedBytes = "MaxQueuedBytes", MaxGroupsPerSession = "MaxGroupsPerSession",
        MaxMessageSize = "MaxMessageSize",
        ActiveIpVersion = "ActiveIPVersion", Window = "Window",
        PersonalWindow = "PersonalWindow", AcceleratedRing = "AcceleratedRing",
        AcceleratedWindow = "AcceleratedWindow", TokenTimeout = "TokenTimeout",
        HurryTimeout = "HurryTimeout", AliveTimeout = "AliveTimeout", JoinTimeout = "JoinTimeout",
        RepTimeout = "RepTimeout", SegTimeout = "SegTimeout", GatherTimeout = "GatherTimeout",
        FormTimeout = "FormTimeout", LookupTimeout = "LookupTimeout",
        WideAreaNetwork = "WideAreaNetwork", ExcludeSegAddrsFromHash = "ExcludeSegAddrsFromHash",
        IgnoreMulticastJoinErrors = "IgnoreMulticastJoinErrors",
        MetricsAddress = "MetricsAddress", EventLogFormat = "EventLogFormat",
        RingKeyFile = "RingKeyFile", AcceptRingKeyFile = "AcceptRingKeyFile",
        // Client access (client_access.rs).
        AllowUsers = "AllowUsers", AllowGroups = "AllowGroups",
        GroupAccessFile = "GroupAccessFile", AuthSecretFile = "AuthSecretFile",
        TlsAddress = "TlsAddress", TlsCertificateFile = "TlsCertificateFile",
        TlsKeyFile = "TlsKeyFile", TlsClientCaFile = "TlsClientCAFile",
    }
}

/// The exact keyword `word` spells, if any.
fn keyword<T: Copy>(all: &[T], spell: fn(T) -> &'static str, word: &str) -> Option<T> {
    all.iter().copied().find(|k| spell(*k) == word)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    LBrace,
    RBrace,
    Equals,
    Colon,
    Semicolon,
    Bang,
    Segment,
    VirtualId,
    Opt(Opt),
    Bool(bool),
    Tri(TriState),
    Flag(DebugFlag),
    /// Interface type letter `M`, `C` or `D`.
    Iface(u8),
    Priority(EventPriority),
    Addr(IpAddr),
    AddrPort(IpAddr, u16),
    Number(u32),
    /// Quotes removed.
    Str(String),
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    /// As written, for messages and for names taken from addresses.
    pub text: String,
    pub line: usize,
}

impl Token {
    /// The address of an address token as written: no brackets, port or
    /// `%interface` (5.0.1 names a daemon written as an address this way).
    pub(crate) fn address_text(&self) -> &str {
        let t = self.text.strip_prefix('[').unwrap_or(&self.text);
        let end = t.find(['%', ']']).unwrap_or(t.len());
        &t[..end]
    }

    /// The interface an IPv6 address token names after `%`: each daemon
    /// reads it on its own host (an index there, as 5.0.1 asks the system).
    pub(crate) fn zone(&self) -> Option<String> {
        let (_, after) = self.text.split_once('%')?;
        let end = after.find(']').unwrap_or(after.len());
        Some(after[..end].to_string())
    }

    /// How the token is named in "found ..." messages.
    pub(crate) fn describe(&self) -> String {
        let t = &self.text;
        match &self.tok {
            Tok::Eof => "end of file".to_string(),
            Tok::LBrace | Tok::RBrace | Tok::Equals | Tok::Colon | Tok::Semicolon | Tok::Bang => {
                format!("'{t}'")
            }
            Tok::Addr(_) => format!("address '{t}'"),
            Tok::AddrPort(..) => format!("address with port '{t}'"),
            Tok::Number(_) => format!("number '{t}'"),
            Tok::Str(_) => format!("string '{t}'"),
            _ => format!("reserved word '{t}'"),
        }
    }
}

pub(crate) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
}

/// Characters that may be part of a word; the others end it.
fn is_word_byte(b: u8) -> bool {
    !(is_space(b) || matches!(b, b'#' | b'{' | b'}' | b'[' | b']'))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
        }
    }

    /// The next token, or `(line, message)` for text no token can start with.
    pub(crate) fn next_token(&mut self) -> Result<Token, (usize, String)> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'\n' => self.line += 1,
                b'#' => {
                    while self.pos < bytes.len() && bytes[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                    continue;
                }
                b if is_space(b) => {}
                _ => break,
            }
            self.pos += 1;
        }
        let (start, line) = (self.pos, self.line);
        let Some(&first) = bytes.get(start) else {
            // A trailing newline would otherwise put EOF on a line of its own.
            let eof_line = if self.src.ends_with('\n') {
                line - 1
            } else {
                line
            };
            return Ok(self.token(Tok::Eof, start, start, eof_line.max(1)));
        };
        let single = match first {
            b'{' => Some(Tok::LBrace),
            b'}' => Some(Tok::RBrace),
            // flex's `!/.+`: anything after it on the line makes it the
            // longest match.
            b'!' if bytes.get(start + 1).is_some_and(|&b| b != b'\n') => Some(Tok::Bang),
            _ => None,
        };
        if let Some(tok) = single {
            return Ok(self.token(tok, start, start + 1, line));
        }
        match first {
            b'[' => return self.bracketed(line),
            b']' => return Err((line, "unexpected character ']'".to_string())),
            _ => {}
        }
        let mut end = start;
        while end < bytes.len() && is_word_byte(bytes[end]) {
            end += 1;
        }
        if first == b'"' || first == b'\'' {
            if let Some(close) = self.src[start + 1..].find(first as char) {
                let qend = start + 1 + close + 1;
                if qend >= end {
                    let inner = self.src[start + 1..qend - 1].to_string();
                    self.line += inner.matches('\n').count();
                    return Ok(self.token(Tok::Str(inner), start, qend, line));
                }
            }
        }
        let tok = classify(&self.src[start..end]).map_err(|m| (line, m))?;
        Ok(self.token(tok, start, end, line))
    }

    fn token(&mut self, tok: Tok, start: usize, end: usize, line: usize) -> Token {
        self.pos = end;
        Token {
            tok,
            text: self.src[start..end].to_string(),
            line,
        }
    }

    /// `[address]:port` (IPv6), or `[address]` alone. 5.0.1's scanner reads
    /// only the first as one token; in the second it skips the brackets
    /// (flex's default rule echoes what no rule matches), so `[fd00::1]`
    /// means `fd00::1` there and here. Other stray brackets are errors here.
    fn bracketed(&mut self, line: usize) -> Result<Token, (usize, String)> {
        let rest = &self.src[self.pos..];
        let close = 1 + rest
            .bytes()
            .skip(1)
            .take_while(|&b| is_word_byte(b))
            .count();
        if rest.as_bytes().get(close) != Some(&b']') {
            let shown = &rest[..close];
            return Err((line, format!("'[' without a matching ']' in '{shown}'")));
        }
        let inner = &rest[1..close];
        let ip = match parse_ipv6(inner) {
            Some(ip) => ip,
            None => match parse_ipv4(inner) {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let m = format!("'{}' is not an address", &rest[..=close]);
                    return Err((line, m));
                }
            },
        };
        let after = &rest[close + 1..];
        let start = self.pos;
        let Some(port_text) = after.strip_prefix(':') else {
            return Ok(self.token(Tok::Addr(ip), start, start + close + 1, line));
        };
        let digits = port_text.bytes().take_while(u8::is_ascii_digit).count();
        let text = &rest[..close + 2 + digits];
        if digits == 0 {
            return Err((line, format!("expected a port after '{text}'")));
        }
        if ip.is_ipv4() {
            let m = format!("'{text}': an IPv4 address with a port is written without brackets");
            return Err((line, m));
        }
        let port = parse_port(text, &text[close + 2..]).map_err(|m| (line, m))?;
        Ok(self.token(Tok::AddrPort(ip, port), start, start + text.len(), line))
    }
}

fn parse_port(text: &str, digits: &str) -> Result<u16, String> {
    digits
        .parse::<u16>()
        .map_err(|_| format!("port out of range in '{text}'"))
}

/// Classifies a whole word, in the priority order of 5.0.1's rules.
fn classify(word: &str) -> Result<Tok, String> {
    let ci = |s: &str| word.eq_ignore_ascii_case(s);
    let tok = match word {
        "=" => Tok::Equals,
        ":" => Tok::Colon,
        ";" => Tok::Semicolon,
        "Spread_Segment" => Tok::Segment,
        "VirtualID" => Tok::VirtualId,
        "M" | "C" | "D" => Tok::Iface(word.as_bytes()[0]),
        _ if ci("true") || ci("yes") => Tok::Bool(true),
        _ if ci("false") || ci("no") => Tok::Bool(false),
        _ if ci("on") => Tok::Tri(TriState::On),
        _ if ci("off") => Tok::Tri(TriState::Off),
        _ if ci("auto") => Tok::Tri(TriState::Auto),
        _ => {
            if let Some(o) = keyword(Opt::ALL, Opt::keyword, word) {
                Tok::Opt(o)
            } else if let Some(f) = keyword(DebugFlag::ALL, DebugFlag::keyword, word) {
                Tok::Flag(f)
            } else if let Some(p) = keyword(EventPriority::ALL, EventPriority::keyword, word) {
                Tok::Priority(p)
            } else {
                return address_number_or_word(word);
            }
        }
    };
    Ok(tok)
}

/// A well-shaped but invalid address (999.1.1.1) falls through to a plain
/// word, as flex's REJECT does.
fn address_number_or_word(word: &str) -> Result<Tok, String> {
    if let Some(ip) = parse_ipv4(word) {
        return Ok(Tok::Addr(IpAddr::V4(ip)));
    }
    if let Some((addr, digits)) = word.rsplit_once(':') {
        if let (Some(ip), true) = (parse_ipv4(addr), is_digits(digits, 5)) {
            return Ok(Tok::AddrPort(IpAddr::V4(ip), parse_port(word, digits)?));
        }
    }
    Ok(match parse_ipv6(word) {
        Some(ip) => Tok::Addr(ip),
        None if is_digits(word, 9) => Tok::Number(word.parse().unwrap_or(0)),
        None => Tok::Str(word.to_string()),
    })
}

fn is_digits(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_ipv4(s: &str) -> Option<Ipv4Addr> {
    let shaped = s.split('.').count() == 4 && s.split('.').all(|p| is_digits(p, 3));
    shaped.then(|| s.parse().ok()).flatten()
}

/// IPv6 in hex-and-colon form with an optional `%ifname` (kept by the
/// token's text, see [`Token::zone`]).
fn parse_ipv6(s: &str) -> Option<IpAddr> {
    let (addr, scope) = match s.split_once('%') {
        Some((a, scope)) => (a, Some(scope)),
        None => (s, None),
    };
    let hex_only = addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':');
    let shaped = addr.contains("::") || addr.matches(':').count() == 7;
    let scope_ok = match scope {
        Some(sc) => !sc.is_empty() && sc.bytes().all(is_word_byte),
        None => true,
    };
    if !(hex_only && shaped && scope_ok) {
        return None;
    }
    addr.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut lx = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let t = lx.next_token().unwrap();
            if t.tok == Tok::Eof {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn words_are_classified_whole() {
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        assert_eq!(
            kinds("Window=160 Window 127.0.0.1; 999.1.1.1 1.2.3.4:80 \"C\" C Cat 0123456789 12 YES Off !PRINT"),
            vec![
                Tok::Str("Window=160".into()),
                Tok::Opt(Opt::Window),
                Tok::Str("127.0.0.1;".into()),
                Tok::Str("999.1.1.1".into()),
                Tok::AddrPort(v4(1, 2, 3, 4), 80),
                Tok::Str("C".into()),
                Tok::Iface(b'C'),
                Tok::Str("Cat".into()),
                Tok::Str("0123456789".into()),
                Tok::Number(12),
                Tok::Bool(true),
                Tok::Tri(TriState::Off),
                Tok::Bang,
                Tok::Flag(DebugFlag::Print),
            ]
        );
        let v6: IpAddr = "fe80::1".parse().unwrap();
        assert_eq!(
            kinds("fe80::1%eth0 fe80::1% [fe80::1]:99 [fe80::1] [fe80::1%lo] {a}#x\n'q w'"),
            vec![
                Tok::Addr(v6),
                Tok::Str("fe80::1%".into()),
                Tok::AddrPort(v6, 99),
                Tok::Addr(v6),
                Tok::Addr(v6),
                Tok::LBrace,
                Tok::Str("a".into()),
                Tok::RBrace,
                Tok::Str("q w".into()),
            ]
        );
    }
}
