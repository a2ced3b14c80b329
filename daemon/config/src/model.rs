//! The parsed configuration. Fields hold what the file said; defaults that
//! depend on other settings (WAN timeouts, windows) are left to the users.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// A parsed spread.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub segments: Vec<Segment>,
    /// `(enabled, flag)` in file order; `false` when negated with `!`. Only
    /// the last `DebugFlags` statement counts. Empty means "not configured";
    /// an explicit `{ }` is stored as `[(true, DebugFlag::None)]`.
    pub debug_flags: Vec<(bool, DebugFlag)>,
    pub event_priority: Option<EventPriority>,
    /// As written: `%h`/`%H` (host name) are for the logger to expand.
    pub event_log_file: Option<String>,
    /// `Some(None)`: on, with the default format.
    pub event_timestamp: Option<Option<String>>,
    pub event_precise_timestamp: bool,
    pub dangerous_monitor: bool,
    pub socket_port_reuse: TriState,
    pub runtime_dir: Option<PathBuf>,
    pub daemon_user: Option<String>,
    pub daemon_group: Option<String>,
    /// `None`: neither auth option was set, so only the NULL method is
    /// enabled. Setting RequiredAuthMethods alone gives `Some(vec![])`.
    pub allowed_auth_methods: Option<Vec<String>>,
    pub required_auth_methods: Option<Vec<String>>,
    pub access_control_policy: Option<String>,
    pub max_session_messages: usize,
    /// Our extension (`MaxSessions = N`); 5.0.1 has a fixed limit of 997.
    pub max_sessions: usize,
    /// Our extension: the bytes a session may have queued and not read
    /// (as MaxSessionMessages counts messages).
    pub max_session_bytes: usize,
    /// Our extension: the bytes all sessions together may have queued; past
    /// it the session with the most is disconnected.
    pub max_queued_bytes: usize,
    /// Our extension: the groups one session may be in (checked by the
    /// session's own daemon before its join is ordered).
    pub max_groups_per_session: usize,
    /// Our extension: the largest message body (`data_len`) a client of
    /// ours may send and receive, to up to 100 groups. `None`: 5.0.1's
    /// limit (body and 32 bytes per group name at most 143,151). A value
    /// enters the configuration hash, so only daemons that have it form a
    /// ring together.
    pub max_message_size: Option<usize>,
    /// Only an explicit `ActiveIPVersion`; see [`Config::ip_version`].
    pub active_ip_version: Option<IpVersion>,
    pub window: Option<u32>,
    pub personal_window: Option<u32>,
    pub accelerated_window: Option<u32>,
    /// As written; it enters the hash, so "absent" must stay distinct.
    pub accelerated_ring: Option<bool>,
    pub timeouts: Option<Timeouts>,
    pub wide_area_network: Option<bool>,
    pub exclude_seg_addrs_from_hash: bool,
    pub ignore_multicast_join_errors: bool,
    /// Our extension (`MetricsAddress = 127.0.0.1:9464`): where the daemon
    /// serves its metrics over HTTP. Not in the hash.
    pub metrics_address: Option<SocketAddr>,
    /// Our extension (`EventLogFormat = text | json`): how log lines look.
    pub event_log_format: LogFormat,
    /// Our extension (`RingKeyFile = /etc/spread/ring.key`): the 32-byte
    /// secret every datagram between daemons is sealed with (and must be
    /// sealed with to be taken). Not in the hash: a ring whose daemons
    /// hold different keys (or none) does not form, because their
    /// datagrams do not open, and each daemon's log says so.
    pub ring_key_file: Option<String>,
    /// Our extension (`AcceptRingKeyFile = path`, repeatable): keys that
    /// open datagrams besides `ring_key_file` but never seal one, for a
    /// key rotation without a restart.
    pub accept_ring_key_files: Vec<String>,
    /// Our extension: PEERCRED's allow-lists, the group access rules and
    /// the shared secrets (`client_access.rs`). Not in the hash.
    pub client_access: crate::ClientAccess,
    /// File name used in messages.
    pub source: String,
    /// Things 5.0.1 only warns about, with their line, for the log.
    pub warnings: Vec<(usize, String)>,
    /// Every option statement with its line, in file order.
    pub option_lines: Vec<(usize, &'static str)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Shared by all segment addresses and by the daemons' data and client
    /// ports (token port = port + 1).
    pub port: u16,
    pub addrs: Vec<IpAddr>,
    /// The `%interface` written after each of `addrs` (IPv6 only), in the
    /// same order.
    pub zones: Vec<Option<String>>,
    pub daemons: Vec<DaemonEntry>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonEntry {
    /// At most 19 bytes.
    pub name: String,
    pub addr: IpAddr,
    /// The `%interface` written after an IPv6 address: the daemon on that
    /// host uses it for its own address, the others ignore it.
    pub zone: Option<String>,
    pub id: u32,
    pub explicit_id: bool,
    /// Empty when the daemon has no interface stanza: it then binds the
    /// unspecified address for everything.
    pub interfaces: Vec<Interface>,
    pub line: usize,
}

/// One interface stanza entry; an entry written without letters has all three.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    pub monitor: bool,
    pub client: bool,
    pub daemon: bool,
    pub addr: IpAddr,
    /// The `%interface` written after an IPv6 address.
    pub zone: Option<String>,
}

/// Milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub token: u32,
    pub hurry: u32,
    pub alive: u32,
    pub join: u32,
    pub rep: u32,
    pub seg: u32,
    pub gather: u32,
    pub form: u32,
    pub lookup: u32,
}

/// Declares an enum of reserved words together with their spelling.
macro_rules! reserved_words {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($variant:ident = $word:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name { $($variant,)* }

        impl $name {
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The spelling in spread.conf.
            pub fn keyword(self) -> &'static str {
                match self { $($name::$variant => $word,)* }
            }
        }
    };
}
pub(super) use reserved_words;

reserved_words! {
    pub enum DebugFlag {
        All = "ALL", None = "NONE", Exit = "EXIT", Print = "PRINT", Debug = "DEBUG",
        DataLink = "DATA_LINK", Network = "NETWORK", Protocol = "PROTOCOL", Session = "SESSION",
        Configuration = "CONFIGURATION", Membership = "MEMBERSHIP", FlowControl = "FLOW_CONTROL",
        Status = "STATUS", Events = "EVENTS", Groups = "GROUPS", Memory = "MEMORY",
        Skiplist = "SKIPLIST", Acm = "ACM", Security = "SECURITY",
    }
}

reserved_words! {
    /// Ordered from least to most severe, so `>=` filters by threshold.
    #[derive(PartialOrd, Ord)]
    pub enum EventPriority {
        Debug = "pDEBUG", Info = "INFO", Warning = "WARNING", Error = "ERROR",
        Critical = "CRITICAL", Fatal = "FATAL",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TriState {
    On,
    Off,
    #[default]
    Auto,
}

/// How log lines look (`EventLogFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Lines as 5.0.1's daemon writes them (the default).
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVersion {
    V4,
    V6,
}

impl IpVersion {
    pub fn of(ip: &IpAddr) -> IpVersion {
        match ip {
            IpAddr::V4(_) => IpVersion::V4,
            IpAddr::V6(_) => IpVersion::V6,
        }
    }
}

impl std::fmt::Display for IpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IpVersion::V4 => "IPv4",
            IpVersion::V6 => "IPv6",
        })
    }
}

impl Config {
    /// Field values before any statement is applied.
    pub(crate) fn empty(source: &str) -> Config {
        Config {
            segments: Vec::new(),
            debug_flags: Vec::new(),
            event_priority: None,
            event_log_file: None,
            event_timestamp: None,
            event_precise_timestamp: false,
            dangerous_monitor: false,
            socket_port_reuse: TriState::Auto,
            runtime_dir: None,
            daemon_user: None,
            daemon_group: None,
            allowed_auth_methods: None,
            required_auth_methods: None,
            access_control_policy: None,
            max_session_messages: 1000,
            max_sessions: 997,
            max_session_bytes: 64 << 20,
            max_queued_bytes: 512 << 20,
            max_groups_per_session: 10_000,
            max_message_size: None,
            active_ip_version: None,
            window: None,
            personal_window: None,
            accelerated_window: None,
            accelerated_ring: None,
            timeouts: None,
            wide_area_network: None,
            exclude_seg_addrs_from_hash: false,
            ignore_multicast_join_errors: false,
            metrics_address: None,
            event_log_format: LogFormat::Text,
            ring_key_file: None,
            accept_ring_key_files: Vec::new(),
            client_access: Default::default(),
            source: source.to_string(),
            warnings: Vec::new(),
            option_lines: Vec::new(),
        }
    }

    /// All daemons in configuration order (segments in file order, daemons in file order).
    pub fn daemons(&self) -> impl Iterator<Item = &DaemonEntry> {
        self.segments.iter().flat_map(|s| s.daemons.iter())
    }

    /// Where option `name` was last set, for messages: `file:line`, or the
    /// file alone when the option was not written (its default applies).
    pub fn where_set(&self, name: &str) -> String {
        match self.option_lines.iter().rev().find(|(_, n)| *n == name) {
            Some((line, _)) => format!("{}:{line}", self.source),
            None => format!("{} (default {name})", self.source),
        }
    }

    /// The address family in use: explicit, else that of the first daemon.
    pub fn ip_version(&self) -> IpVersion {
        self.active_ip_version
            .or_else(|| self.daemons().next().map(|d| IpVersion::of(&d.addr)))
            .unwrap_or(IpVersion::V4)
    }
}
