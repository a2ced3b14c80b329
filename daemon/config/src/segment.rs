//! `Spread_Segment` blocks: segment addresses, daemon lines, VirtualIDs and
//! interface stanzas. 5.0.1 checks some of this only when the segment
//! closes; here each check runs as soon as its data is known, so the error
//! names the daemon's line.

use std::net::{IpAddr, ToSocketAddrs};

use super::error::ConfigError;
use super::hash::automatic_id;
use super::lexer::{Tok, Token};
use super::model::{DaemonEntry, Interface, IpVersion, Segment};
use super::parser::{truncate, Parser, Res, MAX_NAME_LEN};

const DEFAULT_PORT: u16 = 4803;
const MAX_SEGMENTS: usize = 20;
const MAX_SEGMENT_ADDRS: usize = 5;
const MAX_DAEMONS: usize = 128;
const MAX_INTERFACES: usize = 10;

/// Why a token cannot start a daemon line, when that is not obvious.
fn daemon_hint(tok: &Tok) -> &'static str {
    match tok {
        Tok::Segment | Tok::Opt(_) => " (missing '}' before it?)",
        Tok::Str(_) | Tok::Addr(_) | Tok::AddrPort(..) | Tok::Eof => "",
        Tok::LBrace | Tok::RBrace | Tok::Equals | Tok::Colon | Tok::Semicolon | Tok::Bang => "",
        _ => " (quote reserved words used as names)",
    }
}

