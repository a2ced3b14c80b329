//! Option statements (`Name = value`), applied in file order as 5.0.1 does.

use std::path::PathBuf;

use spread_core::consts::{MAX_INTEROPERABLE_BODY, MAX_LARGE_MESSAGE};

use super::lexer::{Opt, Tok, Token};
use super::model::{DebugFlag, IpVersion, LogFormat};
use super::parser::{truncate, Parser, Res, TIMEOUTS};

/// 5.0.1 keeps at most this much of an EventTimeStamp format.
const MAX_TIMESTAMP_FORMAT: usize = 39;
/// 5.0.1's limit for DaemonUser and DaemonGroup.
const MAX_USER_NAME: usize = 32;
/// The access control policies there are (5.0.1's `acp-permit`).
pub const ACCESS_CONTROL_POLICIES: &[&str] = &["PERMIT"];
/// The least MaxSessionBytes and MaxQueuedBytes: room for several of the
/// largest messages (about 144 kB), and a value in bytes that is surely
/// not meant as megabytes.
const MIN_QUEUE_BYTES: u32 = 1 << 20;

impl Parser<'_> {
    pub(super) fn option(&mut self, o: Opt, line: usize) -> Res<()> {
        match o {
            Opt::EventPreciseTimeStamp => self.cfg.event_precise_timestamp = true,
            Opt::EventTimeStamp => {
                let format = match self.accept(&Tok::Equals)? {
                    Some(_) => Some(truncate(&self.string(o)?, MAX_TIMESTAMP_FORMAT).into()),
                    None => None,
                };
                self.cfg.event_timestamp = Some(format);
            }
            _ => {
                let t = self.next()?;
                if t.tok != Tok::Equals {
                    return Err(self.unexpected(&t, &format!("expected '=' after {}", o.keyword())));
                }
                self.value(o, line)?;
            }
        }
        Ok(())
    }

    fn value(&mut self, o: Opt, line: usize) -> Res<()> {
        match o {
            Opt::DebugFlags => self.debug_flags()?,
            Opt::EventPriority => {
                let t = self.next()?;
                let Tok::Priority(p) = t.tok else {
                    let e = "EventPriority expects pDEBUG, INFO, WARNING, ERROR, CRITICAL or FATAL";
                    return Err(self.unexpected(&t, e));
                };
                self.cfg.event_priority = Some(p);
            }
            Opt::SocketPortReuse => {
                let t = self.next()?;
                let Tok::Tri(v) = t.tok else {
                    return Err(self.unexpected(&t, "SocketPortReuse expects on, off or auto"));
                };
                self.cfg.socket_port_reuse = v;
            }
            Opt::ActiveIpVersion => self.ip_version()?,
            Opt::EventLogFile => self.cfg.event_log_file = Some(self.string(o)?),
            Opt::AccessControlPolicy => {
                // 5.0.1 ships one policy module, PERMIT (names are
                // case-sensitive); any other is a configuration error.
                let policy = self.string(o)?;
                if !ACCESS_CONTROL_POLICIES.contains(&policy.as_str()) {
                    let m = format!(
                        "unknown AccessControlPolicy {policy:?}: the policies are {}",
                        ACCESS_CONTROL_POLICIES.join(", ")
                    );
                    return Err(self.semantic(line, m));
                }
                self.cfg.access_control_policy = Some(policy);
            }
            Opt::RuntimeDir => {
                let dir = self.nonempty(o, line, usize::MAX)?.map(PathBuf::from);
                self.cfg.runtime_dir = dir.or(self.cfg.runtime_dir.take());
            }
            Opt::DaemonUser => {
                let user = self.nonempty(o, line, MAX_USER_NAME)?;
                self.cfg.daemon_user = user.or(self.cfg.daemon_user.take());
            }
            Opt::DaemonGroup => {
                let group = self.nonempty(o, line, MAX_USER_NAME)?;
                self.cfg.daemon_group = group.or(self.cfg.daemon_group.take());
            }
            // Repeated statements add methods, as in 5.0.1. Either option
            // ends the implicit NULL method, so `allowed` becomes `Some`.
            Opt::AllowedAuthMethods | Opt::RequiredAuthMethods => {
                let list = self.string(o)?;
                let cfg = &mut self.cfg;
                cfg.allowed_auth_methods.get_or_insert_with(Vec::new);
                let methods = match o {
                    Opt::AllowedAuthMethods => &mut cfg.allowed_auth_methods,
                    _ => &mut cfg.required_auth_methods,
                };
                let more = list.split_whitespace().map(String::from);
                methods.get_or_insert_with(Vec::new).extend(more);
            }
            Opt::MaxSessionMessages => self.cfg.max_session_messages = self.number(o, 1)? as usize,
            Opt::MaxSessions => self.cfg.max_sessions = self.number(o, 1)? as usize,
            Opt::MaxSessionBytes => {
                self.cfg.max_session_bytes = self.number(o, MIN_QUEUE_BYTES)? as usize
            }
            Opt::MaxQueuedBytes => {
                self.cfg.max_queued_bytes = self.number(o, MIN_QUEUE_BYTES)? as usize
            }
            Opt::MaxGroupsPerSession => {
                self.cfg.max_groups_per_session = self.number(o, 1)? as usize
            }
            Opt::MaxMessageSize => self.max_message_size(o, line)?,
            Opt::Window => self.cfg.window = Some(self.number(o, 1)?),
            Opt::PersonalWindow => self.cfg.personal_window = Some(self.number(o, 1)?),
            Opt::AcceleratedWindow => self.cfg.accelerated_window = Some(self.number(o, 0)?),
            Opt::DangerousMonitor => self.cfg.dangerous_monitor = self.boolean(o)?,
            Opt::AcceleratedRing => self.cfg.accelerated_ring = Some(self.boolean(o)?),
            Opt::WideAreaNetwork => self.cfg.wide_area_network = Some(self.boolean(o)?),
            Opt::ExcludeSegAddrsFromHash => {
                self.cfg.exclude_seg_addrs_from_hash = self.boolean(o)?
            }
            Opt::IgnoreMulticastJoinErrors => {
                self.cfg.ignore_multicast_join_errors = self.boolean(o)?
            }
            Opt::MetricsAddress => {
                self.cfg.metrics_address = Some(self.address_with_port(o, line, 9464)?)
            }
            Opt::RingKeyFile => self.cfg.ring_key_file = Some(self.string(o)?),
            Opt::AcceptRingKeyFile => {
                let path = self.string(o)?;
                self.cfg.accept_ring_key_files.push(path);
            }
            Opt::AllowUsers
            | Opt::AllowGroups
            | Opt::GroupAccessFile
            | Opt::AuthSecretFile
            | Opt::TlsAddress
            | Opt::TlsCertificateFile
            | Opt::TlsKeyFile
            | Opt::TlsClientCaFile => self.client_access(o, line)?,
            Opt::EventLogFormat => {
                let t = self.next()?;
                self.cfg.event_log_format = match &t.tok {
                    Tok::Str(s) if s.eq_ignore_ascii_case("text") => LogFormat::Text,
                    Tok::Str(s) if s.eq_ignore_ascii_case("json") => LogFormat::Json,
                    _ => return Err(self.unexpected(&t, "EventLogFormat must be text or json")),
                };
            }
            _ => {
                let i = TIMEOUTS.iter().position(|t| *t == o).unwrap_or(0);
                self.timeouts[i] = Some(self.number(o, 1)?);
            }
        }
        Ok(())
    }

    /// 5.0.1's limit or less means the default; above 32 MiB is refused.
    fn max_message_size(&mut self, o: Opt, line: usize) -> Res<()> {
        let n = self.number(o, MAX_INTEROPERABLE_BODY as u32)? as usize;
        if n > MAX_LARGE_MESSAGE {
            let m = format!("MaxMessageSize must be at most {MAX_LARGE_MESSAGE}, found {n}");
            return Err(self.semantic(line, m));
        }
        self.cfg.max_message_size = (n > MAX_INTEROPERABLE_BODY).then_some(n);
        Ok(())
    }

    /// An address with a port: `127.0.0.1:9464` or `[::1]:9464` (`example`
    /// is the port the messages suggest).
    pub(super) fn address_with_port(
        &mut self,
        o: Opt,
        line: usize,
        example: u16,
    ) -> Res<std::net::SocketAddr> {
        let name = o.keyword();
        let t = self.next()?;
        let addr = match t.tok {
            Tok::AddrPort(ip, port) => std::net::SocketAddr::new(ip, port),
            Tok::Addr(_) => {
                let m = format!("{name} needs a port: '{}:{example}', say", t.text);
                return Err(self.semantic(line, m));
            }
            _ => {
                let e = format!(
                    "{name} expects an address with a port (127.0.0.1:{example}, [::1]:{example})"
                );
                return Err(self.unexpected(&t, &e));
            }
        };
        if addr.port() == 0 {
            return Err(self.semantic(line, format!("{name} needs a port other than 0")));
        }
        Ok(addr)
    }

    /// It must agree with daemons already configured, as it applies to all.
    fn ip_version(&mut self) -> Res<()> {
        let t = self.next()?;
        let v = match &t.tok {
            Tok::Str(s) if s == "IPv4" => IpVersion::V4,
            Tok::Str(s) if s == "IPv6" => IpVersion::V6,
            _ => return Err(self.unexpected(&t, "ActiveIPVersion must be IPv4 or IPv6")),
        };
        if let Some(f) = self.family.filter(|f| *f != v) {
            let by = &self.family_source;
            let m = format!("ActiveIPVersion {v} conflicts with {f}, set by {by}");
            return Err(self.semantic(t.line, m));
        }
        if self.family.is_none() {
            self.family_source = format!("ActiveIPVersion on line {}", t.line);
        }
        self.family = Some(v);
        self.cfg.active_ip_version = Some(v);
        Ok(())
    }

    pub(super) fn string(&mut self, o: Opt) -> Res<String> {
        let t = self.next()?;
        match t.tok {
            Tok::Str(s) => Ok(s),
            _ => Err(self.unexpected(&t, &format!("{} expects a string", o.keyword()))),
        }
    }

    /// 5.0.1 ignores an empty value (with a message) and rejects a long one.
    fn nonempty(&mut self, o: Opt, line: usize, max: usize) -> Res<Option<String>> {
        let s = self.string(o)?;
        let name = o.keyword();
        if s.len() > max {
            let m = format!("{name} is longer than {max} characters");
            return Err(self.semantic(line, m));
        }
        if s.is_empty() {
            self.warn(line, format!("empty {name} ignored"));
        }
        Ok(Some(s).filter(|s| !s.is_empty()))
    }

    fn boolean(&mut self, o: Opt) -> Res<bool> {
        let t = self.next()?;
        match t.tok {
            Tok::Bool(b) => Ok(b),
            _ => Err(self.unexpected(
                &t,
                &format!("{} expects true, yes, false or no", o.keyword()),
            )),
        }
    }

    fn number(&mut self, o: Opt, min: u32) -> Res<u32> {
        let t = self.next()?;
        let name = o.keyword();
        match t.tok {
            Tok::Number(n) if n >= min => Ok(n),
            Tok::Number(n) => {
                Err(self.semantic(t.line, format!("{name} must be at least {min}, found {n}")))
            }
            _ => Err(self.unexpected(&t, &format!("{name} expects a number (1 to 9 digits)"))),
        }
    }

    /// The last statement replaces earlier ones; `{ }` means no flags at all.
    fn debug_flags(&mut self) -> Res<()> {
        let t = self.next()?;
        if t.tok != Tok::LBrace {
            return Err(self.unexpected(&t, "DebugFlags expects '{' after '='"));
        }
        let mut flags = Vec::new();
        loop {
            let t = self.next()?;
            match t.tok {
                Tok::RBrace => break,
                Tok::Flag(f) => flags.push((true, f)),
                Tok::Bang => match self.next()? {
                    Token {
                        tok: Tok::Flag(f), ..
                    } => flags.push((false, f)),
                    t => return Err(self.unexpected(&t, "expected a debug flag after '!'")),
                },
                _ => return Err(self.unexpected(&t, "expected a debug flag, '!' or '}'")),
            }
        }
        if flags.is_empty() {
            flags.push((true, DebugFlag::None));
        }
        self.cfg.debug_flags = flags;
        Ok(())
    }
}