impl Parser<'_> {
    pub(super) fn segment(&mut self, line: usize) -> Res<()> {
        if self.cfg.segments.len() == MAX_SEGMENTS {
            let m = format!("too many segments (at most {MAX_SEGMENTS})");
            return Err(self.semantic(line, m));
        }
        let t = self.next()?;
        let (first, port) = match t.tok {
            Tok::Addr(ip) => (ip, 0),
            Tok::AddrPort(ip, port) => (ip, port),
            _ => return Err(self.unexpected(&t, "Spread_Segment expects an address")),
        };
        // 5.0.1 stores "no port" as port 0, so an explicit 0 means the default too.
        let port = if port == 0 { DEFAULT_PORT } else { port };
        let mut addrs = vec![first];
        let mut zones = vec![t.zone()];
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::LBrace => break,
                Tok::Addr(_) if addrs.len() == MAX_SEGMENT_ADDRS => {
                    let m = format!("more than {MAX_SEGMENT_ADDRS} segment addresses");
                    return Err(self.semantic(t.line, m));
                }
                Tok::Addr(ip) => {
                    addrs.push(ip);
                    zones.push(t.zone());
                }
                Tok::AddrPort(..) => {
                    let a = &t.text;
                    let m = format!("only the first segment address may have a port: '{a}'");
                    return Err(self.syntax(t.line, m));
                }
                _ => return Err(self.unexpected(&t, "expected another segment address or '{'")),
            }
        }
        self.cfg.segments.push(Segment {
            port,
            addrs,
            zones,
            daemons: Vec::new(),
            line,
        });
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::RBrace => break,
                // A name followed by an address is one daemon, as in 5.0.1.
                Tok::Str(name) => match self.next()? {
                    a @ Token {
                        tok: Tok::Addr(ip), ..
                    } => self.daemon(t.line, name, true, Some((ip, a.zone())))?,
                    n @ Token {
                        tok: Tok::AddrPort(..),
                        ..
                    } => return Err(self.port_on_daemon(&n)),
                    n => {
                        self.unread(n);
                        self.daemon(t.line, name, true, None)?;
                    }
                },
                // A name taken from an address loses its interface suffix.
                Tok::Addr(ip) => {
                    let name = t.address_text().to_string();
                    self.daemon(t.line, name, false, Some((ip, t.zone())))?;
                }
                Tok::AddrPort(..) => return Err(self.port_on_daemon(&t)),
                Tok::Eof => {
                    let m = format!("Spread_Segment of line {line} is not closed");
                    return Err(self.syntax(t.line, m));
                }
                ref tok => {
                    let e = format!("expected a daemon or '}}'{}", daemon_hint(tok));
                    return Err(self.unexpected(&t, &e));
                }
            }
        }
        self.check_segment_addresses()
    }

    fn port_on_daemon(&self, t: &Token) -> ConfigError {
        let m = format!("a daemon address takes no port: '{}'", t.text);
        self.syntax(t.line, m)
    }

    /// Needs the address family, which the segment's first daemon may set.
    fn check_segment_addresses(&mut self) -> Res<()> {
        let seg = self.cfg.segments.last().cloned().expect("segment pushed");
        for a in &seg.addrs {
            let v = IpVersion::of(a);
            // As in 5.0.1, the family comes from ActiveIPVersion or the first
            // daemon, never from a segment address.
            let Some(family) = self.family else {
                let m = format!(
                    "segment address {a}: no ActiveIPVersion and no daemon yet to tell the address family"
                );
                return Err(self.semantic(seg.line, m));
            };
            if v != family {
                let by = &self.family_source;
                let m = format!("segment address {a} is {v}, not {family} (set by {by})");
                return Err(self.semantic(seg.line, m));
            }
            if a.is_unspecified() {
                let m = format!("segment address {a} is the unspecified address");
                return Err(self.semantic(seg.line, m));
            }
            if v == IpVersion::V6 && !a.is_multicast() {
                self.warn(
                    seg.line,
                    format!("IPv6 segment address {a} is not multicast"),
                );
            }
            // A loopback segment serves daemons on this host (data goes to
            // each of them); only one on another host is out of its reach.
            if a.is_loopback() {
                if let Some(d) = seg.daemons.iter().find(|d| !d.addr.is_loopback()) {
                    self.warn(
                        seg.line,
                        format!(
                            "segment address {a} is loopback: daemon {} at {} cannot be reached through it; use the segment's broadcast or a multicast address",
                            d.name, d.addr
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    fn daemon(
        &mut self,
        line: usize,
        name: String,
        named: bool,
        addr: Option<(IpAddr, Option<String>)>,
    ) -> Res<()> {
        if self.cfg.daemons().count() == MAX_DAEMONS {
            let m = format!("too many daemons (at most {MAX_DAEMONS})");
            return Err(self.semantic(line, m));
        }
        if named && name.is_empty() {
            return Err(self.semantic(line, "empty daemon name"));
        }
        if named && name.ends_with(';') {
            let m = format!("daemon name '{name}' ends with ';' (white space must precede ';')");
            self.warn(line, m);
        }
        let (addr, zone) = match addr {
            Some(written) => written,
            None => (self.resolve(line, &name)?, None),
        };
        let name = truncate(&name, MAX_NAME_LEN).to_string();
        if addr.is_unspecified() || addr.is_multicast() {
            let kind = if addr.is_multicast() {
                "a multicast"
            } else {
                "the unspecified"
            };
            let m = format!("daemon '{name}': {addr} is {kind} address");
            return Err(self.semantic(line, m));
        }
        let v = IpVersion::of(&addr);
        if self.family.is_none() {
            self.family_source = format!("daemon '{name}' on line {line}");
        }
        let family = *self.family.get_or_insert(v);
        if v != family {
            let by = &self.family_source;
            let m = format!("daemon '{name}': {addr} is {v}, not {family} (set by {by})");
            return Err(self.semantic(line, m));
        }
        if let Some(d) = self.cfg.daemons().find(|d| d.name == name) {
            let m = format!("daemon name '{name}' also used on line {}", d.line);
            return Err(self.semantic(line, m));
        }
        // Daemons in segments with other ports may share an address.
        let port = self.cfg.segments.last().map_or(DEFAULT_PORT, |s| s.port);
        let mut same_port = self.cfg.segments.iter().filter(|s| s.port == port);
        if let Some(d) = same_port.find_map(|s| s.daemons.iter().find(|d| d.addr == addr)) {
            let (other, at) = (&d.name, d.line);
            let m = format!(
                "daemon '{name}': address {addr} port {port} is daemon '{other}''s (line {at})"
            );
            return Err(self.semantic(line, m));
        }
        let explicit = self.virtual_id()?;
        let id = explicit.unwrap_or_else(|| automatic_id(&name));
        if let Some(d) = self.cfg.daemons().find(|d| d.id == id) {
            let (other, at) = (&d.name, d.line);
            let m = format!("daemon '{name}': id {id} is daemon '{other}''s (line {at})");
            return Err(self.semantic(line, m));
        }
        let interfaces = self.interfaces(&name)?;
        let binds_addr = |i: &Interface| {
            i.addr == addr || (i.addr.is_unspecified() && IpVersion::of(&i.addr) == v)
        };
        if !interfaces.is_empty() && !interfaces.iter().any(|i| i.daemon && binds_addr(i)) {
            let m = format!("daemon '{name}': no D interface for {addr}");
            return Err(self.semantic(line, m));
        }
        self.accept(&Tok::Semicolon)?;
        let explicit_id = explicit.is_some();
        let entry = DaemonEntry {
            name,
            addr,
            zone,
            id,
            explicit_id,
            interfaces,
            line,
        };
        self.cfg
            .segments
            .last_mut()
            .expect("in a segment")
            .daemons
            .push(entry);
        Ok(())
    }

    /// A daemon given by name only: resolved once, now.
    fn resolve(&self, line: usize, name: &str) -> Res<IpAddr> {
        let addrs = (name, 0).to_socket_addrs().map_err(|e| {
            // A malformed IPv6 address is read as a name, as in 5.0.1.
            let hint = if name.contains(':') {
                " (nor is it an IPv4 or IPv6 address)"
            } else {
                ""
            };
            self.semantic(
                line,
                format!("cannot resolve daemon name '{name}'{hint}: {e}"),
            )
        })?;
        let mut fitting = addrs.map(|sa| sa.ip()).filter(|ip| match self.family {
            Some(f) => IpVersion::of(ip) == f,
            None => true,
        });
        let family = self.family.map(|f| format!("{f} ")).unwrap_or_default();
        let m = format!("daemon name '{name}' has no {family}address");
        fitting.next().ok_or_else(|| self.semantic(line, m))
    }

    fn virtual_id(&mut self) -> Res<Option<u32>> {
        if self.accept(&Tok::VirtualId)?.is_none() {
            return Ok(None);
        }
        let t = self.next()?;
        if t.tok != Tok::Equals {
            return Err(self.unexpected(&t, "expected '=' after VirtualID"));
        }
        let t = self.next()?;
        match t.tok {
            Tok::Number(0) => Err(self.semantic(t.line, "VirtualID must be greater than 0")),
            Tok::Number(n) => Ok(Some(n)),
            _ => Err(self.unexpected(&t, "VirtualID expects a number (1 to 9 digits)")),
        }
    }

    /// The optional `{ [M][C][D] addr ... }` stanza; no letter means all three.
    fn interfaces(&mut self, name: &str) -> Res<Vec<Interface>> {
        if self.accept(&Tok::LBrace)?.is_none() {
            return Ok(Vec::new());
        }
        let mut list = Vec::new();
        let mut letters = String::new();
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::Iface(c) => letters.push(c as char),
                Tok::Addr(_) if list.len() == MAX_INTERFACES => {
                    let m = format!("daemon '{name}': more than {MAX_INTERFACES} interfaces");
                    return Err(self.semantic(t.line, m));
                }
                Tok::Addr(addr) => {
                    let has = |c| letters.is_empty() || letters.contains(c);
                    let (monitor, client, daemon) = (has('M'), has('C'), has('D'));
                    list.push(Interface {
                        monitor,
                        client,
                        daemon,
                        addr,
                        zone: t.zone(),
                    });
                    letters.clear();
                }
                Tok::AddrPort(..) => {
                    let m = format!("an interface address takes no port: '{}'", t.text);
                    return Err(self.syntax(t.line, m));
                }
                _ if !letters.is_empty() => {
                    let e = format!("expected an address after {letters}");
                    return Err(self.unexpected(&t, &e));
                }
                Tok::RBrace if list.is_empty() => {
                    let m = format!("daemon '{name}': empty interface list");
                    return Err(self.semantic(t.line, m));
                }
                Tok::RBrace => return Ok(list),
                _ => return Err(self.unexpected(&t, "expected M, C, D, an address or '}'")),
            }
        }
    }
}
